"""Env ids, vector envs, and the mapping between gymnasium spaces and action heads."""

from .observation import MaskObservation
from .registration import register_envs
from .spaces import SINGLE_HEAD, ActionLayout, HeadSpec, ObsLayout, head_specs
from .vector import (EnvSource, check_env_id, env_module, make_render_env, make_vector_env,
                     only_importing)

register_envs()

__all__ = ["SINGLE_HEAD", "ActionLayout", "EnvSource", "HeadSpec", "MaskObservation", "ObsLayout",
           "check_env_id", "env_module", "head_specs", "make_render_env", "make_vector_env", "only_importing",
           "register_envs"]
