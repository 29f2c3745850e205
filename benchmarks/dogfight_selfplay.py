"""Self-play on Dogfight, measured: for each finished self-play run, its own final evaluation
against the scripted pilot, its periodic evaluations, its online Elo, and a ladder of its
snapshots (`thermorl ladder`); all into one JSON, and the ladders into one plot.

    thermorl train thermorl/Dogfight-v0 --selfplay.enabled true --seed 1 --run-dir runs/sp1
    python benchmarks/dogfight_selfplay.py runs/sp1 runs/sp2 --label defaults \\
        --json benchmarks/dogfight_selfplay.json --plot docs/img/dogfight_ladder.png

Runs already in the JSON (same run directory) are kept, so groups can be added one at a time;
--plot draws every run in the JSON (or those with `--plot-labels`), one line per run, coloured
by label.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import yaml

from thermorl import checkpoint
from thermorl.algos import PPO
from thermorl.selfplay.ladder import play_ladder


def measure(run: Path, label: str, snapshots: int, duels: int) -> dict:
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    summary = json.loads((run / "summary.json").read_text())
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    ckpt = checkpoint.find(run, "latest")
    algo = PPO.load(ckpt, **{"log": {"progress": "off", "tensorboard": False}})
    with algo:
        lad = play_ladder(algo, run, snapshots, duels, seed=cfg["seed"] + 10_000)
    return {
        "run": str(run), "label": label, "seed": cfg["seed"], "selfplay": cfg["selfplay"],
        "entropy_heads": cfg["entropy"]["heads"], "preset": cfg.get("preset"),
        "ppo": {k: cfg["ppo"][k] for k in ("num_envs", "num_steps", "num_minibatches",
                                          "learning_rate", "anneal_lr")},
        "wall_s": summary["wall_time_s"],
        "final_eval_vs_scripted": summary["final_eval"]["outcome_counts"],
        "eval_vs_scripted_win": [[int(r["global_step"]), float(r["eval/vs_scripted/win"])]
                                 for r in rows if r.get("eval/vs_scripted/win", "") != ""],
        "online_elo": [[int(r["global_step"]), round(float(r["selfplay/elo"]), 1)]
                       for r in rows[::10] if r.get("selfplay/elo", "") != ""],
        "ladder": {"snapshots": snapshots, "duels_per_pair": duels, **lad.to_json()},
    }


def plot(runs: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = sorted({r["label"] for r in runs})
    colours = dict(zip(labels, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    fig, ax = plt.subplots(figsize=(7.2, 4.0))
    named: set[str] = set()  # one legend entry per label: a line per run would crowd it
    for r in runs:
        rows = [x for x in r["ladder"]["ratings"] if x["step"] is not None]
        label = None
        if r["label"] not in named:
            named.add(r["label"])
            seeds = sorted(q["seed"] for q in runs if q["label"] == r["label"])
            label = f"{r['label']} (seeds {', '.join(map(str, seeds))})"
        ax.errorbar([x["step"] for x in rows], [x["elo"] for x in rows],
                    yerr=[x["error"] for x in rows], fmt="o-", ms=3, capsize=2, lw=1,
                    color=colours[r["label"]], alpha=0.85, label=label)
    ax.axhline(1200, color="grey", ls="--", lw=1, label="scripted pilot (1200)")
    ax.set_xlabel("training step of the snapshot")
    ax.set_ylabel("Elo (round robin, fitted)")
    ax.set_title("Dogfight self-play: snapshots rated by a ladder (± one standard error)",
                 fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="*", type=Path, help="self-play run directories")
    p.add_argument("--label", default="defaults", help="the runs' group in table and plot")
    p.add_argument("--snapshots", type=int, default=10)
    p.add_argument("--duels", type=int, default=40)
    p.add_argument("--json", type=Path, required=True)
    p.add_argument("--plot", type=Path)
    p.add_argument("--plot-labels", nargs="+", metavar="LABEL",
                   help="draw only the runs with these labels (default: every run)")
    a = p.parse_args()
    data = json.loads(a.json.read_text()) if a.json.exists() else {"runs": []}
    done = {r["run"] for r in data["runs"]}
    for run in a.runs:
        if str(run) in done:
            continue
        data["runs"].append(measure(run, a.label, a.snapshots, a.duels))
        a.json.write_text(json.dumps(data, indent=1))
        r = data["runs"][-1]
        print(f"{run}: seed {r['seed']}, final {r['final_eval_vs_scripted']}, ladder "
              f"{[x['elo'] for x in r['ladder']['ratings']]}", flush=True)
    if a.plot:
        plot([r for r in data["runs"] if not a.plot_labels or r["label"] in a.plot_labels],
             a.plot)


if __name__ == "__main__":
    main()
