"""From the `entropy:` config section and the env's action heads to per-head settings."""

from __future__ import annotations

import difflib
from typing import Mapping

from ..config import EntropyConfig
from ..envs.spaces import HeadSpec
from ..errors import ConfigError
from . import schedules, targets
from .controllers import HeadSettings

# A learned `min` coefficient lives in log space and cannot start at 0.
DEFAULT_MIN_ALPHA = 0.01
# `actuator: auto` by algorithm (docs/entropy.md, "Authority"): PPO's coefficient alone is
# rate-limited by Adam; SAC's temperature is also part of its soft values and takes a gradient
# step per env step
AUTO_ACTUATOR = {"ppo": "project", "sac": "coef"}


def _actuator(name: str, algo: str) -> str:
    return AUTO_ACTUATOR.get(algo, "coef") if name == "auto" else name


def head_settings(cfg: EntropyConfig, specs: Mapping[str, HeadSpec],
                  ent_coef: float, algo: str = "ppo",
                  ent_coef_path: str = "ppo.ent_coef") -> dict[str, HeadSettings]:
    """Each head's settings; errors name the head, the value and what is accepted. `algo`
    chooses what an `auto` target means (see `targets`). `ent_coef` is the coefficient of a
    head with no `coef` of its own, and `ent_coef_path` the setting it came from (errors about
    it name that setting, the one the user gave)."""
    for name in cfg.heads:
        if name not in specs:
            near = difflib.get_close_matches(name, list(specs), n=2)
            hint = f"; did you mean {' or '.join(near)}?" if near else ""
            raise ConfigError(f"entropy.heads.{name}: the action space has no head {name!r}; "
                              f"its heads: {', '.join(specs)}{hint}")
    out = {}
    for name, spec in specs.items():
        over = cfg.heads.get(name, {})

        def get(key: str, over: dict = over) -> object:
            return over.get(key, getattr(cfg, key))

        path = f"entropy.heads.{name}" if name in cfg.heads else "entropy"
        mode, constraint = get("mode"), get("constraint")
        coef, coef_path = get("coef"), f"{path}.coef"
        if coef is None:
            coef = (DEFAULT_MIN_ALPHA if mode == "learned" and constraint == "min" and ent_coef <= 0
                    else ent_coef)
            if coef == ent_coef:  # an error about it is about the setting it came from
                coef_path = ent_coef_path
        coef_s = schedules.parse(coef, coef_path)
        if mode == "fixed" and coef_s.shape != "constant":
            raise ConfigError(f"{coef_path}: mode fixed takes a number, got a {coef_s.shape} "
                              f"schedule; use mode: scheduled")
        target = targets.resolve_auto(targets.parse(get("target"), f"{path}.target"), spec,
                                      algo)
        targets.check(target, spec, name, f"{path}.target")
        plateau = get("plateau")
        if plateau and target.value.shape != "constant":
            raise ConfigError(f"{path}.plateau: works on a constant target; this head's target "
                              f"is a {target.value.shape} schedule")
        if plateau and target.unit == "nats" and target.value.start <= 0:
            raise ConfigError(f"{path}.plateau: lowers the target by a factor, which needs a "
                              f"positive nats target, got {target.value.start}")
        noise = over.get("noise")
        if noise is not None and spec.discrete:
            raise ConfigError(f"{path}.noise: head {name!r} is discrete; colored noise is for "
                              f"Gaussian heads")
        noise = noise if noise is not None else (cfg.noise if not spec.discrete else None)
        coef_min, coef_max = get("coef_min"), get("coef_max")
        if constraint == "min" and not coef_min < coef_max:
            raise ConfigError(f"{path}: coef_min={coef_min} must be below coef_max={coef_max}")
        out[name] = HeadSettings(
            mode=mode, coef=coef_s, target=target, constraint=constraint,
            controller=get("controller"), kp=get("kp"), ki=get("ki"), lr=get("lr"),
            coef_min=coef_min, coef_max=coef_max,
            plateau=plateau, collapse_fraction=cfg.collapse_fraction,
            collapse_patience=cfg.collapse_patience,
            noise_beta=float(noise["beta"]) if noise else 0.0,
            actuator=_actuator(get("actuator"), algo),
            unreachable_patience=cfg.unreachable_patience)
    return out
