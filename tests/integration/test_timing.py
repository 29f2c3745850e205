"""Where training time goes: the phases add up to the training time and each is plausible."""

import pytest

import thermorl


@pytest.mark.parametrize("algo,env,steps", [("ppo", "CartPole-v1", 1024),
                                            ("sac", "Pendulum-v1", 300)])
def test_time_breakdown_covers_training(algo, env, steps):
    cfg = thermorl.make_config(env, algo=algo, total_timesteps=steps, **{
        "eval.freq": 0, "eval.episodes": 1, "log.progress": "off",
        **({"sac.learning_starts": 100, "sac.batch_size": 32} if algo == "sac" else {})})
    a = (thermorl.PPO if algo == "ppo" else thermorl.SAC)(env, cfg).learn()
    b = a.time_breakdown()
    assert set(b) == {"env", "inference", "update", "other"}
    assert all(v >= 0 for v in b.values()) and b["env"] > 0 and b["update"] > 0
    assert sum(b.values()) == pytest.approx(a.elapsed, rel=1e-6)
    assert a.logger.latest["perf/update_total_s"] == pytest.approx(b["update"])


def test_breakdown_survives_a_checkpoint(tmp_path):
    cfg = thermorl.make_config("CartPole-v1", total_timesteps=512, **{
        "eval.freq": 0, "eval.episodes": 1, "log.progress": "off"})
    a = thermorl.PPO("CartPole-v1", cfg, run_dir=tmp_path / "r").learn()
    back = thermorl.PPO.load(tmp_path / "r")
    assert back.time_breakdown() == pytest.approx(a.time_breakdown())
