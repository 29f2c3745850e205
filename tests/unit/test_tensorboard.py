"""The hand-written event-file writer: CRC-32C, TFRecord framing, and TensorBoard's reader."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import pytest

from thermorl.tensorboard import EventWriter, crc32c, masked_crc32c

STEPS: list[tuple[int, dict[str, float | None]]] = [
    (0, {"loss/policy": 1.5, "loss/value": 0.25, "entropy": 0.693}),
    (10, {"loss/policy": 1.25, "loss/value": 0.125, "entropy": 0.5}),
    (25, {"loss/policy": -3.75, "loss/value": None, "entropy": 1e-7}),
]


def _write_run(logdir: Path) -> Path:
    with EventWriter(logdir) as writer:
        for step, scalars in STEPS:
            writer.add_scalars(scalars, step=step, wall_time=1000.0 + step)
    return writer.path


def _read_records(path: Path) -> list[bytes]:
    """Split a TFRecord file into payloads, checking lengths and both CRCs."""
    data = path.read_bytes()
    records, pos = [], 0
    while pos < len(data):
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        assert header_crc == masked_crc32c(header)
        payload = data[pos + 12:pos + 12 + length]
        assert len(payload) == length
        (payload_crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        assert payload_crc == masked_crc32c(payload)
        records.append(payload)
        pos += 16 + length
    assert pos == len(data)
    return records


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """Decode one protobuf message into (field number, raw value) pairs."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
            out.append((field, value))
        elif wire == 1:
            out.append((field, buf[pos:pos + 8]))
            pos += 8
        elif wire == 2:
            length, pos = _read_varint(buf, pos)
            out.append((field, buf[pos:pos + length]))
            pos += length
        elif wire == 5:
            out.append((field, buf[pos:pos + 4]))
            pos += 4
        else:
            raise AssertionError(f"unexpected wire type {wire}")
    return out


def test_crc32c_known_vectors() -> None:
    assert crc32c(b"") == 0
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(bytes(32)) == 0x8A9136AA


def test_records_framed_and_encoded(tmp_path: Path) -> None:
    path = _write_run(tmp_path / "run")
    assert path.parent == tmp_path / "run"
    assert path.name.startswith("events.out.tfevents.")
    assert path.name.endswith(".thermorl")

    records = _read_records(path)
    assert len(records) == 1 + len(STEPS)
    assert dict(_fields(records[0]))[3] == b"brain.Event:2"

    for record, (step, scalars) in zip(records[1:], STEPS):
        event = dict(_fields(record))
        assert struct.unpack("<d", event[1])[0] == 1000.0 + step
        assert event.get(2, 0) == step
        summary = _fields(event[5])
        decoded = {}
        for field, value in summary:
            assert field == 1
            value_fields = dict(_fields(value))
            decoded[value_fields[1].decode()] = struct.unpack("<f", value_fields[2])[0]
        expected = {k: v for k, v in scalars.items() if v is not None}
        assert decoded.keys() == expected.keys()
        for tag, value in expected.items():
            assert decoded[tag] == pytest.approx(value, rel=1e-6)


def test_non_finite_and_overflowing_values(tmp_path: Path) -> None:
    with EventWriter(tmp_path) as writer:
        writer.add_scalars({"nan": math.nan, "inf": math.inf, "big": -1e300}, step=3)
    record = _read_records(writer.path)[1]
    values = {}
    for _, value in _fields(dict(_fields(record))[5]):
        value_fields = dict(_fields(value))
        values[value_fields[1].decode()] = struct.unpack("<f", value_fields[2])[0]
    assert math.isnan(values["nan"])
    assert values["inf"] == math.inf
    assert values["big"] == -math.inf


def test_close_is_idempotent_and_writes_after_close_fail(tmp_path: Path) -> None:
    writer = EventWriter(tmp_path)
    writer.add_scalars({"x": 1.0}, step=1)
    writer.close()
    writer.close()
    assert writer.closed
    with pytest.raises(ValueError):
        writer.add_scalars({"x": 2.0}, step=2)
    assert len(_read_records(writer.path)) == 2


def test_two_writers_in_one_dir_do_not_clobber(tmp_path: Path) -> None:
    with EventWriter(tmp_path) as first, EventWriter(tmp_path) as second:
        first.add_scalars({"a": 1.0}, step=1)
        second.add_scalars({"b": 2.0}, step=1)
    assert first.path != second.path
    assert len(_read_records(first.path)) == 2
    assert len(_read_records(second.path)) == 2


def test_tensorboard_reads_scalars(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logdir = tmp_path / "run"
    _write_run(logdir)
    accumulator = EventAccumulator(str(logdir))
    accumulator.Reload()

    assert sorted(accumulator.Tags()["scalars"]) == ["entropy", "loss/policy", "loss/value"]
    for tag in ("loss/policy", "loss/value", "entropy"):
        expected = [(step, s[tag]) for step, s in STEPS if s[tag] is not None]
        events = accumulator.Scalars(tag)
        assert [e.step for e in events] == [step for step, _ in expected]
        assert [e.wall_time for e in events] == [1000.0 + step for step, _ in expected]
        for event, (_, value) in zip(events, expected):
            assert event.value == pytest.approx(value, rel=1e-6)
