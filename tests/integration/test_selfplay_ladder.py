"""`thermorl ladder RUN`: a round robin among a self-play run's snapshots, rated by one fit."""

import json

import pytest

pytest.importorskip("pettingzoo")

SP = ["--selfplay.enabled", "true", "--selfplay.save_steps", "128", "--selfplay.swap_steps",
      "128", "--selfplay.eval_duels", "2", "--eval.freq", "0", "--log.tensorboard", "false"]


def test_ladder_on_dogfight_anchors_the_scripted_pilot(run_cli, it, tmp_path):
    run = tmp_path / "sp"
    r = run_cli("train", "thermorl/Dogfight-v0", "--total-timesteps", "512", "--run-dir", run,
                *it.FAST, *SP)
    assert r.rc == 0, r
    r = run_cli("ladder", run, "--snapshots", "3", "--duels", "2", "--json")
    assert r.rc == 0, r
    res = json.loads(r.out)
    names = [row["player"] for row in res["ratings"]]
    # 4 snapshots (128..512 steps); 3 chosen with first and last, then the scripted pilot
    assert names == ["snapshot-128", "snapshot-384", "snapshot-512", "scripted"]
    assert [row["step"] for row in res["ratings"]] == [128, 384, 512, None]
    assert res["anchor"] == "scripted" and res["ratings"][-1]["elo"] == 1200.0
    assert len(res["duels"]) == 6  # every pair of 4 players once
    assert all(d["win"] + d["draw"] + d["loss"] == 2 for d in res["duels"])
    assert isinstance(res["monotonic"], bool)
    r = run_cli("ladder", run, "--snapshots", "2", "--duels", "2", "--plot", tmp_path / "l.png")
    assert r.rc == 0, r
    assert "snapshots rise monotonically:" in r.out and (tmp_path / "l.png").stat().st_size > 0


def test_ladder_on_a_users_game_and_on_runs_without_snapshots(run_cli, it, tmp_path):
    run = tmp_path / "rps"
    r = run_cli("train", "selfplay_game:make_match", "--env_kwargs.rounds", "3",
                "--total-timesteps", "384", "--run-dir", run, *it.FAST, *SP)
    assert r.rc == 0, r
    r = run_cli("ladder", run, "--duels", "4", "--stochastic", "--json", "--trust-env-module")
    assert r.rc == 0, r
    res = json.loads(r.out)
    assert res["anchor"] == "snapshot-128"  # no scripted pilot: the first snapshot anchors
    assert [row["elo"] for row in res["ratings"]][0] == 1200.0 and len(res["duels"]) == 3
    plain = tmp_path / "plain"
    assert run_cli("train", "CartPole-v1", "--total-timesteps", "128", "--run-dir", plain,
                   *it.FAST, "--log.tensorboard", "false").rc == 0
    r = run_cli("ladder", plain)
    assert r.rc == 2 and "not a self-play run" in r.err
