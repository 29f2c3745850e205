"""The MuJoCo presets (rl-baselines3-zoo's sets for HalfCheetah-v5 and Hopper-v5) learn within a
short budget, seed 1, deterministic evaluation over 5 episodes. Zero actions score about 0 on
HalfCheetah (uniformly random ones about -270) and 120-150 on Hopper (random: about 13); each
threshold is well above that and at most about half of what was measured here (stated beside
each)."""

import pytest

import thermorl

pytest.importorskip("mujoco")
pytestmark = pytest.mark.slow


def run(algo, env_id, total, preset="auto"):
    cfg = thermorl.make_config(env_id, algo=algo, seed=1, total_timesteps=total, preset=preset,
                               **{"eval.freq": 0, "eval.episodes": 5, "log.progress": "off",
                                  "log.tensorboard": False})
    assert thermorl.make_config(env_id, algo=algo, preset=preset).total_timesteps == 1_000_000
    return (thermorl.SAC if algo == "sac" else thermorl.PPO)(env_id, cfg).learn()


# Hopper-v5's zoo set applies by name only (a plain Hopper-v5 run gets the general set at 1M
# steps, which the suite measured at 1M; docs/defaults.md); here it is the zoo's set that learns
@pytest.mark.parametrize("env_id,preset,threshold", [
    ("HalfCheetah-v5", "auto", 1000.0),  # at 50k steps: 1801 (seed 1), 1808 (seed 2); ~60 s
    ("Hopper-v5", "zoo/Hopper-v5", 600.0),  # at 50k steps: 985 (seed 1), 1014 (seed 2); ~50 s
])
def test_ppo_zoo_set_learns_in_50k_steps(env_id, preset, threshold):
    algo = run("ppo", env_id, 50_000, preset)
    assert algo.config.ppo.num_envs == 1 and algo.config.ppo.norm_obs  # the zoo's set
    assert algo.final_eval["mean_return"] >= threshold, algo.final_eval


def test_ppo_hopper_default_learns_in_100k_steps():
    # a plain Hopper-v5 run gets the general set at 1M steps (presets.PRESET_NOTES); measured at
    # 100k steps: 575 (seed 1), 662 (seed 2); ~100 s. At 1M the suite measured 2,812-3,543.
    algo = run("ppo", "Hopper-v5", 100_000)
    assert algo.config.ppo.num_envs == 4 and algo.config.ppo.num_minibatches == 32  # general
    assert algo.final_eval["mean_return"] >= 350.0, algo.final_eval


def test_sac_hopper_preset_learns_in_20k_steps():
    # 10k uniformly random steps (the zoo's learning_starts), then 10k gradient steps; measured
    # 765 (seed 1) and 291 (seed 2); ~150 s
    algo = run("sac", "Hopper-v5", 20_000)
    assert algo.config.sac.learning_starts == 10_000
    assert algo.final_eval["mean_return"] >= 300.0, algo.final_eval


def test_sac_halfcheetah_preset_learns_in_35k_steps():
    # 10k uniformly random steps, then 25k gradient steps; measured 2543 (seed 1; at 20k steps
    # it had not yet moved: -55 and -333 for seeds 1 and 2); ~6-8 min on 2 slow cores
    algo = run("sac", "HalfCheetah-v5", 35_000)
    assert algo.final_eval["mean_return"] >= 1200.0, algo.final_eval
