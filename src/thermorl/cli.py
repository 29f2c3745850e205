"""The `thermorl` command: train, sweep, eval, export, plot, compare.

User errors (bad env ids, config keys, values, paths, a run file that cannot be written, a run
directory another process is training in) print one line on stderr and exit 2; a diverged run
exits 1; Ctrl-C (SIGTERM) saves a checkpoint, prints the resume command and exits 130 (143).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import difflib
import json
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

import yaml

from . import checkpoint, rundir
from .algos import PPO, SAC
from .algos.base import STOP_SIGNALS, StoppedAtOnce, TrainingInterrupted
from .algos.sac import PIXEL_BUFFER
from .config import Config
from .config_io import field_paths, flatten, resolve, structured_prefix
from .envs import check_env_id, env_module
from .envs.wrappers import name_of
from .errors import ThermorlError, TrainingDiverged
from .nets.encoder import describe
from .presets import GENERAL, PRESET_NOTES, preset_for

ALGOS = {"ppo": PPO, "sac": SAC}
RESUME_CHANGES = ("total_timesteps", "device", "torch_threads")
# Resuming or evaluating a run directory is not a request to run code from it: the directory
# may have come from elsewhere, and nothing in it says whose it is. So a run whose env id is
# module:EnvId needs this flag to import that module, as PPO.load needs trust_env_module=True.
TRUST_HELP = ("let the run's module:EnvId env id import its module (running that module's "
              "code); without it, loading a run imports no module")


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        raise ThermorlError(message)


def _flag(path: str) -> str:
    return "--" + path


def _train_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "train", help="train an agent", allow_abbrev=False,
        description="Train an agent. Every config field below can also be set in a YAML file "
                    "(--config) with one section per component; values are read as YAML.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("env_pos", nargs="?", metavar="ENV_ID",
                   help="gymnasium env id or module:EnvId (default: CartPole-v1)")
    p.add_argument("--config", metavar="FILE.yaml", help="YAML config file")
    p.add_argument("--run-dir", metavar="DIR",
                   help="where the run writes (default: runs/<env>-<algo>-<timestamp>)")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its latest "
                   "checkpoint (only --total-timesteps, --device, --torch-threads may change)")
    p.add_argument("--checkpoint", metavar="NAME", help="with --resume: the checkpoint to "
                   "continue from: latest (default), best, or a path to a .pt file; the "
                   "metrics logged after it are dropped")
    p.add_argument("--trust-env-module", action="store_true", help=TRUST_HELP)
    _config_flags(p)
    return p


def _sweep_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "sweep", help="train every combination of a grid of settings over several seeds, as "
        "Ray Tune trials", allow_abbrev=False,
        description="Train every combination of the --grid values for each of --seeds seeds, "
                    "each one a Ray Tune trial and a normal run directory under --out DIR "
                    "(DIR/<key>=<value>,.../seed-<n>); then print thermorl compare's table. "
                    "Takes the settings thermorl train takes. Run again, it skips finished "
                    "trials and resumes started ones (docs/sweep.md). Needs the ray extra.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("env_pos", nargs="?", metavar="ENV_ID",
                   help="gymnasium env id or module:EnvId (default: CartPole-v1)")
    p.add_argument("--config", metavar="FILE.yaml", help="YAML config file")
    p.add_argument("--seeds", type=int, required=True, metavar="N",
                   help="seeds per combination: --seed-start to --seed-start + N - 1")
    p.add_argument("--seed-start", type=int, default=1, metavar="S", help="first seed (default 1)")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                   help="a config key and its values, comma-separated (commas inside [..] or "
                   "{..} stay); repeat for more keys: every combination is trained")
    p.add_argument("--out", required=True, metavar="DIR", help="the sweep's directory")
    p.add_argument("--address", metavar="HOST:PORT", help="the Ray cluster to run on (as "
                   "`ray start --head` prints it, or auto); default: a local Ray")
    p.add_argument("--max-concurrent", type=int, default=None, metavar="K", help="trials at "
                   "once (default: one per CPU core here; on a cluster, as many as fit)")
    _config_flags(p)
    return p


def _config_flags(p: argparse.ArgumentParser) -> None:
    """A flag per config field (`--ppo.num_envs`), grouped by section, as train takes them."""
    groups: dict[str, Any] = {}
    for path, f in field_paths().items():
        section = path.split(".")[0] if "." in path else "run"
        if section not in groups:
            groups[section] = p.add_argument_group(
                "run settings" if section == "run" else f"{section}: "
                + Config.__dataclass_fields__[section].metadata["help"])
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        names = [_flag(path)]
        if "_" in path and "." not in path:
            names.insert(0, _flag(path.replace("_", "-")))
        groups[section].add_argument(*names, dest=f"cfg:{path}", metavar="V",
                                     default=argparse.SUPPRESS,
                                     help=f"{f.metadata['help']} (default: {default})")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="thermorl", allow_abbrev=False,
                    description="thermorl: PPO and SAC with the policy's entropy under control.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    _train_parser(sub)
    _sweep_parser(sub)
    e = sub.add_parser("eval", help="evaluate a run's checkpoint", allow_abbrev=False)
    e.add_argument("run", metavar="DIR", help="run directory (or a checkpoint file)")
    e.add_argument("--episodes", type=int, default=None, metavar="N",
                   help="episodes to play (default 10; with --video, 1)")
    mode = e.add_mutually_exclusive_group()
    mode.add_argument("--deterministic", dest="deterministic", action="store_true", default=True,
                      help="act with each head's mode (default)")
    mode.add_argument("--stochastic", dest="deterministic", action="store_false",
                      help="sample actions")
    e.add_argument("--checkpoint", default="latest", metavar="NAME",
                   help="which checkpoint of the run: latest (default) or best")
    e.add_argument("--seed", type=int, default=None, help="seed of the eval episodes")
    e.add_argument("--json", action="store_true", help="print one JSON line")
    e.add_argument("--video", metavar="FILE", help="record the episodes, one after another, "
                   "from the env's rgb_array frames to FILE.mp4 or FILE.gif")
    e.add_argument("--fps", type=float, default=None, help="with --video: frames per second "
                   "(default: the env's render_fps)")
    e.add_argument("--opponent", metavar="WHO", help="play duels in the env's two-agent version "
                   "(self-play envs: thermorl/Dogfight-v0, module:factory) against: scripted "
                   "(the env's scripted pilot), latest (the run's own weights) or another run "
                   "DIR; prints wins, draws and losses (with --video: records the duels, the "
                   "seats alternating). A network opponent acts as the pilot does "
                   "(--deterministic or --stochastic)")
    e.add_argument("--trust-env-module", action="store_true", help=TRUST_HELP)
    x = sub.add_parser("export", help="write a run's deterministic policy as an ONNX model",
                       allow_abbrev=False, description="Write the deterministic actor (observation "
                       "normalization inside, one output per head; docs/export.md) as ONNX, then "
                       "check onnxruntime's actions against the policy's own on the env.")
    x.add_argument("run", metavar="DIR", help="run directory (or a checkpoint file)")
    x.add_argument("--checkpoint", default="latest", metavar="NAME",
                   help="which checkpoint of the run: latest (default) or best")
    x.add_argument("--format", default="onnx", choices=["onnx"], help="onnx (the only one)")
    x.add_argument("-o", "--output", required=True, metavar="FILE.onnx", help="where to write")
    x.add_argument("--check", type=int, default=256, metavar="N",
                   help="compare with the policy on N env observations (0: no check)")
    x.add_argument("--trust-env-module", action="store_true", help=TRUST_HELP)
    pl = sub.add_parser("plot", help="plot runs: return, and per head entropy vs target and "
                        "coefficient", allow_abbrev=False)
    pl.add_argument("runs", nargs="+", metavar="DIR", help="run directories, overlaid")
    pl.add_argument("-o", "--output", metavar="FILE.png",
                    help="where to write the PNG (default: DIR/plot.png of the first run)")
    pl.add_argument("--labels", nargs="+", metavar="NAME",
                    help="legend labels, one per run (with --group, one per configuration)")
    pl.add_argument("--group", action="store_true",
                    help="one curve per configuration (runs equal but for seed, as compare "
                    "groups them): the mean over its runs with a min-max band; DIR may then "
                    "also be a directory holding runs at any depth")
    c = sub.add_parser("compare", help="table of configurations: final return over seeds with "
                       "a bootstrap interval, entropy tracking error per head",
                       allow_abbrev=False, description="Group the runs under DIR... into "
                       "configurations (equal config.yaml but for seed, device, torch_threads "
                       "and log.*) and print one row each: runs, mean final deterministic eval "
                       "return, its 95% percentile bootstrap interval, min, max, and per head "
                       "with a learned target the mean |entropy - target| (docs/compare.md).")
    c.add_argument("runs", nargs="+", metavar="DIR",
                   help="run directories, or directories holding runs at any depth (a sweep)")
    c.add_argument("--json", action="store_true", help="print the result as one JSON object")
    ld = sub.add_parser("ladder", help="rate a self-play run's snapshots by a round robin of "
                        "duels (Elo, fitted)", allow_abbrev=False, description="Play every pair "
                        "of N snapshots of a self-play run (and the env's scripted pilot, which "
                        "anchors the ratings at 1200) in duels, seats alternating, and fit one "
                        "Elo rating each (Bradley-Terry); prints them by training step "
                        "(docs/dogfight.md#ratings-after-the-fact-a-ladder).")
    ld.add_argument("run", metavar="DIR", help="a self-play run directory (with snapshots/)")
    ld.add_argument("--snapshots", type=int, default=10, metavar="N",
                    help="how many snapshots, spread evenly over the run, first and last "
                    "included (default 10)")
    ld.add_argument("--duels", type=int, default=40, metavar="N",
                    help="duels per pair of players (default 40)")
    ld.add_argument("--no-scripted", dest="scripted", action="store_false",
                    help="leave the scripted pilot out (the first snapshot anchors at 1200)")
    ld.add_argument("--stochastic", dest="deterministic", action="store_false",
                    help="sample actions (default: each head's mode)")
    ld.add_argument("--seed", type=int, default=None, help="seed of the duels")
    ld.add_argument("--plot", metavar="FILE.png", help="also draw rating against step")
    ld.add_argument("--json", action="store_true", help="print the result as one JSON object")
    ld.add_argument("--trust-env-module", action="store_true", help=TRUST_HELP)
    return parser


def _structured_flags(extra: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Flags that reach inside a mapping field (`--entropy.heads.fire.mode fixed`), which
    argparse cannot list; returns them as overrides, and what is left over."""
    found: dict[str, str] = {}
    rest: list[str] = []
    valid = list(field_paths())
    i = 0
    while i < len(extra):
        arg = extra[i]
        key, eq, value = arg[2:].partition("=")
        if arg.startswith("--") and structured_prefix(key.replace("-", "_"), valid):
            if not eq:
                if i + 1 >= len(extra):
                    raise ThermorlError(f"option {arg!r} needs a value")
                value, i = extra[i + 1], i + 1
            found[key] = value
        else:
            rest.append(arg)
        i += 1
    return found, rest


def _unknown_flags(extra: Sequence[str], parser: argparse.ArgumentParser) -> None:
    flags = [a.split("=")[0] for a in extra if a.startswith("-")]
    if not extra:
        return
    if not flags:
        raise ThermorlError(f"unexpected argument {extra[0]!r}")
    known = [o for a in parser._actions for o in a.option_strings]
    near = difflib.get_close_matches(flags[0], known, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(near)}?" if near else f"; see {parser.prog} --help"
    raise ThermorlError(f"unknown option {flags[0]!r}{hint}")


def _default_run_dir(cfg: Config) -> Path:
    env = re.sub(r"[^A-Za-z0-9_.-]+", "_", cfg.env_id)
    return Path("runs") / f"{env}-{cfg.algo}-{time.strftime('%Y%m%d-%H%M%S')}"


def _resume_command(run_dir: Path, cfg: Config) -> str:
    """The command that continues a run this process started: its env's module (and its
    wrappers' modules) are ones the user chose, so the command trusts them."""
    own = env_module(cfg.env_id) or any(":" in name_of(w) for w in cfg.env_wrappers)
    trust = " --trust-env-module" if own else ""
    return f"thermorl train --resume {run_dir}{trust}"


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _resume_checkpoint(run_dir: Path, which: str | None) -> Path:
    """The checkpoint `--checkpoint` names: latest (default) or best of `run_dir`, or a file."""
    which = which or "latest"
    if which in ("latest", "best"):
        return checkpoint.find(run_dir, which)
    if not which.endswith(".pt"):
        raise ThermorlError(f"--checkpoint {which!r}: accepted: latest, best, or a path to a "
                            f".pt file")
    if not Path(which).is_file():
        raise ThermorlError(f"--checkpoint {which!r}: no such file")
    return Path(which)


def _check_total(run_dir: Path, step: int, total: int, given: bool) -> None:
    """A resumed run must have steps left to take: a total at or below the checkpoint's step
    would rewrite config.yaml and summary.json without training."""
    if total > step:
        return
    if given:
        raise ThermorlError(f"--total-timesteps {total:,} is not above the run's current step "
                            f"{step:,}; accepted: a total above {step:,}")
    raise ThermorlError(f"run {str(run_dir)!r} is already at step {step:,} of its {total:,}; to "
                        f"train on, give --total-timesteps above {step:,}")


def cmd_train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    overrides = {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg:")}
    if args.checkpoint is not None and not args.resume:
        raise ThermorlError(f"--checkpoint {args.checkpoint!r} is only accepted with --resume DIR")
    if args.resume:
        bad = sorted(set(overrides) - set(RESUME_CHANGES))
        if bad or args.config or args.env_pos:
            what = bad[0] if bad else ("--config" if args.config else args.env_pos)
            raise ThermorlError(f"{what!r} cannot change when resuming; accepted with --resume: "
                                + ", ".join(_flag(k.replace("_", "-")) for k in RESUME_CHANGES))
        run_dir = Path(args.resume)
        if not run_dir.is_dir():
            raise ThermorlError(f"--resume {str(run_dir)!r}: no such run directory")
        rundir.check_free(run_dir)  # before reading a checkpoint another process may replace
        ckpt = _resume_checkpoint(run_dir, args.checkpoint)
        state = checkpoint.load(ckpt)
        changes = resolve(overrides=overrides)[0]  # only to check the values
        given = "total_timesteps" in overrides
        total = (changes.total_timesteps if given
                 else int(yaml.safe_load(state["config"])["total_timesteps"]))
        _check_total(run_dir, int(state["global_step"]), total, given)  # before any write
        algo = ALGOS[state["algo"]].load(ckpt, run_dir=run_dir,
                                         trust_env_module=args.trust_env_module, **{
                                             k: dataclasses.asdict(changes)[k] for k in overrides})
        what = "" if args.checkpoint is None else f" from {ckpt}"
        moved = ("; it was written on another kind of device, so random draws go on from a new "
                 "seed" if algo.moved_device else "")
        _say(f"thermorl: resuming {run_dir}{what} at step {algo.global_step:,} of "
             f"{algo.config.total_timesteps:,}{moved}")
    else:
        if args.env_pos:  # a command-line value, so it beats the file like every flag
            overrides = {"env_id": args.env_pos, **overrides}
        cfg, preset = resolve(file=args.config, overrides=overrides)
        if not cfg.selfplay.enabled:  # a self-play env id names a two-agent env, checked there
            check_env_id(cfg.env_id)
        run_dir = Path(args.run_dir) if args.run_dir else _default_run_dir(cfg)
        rundir.check_free(run_dir)
        if (run_dir / "checkpoints").exists():
            raise ThermorlError(f"run directory {str(run_dir)!r} already holds a run; continue "
                                f"it with: thermorl train --resume {run_dir}")
        # built first: settings checked against the env's spaces fail before anything is said
        # or written (learn() creates the run directory's files)
        algo = ALGOS[cfg.algo](cfg.env_id, cfg, run_dir=run_dir)
        where = "" if algo.device.type == "cpu" else f", on {algo.device}"  # --device auto too
        _say(f"thermorl: {cfg.algo} on {cfg.env_id} for {cfg.total_timesteps:,} steps, seed "
             f"{cfg.seed}{where} -> {run_dir}")
        if preset:
            shown = ", ".join(f"{k}={v}" for k, v in
                              flatten(preset_for(preset, cfg.env_id, cfg.algo)[1]))
            why = (f"no preset for {cfg.env_id}, so the general one, chosen over 13 "
                   f"tasks (docs/defaults.md); " if preset == GENERAL
                   else f"{PRESET_NOTES[preset]}; " if preset in PRESET_NOTES else "")
            _say(f"thermorl: {why}preset {preset}: {shown} (override any with --SECTION.FIELD)")
        if algo.image is not None and cfg.policy.encoder == "auto":
            _say(f"thermorl: {describe(algo.image)}, so a convolutional encoder in front "
                 f"of the MLPs "
                 f"(docs/observation_spaces.md; --policy.encoder mlp flattens the pixels "
                 f"instead)")
        if cfg.algo == "sac" and cfg.sac.buffer_size is None and algo.buffer.capacity == \
                PIXEL_BUFFER:
            _say(f"thermorl: image observations, so a replay buffer of "
                 f"{algo.buffer.capacity:,} transitions (DrQ's; set --sac.buffer_size to change)")
    with algo:  # the envs and the event file are closed however training ends
        try:
            algo.learn()
        except TrainingInterrupted as e:
            code = 128 + e.signum
            _exit_quietly_on_signal(code)  # the checkpoint is saved: a second one just ends it
            by = "" if e.signum == signal.SIGINT else f" by {signal.Signals(e.signum).name}"
            where = f"checkpoint saved to {e.path}" if e.path else "no run directory"
            _say(f"\nthermorl: interrupted{by} at step {e.step:,}; {where}\n"
                 f"resume with: {_resume_command(run_dir, algo.config)}")
            return code
    ev = algo.final_eval or {}
    print(f"final eval: mean return {ev['mean_return']:.2f} +/- {ev['std_return']:.2f} over "
          f"{ev['episodes']} episodes ({'deterministic' if algo.config.eval.deterministic else 'stochastic'}); "
          f"{algo.global_step:,} steps in {algo.elapsed:.1f} s; run: {run_dir}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from . import sweep
    from .compare import compare_runs, format_table

    sweep.require_ray()  # before anything else: a missing extra is the first thing to say
    overrides = {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg:")}
    if args.env_pos:
        overrides = {"env_id": args.env_pos, **overrides}
    if args.max_concurrent is not None and args.max_concurrent < 1:
        raise ThermorlError(f"--max-concurrent must be a positive number of trials, got "
                            f"{args.max_concurrent}")
    trials = sweep.plan(args.out, overrides=overrides, grid=sweep.parse_grid(args.grid),
                        seeds=args.seeds, seed_start=args.seed_start, file=args.config)
    todo = [t for t in trials if t.state != sweep.DONE]
    checked: set[str] = set()
    for t in todo:  # settings the env's spaces reject fail here, once, before Ray starts
        combo = t.name.rpartition("/")[0]
        if combo not in checked:
            checked.add(combo)
            check_env_id(t.config.env_id)
            with ALGOS[t.config.algo](t.config.env_id, t.config):
                pass
    combos = len(trials) // args.seeds
    done, resumed = len(trials) - len(todo), sum(t.state == sweep.RESUME for t in todo)
    _say(f"thermorl: sweep of {combos} configuration{'s' * (combos != 1)} x {args.seeds} "
         f"seed{'s' * (args.seeds != 1)} = {len(trials)} trial{'s' * (len(trials) != 1)} -> "
         f"{args.out}"
         + (f"; {done} finished already (skipped)" if done else "")
         + (f"; {resumed} to resume from their latest checkpoint" if resumed else ""))
    errors: dict[str, str] = {}
    if todo:
        threads = max(t.config.torch_threads for t in todo)
        k = args.max_concurrent or (None if args.address else
                                    max(1, (os.cpu_count() or 1) // threads))
        _say(f"thermorl: running {len(todo)} trial{'s' * (len(todo) != 1)} on "
             + (f"the Ray cluster at {args.address}" if args.address else
                f"a local Ray, {k} at a time"))
        errors = sweep.run(todo, args.out, address=args.address, max_concurrent=k, say=_say)
    # in path order, as `thermorl compare DIR` lists them
    finished = sorted(t.run_dir for t in trials if (t.run_dir / "summary.json").is_file())
    if finished:
        print(format_table(compare_runs(finished)))
    if errors:
        _say(f"thermorl: {len(errors)} of {len(trials)} trials did not finish:")
        for name, error in errors.items():
            _say(f"  {name}: {error}")
        return 1
    return 0


def _exit_quietly_on_signal(code: int) -> None:
    """From here to the end of the process (closing envs, atexit handlers), a further Ctrl-C or
    SIGTERM exits at once with `code` instead of printing a traceback from wherever it lands."""
    def handler(signum: int, frame: Any) -> None:
        sys.stderr.flush()
        os._exit(code)

    if threading.current_thread() is threading.main_thread():  # the only place signals are set
        for s in STOP_SIGNALS:
            signal.signal(s, handler)


def _open_run(args: argparse.Namespace, **changes: Any) -> tuple[Path, Any]:
    """The checkpoint `--checkpoint` names in run `args.run`, and its algorithm loaded quietly
    (no progress bar, no event files), for eval and export."""
    ckpt = checkpoint.find(args.run, args.checkpoint)
    algo_name = checkpoint.load(ckpt)["algo"]
    return ckpt, ALGOS[algo_name].load(ckpt, trust_env_module=args.trust_env_module, **changes,
                                       **{"log": {"progress": "off", "tensorboard": False}})


def cmd_eval(args: argparse.Namespace) -> int:
    if args.episodes is None:
        args.episodes = 1 if args.video else 10
    if args.episodes < 1:
        raise ThermorlError(f"--episodes must be a positive integer, got {args.episodes}")
    if args.fps is not None and not args.fps > 0:
        raise ThermorlError(f"--fps must be a positive number, got {args.fps}")
    ckpt, algo = _open_run(args)
    with algo:
        if args.video:
            return _eval_video(algo, args, ckpt)
        if args.opponent is not None:
            return _eval_duels(algo, args, ckpt)
        ev = algo.evaluate(args.episodes, deterministic=args.deterministic, seed=args.seed)
    if args.json:
        print(json.dumps({"mean_return": ev["mean_return"], "std_return": ev["std_return"],
                          "episodes": ev["episodes"]}))
    else:
        outcomes = "".join(f", {o} {r:.0%}" for o, r in ev.get("outcomes", {}).items())
        print(f"{algo.config.env_id}: mean return {ev['mean_return']:.2f} +/- "
              f"{ev['std_return']:.2f} over {ev['episodes']} episodes{outcomes} "
              f"({'deterministic' if args.deterministic else 'stochastic'}, {ckpt})")
    return 0


@contextlib.contextmanager
def _opponent(pilot: Any, args: argparse.Namespace) -> Iterator[tuple[str | Any, str]]:
    """`--opponent`: "scripted", "latest", or a run directory (or checkpoint) loaded for the
    duels; yields (what play_duels / make_opponent take, its name for the report)."""
    who = args.opponent
    if who in ("scripted", "latest"):
        yield who, who
        return
    if not Path(who).exists():
        raise ThermorlError(f"--opponent {who!r}: accepted: scripted, latest, or a run "
                            f"directory (or checkpoint file); no such path")
    other_ckpt = checkpoint.find(who, args.checkpoint)
    other = ALGOS[checkpoint.load(other_ckpt)["algo"]].load(
        other_ckpt, device=pilot.config.device, trust_env_module=args.trust_env_module,
        **{"log": {"progress": "off", "tensorboard": False}})
    with other:
        yield other, str(other_ckpt)


def _eval_duels(pilot: Any, args: argparse.Namespace, ckpt: Path) -> int:
    from .selfplay.duels import play_duels

    with _opponent(pilot, args) as (opponent, who):
        res = play_duels(pilot, opponent, args.episodes, args.deterministic, _seed(args, pilot))
    mode = "deterministic" if args.deterministic else "stochastic"
    if args.json:
        print(json.dumps({"opponent": who, **{k: res[k] for k in
                                               ("win", "draw", "loss", "episodes")}}))
        return 0
    print(f"{pilot.config.env_id}: {ckpt} vs {who}: win {res['win']}, draw {res['draw']}, "
          f"loss {res['loss']} of {res['episodes']} duels (win rate {res['win_rate']:.0%}; "
          f"{mode})")
    return 0


def cmd_ladder(args: argparse.Namespace) -> int:
    from .selfplay.ladder import play_ladder, plot_ladder

    args.checkpoint = "latest"
    _, algo = _open_run(args)
    with algo:
        if not algo.config.selfplay.enabled:
            raise ThermorlError(f"{args.run} is not a self-play run (trained without "
                                f"--selfplay.enabled true): it has no snapshots to rate")

        def progress(done: int, total: int) -> None:
            if not args.json:
                sys.stderr.write(f"\rthermorl ladder: {done}/{total} pairs")
                sys.stderr.flush()

        lad = play_ladder(algo, args.run, args.snapshots, args.duels, _seed(args, algo),
                          scripted=args.scripted, deterministic=args.deterministic,
                          progress=progress)
    if not args.json:
        _say("")
    if args.plot:
        plot_ladder(lad, args.plot, title=str(args.run))
    out = lad.to_json()
    if args.json:
        print(json.dumps(out))
        return 0
    vs = f"{'score vs scripted':>20}" if lad.anchor == "scripted" else ""
    print(f"{'player':<24}{'step':>10}{'elo':>9}{'+/-':>7}{vs}")
    for row in out["ratings"]:
        step = "" if row["step"] is None else f"{row['step']:,}"
        extra = (f"{row['score_vs_scripted']:>20.2f}" if "score_vs_scripted" in row else "")
        print(f"{row['player']:<24}{step:>10}{row['elo']:>9.1f}{row['error']:>7.1f}{extra}")
    print(f"snapshots rise monotonically: {'yes' if out['monotonic'] else 'no'} "
          f"({args.duels} duels per pair, anchor {lad.anchor} = 1200)")
    return 0


def _seed(args: argparse.Namespace, algo: Any) -> int:
    return algo.config.seed + 10_000 if args.seed is None else args.seed


def _eval_video(algo: Any, args: argparse.Namespace, ckpt: Path) -> int:
    from .video import record

    vs, who = "", None
    if args.opponent is None:
        rec = record(algo, args.video, args.episodes, args.deterministic, args.seed, args.fps)
    else:  # duels in the two-agent env, the seats alternating from one episode to the next
        from .selfplay.duels import SeatEnv, make_opponent

        with _opponent(algo, args) as (opponent, who):
            seat = make_opponent(algo, opponent, args.deterministic, _seed(args, algo))
            rec = record(algo, args.video, args.episodes, args.deterministic, args.seed,
                         args.fps, env=lambda: SeatEnv(algo, seat, render_mode="rgb_array"))
        vs = f" vs {who}"
    mode = "deterministic" if args.deterministic else "stochastic"
    if args.json:
        print(json.dumps({**({"opponent": who} if who else {}),
                          **{k: rec[k] for k in ("path", "frames", "fps", "returns", "lengths",
                                                 "outcomes")}}))
        return 0
    outcomes = f"; outcomes {', '.join(rec['outcomes'])}" if rec["outcomes"] else ""
    returns = ", ".join(f"{r:.2f}" for r in rec["returns"])
    print(f"wrote {rec['path']}: {len(rec['returns'])} episode(s){vs}, {rec['frames']} frames at "
          f"{rec['fps']:g} fps; returns {returns}{outcomes} ({mode}, {ckpt})")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export_onnx, require

    if args.check < 0:
        raise ThermorlError(f"--check must be 0 or a positive number of observations, got "
                            f"{args.check}")
    require("onnx")  # before loading the run: a missing extra is the first thing to say
    out = Path(args.output)
    if not out.parent.is_dir():
        raise ThermorlError(f"cannot write {str(out)!r}: directory {str(out.parent)!r} does not "
                            f"exist")
    ckpt, algo = _open_run(args, device="cpu")
    with algo:
        info = export_onnx(algo, out, check=args.check)
    print(f"wrote {out} (opset {info['opset']}) from {ckpt}")
    print(f"  inputs:  {', '.join(info['inputs'])}")
    print(f"  outputs: {', '.join(info['outputs'])}")
    if "check" in info:
        c = info["check"]
        print(f"  checked: onnxruntime's actions equal predict(deterministic=True)'s on "
              f"{c['observations']} env observations (largest continuous difference "
              f"{c['max_abs_diff']:.2g})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
            argv = ["train", *argv]  # `thermorl` alone trains, as does `thermorl --seed 3`
        deep: dict[str, str] = {}
        if argv[0] in ("train", "sweep"):  # taken out first, or argparse would read a value
            deep, rest = _structured_flags(argv[1:])  # as the env id
            argv = [argv[0], *rest]
        args, extra = parser.parse_known_args(argv)
        if args.command in ("train", "sweep"):
            _unknown_flags(extra, parser._subparsers._group_actions[0].choices[args.command])
            for key, value in deep.items():
                setattr(args, f"cfg:{key}", value)
            return cmd_train(args, parser) if args.command == "train" else cmd_sweep(args)
        _unknown_flags(extra, parser)
        if args.command == "eval":
            return cmd_eval(args)
        if args.command == "export":
            return cmd_export(args)
        if args.command == "plot":
            from .plot import plot_runs
            print(plot_runs(args.runs, args.output, args.labels, group=args.group))
            return 0
        if args.command == "ladder":
            return cmd_ladder(args)
        if args.command == "compare":
            from .compare import compare_runs, format_table
            result = compare_runs(args.runs)
            print(json.dumps(result) if args.json else format_table(result))
            return 0
        parser.print_help()
        return 2
    except TrainingDiverged as e:
        _say(f"thermorl: stopped: {_one_line(e)}")
        return 1
    except ThermorlError as e:
        _say(f"thermorl: error: {_one_line(e)}")
        return 2
    except StoppedAtOnce as e:  # a second Ctrl-C or SIGTERM during training: no checkpoint
        _say(f"\nthermorl: stopped at once by {signal.Signals(e.signum).name}, without saving")
        return 128 + e.signum
    except KeyboardInterrupt:  # outside training (set-up, final eval)
        _say("\nthermorl: interrupted")
        return 130


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())


if __name__ == "__main__":
    sys.exit(main())
