"""Minimal TensorBoard scalar logger with no third-party dependencies.

TensorBoard reads *event files*: a sequence of TFRecord records, each holding
one serialized ``tensorflow.Event`` protobuf message.  A record is framed as::

    uint64 length (little endian)
    uint32 masked CRC-32C of the 8 length bytes (little endian)
    bytes  data (``length`` bytes)
    uint32 masked CRC-32C of data (little endian)

The first event of a file carries ``file_version = "brain.Event:2"``; every
later event carries a wall time, a step and a ``Summary`` with scalar values.

We only ever log scalars, so we encode these few protobuf fields by hand rather
than pulling in ``tensorboard``/``protobuf`` (or ``torch.utils.tensorboard``) as
a runtime dependency just for that.  The files are still read by TensorBoard's
own tools.
"""

from __future__ import annotations

import math
import os
import socket
import struct
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

__all__ = ["EventWriter", "crc32c", "masked_crc32c"]


def _make_crc32c_table() -> tuple[int, ...]:
    # Castagnoli polynomial, bit-reflected, as required by the TFRecord format
    # (zlib.crc32 uses a different polynomial, so it cannot be reused).
    poly = 0x82F63B78
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C_TABLE = _make_crc32c_table()


def crc32c(data: bytes) -> int:
    """Return the CRC-32C (Castagnoli) checksum of ``data``."""
    crc = 0xFFFFFFFF
    table = _CRC32C_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """Return the TFRecord-masked CRC-32C of ``data``.

    The format masks checksums so that a CRC stored inside checksummed data does
    not degrade the outer checksum.
    """
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# --- protobuf wire-format helpers -------------------------------------------

_WIRE_VARINT = 0
_WIRE_FIXED64 = 1
_WIRE_BYTES = 2
_WIRE_FIXED32 = 5


def _varint(value: int) -> bytes:
    # Negative int64 values are encoded as their 64-bit two's complement,
    # which is what protobuf does for int64 fields.
    value &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint((field << 3) | wire_type)


def _bytes_field(field: int, payload: bytes) -> bytes:
    return _key(field, _WIRE_BYTES) + _varint(len(payload)) + payload


def _pack_float32(value: float) -> bytes:
    # struct refuses finite values beyond the float32 range, whereas a float32
    # cast (numpy, torch) rounds them to infinity; do the same so that a huge
    # loss is logged as inf rather than crashing the training run.
    try:
        return struct.pack("<f", value)
    except OverflowError:
        return struct.pack("<f", math.copysign(math.inf, value))


def _scalar_value(tag: str, value: float) -> bytes:
    # Summary.Value: tag = 1 (string), simple_value = 2 (float).
    return _bytes_field(1, tag.encode("utf-8")) + _key(2, _WIRE_FIXED32) + _pack_float32(value)


def _event(wall_time: float, step: int | None = None, *, file_version: str | None = None,
           summary: bytes | None = None) -> bytes:
    # Event: wall_time = 1 (double), step = 2 (int64), file_version = 3, summary = 5.
    out = _key(1, _WIRE_FIXED64) + struct.pack("<d", wall_time)
    if step is not None:
        out += _key(2, _WIRE_VARINT) + _varint(step)
    if file_version is not None:
        out += _bytes_field(3, file_version.encode("utf-8"))
    if summary is not None:
        out += _bytes_field(5, summary)
    return out


def _record(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header))
            + data + struct.pack("<I", masked_crc32c(data)))


def _open_exclusive(path: Path) -> tuple[Path, BinaryIO]:
    # Two writers made by one process within the same second would get the
    # same name; never truncate another writer's file, add a suffix instead.
    candidate, n = path, 0
    while True:
        try:
            return candidate, open(candidate, "xb")
        except FileExistsError:
            n += 1
            candidate = path.with_name(f"{path.name}.{n}")


class EventWriter:
    """Append scalar summaries to a new TensorBoard event file in ``logdir``.

    Usage::

        with EventWriter("runs/exp1") as writer:
            writer.add_scalars({"loss": 0.5, "reward": 12.0}, step=100)
    """

    def __init__(self, logdir: str | os.PathLike[str]) -> None:
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        # TensorBoard only picks up files whose name contains "tfevents"; the
        # host/pid parts keep concurrent writers from clobbering each other.
        name = (f"events.out.tfevents.{int(time.time())}."
                f"{socket.gethostname()}.{os.getpid()}.thermorl")
        self.path, handle = _open_exclusive(self.logdir / name)
        self._file: BinaryIO | None = handle
        self._write(_event(time.time(), file_version="brain.Event:2"))
        # Make the file recognisable to TensorBoard even before the first flush.
        self.flush()

    @property
    def closed(self) -> bool:
        return self._file is None

    def _write(self, data: bytes) -> None:
        if self._file is None:
            raise ValueError("EventWriter is closed")
        self._file.write(_record(data))

    def add_scalars(self, scalars: Mapping[str, float | None], step: int,
                    wall_time: float | None = None) -> None:
        """Write one event holding every non-``None`` scalar in ``scalars``.

        Values are stored as float32, as TensorBoard's ``simple_value`` is;
        NaN and infinities are kept as they are.
        """
        values = b"".join(
            _bytes_field(1, _scalar_value(str(tag), float(value)))
            for tag, value in scalars.items()
            if value is not None
        )
        if wall_time is None:
            wall_time = time.time()
        self._write(_event(float(wall_time), int(step), summary=values))

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        """Flush and close the file; calling it again does nothing."""
        if self._file is not None:
            self._file.flush()
            self._file.close()
            self._file = None

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        # Best effort so buffered records are not lost if close() was forgotten.
        try:
            self.close()
        except Exception:
            pass
