"""docs/entropy.md's examples run as written."""


import yaml
from doc_blocks import doc_blocks

import thermorl
from thermorl.config_io import resolve


def blocks(lang):
    return doc_blocks("entropy.md", lang)


def test_python_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for code in blocks("python"):
        exec(compile(code, "docs/entropy.md", "exec"), {})


def test_yaml_example_builds_an_agent(tmp_path):
    text = next(b for b in blocks("yaml") if "env_id" in b)
    f = tmp_path / "e.yaml"
    f.write_text(text)
    cfg, _ = resolve(file=f)
    assert yaml.safe_load(text)["entropy"]["mode"] == cfg.entropy.mode == "learned"
    algo = thermorl.PPO(cfg.env_id, cfg)
    assert algo.entropy.heads["action"].s.coef_max == 0.3
    assert algo.entropy.heads["action"].target(1.0) < algo.entropy.heads["action"].target(0.0)


def test_noise_yaml_example_is_the_config_form():
    from thermorl.config import Config
    from thermorl.config_io import merge

    text = next(b for b in blocks("yaml") if "noise" in b)
    cfg = merge(Config(), yaml.safe_load(text))
    assert cfg.entropy.noise == {"beta": 1.0}
    assert cfg.entropy.heads["throttle"]["noise"] == {"beta": 0.5}
