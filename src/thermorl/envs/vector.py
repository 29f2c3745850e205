"""Making vector envs from an env id or a factory, with clear errors for bad ids.

All vector envs use gymnasium's default next-step autoreset: after an episode ends, the step
that returned its final observation is followed by one step whose action is ignored and which
returns the reset observation. The collector marks that step as not a real transition, and the
final observation bootstraps a truncated episode's value for free.
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import functools
import importlib
import signal
import sys
from typing import Any, Callable, Iterable, Iterator, Sequence, Union

import gymnasium as gym
from gymnasium.vector import AutoresetMode

from ..errors import EnvError
from .wrappers import apply as apply_wrappers

EnvSource = Union[str, Callable[[], gym.Env]]

# While a checkpoint is loaded: the modules its env ids may import (the ones the caller named)
# and what to call the source of the env id in an error. None: no limit (the caller's own ids).
_IMPORT_LIMIT: contextvars.ContextVar[tuple[frozenset[str], str] | None] = \
    contextvars.ContextVar("thermorl_env_imports", default=None)


def env_module(source: Any) -> str | None:
    """The module a `module:EnvId` env id imports (None for a bare id or a factory)."""
    if isinstance(source, str) and ":" in source:
        return source.partition(":")[0]
    return None


@contextlib.contextmanager
def only_importing(allowed: Iterable[str], source: str) -> Iterator[None]:
    """Within: a `module:EnvId` imports its module only if it is in `allowed` or already
    imported (which runs no code). Loading a checkpoint uses it, so that a run folder from
    elsewhere cannot make the loader run code; `source` names that folder or file in errors."""
    token = _IMPORT_LIMIT.set((frozenset(allowed), source))
    try:
        yield
    finally:
        _IMPORT_LIMIT.reset(token)


def _check_import_allowed(env_id: str, module: str, what: str = "env id") -> None:
    limit = _IMPORT_LIMIT.get()
    if limit is None or module in sys.modules or module in limit[0]:
        return
    env = f"the env (env={env_id!r}, or a factory) or " if what == "env id" else ""
    raise EnvError(f"{limit[1]} names {what} {env_id!r}, which would import module {module!r}; "
                   f"loading never imports a module you did not ask for: if you trust it, pass "
                   f"{env}trust_env_module=True (CLI: --trust-env-module)")


def check_env_id(env_id: str) -> str:
    """Import `module:` if given (within `only_importing`, only a module it allows), and check
    the id is registered; returns the bare id."""
    if ":" in env_id:
        module, _, bare = env_id.partition(":")
        _check_import_allowed(env_id, module)
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
                    render_mode: str | None = None, backend: str = "local",
                    max_episode_steps: int | None = None,
                    wrappers: Sequence[Any] = ()) -> gym.vector.VectorEnv:
    """A vector env of `num_envs` copies: with `backend` local, an env's native vector entry
    point where it has one, else gymnasium's SyncVectorEnv; with async, each copy in its own
    process (AsyncVectorEnv). `max_episode_steps`: a time limit for envs that have none of
    their own (evaluation's, so that a policy that never ends an episode cannot hang it).
    `wrappers`: the config's `env_wrappers`, around each copy (envs/wrappers.py)."""
    kwargs = dict(env_kwargs or {})
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    if backend not in ("local", "async"):
        raise EnvError(f"runners.backend {backend!r}: accepted: local, async")
    if not callable(source):
        bare = check_env_id(source)
        spec = gym.spec(bare)
        if max_episode_steps is not None and spec.max_episode_steps is None:
            kwargs["max_episode_steps"] = max_episode_steps  # gym.make adds the TimeLimit
    if wrappers:  # one env made here first, so a bad id or wrapper fails in this process
        source = functools.partial(_made, source, kwargs, tuple(wrappers))
        source().close()
    if callable(source):
        if max_episode_steps is not None:
            source = functools.partial(_limited, source, max_episode_steps)
        if backend == "async":
            return _async([_Worker(source)] * num_envs)
        return gym.vector.SyncVectorEnv([source] * num_envs,
                                        autoreset_mode=AutoresetMode.NEXT_STEP)
    with _made_errors(source, kwargs):
        if backend == "async":
            gym.make(bare, **kwargs).close()  # errors here, in this process, not in a worker's
            return _async([_Worker(functools.partial(gym.make, bare, **kwargs))] * num_envs)
        if (spec.vector_entry_point is not None and render_mode is None
                and "max_episode_steps" not in kwargs):
            try:
                return gym.make_vec(bare, num_envs, vectorization_mode="vector_entry_point",
                                    **kwargs)
            except TypeError:
                pass  # the native vector env does not take these kwargs: fall back to sync
        return gym.make_vec(bare, num_envs, vectorization_mode="sync",
                            vector_kwargs={"autoreset_mode": AutoresetMode.NEXT_STEP}, **kwargs)


@contextlib.contextmanager
def _made_errors(source: str, kwargs: dict[str, Any]) -> Iterator[None]:
    """What goes wrong making env `source` with `kwargs`, as one EnvError line."""
    try:
        yield
    except gym.error.DependencyNotInstalled as e:
        extra = ' (thermorl\'s extra: pip install -e ".[mujoco]")' if "mujoco" in str(e).lower() \
            else ""
        raise EnvError(f"env {source!r} could not be made: {e}{extra}") from None
    except gym.error.Error as e:
        raise EnvError(f"env {source!r} could not be made: {e}") from None
    except TypeError as e:
        raise EnvError(f"env {source!r} rejected env_kwargs {kwargs}: {e}") from None
    except ImportError as e:  # the env's module needs a package this machine lacks
        raise EnvError(f"env {source!r} could not be made: {_missing(e)}") from None


def _made(source: EnvSource, kwargs: dict[str, Any], wrappers: tuple[Any, ...],
          **extra: Any) -> gym.Env:
    """One env from `source` (an id made with `kwargs`, or a factory), inside `wrappers`;
    `extra` (render_mode) goes to the env's maker."""
    if callable(source):
        env = source(**extra) if extra else source()
    else:
        with _made_errors(source, kwargs):
            env = gym.make(check_env_id(source), **{**kwargs, **extra})
    return apply_wrappers(env, wrappers)


def _missing(e: ImportError) -> str:
    name = (e.name or "").partition(".")[0]
    return (f"it needs the package {name!r}, which is not installed ({e}); install it "
            f"(pip install {name}) or pick another env" if name else f"an import failed ({e})")


def _has_time_limit(env: gym.Env) -> bool:
    while True:
        if isinstance(env, gym.wrappers.TimeLimit):
            return True
        if not isinstance(env, gym.Wrapper):
            return False
        env = env.env


def _limited(make: Callable[[], gym.Env], max_episode_steps: int, **kwargs: Any) -> gym.Env:
    """`make()`'s env, cut at `max_episode_steps` unless it has a time limit of its own."""
    env = make(**kwargs)
    return env if _has_time_limit(env) else gym.wrappers.TimeLimit(env, max_episode_steps)


class _Worker:
    """Makes an env inside an async worker process, which first stops listening for Ctrl-C
    and SIGTERM: a terminal sends Ctrl-C to every process of the job, and the training process
    stops the run itself (finishing the step, saving a checkpoint), so its workers must not die
    under it. A worker still ends with the training process (it is a daemon)."""

    def __init__(self, make: Callable[[], gym.Env]):
        self.make = make

    def __call__(self) -> gym.Env:
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, signal.SIG_IGN)
        return self.make()


def _async(fns: list[Callable[[], gym.Env]]) -> gym.vector.VectorEnv:
    return gym.vector.AsyncVectorEnv(fns, autoreset_mode=AutoresetMode.NEXT_STEP)


def make_render_env(source: EnvSource, env_kwargs: dict[str, Any] | None = None,
                    max_episode_steps: int | None = None, wrappers: Sequence[Any] = ()
                    ) -> gym.Env:
    """One env that renders RGB frames (`render_mode="rgb_array"`), for recording videos. A
    factory is called with `render_mode="rgb_array"` if it takes it. `max_episode_steps` and
    `wrappers`: as for `make_vector_env`."""
    kwargs = dict(env_kwargs or {}, render_mode="rgb_array")
    if callable(source):
        try:
            env = source(render_mode="rgb_array")  # type: ignore[call-arg]
        except TypeError:
            env = source()
        name = getattr(source, "__name__", repr(source))
        if max_episode_steps is not None and not _has_time_limit(env):
            env = gym.wrappers.TimeLimit(env, max_episode_steps)
    else:
        name = source
        bare = check_env_id(source)
        if max_episode_steps is not None and gym.spec(bare).max_episode_steps is None:
            kwargs["max_episode_steps"] = max_episode_steps
        try:
            env = gym.make(bare, **kwargs)
        except gym.error.DependencyNotInstalled as e:
            raise EnvError(f"env {source!r} cannot render: {e} (thermorl's extra: pip install "
                           f"-e \".[video]\")") from None
        except (gym.error.Error, TypeError) as e:
            raise EnvError(f"env {source!r} could not be made to render: {e}") from None
        except ImportError as e:
            raise EnvError(f"env {source!r} could not be made to render: {_missing(e)}") from None
    env = apply_wrappers(env, wrappers)
    if env.render_mode != "rgb_array":
        modes = env.metadata.get("render_modes", [])
        env.close()
        raise EnvError(f"env {name!r} does not render RGB frames (render_mode "
                       f"{env.render_mode!r}; its modes: {modes or 'none'}), so no video can "
                       f"be recorded")
    return env
