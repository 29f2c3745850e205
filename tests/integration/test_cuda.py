"""`--device cuda` end to end, for every kind of policy and both algorithms: training keeps the
policy and its optimizer state on the GPU, the fused learner's torch-only path equals autograd
there, checkpoints written on the GPU load on the CPU and act the same, the CLI trains, resumes
and evaluates, self-play and ONNX export work from a GPU run. CI has no GPU: these tests skip
there and run wherever torch sees a CUDA device."""

from __future__ import annotations

import math
import os

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import FAST, FAST_DOTTED
from spaces_envs import _leaves

import thermorl
from thermorl.learners import FusedPPOLearner

# THERMORL_TEST_DEVICE=cpu runs the same checks on the CPU (to check the tests themselves)
DEVICE = os.environ.get("THERMORL_TEST_DEVICE", "cuda")
pytestmark = pytest.mark.skipif(DEVICE == "cuda" and not torch.cuda.is_available(),
                                reason="torch sees no CUDA device (these tests need a GPU)")

SPACES = "spaces_envs:ThermorlSpaces/{}-v0"
PPO_CASES = {
    "discrete-fused": ("CartPole-v1", {}),
    "gaussian-learned-pink": ("Pendulum-v1", {"entropy.mode": "learned",
                                              "entropy.target": {"std": 0.5},
                                              "entropy.noise": {"beta": 1.0},
                                              "ppo.norm_obs": True}),
    "squashed-state-dependent": ("Pendulum-v1", {"policy.squash": True,
                                                 "policy.state_dependent_std": True}),
    "hybrid-dict-mask": (SPACES.format("dict-mask-obs"), {"entropy.mode": "learned"}),
    "recurrent-lstm-red": ("Pendulum-v1", {"ppo.recurrent": "lstm", "ppo.seq_len": 8,
                                           "entropy.noise": {"beta": 2.0}}),
    "dogfight-preset": ("thermorl/Dogfight-v0", {}),
}


def on_device(module: torch.nn.Module) -> bool:
    return all(p.device.type == DEVICE for p in module.parameters())


def optimizer_on_device(learner) -> bool:
    state = learner.optimizer.state_dict()["state"]
    return bool(state) and all(t.device.type == DEVICE for s in state.values()
                               for t in s.values() if torch.is_tensor(t) and t.dim() > 0)


@pytest.mark.parametrize("case", list(PPO_CASES))
def test_ppo_trains_on_cuda_and_its_checkpoint_acts_the_same_on_cpu(case, tmp_path):
    env_id, extra = PPO_CASES[case]
    cfg = thermorl.make_config(env_id, **{**FAST_DOTTED, "total_timesteps": 512,
                                          "device": DEVICE, "log.tensorboard": False,
                                          "eval.freq": 0, **extra})
    algo = thermorl.PPO(env_id, cfg, run_dir=tmp_path / "run")
    assert algo.device.type == DEVICE and on_device(algo.policy)
    if case == "discrete-fused":
        assert isinstance(algo.learner, FusedPPOLearner)
    algo.learn()
    assert algo.global_step >= 512 and on_device(algo.policy)
    assert optimizer_on_device(algo.learner)
    if DEVICE != "cpu":
        with pytest.raises(thermorl.ThermorlError, match="pass torch.Generator"):
            algo.predict(algo.collector.envs.observation_space.sample(), deterministic=False,
                         generator=torch.Generator())
    result = algo.evaluate(episodes=2)
    assert math.isfinite(result["mean_return"])

    path = algo.save(tmp_path / "gpu.pt")
    cpu = thermorl.PPO.load(path, env=env_id, device="cpu")
    assert cpu.device.type == "cpu"
    recurrent = algo.config.ppo.recurrent not in (None, "none")
    s_gpu = s_cpu = None
    env = gym.make(env_id)
    obs, _ = env.reset(seed=5)
    for _ in range(8):  # along an episode that the CPU copy plays
        a_gpu = algo.predict(obs, deterministic=True, state=s_gpu)
        a_cpu = cpu.predict(obs, deterministic=True, state=s_cpu)
        if recurrent:  # (action, state): the state carries on, on each run's own device
            (a_gpu, s_gpu), (a_cpu, s_cpu) = a_gpu, a_cpu
            assert s_gpu.device.type == DEVICE and s_cpu.device.type == "cpu"
        for x, y in zip(_leaves(a_gpu), _leaves(a_cpu)):
            np.testing.assert_allclose(np.asarray(x, dtype=float), np.asarray(y, dtype=float),
                                       rtol=1e-4, atol=1e-4)
        obs, _, term, trunc, _ = env.step(a_cpu)
        if term or trunc:
            break
    env.close()
    algo.close()
    cpu.close()


def test_fused_learner_equals_autograd_on_device():
    from test_fused import check_minibatch, rollout

    algo = rollout("Pendulum-v1", **{"policy.log_std_init": -0.5, "device": DEVICE})
    assert isinstance(algo.learner, FusedPPOLearner)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        flat = algo.learner.net.flat.param
        flat.add_(0.1 * torch.randn(flat.shape, generator=gen).to(flat.device))
    batches = list(algo.buffer.minibatches(4, gen))
    algo.learner._prepare(batches)
    fractions = [check_minibatch(algo, mb) for mb in batches]
    assert 0.0 < sum(fractions) / len(fractions) < 1.0


def test_fused_and_autograd_training_end_alike_on_device():
    from test_fused import fused_and_autograd_ends

    ends = fused_and_autograd_ends(device=DEVICE)
    torch.testing.assert_close(ends[0], ends[1], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("env_id,noise", [("Pendulum-v1", 1.0), (SPACES.format("dict-mask-obs"),
                                                                 0.0)])
def test_sac_trains_resumes_and_loads_on_cpu(env_id, noise, tmp_path):
    changes = {"device": DEVICE, "total_timesteps": 400, "policy.hidden_sizes": [32, 32],
               "sac.learning_starts": 64, "sac.batch_size": 32, "sac.log_interval": 100,
               "eval.episodes": 2, "eval.freq": 0, "log.progress": "off",
               "log.tensorboard": False, "entropy.noise": {"beta": noise}}
    cfg = thermorl.make_config(env_id, algo="sac", **changes)
    algo = thermorl.SAC(env_id, cfg, run_dir=tmp_path / "run")
    assert on_device(algo.policy) and algo.learn_gen.device.type == DEVICE
    algo.learn()
    path = algo.save(tmp_path / "gpu.pt")
    algo.close()
    again = thermorl.SAC.load(path, env=env_id, total_timesteps=600)
    assert again.device.type == DEVICE and again.global_step == 400
    again.learn()
    assert again.global_step >= 600
    again.close()
    cpu = thermorl.SAC.load(path, env=env_id, device="cpu")
    assert cpu.device.type == "cpu"
    assert math.isfinite(cpu.evaluate(episodes=1)["mean_return"])
    cpu.close()


def test_cli_trains_resumes_and_evaluates_on_device(run_cli, it, tmp_path):
    run_dir = tmp_path / "run"
    r = run_cli("train", "--device", DEVICE, "--total-timesteps", "256", "--run-dir", run_dir,
                *FAST)
    assert r.rc == 0, r
    assert DEVICE == "cpu" or ", on cuda" in r.err  # the run says where it trains
    r = run_cli("train", "--resume", run_dir, "--total-timesteps", "512")
    assert r.rc == 0, r
    assert it.read_summary(run_dir)["global_step"] == 512
    r = run_cli("eval", run_dir, "--episodes", "2")
    assert r.rc == 0, r
    r = run_cli("train", "--resume", run_dir, "--total-timesteps", "768", "--device", "cpu")
    assert r.rc == 0, r  # a GPU run goes on on the CPU
    assert DEVICE == "cpu" or "another kind of device" in r.err
    assert it.read_summary(run_dir)["global_step"] == 768


def test_selfplay_trains_on_device(run_cli, tmp_path):
    pytest.importorskip("pettingzoo")
    run_dir = tmp_path / "sp"
    r = run_cli("train", "thermorl/Dogfight-v0", "--device", DEVICE, "--total-timesteps", "512",
                "--run-dir", run_dir, *FAST, "--selfplay.enabled", "true",
                "--selfplay.save_steps", "128", "--selfplay.swap_steps", "128",
                "--selfplay.eval_duels", "2", "--eval.freq", "256",
                "--selfplay.scripted_weight", "1", "--log.tensorboard", "false")
    assert r.rc == 0, r
    r = run_cli("eval", run_dir, "--opponent", "latest", "--episodes", "2")
    assert r.rc == 0, r


def test_onnx_export_of_a_cuda_run(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from thermorl.export import check_onnx, export_onnx

    cfg = thermorl.make_config("Pendulum-v1", **{**FAST_DOTTED, "total_timesteps": 128,
                                                 "device": DEVICE, "eval.freq": 0,
                                                 "log.tensorboard": False})
    algo = thermorl.PPO("Pendulum-v1", cfg)
    algo.learn()
    export_onnx(algo, tmp_path / "p.onnx", check=0)
    assert check_onnx(algo, tmp_path / "p.onnx", 200)["observations"] >= 200
    algo.close()
