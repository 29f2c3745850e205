"""docs/action_spaces.md's examples run as written."""

import re
from pathlib import Path

import yaml

DOC = (Path(__file__).resolve().parents[2] / "docs" / "action_spaces.md").read_text()


def test_python_example_runs():
    (code,) = re.findall(r"```python\n(.*?)```", DOC, flags=re.S)
    exec(compile(code, "docs/action_spaces.md", "exec"), {})


def test_yaml_example_is_the_config_form():
    from thermorl.config_io import merge
    from thermorl.config import Config

    (text,) = re.findall(r"```yaml\n(.*?)```", DOC, flags=re.S)
    cfg = merge(Config(), yaml.safe_load(text))
    assert cfg.policy.parameterized == {"kind": {0: "jump", 1: "run"}}


def test_cli_example_parses(run_cli, monkeypatch):
    from thermorl import cli

    (cmd,) = re.findall(r"```bash\n(.*?)```", DOC, flags=re.S)
    argv = cmd.replace("\\\n", " ").split()[1:]
    argv = [a.strip('"') for a in " ".join(argv).replace('"{std: 0.2}"', "{std:0.2}").split()]
    seen = {}
    monkeypatch.setattr(cli, "cmd_train", lambda args, parser: seen.update(vars(args)) or 0)
    assert cli.main(argv) == 0
    assert seen["cfg:entropy.heads.value.mode"] == "learned"
