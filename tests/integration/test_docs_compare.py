"""docs/compare.md: its example runs as written (bash expands the loops and the quoting; each
`thermorl` command it yields then runs in this process) and prints a table of the shape shown."""

import json
import re
import shutil
import subprocess

import pytest
from doc_blocks import DOCS, doc_blocks

from thermorl import cli

# Bash runs the block with `thermorl` as a function that only writes out its arguments, so the
# commands are the ones a shell would run, without paying a process start per command.
RECORD = "thermorl() { printf '%s\\x1f' \"$@\"; printf '\\x1e'; }\n"


def commands(block: str) -> list[list[str]]:
    out = subprocess.run(["bash", "-c", RECORD + block], capture_output=True, text=True,
                         check=True).stdout
    return [rec.split("\x1f")[:-1] for rec in out.split("\x1e")[:-1]]


def shape(text: str) -> list[list[str]]:
    """Each line's cells, numbers replaced by # (the runs' results differ between machines)."""
    return [re.split(r"\s{2,}", re.sub(r"\d[\d.,]*", "#", line).strip())
            for line in text.strip().splitlines()]


@pytest.mark.skipif(shutil.which("bash") is None, reason="the example is a bash script")
def test_example_runs_as_written(tmp_path, capsys):
    (block,) = doc_blocks("compare.md", "bash")
    cmds = commands(block)
    assert [c[0] for c in cmds] == ["train"] * 6 + ["compare", "compare", "plot"]
    assert cmds[0][cmds[0].index("--entropy.target") + 1] == "{fraction: 0.5}"
    outs = []
    for argv in cmds:
        capsys.readouterr()
        assert cli.main(argv) == 0, argv
        outs.append(capsys.readouterr().out)
    shown = doc_blocks("compare.md", "text")[-1]
    assert shape(outs[6]) == shape(shown)
    res = json.loads(outs[7])
    assert [(c["name"], c["runs"]) for c in res["configurations"]] == [
        ("ppo.learning_rate=0.001", 3), ("ppo.learning_rate=0.0003", 3)]
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"


def test_readme_commands_parse():
    """The README's section shows commands on a sweep it does not make; they must parse."""
    readme = (DOCS.parent / "README.md").read_text()
    section = readme[readme.index("## Comparing runs across seeds"):]
    block = re.findall(r"```bash\n(.*?)```", section, flags=re.S)[0]
    cmds = commands(block)
    assert [c[:2] for c in cmds] == [["compare", "sweep"], ["plot", "sweep"]]
    parser = cli.build_parser()
    assert parser.parse_args(cmds[0]).runs == ["sweep"]
    args = parser.parse_args(cmds[1])
    assert args.group and args.output == "sweep.png"
