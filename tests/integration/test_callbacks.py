"""Callbacks: each hook is called where documented, with what it says; a hook returning False
stops training cleanly (final checkpoint and summary written, resumable); set_target from a
callback moves the logged target; a metric added in one place of a learner reaches
metrics.csv, TensorBoard and the callbacks by its name, for PPO (both learners) and SAC."""

import csv
import json
import math

import pytest
import torch
from conftest import FAST_DOTTED
from doc_blocks import doc_blocks

import thermorl
from thermorl.learners import FusedPPOLearner, PPOLearner, SACLearner

SAC_FAST = {"total_timesteps": 600, "sac.learning_starts": 200, "sac.log_interval": 200,
            "sac.batch_size": 32, "policy.hidden_sizes": [32, 32], "eval.episodes": 2,
            "log.progress": "off"}


class Recorder(thermorl.Callback):
    def __init__(self, stop_after_updates=None):
        self.events, self.rows, self.evals, self.paths = [], [], [], []
        self.stop_after = stop_after_updates

    def on_rollout_end(self, algo):
        self.events.append(("rollout", algo.global_step))

    def on_update_end(self, algo, metrics):
        self.events.append(("update", algo.global_step))
        self.rows.append(dict(metrics))
        if self.stop_after is not None and algo.updates >= self.stop_after:
            return False
        return None

    def on_eval_end(self, algo, result):
        self.events.append(("eval", algo.global_step))
        self.evals.append(result)

    def on_checkpoint(self, algo, path):
        assert path.is_file()  # announced once written
        self.events.append(("checkpoint", path.name))
        self.paths.append(path)


def ppo(tmp_path=None, **extra):
    cfg = thermorl.make_config("CartPole-v1", **{**FAST_DOTTED, "total_timesteps": 512,
                                                 "eval.freq": 256, **extra})
    return thermorl.PPO("CartPole-v1", cfg, run_dir=tmp_path)


def test_hooks_fire_where_documented(tmp_path):
    rec = Recorder()
    algo = ppo(tmp_path / "run", **{"log.checkpoint_freq": 2})
    algo.learn(callbacks=[rec])
    kinds = [e[0] for e in rec.events]
    assert kinds.count("rollout") == kinds.count("update") == algo.updates == 4
    # each update's rollout comes first; evaluations (every 256 steps) land before the row
    assert kinds[:2] == ["rollout", "update"]
    assert [e[1] for e in rec.events if e[0] == "eval"] == [256, 512]
    assert len(rec.evals) == 2 and all("mean_return" in r for r in rec.evals)
    names = [e[1] for e in rec.events if e[0] == "checkpoint"]
    assert names.count("latest.pt") == 3 and "best.pt" in names  # updates 2, 4, and the final
    assert all(r["loss/policy"] == r["loss/policy"] for r in rec.rows)
    assert rec.rows[-1]["eval/mean_return"] == rec.evals[-1]["mean_return"]
    assert algo.stopped_by is None


@pytest.mark.parametrize("algo_name", ["ppo", "sac"])
def test_a_callback_stops_training_cleanly(tmp_path, algo_name):
    run = tmp_path / algo_name
    if algo_name == "ppo":
        algo = ppo(run, total_timesteps=10_000)
    else:
        cfg = thermorl.make_config("Pendulum-v1", algo="sac", **{**SAC_FAST,
                                                                 "total_timesteps": 10_000})
        algo = thermorl.SAC("Pendulum-v1", cfg, run_dir=run)
    rec = Recorder(stop_after_updates=2)
    algo.learn(callbacks=[rec])
    assert algo.updates == 2 and algo.global_step < 10_000
    assert algo.stopped_by == "Recorder.on_update_end"
    assert algo.final_eval is not None
    summary = json.loads((run / "summary.json").read_text())
    assert summary["stopped_by"] == "Recorder.on_update_end"
    assert summary["global_step"] == algo.global_step
    back = type(algo).load(run)  # the stopped state was checkpointed
    assert back.global_step == algo.global_step and back.updates == 2
    # a later learn() without the callback continues to the total
    back.learn(total_timesteps=algo.global_step + 1)
    assert back.global_step > algo.global_step and back.stopped_by is None


def test_set_target_from_a_callback_moves_the_logged_target():
    class Switch(thermorl.Callback):
        def on_update_end(self, algo, metrics):
            if algo.updates == 2:
                algo.set_target("action", {"fraction": 0.3})

    algo = ppo(total_timesteps=640, **{"entropy.mode": "learned",
                                       "entropy.target": {"fraction": 0.8}})
    algo.learn(callbacks=[Switch()])
    targets = [row["target_entropy/action"] for row in algo.logger.history]
    assert targets[:2] == pytest.approx([0.8 * math.log(2)] * 2)
    assert targets[2:] == pytest.approx([0.3 * math.log(2)] * (len(targets) - 2))
    # the actuator holds the new target from the next update on
    assert algo.logger.history[-1]["entropy/action"] == pytest.approx(0.3 * math.log(2),
                                                                       abs=0.02)


def test_callbacks_must_be_callback_instances():
    with pytest.raises(TypeError, match="thermorl.Callback"):
        ppo().learn(callbacks=[lambda algo: None])


def tensorboard_tags(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir / "tb"))
    acc.Reload()
    return {tag: [e.value for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def csv_column(run_dir, key):
    with (run_dir / "metrics.csv").open(newline="") as f:
        return [float(r[key]) for r in csv.DictReader(f) if r[key] != ""]


@pytest.mark.parametrize("learner", ["ppo-autograd", "ppo-fused", "sac"])
def test_a_new_named_metric_reaches_csv_tensorboard_and_callbacks(tmp_path, monkeypatch,
                                                                  learner):
    """The metric is added where the learner names its terms, and nowhere else."""
    key = "diag/my_metric"
    if learner == "ppo-autograd":  # a term of the autograd loss, as a tensor
        terms = PPOLearner._terms

        def added(self, mb, clip, coefs):
            loss, named, dist, weights = terms(self, mb, clip, coefs)
            named[key] = mb.mask.sum() * 0 + 0.25
            return loss, named, dist, weights
        monkeypatch.setattr(PPOLearner, "_terms", added)
    elif learner == "ppo-fused":  # a term of the fused learner's minibatch, by name
        evaluate = FusedPPOLearner._evaluate

        def added(self, mb, clip, coefs):
            ev = evaluate(self, mb, clip, coefs)
            ev.terms[key] = 0.25
            return ev
        monkeypatch.setattr(FusedPPOLearner, "_evaluate", added)
    else:  # a term of SAC's gradient step
        update = SACLearner.update

        def added(self, batch, progress):
            return {**update(self, batch, progress), key: 0.25}
        monkeypatch.setattr(SACLearner, "update", added)

    run = tmp_path / learner
    if learner == "sac":
        algo = thermorl.SAC("Pendulum-v1", thermorl.make_config("Pendulum-v1", algo="sac",
                                                                **SAC_FAST), run_dir=run)
    else:
        algo = ppo(run, **{"ppo.fused": learner == "ppo-fused"})
        assert isinstance(algo.learner, FusedPPOLearner) == (learner == "ppo-fused")
    rec = Recorder()
    algo.learn(callbacks=[rec])
    algo.close()
    seen = [row[key] for row in rec.rows if key in row]
    assert seen and seen == pytest.approx([0.25] * len(seen))
    assert csv_column(run, key) == pytest.approx(seen)
    assert tensorboard_tags(run)[key] == pytest.approx(seen)


def test_docs_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = doc_blocks("callbacks.md", "python")
    assert len(blocks) == 2
    for i, code in enumerate(blocks):
        torch.manual_seed(0)
        exec(compile(code, f"docs/callbacks.md[{i}]", "exec"), {})
