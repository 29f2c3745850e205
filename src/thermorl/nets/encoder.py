"""Image observations through a convolutional encoder, in front of the MLP body.

The rest of thermorl sees every observation as one flat float vector (buffers, normalization,
export), so the encoder takes that vector and puts the image back together: `ImageSpec` says
how (channels first or last, and whether raw bytes are scaled to [0, 1]). An MLP on raw pixels
has a first layer of tens of thousands of inputs per unit and no notion of neighbouring pixels;
convolutions share their weights across the image, which is why image tasks are learned with
them (the DQN paper's network, as SB3's and CleanRL's Atari policies use).

A Dict or Tuple observation with images among its entries (a camera beside joint readings, say)
gets one encoder per image entry and one small layer for all the other entries together, each
putting out 64 features, side by side (`MultiSpec`, `MultiEncoder`).
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn

from ..envs.spaces import ObsLayout
from ..errors import ConfigError
from .mlp import HIDDEN_GAIN, mlp

MIN_SIDE = 8       # smaller than this is not treated as an image
MAX_CHANNELS = 16  # frames stacked on channels included; more than this is not an image
NATURE_MIN_SIDE = 36  # the DQN network's strides need at least this many pixels a side
FEATURES = 512
# A composite observation's parts each put out this many features: with 512 image features
# beside a few raw entries, the image's many weights outgrew the entries' few, and PPO never
# learned to use the entries (measured in docs/observation_spaces.md)
PART_FEATURES = 64


@dataclass(frozen=True)
class ImageSpec:
    """An image observation: `channels` x `height` x `width`, stored channels-last
    (`channels_last`: H, W, C, as pixels come from a renderer) or first (C, H, W, as frame
    stacks often are); `scale` multiplies the input (1/255 for raw bytes, 1 once normalized)."""

    channels: int
    height: int
    width: int
    channels_last: bool
    scale: float

    @property
    def dim(self) -> int:
        return self.channels * self.height * self.width


def image_of(space: gym.Space) -> tuple[int, int, int, bool] | None:
    """(channels, height, width, channels_last) when `space` looks like an image: a Box of
    shape (H, W, C) or (C, H, W) with C <= 16 and both sides >= 8, or a Box of bytes of shape
    (H, W) (a float matrix is more often a table of features than a picture); else None."""
    if not isinstance(space, gym.spaces.Box):
        return None
    shape = tuple(int(k) for k in space.shape)
    if len(shape) == 2 and space.dtype == np.uint8:
        shape = shape + (1,)
    if len(shape) != 3:
        return None
    if shape[-1] <= MAX_CHANNELS and min(shape[:2]) >= MIN_SIDE:
        return shape[2], shape[0], shape[1], True
    if shape[0] <= MAX_CHANNELS and min(shape[1:]) >= MIN_SIDE:
        return shape[0], shape[1], shape[2], False
    return None


@dataclass(frozen=True)
class MultiSpec:
    """A composite observation with images among its entries: `parts` in the order of the flat
    vector, each (entry name, width in the vector, its ImageSpec, or None for an entry that goes
    to the MLP as it is)."""

    parts: tuple[tuple[str, int, ImageSpec | None], ...]

    @property
    def images(self) -> list[tuple[str, ImageSpec]]:
        return [(name, spec) for name, _, spec in self.parts if spec is not None]


def _image_spec(space: gym.Space, normalized: bool) -> ImageSpec | None:
    found = image_of(space)
    if found is None:
        return None
    c, h, w, last = found
    raw_bytes = space.dtype == np.uint8 and not normalized
    return ImageSpec(c, h, w, last, 1.0 / 255.0 if raw_bytes else 1.0)


def find(space: gym.Space, normalized: bool) -> ImageSpec | MultiSpec | None:
    """The images in an observation space: an ImageSpec for an image, a MultiSpec for a Dict or
    Tuple with at least one image entry (nested ones too), else None."""
    if not isinstance(space, (gym.spaces.Dict, gym.spaces.Tuple)):
        return _image_spec(space, normalized)
    parts = tuple((str(leaf.name), leaf.dim, _image_spec(leaf.space, normalized))
                  for leaf in ObsLayout(space).leaves)
    return MultiSpec(parts) if any(spec is not None for _, _, spec in parts) else None


def describe(spec: ImageSpec | MultiSpec) -> str:
    """The images the encoder will see, in words (for the run's one line about it)."""
    one = lambda s: f"{s.height}x{s.width}, {s.channels} channel(s)"  # noqa: E731
    if isinstance(spec, ImageSpec):
        return f"image observations ({one(spec)})"
    return "image observation entries " + ", ".join(f"{name!r} ({one(s)})"
                                                    for name, s in spec.images)


def resolve(encoder: str, space: gym.Space, normalized: bool) -> ImageSpec | MultiSpec | None:
    """The image encoder `policy.encoder` asks for on `space` (None: the MLP alone). `auto`
    picks a CNN for an image observation, or for the image entries of a Dict or Tuple one;
    `cnn` on anything else is an error saying why."""
    if encoder == "mlp":
        return None
    found = find(space, normalized)
    if found is None and encoder == "cnn":
        raise ConfigError(f"policy.encoder cnn needs an image observation, a Box of shape "
                          f"(H, W, C) or (C, H, W) with C <= {MAX_CHANNELS} and sides "
                          f">= {MIN_SIDE} (or bytes of shape (H, W)), alone or as an entry of "
                          f"a Dict or Tuple; this env's is {space}; "
                          f"accepted: policy.encoder mlp or auto")
    return found


def _conv(c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> nn.Conv2d:
    layer = nn.Conv2d(c_in, c_out, kernel, stride, padding)
    nn.init.orthogonal_(layer.weight, HIDDEN_GAIN)
    nn.init.zeros_(layer.bias)
    return layer


class ImageEncoder(nn.Module):
    """Flat observations [N, C*H*W] -> features [N, 512]: the DQN network (32 8x8 stride 4,
    64 4x4 stride 2, 64 3x3 stride 1) where the image is at least 36 pixels a side, else three
    padded 3x3 layers (32, 64 with stride 2, 64), then one ReLU layer of 512."""

    def __init__(self, spec: ImageSpec, features: int = FEATURES):
        super().__init__()
        self.spec = spec
        if min(spec.height, spec.width) >= NATURE_MIN_SIDE:
            layers = [(spec.channels, 32, 8, 4, 0), (32, 64, 4, 2, 0), (64, 64, 3, 1, 0)]
        else:  # padded, so an 8-pixel side survives; the middle layer halves the map
            layers = [(spec.channels, 32, 3, 1, 1), (32, 64, 3, 2, 1), (64, 64, 3, 1, 1)]
        convs: list[nn.Module] = []
        h, w = spec.height, spec.width
        for c_in, c_out, k, s, pad in layers:
            convs += [_conv(c_in, c_out, k, s, pad), nn.ReLU()]
            h, w = (h + 2 * pad - k) // s + 1, (w + 2 * pad - k) // s + 1
        self.convs = nn.Sequential(*convs, nn.Flatten())
        self.out = nn.Linear(64 * h * w, features)
        nn.init.orthogonal_(self.out.weight, HIDDEN_GAIN)
        nn.init.zeros_(self.out.bias)
        self.n_out = features

    def forward(self, obs: Tensor) -> Tensor:
        s = self.spec
        lead = obs.shape[:-1]
        x = obs.reshape(-1, s.height, s.width, s.channels) if s.channels_last \
            else obs.reshape(-1, s.channels, s.height, s.width)
        if s.channels_last:
            x = x.permute(0, 3, 1, 2)
        if s.scale != 1.0:
            x = x * s.scale
        z = torch.relu(self.out(self.convs(x)))
        return z.reshape(*lead, self.n_out)


class MultiEncoder(nn.Module):
    """Flat composite observations -> 64 features from each image entry's encoder, then 64 from
    one tanh layer over all the other entries together (when there are any).

    Why not the other entries as they are, beside 512 image features (SB3's MultiInputPolicy
    does that, with 256): Adam moves every weight at about the same rate, so the image's
    hundreds of thousands of weights soon dominate the first hidden layer, and a one-hot entry's
    couple of columns stay a whisper in it. Parts of equal width keep each entry audible."""

    def __init__(self, spec: MultiSpec):
        super().__init__()
        self.spec = spec
        self.encoders = nn.ModuleList(ImageEncoder(s, PART_FEATURES) for _, s in spec.images)
        n_rest = sum(width for _, width, s in spec.parts if s is None)
        self.rest: nn.Module | None = None
        if n_rest:
            # torch's default initialization, not orthogonal: a matrix wider than its input
            # has orthonormal columns, so each of its features would get a small fraction of
            # the entries (one seed of six then missed an entry in the measurement)
            self.rest = nn.Sequential(nn.Linear(n_rest, PART_FEATURES), nn.Tanh())
        self.n_out = PART_FEATURES * (len(self.encoders) + (self.rest is not None))

    def forward(self, obs: Tensor) -> Tensor:
        images, rest, start = [], [], 0
        for _, width, spec in self.spec.parts:
            x = obs[..., start:start + width]
            start += width
            if spec is not None:
                images.append(self.encoders[len(images)](x))
            else:
                rest.append(x)
        if self.rest is not None:
            images.append(self.rest(torch.cat(rest, dim=-1)))
        return torch.cat(images, dim=-1)


def make_encoder(image: ImageSpec | MultiSpec, features: int = FEATURES) -> nn.Module:
    """The encoder for `image`: an ImageEncoder of `features` for an image, a MultiEncoder
    (PART_FEATURES a part, whatever `features`) for a composite observation."""
    return ImageEncoder(image, features) if isinstance(image, ImageSpec) else MultiEncoder(image)


def body(n_in: int, image: ImageSpec | MultiSpec | None, hidden: tuple[int, ...],
         activation: str) -> tuple[nn.Sequential, int]:
    """An actor's or critic's body (the image encoder, if any, then the hidden layers) and the
    width of what it puts out."""
    if image is None:
        return mlp(n_in, hidden, activation=activation), (hidden[-1] if hidden else n_in)
    enc = make_encoder(image)
    layers = mlp(enc.n_out, hidden, activation=activation)
    return nn.Sequential(enc, *layers), (hidden[-1] if hidden else enc.n_out)
