import numpy as np
import pytest

from thermorl.normalize import ObsNormalizer, RewardScaler, RunningMeanStd


def test_running_mean_std_matches_numpy_over_batches():
    rng = np.random.default_rng(0)
    data = rng.normal(3.0, 2.0, size=(1000, 3))
    rms = RunningMeanStd((3,))
    for chunk in np.array_split(data, 7):
        rms.update(chunk)
    assert rms.mean == pytest.approx(data.mean(0), abs=1e-4)
    assert rms.var == pytest.approx(data.var(0), rel=1e-3)


def test_obs_normalizer_freezes_when_not_updating_and_clips():
    n = ObsNormalizer((2,), clip=5.0)
    x = np.array([[0.0, 10.0], [2.0, 30.0]], np.float32)
    n(x, update=True)
    before = n.rms.mean.copy()
    out = n(np.array([[1000.0, 20.0]], np.float32), update=False)
    assert np.array_equal(n.rms.mean, before)
    assert out[0, 0] == 5.0 and out.dtype == np.float32


def test_reward_scaler_divides_by_return_std_and_resets_at_episode_end():
    s = RewardScaler(num_envs=1, gamma=0.9, clip=100.0)
    for _ in range(50):
        s(np.array([1.0]), np.array([False]))
    # the discounted return of a constant 1 reward tends to 10; its std across the run > 0
    assert s.ret[0] == pytest.approx(10.0, abs=0.1)
    s(np.array([1.0]), np.array([True]))
    assert s.ret[0] == 0.0


def test_state_dict_round_trip():
    a = RunningMeanStd((2,))
    a.update(np.arange(10.0).reshape(5, 2))
    b = RunningMeanStd((2,))
    b.load_state_dict(a.state_dict())
    assert np.array_equal(a.mean, b.mean) and np.array_equal(a.var, b.var) and a.count == b.count
