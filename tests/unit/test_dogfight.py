"""thermorl/Dogfight-v0: spaces, dynamics, guns, masks, outcomes, seeding, rendering, the
two-agent PettingZoo env, and the difficulty targets (random loses, scripted pursuit wins)."""

import ast
import math
import pathlib
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

from thermorl.envs.dogfight import (ENV_ID, OBS_DIM, OBS_NAMES, Aircraft, DogfightEnv, Duel,
                                    Params, Rewards, register_envs)
from thermorl.envs.dogfight import core
from thermorl.envs.dogfight.policies import evaluate, pursuit_policy, random_policy

SURE_HITS = Params(hit_prob_near=1.0, hit_prob_far=1.0)
PERFECT_OPPONENT = {"accuracy": 1.0, "turn_noise": 0.0, "random_maneuver_prob": 0.0}
HARMLESS_OPPONENT = {"accuracy": 0.0}


class _Rng:
    """A stand-in generator whose uniform draws are a fixed value."""

    def __init__(self, u):
        self.u = u

    def random(self):
        return self.u


def act(maneuver=core.STRAIGHT, fire=0, throttle=0.0):
    return {"maneuver": maneuver, "fire": fire, "throttle": np.array([throttle], np.float32)}


def place(env, own: Aircraft, opp: Aircraft):
    """Put both aircraft where a test wants them (after reset)."""
    env.unwrapped.duel.a = own
    env.unwrapped.duel.b = opp


# --- registration and spaces -------------------------------------------------------------------

def test_register_is_idempotent_and_make_works():
    register_envs()
    register_envs()
    spec = gym.spec(ENV_ID)
    assert spec.entry_point == "thermorl.envs.dogfight.env:DogfightEnv"
    assert spec.max_episode_steps is None  # the env truncates itself
    env = gym.make(ENV_ID, max_steps=50)
    obs, info = env.reset(seed=0)
    assert obs.shape == (OBS_DIM,) and "action_mask" in info
    assert env.unwrapped.max_steps == 50


def test_check_env_passes():
    register_envs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # check_env must not even warn
        check_env(gym.make(ENV_ID, render_mode="rgb_array").unwrapped, skip_render_check=False)


def test_spaces_are_as_specified():
    env = DogfightEnv()
    a = env.action_space
    assert isinstance(a, spaces.Dict) and set(a.spaces) == {"maneuver", "fire", "throttle"}
    assert isinstance(a["maneuver"], spaces.Discrete) and 5 <= a["maneuver"].n <= 7
    assert a["fire"] == spaces.Discrete(2)
    assert a["throttle"] == spaces.Box(-1.0, 1.0, (1,), np.float32)
    o = env.observation_space
    assert isinstance(o, spaces.Box) and o.dtype == np.float32 and o.shape == (OBS_DIM,)
    assert np.all(o.low == -1.0) and np.all(o.high == 1.0) and len(OBS_NAMES) == OBS_DIM
    obs, info = env.reset(seed=1)
    mask = info["action_mask"]
    assert mask["maneuver"].dtype == bool and mask["maneuver"].shape == (a["maneuver"].n,)
    assert mask["maneuver"].all() and mask["fire"].tolist() == [True, True]


# --- seeding -----------------------------------------------------------------------------------

def _trajectory(seed, n=300):
    env = DogfightEnv()
    obs, info = env.reset(seed=seed)
    rng = np.random.default_rng(123)
    out = [obs]
    for _ in range(n):
        obs, r, term, trunc, info = env.step(random_policy(rng)(obs, info["action_mask"]))
        out.append(np.append(obs, [r, term, trunc]))
        if term or trunc:
            obs, info = env.reset()
            out.append(obs)
    return np.concatenate(out)


def test_same_seed_same_trajectory_and_different_seed_differs():
    a, b = _trajectory(7), _trajectory(7)
    assert np.array_equal(a, b)
    assert not np.array_equal(a[:OBS_DIM], _trajectory(8)[:OBS_DIM])


# --- dynamics ----------------------------------------------------------------------------------

def test_turn_rate_falls_with_speed_and_speed_stays_in_band():
    p = Params()
    assert core.turn_rate(p.v_max, p) < core.turn_rate(p.v_min, p) <= p.max_turn_rate
    slow, fast = Aircraft(speed=p.v_min), Aircraft(speed=p.v_max)
    core.move(slow, 0, 0.0, p)  # hard left
    core.move(fast, 0, 0.0, p)
    assert 0 < fast.heading < slow.heading  # left = counter-clockwise
    ac = Aircraft(x=10.0, y=10.0, speed=150.0)
    for _ in range(200):
        core.move(ac, 2, 1.0, p)
        assert p.v_min <= ac.speed <= p.v_max
        assert 0.0 <= ac.x < p.arena and 0.0 <= ac.y < p.arena  # wraps around
    assert ac.speed == p.v_max
    for _ in range(200):
        core.move(ac, 5, -1.0, p)  # break, throttle back
    assert ac.speed == p.v_min


def test_torus_distance_is_the_shortest_way_round():
    p = Params()
    a, b = Aircraft(x=10.0, y=10.0), Aircraft(x=p.arena - 10.0, y=10.0)
    assert core.displacement(a, b, p.arena) == pytest.approx((-20.0, 0.0))


# --- guns --------------------------------------------------------------------------------------

def test_hit_when_dead_ahead_in_range_and_not_when_behind_or_far():
    p = Params()
    sure = _Rng(0.0)
    for dx, dy, expect in [(200.0, 0.0, True), (p.gun_range - 1.0, 0.0, True),
                           (200.0, 200.0 * math.tan(p.gun_half_angle) * 0.9, True),
                           (-200.0, 0.0, False), (200.0, 200.0, False),
                           (p.gun_range + 50.0, 0.0, False)]:
        shooter = Aircraft(x=1000.0, y=1000.0, heading=0.0, ammo=5)
        target = Aircraft(x=1000.0 + dx, y=1000.0 + dy, heading=1.0, health=3)
        fired, hit = core.shoot(shooter, target, p, sure)
        assert fired and hit is expect, (dx, dy)
        assert shooter.ammo == 4 and shooter.cooldown == p.cooldown
    # a miss roll: inside the cone, but the draw is above the hit probability
    fired, hit = core.shoot(Aircraft(x=0.0, heading=0.0), Aircraft(x=400.0), p, _Rng(0.99))
    assert fired and not hit


def test_hit_probability_falls_with_range():
    p = Params()
    probs = [core.hit_probability(r, p) for r in (0.0, 100.0, 300.0, p.gun_range)]
    assert probs == sorted(probs, reverse=True) and probs[0] > probs[-1] > 0.0
    assert core.hit_probability(p.gun_range + 1.0, p) == 0.0


def test_duel_step_applies_hits_and_cooldown():
    p = Params()
    d = Duel(p)
    d.a = Aircraft(x=1000.0, y=1000.0, heading=0.0, speed=150.0, ammo=p.ammo, health=3)
    d.b = Aircraft(x=1150.0, y=1000.0, heading=0.0, speed=150.0, ammo=p.ammo, health=3)
    fa, ha, fb, hb = d.step((2, True, 0.0), (2, True, 0.0), _Rng(0.0))
    assert (fa, ha, fb, hb) == (True, True, True, False)  # b fires away from a: misses
    assert d.b.health == 2 and d.a.health == 3
    assert d.a.cooldown == p.cooldown - 1 and not d.a.can_fire()
    fa, ha, _, _ = d.step((2, True, 0.0), (2, False, 0.0), _Rng(0.0))
    assert not fa and not ha and d.b.health == 2  # cooling down: the trigger does nothing


def test_fire_mask_turns_off_when_empty_and_empty_gun_does_nothing():
    p = Params(health=1000)  # nobody dies while the gun empties
    env = DogfightEnv(params=p, opponent=HARMLESS_OPPONENT, max_steps=10_000)
    obs, info = env.reset(seed=0)
    fired = 0
    for _ in range(p.ammo * (p.cooldown + 1) + 20):
        ready = bool(info["action_mask"]["fire"][1])
        ammo = env.duel.a.ammo
        obs, r, term, trunc, info = env.step(act(fire=1))
        assert env.duel.a.ammo == ammo - int(ready)  # masked trigger pulls cost nothing
        fired += int(ready)
        if ready:  # cooldown: the mask is off right after a shot
            assert not info["action_mask"]["fire"][1] and obs[10] == 1.0
    assert fired == p.ammo and env.duel.a.ammo == 0
    assert info["action_mask"]["fire"].tolist() == [True, False] and obs[9] == 0.0
    assert info["action_mask"]["maneuver"].all()
    # an empty gun with the opponent dead ahead in range: no hit
    place(env, Aircraft(x=1000, y=1000, heading=0.0, speed=150, ammo=0, health=1000),
          Aircraft(x=1100, y=1000, heading=0.0, speed=150, ammo=p.ammo, health=1000))
    for _ in range(10):
        obs, r, term, trunc, info = env.step(act(fire=1))
        assert info["hits_scored"] == 0
    assert env.duel.b.health == 1000 and env.duel.a.ammo == 0


# --- outcomes ----------------------------------------------------------------------------------

def test_win_terminates_with_positive_reward():
    env = DogfightEnv(params=SURE_HITS)
    env.reset(seed=0)
    place(env, Aircraft(x=1000, y=1000, heading=0.0, speed=150, ammo=20, health=3),
          Aircraft(x=1150, y=1000, heading=0.0, speed=150, ammo=20, health=1))
    obs, r, term, trunc, info = env.step(act(fire=1))
    assert term and not trunc and info["outcome"] == "win"
    assert r >= Rewards().hit + Rewards().win - 2 * Rewards().shaping
    assert obs[12] == 0.0  # opponent health


def test_loss_terminates_with_negative_reward():
    env = DogfightEnv(params=SURE_HITS, opponent=PERFECT_OPPONENT)
    env.reset(seed=0)
    place(env, Aircraft(x=1150, y=1000, heading=0.0, speed=150, ammo=20, health=1),
          Aircraft(x=1000, y=1000, heading=0.0, speed=150, ammo=20, health=3))
    obs, r, term, trunc, info = env.step(act(fire=0))
    assert term and not trunc and info["outcome"] == "loss"
    assert r <= Rewards().hit_taken + Rewards().loss + 2 * Rewards().shaping
    assert obs[11] == 0.0  # own health


def test_mutual_kill_is_a_draw():
    env = DogfightEnv(params=SURE_HITS, opponent=PERFECT_OPPONENT)
    env.reset(seed=0)
    place(env, Aircraft(x=1000, y=1000, heading=0.0, speed=150, ammo=20, health=1),
          Aircraft(x=1200, y=1000, heading=math.pi, speed=150, ammo=20, health=1))
    obs, r, term, trunc, info = env.step(act(fire=1))
    assert term and info["outcome"] == "draw"


def test_truncation_at_the_limit():
    env = DogfightEnv(max_steps=25, opponent=HARMLESS_OPPONENT)
    obs, info = env.reset(seed=3)
    for t in range(25):
        obs, r, term, trunc, info = env.step(act())
        assert not term
        assert trunc == (t == 24)
    assert info["outcome"] == "draw" and obs[16] == 0.0
    with pytest.raises(RuntimeError):
        env.step(act())


def test_observation_stays_in_its_box():
    env = DogfightEnv()
    rng = np.random.default_rng(0)
    pol = random_policy(rng)
    obs, info = env.reset(seed=0)
    for _ in range(1500):
        obs, r, term, trunc, info = env.step(pol(obs, info["action_mask"]))
        assert env.observation_space.contains(obs)
        if term or trunc:
            obs, info = env.reset()


# --- rendering ---------------------------------------------------------------------------------

def test_render_rgb_array():
    env = DogfightEnv(render_mode="rgb_array", render_size=200)
    env.reset(seed=0)
    env.step(act(fire=1))
    img = env.render()
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (200, 200, 3)
    assert (img[..., 0] > 200).any() and (img[..., 2] > 200).any()  # red and blue aircraft
    assert DogfightEnv().render() is None


# --- two agents --------------------------------------------------------------------------------

def test_pettingzoo_parallel_api():
    pytest.importorskip("pettingzoo")
    from pettingzoo.test import parallel_api_test

    from thermorl.envs.dogfight.parallel import DogfightParallelEnv

    parallel_api_test(DogfightParallelEnv(max_steps=200), num_cycles=300)


def test_parallel_env_is_symmetric_and_reports_outcomes():
    pytest.importorskip("pettingzoo")
    from thermorl.envs.dogfight.parallel import DogfightParallelEnv

    env = DogfightParallelEnv(params=SURE_HITS, rewards=Rewards(shaping=0.0))  # outcomes only
    obs, infos = env.reset(seed=4)
    assert set(infos["red"]["action_mask"]) == {"maneuver", "fire"}
    d = env.duel
    d.a, d.b = d.b, d.a
    swapped = env._observe()
    assert np.array_equal(swapped["red"], obs["blue"]) and np.array_equal(swapped["blue"],
                                                                          obs["red"])
    d.a = Aircraft(x=1000, y=1000, heading=0.0, speed=150, ammo=20, health=1)
    d.b = Aircraft(x=1150, y=1000, heading=0.0, speed=150, ammo=20, health=1)
    obs, rew, term, trunc, infos = env.step({"red": act(fire=1), "blue": act(fire=1)})
    assert term == {"red": True, "blue": True} and trunc == {"red": False, "blue": False}
    assert infos["red"]["outcome"] == "win" and infos["blue"]["outcome"] == "loss"
    assert rew["red"] > 5.0 > 0.0 > -5.0 > rew["blue"]
    assert env.agents == []


def test_pettingzoo_is_imported_only_by_parallel_module():
    pkg = pathlib.Path(core.__file__).parent
    for f in pkg.glob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        assert ("pettingzoo" in names) == (f.name == "parallel.py"), f.name


# --- difficulty --------------------------------------------------------------------------------

def test_random_policy_loses_and_scripted_pursuit_wins():
    rand = evaluate(random_policy(np.random.default_rng(0)), 40, seed=0)
    pursue = evaluate(pursuit_policy, 40, seed=0)
    assert rand["win_rate"] < 0.2 and rand["loss"] > 20
    assert pursue["win_rate"] > 0.5 and pursue["win_rate"] > rand["win_rate"] + 0.3
