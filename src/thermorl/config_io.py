"""Building a `Config` from defaults, a preset, a YAML file and dotted overrides, with checks.

Order of precedence, lowest first: dataclass defaults, the env's preset, the YAML file, the
command line. Every value goes through `_coerce`, so a wrong type or range names the field and
what it accepts, and an unknown key names the nearest valid ones.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import types
import typing
from pathlib import Path
from typing import Any, Mapping

import yaml

from .config import Config
from .errors import ConfigError
from .presets import ALGO_DEFAULTS, preset_for


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def field_paths(cls: type = Config, prefix: str = "") -> dict[str, dataclasses.Field]:
    """Every leaf field by dotted path ('ppo.num_envs'), for help text and suggestions."""
    out: dict[str, dataclasses.Field] = {}
    for f in dataclasses.fields(cls):
        tp = _hints(cls)[f.name]
        if dataclasses.is_dataclass(tp):
            out.update(field_paths(tp, f"{prefix}{f.name}."))
        else:
            out[prefix + f.name] = f
    return out


def field_type(path: str) -> Any:
    cls: Any = Config
    *parents, leaf = path.split(".")
    for p in parents:
        cls = _hints(cls)[p]
    return _hints(cls)[leaf]


def _unknown(key: str, valid: list[str]) -> ConfigError:
    near = difflib.get_close_matches(key, valid, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(near)}?" if near else f"; valid keys: {', '.join(valid)}"
    return ConfigError(f"unknown config key {key!r}{hint}")


def _describe(tp: Any, f: dataclasses.Field) -> str:
    if f.metadata.get("accepts"):
        return f.metadata["accepts"]
    names = {int: "an integer", float: "a number", bool: "true or false", str: "a string",
             dict: "a mapping"}
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)][0]
        text = _describe(inner, f) + " or null"
    elif typing.get_origin(tp) is tuple:
        text = "a list of integers"
    else:
        text = names.get(tp, str(tp))
    m = f.metadata
    if m.get("choices"):
        return "one of " + ", ".join(str(c) for c in m["choices"] if c is not None)
    bounds = [f"{op} {m[k]}" for k, op in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))
              if m.get(k) is not None]
    return text + (" " + " and ".join(bounds) if bounds else "")


def _coerce(path: str, value: Any, tp: Any, f: dataclasses.Field) -> Any:
    given, declared = value, tp

    def bad() -> ConfigError:
        return ConfigError(f"{path}: expected {_describe(declared, f)}, got {given!r}")

    if f.metadata.get("parse"):
        return f.metadata["parse"](value, path)
    if f.metadata.get("each"):
        return _each(path, value, f.metadata["each"])

    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in ("null", "none", "~")):
            return None
        tp = [a for a in args if a is not type(None)][0]
        origin, args = typing.get_origin(tp), typing.get_args(tp)
    if isinstance(value, str) and tp in (int, float):
        try:  # YAML 1.1 reads "1e5" as a string; people mean the number.
            value = float(value)
        except ValueError:
            raise bad() from None
    if tp is bool:
        if not isinstance(value, bool):
            raise bad()
    elif tp is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad()
        if isinstance(value, float):
            if not value.is_integer():
                raise bad()
            value = int(value)
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise bad()
        value = float(value)
    elif tp is str:
        if isinstance(value, bool) and {"on", "off"} <= set(f.metadata.get("choices") or ()):
            value = "on" if value else "off"  # YAML 1.1 reads a bare on/off as a boolean
        if not isinstance(value, str):
            raise bad()
    elif tp is dict:
        if not isinstance(value, Mapping):
            raise bad()
        value = dict(value)
    elif origin is tuple:
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, (list, tuple)) or not all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
            raise bad()
        value = tuple(value)
    m = f.metadata
    if m.get("choices") and value not in m["choices"]:
        raise bad()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if ((m.get("gt") is not None and not value > m["gt"])
                or (m.get("ge") is not None and not value >= m["ge"])
                or (m.get("lt") is not None and not value < m["lt"])
                or (m.get("le") is not None and not value <= m["le"])):
            raise bad()
    return value


def merge(cfg: Any, data: Mapping[str, Any], prefix: str = "") -> Any:
    """`cfg` with the nested mapping `data` laid over it, every value checked."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping of keys to "
                          f"values, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if key not in fields:
            raise _unknown(path, [prefix + name for name in fields])
        tp = _hints(type(cfg))[key]
        if dataclasses.is_dataclass(tp):
            changes[key] = merge(getattr(cfg, key), value or {}, path + ".")
            continue
        old = getattr(cfg, key)
        if fields[key].metadata.get("deep") and isinstance(value, Mapping) and old:
            value = {**old, **{k: {**old[k], **v} if isinstance(v, Mapping)
                               and isinstance(old.get(k), Mapping) else v
                               for k, v in value.items()}}
        changes[key] = _coerce(path, value, tp, fields[key])
    return dataclasses.replace(cfg, **changes)


def _each(path: str, value: Any, section: type) -> dict[str, Any]:
    """Per-name overrides of `section` (`entropy.heads`): each checked as that section is, kept
    as its non-null settings so the names inherit the rest."""
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: expected a mapping of head name to settings, got {value!r}")
    out = {}
    for name, over in value.items():
        cfg = merge(section(), over or {}, f"{path}.{name}.")
        out[str(name)] = {k: v for k, v in to_dict(cfg).items() if v is not None}
    return out


def structured_prefix(key: str, valid: list[str]) -> str | None:
    """The field a deeper key lands in ('entropy.heads.fire.mode' -> 'entropy.heads'), if that
    field holds a mapping or a structured value."""
    parts = key.split(".")
    for i in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:i])
        if head in valid and (field_type(head) in (dict, Any)):
            return head
    return None


def nest(dotted: Mapping[str, Any]) -> dict[str, Any]:
    """{'ppo.num_envs': 8} -> {'ppo': {'num_envs': 8}}; values given as text are read as YAML.
    Keys may reach inside mapping fields: 'entropy.heads.fire.mode', 'env_kwargs.g'."""
    out: dict[str, Any] = {}
    valid = list(field_paths())
    for key, value in dotted.items():
        key = key.replace("-", "_")
        if key not in valid and structured_prefix(key, valid) is None:
            raise _unknown(key, valid)
        if isinstance(value, str) and not (key in valid and field_type(key) is str):
            try:
                value = yaml.safe_load(value) if value.strip() else value
            except yaml.YAMLError:
                pass  # keep the text; _coerce names the field if text is wrong here
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def flatten(nested: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """{'ppo': {'num_envs': 8}} -> [('ppo.num_envs', 8)], the inverse of `nest`: a preset or
    an algorithm's defaults as the dotted settings a user would type."""
    out: list[tuple[str, Any]] = []
    for k, v in nested.items():
        out += flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else [(prefix + k, v)]
    return out


def load_yaml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"config file {str(p)!r} is not valid YAML: {e}".replace("\n", " ")) \
            from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(p)!r} must hold a mapping, got {type(data).__name__}")
    return data


def check(cfg: Config) -> Config:
    """Checks that span fields; single-field ranges were checked as values came in."""
    p = cfg.ppo
    batch = p.num_envs * p.num_steps
    if batch % p.num_minibatches:
        raise ConfigError(
            f"ppo.num_minibatches={p.num_minibatches} does not divide the batch "
            f"ppo.num_envs * ppo.num_steps = {p.num_envs} * {p.num_steps} = {batch}; "
            f"accepted: a divisor of {batch}")
    if p.recurrent != "none" and p.burn_in >= p.seq_len:
        raise ConfigError(f"ppo.burn_in={p.burn_in} must be below ppo.seq_len={p.seq_len}; "
                          f"accepted: 0 to {p.seq_len - 1}")
    r = cfg.runners
    if r.backend == "ray" and cfg.algo != "ppo":
        raise ConfigError(f"runners.backend=ray collects PPO's rollouts; with algo {cfg.algo} "
                          f"accepted: local, async")
    if r.backend in ("async", "ray") and cfg.algo == "ppo" and r.num > p.num_envs:
        raise ConfigError(f"runners.num={r.num} is more runners than ppo.num_envs={p.num_envs} "
                          f"(each runner steps at least one env); accepted: 1 to {p.num_envs}, "
                          f"or ppo.num_envs of {r.num} or more")
    pol = cfg.policy
    if not pol.log_std_min < pol.log_std_max:
        raise ConfigError(f"policy.log_std_min={pol.log_std_min} must be below "
                          f"policy.log_std_max={pol.log_std_max}")
    if pol.log_std_init is not None and not pol.log_std_min <= pol.log_std_init <= pol.log_std_max:
        raise ConfigError(f"policy.log_std_init={pol.log_std_init} must lie within "
                          f"[{pol.log_std_min}, {pol.log_std_max}]")
    sp = cfg.selfplay
    if sp.enabled and cfg.algo != "ppo":
        raise ConfigError(f"selfplay.enabled with algo {cfg.algo}: self-play trains PPO only "
                          f"(an opponent's replayed steps would be another policy's); accepted: "
                          f"algo ppo, or selfplay.enabled false")
    if sp.enabled and p.recurrent != "none":
        raise ConfigError(f"selfplay.enabled with ppo.recurrent {p.recurrent}: the frozen "
                          f"opponents are feed-forward copies of the learner; accepted: "
                          f"ppo.recurrent none, or selfplay.enabled false")
    if sp.enabled and cfg.runners.backend != "local":
        raise ConfigError(f"selfplay.enabled with runners.backend {cfg.runners.backend}: the "
                          f"opponent acts in the training process beside its envs; accepted: "
                          f"runners.backend local")
    if sp.enabled and cfg.env_wrappers:
        raise ConfigError("selfplay.enabled with env_wrappers: gymnasium wrappers wrap a "
                          "single-agent env, and self-play's is a two-agent PettingZoo one; "
                          "accepted: env_wrappers [] (wrap the env in your module:factory)")
    if sp.enabled and sp.latest_ratio == 1.0 and sp.scripted_weight > 0:
        raise ConfigError(f"selfplay.scripted_weight={sp.scripted_weight} has no effect with "
                          f"selfplay.latest_ratio=1.0 (every draw is the latest self); accepted: "
                          f"latest_ratio below 1, or scripted_weight 0")
    if not (cfg.device in ("cpu", "cuda", "auto") or cfg.device.startswith("cuda:")
            or cfg.device == "mps"):
        raise ConfigError(f"device: expected cpu, cuda, cuda:N, mps or auto, got {cfg.device!r}")
    return cfg


def resolve(*, file: str | Path | None = None, overrides: Mapping[str, Any] | None = None,
            base: Mapping[str, Any] | None = None) -> tuple[Config, str | None]:
    """Defaults < preset < `base` < YAML file < dotted `overrides`. Returns (config, preset)."""
    layers = [dict(base or {})]
    if file is not None:
        layers.append(load_yaml(file))
    layers.append(nest(overrides or {}))
    user = Config()
    for layer in layers:  # first pass: learn env_id, algo and preset choice before a preset
        user = merge(user, layer)
    _check_sections(user)
    name, preset = preset_for(user.preset, user.env_id, user.algo, user.selfplay.enabled)
    cfg = merge(merge(Config(), ALGO_DEFAULTS[user.algo]), preset)
    for layer in layers:
        cfg = merge(cfg, layer)
    cfg = dataclasses.replace(cfg, preset=name or "none")
    return check(cfg), name



def make_config(env_id: str = "CartPole-v1", **dotted: Any) -> Config:
    """A resolved config for `env_id`: its preset, then `dotted` overrides such as
    `**{"ppo.num_envs": 8}`, `algo="sac"` or `total_timesteps=50_000`."""
    return resolve(base={"env_id": env_id}, overrides=dotted)[0]


def _check_sections(cfg: Config) -> None:
    """A setting of the other algorithm's section that the user changed from its default is
    a mistake (it would be ignored silently); a run's own config.yaml, which lists every section
    at its defaults, still loads."""
    other = {"ppo": "sac", "sac": "ppo"}[cfg.algo]
    section, default = getattr(cfg, other), getattr(Config(), other)
    for f in dataclasses.fields(section):
        if getattr(section, f.name) != getattr(default, f.name):
            raise ConfigError(f"{other}.{f.name}={getattr(section, f.name)!r} is a {other.upper()} "
                              f"setting, but algo is {cfg.algo}; accepted with algo {cfg.algo}: "
                              f"the {cfg.algo}.* settings (or set algo: {other})")


def _plain(v: Any) -> Any:
    if isinstance(v, (tuple, list)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def to_dict(cfg: Any) -> dict[str, Any]:
    """A plain nested dict (lists for tuples), fit for YAML and checkpoints."""
    return _plain(dataclasses.asdict(cfg))


def to_yaml(cfg: Config) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)


def _upgrade(data: Mapping[str, Any]) -> dict[str, Any]:
    """A run's config written by an older thermorl, in today's fields. Before
    `ppo.clip_vloss_coef`, the value clip was `ppo.clip_coef`: a run written then keeps that
    value clip (no longer annealed) instead of silently taking the new default."""
    data = dict(data)
    ppo = data.get("ppo")
    if isinstance(ppo, Mapping) and "clip_vloss_coef" not in ppo and "clip_coef" in ppo:
        data["ppo"] = {**ppo, "clip_vloss_coef": ppo["clip_coef"]}
    return data


def from_dict(data: Mapping[str, Any]) -> Config:
    """Rebuild a resolved config (from a run's config.yaml or a checkpoint) without a preset."""
    return check(merge(Config(), _upgrade(data)))
