"""SAC's replay buffer, its collection under next-step autoreset, its temperatures per head, and
its configuration rules."""

import math
import signal

import numpy as np
import pytest
import torch

import thermorl
from thermorl.buffers import ReplayBuffer
from thermorl.envs.spaces import HeadSpec
from thermorl.errors import ConfigError

SMALL = {"policy.hidden_sizes": [32, 32], "log.progress": "off", "log.tensorboard": False,
         "eval.episodes": 2, "eval.freq": 0}
HEADS = {"c": HeadSpec("categorical", n=3), "g": HeadSpec("gaussian", dim=2)}


def add(buf, n, start, valid=None, masks=None, next_masks=None):
    obs = torch.arange(start, start + n, dtype=torch.float32)[:, None].repeat(1, 2)
    buf.add(obs, {"c": torch.arange(n) % 3, "g": torch.zeros(n, 2)}, torch.ones(n), obs + 0.5,
            torch.zeros(n), torch.ones(n, dtype=torch.bool) if valid is None else valid,
            masks, next_masks)


def test_replay_skips_invalid_rows_and_wraps():
    buf = ReplayBuffer(5, 2, HEADS, torch.device("cpu"))
    add(buf, 3, 0, valid=torch.tensor([True, False, True]))
    assert len(buf) == 2 and buf.obs[:2, 0].tolist() == [0.0, 2.0]
    assert buf.next_obs[:2, 0].tolist() == [0.5, 2.5]  # s' stored apart from the next s
    add(buf, 4, 10)
    assert len(buf) == 5 and buf.pos == 1
    assert buf.obs[:, 0].tolist() == [13.0, 2.0, 10.0, 11.0, 12.0]


def test_replay_masks_from_their_first_appearance_and_round_trip():
    buf = ReplayBuffer(8, 2, HEADS, torch.device("cpu"))
    add(buf, 2, 0)
    m = torch.tensor([[True, False, True], [False, True, True]])
    add(buf, 2, 2, masks={"c": m}, next_masks={"c": m.flip(0)})
    assert buf.action_masks["c"][:4].tolist() == [[True] * 3, [True] * 3, *m.tolist()]
    assert buf.next_action_masks["c"][2:4].tolist() == m.flip(0).tolist()
    again = ReplayBuffer(8, 2, HEADS, torch.device("cpu"))
    again.load_state_dict(buf.state_dict())
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    a, b = buf.sample(16, g1), again.sample(16, g2)
    assert torch.equal(a.obs, b.obs) and torch.equal(a.action_masks["c"], b.action_masks["c"])
    assert len(again) == 4 and again.pos == 4


def test_collection_bootstraps_truncation_from_the_real_final_observation():
    cfg = thermorl.make_config("Pendulum-v1", algo="sac", **SMALL, **{
        "env_kwargs": {"max_episode_steps": 5}, "sac.learning_starts": 0})
    algo = thermorl.SAC("Pendulum-v1", cfg)
    algo.collector.reset(seed=0)
    algo._collect(12)  # steps 6 and 12 only reset the env: not transitions
    buf = algo.buffer
    assert len(buf) == 10
    assert buf.terminated[:10].sum() == 0  # a time limit is not a termination
    # the 5th transition ends the episode: its s' is the final obs, not the next reset obs
    assert not torch.equal(buf.next_obs[4], buf.obs[5])
    assert torch.equal(buf.next_obs[3], buf.obs[4])
    assert buf.actions["action"][:len(buf)].abs().max() <= 1.0  # stored squashed, as critics see it


def gradient_step(algo, progress=0.5):
    """One of the learner's gradient steps on a batch sampled as SAC samples it."""
    batch = algo.buffer.sample(algo.config.sac.batch_size, algo.shuffle_gen)
    return algo.learner.update(batch, progress)


def _run_gradient_steps(env, heads_cfg, n=25):
    cfg = thermorl.make_config(env, algo="sac", **SMALL, **{
        "sac.learning_starts": 0, "sac.batch_size": 32, "entropy.lr": 0.05,
        "entropy.heads": heads_cfg})
    algo = thermorl.SAC(env, cfg)
    algo.collector.reset(seed=0)
    algo._collect(64)
    for _ in range(n):
        gradient_step(algo)
    return {h: c.coef(0.5) for h, c in algo.entropy.heads.items()}


@pytest.mark.parametrize("env,heads_cfg,up,down", [
    # a target above the entropy raises the temperature, one below lowers it, head by head
    ("thermorl/HybridIdentity-v0", {"choice": {"target": {"fraction": 1.0}},
                                    "value": {"target": {"nats": -5.0}}}, "choice", "value"),
    ("thermorl/HybridIdentity-v0", {"choice": {"target": {"fraction": 0.05}},
                                    "value": {"target": {"nats": 3.0}}}, "value", "choice"),
    ("Pendulum-v1", {"action": {"target": {"nats": 3.0}}}, "action", None),
    ("Pendulum-v1", {"action": {"target": {"nats": -5.0}}}, None, "action"),
    ("CartPole-v1", {"action": {"target": {"fraction": 1.0}}}, "action", None),
    ("CartPole-v1", {"action": {"target": {"fraction": 0.05}}}, None, "action"),
])
def test_temperature_moves_toward_the_target_per_head(env, heads_cfg, up, down):
    alphas = _run_gradient_steps(env, heads_cfg)
    if up:
        assert alphas[up] > 1.0, alphas
    if down:
        assert alphas[down] < 1.0, alphas


def test_fixed_and_scheduled_temperatures_do_not_move():
    env = "thermorl/HybridIdentity-v0"
    alphas = _run_gradient_steps(env, {
        "choice": {"mode": "fixed", "coef": 0.3},
        "value": {"mode": "scheduled", "coef": {"start": 0.2, "end": 0.0}}}, n=3)
    assert alphas == pytest.approx({"choice": 0.3, "value": 0.1})


def test_auto_targets():
    cfg = thermorl.make_config("Pendulum-v1", algo="sac")
    algo = thermorl.SAC("Pendulum-v1", cfg)
    # -dim in the tanh's [-1, 1] units is -1 + log(2) nats of the torque in [-2, 2]
    assert algo.entropy.heads["action"].target(0.0) == pytest.approx(-1 + math.log(2))
    algo = thermorl.SAC("CartPole-v1", thermorl.make_config("CartPole-v1", algo="sac"))
    assert algo.entropy.heads["action"].target(0.0) == pytest.approx(0.5 * math.log(2))


def test_sac_defaults_and_presets():
    cfg = thermorl.make_config("Pendulum-v1", algo="sac")
    assert cfg.preset == "sac/Pendulum-v1" and cfg.sac.learning_rate == 1e-3
    assert cfg.entropy.mode == "learned" and cfg.entropy.constraint == "min"
    assert cfg.policy.hidden_sizes == (256, 256) and cfg.policy.squash
    assert thermorl.make_config("Pendulum-v1").entropy.mode == "fixed"  # PPO's unchanged


@pytest.mark.parametrize("dotted,match", [
    ({"ppo.num_envs": 4}, "ppo.num_envs=4 is a PPO setting, but algo is sac"),
    ({"policy.squash": False}, "policy.squash=false: SAC acts through tanh"),
    ({"preset": "CartPole-v1"}, "preset 'CartPole-v1' is for algo ppo, but algo is sac"),
])
def test_bad_sac_settings_are_one_line_errors(dotted, match):
    with pytest.raises(ConfigError, match=match):
        cfg = thermorl.make_config("Pendulum-v1", algo="sac", **dotted)
        thermorl.SAC("Pendulum-v1", cfg)


def test_sac_settings_with_ppo_are_an_error():
    with pytest.raises(ConfigError, match="sac.tau=0.1 is a SAC setting, but algo is ppo"):
        thermorl.make_config("Pendulum-v1", **{"sac.tau": 0.1})


def test_sac_needs_a_sac_config():
    with pytest.raises(ConfigError, match="accepted: algo sac"):
        thermorl.SAC("Pendulum-v1", thermorl.make_config("Pendulum-v1"))


def test_resume_state_continues_exactly(tmp_path):
    cfg = thermorl.make_config("thermorl/HybridIdentity-v0", algo="sac", total_timesteps=200,
                               **SMALL, **{"sac.learning_starts": 50,
                                           "sac.save_replay_buffer": True})
    algo = thermorl.SAC("thermorl/HybridIdentity-v0", cfg).learn()
    path = algo.save(tmp_path / "a.pt")
    again = thermorl.SAC.load(path)
    # one-step episodes: every other step only resets the env, so 200 steps hold 100
    assert len(again.buffer) == len(algo.buffer) == 100
    gradient_step(algo)
    gradient_step(again)
    for p, q in zip(algo.policy.parameters(), again.policy.parameters()):
        assert torch.equal(p, q)
    assert again.entropy.coefs(0.5) == algo.entropy.coefs(0.5)
    without = thermorl.SAC.load(thermorl.SAC(
        "thermorl/HybridIdentity-v0", thermorl.config.replace(
            cfg, sac=thermorl.config.replace(cfg.sac, save_replay_buffer=False))).save(
        tmp_path / "b.pt"))
    assert len(without.buffer) == 0
    assert np.isfinite(again.evaluate(2)["mean_return"])


def test_ctrl_c_ends_a_round_early():
    cfg = thermorl.make_config("Pendulum-v1", algo="sac", total_timesteps=1000, **SMALL)
    algo = thermorl.SAC("Pendulum-v1", cfg)
    algo.collector.reset(seed=0)
    algo._stop = signal.SIGINT  # as the first Ctrl-C's handler sets it
    algo._train_step(1000)
    assert algo.global_step == 1 and algo.updates == 1


def test_a_buffer_larger_than_memory_is_a_config_error_naming_what_fits(monkeypatch):
    from thermorl.buffers import replay

    # a row: obs and next obs 2 x 4 x 10, action 8 (categorical) + 4 x 2 (gaussian), 8
    assert replay.row_bytes(10, HEADS) == 80 + 16 + 8
    monkeypatch.setattr(replay, "memory_of", lambda device: 104 * 1000)
    ReplayBuffer(1000, 10, HEADS, torch.device("cpu"))  # exactly fits
    with pytest.raises(ConfigError, match=r"sac.buffer_size 1,001 transitions of 104 bytes .*"
                                          r"accepted: sac.buffer_size up to 1,000"):
        ReplayBuffer(1001, 10, HEADS, torch.device("cpu"))
    # observations stored as bytes: a quarter of the floats' memory
    assert replay.row_bytes(10, HEADS, obs_bytes=1) == 20 + 16 + 8
    ReplayBuffer(2363, 10, HEADS, torch.device("cpu"), torch.uint8)  # 2,363 x 44 <= 104,000
    with pytest.raises(ConfigError, match=r"\(10 observation bytes, stored twice"):
        ReplayBuffer(2364, 10, HEADS, torch.device("cpu"), torch.uint8)


def test_byte_valued_observations_are_stored_as_bytes_and_given_back_as_floats():
    from gymnasium import spaces

    from thermorl.envs.spaces import ObsLayout

    image = spaces.Box(0, 255, (4, 4, 3), np.uint8)
    assert ObsLayout(image).byte_valued
    assert ObsLayout(spaces.Dict({"cam": image, "coin": spaces.Discrete(2),
                                  "bits": spaces.MultiBinary(3)})).byte_valued
    assert not ObsLayout(spaces.Dict({"cam": image, "pos": spaces.Box(-1, 1, (2,))})).byte_valued
    buf = ReplayBuffer(4, 3, HEADS, torch.device("cpu"), torch.uint8)
    obs = torch.tensor([[0.0, 17.0, 255.0], [1.0, 0.0, 128.0]])
    buf.add(obs, {"c": torch.zeros(2), "g": torch.zeros(2, 2)}, torch.ones(2), 255 - obs,
            torch.zeros(2), torch.ones(2, dtype=torch.bool))
    assert buf.obs.dtype == torch.uint8 and buf.obs.element_size() == 1
    b = buf.sample(8, torch.Generator().manual_seed(0))
    assert b.obs.dtype == torch.float32
    for o, n in zip(b.obs, b.next_obs):
        assert o.tolist() in obs.tolist() and (n + o).tolist() == [255.0] * 3
