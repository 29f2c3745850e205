"""Recurrent PPO: hidden states reset at episode starts (collecting and training), padded
sequence batches give the losses of the same data unpadded (every term), predict/save/load."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import thermorl
from thermorl.buffers import cut_sequences, sequence_minibatches
from thermorl.errors import ConfigError
from thermorl.losses import masked_normalize


class HybridEpisodes(gym.Env):
    """Dict action (a masked Discrete(3) and a Box(2)); episodes of random length 2..7; the
    reward depends on the action so that advantages are not all alike."""

    observation_space = gym.spaces.Box(-1, 1, (3,), np.float32)
    action_space = gym.spaces.Dict({"choice": gym.spaces.Discrete(3),
                                    "value": gym.spaces.Box(-1, 1, (2,), np.float32)})

    def _out(self):
        mask = np.array([True, self.t % 2 == 0, True])
        return self.np_random.uniform(-1, 1, 3).astype(np.float32), {"action_mask": {"choice": mask}}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.length = 0, int(self.np_random.integers(2, 8))
        return self._out()

    def step(self, action):
        self.t += 1
        obs, info = self._out()
        r = float(action["choice"] == 2) - abs(float(action["value"][0]))
        return obs, r, self.t >= self.length, False, info


def make(kind="lstm", shared=False, burn_in=0, seq_len=4, num_steps=32, **extra):
    cfg = thermorl.make_config("CartPole-v1", **{
        "preset": "none", "ppo.num_envs": 3, "ppo.num_steps": num_steps, "log.progress": "off",
        "ppo.num_minibatches": 1, "ppo.recurrent": kind, "ppo.seq_len": seq_len,
        "ppo.burn_in": burn_in, "ppo.shared_rnn": shared, "ppo.rnn_hidden": 16,
        "policy.hidden_sizes": [16], "ppo.ent_coef": 0.01, "eval.episodes": 2, **extra})
    return thermorl.PPO(HybridEpisodes, cfg)


def collect(algo):
    algo.collector.reset(seed=0)
    algo._collect()
    return algo


CORES = [("lstm", False, 0), ("gru", True, 0), ("lstm", True, 2), ("gru", False, 3)]


@pytest.mark.parametrize("kind,shared,burn_in", CORES)
def test_hidden_state_zero_at_episode_starts_and_carried_otherwise(kind, shared, burn_in):
    algo = collect(make(kind, shared, burn_in))
    b = algo.buffer
    starts = b.starts
    assert starts[0].all()  # the first step after reset begins every env's episode
    # a new episode begins right after each reset-only step
    assert torch.equal(starts[1:], b.valid[:-1] == 0)
    norms = b.states.norm(dim=-1)
    assert (norms[starts] == 0).all() and (norms[~starts] > 0).all()
    # carried: the state at t + 1 is the policy's step from the state at t
    with torch.no_grad():
        for t in (0, 5, 17):
            _, _, nxt = algo.policy.step(b.obs[t], b.states[t],
                                         {k: m[t] for k, m in b.action_masks.items()})
            keep = ~starts[t + 1]
            assert torch.allclose(nxt[keep], b.states[t + 1][keep], atol=1e-6)


@pytest.mark.parametrize("kind,shared,burn_in", CORES)
def test_training_rebuilds_the_rollouts_distributions(kind, shared, burn_in):
    """Before any update, sequences from stored (or burned-in) states give back the rollout's
    log-probs and values exactly: ratio 1, KL 0, nothing clipped."""
    algo = collect(make(kind, shared, burn_in))
    with torch.no_grad():
        for mb in sequence_minibatches(algo.buffer, 4, burn_in, 3, torch.Generator()):
            dist, value = algo.policy.forward_seq(mb.obs, mb.action_masks, mb.seq)
            real = mb.mask > 0
            assert torch.allclose(dist.log_prob(mb.actions)[real], mb.log_probs[real], atol=1e-5)
            assert torch.allclose(value[real], mb.values[real], atol=1e-5)
            _, terms, *_ = algo.learner._terms(mb, 0.2, algo.entropy.coefs(0.0))
            assert terms["diag/approx_kl"] < 1e-8 and terms["diag/clip_fraction"] == 0


def test_training_zeroes_the_state_at_episode_starts_whatever_was_stored():
    algo = collect(make("gru"))
    b = algo.buffer
    with torch.inference_mode():
        b.states[b.starts] = 5.0  # garbage where collection had zeros
    cuts = cut_sequences(b.starts, 4)
    (mb,) = sequence_minibatches(b, 4, 0, 1, torch.Generator().manual_seed(0))
    order = torch.randperm(len(cuts.start), generator=torch.Generator().manual_seed(0))
    T = b.T
    at_start = torch.tensor([bool(b.starts[s % T, s // T]) for s in cuts.start[order].tolist()])
    assert at_start.any()
    assert (mb.seq.state[at_start] == 0).all() and (mb.seq.state[~at_start] != 0).any()
    with torch.no_grad():
        dist, _ = algo.policy.forward_seq(mb.obs, mb.action_masks, mb.seq)
    real = mb.mask > 0
    assert torch.allclose(dist.log_prob(mb.actions)[real], mb.log_probs[real], atol=1e-5)


TERMS = ["loss/policy", "loss/value", "loss/entropy", "diag/approx_kl", "diag/clip_fraction",
         "entropy/choice", "entropy/value", "max_entropy/choice"]


@pytest.mark.parametrize("kind,shared,burn_in", CORES)
def test_padded_batch_losses_equal_the_unpadded_ones(kind, shared, burn_in):
    """Every term of one padded minibatch of all sequences equals the same term over the real
    steps computed sequence by sequence with no padding at all (each sequence alone, its own
    length), combined by their real-step counts."""
    algo = collect(make(kind, shared, burn_in, **{"ppo.norm_adv": False}))
    with torch.no_grad():  # move the policy so that ratios, KL and clipping are not trivial
        g = torch.Generator().manual_seed(3)
        for p in algo.policy.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g))
    coefs = algo.entropy.coefs(0.0)
    n_seq = len(cut_sequences(algo.buffer.starts, 4).start)
    (padded,) = sequence_minibatches(algo.buffer, 4, burn_in, 1, torch.Generator())
    assert (padded.mask == 0).sum() > int((algo.buffer.valid == 0).sum())  # it has padding
    with torch.no_grad():
        _, whole, *_ = algo.learner._terms(padded, 0.1, coefs)
        sums = dict.fromkeys(TERMS, 0.0)
        weight = dict.fromkeys(TERMS, 0.0)
        singles = list(sequence_minibatches(algo.buffer, 4, burn_in, n_seq, torch.Generator()))
        assert len(singles) == n_seq
        for mb in singles:
            assert mb.seq.state.shape[0] == 1
            _, t, *_ = algo.learner._terms(mb, 0.1, coefs)
            for k in TERMS:
                w = float(t[f"used/{k.split('/')[1]}"]) if "entropy/" in k else float(mb.mask.sum())
                sums[k] += float(t[k]) * w
                weight[k] += w
    assert whole["diag/clip_fraction"] > 0.05 and whole["diag/approx_kl"] > 1e-3
    for k in TERMS:
        assert float(whole[k]) == pytest.approx(sums[k] / weight[k], rel=1e-4, abs=1e-6), k
    # norm_adv normalizes over a minibatch's real steps, so padding does not move it either
    real = padded.mask > 0
    assert torch.allclose(masked_normalize(padded.advantages, padded.mask)[real],
                          masked_normalize(padded.advantages[real]), atol=1e-5)


def test_garbage_in_padding_changes_no_term():
    algo = collect(make("lstm", **{"ppo.norm_adv": True}))
    (mb,) = sequence_minibatches(algo.buffer, 4, 0, 1, torch.Generator())
    pad = mb.mask == 0
    g = torch.Generator().manual_seed(1)

    def junk(x):
        return torch.where(pad.reshape(-1, *[1] * (x.dim() - 1)),
                           (torch.randn(x.shape, generator=g) * 50).to(x.dtype), x)

    bad = type(mb)(junk(mb.obs), {"choice": mb.actions["choice"], "value": junk(mb.actions["value"])},
                   junk(mb.log_probs), junk(mb.values), junk(mb.advantages), junk(mb.returns),
                   mb.mask, mb.action_masks, mb.seq)
    coefs = algo.entropy.coefs(0.0)
    with torch.no_grad():
        _, a, *_ = algo.learner._terms(mb, 0.2, coefs)
        _, b, *_ = algo.learner._terms(bad, 0.2, coefs)
    for k in a:
        assert float(a[k]) == pytest.approx(float(b[k]), rel=1e-5, abs=1e-6), k


@pytest.mark.parametrize("mode,extra", [
    ("fixed", {}),
    ("scheduled", {"entropy.coef": {"start": 0.05, "end": 0.0}}),
    ("learned", {}),  # auto targets: half the maximum (choice), a std (value)
])
def test_every_entropy_mode_trains_a_recurrent_policy(mode, extra):
    algo = make("gru", **{"entropy.mode": mode, "total_timesteps": 192, **extra})
    algo.learn()
    m = algo.logger.latest
    for h in ("choice", "value"):
        assert np.isfinite(m[f"entropy/{h}"]) and np.isfinite(m[f"alpha/{h}"])
    assert np.isfinite(m["loss/policy"]) and np.isfinite(algo.final_eval["mean_return"])


def test_predict_carries_and_resets_the_state(tmp_path):
    algo = make("lstm")
    obs = np.full(3, 0.5, np.float32)
    _, s0 = algo.predict(obs)
    assert s0.shape == (algo.policy.state_size,) and s0.norm() > 0
    _, s1 = algo.predict(obs, state=s0)
    assert not torch.allclose(s0, s1)  # the state moved on
    _, fresh = algo.predict(obs, state=s1, episode_start=True)
    assert torch.equal(fresh, s0)  # an episode start ignores the state passed
    _, states = algo.predict(np.stack([obs] * 4), state=torch.stack([s0] * 4),
                                episode_start=[True, False, True, False])
    assert states.shape == (4, algo.policy.state_size)
    assert torch.equal(states[0], s0) and torch.allclose(states[1], s1)


def test_save_load_round_trip(tmp_path):
    algo = make("gru", shared=True, total_timesteps=96)
    algo.learn()
    path = algo.save(tmp_path / "r.pt")
    raw = torch.load(path, weights_only=True)
    assert "thermorl.nets" not in str(type(raw))
    back = thermorl.PPO.load(path, env=HybridEpisodes)
    assert back.recurrent and back.policy.state_size == algo.policy.state_size
    obs = np.ones(3, np.float32)
    mask = {"choice": np.array([True, False, True])}
    a, s = algo.predict(obs, action_mask=mask)
    b, t = back.predict(obs, action_mask=mask)
    assert a["choice"] == b["choice"] and np.allclose(a["value"], b["value"])
    assert torch.equal(s, t)
    assert algo.evaluate(4, seed=5) == back.evaluate(4, seed=5)


def test_evaluation_zeroes_the_state_exactly_where_episodes_start():
    """On Memory-v0 only an episode's first observation shows a cue, so the states the
    evaluation acts from can be checked against episode starts: zero there, carried elsewhere."""
    cfg = thermorl.make_config("thermorl/Memory-v0", **{"log.progress": "off",
                                                        "ppo.recurrent": "lstm"})
    algo = thermorl.PPO("thermorl/Memory-v0", cfg)
    seen = []
    act = algo._policy_act

    def spy(obs, masks, state):
        seen.append((obs.numpy().copy(), state.clone()))
        return act(obs, masks, state)

    algo._policy_act = spy
    algo.evaluate(12, deterministic=False, seed=3)  # 8 envs, 1-2 episodes each
    obs = np.concatenate([o for o, _ in seen])
    norm = torch.cat([s for _, s in seen]).norm(dim=-1).numpy()
    cue = obs[:, :-1].sum(1) == 1
    assert cue.sum() >= 12 and (norm[cue] == 0).all() and (norm[~cue] > 0).all()


@pytest.mark.parametrize("over,match", [
    ({"ppo.recurrent": "rnn"}, r"ppo.recurrent: expected one of none, lstm, gru, got 'rnn'"),
    ({"ppo.recurrent": "lstm", "ppo.seq_len": 4, "ppo.burn_in": 4},
     r"ppo.burn_in=4 must be below ppo.seq_len=4; accepted: 0 to 3"),
    ({"ppo.seq_len": 0}, r"ppo.seq_len"),
])
def test_bad_recurrent_settings_are_one_line_errors(over, match):
    with pytest.raises(ConfigError, match=match) as e:
        thermorl.make_config("CartPole-v1", **over)
    assert "\n" not in str(e.value)


def test_memory_env_query_is_the_same_for_every_cue():
    """Why a feed-forward policy sits at chance: the observation at the query step does not
    depend on the cue."""
    env = gym.make("thermorl/Memory-v0")
    seen = {}
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        cue = int(np.argmax(obs[:-1]))
        trail = [obs]
        for _ in range(5):
            obs, r, term, _, info = env.step(cue)
            trail.append(obs)
        assert term and r == 1.0 and info["outcome"] == "win"
        seen.setdefault(cue, []).append(np.stack(trail[1:]))
    assert set(seen) == {0, 1}
    assert all(np.array_equal(seen[0][0], x) for c in seen for x in seen[c])
    obs, _ = env.reset(seed=0)
    wrong = 1 - int(np.argmax(obs[:-1]))
    for _ in range(5):
        obs, r, term, _, info = env.step(wrong)
    assert term and r == 0.0 and info["outcome"] == "loss"
