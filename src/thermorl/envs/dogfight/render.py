"""An RGB frame of a duel, drawn with numpy only (no pygame).

Every shape is drawn by a per-pixel test on the minimum-image displacement from the aircraft, so
shapes that cross an edge of the wrap-around arena reappear on the opposite edge, as the
aircraft do. Aircraft `a` is red (the agent in `DogfightEnv`), `b` blue; `a`'s gun cone is a
translucent sector (both cones in the two-agent env); a fired round is a thin yellow tracer and a
hit a white ring on the aircraft hit. Health pips and an ammo bar run along the top edge."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .core import Aircraft, Duel

BACKGROUND = np.array((14, 22, 44), np.uint8)
GRID = np.array((34, 46, 78), np.float32)
RED = np.array((235, 80, 60), np.float32)
BLUE = np.array((80, 160, 255), np.float32)
TRACER = np.array((255, 230, 90), np.float32)
FLASH = np.array((255, 255, 255), np.float32)
EMPTY = np.array((70, 70, 80), np.float32)


@lru_cache(maxsize=4)
def _grid(size: int, side: float) -> tuple[np.ndarray, np.ndarray]:
    """World coordinates (m) of pixel centres; row 0 is the top (largest y)."""
    c = (np.arange(size, dtype=np.float32) + 0.5) * (side / size)
    return c[None, :].repeat(size, 0), c[::-1, None].repeat(size, 1)


def _body(ac: Aircraft, side: float, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-pixel (forward, left, distance) of the pixel centre in `ac`'s body frame, metres."""
    gx, gy = _grid(size, side)
    dx = gx - np.float32(ac.x)
    dy = gy - np.float32(ac.y)
    half = side / 2
    dx = np.where(dx > half, dx - side, np.where(dx < -half, dx + side, dx))
    dy = np.where(dy > half, dy - side, np.where(dy < -half, dy + side, dy))
    c, s = math.cos(ac.heading), math.sin(ac.heading)
    fwd = dx * c + dy * s
    left = dy * c - dx * s
    return fwd, left, np.hypot(dx, dy)


def _blend(img: np.ndarray, mask: np.ndarray, colour: np.ndarray, alpha: float) -> None:
    img[mask] = (1.0 - alpha) * img[mask] + alpha * colour


def _triangle(fwd, left, length: float) -> np.ndarray:
    width = 0.45 * length
    return (fwd >= -0.5 * length) & (fwd <= length) & (
        np.abs(left) <= width * (length - fwd) / (1.5 * length))


def _cone(fwd, dist, rng: float, half_angle: float) -> np.ndarray:
    return (dist <= rng) & (fwd >= dist * math.cos(half_angle))


def render_duel(duel: Duel, size: int = 400, events: tuple = (False, False, False, False),
                cones: tuple[bool, bool] = (True, False)) -> np.ndarray:
    """A `size` x `size` x 3 uint8 frame. `events` = (a fired, a hit b, b fired, b hit a) of the
    last step; `cones` says whose gun cone to draw."""
    p = duel.p
    side = p.arena
    img = np.empty((size, size, 3), np.float32)
    img[:] = BACKGROUND
    px_per_m = size / side
    step = max(1, int(round(250.0 * px_per_m)))
    img[::step, :] = GRID
    img[:, ::step] = GRID
    length = max(40.0, 12.0 / px_per_m)  # aircraft drawn at least ~12 px long
    frames = [_body(duel.a, side, size), _body(duel.b, side, size)]
    colours = (RED, BLUE)
    for i in (0, 1):
        fwd, left, dist = frames[i]
        if cones[i]:
            _blend(img, _cone(fwd, dist, p.gun_range, p.gun_half_angle), colours[i], 0.22)
        if events[2 * i]:
            _blend(img, _cone(fwd, dist, p.gun_range, math.radians(0.8)) & (fwd > length),
                   TRACER, 0.9)
    for i in (0, 1):
        fwd, left, dist = frames[i]
        hit_by_other = events[3 - 2 * i]
        if hit_by_other:
            ring = (dist >= 1.4 * length) & (dist <= 1.4 * length + 3.0 / px_per_m)
            _blend(img, ring, FLASH, 1.0)
        _blend(img, _triangle(fwd, left, length), colours[i], 1.0)
    # HUD: health pips and an ammo bar, a at the top left, b at the top right
    pip = max(4, size // 50)
    for i, ac in enumerate((duel.a, duel.b)):
        for k in range(p.health):
            offset = pip + k * (pip + pip // 2)
            x0 = offset if i == 0 else size - offset - pip
            img[pip:2 * pip, x0:x0 + pip] = colours[i] if k < ac.health else EMPTY
        bar = size // 4
        x0 = pip if i == 0 else size - pip - bar
        filled = int(round(bar * ac.ammo / p.ammo)) if p.ammo else 0
        img[int(2.4 * pip):int(2.4 * pip) + max(2, pip // 3), x0:x0 + bar] = EMPTY
        img[int(2.4 * pip):int(2.4 * pip) + max(2, pip // 3), x0:x0 + filled] = TRACER
    return img.astype(np.uint8)
