import pytest
import torch

from thermorl import checkpoint
from thermorl.errors import ThermorlError


def test_save_load_weights_only(tmp_path):
    p = checkpoint.save({"x": torch.arange(3), "config": "a: 1\n", "n": 5}, tmp_path / "c.pt")
    raw = torch.load(p, weights_only=True)
    assert raw["n"] == 5 and raw["format"] == checkpoint.FORMAT
    assert torch.equal(checkpoint.load(p)["x"], torch.arange(3))


def test_failed_write_leaves_previous_checkpoint_intact(tmp_path, monkeypatch):
    p = checkpoint.save({"v": 1}, tmp_path / "latest.pt")

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(RuntimeError):
        checkpoint.save({"v": 2}, p)
    assert checkpoint.load(p)["v"] == 1
    assert [f.name for f in tmp_path.iterdir()] == ["latest.pt"]  # no temp file left behind


def test_foreign_and_missing_files_are_clear_errors(tmp_path):
    with pytest.raises(ThermorlError, match="no checkpoint at"):
        checkpoint.load(tmp_path / "nope.pt")
    torch.save({"hello": 1}, tmp_path / "other.pt")
    with pytest.raises(ThermorlError, match="not a thermorl checkpoint"):
        checkpoint.load(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a zip")
    with pytest.raises(ThermorlError, match="not a readable thermorl checkpoint"):
        checkpoint.load(tmp_path / "junk.pt")
    (tmp_path / "run").mkdir()
    with pytest.raises(ThermorlError, match="has no 'best' checkpoint"):
        checkpoint.find(tmp_path / "run", "best")
