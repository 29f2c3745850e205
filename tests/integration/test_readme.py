"""The README's examples run as written."""

import re
from pathlib import Path

import pytest

from thermorl.config_io import resolve

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_python_quickstart_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _ = blocks("python")
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert (tmp_path / "runs" / "readme-example" / "summary.json").is_file()
    assert scope["again"].global_step == scope["algo"].global_step


def test_callbacks_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, code = blocks("python")
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    algo = scope["algo"]
    assert algo.stopped_by == "StopOnReturn.on_update_end" and algo.global_step < 50_000


def test_yaml_example_resolves(tmp_path):
    (text,) = blocks("yaml")
    f = tmp_path / "cartpole.yaml"
    f.write_text(text)
    cfg, preset = resolve(file=f, overrides={"ppo.learning_rate": "5e-4"})
    assert preset == "CartPole-v1" and cfg.total_timesteps == 60000 and cfg.seed == 3
    assert cfg.ppo.ent_coef == 0.01 and cfg.ppo.learning_rate == 5e-4


@pytest.mark.parametrize("cmd", ["pip install -c constraints.txt -e .", "thermorl train",
                                 "python -m pytest -n 2",
                                 # the benchmark: the install with its extra, and one command
                                 "pip install -q -c constraints.txt -e \".[bench]\"",
                                 "benchmarks/compare.py --case all --repeats 2 --floor",
                                 "benchmarks/entropy_tracking.py --jobs 2"])
def test_two_commands_are_in_the_readme(cmd):
    assert cmd in README
