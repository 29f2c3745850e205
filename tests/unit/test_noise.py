"""Colored noise: unit variance, the expected spectral slope, white at beta 0, restarts,
determinism, seamless chunk changes, and checkpointable state."""

import io

import numpy as np
import pytest
import torch

from thermorl.entropy.noise import ColoredNoise, powerlaw_chunk


def run(noise, steps):
    return np.stack([noise.step() for _ in range(steps)], axis=-1)  # [envs, dim, steps]


def slope(x):
    """Fitted log-log slope of the mean periodogram of [..., T] sequences, mid frequencies."""
    p = (np.abs(np.fft.rfft(x, axis=-1)) ** 2).reshape(-1, x.shape[-1] // 2 + 1).mean(0)
    f = np.fft.rfftfreq(x.shape[-1])
    band = (f > 4 / x.shape[-1]) & (f < 0.25)
    return np.polyfit(np.log(f[band]), np.log(p[band]), 1)[0]


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 2.0])
def test_spectral_slope_is_minus_beta(beta):
    x = powerlaw_chunk(beta, (256,), 1024, np.random.default_rng(0))
    assert slope(x) == pytest.approx(-beta, abs=0.15)


@pytest.mark.parametrize("beta", [0.0, 1.0, 2.0])
def test_unit_variance_across_chunk_changes(beta):
    x = run(ColoredNoise(beta, num_envs=64, dim=1, seed=1, chunk=256, overlap=16), 1024)
    assert x.var() == pytest.approx(1.0, abs=0.08)
    assert np.abs(x.mean()) < 0.15


def test_beta_zero_is_white():
    x = run(ColoredNoise(0.0, num_envs=32, dim=2, seed=2, chunk=256, overlap=16), 800)
    lag1 = np.mean(x[..., 1:] * x[..., :-1])
    assert abs(lag1) < 0.03
    pink = run(ColoredNoise(1.0, num_envs=32, dim=2, seed=2, chunk=256, overlap=16), 800)
    assert np.mean(pink[..., 1:] * pink[..., :-1]) > 0.5  # pink noise moves slowly


def test_no_seam_where_chunks_change():
    n, chunk, overlap = 200, 128, 16
    x = run(ColoredNoise(1.0, num_envs=n, dim=1, seed=3, chunk=chunk, overlap=overlap), 3 * chunk)
    jumps = np.abs(np.diff(x[:, 0, :], axis=-1)).mean(0)  # mean |x_{t+1} - x_t| per t
    inside = np.median(jumps)
    # steps around each change of chunk look like every other step
    seams = [chunk - overlap - 1, chunk - 1, 2 * chunk - 2 * overlap - 1]
    for t in seams:
        assert jumps[t] < 1.5 * inside, (t, jumps[t], inside)
    # ... which this bound can tell from a hard switch between independent chunks, whose mean
    # jump is E|a - b| = 2 / sqrt(pi) ~ 1.13 for a, b ~ N(0, 1)
    assert 2 / np.sqrt(np.pi) > 1.5 * inside


def test_restart_gives_a_fresh_sequence_to_that_env_only():
    a = ColoredNoise(1.0, num_envs=3, dim=2, seed=4)
    b = ColoredNoise(1.0, num_envs=3, dim=2, seed=4)
    for _ in range(5):
        assert np.array_equal(a.step(), b.step())  # same seed, same noise
    a.restart([1])
    xa, xb = a.step(), b.step()
    assert np.array_equal(xa[[0, 2]], xb[[0, 2]]) and not np.array_equal(xa[1], xb[1])
    assert a.pos[1] == 1


def test_state_round_trips_through_a_weights_only_checkpoint():
    a = ColoredNoise(0.5, num_envs=2, dim=3, seed=5, chunk=64, overlap=8)
    for _ in range(70):
        a.step()
    f = io.BytesIO()
    torch.save(a.state_dict(), f)
    f.seek(0)
    b = ColoredNoise(0.5, num_envs=2, dim=3, seed=99, chunk=64, overlap=8)
    b.load_state_dict(torch.load(f, weights_only=True))
    for _ in range(80):
        assert np.array_equal(a.step(), b.step())


def test_bad_arguments():
    with pytest.raises(ValueError, match="beta must be >= 0"):
        ColoredNoise(-1.0, 1, 1, 0)
    with pytest.raises(ValueError, match="overlap"):
        ColoredNoise(1.0, 1, 1, 0, chunk=16, overlap=8)
