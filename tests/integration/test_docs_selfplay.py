"""docs/dogfight.md, Self-play: its commands run as written (bash expands them; each `thermorl`
command then runs in this process), the user's game included, and print what the text says."""

import re
import shutil
import subprocess
import sys

import pytest
from doc_blocks import DOCS

from thermorl import cli

pytest.importorskip("pettingzoo")
pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="the examples are bash")

RECORD = "thermorl() { printf '%s\\x1f' \"$@\"; printf '\\x1e'; }\n"


def commands(block: str) -> list[list[str]]:
    out = subprocess.run(["bash", "-c", RECORD + block], capture_output=True, text=True,
                         check=True).stdout
    return [rec.split("\x1f")[:-1] for rec in out.split("\x1e")[:-1]]


def section() -> str:
    text = (DOCS / "dogfight.md").read_text()
    return text[text.index("## Self-play"):text.index("## For training")]


def run(cmds, capsys) -> list[str]:
    outs = []
    for argv in cmds:
        capsys.readouterr()
        assert cli.main(argv + ["--log.progress", "off"] if argv[0] == "train" else argv) == 0
        outs.append(capsys.readouterr().out)
    return outs


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", section(), flags=re.DOTALL)


def test_the_dogfight_example_runs_as_written(tmp_path, capsys):
    cmds = commands(blocks("bash")[0])
    assert [c[0] for c in cmds] == ["train", "eval", "ladder"]
    outs = run(cmds, capsys)
    assert re.search(r"win \d+, draw \d+, loss \d+ of 10 duels", outs[1]), outs[1]
    assert len(list((tmp_path / "runs/sp/snapshots").iterdir())) == 4
    # the ladder: the 4 snapshots by step, then the scripted pilot at 1200
    rows = re.findall(r"^(snapshot-\d+|scripted)\s", outs[2], flags=re.MULTILINE)
    assert rows == ["snapshot-4096", "snapshot-8192", "snapshot-12288", "snapshot-16384",
                    "scripted"], outs[2]
    assert re.search(r"^scripted\s+1200\.0\s+0\.0$", outs[2], flags=re.MULTILINE), outs[2]
    assert "snapshots rise monotonically:" in outs[2]
    assert (tmp_path / "runs/sp/ladder.png").stat().st_size > 0


def test_the_users_game_runs_as_written(tmp_path, capsys, monkeypatch):
    (code,) = blocks("python")
    (tmp_path / "rps.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "rps", raising=False)
    cmds = commands(blocks("bash")[1])
    assert [c[0] for c in cmds] == ["train", "eval"] and cmds[0][1] == "rps:make_match"
    outs = run(cmds, capsys)
    assert re.search(r"win \d+, draw \d+, loss \d+ of 20 duels", outs[1]), outs[1]
