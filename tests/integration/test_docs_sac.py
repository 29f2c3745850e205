"""docs/sac.md's examples run as written."""

import shlex

from doc_blocks import doc_blocks

import thermorl
from thermorl.config_io import resolve


def blocks(lang):
    return doc_blocks("sac.md", lang)


def test_python_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (code,) = blocks("python")
    exec(compile(code, "docs/sac.md", "exec"), {})


def test_yaml_example_trains(tmp_path):
    (text,) = blocks("yaml")
    f = tmp_path / "h.yaml"
    f.write_text(text)
    cfg, _ = resolve(file=f)
    algo = thermorl.SAC(cfg.env_id, cfg).learn()
    assert algo.logger.latest["alpha/choice"] == 0.05
    assert algo.entropy.heads["value"].s.mode == "learned"


def test_cli_examples_parse(run_cli, monkeypatch):
    from thermorl import cli

    seen = []
    monkeypatch.setattr(cli, "cmd_train", lambda args, parser: seen.append(vars(args)) or 0)
    (cmds,) = blocks("bash")
    for line in cmds.splitlines():
        argv = shlex.split(line.split("#")[0])[1:]
        if argv and argv[0] == "train":
            assert cli.main(argv) == 0, line
    assert [s.get("cfg:algo") for s in seen] == ["sac", None, "sac"]
