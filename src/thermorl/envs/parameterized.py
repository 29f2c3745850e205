"""Checking a parameterized-action declaration against the action heads."""

from __future__ import annotations

from typing import Mapping

from ..errors import ConfigError
from .spaces import HeadSpec


def used_when(declared: Mapping[str, Mapping[int, str]],
              heads: Mapping[str, HeadSpec]) -> dict[str, tuple[str, int]]:
    """{selector: {option: parameter head}} -> {parameter head: (selector, option)}."""
    out: dict[str, tuple[str, int]] = {}
    for sel, options in declared.items():
        path = f"policy.parameterized.{sel}"
        if sel not in heads or heads[sel].kind != "categorical":
            cats = [h for h, s in heads.items() if s.kind == "categorical"]
            raise ConfigError(f"{path}: the selector must be a Discrete head; "
                              f"Discrete heads: {', '.join(cats) or 'none'}")
        for k, head in options.items():
            if not 0 <= k < heads[sel].n:
                raise ConfigError(f"{path}: option {k} is outside the selector's "
                                  f"0..{heads[sel].n - 1}")
            if head not in heads or head == sel:
                raise ConfigError(f"{path}.{k}: {head!r} is not another head of the action "
                                  f"space; heads: {', '.join(heads)}")
            if head in out:
                raise ConfigError(f"{path}.{k}: head {head!r} is already the parameter of "
                                  f"{out[head][0]} option {out[head][1]}")
            if head in declared:
                raise ConfigError(f"{path}.{k}: head {head!r} is a selector itself")
            out[head] = (sel, k)
    return out
