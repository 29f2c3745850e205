"""`thermorl compare`: runs found under directories, grouped into configurations, one row each.

A configuration is what a sweep varies: runs whose resolved `config.yaml` files are equal once
the keys that cannot change what is learned are removed (the seed, by design a repeat of the
same configuration; where and on what the run computed; how it logged). Each configuration is
named by the keys in which it differs from the others, so a sweep over the learning rate reads
`ppo.learning_rate=0.001`, whatever its directories are called.

Per configuration the row holds the final deterministic evaluation (`summary.json`'s
`final_eval.mean_return`) over its seeds: the mean, a percentile bootstrap interval of that mean
(`stats.bootstrap_ci`), min and max; and for each action head whose entropy was steered to a
target, how far the entropy stayed from it.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml

from .config_io import flatten
from .errors import ThermorlError
from .plot import read_metrics
from .stats import bootstrap_ci

__all__ = ["Run", "Configuration", "find_runs", "load_run", "comparable", "group_runs",
           "learned_heads", "tracking_error", "compare_runs", "format_table"]

# Keys that do not make a different configuration: the seed (the repeat a configuration is
# made of), where and on what the run computed (the runners: PPO's in other processes differ
# from a local run only in which random numbers each env's actions draw and when observation
# statistics merge; SAC's async run is bitwise a local one), and how it logged. Dotted, as in
# `flatten`.
IGNORED_KEYS = frozenset({"seed", "run_dir", "device", "torch_threads"})
IGNORED_SECTIONS = ("log.", "runners.")
CONFIG, SUMMARY, METRICS = "config.yaml", "summary.json", "metrics.csv"
ABSENT = "(absent)"  # a key one configuration has and another lacks (a run of another version)


@dataclass(frozen=True)
class Run:
    """One run directory as compare reads it: its resolved config (as parsed from YAML) and
    its summary (None when the run never finished: interrupted, or still training)."""
    path: Path
    config: dict[str, Any]
    summary: dict[str, Any] | None

    @property
    def final_return(self) -> float | None:
        """`final_eval.mean_return`, or None when the run has no finite one."""
        ev = (self.summary or {}).get("final_eval")
        value = ev.get("mean_return") if isinstance(ev, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            return None
        return float(value)


@dataclass
class Configuration:
    """Runs with equal comparable configs; `differs` holds the keys (and this configuration's
    values) in which it differs from the other configurations, `name` says them in one line."""
    name: str
    differs: dict[str, Any]
    runs: list[Run] = field(default_factory=list)


def _is_run_dir(d: Path) -> bool:
    # An interrupted run has no summary.json yet; metrics.csv still marks it as a run, so that
    # compare can list it as skipped instead of missing it.
    return (d / CONFIG).is_file() and ((d / SUMMARY).is_file() or (d / METRICS).is_file())


def find_runs(paths: Sequence[str | Path]) -> list[Path]:
    """The run directories named by `paths`: each path is a run directory (it has config.yaml,
    and summary.json or metrics.csv) or a directory holding run directories at any depth. A
    path that is missing or holds no run is an error; a run named twice is listed once."""
    if not paths:
        raise ThermorlError("no directories given; accepted: run directories or directories "
                            "that contain them")
    found: list[Path] = []
    seen: set[Path] = set()
    for p in map(Path, paths):
        if not p.is_dir():
            raise ThermorlError(f"{str(p)!r} is not a directory; accepted: a run directory or a "
                                f"directory that contains run directories")
        here: list[Path] = []
        for root, dirs, _files in os.walk(p):
            d = Path(root)
            if _is_run_dir(d):
                here.append(d)
                dirs[:] = []  # a run's checkpoints/ and tb/ hold no further runs
            else:
                dirs.sort()  # walk order is the file system's; the table's should not be
        if not here:
            raise ThermorlError(f"{str(p)!r} holds no thermorl runs; a run directory has "
                                f"{CONFIG} and {SUMMARY} (or {METRICS})")
        for d in sorted(here):
            key = d.resolve()
            if key not in seen:
                seen.add(key)
                found.append(d)
    return found


def load_run(path: str | Path) -> Run:
    """Read `path`'s config.yaml (an unreadable one is an error naming it) and summary.json
    (missing or unreadable: None, as for a run that has not finished)."""
    path = Path(path)
    try:
        config = yaml.safe_load((path / CONFIG).read_text())
    except (OSError, yaml.YAMLError) as e:
        raise ThermorlError(f"cannot read {str(path / CONFIG)!r}: "
                            f"{' '.join(str(e).split())}") from None
    if not isinstance(config, dict):
        raise ThermorlError(f"{str(path / CONFIG)!r} is not a thermorl config (expected a "
                            f"mapping of settings, got {type(config).__name__})")
    try:
        summary = json.loads((path / SUMMARY).read_text())
    except (OSError, ValueError):  # a run cut off while writing it has no final result either
        summary = None
    return Run(path, config, summary if isinstance(summary, dict) else None)


def comparable(config: dict[str, Any]) -> dict[str, Any]:
    """`config` flattened to dotted keys, without the keys that do not make a different
    configuration (IGNORED_KEYS and the `log` section)."""
    return {k: v for k, v in flatten(config)
            if k not in IGNORED_KEYS and not k.startswith(IGNORED_SECTIONS)}


def _show(value: Any) -> str:
    """A value as one would type it in YAML or on the command line."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return json.dumps(value)  # true, null, 0.001 rather than Python's True, None


def group_runs(runs: Sequence[Run]) -> list[Configuration]:
    """Runs grouped by equal `comparable` configs, in the order their first run appears, each
    named by the keys in which its config differs from the other configurations' (`k=v, ...`);
    a lone configuration is named by its env id and algorithm."""
    keys: list[str] = []
    groups: list[tuple[dict[str, Any], list[Run]]] = []
    for run in runs:
        flat = comparable(run.config)
        for cfg, members in groups:
            if cfg == flat:
                members.append(run)
                break
        else:
            groups.append((flat, [run]))
            keys += [k for k in flat if k not in keys]
    differ = [k for k in keys
              if len({_show(cfg.get(k, ABSENT)) for cfg, _ in groups}) > 1]
    out = []
    for cfg, members in groups:
        differs = {k: cfg.get(k, ABSENT) for k in differ}
        if differs:
            name = ", ".join(f"{k}={_show(v)}" for k, v in differs.items())
        else:
            name = f"{cfg.get('env_id', '?')} {cfg.get('algo', '?')}"
        out.append(Configuration(name, differs, list(members)))
    return out


def learned_heads(metrics: dict[str, np.ndarray]) -> list[str]:
    """Heads whose entropy was steered to a target: those with a logged `entropy_error/<head>`.

    Not `target_entropy/<head>`: that column is written for every head, in every mode, and
    with a fixed coefficient it is only the default target nothing tried to reach. The trainer
    writes entropy_error only where a controller learns the coefficient (or a callback set the
    target), so its presence is the trainer's own word that a target was pursued."""
    prefix = "entropy_error/"
    return sorted(k[len(prefix):] for k, v in metrics.items()
                  if k.startswith(prefix) and np.isfinite(v).any())


def tracking_error(metrics: dict[str, np.ndarray], head: str) -> float | None:
    """Mean |entropy/<head> - target_entropy/<head>| over the last half of the run's rows
    (rows n//2 .. n-1 of n, so the start, where the controller is still reaching the target,
    does not count); None when no row there has both values."""
    ent, target = metrics.get(f"entropy/{head}"), metrics.get(f"target_entropy/{head}")
    if ent is None or target is None:
        return None
    half = len(ent) // 2
    err = np.abs(ent[half:] - target[half:])
    err = err[np.isfinite(err)]
    return float(err.mean()) if err.size else None


def _run_tracking_errors(run: Run) -> dict[str, float]:
    try:
        metrics = read_metrics(run.path)
    except ThermorlError:  # a finished run without its metrics.csv still has a final return
        return {}
    errors = {h: tracking_error(metrics, h) for h in learned_heads(metrics)}
    return {h: e for h, e in errors.items() if e is not None}


def compare_runs(paths: Sequence[str | Path], level: float = 0.95, resamples: int = 10_000,
                 seed: int = 0) -> dict[str, Any]:
    """Everything `thermorl compare` shows, as plain data (what `--json` prints): the
    configurations with their runs' final returns and statistics, the heads with a tracking
    error column, and the runs skipped for want of a final evaluation."""
    runs = [load_run(d) for d in find_runs(paths)]
    finished = [r for r in runs if r.final_return is not None]
    skipped = [str(r.path) for r in runs if r.final_return is None]
    rows = []
    for c in group_runs(finished):
        returns = [r.final_return for r in c.runs]
        lo, hi = bootstrap_ci(returns, level=level, resamples=resamples, seed=seed)
        per_run = [_run_tracking_errors(r) for r in c.runs]
        heads = sorted({h for errs in per_run for h in errs})
        rows.append({
            "name": c.name,
            "differs": c.differs,
            "runs": len(c.runs),
            "run_dirs": [str(r.path) for r in c.runs],
            "final_returns": returns,
            "mean_return": float(np.mean(returns)),
            "ci": [lo, hi],
            "min": float(min(returns)),
            "max": float(max(returns)),
            # averaged over the runs that steered the head; a run that did not has no error
            "entropy_tracking_error": {
                h: float(np.mean([e[h] for e in per_run if h in e])) for h in heads},
        })
    heads = sorted({h for row in rows for h in row["entropy_tracking_error"]})
    for row in rows:  # every row names every column's head, null where it has no value
        row["entropy_tracking_error"] = {h: row["entropy_tracking_error"].get(h)
                                         for h in heads}
    return {"level": level, "resamples": resamples, "seed": seed, "heads": heads,
            "configurations": rows, "skipped": skipped}


def format_table(result: dict[str, Any]) -> str:
    """`compare_runs`'s result as the text table `thermorl compare` prints: one row per
    configuration, a line saying what the interval and the error columns are, and a note
    naming the skipped runs."""
    heads = result["heads"]
    ci_name = f"{result['level']:.0%} CI"
    header = ["configuration", "runs", "mean return", ci_name, "min", "max",
              *[f"|H-target| {h}" for h in heads]]
    body = []
    for row in result["configurations"]:
        errs = [row["entropy_tracking_error"][h] for h in heads]
        body.append([row["name"], str(row["runs"]), f"{row['mean_return']:.2f}",
                     f"[{row['ci'][0]:.2f}, {row['ci'][1]:.2f}]", f"{row['min']:.2f}",
                     f"{row['max']:.2f}", *["-" if e is None else f"{e:.4f}" for e in errs]])
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        # names read left to right, numbers line up on their last digit
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [line(header), *map(line, body)] if body else ["no finished runs to compare"]
    if body:
        out.append(f"{ci_name}: percentile bootstrap of the mean over runs, "
                   f"{result['resamples']:,} resamples (seed {result['seed']})"
                   + ("; |H-target|: mean |entropy - target| in nats over the last half of "
                      "each run's updates, averaged over runs" if heads else ""))
    skipped = result["skipped"]
    if skipped:
        out.append(f"skipped {len(skipped)} run{'s' if len(skipped) != 1 else ''} without a "
                   f"final evaluation (interrupted or still training): {', '.join(skipped)}")
    return "\n".join(out)
