"""thermorl.sweep's pure part: grid items, combinations, trial names, validation and what an
existing trial directory means. No Ray."""

from __future__ import annotations

import json
import sys

import pytest

from thermorl import sweep
from thermorl.config_io import to_yaml
from thermorl.errors import ThermorlError

CARTPOLE = {"env_id": "CartPole-v1"}


@pytest.mark.parametrize("text, parts", [
    ("3e-4,1e-3", ["3e-4", "1e-3"]),
    (" 1 , 2 ", ["1", "2"]),
    ("[64,64],[128, 128]", ["[64,64]", "[128, 128]"]),
    ("{fraction: 0.5},{std: {start: 0.8, end: 0.3}}", ["{fraction: 0.5}",
                                                      "{std: {start: 0.8, end: 0.3}}"]),
    ("'a,b',c", ["'a,b'", "c"]),
    ("tanh", ["tanh"]),
])
def test_split_values_keeps_commas_inside_brackets_and_quotes(text, parts):
    assert sweep.split_values(text) == parts


def test_parse_grid_keeps_order_and_normalizes_dashes():
    grid = sweep.parse_grid(["ppo.learning_rate=3e-4,1e-3", "total-timesteps=512"])
    assert grid == {"ppo.learning_rate": ["3e-4", "1e-3"], "total_timesteps": ["512"]}
    assert sweep.combinations(grid) == [
        {"ppo.learning_rate": "3e-4", "total_timesteps": "512"},
        {"ppo.learning_rate": "1e-3", "total_timesteps": "512"}]
    assert sweep.combinations({}) == [{}]


@pytest.mark.parametrize("items, needles", [
    (["seed=1,2"], ["--grid seed", "--seeds N"]),
    (["ppo.learnin_rate=1e-3"], ["'ppo.learnin_rate'", "did you mean ppo.learning_rate"]),
    (["ppo.learning_rate="], ["'ppo.learning_rate='", "empty value"]),
    (["ppo.learning_rate=1e-3,,3e-4"], ["empty value"]),
    (["ppo.learning_rate"], ["expected KEY=V1,V2"]),
    (["=1,2"], ["expected KEY=V1,V2"]),
    (["log.progress=on,off"], ["log.progress", "does not make another configuration"]),
    (["device=cpu,cuda"], ["device", "does not make another configuration"]),
    (["ppo.ent_coef=0,0.01", "ppo.ent_coef=0.1"], ["given twice"]),
])
def test_parse_grid_errors_name_the_item(items, needles):
    with pytest.raises(ThermorlError) as e:
        sweep.parse_grid(items)
    for n in needles:
        assert n in str(e.value)


def test_plan_orders_names_and_seeds_trials(tmp_path):
    grid = sweep.parse_grid(["ppo.learning_rate=3e-4,1e-3", "policy.hidden_sizes=[64,64],[32]"])
    trials = sweep.plan(tmp_path / "out", overrides={**CARTPOLE, "total_timesteps": "512"},
                        grid=grid, seeds=2, seed_start=5)
    assert [t.name for t in trials][:3] == [
        "ppo.learning_rate=0.0003,policy.hidden_sizes=[64,64]/seed-5",
        "ppo.learning_rate=0.0003,policy.hidden_sizes=[64,64]/seed-6",
        "ppo.learning_rate=0.0003,policy.hidden_sizes=[32]/seed-5"]
    assert len(trials) == 8 and {t.state for t in trials} == {sweep.NEW}
    last = trials[-1]
    assert last.run_dir == (tmp_path / "out" / last.name).absolute()
    assert (last.config.ppo.learning_rate, last.config.policy.hidden_sizes, last.config.seed,
            last.config.total_timesteps, last.config.preset) == (1e-3, (32,), 6, 512,
                                                                 "CartPole-v1")


def test_plan_without_grid_names_seeds_only(tmp_path):
    trials = sweep.plan(tmp_path, overrides=CARTPOLE, grid={}, seeds=3)
    assert [t.name for t in trials] == ["seed-1", "seed-2", "seed-3"]


def test_labels_are_file_names():
    grid = sweep.parse_grid(["env_id=thermorl/Momentum-v0",
                             "entropy.target={fraction: 0.5}"])
    (t,) = sweep.plan("out", overrides={}, grid=grid, seeds=1)
    assert t.name == "env_id=thermorl_Momentum-v0,entropy.target={fraction:0.5}/seed-1"
    long = sweep.label(t.config, ["env_id"] * 40)
    assert len(long) <= sweep.MAX_LABEL and long != sweep.label(t.config, ["env_id"] * 41)


@pytest.mark.parametrize("kwargs, needles", [
    ({"seeds": 0}, ["--seeds", "got 0"]),
    ({"seed_start": -1}, ["--seed-start"]),
    ({"overrides": {**CARTPOLE, "seed": "3"}}, ["--seed", "--seeds N"]),
    ({"overrides": {**CARTPOLE, "ppo.learning_rate": "1e-3"}},
     ["ppo.learning_rate is set both as a flag and by --grid"]),
    ({"grid": {"ppo.learning_rate": ["1e-3", "0.001"]}},
     ["--grid ppo.learning_rate: 1e-3 and 0.001 are the same value"]),
    ({"grid": {"ppo.learning_rate": ["1e-3", "abc"]}},
     ["--grid ppo.learning_rate=abc: ppo.learning_rate: expected a number > 0, got 'abc'"]),
    ({"grid": {"ppo.num_minibatches": ["2", "3"]}},
     ["--grid ppo.num_minibatches=3", "does not divide"]),
    ({"overrides": {**CARTPOLE, "ppo.num_envs": "x"}}, ["ppo.num_envs: expected an integer"]),
    ({"overrides": {**CARTPOLE, "runners.backend": "async"}},
     ["runners.backend=async", "accepted in a sweep: local"]),
])
def test_plan_errors(tmp_path, kwargs, needles):
    args = {"overrides": CARTPOLE, "grid": {"ppo.learning_rate": ["1e-3"]}, "seeds": 2, **kwargs}
    with pytest.raises(ThermorlError) as e:
        sweep.plan(tmp_path, **args)
    for n in needles:
        assert n in str(e.value)


def test_out_may_not_be_a_file(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(ThermorlError, match="is a file"):
        sweep.plan(tmp_path / "f", overrides=CARTPOLE, grid={}, seeds=1)


def test_existing_trials_are_done_resumed_restarted_or_refused(tmp_path):
    grid = {"ppo.learning_rate": ["1e-3"]}
    first = sweep.plan(tmp_path, overrides=CARTPOLE, grid=grid, seeds=4)
    done, resume, restart, _ = (t.run_dir for t in first)
    for t in first[:3]:
        t.run_dir.mkdir(parents=True)
        # log.* and the device do not make another configuration: still this sweep's trial
        (t.run_dir / "config.yaml").write_text(to_yaml(t.config).replace("progress: auto",
                                                                          "progress: off"))
    (done / "summary.json").write_text(json.dumps({"final_eval": {"mean_return": 9.0}}))
    (resume / "checkpoints").mkdir()
    (resume / "checkpoints" / "latest.pt").write_bytes(b"")
    again = sweep.plan(tmp_path, overrides=CARTPOLE, grid=grid, seeds=5)
    assert [t.state for t in again] == [sweep.DONE, sweep.RESUME, sweep.NEW, sweep.NEW,
                                        sweep.NEW]
    with pytest.raises(ThermorlError) as e:  # another sweep's trial in the same place
        sweep.plan(tmp_path, overrides={**CARTPOLE, "total_timesteps": "512"}, grid=grid,
                   seeds=1)
    assert "already holds a run of another configuration (total_timesteps: " in str(e.value)
    assert "512 in this sweep" in str(e.value) and "another --out" in str(e.value)


def test_require_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    with pytest.raises(ThermorlError, match=r'Ray Tune, which is not installed: pip install -e '
                                            r'"\.\[ray\]"'):
        sweep.require_ray()


def test_sweep_module_does_not_import_ray():
    import subprocess

    code = "import sys, thermorl.sweep, thermorl.cli; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
