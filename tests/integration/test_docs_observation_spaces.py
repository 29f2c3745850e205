"""docs/observation_spaces.md's examples run as written and do what the doc says."""

import json
import re
import shlex
from pathlib import Path

import pytest

DOC = (Path(__file__).resolve().parents[2] / "docs" / "observation_spaces.md").read_text()


def test_frozenlake_example_reaches_the_goal(run_cli, tmp_path, monkeypatch):
    (cmd,) = re.findall(r"```bash\n(.*?)```", DOC, flags=re.S)
    argv = shlex.split(cmd.replace("\\\n", " "))
    assert argv[:2] == ["thermorl", "train"]
    monkeypatch.chdir(tmp_path)
    res = run_cli(*argv[1:], "--log.progress", "off")
    assert res.rc == 0, res.err
    summary = json.loads((tmp_path / "runs" / "frozenlake" / "summary.json").read_text())
    assert summary["final_eval"]["mean_return"] == 1.0


@pytest.mark.slow  # 4,096 steps through the convolutional encoder: about 13 s each
@pytest.mark.parametrize("which, encoder", [(0, "ImageEncoder"), (1, "MultiEncoder")])
def test_image_examples_run_and_learn(capsys, which, encoder):
    code = re.findall(r"```python\n(.*?)```", DOC, flags=re.S)[which]
    exec(compile(code, "docs/observation_spaces.md", "exec"), {})
    name, ret = capsys.readouterr().out.split()
    assert name == encoder and float(ret) >= 7.5


@pytest.mark.slow  # CartPole's preset, 100k steps: about 15 s
def test_wrappers_example_stacks_frames_and_solves_cartpole(capsys):
    code = re.findall(r"```python\n(.*?)```", DOC, flags=re.S)[2]
    assert "env_wrappers" in code
    exec(compile(code, "docs/observation_spaces.md", "exec"), {})
    shape, ret = capsys.readouterr().out.strip().split("\n")
    assert shape == "(2, 5)" and float(ret) >= 475, (shape, ret)
