"""Errors a user can fix. The CLI prints them as one line on stderr, without a traceback."""

from __future__ import annotations

import contextlib
import os
from typing import Iterator


class ThermorlError(Exception):
    """Bad input or a stopped run, described in words the user can act on."""


class ConfigError(ThermorlError, ValueError):
    """An unknown, ill-typed or out-of-range configuration value."""


class EnvError(ThermorlError, ValueError):
    """An env id that cannot be made, or a space thermorl cannot act in."""


class TrainingDiverged(ThermorlError, FloatingPointError):
    """A NaN or Inf appeared in a loss term or an env output; training stopped before saving it."""


class LossNotFinite(TrainingDiverged):
    """A learner's loss term became NaN or Inf; the algorithm adds where (global step, update)
    and the last good checkpoint to the message."""

    def __init__(self, term: str, value: float):
        super().__init__(f"{term} became {value}")
        self.term, self.value = term, value


class RunFileError(ThermorlError, OSError):
    """A run file (config, metrics, event file, checkpoint, summary, plot) could not be written:
    a read-only directory or a full disk, named with the OS's reason."""


@contextlib.contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn an OSError raised while writing `path` into a one-line RunFileError that names the
    file and the OS's reason, instead of a traceback from deep inside a writer."""
    try:
        yield
    except RunFileError:
        raise
    except OSError as e:
        reason = e.strerror or str(e) or type(e).__name__
        raise RunFileError(f"cannot write {str(path)!r}: {reason}") from None
