"""Colored (1/f^beta) exploration noise for Gaussian heads: one sequence per env and dimension.

Entropy sets how much a Gaussian head explores; the noise's color sets how its samples move in
time. A Gaussian head acts as `mean + std * eps`; with white noise (beta = 0) eps is drawn fresh
each step, with beta > 0 it is a unit-variance sequence whose power spectrum falls as 1/f^beta
(1 pink, 2 red), so consecutive steps push the same way for longer (Eberhard et al., ICLR 2023;
Hollenstein et al., AAAI 2024). Each eps is still N(0, 1) marginally, which is why the head's
log-prob and entropy stay those of the Gaussian.

Sequences are made `chunk` steps at a time by shaping white Gaussian noise in the frequency
domain (Timmer & Koenig, 1995) and scaling the chunk to unit variance. A sequence restarts at an
episode start. An episode longer than a chunk moves on to a fresh chunk by a crossfade over
`overlap` steps with weights cos(theta), sin(theta): the two chunks are independent, so the
variance stays exactly 1 and there is no jump at the seam. The state (generator, chunks,
positions) is plain numpy and saved in checkpoints.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def powerlaw_chunk(beta: float, shape: tuple[int, ...], length: int,
                   rng: np.random.Generator) -> np.ndarray:
    """[*shape, length] unit-variance sequences with power spectrum ~ 1/f^beta."""
    if beta == 0:
        return rng.standard_normal((*shape, length))
    f = np.fft.rfftfreq(length)
    f[0] = f[1]  # the zero frequency carries the mean; give it the lowest band's weight
    scale = f ** (-beta / 2.0)
    spec = (rng.standard_normal((*shape, f.size)) + 1j * rng.standard_normal((*shape, f.size)))
    x = np.fft.irfft(spec * scale, n=length, axis=-1)
    x -= x.mean(axis=-1, keepdims=True)
    return x / x.std(axis=-1, keepdims=True)


class ColoredNoise:
    """eps for `num_envs` envs x `dim` dimensions, one step at a time."""

    def __init__(self, beta: float, num_envs: int, dim: int, seed: int, chunk: int = 1024,
                 overlap: int = 32):
        if beta < 0:
            raise ValueError(f"noise beta must be >= 0 (0 white, 1 pink, 2 red), got {beta}")
        if not 0 < overlap < chunk // 2:
            raise ValueError(f"overlap {overlap} must be in (0, chunk / 2 = {chunk // 2})")
        self.beta, self.n, self.dim = float(beta), num_envs, dim
        self.chunk, self.overlap = chunk, overlap
        self.rng = np.random.default_rng(seed)
        self.buf = powerlaw_chunk(self.beta, (num_envs, dim), chunk, self.rng)
        self.next_buf = np.zeros_like(self.buf)
        self.pos = np.zeros(num_envs, np.int64)
        self._envs = np.arange(num_envs)

    def restart(self, envs: np.ndarray | list[int]) -> None:
        """A new episode began in these envs: start them on fresh sequences."""
        for i in np.atleast_1d(np.asarray(envs, np.int64)):
            self.buf[i] = powerlaw_chunk(self.beta, (self.dim,), self.chunk, self.rng)
            self.pos[i] = 0

    def step(self) -> np.ndarray:
        """[num_envs, dim] float32 eps for this step."""
        fade_from = self.chunk - self.overlap
        envs = self._envs
        if self.pos.max() < fade_from:  # the common case: every env inside its chunk
            out = self.buf[envs, :, self.pos]
            self.pos += 1
            return out.astype(np.float32)
        starting = np.flatnonzero(self.pos == fade_from)  # the next chunk starts underneath
        if starting.size:
            self.next_buf[starting] = powerlaw_chunk(self.beta, (starting.size, self.dim),
                                                     self.chunk, self.rng)
        out = self.buf[envs, :, self.pos]  # [n, dim]
        fading = np.flatnonzero(self.pos >= fade_from)
        if fading.size:
            k = self.pos[fading] - fade_from  # 0 .. overlap-1
            theta = (0.5 * np.pi * (k + 1) / (self.overlap + 1))[:, None]
            out[fading] = (np.cos(theta) * out[fading]
                           + np.sin(theta) * self.next_buf[fading, :, k])
        self.pos += 1
        done = np.flatnonzero(self.pos == self.chunk)
        if done.size:  # continue in the new chunk after its faded part
            self.buf[done] = self.next_buf[done]
            self.pos[done] = self.overlap
        return out.astype(np.float32)

    def state_dict(self) -> dict[str, Any]:
        """Tensors and plain values only, so checkpoints load with weights_only=True."""
        import torch

        return {"rng": self.rng.bit_generator.state, "buf": torch.from_numpy(self.buf.copy()),
                "next_buf": torch.from_numpy(self.next_buf.copy()),
                "pos": torch.from_numpy(self.pos.copy())}

    def load_state_dict(self, st: dict[str, Any]) -> None:
        self.rng.bit_generator.state = st["rng"]
        self.buf, self.next_buf = st["buf"].numpy().copy(), st["next_buf"].numpy().copy()
        self.pos = st["pos"].numpy().astype(np.int64).copy()


def noise_eps(noise: dict[str, ColoredNoise], device: Any) -> dict[str, Any] | None:
    """This step's eps for each noisy head, as tensors (None when no head is noisy)."""
    if not noise:
        return None
    import torch

    return {h: torch.as_tensor(n.step(), device=device) for h, n in noise.items()}


def restart_noise(noise: dict[str, ColoredNoise], envs: np.ndarray) -> None:
    """New episodes began in `envs`: every noisy head restarts there."""
    for n in noise.values():
        n.restart(envs)
