"""Self-play training (issue 20): a Dogfight run against the pool, what it logs and saves, resume
of the pool, the ratings and the opponent, and the settings self-play cannot use."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytest.importorskip("pettingzoo")

import thermorl  # noqa: E402
from thermorl import Callback  # noqa: E402

SP = ["--selfplay.enabled", "true", "--selfplay.save_steps", "128", "--selfplay.swap_steps",
      "128", "--selfplay.eval_duels", "2", "--eval.freq", "256"]
SP_DOTTED = {"selfplay.enabled": True, "selfplay.save_steps": 128, "selfplay.swap_steps": 128,
             "selfplay.eval_duels": 2, "eval.freq": 256, "log.tensorboard": False}


@pytest.fixture(scope="module")
def dogfight_run(tmp_path_factory) -> Path:
    """A finished 512-step self-play Dogfight run with the scripted opponent in the pool."""
    from thermorl import cli

    fast = ["--ppo.num_envs", "2", "--ppo.num_steps", "64", "--ppo.num_minibatches", "2",
            "--ppo.update_epochs", "2", "--eval.episodes", "2", "--log.progress", "off"]
    d = tmp_path_factory.mktemp("sp") / "dogfight"
    rc = cli.main(["train", "thermorl/Dogfight-v0", "--total-timesteps", "512", "--run-dir",
                   str(d), *fast, *SP, "--selfplay.scripted_weight", "1",
                   "--log.tensorboard", "false"])
    assert rc == 0
    return d


def test_a_dogfight_run_logs_ratings_and_both_evaluations_and_keeps_snapshots(dogfight_run, it):
    header, rows = it.read_metrics(dogfight_run)
    for key in ("selfplay/elo", "selfplay/opponent_elo", "selfplay/snapshots",
                "eval/vs_scripted/win", "eval/vs_scripted/draw", "eval/vs_scripted/loss",
                "eval/vs_pool/win", "eval/vs_pool/draw", "eval/vs_pool/loss"):
        assert key in header, key
    assert [r["selfplay/snapshots"] for r in rows] == ["1.0", "2.0", "3.0", "4.0"]
    evals = [r for r in rows if r["eval/vs_scripted/win"] != ""]
    assert len(evals) == 2
    for r in evals:  # the run's own evaluation is the one against the scripted opponent
        assert sum(float(r[f"eval/vs_scripted/{o}"]) for o in ("win", "draw", "loss")) == 1
        assert float(r["eval/vs_scripted/loss"]) == float(r.get("eval/loss_rate") or 0)
    # snapshots in the run directory: weights only, the policy's keys
    names = sorted(p.name for p in (dogfight_run / "snapshots").iterdir())
    assert names == [f"snapshot-{s}.pt" for s in (128, 256, 384, 512)]
    latest = torch.load(dogfight_run / "checkpoints" / "latest.pt", weights_only=True)
    snap = torch.load(dogfight_run / "snapshots" / "snapshot-512.pt", weights_only=True)
    assert snap["policy"].keys() == latest["policy"].keys()
    assert all(torch.equal(snap["policy"][k], latest["policy"][k]) for k in snap["policy"])
    # the checkpoint holds the pool (its snapshots' weights included) and the ratings
    sp = latest["selfplay"]
    assert sp["pool"]["window"] == [f"snapshot-{s}" for s in (128, 256, 384, 512)]
    assert set(sp["pool"]["snapshots"]) >= set(sp["pool"]["window"])
    assert "learner" in sp["ratings"]["ratings"]
    summary = it.read_summary(dogfight_run)
    assert {row["player"] for row in summary["selfplay"]["elo"]} >= {"learner", "snapshot-128"}


class Opponents(Callback):
    """The opponent and the window after every update."""

    def __init__(self):
        self.seen = []

    def on_update_end(self, algo, metrics):
        self.seen.append((algo.global_step, algo.league.pool.current,
                          tuple(algo.league.pool.snapshots)))


def _equal(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b


def test_evaluations_from_the_same_seed_play_the_same_duels(it):
    """The eval envs' seats alternate per duel; a seeded evaluation starts them over."""
    cfg = thermorl.make_config("thermorl/Dogfight-v0", total_timesteps=128, **it.FAST_DOTTED,
                               **{**SP_DOTTED, "eval.freq": 0})
    algo = thermorl.PPO(cfg.env_id, cfg).learn()
    first, again = algo.evaluate(episodes=5), algo.evaluate(episodes=5)
    assert first["returns"] == again["returns"] and "outcomes" in first
    assert algo.league.play_pool(3, seed=7) == algo.league.play_pool(3, seed=7)


@pytest.mark.parametrize("gate", [0.0, 0.5])
def test_resume_restores_the_pool_the_ratings_and_the_opponent(it, tmp_path, gate):
    cfg = thermorl.make_config("thermorl/Dogfight-v0", total_timesteps=1024, seed=5,
                               **it.FAST_DOTTED, **{**SP_DOTTED, "eval.freq": 0},
                               **{"selfplay.scripted_weight": 1.0, "selfplay.window": 2,
                                  "selfplay.latest_ratio": 0.3, "selfplay.gate": gate,
                                  "selfplay.gate_duels": 2})
    whole = Opponents()
    thermorl.PPO(cfg.env_id, cfg).learn(callbacks=[whole])

    first = thermorl.PPO(cfg.env_id, cfg).learn(512)
    path = first.save(tmp_path / "half.pt")
    back = thermorl.PPO.load(path)
    assert _equal(back.league.state_dict(), first.league.state_dict())
    assert back.league.pool.current == first.league.pool.current
    ours = back.league.opponent_policy.state_dict()
    theirs = first.league.opponent_policy.state_dict()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert back.league.envs.opponent_name == first.league.envs.opponent_name
    assert back.league.ratings.table() == first.league.ratings.table()
    # the draws after the resume are the unsplit run's: same opponents, same windows
    rest = Opponents()
    back.learn(callbacks=[rest])
    assert rest.seen == whole.seen[4:]
    assert len({name for _, name, _ in whole.seen}) >= 2  # the draws did vary


def test_a_gated_pool_keeps_the_first_snapshot_and_those_that_passed(it, tmp_path):
    """With a gate, each save time after the first plays the learner against the newest
    snapshot; only a score at or above the gate enters the pool and snapshots/."""
    cfg = thermorl.make_config("thermorl/Dogfight-v0", total_timesteps=1280, seed=3,
                               **it.FAST_DOTTED, **{**SP_DOTTED, "eval.freq": 0},
                               **{"selfplay.gate": 0.6, "selfplay.gate_duels": 4,
                                  "selfplay.window": 100})
    algo = thermorl.PPO(cfg.env_id, cfg, run_dir=tmp_path / "gated").learn()
    header, rows = it.read_metrics(tmp_path / "gated")
    scores = {int(r["global_step"]): float(r["selfplay/gate_score"]) for r in rows
              if r["selfplay/gate_score"] != ""}
    assert sorted(scores) == list(range(256, 1281, 128))  # every save time after the first
    assert all(8 * v == int(8 * v) for v in scores.values())  # 4 duels, a draw half a win
    passed = [s for s, v in sorted(scores.items()) if v >= 0.6]
    assert 0 < len(passed) < len(scores), scores  # this seed's gate both admits and refuses
    assert algo.league.pool.snapshots == [f"snapshot-{s}" for s in [128, *passed]]
    names = {p.name for p in (tmp_path / "gated" / "snapshots").iterdir()}
    assert names == {f"snapshot-{s}.pt" for s in [128, *passed]}


@pytest.mark.parametrize("args,message", [
    (["CartPole-v1"], "CartPole-v1' has none; accepted: thermorl/Dogfight-v0"),
    (["thermorl/Dogfight-v0", "--algo", "sac"], "self-play trains PPO only"),
    (["thermorl/Dogfight-v0", "--ppo.recurrent", "lstm"], "feed-forward"),
    (["thermorl/Dogfight-v0", "--selfplay.latest_ratio", "1.5"],
     "selfplay.latest_ratio: expected a number >= 0 and <= 1"),
])
def test_what_self_play_cannot_use_is_one_line_naming_it(run_cli, tmp_path, args, message):
    r = run_cli("train", *args, "--selfplay.enabled", "true", "--total-timesteps", "128",
                "--run-dir", tmp_path / "x", "--log.progress", "off")
    assert r.rc == 2 and message in r.err, r
    assert len(r.err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
