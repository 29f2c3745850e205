"""docs/recurrent.md's examples run as written."""

import shlex

from doc_blocks import doc_blocks

import thermorl
from thermorl.config_io import resolve


def blocks(lang):
    return doc_blocks("recurrent.md", lang)


def test_python_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for code in blocks("python"):
        exec(compile(code, "docs/recurrent.md", "exec"), {})  # noqa: S102  the doc is ours
    back = thermorl.PPO.load(tmp_path / "memory.pt")
    assert back.recurrent and back.config.ppo.recurrent == "gru"


def test_yaml_example_trains_with_red_noise(tmp_path):
    (text,) = blocks("yaml")
    f = tmp_path / "r.yaml"
    f.write_text(text)
    cfg, _ = resolve(file=f, overrides={"log.progress": "off", "eval.freq": 0,
                                        "eval.episodes": 1})
    assert cfg.ppo.recurrent == "lstm" and cfg.entropy.noise == {"beta": 2.0}
    algo = thermorl.PPO(cfg.env_id, cfg).learn()
    assert algo.global_step == 1024


def test_cli_examples_are_valid_commands(run_cli, tmp_path):
    """Each documented `thermorl train` line parses and builds its agent (trained briefly)."""
    (bash,) = blocks("bash")
    lines = [shlex.split(ln.split("#")[0]) for ln in bash.splitlines()
             if ln.startswith("thermorl train")]
    assert len(lines) == 4
    for i, words in enumerate(lines):
        words = [w for w in words[2:] if w != "--run-dir"]
        words = [w for w in words if not w.startswith("runs/")]
        res = run_cli("train", *words, "--run-dir", tmp_path / str(i), "--total-timesteps", "256",
                      "--ppo.num_steps", "16", "--ppo.num_minibatches", "1", "--eval.episodes",
                      "1", "--log.progress", "off")
        assert res.rc == 0, (words, res.err)
