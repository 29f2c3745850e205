"""Making vector envs from an env id or a factory, with clear errors for bad ids.

All vector envs use gymnasium's default next-step autoreset: after an episode ends, the step
that returned its final observation is followed by one step whose action is ignored and which
returns the reset observation. The collector marks that step as not a real transition, and the
final observation bootstraps a truncated episode's value for free.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any, Callable, Union

import gymnasium as gym
from gymnasium.vector import AutoresetMode

from ..errors import EnvError

EnvSource = Union[str, Callable[[], gym.Env]]


def check_env_id(env_id: str) -> str:
    """Import `module:` if given, and check the id is registered; returns the bare id."""
    if ":" in env_id:
        module, _, bare = env_id.partition(":")
        try:
            importlib.import_module(module)
        except ImportError as e:
            raise EnvError(f"env id {env_id!r}: cannot import module {module!r} ({e})") from None
    else:
        bare = env_id
    if bare not in gym.registry:
        near = difflib.get_close_matches(bare, list(gym.registry), n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(near)}?" if near else ""
        raise EnvError(f"unknown env id {env_id!r}{hint} (an id gymnasium.make accepts, or "
                       f"module:EnvId for an env your module registers)")
    return bare


def make_vector_env(source: EnvSource, num_envs: int, env_kwargs: dict[str, Any] | None = None,
                    render_mode: str | None = None) -> gym.vector.VectorEnv:
    """A vector env of `num_envs` copies; an env's native vector entry point where it has one."""
    kwargs = dict(env_kwargs or {})
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    if callable(source):
        return gym.vector.SyncVectorEnv([source] * num_envs,
                                        autoreset_mode=AutoresetMode.NEXT_STEP)
    bare = check_env_id(source)
    spec = gym.spec(bare)
    try:
        if spec.vector_entry_point is not None and render_mode is None:
            try:
                return gym.make_vec(bare, num_envs, vectorization_mode="vector_entry_point",
                                    **kwargs)
            except TypeError:
                pass  # the native vector env does not take these kwargs: fall back to sync
        return gym.make_vec(bare, num_envs, vectorization_mode="sync",
                            vector_kwargs={"autoreset_mode": AutoresetMode.NEXT_STEP}, **kwargs)
    except gym.error.DependencyNotInstalled as e:
        extra = ' (thermorl\'s extra: pip install -e ".[mujoco]")' if "mujoco" in str(e).lower() \
            else ""
        raise EnvError(f"env {source!r} could not be made: {e}{extra}") from None
    except gym.error.Error as e:
        raise EnvError(f"env {source!r} could not be made: {e}") from None
    except TypeError as e:
        raise EnvError(f"env {source!r} rejected env_kwargs {kwargs}: {e}") from None
