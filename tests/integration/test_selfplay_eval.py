"""`thermorl eval RUN --opponent scripted|latest|RUN2`: duels between a run's pilot and an
opponent, counted from the pilot's side."""

import json
import re

import pytest

pytest.importorskip("pettingzoo")

SP = ["--selfplay.enabled", "true", "--selfplay.save_steps", "128", "--selfplay.swap_steps",
      "128", "--selfplay.eval_duels", "2", "--eval.freq", "0", "--log.tensorboard", "false"]


@pytest.fixture
def dogfight_run(run_cli, it, tmp_path):
    run = tmp_path / "dogfight"
    r = run_cli("train", "thermorl/Dogfight-v0", "--total-timesteps", "256", "--run-dir", run,
                *it.FAST, *SP)
    assert r.rc == 0, r
    return run


def test_eval_opponent_scripted_latest_and_another_run(run_cli, it, dogfight_run, tmp_path):
    r = run_cli("eval", dogfight_run, "--opponent", "scripted", "--episodes", "2")
    assert r.rc == 0, r
    assert re.search(r"vs scripted: win \d, draw \d, loss \d of 2 duels \(win rate \d+%; "
                     r"deterministic\)", r.out), r.out
    r = run_cli("eval", dogfight_run, "--opponent", "latest", "--episodes", "2", "--json")
    assert r.rc == 0, r
    res = json.loads(r.out)
    assert res["opponent"] == "latest" and res["win"] + res["draw"] + res["loss"] == 2
    # another run: a single-agent Dogfight run flies against the self-play pilot, and the
    # single-agent run can duel too (its env has a two-agent version)
    plain = tmp_path / "plain"
    assert run_cli("train", "thermorl/Dogfight-v0", "--total-timesteps", "128", "--run-dir",
                   plain, *it.FAST, "--log.tensorboard", "false").rc == 0
    r = run_cli("eval", dogfight_run, "--opponent", plain, "--episodes", "2", "--json")
    assert r.rc == 0, r
    res = json.loads(r.out)
    assert res["opponent"].endswith("latest.pt") and res["episodes"] == 2
    r = run_cli("eval", plain, "--opponent", "scripted", "--episodes", "2")
    assert r.rc == 0 and "of 2 duels" in r.out, r
    r = run_cli("eval", dogfight_run, "--opponent", tmp_path / "nope")
    assert r.rc == 2 and "accepted: scripted, latest, or a run directory" in r.err


def test_eval_opponent_on_a_users_game(run_cli, it, tmp_path):
    run = tmp_path / "rps"
    r = run_cli("train", "selfplay_game:make_match", "--env_kwargs.rounds", "3",
                "--total-timesteps", "256", "--run-dir", run, *it.FAST, *SP)
    assert r.rc == 0, r
    r = run_cli("eval", run, "--opponent", "latest", "--episodes", "6", "--stochastic",
                "--trust-env-module")
    assert r.rc == 0, r
    m = re.search(r"vs latest: win (\d+), draw (\d+), loss (\d+) of 6 duels", r.out)
    assert m and sum(map(int, m.groups())) == 6
    r = run_cli("eval", run, "--opponent", "scripted", "--trust-env-module")
    assert r.rc == 2 and "offers no scripted opponent" in r.err
    r = run_cli("eval", run, "--opponent", "latest", "--video", tmp_path / "v.gif",
                "--trust-env-module")
    assert r.rc == 2 and "not an RGB frame" in r.err and not (tmp_path / "v.gif").exists()


def test_duels_of_a_game_that_never_ends_are_cut_at_eval_max_episode_steps(run_cli, it,
                                                                           tmp_path):
    """The run's final evaluation and `eval --opponent` end: each duel is cut after
    `eval.max_episode_steps` steps and judged by the returns (the video's seat env:
    tests/unit/test_selfplay_adapter.py)."""
    run = tmp_path / "endless"
    r = run_cli("train", "selfplay_game:make_match", "--env-kwargs", "{rounds: null}",
                "--total-timesteps", "256", "--run-dir", run, *it.FAST, *SP,
                "--eval.max_episode_steps", "12", "--eval.episodes", "2")
    assert r.rc == 0, r
    r = run_cli("eval", run, "--opponent", "latest", "--episodes", "3", "--stochastic",
                "--trust-env-module", "--json")
    assert r.rc == 0, r
    res = json.loads(r.out)
    assert res["win"] + res["draw"] + res["loss"] == 3


@pytest.mark.parametrize("opponent", ["scripted", "latest"])
def test_video_of_duels_records_the_duels_eval_counts(run_cli, dogfight_run, tmp_path,
                                                      opponent):
    """Episode k of the video is duel k of `--opponent` with the same seed: the same seat
    (alternating), the same env seed, so (deterministic) the same outcome."""
    pytest.importorskip("PIL")
    r = run_cli("eval", dogfight_run, "--opponent", opponent, "--episodes", "2", "--json")
    counts = json.loads(r.out)
    out = tmp_path / "duel.gif"
    r = run_cli("eval", dogfight_run, "--opponent", opponent, "--video", out, "--episodes", "2",
                "--json")
    assert r.rc == 0, r
    rec = json.loads(r.out)
    assert rec["opponent"] == opponent and rec["frames"] == sum(rec["lengths"]) + 2
    assert {o: rec["outcomes"].count(o) for o in ("win", "draw", "loss")} == \
        {o: counts[o] for o in ("win", "draw", "loss")}
    from PIL import Image

    with Image.open(out) as im:
        assert im.n_frames == rec["frames"] and im.size == (400, 400)
