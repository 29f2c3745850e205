"""Dynamics of the 2-D one-on-one dogfight, shared by the single-agent and the two-agent env.

Plain Python floats and the `math` module on the hot path (no arrays per step): a step of both
aircraft and both guns costs a few microseconds.

Conventions
-----------
* Positions in metres on a square **torus** of side `Params.arena` (wrap-around arena): leaving
  one edge re-enters at the opposite one, and all relative geometry uses the shortest
  (minimum-image) displacement. Two aircraft are therefore never more than `arena / sqrt(2)`
  apart and a duel cannot drift apart; there are no walls to learn.
* Headings in radians, counter-clockwise from +x, in [-pi, pi). A positive turn is a LEFT turn.
* One step is `Params.dt` seconds. Within a step, both guns are resolved first on the state both
  pilots observed (simultaneous fire, damage applied after both shots), then both aircraft move,
  then gun cooldowns count down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

PI = math.pi
TWO_PI = 2.0 * math.pi

#: Maneuver names, by action index.
MANEUVERS = ("hard_left", "left", "straight", "right", "hard_right", "break_left", "break_right")
#: Commanded turn as a fraction of the g-limited turn rate (positive = left / counter-clockwise).
#: The breaks turn 1.4x harder than a hard turn and bleed speed fast (`Params.turn_drag * u**2`).
TURN_FRACTION = (1.0, 0.5, 0.0, -0.5, -1.0, 1.4, -1.4)
N_MANEUVERS = len(MANEUVERS)
STRAIGHT = 2

#: Observation entries, by index (see `observe`).
OBS_NAMES = (
    "bearing_sin",      # 0  sin of the angle off own nose to the opponent (+ = on the left)
    "bearing_cos",      # 1  cos of it (+1 = dead ahead, -1 = dead astern)
    "range",            # 2  distance / (arena / sqrt 2), in [0, 1]
    "aspect_sin",       # 3  sin of opponent heading relative to the line of sight own -> opponent
    "aspect_cos",       # 4  cos of it (+1 = opponent flies away from us, -1 = it flies at us)
    "own_speed",        # 5  own speed mapped from [v_min, v_max] to [-1, 1]
    "opp_speed",        # 6  opponent speed, same map
    "closing_speed",    # 7  -d(range)/dt / (2 v_max), + = closing
    "los_rate",         # 8  line-of-sight rotation rate / max_turn_rate, clipped, + = CCW
    "own_ammo",         # 9  own ammunition fraction
    "own_cooldown",     # 10 1 while own gun cools down, else 0
    "own_health",       # 11 own health fraction
    "opp_health",       # 12 opponent health fraction
    "opp_ammo",         # 13 opponent ammunition fraction
    "in_cone",          # 14 1 if the opponent is inside own gun cone and range
    "threat",           # 15 1 if we are inside the opponent's gun cone and range
    "time_left",        # 16 1 - step / max_steps
)
OBS_DIM = len(OBS_NAMES)


@dataclass(frozen=True)
class Params:
    """Physical and game constants (SI units: m, s, rad)."""

    dt: float = 0.1
    arena: float = 2000.0            # side of the square torus
    v_min: float = 100.0
    v_max: float = 250.0
    accel: float = 25.0              # dv/dt at |throttle| = 1
    turn_accel: float = 70.0         # lateral acceleration of a hard turn: rate = turn_accel / v
    max_turn_rate: float = 0.7       # cap on the hard-turn rate (rad/s); breaks get 1.4x this
    turn_drag: float = 12.0          # speed bleed turn_drag * u**2 (u = turn fraction)
    gun_range: float = 500.0
    gun_half_angle: float = math.radians(12.0)
    hit_prob_near: float = 0.9       # hit probability at range 0 ...
    hit_prob_far: float = 0.3        # ... falling linearly to this at gun_range
    cooldown: int = 5                # steps between shots (a shot every 0.5 s at most)
    ammo: int = 20
    health: int = 3                  # hits to kill
    start_range: tuple = (600.0, 1200.0)
    start_speed: tuple = (150.0, 200.0)

    def __post_init__(self):
        if not (0 < self.v_min < self.v_max):
            raise ValueError(f"need 0 < v_min < v_max, got {self.v_min}, {self.v_max}")
        if self.start_range[1] > self.arena / math.sqrt(2.0):
            raise ValueError("start_range exceeds the largest distance on the torus")
        if self.ammo < 0 or self.health < 1 or self.cooldown < 0:
            raise ValueError("need ammo >= 0, health >= 1, cooldown >= 0")


class Aircraft:
    """The state of one aircraft."""

    __slots__ = ("x", "y", "heading", "speed", "ammo", "cooldown", "health")

    def __init__(self, x: float = 0.0, y: float = 0.0, heading: float = 0.0, speed: float = 150.0,
                 ammo: int = 20, cooldown: int = 0, health: int = 3):
        self.x = float(x)
        self.y = float(y)
        self.heading = float(heading)
        self.speed = float(speed)
        self.ammo = int(ammo)
        self.cooldown = int(cooldown)
        self.health = int(health)

    def can_fire(self) -> bool:
        return self.ammo > 0 and self.cooldown == 0

    def copy(self) -> "Aircraft":
        return Aircraft(self.x, self.y, self.heading, self.speed, self.ammo, self.cooldown,
                        self.health)

    def as_tuple(self) -> tuple:
        return (self.x, self.y, self.heading, self.speed, self.ammo, self.cooldown, self.health)

    def __repr__(self) -> str:
        return (f"Aircraft(x={self.x:.1f}, y={self.y:.1f}, heading={self.heading:.3f}, "
                f"speed={self.speed:.1f}, ammo={self.ammo}, cooldown={self.cooldown}, "
                f"health={self.health})")


def displacement(src: Aircraft, dst: Aircraft, side: float) -> tuple[float, float]:
    """Shortest vector from `src` to `dst` on the torus (positions are kept in [0, side))."""
    half = 0.5 * side
    dx = dst.x - src.x
    dy = dst.y - src.y
    if dx > half:
        dx -= side
    elif dx < -half:
        dx += side
    if dy > half:
        dy -= side
    elif dy < -half:
        dy += side
    return dx, dy


def turn_rate(speed: float, p: Params) -> float:
    """Hard-turn rate (rad/s) at `speed`: g-limited, so lower at high speed, and capped."""
    return min(p.max_turn_rate, p.turn_accel / speed)


def move(ac: Aircraft, maneuver: int, throttle: float, p: Params) -> None:
    """Advance one aircraft by `p.dt` under a maneuver index and a throttle in [-1, 1]."""
    u = TURN_FRACTION[maneuver]
    dt = p.dt
    v = ac.speed
    if u != 0.0:
        h = ac.heading + u * min(p.max_turn_rate, p.turn_accel / v) * dt
        ac.heading = (h + PI) % TWO_PI - PI
    v += (throttle * p.accel - p.turn_drag * u * u) * dt
    if v < p.v_min:
        v = p.v_min
    elif v > p.v_max:
        v = p.v_max
    ac.speed = v
    h = ac.heading
    side = p.arena
    ac.x = (ac.x + v * math.cos(h) * dt) % side
    ac.y = (ac.y + v * math.sin(h) * dt) % side


def gun_solution(shooter: Aircraft, target: Aircraft, p: Params) -> tuple[bool, float]:
    """(target inside the shooter's gun cone and range, range)."""
    dx, dy = displacement(shooter, target, p.arena)
    r = math.hypot(dx, dy)
    if r > p.gun_range:
        return False, r
    if r == 0.0:
        return True, r
    cos_off = (dx * math.cos(shooter.heading) + dy * math.sin(shooter.heading)) / r
    return cos_off >= math.cos(p.gun_half_angle), r


def hit_probability(r: float, p: Params) -> float:
    """Chance that one shot at range `r` inside the cone hits (0 beyond gun range)."""
    if r > p.gun_range:
        return 0.0
    return p.hit_prob_near + (p.hit_prob_far - p.hit_prob_near) * (r / p.gun_range)


def shoot(shooter: Aircraft, target: Aircraft, p: Params, rng, accuracy: float = 1.0
          ) -> tuple[bool, bool]:
    """Pull the trigger: returns (a round was fired, it hit). Does nothing when the gun is empty
    or cooling down. A fired round costs ammo and starts the cooldown; a hit needs the target in
    cone and range and `rng.random() < accuracy * hit_probability(range)` (drawn only then).
    Damage is not applied here (the caller applies both pilots' hits after both shots)."""
    if shooter.ammo <= 0 or shooter.cooldown > 0:
        return False, False
    shooter.ammo -= 1
    shooter.cooldown = p.cooldown
    ok, r = gun_solution(shooter, target, p)
    if not ok:
        return True, False
    return True, bool(rng.random() < accuracy * hit_probability(r, p))


class Duel:
    """Two aircraft, `a` and `b`, and a step counter. `step` advances both by one tick."""

    __slots__ = ("p", "a", "b", "t")

    def __init__(self, p: Params | None = None):
        self.p = p if p is not None else Params()
        self.a = Aircraft(ammo=self.p.ammo, health=self.p.health)
        self.b = Aircraft(ammo=self.p.ammo, health=self.p.health)
        self.t = 0

    def reset(self, rng: np.random.Generator) -> None:
        """Random start: `a` anywhere, `b` at a distance in `start_range` in a uniform direction,
        both headings uniform, speeds in `start_speed`. The law is symmetric in `a` and `b`."""
        p = self.p
        u = rng.random(8)
        r = p.start_range[0] + (p.start_range[1] - p.start_range[0]) * u[2]
        phi = TWO_PI * u[3]
        xa, ya = p.arena * u[0], p.arena * u[1]
        s0, s1 = p.start_speed
        self.a = Aircraft(xa, ya, TWO_PI * u[4] - PI, s0 + (s1 - s0) * u[5], p.ammo, 0, p.health)
        self.b = Aircraft((xa + r * math.cos(phi)) % p.arena, (ya + r * math.sin(phi)) % p.arena,
                          TWO_PI * u[6] - PI, s0 + (s1 - s0) * u[7], p.ammo, 0, p.health)
        self.t = 0

    def step(self, act_a: tuple, act_b: tuple, rng, accuracy_a: float = 1.0,
             accuracy_b: float = 1.0) -> tuple[bool, bool, bool, bool]:
        """One tick. Actions are (maneuver, fire, throttle). Returns
        (a fired, a hit b, b fired, b hit a)."""
        a, b, p = self.a, self.b, self.p
        fa = ha = fb = hb = False
        if act_a[1]:
            fa, ha = shoot(a, b, p, rng, accuracy_a)
        if act_b[1]:
            fb, hb = shoot(b, a, p, rng, accuracy_b)
        if ha:
            b.health -= 1
        if hb:
            a.health -= 1
        move(a, act_a[0], act_a[2], p)
        move(b, act_b[0], act_b[2], p)
        if a.cooldown > 0:
            a.cooldown -= 1
        if b.cooldown > 0:
            b.cooldown -= 1
        self.t += 1
        return fa, ha, fb, hb


def observe(me: Aircraft, other: Aircraft, p: Params, t: int, max_steps: int) -> np.ndarray:
    """The observation of `me` (float32, every entry in [-1, 1]; names in `OBS_NAMES`). It is
    relative geometry only: on the torus the game is invariant to translation and rotation."""
    dx, dy = displacement(me, other, p.arena)
    r = math.hypot(dx, dy)
    ch, sh = math.cos(me.heading), math.sin(me.heading)
    co, so = math.cos(other.heading), math.sin(other.heading)
    if r > 1e-9:
        lx, ly = dx / r, dy / r
    else:
        lx, ly = ch, sh
    b_cos = lx * ch + ly * sh
    b_sin = ly * ch - lx * sh
    a_cos = lx * co + ly * so
    a_sin = lx * so - ly * co
    v, vo = me.speed, other.speed
    dvx = vo * co - v * ch
    dvy = vo * so - v * sh
    two_vmax = 2.0 * p.v_max
    closing = -(lx * dvx + ly * dvy) / two_vmax
    los_rate = (lx * dvy - ly * dvx) / max(r, 1.0) / p.max_turn_rate
    if los_rate > 1.0:
        los_rate = 1.0
    elif los_rate < -1.0:
        los_rate = -1.0
    vmid = 0.5 * (p.v_min + p.v_max)
    vhalf = 0.5 * (p.v_max - p.v_min)
    cos_half = math.cos(p.gun_half_angle)
    in_range = r <= p.gun_range
    return np.array((
        b_sin, b_cos,
        min(1.0, r * math.sqrt(2.0) / p.arena),
        a_sin, a_cos,
        (v - vmid) / vhalf, (vo - vmid) / vhalf,
        max(-1.0, min(1.0, closing)),
        los_rate,
        me.ammo / p.ammo if p.ammo else 0.0,
        1.0 if me.cooldown > 0 else 0.0,
        me.health / p.health,
        max(0, other.health) / p.health,
        other.ammo / p.ammo if p.ammo else 0.0,
        1.0 if (in_range and b_cos >= cos_half) else 0.0,
        1.0 if (in_range and -a_cos >= cos_half) else 0.0,
        max(0.0, 1.0 - t / max_steps),
    ), dtype=np.float32)


def angular_advantage(obs: np.ndarray) -> float:
    """(cos ATA + cos AA) / 2 in [-1, 1] from an observation: +1 on the opponent's tail pointing at
    it, -1 with the opponent on our tail pointing at us, 0 head-on or beam-on."""
    return 0.5 * (float(obs[1]) + float(obs[4]))


@dataclass(frozen=True)
class Rewards:
    """Reward of one pilot per step. `shaping` scales a potential-based term
    `Phi(s') - Phi(s)` with `Phi = shaping * angular_advantage` (and `Phi = 0` after a terminal
    step), so its sum over an episode is bounded by `2 * shaping` whatever happens."""

    hit: float = 1.0           # per hit scored
    hit_taken: float = -0.5    # per hit taken
    win: float = 5.0           # opponent's health reaches 0 (and ours does not)
    loss: float = -5.0         # our health reaches 0 (and the opponent's does not)
    time: float = 0.0          # every step
    # 3.0, not a token 0.1: PPO found no wins in 1M steps with 0.1 or 1.0 (it learned to evade
    # and draw) and won 78% with 3.0. The term telescopes, so it cannot change which policy is
    # best and leaves every outcome (win, loss, draw) to the dynamics alone.
    shaping: float = 3.0


_FLIP = {"win": "loss", "loss": "win", "draw": "draw"}


def judge(duel: Duel) -> str | None:
    """The outcome for `a` once the duel is decided, else None: "win"/"loss" when one health
    reaches 0, "draw" when both do in the same step or both guns are empty (nothing can change
    any more). Truncation (a draw too) is the env's business."""
    a, b = duel.a, duel.b
    if a.health <= 0 or b.health <= 0:
        if a.health <= 0 and b.health <= 0:
            return "draw"
        return "win" if b.health <= 0 else "loss"
    if a.ammo <= 0 and b.ammo <= 0:
        return "draw"
    return None


def flip(outcome: str | None) -> str | None:
    """The same outcome seen from the other aircraft."""
    return None if outcome is None else _FLIP[outcome]


def step_reward(rw: Rewards, hits_scored: int, hits_taken: int, outcome: str | None,
                phi_before: float, phi_after: float) -> float:
    """One pilot's reward for one step; `phi_*` are its shaping potentials (already scaled)."""
    r = rw.hit * hits_scored + rw.hit_taken * hits_taken + rw.time
    if outcome == "win":
        r += rw.win
    elif outcome == "loss":
        r += rw.loss
    if outcome is not None:
        phi_after = 0.0
    return r + phi_after - phi_before


def action_mask(ac: Aircraft) -> dict:
    """{"maneuver": all allowed, "fire": [no-fire allowed, fire allowed]}: new arrays every call
    (callers keep what they are given)."""
    return {"maneuver": np.ones(N_MANEUVERS, dtype=bool),
            "fire": np.array((True, ac.ammo > 0 and ac.cooldown == 0), dtype=bool)}


def env_settings(render_mode: str | None, render_modes: list[str], max_steps: int,
                 params: "Params | dict | None", rewards: "Rewards | dict | None"
                 ) -> tuple[Params, Rewards]:
    """The argument checks both envs share. Dicts are accepted for `params` and `rewards` so
    that env_kwargs from YAML or the command line can set them."""
    if render_mode is not None and render_mode not in render_modes:
        raise ValueError(f"render_mode {render_mode!r} not in {render_modes}")
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    params = Params(**params) if isinstance(params, dict) else params or Params()
    rewards = Rewards(**rewards) if isinstance(rewards, dict) else rewards or Rewards()
    return params, rewards
