"""Action masks per discrete head, read from `info["action_mask"]` or a Dict observation's
`action_mask` entry: an array for a single-head space, a dict by head name for a composite one.
True marks a valid action; MultiDiscrete heads take their dimensions' masks side by side."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..errors import EnvError
from .spaces import ACTION_MASK_KEY, HeadSpec


def read_masks(info: Mapping[str, Any], obs: Any, heads: Mapping[str, HeadSpec],
               num_envs: int, step: int) -> dict[str, np.ndarray]:
    """bool [N, n_logits] for each head the env masks; an env that gave no mask this step gets
    all actions valid. A wrong shape or a head with no valid action is an error naming it."""
    raw, present = None, None
    if isinstance(obs, Mapping) and ACTION_MASK_KEY in obs:
        raw, present = obs[ACTION_MASK_KEY], np.ones(num_envs, bool)
    elif ACTION_MASK_KEY in info:
        raw = info[ACTION_MASK_KEY]
        present = np.asarray(info.get("_" + ACTION_MASK_KEY, np.ones(num_envs, bool)))
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        if len(heads) != 1:
            raise EnvError(f"action_mask must be a dict by head name for this composite action "
                           f"space (heads: {', '.join(heads)}), got an array")
        raw = {next(iter(heads)): raw}
    out = {}
    for name, m in raw.items():
        if name.startswith("_"):
            continue
        if name not in heads or not heads[name].discrete:
            valid = [h for h, s in heads.items() if s.discrete]
            raise EnvError(f"action_mask names head {name!r}; the discrete heads are: "
                           f"{', '.join(valid) or 'none'}")
        spec = heads[name]
        m = np.asarray(m).astype(bool).reshape(num_envs, -1)
        if m.shape[1] != spec.n_logits:
            raise EnvError(f"action_mask for head {name!r} has shape {m.shape[1:]} per env, the "
                           f"head has {spec.n_logits} actions: expected ({spec.n_logits},)")
        given = present & np.asarray(raw.get("_" + name, np.ones(num_envs, bool)))
        m[~given] = True
        blocks = np.split(m, np.cumsum(spec.nvec)[:-1], axis=1) if spec.nvec else [m]
        for b in blocks:
            empty = ~b.any(axis=1)
            if empty.any():
                raise EnvError(f"action_mask for head {name!r} allows no action in env "
                               f"{int(np.flatnonzero(empty)[0])} at global step {step}")
        out[name] = m
    return out


def log_valid(mask: Any, spec: HeadSpec) -> Any:
    """log of the number of valid actions (summed over a product head's dimensions): the
    maximum entropy under the mask, per sample."""
    if spec.kind == "categorical":
        return mask.sum(-1).clamp_min(1).log()
    parts = mask.split(list(spec.nvec), dim=-1)
    return sum(p.sum(-1).clamp_min(1).log() for p in parts)


__all__ = ["log_valid", "read_masks"]
