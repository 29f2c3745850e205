"""thermorl PPO and SAC against Stable-Baselines3's: same env, hyperparameters and seed.

    python benchmarks/compare.py                                   # ppo-cartpole, 1 repeat
    python benchmarks/compare.py --case sac-pendulum --repeats 2   # SAC, Pendulum-v1, 20k steps
    python benchmarks/compare.py --case all --repeats 3 --floor --json results.json
    python benchmarks/compare.py --case all --total-timesteps 4096 --floor   # a quick check

Every run happens in a fresh child process (this script run again with a hidden `--child`
flag), so neither library inherits the other's memory, threads or import-time state. A child
sets torch to one thread, builds the model, times `learn()` alone, evaluates the final policy
deterministically over 10 episodes, and prints one JSON line that the parent reads. The parent
alternates the libraries (thermorl, SB3, thermorl, SB3, ...) so slow drift in the machine's load
falls on both, and prints per-run rows and per-case medians as markdown tables.

`--floor` also times stepping the same env the same number of steps with random actions
through a gymnasium vector env and nothing else: the least time any library could take.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Any

# One spec per case, in library-neutral names; each child translates it to its library.
CASES: dict[str, dict[str, Any]] = {
    # rl-baselines3-zoo's CartPole-v1 set: lr and clip range annealed linearly to 0.
    "ppo-cartpole": {
        "env_id": "CartPole-v1", "n_envs": 8, "n_steps": 32, "batch_size": 256,
        "n_epochs": 20, "gamma": 0.98, "gae_lambda": 0.8, "learning_rate": 1e-3,
        "anneal_lr": True, "clip_range": 0.2, "anneal_clip": True, "ent_coef": 0.0,
        "vf_coef": 0.5, "max_grad_norm": 0.5, "total_timesteps": 100_000,
    },
    # rl-baselines3-zoo's Pendulum-v1 set, with a plain state-independent Gaussian (no gSDE).
    "ppo-pendulum": {
        "env_id": "Pendulum-v1", "n_envs": 4, "n_steps": 1024, "batch_size": 64,
        "n_epochs": 10, "gamma": 0.9, "gae_lambda": 0.95, "learning_rate": 1e-3,
        "anneal_lr": False, "clip_range": 0.2, "anneal_clip": False, "ent_coef": 0.0,
        "vf_coef": 0.5, "max_grad_norm": 0.5, "total_timesteps": 100_000,
    },
    # SAC on Pendulum-v1 with lr 1e-3 and SB3's SAC defaults otherwise (256x256 ReLU nets,
    # state-dependent log-std, tanh squashing, alpha learned from 1.0 toward -dim).
    "sac-pendulum": {
        "algo": "sac", "env_id": "Pendulum-v1", "n_envs": 1, "learning_rate": 1e-3,
        "buffer_size": 1_000_000, "batch_size": 256, "tau": 0.005, "gamma": 0.99,
        "learning_starts": 100, "train_freq": 1, "gradient_steps": 1, "hidden": [256, 256],
        "total_timesteps": 20_000,
    },
}
HIDDEN = (64, 64)  # separate actor and critic MLPs, tanh, on both sides
EVAL_EPISODES = 10
EVAL_SEED_OFFSET = 10_000
LIBS = ("thermorl", "sb3")
PHASES = ("env", "inference", "update", "other")
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


# ---------------------------------------------------------------------------------------------
# children: each runs in its own process and prints one JSON line
# ---------------------------------------------------------------------------------------------
def peak_rss_mib() -> float:
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024  # bytes on macOS, else KiB


def planned_steps(spec: dict[str, Any], total: int) -> int:
    """Env steps both libraries actually take: whole rollouts until `total` is reached."""
    rollout = spec["n_envs"] * spec.get("n_steps", 1)
    return -(-total // rollout) * rollout


def child_thermorl(spec: dict[str, Any], total: int, seed: int, vec: str) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    import thermorl

    if spec.get("algo") == "sac":
        cfg = thermorl.make_config(spec["env_id"], **{
            "algo": "sac", "preset": "none", "seed": seed, "total_timesteps": total,
            "device": "cpu", "torch_threads": 1,
            **{f"sac.{k}": spec[k] for k in ("learning_rate", "buffer_size", "batch_size", "tau",
                                              "gamma", "learning_starts", "train_freq",
                                              "gradient_steps")},
            "sac.num_envs": spec["n_envs"], "sac.log_interval": 1000,
            "policy.hidden_sizes": spec["hidden"], "policy.activation": "relu",
            "entropy.mode": "learned", "entropy.constraint": "min", "entropy.target": "auto",
            "entropy.coef": 1.0, "entropy.lr": spec["learning_rate"],
            "eval.freq": 0, "eval.episodes": EVAL_EPISODES, "eval.deterministic": True,
            "log.tensorboard": False, "log.progress": "off",
        })
        return _time_thermorl(thermorl.SAC, cfg, spec, seed, vec)
    rollout = spec["n_envs"] * spec["n_steps"]
    if rollout % spec["batch_size"]:
        raise SystemExit(f"batch_size {spec['batch_size']} does not divide the rollout {rollout}")
    cfg = thermorl.make_config(spec["env_id"], **{
        "preset": "none",  # every setting below is explicit, so a preset cannot drift
        "seed": seed, "total_timesteps": total, "device": "cpu", "torch_threads": 1,
        "ppo.num_envs": spec["n_envs"], "ppo.num_steps": spec["n_steps"],
        "ppo.num_minibatches": rollout // spec["batch_size"],
        "ppo.update_epochs": spec["n_epochs"], "ppo.gamma": spec["gamma"],
        "ppo.gae_lambda": spec["gae_lambda"], "ppo.learning_rate": spec["learning_rate"],
        "ppo.anneal_lr": spec["anneal_lr"], "ppo.clip_coef": spec["clip_range"],
        "ppo.anneal_clip": spec["anneal_clip"], "ppo.ent_coef": spec["ent_coef"],
        "ppo.vf_coef": spec["vf_coef"], "ppo.max_grad_norm": spec["max_grad_norm"],
        "ppo.norm_adv": True, "ppo.clip_vloss": False, "ppo.target_kl": None,
        "ppo.norm_obs": False, "ppo.norm_reward": False,
        "policy.hidden_sizes": list(HIDDEN), "policy.activation": "tanh",
        "policy.log_std_init": 0.0, "policy.state_dependent_std": False,
        "entropy.mode": "fixed", "entropy.noise": {"beta": 0.0},  # white, as SB3 samples
        # no periodic evaluation, no event files, no progress bar: SB3 does none of these here
        "eval.freq": 0, "eval.episodes": EVAL_EPISODES, "eval.deterministic": True,
        "log.tensorboard": False, "log.progress": "off",
    })
    return _time_thermorl(thermorl.PPO, cfg, spec, seed, vec)


def _time_thermorl(cls: Any, cfg: Any, spec: dict[str, Any], seed: int,
                   vec: str) -> dict[str, Any]:
    import torch

    import thermorl

    if vec == "sync":  # a factory makes thermorl use gymnasium's SyncVectorEnv, as SB3 steps
        import functools

        import gymnasium as gym

        source: Any = functools.partial(gym.make, spec["env_id"])
    else:
        source = spec["env_id"]
    algo = cls(source, cfg)
    env_type = type(algo.envs.unwrapped).__name__

    # learn() ends with one evaluation of its own; time it apart so that only training counts.
    eval_s = 0.0
    evaluate = algo.evaluate

    def timed_evaluate(*args: Any, **kwargs: Any) -> Any:
        nonlocal eval_s
        t = time.perf_counter()
        try:
            return evaluate(*args, **kwargs)
        finally:
            eval_s += time.perf_counter() - t

    algo.evaluate = timed_evaluate  # type: ignore[method-assign]
    t0 = time.perf_counter()
    algo.learn()
    learn_s = time.perf_counter() - t0
    algo.evaluate = evaluate  # type: ignore[method-assign]
    ev = algo.evaluate(EVAL_EPISODES, deterministic=True, seed=seed + EVAL_SEED_OFFSET)
    return {
        "wall_s": learn_s - eval_s, "learn_call_s": learn_s, "builtin_eval_s": eval_s,
        "train_step_s": algo.elapsed, "breakdown": algo.time_breakdown(),
        "steps": int(algo.global_step),
        "updates": int(algo.updates), "eval_mean": ev["mean_return"],
        "eval_std": ev["std_return"], "env_type": env_type,
        "torch_threads": torch.get_num_threads(),
        "versions": {"thermorl": thermorl.__version__, "torch": torch.__version__,
                     "gymnasium": _version("gymnasium")},
    }


def child_sb3(spec: dict[str, Any], total: int, seed: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    if spec.get("algo") == "sac":
        from stable_baselines3 import SAC

        env = make_vec_env(spec["env_id"], n_envs=spec["n_envs"], seed=seed)
        sac = SAC(
            "MlpPolicy", env, learning_rate=spec["learning_rate"],
            buffer_size=spec["buffer_size"], learning_starts=spec["learning_starts"],
            batch_size=spec["batch_size"], tau=spec["tau"], gamma=spec["gamma"],
            train_freq=spec["train_freq"], gradient_steps=spec["gradient_steps"],
            ent_coef="auto", target_entropy="auto",
            policy_kwargs={"net_arch": list(spec["hidden"])}, seed=seed, device="cpu",
            verbose=0)
        return _time_sb3(sac, env, spec, total, seed, int)
    lr0, clip0 = spec["learning_rate"], spec["clip_range"]
    # SB3 calls a schedule with the fraction of training left, 1 at the start and 0 at the end
    lr = (lambda f: f * lr0) if spec["anneal_lr"] else lr0
    clip = (lambda f: f * clip0) if spec["anneal_clip"] else clip0
    env = make_vec_env(spec["env_id"], n_envs=spec["n_envs"], seed=seed)
    model = PPO(
        "MlpPolicy", env, learning_rate=lr, n_steps=spec["n_steps"],
        batch_size=spec["batch_size"], n_epochs=spec["n_epochs"], gamma=spec["gamma"],
        gae_lambda=spec["gae_lambda"], clip_range=clip, clip_range_vf=None,
        normalize_advantage=True, ent_coef=spec["ent_coef"], vf_coef=spec["vf_coef"],
        max_grad_norm=spec["max_grad_norm"], use_sde=False, target_kl=None,
        # SB3's defaults for MlpPolicy, spelled out so a change of defaults cannot go unseen
        policy_kwargs={"net_arch": {"pi": list(HIDDEN), "vf": list(HIDDEN)},
                       "activation_fn": torch.nn.Tanh, "log_std_init": 0.0},
        seed=seed, device="cpu", verbose=0,
    )
    return _time_sb3(model, env, spec, total, seed, lambda n: n // spec["n_epochs"])


def _time_sb3(model: Any, env: Any, spec: dict[str, Any], total: int, seed: int,
              updates: Any) -> dict[str, Any]:
    """Time `learn()` alone, then evaluate; `updates` turns SB3's gradient-step count into
    the case's unit."""
    import stable_baselines3
    import torch
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    timing = dict.fromkeys(("env", "collect", "update"), 0.0)

    def timed(fn: Any, key: str) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                timing[key] += time.perf_counter() - t
        return wrapper

    # instance attributes shadow the methods SB3 calls on itself: the same phases as thermorl's
    env.step_wait = timed(env.step_wait, "env")
    model.collect_rollouts = timed(model.collect_rollouts, "collect")
    model.train = timed(model.train, "update")
    t0 = time.perf_counter()
    model.learn(total_timesteps=total)
    learn_s = time.perf_counter() - t0
    breakdown = {"env": timing["env"], "inference": timing["collect"] - timing["env"],
                 "update": timing["update"]}
    breakdown["other"] = max(learn_s - sum(breakdown.values()), 0.0)
    eval_env = make_vec_env(spec["env_id"], n_envs=1, seed=seed + EVAL_SEED_OFFSET)
    mean, std = evaluate_policy(model, eval_env, n_eval_episodes=EVAL_EPISODES,
                                deterministic=True)
    return {
        "wall_s": learn_s, "learn_call_s": learn_s, "breakdown": breakdown,
        "steps": int(model.num_timesteps),
        "updates": int(updates(model._n_updates)),
        "eval_mean": float(mean), "eval_std": float(std), "env_type": type(env).__name__,
        "torch_threads": torch.get_num_threads(),
        "versions": {"stable_baselines3": stable_baselines3.__version__,
                     "torch": torch.__version__, "gymnasium": _version("gymnasium")},
    }


def child_floor(spec: dict[str, Any], total: int, seed: int, vec: str) -> dict[str, Any]:
    import gymnasium as gym

    mode = "vector_entry_point" if vec == "native" else "sync"
    envs = gym.make_vec(spec["env_id"], spec["n_envs"], vectorization_mode=mode)
    iters = planned_steps(spec, total) // spec["n_envs"]
    envs.action_space.seed(seed)
    actions = [envs.action_space.sample() for _ in range(iters)]  # drawn before the clock runs
    envs.reset(seed=seed)
    t0 = time.perf_counter()
    for a in actions:
        envs.step(a)
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "steps": iters * spec["n_envs"], "env_type": type(envs).__name__,
            "versions": {"gymnasium": gym.__version__}}


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def run_child(args: argparse.Namespace) -> None:
    spec = CASES[args.case]
    total = args.total_timesteps or spec["total_timesteps"]
    if args.child == "thermorl":
        out = child_thermorl(spec, total, args.seed, args.thermorl_vec)
    elif args.child == "sb3":
        out = child_sb3(spec, total, args.seed)
    else:
        out = child_floor(spec, total, args.seed, args.floor_vec)
    out["peak_rss_mib"] = peak_rss_mib()
    out["steps_per_s"] = out["steps"] / out["wall_s"] if out["wall_s"] > 0 else None
    sys.stdout.flush()
    print(json.dumps(out), flush=True)  # the last line of stdout is what the parent reads


# ---------------------------------------------------------------------------------------------
# parent: schedule the children, collect their lines, print the tables
# ---------------------------------------------------------------------------------------------
def spawn(args: argparse.Namespace, case: str, child: str, extra: list[str]) -> dict[str, Any]:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", child, "--case", case,
           "--seed", str(args.seed), *extra]
    if args.total_timesteps:
        cmd += ["--total-timesteps", str(args.total_timesteps)]
    env = dict(os.environ, **{v: "1" for v in THREAD_VARS})
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return {"error": f"exit status {proc.returncode}", "stderr_tail": tail}
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError:
        return {"error": "no JSON line from the child", "stdout_tail": lines[-5:]}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def fmt(x: Any, digits: int = 2) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def median_of(rows: list[dict[str, Any]], key: str) -> float | None:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def run_case(args: argparse.Namespace, case: str) -> tuple[list, list]:
    spec = CASES[case]
    total = args.total_timesteps or spec["total_timesteps"]
    runs: list[dict[str, Any]] = []
    floors: list[dict[str, Any]] = []
    if args.floor:
        import gymnasium as gym  # only to learn whether the env has a native vector env

        modes = ["sync"] + (["native"] if gym.spec(spec["env_id"]).vector_entry_point else [])
        for rep in range(args.repeats):
            for mode in modes:
                log(f"{case}: floor ({mode}) {rep + 1}/{args.repeats}")
                res = spawn(args, case, "floor", ["--floor-vec", mode])
                if "error" in res:
                    log(f"  failed: {res['error']}\n{res.get('stderr_tail', '')}")
                floors.append({"case": case, "vec": mode, "repeat": rep + 1, **res})
    for rep in range(args.repeats):
        for lib in LIBS:  # A B A B: drift in the machine's load falls on both
            log(f"{case}: {lib} {rep + 1}/{args.repeats} ({total:,} steps)")
            extra = ["--thermorl-vec", args.thermorl_vec] if lib == "thermorl" else []
            res = spawn(args, case, lib, extra)
            if "error" in res:
                log(f"  failed: {res['error']}\n{res.get('stderr_tail', '')}")
            runs.append({"case": case, "lib": lib, "repeat": rep + 1, **res})
    # Each run's multiple of the floor of the vector env it stepped: SB3's DummyVecEnv steps
    # envs one by one like gymnasium's sync vector env; thermorl uses an env's native vector
    # env where gymnasium has one (CartPole-v1), unless --thermorl-vec sync.
    floor_med = {m: median_of([f for f in floors if f["vec"] == m and "error" not in f],
                              "wall_s") for m in ("sync", "native")}
    for r in runs:
        mode = "sync"
        if r["lib"] == "thermorl" and r.get("env_type") not in (None, "SyncVectorEnv"):
            mode = "native"
        r["floor_vec"] = mode if floor_med.get(mode) else None
        r["x_floor"] = ratio(r.get("wall_s"), floor_med.get(mode))
    return runs, floors


def summarize(case: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = {lib: [r for r in runs if r["lib"] == lib and "error" not in r] for lib in LIBS}
    s: dict[str, Any] = {"case": case, "runs": {lib: len(ok[lib]) for lib in LIBS}}
    for key in ("wall_s", "steps_per_s", "peak_rss_mib", "eval_mean", "x_floor"):
        for lib in LIBS:
            s[f"{lib}_{key}"] = median_of(ok[lib], key)
    s["wall_ratio"] = ratio(s["thermorl_wall_s"], s["sb3_wall_s"])
    s["rss_ratio"] = ratio(s["thermorl_peak_rss_mib"], s["sb3_peak_rss_mib"])
    return s


def print_tables(runs: list, floors: list, summaries: list) -> None:
    print("\n## Runs\n")
    print("| case | run | library | env steps | wall s | steps/s | peak RSS MiB "
          "| eval return (10 ep) | x floor |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for case in dict.fromkeys(r["case"] for r in runs):  # each case's floors, then runs
        for f in (f for f in floors if f["case"] == case):
            if "error" in f:
                print(f"| {case} | {f['repeat']} | floor ({f['vec']}) "
                      f"| failed: {f['error']} | | | | | |")
                continue
            print(f"| {f['case']} | {f['repeat']} | floor ({f['vec']}, {f['env_type']}) "
                  f"| {fmt(f['steps'])} | {fmt(f['wall_s'])} | {fmt(f['steps_per_s'], 0)} "
                  f"| {fmt(f['peak_rss_mib'], 0)} | - | 1.00 |")
        for r in (r for r in runs if r["case"] == case):
            if "error" in r:
                print(f"| {case} | {r['repeat']} | {r['lib']} | failed: {r['error']} "
                      "| | | | | |")
                continue
            floor = f"{fmt(r['x_floor'])} ({r['floor_vec']})" if r.get("x_floor") else "-"
            print(f"| {r['case']} | {r['repeat']} | {r['lib']} ({r['env_type']}) "
                  f"| {fmt(r['steps'])} | {fmt(r['wall_s'])} | {fmt(r['steps_per_s'], 0)} "
                  f"| {fmt(r['peak_rss_mib'], 0)} | {r['eval_mean']:.1f} ± {r['eval_std']:.1f} "
                  f"| {floor} |")
    print("\n## Summary (medians over repeats; ratios are thermorl / SB3)\n")
    print("| case | runs | thermorl wall s | SB3 wall s | wall ratio | thermorl RSS MiB "
          "| SB3 RSS MiB | RSS ratio | thermorl return | SB3 return |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in summaries:
        n = s["runs"]
        print(f"| {s['case']} | {n['thermorl']}+{n['sb3']} | {fmt(s['thermorl_wall_s'])} "
              f"| {fmt(s['sb3_wall_s'])} | {fmt(s['wall_ratio'])} "
              f"| {fmt(s['thermorl_peak_rss_mib'], 0)} | {fmt(s['sb3_peak_rss_mib'], 0)} "
              f"| {fmt(s['rss_ratio'])} | {fmt(s['thermorl_eval_mean'], 1)} "
              f"| {fmt(s['sb3_eval_mean'], 1)} |")
    print("\n## Where the time goes (medians, seconds: env stepping / rollout inference / "
          "gradient updates / other)\n")
    print("| case | thermorl | SB3 |")
    print("|---|---|---|")
    for case in dict.fromkeys(r["case"] for r in runs):
        cells = []
        for lib in LIBS:
            rows = [r["breakdown"] for r in runs
                    if r["case"] == case and r["lib"] == lib and "breakdown" in r]
            cells.append(" / ".join(fmt(statistics.median(b[k] for b in rows))
                                    for k in PHASES) if rows else "-")
        print(f"| {case} | {cells[0]} | {cells[1]} |")
    print("\nwall s: `learn()` only (model construction and the final evaluation excluded); "
          "x floor: wall s over the median time to step the same vector env the same number of "
          "steps with random actions.")


def machine_info() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                       cpu)
    except OSError:
        pass
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpu": cpu,
            "cpu_count": os.cpu_count()}
    if hasattr(os, "getloadavg"):
        info["loadavg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="thermorl vs Stable-Baselines3 (PPO and SAC) on the same env, "
                    "hyperparameters and seed; each run in a fresh process with one torch "
                    "thread.")
    ap.add_argument("--case", default="ppo-cartpole", choices=[*CASES, "all"],
                    help="benchmark case (default: ppo-cartpole; all: every case)")
    ap.add_argument("--repeats", type=int, default=1,
                    help="runs per library, alternating thermorl and SB3 (default: 1)")
    ap.add_argument("--seed", type=int, default=1, help="seed for both libraries (default: 1)")
    ap.add_argument("--total-timesteps", type=int, default=None,
                    help="override the case's budget (e.g. 4096 for a quick check)")
    ap.add_argument("--floor", action="store_true",
                    help="also time stepping the env with random actions alone, and report "
                         "each run's wall time as a multiple of it")
    ap.add_argument("--thermorl-vec", choices=("auto", "sync"), default="auto",
                    help="thermorl's vector env: auto (its default: an env's native vector "
                         "env where gymnasium has one) or sync (SyncVectorEnv, stepping envs "
                         "one by one as SB3's DummyVecEnv does)")
    ap.add_argument("--json", metavar="FILE", help="write every result to FILE")
    ap.add_argument("--child", choices=(*LIBS, "floor"), help=argparse.SUPPRESS)
    ap.add_argument("--floor-vec", choices=("sync", "native"), default="sync",
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    if args.total_timesteps is not None and args.total_timesteps < 1:
        ap.error("--total-timesteps must be at least 1")
    if args.child:
        if args.case == "all":
            ap.error("--child needs one case")
        run_child(args)
        return 0

    cases = list(CASES) if args.case == "all" else [args.case]
    info = machine_info()
    log(f"machine: {info['cpu']} ({info['cpu_count']} logical CPUs), "
        f"load {info.get('loadavg_at_start', '?')}")
    all_runs: list[dict[str, Any]] = []
    all_floors: list[dict[str, Any]] = []
    summaries: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for case in cases:
        runs, floors = run_case(args, case)
        all_runs += runs
        all_floors += floors
        summaries.append(summarize(case, runs))
    versions: dict[str, str] = {}
    for r in all_runs:
        versions.update(r.get("versions", {}))
    print_tables(all_runs, all_floors, summaries)
    print(f"\n{''.join(f'{k} {v}, ' for k, v in sorted(versions.items()))}"
          f"python {info['python']}; {info['cpu']}; seed {args.seed}; "
          f"{args.repeats} repeat(s); total {time.perf_counter() - t0:.0f} s")
    if args.json:
        out = {"args": {k: v for k, v in vars(args).items() if k not in ("child", "floor_vec")},
               "machine": info, "versions": versions,
               "cases": {c: CASES[c] for c in cases}, "runs": all_runs, "floors": all_floors,
               "summary": summaries}
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
        log(f"wrote {args.json}")
    failed = [r for r in all_runs + all_floors if "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
