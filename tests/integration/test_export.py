"""ONNX export: onnxruntime's actions equal `predict(deterministic=True)`'s on 1,000 env
observations for every kind of policy, the graph's inputs and outputs are the documented ones,
and the CLI writes, checks and reports; a missing extra is a one-line error naming it."""

import sys

import numpy as np
import pytest
import torch

import thermorl
from thermorl.export import check_onnx, export_onnx, read_meta

ort = pytest.importorskip("onnxruntime", reason="the [export] extra is not installed")
pytest.importorskip("onnxscript", reason="the [export] extra is not installed")

TINY = {"total_timesteps": 64, "ppo.num_envs": 2, "ppo.num_steps": 32, "log.progress": "off",
        "log.tensorboard": False, "eval.freq": 0}
SPACES = "spaces_envs:ThermorlSpaces/{}-v0"


def scrambled(env, seed=0, **changes):
    """A policy whose weights and normalizer statistics are random and large, so that its
    actions vary over the box, its categorical choices are not all one action and masks bite:
    a stricter test of the graph than a near-initial policy."""
    algo = thermorl.PPO(env, thermorl.make_config(env, preset="none", **{**TINY, **changes}))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in algo.policy.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.7)
        algo.policy.project_()
    if algo.obs_norm is not None:
        rng = np.random.default_rng(seed)
        algo.obs_norm.rms.mean = rng.normal(0, 0.5, algo.obs_dim)
        algo.obs_norm.rms.var = rng.uniform(0.2, 3.0, algo.obs_dim)
    return algo


CASES = {
    "discrete": ("CartPole-v1", {}),
    "box": ("Pendulum-v1", {"ppo.norm_obs": True}),
    "box-squashed": ("Pendulum-v1", {"policy.squash": True, "ppo.norm_obs": True}),
    "hybrid-dict-mask": (SPACES.format("dict-mask-obs"), {}),
    "parameterized": (SPACES.format("parameterized"),
                      {"policy.parameterized": {"kind": {0: "jump", 1: "run"}},
                       "policy.squash": True}),
    "recurrent": ("CartPole-v1", {"ppo.recurrent": "lstm", "ppo.norm_obs": True}),
    "discrete-obs": ("FrozenLake-v1", {"ppo.norm_obs": True}),
    "tuple-obs": ("Blackjack-v1", {"ppo.norm_obs": True}),
}


@pytest.mark.parametrize("case", CASES)
def test_onnxruntime_acts_as_predict_on_1000_observations(case, tmp_path):
    env, changes = CASES[case]
    algo = scrambled(env, **changes)
    info = export_onnx(algo, tmp_path / "p.onnx", check=0)
    res = check_onnx(algo, tmp_path / "p.onnx", 1000)
    assert res["observations"] >= 1000 and res["max_abs_diff"] <= 1e-4
    if case == "recurrent":  # over whole episodes: CartPole's last a few dozen steps here
        assert info["inputs"][-1] == "state_in" and info["outputs"][-1] == "state_out"
        assert info["state_size"] == 2 * algo.config.ppo.rnn_hidden  # the actor's h and c
    algo.close()


def test_the_graph_names_its_inputs_and_outputs_as_documented(tmp_path):
    algo = scrambled(SPACES.format("dict-mask-obs"))
    export_onnx(algo, tmp_path / "p.onnx", check=0)
    sess = ort.InferenceSession(str(tmp_path / "p.onnx"))
    ins = {i.name: (i.type, i.shape[1:]) for i in sess.get_inputs()}
    assert ins == {"obs/observation": ("tensor(float)", [4]),
                   "action_mask/fire": ("tensor(bool)", [2]),
                   "action_mask/maneuver": ("tensor(bool)", [5])}
    outs = {o.name: o.type for o in sess.get_outputs()}
    assert outs == {"action/fire": "tensor(int64)", "action/maneuver": "tensor(int64)",
                    "action/throttle": "tensor(float)"}
    meta = read_meta(tmp_path / "p.onnx")
    assert meta["masks"] == {"action_mask/fire": "fire", "action_mask/maneuver": "maneuver"}
    assert meta["opset"] == 18 and meta["heads"]["action/throttle"]["kind"] == "gaussian"


def test_the_mask_input_decides_the_action(tmp_path):
    """Masks are wired: with every action allowed the scrambled policy picks a masked-out
    maneuver somewhere in the batch; with the mask it never does, and matches predict."""
    algo = scrambled(SPACES.format("dict-mask-obs"), seed=3)
    export_onnx(algo, tmp_path / "p.onnx", check=0)
    sess = ort.InferenceSession(str(tmp_path / "p.onnx"))
    rng = np.random.default_rng(0)
    obs = rng.uniform(-1, 1, (500, 4)).astype(np.float32)
    mask = np.ones((500, 5), bool)
    mask[:, 3] = False
    free = {"obs/observation": obs, "action_mask/fire": np.ones((500, 2), bool),
            "action_mask/maneuver": np.ones((500, 5), bool)}
    picks = sess.run(["action/maneuver"], free)[0]
    assert (picks == 3).any()
    masked = sess.run(["action/maneuver"], {**free, "action_mask/maneuver": mask})[0]
    assert not (masked == 3).any()
    want = algo.predict({"observation": obs, "action_mask": {"maneuver": mask.astype(np.int8),
                                                               "fire": np.ones((500, 2), np.int8)}})
    assert np.array_equal(want["maneuver"], masked)


def test_sac_actor_exports(tmp_path):
    algo = thermorl.SAC("Pendulum-v1", thermorl.make_config(
        "Pendulum-v1", algo="sac", preset="none", total_timesteps=64,
        **{"log.progress": "off", "log.tensorboard": False}))
    with torch.no_grad():
        for p in algo.policy.actor.parameters():
            p.add_(torch.randn(p.shape) * 0.5)
    info = export_onnx(algo, tmp_path / "sac.onnx", check=200)
    assert info["check"]["observations"] == 200 and info["outputs"] == ["action"]


def test_cli_exports_and_checks(run_cli, cartpole_run, tmp_path):
    res = run_cli("export", cartpole_run, "--checkpoint", "best", "-o", tmp_path / "cp.onnx")
    assert res.rc == 0, res.err
    assert "inputs:  obs" in res.out and "outputs: action" in res.out
    assert "equal predict(deterministic=True)'s on 256 env observations" in res.out
    sess = ort.InferenceSession(str(tmp_path / "cp.onnx"))
    (act,) = sess.run(["action"], {"obs": np.zeros((3, 4), np.float32)})
    assert act.shape == (3,) and act.dtype == np.int64
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("argv,match", [
    (["--format", "tflite"], "invalid choice: 'tflite'"),
    (["--check", "-1"], "--check must be 0 or a positive number"),
    (["-o", "/no/such/dir/p.onnx"], "directory '/no/such/dir' does not exist"),
])
def test_cli_errors_are_one_line(run_cli, cartpole_run, tmp_path, argv, match):
    base = ["export", cartpole_run, "-o", tmp_path / "p.onnx"]
    res = run_cli(*base, *argv)
    assert res.rc == 2 and match in res.err and len(res.err.strip().splitlines()) == 1


def test_missing_extra_is_named(run_cli, cartpole_run, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    res = run_cli("export", cartpole_run, "-o", tmp_path / "p.onnx")
    assert res.rc == 2 and 'pip install -e ".[export]"' in res.err
    assert len(res.err.strip().splitlines()) == 1
