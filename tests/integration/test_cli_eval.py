"""`thermorl eval`: JSON output, its modes and checkpoint choice."""

from __future__ import annotations

import json
import math


def one_json_line(out: str) -> dict:
    lines = out.splitlines()
    assert len(lines) == 1, out
    return json.loads(lines[0])


def test_eval_json_prints_one_line(run_cli, cartpole_run):
    r = run_cli("eval", cartpole_run, "--json", "--episodes", "3")
    assert r.rc == 0, r
    ev = one_json_line(r.out)
    assert set(ev) == {"mean_return", "std_return", "episodes"}
    assert ev["episodes"] == 3
    assert 1 <= ev["mean_return"] <= 500 and ev["std_return"] >= 0
    assert "Traceback" not in r.err


def test_eval_reproduces_the_final_eval(run_cli, it, cartpole_run):
    """Same checkpoint, episodes and default seed as the run's final evaluation: same numbers."""
    final = it.read_summary(cartpole_run)["final_eval"]
    ev = one_json_line(run_cli("eval", cartpole_run, "--json", "--episodes",
                               str(final["episodes"])).out)
    assert ev["mean_return"] == final["mean_return"]
    assert ev["std_return"] == final["std_return"]


def test_eval_seed_is_reproducible(run_cli, cartpole_run):
    a = one_json_line(run_cli("eval", cartpole_run, "--json", "--episodes", "3", "--seed", "5").out)
    b = one_json_line(run_cli("eval", cartpole_run, "--json", "--episodes", "3", "--seed", "5").out)
    assert a == b


def test_eval_stochastic(run_cli, cartpole_run):
    r = run_cli("eval", cartpole_run, "--json", "--episodes", "3", "--stochastic", "--seed", "1")
    assert r.rc == 0, r
    ev = one_json_line(r.out)
    assert ev["episodes"] == 3 and math.isfinite(ev["mean_return"])
    # the sampling generator comes from the checkpoint: the same command gives the same numbers
    again = run_cli("eval", cartpole_run, "--json", "--episodes", "3", "--stochastic", "--seed", "1")
    assert one_json_line(again.out) == ev
    # and the human-readable line says which mode it used
    text = run_cli("eval", cartpole_run, "--episodes", "2", "--stochastic")
    assert text.rc == 0 and "stochastic" in text.out and "CartPole-v1" in text.out


def test_eval_best_checkpoint_and_checkpoint_file(run_cli, cartpole_run):
    r = run_cli("eval", cartpole_run, "--json", "--episodes", "2", "--checkpoint", "best")
    assert r.rc == 0, r
    assert one_json_line(r.out)["episodes"] == 2
    text = run_cli("eval", cartpole_run, "--episodes", "2", "--checkpoint", "best")
    assert "best.pt" in text.out
    # a checkpoint file instead of a run directory
    f = cartpole_run / "checkpoints" / "latest.pt"
    r = run_cli("eval", f, "--json", "--episodes", "2")
    assert r.rc == 0, r
    assert one_json_line(r.out)["episodes"] == 2


def test_plot_command_writes_a_png(run_cli, cartpole_run, tmp_path):
    out = tmp_path / "p.png"
    res = run_cli("plot", cartpole_run, cartpole_run, "-o", out, "--labels", "a", "b")
    assert res.rc == 0, res.err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = run_cli("plot", tmp_path / "nope")
    assert bad.rc == 2 and "thermorl: error:" in bad.err and "nope" in bad.err


def test_eval_reports_outcomes_of_a_duel(run_cli, tmp_path):
    run = tmp_path / "duel"
    res = run_cli("train", "thermorl/Dogfight-v0", "--total-timesteps", "512", "--run-dir", run,
                  "--ppo.num_envs", "2", "--ppo.num_steps", "128", "--ppo.num_minibatches", "2",
                  "--ppo.update_epochs", "1", "--eval.episodes", "2", "--log.progress", "off")
    assert res.rc == 0, res.err
    ev = run_cli("eval", run, "--episodes", "4")
    assert ev.rc == 0 and "thermorl/Dogfight-v0" in ev.out
    assert any(w in ev.out for w in (", win ", ", loss ", ", draw "))
