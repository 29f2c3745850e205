"""`env_wrappers` in runs: pixels made grayscale and stacked reach the image encoder as a
channels-first stack; a wrapper of your own (module:Class) trains; the checkpoint's config
rebuilds the same envs for resume, evaluation and export."""

import json

import numpy as np
import pytest

import thermorl
from envs_for_tests import SPOT_ID
from thermorl.nets.encoder import ImageEncoder

SPOT = f"envs_for_tests:{SPOT_ID}"
QUIET = {"log.progress": "off", "log.tensorboard": False, "eval.freq": 0, "eval.episodes": 2}
GRAY_STACK = [{"GrayscaleObservation": {"keep_dim": False}},
              {"FrameStackObservation": {"stack_size": 2}}]


def test_grayscale_frames_stacked_reach_the_encoder_as_channels_and_come_back(tmp_path):
    cfg = thermorl.make_config(SPOT, env_kwargs={"side": 12}, env_wrappers=GRAY_STACK,
                               total_timesteps=256, **{**QUIET, "ppo.num_envs": 2,
                                                       "ppo.num_steps": 64})
    with thermorl.PPO(SPOT, cfg) as algo:
        assert algo.obs_space.shape == (2, 12, 12)
        enc = algo.policy.actor_body[0]
        assert isinstance(enc, ImageEncoder) and enc.spec.channels == 2
        assert not enc.spec.channels_last
        algo.learn()
        algo.save(tmp_path / "w.pt")
        obs = np.zeros((2, 12, 12), np.uint8)
        want = algo.predict(obs, deterministic=True)
        if _has_export():
            from thermorl.export import check_onnx, export_onnx

            export_onnx(algo, tmp_path / "w.onnx", check=0)
            assert check_onnx(algo, tmp_path / "w.onnx", 50)["max_abs_diff"] <= 1e-4
    with thermorl.PPO.load(tmp_path / "w.pt", trust_env_module=True) as again:
        assert again.config.env_wrappers == GRAY_STACK
        assert again.obs_space.shape == (2, 12, 12)
        assert again.predict(obs, deterministic=True) == want
        assert np.isfinite(again.evaluate(2)["mean_return"])


def _has_export():
    import importlib.util

    return bool(importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnxscript"))


def test_a_wrapper_of_your_own_from_the_command_line(run_cli, it, tmp_path):
    run = tmp_path / "scaled"
    r = run_cli("train", "CartPole-v1", "--env_wrappers",
                "[{envs_for_tests:ScaleReward: {factor: 0.0}}]", "--total-timesteps", "256",
                "--run-dir", run, *it.FAST, "--log.tensorboard", "false")
    assert r.rc == 0, r.err
    summary = json.loads((run / "summary.json").read_text())
    assert summary["final_eval"]["mean_return"] == 0.0  # every reward scaled to nothing
    r = run_cli("eval", run, "--episodes", "2", "--trust-env-module")
    assert r.rc == 0 and "mean return 0.00" in r.out, r
    r = run_cli("train", "CartPole-v1", "--env_wrappers", "[FrameStak]")
    assert r.rc == 2 and "unknown wrapper 'FrameStak'; did you mean FrameStackObservation?" \
        in r.err
