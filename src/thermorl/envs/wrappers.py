"""Gymnasium wrappers named in the config (`env_wrappers`), applied to every env a run makes:
training, evaluation, video, export checks, Ray runners.

A wrapper is named as gymnasium's own (`AtariPreprocessing`, `FrameStackObservation`, ...) or as
`module:Class` for one of your own, alone or with its keyword arguments: `{Name: {kwarg: value}}`.
They wrap the env in the order given, the first innermost, as you would write them by hand:

    env_wrappers: [{AtariPreprocessing: {frame_skip: 1}}, {FrameStackObservation: {stack_size: 4}}]

The config keeps them as plain YAML (names and mappings), so a checkpoint's config reproduces the
same env; a `module:Class` is imported only when an env is made, under the same rule as a
`module:EnvId` (loading a checkpoint never imports a module you did not name).
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any, Mapping, Sequence

import gymnasium as gym

from ..config import WRAPPERS as ACCEPTS
from ..errors import ConfigError, EnvError


def _gym_names() -> list[str]:
    return [n for n in gym.wrappers.__all__ if n != "vector"]


def parse(value: Any, path: str) -> list[Any]:
    """The config form of `env_wrappers`: a list of names and {name: kwargs} mappings, each
    gymnasium name checked now (a module's is checked when an env is made)."""
    if value is None:
        return []
    items = [value] if isinstance(value, (str, Mapping)) else value
    if not isinstance(items, (list, tuple)):
        raise ConfigError(f"{path}: expected {ACCEPTS}, got {value!r}")
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            name, kwargs = item, None
        elif isinstance(item, Mapping) and len(item) == 1:
            name, kwargs = next(iter(item.items()))
            if kwargs is not None and not isinstance(kwargs, Mapping):
                raise ConfigError(f"{path}: wrapper {name!r} takes a mapping of keyword "
                                  f"arguments, got {kwargs!r}; accepted: {ACCEPTS}")
        else:
            raise ConfigError(f"{path}: {item!r} is not a wrapper; accepted: {ACCEPTS}")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{path}: wrapper name {name!r}; accepted: {ACCEPTS}")
        if ":" not in name and name not in _gym_names():
            near = difflib.get_close_matches(name, _gym_names(), n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(near)}?" if near else ""
            raise ConfigError(f"{path}: unknown wrapper {name!r}{hint} (accepted: a "
                              f"gymnasium.wrappers class, e.g. {', '.join(_gym_names()[:4])}, "
                              f"or module:Class for your own)")
        out.append(name if not kwargs else {name: dict(kwargs)})
    return out


def name_of(item: Any) -> str:
    """A wrapper's name in the config form (`Name`, or the key of `{Name: kwargs}`)."""
    return item if isinstance(item, str) else next(iter(item))


def _resolve(item: Any) -> tuple[str, type, dict[str, Any]]:
    name = name_of(item)
    kwargs = {} if isinstance(item, str) else item[name]
    if ":" not in name:
        return name, getattr(gym.wrappers, name), dict(kwargs or {})
    from .vector import _check_import_allowed

    module, _, attr = name.partition(":")
    _check_import_allowed(name, module, "wrapper")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except ImportError as e:
        raise EnvError(f"wrapper {name!r}: cannot import module {module!r} ({e})") from None
    except AttributeError:
        raise EnvError(f"wrapper {name!r}: module {module!r} has no {attr!r}") from None
    return name, cls, dict(kwargs or {})


def apply(env: gym.Env, wrappers: Sequence[Any]) -> gym.Env:
    """`env` inside each of `wrappers` (the config form), the first innermost."""
    for item in wrappers:
        name, cls, kwargs = _resolve(item)
        try:
            env = cls(env, **kwargs)
        except TypeError as e:
            env.close()
            raise EnvError(f"wrapper {name!r} rejected its arguments {kwargs}: {e}") from None
        except Exception as e:  # the wrapper's own check of the env (a space it cannot take)
            env.close()
            raise EnvError(f"wrapper {name!r} could not wrap the env: "
                           f"{type(e).__name__}: {e}") from None
    return env
