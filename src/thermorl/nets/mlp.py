"""MLPs with orthogonal initialization."""

from __future__ import annotations

import math
from typing import Sequence

from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "gelu": nn.GELU,
}
HIDDEN_GAIN = math.sqrt(2)


def linear(n_in: int, n_out: int, gain: float) -> nn.Linear:
    """Orthogonal weights with `gain`, zero bias (the init PPO implementations depend on)."""
    layer = nn.Linear(n_in, n_out)
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def mlp(n_in: int, hidden: Sequence[int], n_out: int | None = None, activation: str = "tanh",
        out_gain: float = 1.0) -> nn.Sequential:
    """Hidden layers with gain sqrt(2); an output layer of `n_out` with `out_gain` if given."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [linear(n_in, width, HIDDEN_GAIN), ACTIVATIONS[activation]()]
        n_in = width
    if n_out is not None:
        layers.append(linear(n_in, n_out, out_gain))
    return nn.Sequential(*layers)
