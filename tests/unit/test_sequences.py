"""Cutting rollouts into sequences: episode starts and seq_len cut, nothing crosses an episode,
and minibatches hold every real step exactly once with the padding masked."""

import gymnasium as gym
import numpy as np
import torch

import thermorl
from thermorl.buffers import cut_sequences, sequence_minibatches


def test_cuts_at_episode_starts_and_every_seq_len_steps():
    starts = torch.zeros(10, 2, dtype=torch.bool)
    starts[4, 0] = True  # env 0: an episode begins at step 4; env 1 has none
    cuts = cut_sequences(starts, 3)
    # env 0: [0, 3), [3, 4) (its episode ends inside the chunk), [4, 7), [7, 10)
    # env 1 (rows 10..19): [0, 3), [3, 6), [6, 9), [9, 10)
    assert cuts.start.tolist() == [0, 3, 4, 7, 10, 13, 16, 19]
    assert cuts.length.tolist() == [3, 1, 3, 3, 3, 3, 3, 1]
    assert cuts.before.tolist() == [0, 3, 0, 3, 0, 3, 6, 9]


def test_sequences_never_cross_episodes_and_tile_the_rollout():
    g = torch.Generator().manual_seed(0)
    T, N, L = 50, 6, 7
    starts = torch.rand(T, N, generator=g) < 0.15
    cuts = cut_sequences(starts, L)
    covered = torch.zeros(T * N, dtype=torch.int64)
    for s, n in zip(cuts.start.tolist(), cuts.length.tolist()):
        env, t = divmod(s, T)
        assert 1 <= n <= L and t + n <= T  # within one env's rollout
        assert not starts[t + 1:t + n, env].any()  # no episode begins inside a sequence
        assert t == 0 or starts[t, env] or cuts.before[cuts.start == s].item() % L == 0
        covered[s:s + n] += 1
    assert (covered == 1).all()


class Countdown(gym.Env):
    """Observation: steps left (counts down within an episode); episodes of random length."""

    observation_space = gym.spaces.Box(-100, 100, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.left = int(self.np_random.integers(2, 9))
        return np.array([self.left], np.float32), {}

    def step(self, action):
        self.left -= 1
        return np.array([self.left], np.float32), 1.0, self.left <= 0, False, {}


def collected(seq_len=4, burn_in=0, num_steps=40):
    cfg = thermorl.make_config("CartPole-v1", **{
        "preset": "none", "ppo.num_envs": 3, "ppo.num_steps": num_steps, "log.progress": "off",
        "ppo.recurrent": "gru", "ppo.seq_len": seq_len, "ppo.burn_in": burn_in,
        "ppo.rnn_hidden": 8, "policy.hidden_sizes": [8]})
    algo = thermorl.PPO(Countdown, cfg)
    algo.collector.reset(seed=0)
    algo._collect()
    return algo


def test_minibatches_hold_each_real_step_once_and_stay_in_one_episode():
    algo = collected()
    buf = algo.buffer
    mbs = list(sequence_minibatches(buf, 4, 0, 3, torch.Generator().manual_seed(0)))
    assert len(mbs) == 3
    for mb in mbs:
        B = mb.seq.state.shape[0]
        obs = mb.obs[:, 0].reshape(-1, B)  # [L, B]
        assert obs.shape[0] <= 4
        # the obs counts down within an episode: a sequence crossing a reset would rise
        assert (obs[1:] <= obs[:-1]).all(), obs
    # every real (valid) step of the rollout is in exactly one sequence
    assert sum(int(mb.mask.sum()) for mb in mbs) == int(buf.valid.sum())


def test_padding_is_masked_and_repeats_the_last_real_step():
    algo = collected()
    (mb,) = sequence_minibatches(algo.buffer, 4, 0, 1, torch.Generator().manual_seed(0))
    cuts = cut_sequences(algo.buffer.starts, 4)
    order = torch.randperm(len(cuts.start), generator=torch.Generator().manual_seed(0))
    lengths = cuts.length[order]
    B = len(lengths)
    L = int(lengths.max())
    mask, obs = mb.mask.reshape(L, B), mb.obs[:, 0].reshape(L, B)
    lp = mb.log_probs.reshape(L, B)
    for b in range(B):
        n = int(lengths[b])
        assert (mask[n:, b] == 0).all()
        assert (obs[n:, b] == obs[n - 1, b]).all() and (lp[n:, b] == lp[n - 1, b]).all()
    assert mask.sum() == algo.buffer.valid.sum()


def test_burn_in_reads_earlier_steps_of_the_same_episode_only():
    algo = collected(seq_len=3, burn_in=2)
    (mb,) = sequence_minibatches(algo.buffer, 3, 2, 1, torch.Generator().manual_seed(0))
    seq = mb.seq
    B = seq.state.shape[0]
    first = mb.obs[:, 0].reshape(-1, B)[0]  # each sequence's first observation
    n_active = 0
    for b in range(B):
        prev = seq.burn_obs[:, b, 0][seq.burn_active[:, b]]
        # burn-in steps count down into the sequence's first step: same episode, in order
        want = torch.arange(len(prev), 0, -1, dtype=prev.dtype) + first[b]
        assert torch.equal(prev, want), (prev, first[b])
        n_active += len(prev)
    assert n_active > 0
