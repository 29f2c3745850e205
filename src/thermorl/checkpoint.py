"""Checkpoints: written atomically, loaded without executing code.

A checkpoint is a dict of tensors and plain Python values only (the resolved config travels as
YAML text), so `torch.load(weights_only=True)` reads it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from .errors import ThermorlError, writing

FORMAT = "thermorl-checkpoint/1"


def save(payload: dict[str, Any], path: str | Path) -> Path:
    """Write to a temp file in the same directory, fsync, then rename over `path`: a crash or
    Ctrl-C or a full disk mid-write leaves the previous checkpoint whole; an OSError becomes a
    one-line RunFileError naming `path`."""
    path = Path(path)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with writing(path):
            with os.fdopen(fd, "wb") as f:
                torch.save({"format": FORMAT, **payload}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ThermorlError(f"no checkpoint at {str(path)!r}")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # a truncated or foreign file: say which, not a pickle traceback
        first = (str(e).strip().splitlines() or [""])[0]
        raise ThermorlError(f"{str(path)!r} is not a readable thermorl checkpoint "
                            f"({type(e).__name__}: {first})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ThermorlError(f"{str(path)!r} is not a thermorl checkpoint (format "
                            f"{data.get('format') if isinstance(data, dict) else None!r}, "
                            f"expected {FORMAT!r})")
    return data


def find(run_or_file: str | Path, which: str = "latest") -> Path:
    """A checkpoint file given a run directory (its `checkpoints/<which>.pt`) or a file path."""
    p = Path(run_or_file)
    if p.is_file():
        return p
    if not p.is_dir():
        raise ThermorlError(f"{str(p)!r} is neither a run directory nor a checkpoint file")
    f = p / "checkpoints" / f"{which}.pt"
    if not f.is_file():
        have = sorted(x.stem for x in (p / "checkpoints").glob("*.pt"))
        raise ThermorlError(f"run {str(p)!r} has no {which!r} checkpoint; it has: "
                            f"{', '.join(have) or 'none'}")
    return f


def restore_generator(gen: torch.Generator, saved: torch.Tensor, reseed: int) -> bool:
    """Set `gen` to a state saved by a generator of the same kind and return True. A CPU
    generator's state and a CUDA one's have different forms that cannot be converted, so a run
    resumed on the other kind of device seeds `gen` with `reseed` instead and returns False: it
    continues correctly, but its random draws are not those the first device would have made."""
    if saved.numel() == gen.get_state().numel():
        gen.set_state(saved)
        return True
    gen.manual_seed(reseed)
    return False
