"""Recurrent policies through `thermorl train`: every action-space kind, eval, resume, and the
colored exploration noise."""

import json

import numpy as np
import pytest

import thermorl

FAST = ["--total-timesteps", "256", "--ppo.num_envs", "2", "--ppo.num_steps", "64",
        "--ppo.num_minibatches", "2", "--ppo.update_epochs", "2", "--eval.episodes", "2",
        "--log.progress", "off", "--ppo.seq_len", "4", "--ppo.rnn_hidden", "16"]
KINDS = {"discrete": [], "box": [], "dict": [], "dict-mask-info": [], "discrete-mask-obs": [],
         "multidiscrete-mask-info": [],
         "parameterized": ["--policy.parameterized", "{kind: {0: jump, 1: run}}"]}


@pytest.mark.parametrize("kind", list(KINDS))
def test_recurrent_gru_trains_evaluates_and_loads_for_every_kind(run_cli, tmp_path, kind):
    run = tmp_path / kind
    res = run_cli("train", f"spaces_envs:ThermorlSpaces/{kind}-v0", "--run-dir", run, *FAST,
                  "--ppo.recurrent", "gru", *KINDS[kind])
    assert res.rc == 0, res.err
    ev = run_cli("eval", run, "--json", "--episodes", "2", "--stochastic")
    assert ev.rc == 0, ev.err
    assert json.loads(ev.out)["episodes"] == 2
    algo = thermorl.PPO.load(run)
    assert algo.recurrent and algo.config.ppo.recurrent == "gru"
    header = (run / "metrics.csv").read_text().splitlines()[0].split(",")
    assert all(f"entropy/{h}" in header for h in algo.heads)


def test_lstm_shared_core_with_burn_in_resumes(run_cli, tmp_path):
    run = tmp_path / "r"
    extra = ["--ppo.recurrent", "lstm", "--ppo.shared_rnn", "true", "--ppo.burn_in", "2"]
    res = run_cli("train", "spaces_envs:ThermorlSpaces/dict-v0", "--run-dir", run, *FAST, *extra)
    assert res.rc == 0, res.err
    res = run_cli("train", "--resume", run, "--total-timesteps", "512")
    assert res.rc == 0, res.err
    algo = thermorl.PPO.load(run)
    assert algo.global_step == 512 and algo.config.ppo.burn_in == 2


def test_burn_in_not_below_seq_len_is_a_one_line_error(run_cli, tmp_path):
    res = run_cli("train", "CartPole-v1", "--run-dir", tmp_path / "x", "--ppo.recurrent", "lstm",
                  "--ppo.seq_len", "4", "--ppo.burn_in", "4")
    assert res.rc == 2
    assert res.err.strip().splitlines() == [
        "thermorl: error: ppo.burn_in=4 must be below ppo.seq_len=4; accepted: 0 to 3"]


def lag1(actions):
    """Lag-1 autocorrelation of [T, N, 1] actions, per env, averaged."""
    a = actions[..., 0]
    a = (a - a.mean(0)) / a.std(0)
    return float(np.mean(a[1:] * a[:-1]))


def test_red_noise_trains_a_recurrent_policy_and_colors_its_actions(run_cli, tmp_path):
    run = tmp_path / "noise"
    res = run_cli("train", "Pendulum-v1", "--run-dir", run, "--total-timesteps", "1024",
                  "--ppo.num_envs", "2", "--ppo.num_steps", "256", "--ppo.num_minibatches", "2",
                  "--ppo.update_epochs", "2", "--eval.episodes", "2", "--log.progress", "off",
                  "--ppo.recurrent", "gru", "--ppo.seq_len", "16", "--entropy.noise.beta", "2",
                  "--eval.freq", "0")
    assert res.rc == 0, res.err
    algo = thermorl.PPO.load(run)
    assert algo.config.entropy.noise == {"beta": 2.0} and set(algo.noise) == {"action"}
    assert np.isfinite(algo.logger.latest.get("loss/policy", 0.0))
    algo.collector.reset(seed=0)
    algo._collect()  # a rollout from the trained recurrent policy, with its red noise
    assert lag1(algo.buffer.actions["action"].numpy()) > 0.8
