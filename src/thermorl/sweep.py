"""`thermorl sweep`: a grid of settings times a range of seeds, each pair a Ray Tune trial that
is an ordinary run directory under the sweep's directory (docs/sweep.md).

The pure part, usable and tested without Ray: reading `--grid KEY=V1,V2` items, expanding them
into combinations, resolving every trial's config up front through the same machinery as
`thermorl train` (so a bad key or value fails before anything starts), naming each trial's
directory `OUT/<key>=<value>[,<key>=<value>...]/seed-<n>`, and deciding, for a directory that
already holds a trial, whether it is finished (skipped), started (resumed from its latest
checkpoint) or belongs to another sweep (an error). The Ray part (`run`) imports Ray only when
called.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import itertools
import logging
import os
import re
import sys
import traceback
from pathlib import Path
from typing import Any, Mapping, Sequence

from .collect.ray_runners import EXTRA_HINT
from .compare import (ABSENT, CONFIG, IGNORED_KEYS, IGNORED_SECTIONS, SUMMARY, _show, comparable,
                      load_run)
from .config import Config
from .config_io import from_dict, nest, resolve, to_dict
from .errors import ThermorlError

__all__ = ["Trial", "require_ray", "split_values", "parse_grid", "combinations", "label",
           "plan", "trial_state", "run_trial", "run"]

NEW, RESUME, DONE = "new", "resume", "done"
MAX_LABEL = 200  # a directory name must stay under the file system's 255 bytes


@dataclasses.dataclass(frozen=True)
class Trial:
    """One combination at one seed: its resolved config, its run directory, and what the
    directory already holds (NEW, RESUME or DONE)."""
    name: str  # the run directory relative to the sweep's: "ppo.learning_rate=0.001/seed-2"
    config: Config
    run_dir: Path
    state: str


def require_ray() -> None:
    """A one-line error naming the extra where Ray (with Tune) is not installed; imports
    nothing, so checking costs no Ray start-up."""
    try:
        found = importlib.util.find_spec("ray") and importlib.util.find_spec("ray.tune")
    except (ImportError, ValueError):
        found = None
    if not found:
        raise ThermorlError(f"thermorl sweep runs its trials on Ray Tune, which is not "
                            f"installed: {EXTRA_HINT}")


def split_values(text: str) -> list[str]:
    """`text` split at the commas outside brackets, braces and quotes, each part stripped:
    "1e-3,3e-4" -> ["1e-3", "3e-4"], "[64,64],[128,128]" -> ["[64,64]", "[128,128]"]."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def parse_grid(items: Sequence[str]) -> dict[str, list[str]]:
    """`--grid` items (`KEY=V1,V2,...`, one key each) as {key: [values as typed]}, keys in the
    order given. The key must be a config key (checked against the config's fields, with near
    matches suggested); the seed and the keys `thermorl compare` ignores are refused, since
    varying them makes no other configuration."""
    grid: dict[str, list[str]] = {}
    for item in items:
        key, eq, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or not key:
            raise ThermorlError(f"--grid {item!r}: expected KEY=V1,V2,... (a config key and "
                                f"its values, comma-separated)")
        if key == "seed":
            raise ThermorlError("--grid seed: a sweep's seeds come from --seeds N (and "
                                "--seed-start S), not from the grid")
        if key in IGNORED_KEYS or key.startswith(IGNORED_SECTIONS):
            raise ThermorlError(f"--grid {key}: does not make another configuration (thermorl "
                                f"compare leaves it out), so its trials would only repeat; "
                                f"set it as a flag for the whole sweep")
        nest({key: None})  # an unknown key: one line naming it and the nearest valid ones
        if key in grid:
            raise ThermorlError(f"--grid {key} is given twice; accepted: each key once, with "
                                f"all its values: --grid {key}=V1,V2,...")
        values = split_values(text)
        if not text.strip() or any(not v for v in values):
            raise ThermorlError(f"--grid {item!r}: an empty value; accepted: KEY=V1,V2,... "
                                f"with no empty value between the commas")
        grid[key] = values
    return grid


def combinations(grid: Mapping[str, Sequence[str]]) -> list[dict[str, str]]:
    """Every combination of the grid's values, the first key varying slowest; one empty
    combination for an empty grid."""
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*grid.values())]


def _lookup(data: Mapping[str, Any], key: str) -> Any:
    node: Any = data
    for part in key.split("."):
        node = node[part]
    return node


def label(config: Config, keys: Sequence[str]) -> str:
    """The directory name of a combination: `key=value` for each grid key, comma-joined, the
    value as the resolved config holds it (so 1e-3 and 0.001 name one directory) and written
    as `thermorl compare` names configurations; '/' and blanks cannot be in a name."""
    data = to_dict(config)
    parts = [f"{k}={_show(_lookup(data, k))}" for k in keys]
    name = re.sub(r"\s+", "", ",".join(parts)).replace("/", "_")
    if len(name.encode()) > MAX_LABEL:
        digest = hashlib.sha1(name.encode()).hexdigest()[:10]
        name = name.encode()[:MAX_LABEL - 11].decode(errors="ignore") + "-" + digest
    return name


def trial_state(run_dir: Path, config: Config) -> str:
    """What `run_dir` holds for a trial of `config`: NEW (nothing yet, or no checkpoint to go
    on from), RESUME (a started run: a checkpoint but no summary.json) or DONE (summary.json).
    A run of another configuration there is an error: the directory belongs to another sweep."""
    if not (run_dir / CONFIG).is_file():
        return NEW
    run = load_run(run_dir)
    theirs = {**comparable(run.config), "seed": run.config.get("seed")}
    ours = {**comparable(to_dict(config)), "seed": config.seed}
    if theirs != ours:
        key = next(k for k in [*ours, *theirs] if theirs.get(k, ABSENT) != ours.get(k, ABSENT))
        raise ThermorlError(
            f"{str(run_dir)!r} already holds a run of another configuration ({key}: "
            f"{_show(theirs.get(key, ABSENT))} there, {_show(ours.get(key, ABSENT))} in this "
            f"sweep); accepted: the same sweep again (to resume or extend it) or another --out")
    if run.summary is not None or (run_dir / SUMMARY).is_file():
        return DONE
    return RESUME if (run_dir / "checkpoints" / "latest.pt").is_file() else NEW


def plan(out: str | Path, *, overrides: Mapping[str, Any], grid: Mapping[str, Sequence[str]],
         seeds: int, seed_start: int = 1, file: str | Path | None = None) -> list[Trial]:
    """Every trial of the sweep, in order (combination by combination, seeds within), each
    config resolved as `thermorl train --config FILE <overrides> <combination> --seed S`
    resolves it. Errors, one line each: a bad count, a grid key also given as a flag, a
    combination the config rejects (named), two values of a key that are the same value, a
    backend other than local, a directory holding another sweep's run."""
    if seeds < 1:
        raise ThermorlError(f"--seeds must be a positive number of seeds, got {seeds}")
    if seed_start < 0:
        raise ThermorlError(f"--seed-start must be 0 or more, got {seed_start}")
    flat = {k.replace("-", "_"): v for k, v in overrides.items()}
    if "seed" in flat:
        raise ThermorlError("--seed: a sweep sets each trial's seed; accepted: --seeds N (seeds "
                            "1..N) and --seed-start S (seeds S..S+N-1)")
    both = [k for k in grid if k in flat]
    if both:
        raise ThermorlError(f"{both[0]} is set both as a flag and by --grid; accepted: one of "
                            f"the two")
    out = Path(out).absolute()
    if out.exists() and not out.is_dir():
        raise ThermorlError(f"--out {str(out)!r} is a file; accepted: a directory (new, or one "
                            f"holding this sweep's trials)")
    resolve(file=file, overrides=flat)  # the flags alone: their errors are not the grid's
    trials: list[Trial] = []
    seen: dict[str, dict[str, str]] = {}
    for combo in combinations(grid):
        try:
            base = resolve(file=file, overrides={**flat, **combo})[0]
        except ThermorlError as e:
            said = ", ".join(f"{k}={v}" for k, v in combo.items())
            raise ThermorlError(f"--grid {said}: {e}") from None
        if base.runners.backend != "local":
            raise ThermorlError(f"runners.backend={base.runners.backend}: a sweep trial runs "
                                f"in one process on one CPU; accepted in a sweep: local")
        name = label(base, list(grid))
        if name in seen:
            key = next(k for k in combo if combo[k] != seen[name][k])
            raise ThermorlError(f"--grid {key}: {seen[name][key]} and {combo[key]} are the "
                                f"same value; accepted: each value once")
        seen[name] = combo
        for seed in range(seed_start, seed_start + seeds):
            cfg = dataclasses.replace(base, seed=seed)
            rel = f"{name}/seed-{seed}" if name else f"seed-{seed}"
            trials.append(Trial(rel, cfg, out / rel, trial_state(out / rel, cfg)))
    return trials


def run_trial(params: dict[str, Any]) -> dict[str, Any]:
    """The Tune trainable: one trial, trained exactly as `thermorl train --run-dir` trains (or
    resumed from its latest checkpoint). Failures come back as a result with `error` set, so
    the sweep goes on and reports them at the end; an unexpected one also leaves its traceback
    in the run directory's `error.txt`."""
    from . import checkpoint
    from .algos import PPO, SAC

    spec = params["trial"]
    cfg, run_dir = from_dict(spec["config"]), Path(spec["run_dir"])
    algos = {"ppo": PPO, "sac": SAC}
    try:
        if spec["resume"]:
            ckpt = checkpoint.find(run_dir, "latest")
            algo = algos[cfg.algo].load(ckpt, run_dir=run_dir, trust_env_module=True)
        else:  # a fresh start: rows of an earlier start that saved no checkpoint go
            (run_dir / "metrics.csv").unlink(missing_ok=True)
            algo = algos[cfg.algo](cfg.env_id, cfg, run_dir=run_dir)
        with algo:
            algo.learn()
        (run_dir / "error.txt").unlink(missing_ok=True)
        return {"error": "", "final_return": float(algo.final_eval["mean_return"]),
                "global_step": algo.global_step, "wall_time_s": algo.elapsed}
    except Exception as e:  # noqa: BLE001 - any failure is the trial's, reported at the end
        text = " ".join(str(e).split())
        if not isinstance(e, ThermorlError):
            text = f"{type(e).__name__}: {text}"
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / "error.txt").write_text(traceback.format_exc())
            text += f" (traceback in {run_dir / 'error.txt'})"
        return {"error": text}


def _tune_dirname(trial: Any) -> str:
    """Tune's directory for a trial's records: its id (Tune's default spells out the config)."""
    return str(trial.trial_id)


def run(trials: Sequence[Trial], out: str | Path, *, address: str | None = None,
        max_concurrent: int | None = None, say: Any = print) -> dict[str, str]:
    """Run `trials` (none of them DONE) as Ray Tune trials of `run_trial`, each on
    `torch_threads` CPUs; a local Ray with `max_concurrent` trials' CPUs, or the cluster at
    `address`. Tune's own files go to OUT/.tune; its console output is off, and `say` gets a
    line per trial as it ends. Returns the failed trials' errors by trial name."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the machine
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # no CSV/JSON/TB of Tune's
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # the new console output ignores verbose=0
    os.environ.setdefault("RAY_CHDIR_TO_TRIAL_DIR", "0")  # trials run where the sweep was started
    import ray
    from ray import tune

    threads = max(t.config.torch_threads for t in trials)
    started = not ray.is_initialized()
    if started:
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "logging_level": logging.ERROR}
        if address:
            kwargs["address"] = address
        else:  # "local": a Ray of its own, not one that `ray start` left running here
            kwargs.update(address="local", num_cpus=(max_concurrent or 1) * threads)
        try:
            ray.init(**kwargs)
        except (ConnectionError, RuntimeError, ValueError) as e:
            said = f"{e} {e.__cause__ or ''}"  # Ray wraps what went wrong in its own error
            why = ("the cluster uses token authentication: set RAY_AUTH_MODE=token, with the "
                   "cluster's token in ~/.ray/auth_token or RAY_AUTH_TOKEN" if "AuthToken" in said
                   else " ".join(str(e).split()).rstrip("."))
            where = (f"--address {address}: cannot join the Ray cluster there" if address
                     else "cannot start a local Ray")
            raise ThermorlError(f"{where}: {why} (docs/sweep.md)") from None
    errors: dict[str, str] = {}
    ended: list[str] = []

    class Report(tune.Callback):
        """One line per trial as it ends; its error (or Tune's, if the trial process died)."""

        def _end(self, trial: Any, error: str) -> None:
            name = trial.config["trial"]["name"]
            ended.append(name)
            if error:
                errors[name] = error
                say(f"thermorl: [{len(ended)}/{len(trials)}] {name} failed: {error}")
                return
            res = trial.last_result
            say(f"thermorl: [{len(ended)}/{len(trials)}] {name}: final eval "
                f"{res['final_return']:.2f} after {res['global_step']:,} steps in "
                f"{res['wall_time_s']:.1f} s")

        def on_trial_complete(self, iteration: int, trials: Any, trial: Any, **info: Any) -> None:
            self._end(trial, (trial.last_result or {}).get("error", ""))

        def on_trial_error(self, iteration: int, trials: Any, trial: Any, **info: Any) -> None:
            where = getattr(trial, "error_file", None)
            self._end(trial, "the trial's process failed" + (f"; see {where}" if where else ""))

    specs = [{"name": t.name, "run_dir": str(t.run_dir), "config": to_dict(t.config),
              "resume": t.state == RESUME} for t in trials]
    tuner = tune.Tuner(
        tune.with_resources(run_trial, {"cpu": threads}),
        param_space={"trial": tune.grid_search(specs)},
        tune_config=tune.TuneConfig(max_concurrent_trials=max_concurrent,
                                    trial_dirname_creator=_tune_dirname),
        run_config=tune.RunConfig(name="tune", storage_path=str(Path(out).absolute() / ".tune"),
                                  verbose=0, callbacks=[Report()],
                                  failure_config=tune.FailureConfig(max_failures=0)))
    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout is for the table alone
            tuner.fit()
    finally:
        if started:
            ray.shutdown()
    for t in trials:  # Tune stopped early (Ctrl-C): it reports no more trials, even finished ones
        if t.name not in ended and not (t.run_dir / SUMMARY).is_file():
            errors[t.name] = ("stopped before it finished, or never started; run the same sweep "
                              "again to resume it")
    return errors
