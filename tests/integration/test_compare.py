"""`thermorl compare` and `thermorl plot --group` over hand-written run directories in the
formats training writes (config.yaml, summary.json, metrics.csv), and over two real runs."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from test_cli_errors import assert_one_line_error

from thermorl.compare import compare_runs, find_runs, group_runs, load_run, tracking_error
from thermorl.errors import ThermorlError
from thermorl.plot import build_figure
from thermorl.stats import bootstrap_ci

pytest.importorskip("matplotlib")

# The shape of a resolved config.yaml, cut to the sections these tests vary or ignore.
BASE = {
    "env_id": "CartPole-v1", "algo": "ppo", "total_timesteps": 1024, "seed": 1,
    "device": "cpu", "torch_threads": 1, "preset": "CartPole-v1", "env_kwargs": {},
    "ppo": {"num_envs": 8, "learning_rate": 0.001, "anneal_lr": True},
    "policy": {"hidden_sizes": [64, 64], "activation": "tanh"},
    "entropy": {"mode": "learned", "target": {"fraction": 0.5}, "heads": {}},
    "eval": {"freq": None, "episodes": 10, "deterministic": True},
    "log": {"tensorboard": True, "progress": "off", "checkpoint_freq": 10},
    "runners": {"backend": "local", "num": 2, "address": None},
}
HEADER = ("global_step,loss/policy,entropy/action,alpha/action,target_entropy/action,"
          "entropy_error/action,episode/return,eval/mean_return")
TARGET = 0.35


def _config(**changes: object) -> dict:
    cfg = copy.deepcopy(BASE)
    for key, value in changes.items():
        *path, last = key.split(".")
        node = cfg
        for p in path:
            node = node[p]
        node[last] = value
    return cfg


def _metrics(entropies: list[float], learned: bool = True, steps: list[int] | None = None,
             returns: list[float] | None = None) -> str:
    """metrics.csv as training writes it; a fixed-coefficient run logs target_entropy too (the
    default target, pursued by nothing) but no entropy_error."""
    steps = steps or [256 * (i + 1) for i in range(len(entropies))]
    returns = returns or [10.0 * (i + 1) for i in range(len(entropies))]
    rows = [HEADER if learned else HEADER.replace(",entropy_error/action", "")]
    for i, (s, h, r) in enumerate(zip(steps, entropies, returns)):
        err = [f"{h - TARGET}"] if learned else []
        ev = f"{r + 5}" if i % 2 else ""  # evaluation on every other row, blank otherwise
        rows.append(",".join([str(s), "-0.01", f"{h}", "0.05", f"{TARGET}", *err, f"{r}", ev]))
    return "\n".join(rows) + "\n"


def make_run(root: Path, rel: str, config: dict, final_return: float | None,
             metrics: str | None = None) -> Path:
    d = root / rel
    d.mkdir(parents=True)
    (d / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (d / "metrics.csv").write_text(metrics or _metrics([0.6, 0.4]))
    (d / "checkpoints").mkdir()
    if final_return is not None:
        (d / "summary.json").write_text(json.dumps({
            "env_id": config["env_id"], "algo": config["algo"], "global_step": 1024,
            "updates": 4, "final_eval": {"mean_return": final_return, "std_return": 1.5,
                                         "episodes": 10, "mean_length": final_return}}, indent=2))
    return d


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    """Two configurations: lr 1e-3 with a learned entropy target (3 seeds plus one that
    differs only in device, threads and logging; one more interrupted), and lr 3e-4 with a
    fixed coefficient (2 seeds)."""
    root = tmp_path / "out"
    # last half of 4 rows = rows 2 and 3: errors (0.15 + 0.05)/2 = 0.1, (0 + 0.1)/2 = 0.05, 0
    make_run(root, "lr=1e-3/seed=1", _config(seed=1), 100.0, _metrics([1.0, 0.8, 0.5, 0.3]))
    make_run(root, "lr=1e-3/seed=2", _config(seed=2), 200.0, _metrics([1.0, 0.8, 0.35, 0.45]))
    make_run(root, "lr=1e-3/seed=3", _config(seed=3), 300.0, _metrics([1.0, 0.8, 0.35, 0.35]))
    # where it ran and how it logged: the same configuration, a fourth seed (error 0.05 again)
    make_run(root, "lr=1e-3/seed=4", _config(**{"seed": 4, "device": "cuda", "torch_threads": 4,
                                                "log.progress": "on", "log.tensorboard": False,
                                                "runners.backend": "ray", "runners.num": 4,
                                                "runners.address": "127.0.0.1:6379"}),
             400.0, _metrics([1.0, 0.8, 0.3, 0.4]))
    make_run(root, "lr=1e-3/seed=5", _config(seed=5), None)  # interrupted: no summary.json
    cfg = {"ppo.learning_rate": 0.0003, "entropy.mode": "fixed"}
    make_run(root, "lr=3e-4/seed=1", _config(seed=1, **cfg), 50.0, _metrics([0.7, 0.6], False))
    make_run(root, "lr=3e-4/seed=2", _config(seed=2, **cfg), 70.0, _metrics([0.7, 0.6], False))
    return root


LR3_NAME = "ppo.learning_rate=0.001, entropy.mode=learned"
LR4_NAME = "ppo.learning_rate=0.0003, entropy.mode=fixed"


def test_find_runs_walks_any_depth_and_dedupes(sweep: Path) -> None:
    runs = find_runs([sweep, sweep / "lr=3e-4" / "seed=1"])
    assert [str(r.relative_to(sweep)) for r in runs] == [
        "lr=1e-3/seed=1", "lr=1e-3/seed=2", "lr=1e-3/seed=3", "lr=1e-3/seed=4",
        "lr=1e-3/seed=5", "lr=3e-4/seed=1", "lr=3e-4/seed=2"]
    assert find_runs([sweep / "lr=1e-3" / "seed=2"]) == [sweep / "lr=1e-3" / "seed=2"]


def test_grouping_ignores_seed_device_threads_runners_and_log(sweep: Path) -> None:
    configs = group_runs([load_run(d) for d in find_runs([sweep])])
    assert [c.name for c in configs] == [LR3_NAME, LR4_NAME]
    assert configs[0].differs == {"ppo.learning_rate": 0.001, "entropy.mode": "learned"}
    assert [r.path.name for r in configs[0].runs] == [f"seed={i}" for i in range(1, 6)]
    assert [r.path.name for r in configs[1].runs] == ["seed=1", "seed=2"]


def test_one_configuration_is_named_by_env_and_algo(sweep: Path) -> None:
    (c,) = group_runs([load_run(d) for d in find_runs([sweep / "lr=1e-3"])])
    assert c.name == "CartPole-v1 ppo" and c.differs == {}


def test_a_key_only_some_configs_have_names_its_absence(tmp_path: Path) -> None:
    with_key = _config()
    with_key["entropy"]["heads"] = {"action": {"mode": "fixed"}}
    make_run(tmp_path, "a", _config(), 1.0)
    make_run(tmp_path, "b", with_key, 2.0)
    names = [c.name for c in group_runs([load_run(d) for d in find_runs([tmp_path])])]
    assert names == ["entropy.heads.action.mode=(absent)", "entropy.heads.action.mode=fixed"]


def test_tracking_error_uses_the_last_half_of_rows() -> None:
    nan = float("nan")
    m = {"entropy/a": np.array([9.0, 9.0, 1.0, nan, 2.0]),
         "target_entropy/a": np.array([0.0, 0.0, 0.5, 0.5, 1.0])}
    # 5 rows: rows 2..4; the row without an entropy is left out: (0.5 + 1.0) / 2
    assert tracking_error(m, "a") == pytest.approx(0.75)
    assert tracking_error(m, "b") is None
    assert tracking_error({"entropy/a": np.array([1.0]), "target_entropy/a": np.array([nan])},
                          "a") is None


def test_compare_runs_numbers(sweep: Path) -> None:
    res = compare_runs([sweep])
    lr3, lr4 = res["configurations"]
    assert res["heads"] == ["action"]
    assert (lr3["runs"], lr3["final_returns"]) == (4, [100.0, 200.0, 300.0, 400.0])
    assert lr3["mean_return"] == 250.0 and (lr3["min"], lr3["max"]) == (100.0, 400.0)
    assert lr3["ci"] == list(bootstrap_ci([100.0, 200.0, 300.0, 400.0]))
    assert lr3["entropy_tracking_error"]["action"] == pytest.approx((0.1 + 0.05 + 0 + 0.05) / 4)
    assert (lr4["runs"], lr4["mean_return"], lr4["ci"]) == (2, 60.0, [50.0, 70.0])
    # a fixed coefficient logs a target too, but nothing steered the entropy to it
    assert lr4["entropy_tracking_error"] == {"action": None}
    assert res["skipped"] == [str(sweep / "lr=1e-3" / "seed=5")]


def _table(out: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()]


def test_cli_table(run_cli, sweep: Path) -> None:
    r = run_cli("compare", sweep)
    assert r.rc == 0 and r.err == "", r
    header, row3, row4, explained, note = _table(r.out)
    assert header == ["configuration", "runs", "mean return", "95% CI", "min", "max",
                      "|H-target| action"]
    lo, hi = bootstrap_ci([100.0, 200.0, 300.0, 400.0])
    assert row3 == [LR3_NAME, "4", "250.00", f"[{lo:.2f}, {hi:.2f}]", "100.00", "400.00",
                    "0.0500"]
    assert row4 == [LR4_NAME, "2", "60.00", "[50.00, 70.00]", "50.00", "70.00", "-"]
    assert "percentile bootstrap" in explained[0] and "10,000 resamples (seed 0)" in explained[0]
    assert note == [f"skipped 1 run without a final evaluation (interrupted or still training): "
                    f"{sweep / 'lr=1e-3' / 'seed=5'}"]
    # reproducible: the bootstrap's seed is fixed
    assert run_cli("compare", sweep).out == r.out


def test_cli_json(run_cli, sweep: Path) -> None:
    r = run_cli("compare", sweep, "--json")
    assert r.rc == 0, r
    res = json.loads(r.out)
    assert res == json.loads(json.dumps(compare_runs([sweep])))
    assert [c["name"] for c in res["configurations"]] == [LR3_NAME, LR4_NAME]
    assert res["configurations"][1]["entropy_tracking_error"] == {"action": None}
    assert (res["level"], res["resamples"], res["seed"]) == (0.95, 10_000, 0)


def test_no_learned_target_means_no_error_column(run_cli, sweep: Path) -> None:
    header = _table(run_cli("compare", sweep / "lr=3e-4").out)[0]
    assert header == ["configuration", "runs", "mean return", "95% CI", "min", "max"]


def test_summary_without_final_eval_is_skipped_too(run_cli, tmp_path: Path) -> None:
    d = make_run(tmp_path, "run", _config(), 1.0)
    (d / "summary.json").write_text('{"env_id": "CartPole-v1", "global_step": 5}')
    r = run_cli("compare", d)
    assert r.rc == 0, r
    assert r.out.splitlines() == ["no finished runs to compare",
                                  f"skipped 1 run without a final evaluation (interrupted or "
                                  f"still training): {d}"]


@pytest.mark.parametrize("what", ["empty", "missing", "not_a_run"])
def test_a_path_without_runs_is_one_line_exit_2(run_cli, tmp_path: Path, sweep: Path,
                                                 what: str) -> None:
    path = tmp_path / what
    if what == "empty":
        path.mkdir()
    elif what == "not_a_run":
        (path / "sub").mkdir(parents=True)
        (path / "sub" / "config.yaml").write_text("env_id: CartPole-v1\n")  # nothing logged
    line = assert_one_line_error(run_cli("compare", sweep, path), repr(str(path)))
    assert ("is not a directory" if what == "missing" else "holds no thermorl runs") in line


def test_unreadable_config_is_one_line_exit_2(run_cli, tmp_path: Path) -> None:
    d = make_run(tmp_path, "run", _config(), 1.0)
    (d / "config.yaml").write_text("env_id: [unclosed\n")
    assert_one_line_error(run_cli("compare", d), "cannot read", "config.yaml")


def _labelled(ax) -> list:
    return [line for line in ax.lines if not line.get_label().startswith("_")]


def test_plot_group_draws_one_mean_curve_per_configuration(sweep: Path) -> None:
    fig = build_figure([sweep], group=True)
    top, ent, alpha = fig.axes
    assert [line.get_label() for line in _labelled(top)] == [f"{LR3_NAME} (5 runs)",
                                                             f"{LR4_NAME} (2 runs)"]
    # per configuration: a return line in its band, eval dots with their min-max bars
    assert len(top.lines) == 4 and len(top.collections) == 4
    assert len(ent.lines) == 4  # entropy and target, per configuration
    assert len(alpha.lines) == 3  # alpha per configuration, and the zero line
    assert "band (bar): min-max over runs" in [t.get_text() for t in top.get_legend().get_texts()]
    # the ungrouped figure of the same runs: one return line per run
    runs = find_runs([sweep])
    assert len(_labelled(build_figure(runs).axes[0])) == len(runs)


def test_plot_group_interpolates_runs_onto_a_common_grid(tmp_path: Path) -> None:
    make_run(tmp_path, "s1", _config(seed=1), 1.0,
             _metrics([0.5] * 4, steps=[100, 200, 300, 400], returns=[0.0, 10.0, 20.0, 30.0]))
    make_run(tmp_path, "s2", _config(seed=2), 2.0,
             _metrics([0.5] * 4, steps=[150, 250, 350, 450], returns=[10.0, 10.0, 10.0, 50.0]))
    top = build_figure([tmp_path], group=True, labels=["both"]).axes[0]
    (line,) = _labelled(top)
    # the steps both runs cover, 150..400; s1 interpolated at 150 is 5, s2 at 400 is 30
    np.testing.assert_array_equal(line.get_xdata(), [150, 200, 250, 300, 350, 400])
    s1 = np.array([5.0, 10.0, 15.0, 20.0, 25.0, 30.0])
    s2 = np.array([10.0, 10.0, 10.0, 10.0, 10.0, 30.0])
    np.testing.assert_allclose(line.get_ydata(), (s1 + s2) / 2)
    band = top.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == 5.0 and band[:, 1].max() == 30.0


def test_plot_group_cli_writes_png_and_checks_labels(run_cli, sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "g.png"
    r = run_cli("plot", sweep, "--group", "-o", out)
    assert r.rc == 0 and r.out.strip() == str(out), r
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert_one_line_error(run_cli("plot", sweep, "--group", "--labels", "one"),
                          "1 labels given for 2 configurations")
    with pytest.raises(ThermorlError, match="holds no thermorl runs"):
        build_figure([tmp_path / "out" / "lr=3e-4" / "seed=1" / "checkpoints"], group=True)


def test_two_real_runs(run_cli, it, tmp_path: Path) -> None:
    for seed in (1, 2):
        r = run_cli("train", "CartPole-v1", "--total-timesteps", "256", "--seed", seed,
                    "--run-dir", tmp_path / "real" / f"seed={seed}", *it.FAST,
                    "--entropy.mode", "learned", "--entropy.target", "{fraction: 0.5}")
        assert r.rc == 0, r
    res = json.loads(run_cli("compare", tmp_path / "real", "--json").out)
    (c,) = res["configurations"]
    returns = [it.read_summary(tmp_path / "real" / f"seed={s}")["final_eval"]["mean_return"]
               for s in (1, 2)]
    assert (c["name"], c["runs"], c["final_returns"]) == ("CartPole-v1 ppo", 2, returns)
    assert c["ci"] == list(bootstrap_ci(returns)) and res["skipped"] == []
    assert res["heads"] == ["action"] and 0 <= c["entropy_tracking_error"]["action"] < 1
    r = run_cli("compare", tmp_path / "real")
    assert r.rc == 0 and "|H-target| action" in r.out.splitlines()[0], r
    fig = build_figure([tmp_path / "real"], group=True)
    assert [line.get_label() for line in _labelled(fig.axes[0])] == ["CartPole-v1 ppo (2 runs)"]
