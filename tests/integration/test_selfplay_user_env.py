"""A user's own two-agent zero-sum game through `module:factory` (tests/integration/
selfplay_game.py: rock-paper-scissors over a few rounds), and the games self-play cannot use."""

import pytest

pytest.importorskip("pettingzoo")

SP = ["--selfplay.enabled", "true", "--selfplay.save_steps", "128", "--selfplay.swap_steps",
      "128", "--selfplay.eval_duels", "2", "--eval.freq", "256"]


def test_a_users_game_through_module_factory(run_cli, it, tmp_path):
    run = tmp_path / "rps"
    r = run_cli("train", "selfplay_game:make_match", "--env_kwargs.rounds", "3",
                "--total-timesteps", "512", "--run-dir", run, *it.FAST, *SP,
                "--log.tensorboard", "false")
    assert r.rc == 0, r
    header, rows = it.read_metrics(run)
    assert "selfplay/elo" in header and "eval/vs_pool/win" in header
    assert "eval/vs_scripted/win" not in header  # the game has no scripted opponent
    assert float(rows[-1]["episode/length"]) == 3
    # duels against snapshots moved the ratings
    table = it.read_summary(run)["selfplay"]["elo"]
    assert sum(row["games"] for row in table if row["player"] != "learner") > 0


@pytest.mark.parametrize("args,message", [
    (["selfplay_game:make_three_player"], "has 3 agents"),
    (["selfplay_game:make_match", "--selfplay.scripted_weight", "1"],
     "offers no scripted opponent"),
    (["selfplay_game:nothing_here"], "has no function 'nothing_here'"),
])
def test_games_self_play_cannot_use_are_one_line_naming_why(run_cli, tmp_path, args, message):
    r = run_cli("train", *args, "--selfplay.enabled", "true", "--total-timesteps", "128",
                "--run-dir", tmp_path / "x", "--log.progress", "off")
    assert r.rc == 2 and message in r.err, r
    assert len(r.err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
