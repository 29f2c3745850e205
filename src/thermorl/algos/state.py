"""What a checkpoint holds for every algorithm (an algorithm adds its own part through
`_state()` / `_load_state()`), and how a freshly built algorithm takes it back."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Mapping

from ..checkpoint import restore_generator
from ..config_io import to_yaml
from ..errors import ThermorlError

if TYPE_CHECKING:
    from .base import Algorithm


def snapshot(algo: Algorithm) -> dict[str, Any]:
    """Everything needed to resume exactly: tensors and plain values only."""
    c = algo.collector
    return {
        "algo": algo.algo_name, "config": to_yaml(algo.config),
        "global_step": algo.global_step, "updates": algo.updates, "elapsed": algo.elapsed,
        "timing": algo.timing_totals(),
        "best_eval": algo.best_eval if math.isfinite(algo.best_eval) else None,
        "recent_returns": list(c.recent_returns), "recent_lengths": list(c.recent_lengths),
        "policy": algo.policy.state_dict(), **algo.learner.state_dict(),
        "obs_rms": algo.obs_norm.rms.state_dict() if algo.obs_norm else None,
        "sample_gen": algo.sample_gen.get_state(), "shuffle_gen": algo.shuffle_gen.get_state(),
        "entropy": algo.entropy.state_dict(),
        "noise": {h: n.state_dict() for h, n in c.noise.items()},
        **({"selfplay": algo.league.state_dict()} if algo.league is not None else {}),
        **algo._state(),
    }


def weight_mismatches(saved: Mapping[str, Any], model: Mapping[str, Any]) -> list[str]:
    """How a checkpoint's weights (`saved`) differ from a model's state dict, one phrase per
    parameter: a different shape, or present on one side only. Empty: they fit."""
    out = [f"{k} is {tuple(v.shape)} in the checkpoint but {tuple(model[k].shape)} in the model"
           for k, v in saved.items() if k in model and tuple(v.shape) != tuple(model[k].shape)]
    out += [f"{k} is only in the model" for k in model if k not in saved]
    out += [f"{k} is only in the checkpoint" for k in saved if k not in model]
    return out


def check_weights_fit(saved: Mapping[str, Any], model: Mapping[str, Any], path: Any,
                      env: Any = None, run_env: str | None = None) -> None:
    """One line instead of torch's size-mismatch listing: which checkpoint, which parameters
    (the first three), and the likely cause (naming the env given when it is not the run's)."""
    bad = weight_mismatches(saved, model)
    if not bad:
        return
    more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
    given = (f"the env given ({env!r}) is not the run's ({run_env!r}) and its "
             if isinstance(env, str) and env != run_env else "the env's ")
    raise ThermorlError(
        f"checkpoint {str(path)!r} does not fit the policy built for this env and config: "
        f"{'; '.join(bad[:3])}{more}. Likely {given}observation or action spaces differ from "
        f"the run's, or policy.hidden_sizes differs from the run's; load it with the run's env "
        f"and config")


def restore(algo: Algorithm, state: Mapping[str, Any], path: Any,
            run_env: str | None = None) -> None:
    """Load `state` (from the checkpoint at `path`) into `algo`, built from its config (whose
    env id was `run_env`)."""
    check_weights_fit(state["policy"], algo.policy.state_dict(), path, algo.env_source,
                      run_env)
    algo.policy.load_state_dict(state["policy"])
    try:
        algo.learner.load_state_dict(state)
    except ValueError as e:  # the parameter groups differ: fused (one flat tensor) or not
        raise ThermorlError(
            f"checkpoint {str(path)!r}: its optimizer state does not fit this policy's "
            f"optimizer ({e}). A PPO checkpoint written with ppo.fused false, or by a "
            f"thermorl before the fused path, resumes with --ppo.fused false") from None
    if algo.obs_norm is not None and state["obs_rms"] is not None:
        algo.obs_norm.rms.load_state_dict(state["obs_rms"])
    c = algo.collector
    algo.global_step, algo.updates = state["global_step"], state["updates"]
    algo.elapsed = state["elapsed"]
    timing = dict(state.get("timing", {}))  # absent in checkpoints written before it
    c.env_time = timing.pop("env", 0.0)
    algo.timing.update(timing)
    algo.best_eval = -math.inf if state["best_eval"] is None else state["best_eval"]
    c.recent_returns.extend(state["recent_returns"])
    c.recent_lengths.extend(state["recent_lengths"])
    # a checkpoint from the other kind of device: its action draws go on from a new seed
    algo.moved_device = not restore_generator(algo.sample_gen, state["sample_gen"],
                                              algo.config.seed + algo.global_step)
    algo.shuffle_gen.set_state(state["shuffle_gen"])
    algo.entropy.load_state_dict(state["entropy"])
    for h, n in c.noise.items():
        if h in state.get("noise", {}):
            n.load_state_dict(state["noise"][h])
    if algo.league is not None and state.get("selfplay") is not None:
        algo.league.load_state_dict(state["selfplay"])
    algo._load_state(dict(state))
