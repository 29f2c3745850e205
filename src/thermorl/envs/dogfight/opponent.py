"""The scripted opponent of the single-agent dogfight: noisy lead pursuit that fires in its cone."""

from __future__ import annotations

import math

from .core import N_MANEUVERS, STRAIGHT, TURN_FRACTION, Aircraft, Params, displacement

_HARD_TURNS = (0, 1, 2, 3, 4)  # the maneuvers without the breaks


class PursuitOpponent:
    """Turns toward a lead point (the target's position `lead_time` s ahead) with a proportional
    command (full turn at `gain_deg` off) plus Gaussian noise of std `turn_noise` (in turn
    fractions), quantized to the nearest maneuver (breaks included when `use_breaks`). Every step,
    with probability `random_maneuver_prob`, it starts a random maneuver held for
    `random_maneuver_steps` steps (it stops pursuing meanwhile). Throttle: `throttle` while the
    lead point is within `turn_throttle_deg` of its nose, `turn_throttle` (slow down to turn
    tighter) otherwise, plus uniform noise of `throttle_noise`. It fires, with probability
    `fire_prob`, whenever its gun is ready and the target is in its cone and range; each of its
    rounds hits with `accuracy` times the normal hit probability (perfect = 1).

    All randomness comes from the `rng` passed to `act` (the env's `np_random`)."""

    def __init__(self, turn_noise: float = 0.2, random_maneuver_prob: float = 0.005,
                 random_maneuver_steps: tuple[int, int] = (5, 20), accuracy: float = 0.85,
                 fire_prob: float = 1.0, lead_time: float = 0.3, gain_deg: float = 20.0,
                 throttle: float = 0.5, turn_throttle: float = -1.0,
                 turn_throttle_deg: float = 45.0, throttle_noise: float = 0.3,
                 use_breaks: bool = True):
        self.turn_noise = float(turn_noise)
        self.random_maneuver_prob = float(random_maneuver_prob)
        self.random_maneuver_steps = (int(random_maneuver_steps[0]), int(random_maneuver_steps[1]))
        self.accuracy = float(accuracy)
        self.fire_prob = float(fire_prob)
        self.lead_time = float(lead_time)
        self.gain = 1.0 / math.radians(gain_deg)
        self.throttle = float(throttle)
        self.turn_throttle = float(turn_throttle)
        self.cos_turn_throttle = math.cos(math.radians(turn_throttle_deg))
        self.throttle_noise = float(throttle_noise)
        self.maneuvers = tuple(range(N_MANEUVERS)) if use_breaks else _HARD_TURNS
        self._hold = 0
        self._hold_maneuver = STRAIGHT

    def reset(self) -> None:
        self._hold = 0
        self._hold_maneuver = STRAIGHT

    def act(self, me: Aircraft, target: Aircraft, p: Params, rng) -> tuple[int, bool, float]:
        """(maneuver, fire, throttle) for the aircraft `me` chasing `target`."""
        fire = False
        if me.ammo > 0 and me.cooldown == 0:
            dx, dy = displacement(me, target, p.arena)
            r = math.hypot(dx, dy)
            if r <= p.gun_range and (r == 0.0 or (dx * math.cos(me.heading)
                                                  + dy * math.sin(me.heading)) / r
                                     >= math.cos(p.gun_half_angle)):
                fire = rng.random() < self.fire_prob
        noise = self.throttle_noise * (2.0 * rng.random() - 1.0)
        if self._hold > 0:
            self._hold -= 1
            return self._hold_maneuver, fire, max(-1.0, min(1.0, self.throttle + noise))
        if rng.random() < self.random_maneuver_prob:
            lo, hi = self.random_maneuver_steps
            self._hold = int(rng.integers(lo, hi + 1)) - 1
            self._hold_maneuver = self.maneuvers[int(rng.integers(len(self.maneuvers)))]
            return self._hold_maneuver, fire, max(-1.0, min(1.0, self.throttle + noise))
        dx, dy = displacement(me, target, p.arena)
        lt = self.lead_time
        dx += target.speed * math.cos(target.heading) * lt
        dy += target.speed * math.sin(target.heading) * lt
        ch, sh = math.cos(me.heading), math.sin(me.heading)
        fwd, left = dx * ch + dy * sh, dy * ch - dx * sh
        err = math.atan2(left, fwd)
        off_nose = fwd < self.cos_turn_throttle * math.hypot(fwd, left)
        throttle = (self.turn_throttle if off_nose else self.throttle) + noise
        throttle = max(-1.0, min(1.0, throttle))
        u = self.gain * err + self.turn_noise * float(rng.standard_normal())
        best, best_d = STRAIGHT, 1e9
        for m in self.maneuvers:
            d = abs(TURN_FRACTION[m] - u)
            if d < best_d:
                best, best_d = m, d
        return best, fire, throttle
