"""thermorl against Stable-Baselines3 (sb3-contrib's RecurrentPPO for recurrent rows) on tasks
outside thermorl's own: each library's defaults, then rl-baselines3-zoo's set in both.

    python benchmarks/suite.py --json benchmarks/suite_results.json      # every row, 3 seeds
    python benchmarks/suite.py --row hopper-ppo --seeds 1 2 3            # one row
    python benchmarks/suite.py --row all --seeds 1 --scale 0.01          # a quick check

Every run happens in a fresh child process (this script again, with a hidden `--child` flag) with
one torch thread; the parent alternates the libraries (thermorl, SB3, thermorl, ...) so drift in
the machine's load falls on both. A child times `learn()` alone, then evaluates the final
policy deterministically over 10 episodes, with observation normalization frozen where a
setting normalizes. The parent prints one markdown row per (row, setting, library): the mean and
range over seeds of the evaluation return and of the wall time; `--json` keeps every run.

Settings: `defaults` is what each library does when given only the env (thermorl with the
`general` preset that `preset: auto` gives an env without a preset of its own, plus
`ppo.recurrent: lstm` on recurrent rows; SB3's `PPO("MlpPolicy", env)`,
sb3-contrib's `RecurrentPPO("MlpLstmPolicy", env)`); `zoo` is rl-baselines3-zoo's published set
for the task, translated to each library (`ZOO` below); `preset` is thermorl's own preset, on rows
that SB3 cannot run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import EVAL_EPISODES, EVAL_SEED_OFFSET, THREAD_VARS, _time_thermorl  # noqa: E402

MASKED_PENDULUM = {"env": "Pendulum-v1", "hide": [2]}  # its angular velocity hidden
ROWS: dict[str, dict[str, Any]] = {
    "halfcheetah-ppo": {"env_id": "HalfCheetah-v5", "total": 1_000_000,
                        "settings": ("defaults", "zoo"), "libs": ("thermorl", "sb3")},
    "hopper-ppo": {"env_id": "Hopper-v5", "total": 1_000_000,
                   "settings": ("defaults", "zoo"), "libs": ("thermorl", "sb3")},
    "pendulum-novel-lstm": {"env_id": "thermorl/MaskObservation-v0",
                            "env_kwargs": MASKED_PENDULUM, "total": 300_000, "recurrent": True,
                            "settings": ("defaults", "zoo"), "libs": ("thermorl", "sb3")},
    "memory-delay16": {"env_id": "thermorl/Memory-v0", "env_kwargs": {"delay": 16},
                       "total": 200_000, "recurrent": True, "settings": ("defaults",),
                       "libs": ("thermorl",)},
    # SB3 cannot take the duel's Dict action space; its opponent is the scripted pilot
    "dogfight-ppo": {"env_id": "thermorl/Dogfight-v0", "total": None, "settings": ("preset",),
                     "libs": ("thermorl",)},
}
# rl-baselines3-zoo's sets (hyperparams/ppo.yml "Tuned, 10 mujoco envs" for HalfCheetah-v3 and
# Hopper-v3; hyperparams/ppo_lstm.yml for PendulumNoVel-v1, whose gSDE becomes a plain Gaussian).
ZOO: dict[str, dict[str, Any]] = {
    "halfcheetah-ppo": {
        "normalize": True, "n_envs": 1, "n_steps": 512, "batch_size": 64, "n_epochs": 20,
        "gamma": 0.98, "gae_lambda": 0.92, "learning_rate": 2.0633e-5, "clip_range": 0.1,
        "ent_coef": 0.000401762, "vf_coef": 0.58096, "max_grad_norm": 0.8,
        "log_std_init": -2.0, "relu": True, "hidden": [256, 256]},
    "hopper-ppo": {
        "normalize": True, "n_envs": 1, "n_steps": 512, "batch_size": 32, "n_epochs": 5,
        "gamma": 0.999, "gae_lambda": 0.99, "learning_rate": 9.80828e-5, "clip_range": 0.2,
        "ent_coef": 0.00229519, "vf_coef": 0.835671, "max_grad_norm": 0.7,
        "log_std_init": -2.0, "relu": True, "hidden": [256, 256]},
    "pendulum-novel-lstm": {
        "normalize": False, "n_envs": 4, "n_steps": 1024, "batch_size": 128, "n_epochs": 10,
        "gamma": 0.9, "gae_lambda": 0.95, "learning_rate": 1e-3, "clip_range": 0.2,
        "ent_coef": 0.0, "vf_coef": 0.5, "max_grad_norm": 0.5},
}


# ---------------------------------------------------------------------------------------------
# children: each runs in its own process and prints one JSON line
# ---------------------------------------------------------------------------------------------
def thermorl_config(row: dict[str, Any], name: str, setting: str, total: int, seed: int) -> Any:
    import thermorl

    base = {"seed": seed, "device": "cpu", "torch_threads": 1,
            **({"total_timesteps": total} if total else {}),  # 0: the preset's budget
            "env_kwargs": row.get("env_kwargs", {}), "eval.freq": 0,
            "eval.episodes": EVAL_EPISODES, "eval.deterministic": True,
            "log.tensorboard": False, "log.progress": "off"}
    if setting == "defaults":  # what `preset: auto` gives an env without a preset of its own
        extra = {"preset": "general",
                 **({"ppo.recurrent": "lstm"} if row.get("recurrent") else {})}
    elif setting == "preset":
        extra = {"preset": "auto"}
    else:  # the zoo's set, spelled out (a MuJoCo preset is the same set; this cannot drift)
        z = ZOO[name]
        rollout = z["n_envs"] * z["n_steps"]
        extra = {
            "preset": "none", "ppo.num_envs": z["n_envs"], "ppo.num_steps": z["n_steps"],
            "ppo.num_minibatches": rollout // z["batch_size"], "ppo.update_epochs": z["n_epochs"],
            "ppo.gamma": z["gamma"], "ppo.gae_lambda": z["gae_lambda"],
            "ppo.learning_rate": z["learning_rate"], "ppo.clip_coef": z["clip_range"],
            "ppo.ent_coef": z["ent_coef"], "ppo.vf_coef": z["vf_coef"],
            "ppo.max_grad_norm": z["max_grad_norm"], "ppo.norm_obs": z["normalize"],
            "ppo.norm_reward": z["normalize"], "entropy.noise": {"beta": 0.0},
            **({"ppo.recurrent": "lstm"} if row.get("recurrent") else {}),
            **({"policy.hidden_sizes": z["hidden"]} if "hidden" in z else {}),
            **({"policy.activation": "relu"} if z.get("relu") else {}),
            **({"policy.log_std_init": z["log_std_init"]} if "log_std_init" in z else {}),
        }
    return thermorl.make_config(row["env_id"], **{**base, **extra})


def child_thermorl(row: dict[str, Any], name: str, setting: str, total: int,
                   seed: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    import thermorl

    cfg = thermorl_config(row, name, setting, total, seed)
    out = _time_thermorl(thermorl.PPO, cfg, {"env_id": cfg.env_id}, seed, "auto")
    out["total_timesteps"] = cfg.total_timesteps
    return out


def _sb3_env(row: dict[str, Any], n_envs: int, seed: int, normalize: bool) -> Any:
    import gymnasium as gym
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    import thermorl  # noqa: F401  registers thermorl's envs (the masked Pendulum)

    kwargs = row.get("env_kwargs", {})
    env = make_vec_env(lambda: gym.make(row["env_id"], **kwargs), n_envs=n_envs, seed=seed)
    return VecNormalize(env, norm_obs=True, norm_reward=True, clip_obs=10.0) if normalize \
        else env


def child_sb3(row: dict[str, Any], name: str, setting: str, total: int,
              seed: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    import stable_baselines3
    from stable_baselines3 import PPO
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import VecNormalize

    cls: Any = PPO
    policy = "MlpPolicy"
    if row.get("recurrent"):
        from sb3_contrib import RecurrentPPO

        cls, policy = RecurrentPPO, "MlpLstmPolicy"
    if setting == "defaults":
        env = _sb3_env(row, 1, seed, normalize=False)
        model = cls(policy, env, seed=seed, device="cpu", verbose=0)
    else:
        z = ZOO[name]
        env = _sb3_env(row, z["n_envs"], seed, z["normalize"])
        policy_kwargs: dict[str, Any] = {"ortho_init": False} if z.get("relu") else {}
        if "hidden" in z:
            policy_kwargs["net_arch"] = {"pi": z["hidden"], "vf": z["hidden"]}
        if z.get("relu"):
            policy_kwargs["activation_fn"] = torch.nn.ReLU
        if "log_std_init" in z:
            policy_kwargs["log_std_init"] = z["log_std_init"]
        model = cls(policy, env, n_steps=z["n_steps"], batch_size=z["batch_size"],
                    n_epochs=z["n_epochs"], gamma=z["gamma"], gae_lambda=z["gae_lambda"],
                    learning_rate=z["learning_rate"], clip_range=z["clip_range"],
                    ent_coef=z["ent_coef"], vf_coef=z["vf_coef"],
                    max_grad_norm=z["max_grad_norm"], policy_kwargs=policy_kwargs or None,
                    seed=seed, device="cpu", verbose=0)
    t0 = time.perf_counter()
    model.learn(total_timesteps=total)
    wall = time.perf_counter() - t0
    eval_env = _sb3_env(row, 1, seed + EVAL_SEED_OFFSET, normalize=False)
    if isinstance(env, VecNormalize):  # the training statistics, frozen
        eval_env = VecNormalize(eval_env, norm_obs=True, norm_reward=False, clip_obs=10.0,
                                training=False)
        eval_env.obs_rms = env.obs_rms
    mean, std = evaluate_policy(model, eval_env, n_eval_episodes=EVAL_EPISODES,
                                deterministic=True)
    return {"wall_s": wall, "steps": int(model.num_timesteps), "eval_mean": float(mean),
            "eval_std": float(std), "total_timesteps": total,
            "versions": {"stable_baselines3": stable_baselines3.__version__,
                         "torch": torch.__version__}}


# ---------------------------------------------------------------------------------------------
# parent
# ---------------------------------------------------------------------------------------------
def budget(name: str, scale: float) -> int | None:
    total = ROWS[name]["total"]
    if total is None:  # the preset's own budget
        if scale == 1.0:
            return None
        import thermorl

        total = thermorl.make_config(ROWS[name]["env_id"]).total_timesteps
    return max(int(total * scale), 2048)


def spawn(name: str, setting: str, lib: str, seed: int, total: int | None) -> dict[str, Any]:
    args = ["--child", lib, "--row", name, "--setting", setting, "--seeds", str(seed)]
    more = ["--total", str(total)] if total is not None else []
    return run_child(os.path.abspath(__file__), args + more)


def run_child(script: str, args: list[str]) -> dict[str, Any]:
    """Run `script args` in a fresh process with one thread per library; its last stdout line
    is the run's JSON, or the result says how it failed."""
    cmd = [sys.executable, script, *args]
    env = dict(os.environ, **{v: "1" for v in THREAD_VARS})
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return {"error": f"exit status {proc.returncode}", "stderr_tail": tail}


def spread(values: list[float], digits: int) -> str:
    if not values:
        return "-"
    return (f"{statistics.mean(values):,.{digits}f} ({min(values):,.{digits}f} to "
            f"{max(values):,.{digits}f})")


def table(runs: list[dict[str, Any]]) -> str:
    out = ["| row | setting | library | steps | eval return: mean (range) | wall s: mean (range) "
           "| seeds |", "|---|---|---|---:|---|---|---|"]
    keys = dict.fromkeys((r["row"], r["setting"], r["lib"]) for r in runs)
    for row, setting, lib in keys:
        ok = [r for r in runs if (r["row"], r["setting"], r["lib"]) == (row, setting, lib)
              and "error" not in r]
        failed = sum((r["row"], r["setting"], r["lib"]) == (row, setting, lib) and "error" in r
                     for r in runs)
        steps = f"{ok[0]['steps']:,}" if ok else "-"
        seeds = ", ".join(str(r["seed"]) for r in ok) + (f" ({failed} failed)" if failed else "")
        out.append(f"| {row} | {setting} | {lib} | {steps} | "
                   f"{spread([r['eval_mean'] for r in ok], 1)} | "
                   f"{spread([r['wall_s'] for r in ok], 0)} | {seeds} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--row", default="all", choices=[*ROWS, "all"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply every row's budget (a quick check: 0.01)")
    ap.add_argument("--json", metavar="FILE",
                    help="write every run to FILE; runs already there (same --scale) are skipped")
    ap.add_argument("--child", choices=("thermorl", "sb3"), help=argparse.SUPPRESS)
    ap.add_argument("--setting", help=argparse.SUPPRESS)
    ap.add_argument("--total", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        row = ROWS[args.row]
        child = child_thermorl if args.child == "thermorl" else child_sb3
        total = args.total or row["total"] or 0
        print(json.dumps(child(row, args.row, args.setting, total, args.seeds[0])), flush=True)
        return
    names = list(ROWS) if args.row == "all" else [args.row]
    runs: list[dict[str, Any]] = []
    if args.json and os.path.exists(args.json):  # resume: finished runs are kept and skipped
        with open(args.json) as f:
            kept = json.load(f)
        if kept.get("scale") == args.scale:
            runs = [r for r in kept["runs"] if "error" not in r]
    done = {(r["row"], r["setting"], r["lib"], r["seed"]) for r in runs}
    for name in names:
        row, total = ROWS[name], budget(name, args.scale)
        for setting in row["settings"]:
            for seed in args.seeds:
                for lib in row["libs"]:  # alternating: thermorl, SB3, thermorl, ...
                    if (name, setting, lib, seed) in done:
                        continue
                    print(f"{name} {setting} {lib} seed {seed} ...", file=sys.stderr, flush=True)
                    res = spawn(name, setting, lib, seed, total)
                    runs.append({"row": name, "setting": setting, "lib": lib, "seed": seed,
                                 **res})
                    if "error" in res:
                        print(res["stderr_tail"], file=sys.stderr)
                    if args.json:
                        with open(args.json + ".tmp", "w") as f:
                            json.dump({"scale": args.scale, "runs": runs}, f, indent=1)
                        os.replace(args.json + ".tmp", args.json)
    print(table(runs))


if __name__ == "__main__":
    main()
