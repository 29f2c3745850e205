"""Env ids, vector envs, and the mapping between gymnasium spaces and action heads."""

from .spaces import SINGLE_HEAD, HeadSpec, head_specs
from .vector import EnvSource, check_env_id, make_vector_env

__all__ = ["SINGLE_HEAD", "EnvSource", "HeadSpec", "check_env_id", "head_specs", "make_vector_env"]
