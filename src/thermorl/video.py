"""Evaluation episodes recorded to a video, from the env's own `rgb_array` frames.

Episodes are played one after another on one env made with `render_mode="rgb_array"`, acting
through `predict` (so observation normalization, masks and a recurrent state are as in any
evaluation), and every frame is kept: the one after the reset and one after each step, so an
episode of T steps gives T + 1 frames. `.mp4` is written as it is played (H.264 through
imageio-ffmpeg, the `[video]` extra); `.gif` through Pillow, holding the episode's frames in
memory as palette images, so it suits short clips.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .envs import make_render_env
from .envs.spaces import ACTION_MASK_KEY
from .errors import ThermorlError

FORMATS = (".mp4", ".gif")
DEFAULT_FPS = 30
EXTRA_HINT = 'pip install -e ".[video]"'


class _Mp4:
    def __init__(self, path: Path, fps: float):
        try:
            import imageio.v2 as imageio
        except ImportError:
            imageio = None
        if imageio is None or importlib.util.find_spec("imageio_ffmpeg") is None:
            raise ThermorlError(f"writing .mp4 needs imageio and imageio-ffmpeg: {EXTRA_HINT} "
                                f"(or write a .gif)") from None
        # macro_block_size 1: keep the frame's own size (H.264 needs it even, see `_even`)
        self.w = imageio.get_writer(str(path), fps=fps, codec="libx264", quality=8,
                                    macro_block_size=1, pixelformat="yuv420p")

    def add(self, frame: np.ndarray) -> None:
        self.w.append_data(_even(frame))

    def close(self) -> None:
        self.w.close()


class _Gif:
    def __init__(self, path: Path, fps: float):
        self.path, self.fps, self.frames = path, fps, []

    def add(self, frame: np.ndarray) -> None:
        from PIL import Image

        self.frames.append(Image.fromarray(frame).convert("P", palette=Image.Palette.ADAPTIVE))

    def close(self) -> None:
        first, *rest = self.frames
        # disposal 1 and optimize False: every frame is stored whole, none merged with the last
        first.save(self.path, save_all=True, append_images=rest, loop=0, optimize=False,
                   duration=round(1000 / self.fps), disposal=1)


def _even(frame: np.ndarray) -> np.ndarray:
    """yuv420p needs an even width and height: repeat the last row or column where odd."""
    h, w = frame.shape[:2]
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge") if h % 2 or w % 2 \
        else frame


def _frame(env: Any) -> np.ndarray:
    frame = env.render()
    arr = None if frame is None else np.asarray(frame)
    if arr is None or arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ThermorlError(f"the env's render() gave {None if arr is None else arr.shape}, "
                            f"not an RGB frame [height, width, 3]")
    return np.ascontiguousarray(arr[..., :3].astype(np.uint8))


def record(algo: Any, path: str | Path, episodes: int = 1, deterministic: bool = True,
           seed: int | None = None, fps: float | None = None,
           env: Callable[[], Any] | None = None) -> dict[str, Any]:
    """Play `episodes` episodes of `algo`'s policy (seeds `seed`, `seed + 1`, ...; by default
    the run's eval seed) and write their frames to `path` (.mp4 or .gif) at `fps` (default:
    the env's `render_fps`). `env` makes the env to play on (default: the run's env, made to
    render RGB frames; a duel against an opponent passes its own). Returns each episode's
    return, length and outcome (for envs that report one in `info["outcome"]`) and the number
    of frames written."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ThermorlError(f"video file {str(path)!r}: the name must end in "
                            f"{' or '.join(FORMATS)}")
    if not path.parent.is_dir():
        raise ThermorlError(f"cannot write {str(path)!r}: directory {str(path.parent)!r} does "
                            f"not exist")
    if episodes < 1:
        raise ThermorlError(f"episodes must be a positive integer, got {episodes}")
    seed = algo.config.seed + 10_000 if seed is None else seed
    if env is None:
        env = functools.partial(make_render_env, algo.env_source, algo.config.env_kwargs,
                                algo.config.eval.max_episode_steps, algo.config.env_wrappers)
    with _offscreen():
        return _record(algo, env(), path, episodes, deterministic, seed, fps)


@contextlib.contextmanager
def _offscreen() -> Iterator[None]:
    """pygame-drawn envs (classic control, Box2D) draw rgb_array frames off screen, yet start
    SDL's video driver, which on a machine without a display prints an error at exit. While
    recording, SDL gets its dummy driver unless the user chose one."""
    key = "SDL_VIDEODRIVER"
    chosen = key in os.environ
    os.environ.setdefault(key, "dummy")
    try:
        yield
    finally:
        if not chosen:
            os.environ.pop(key, None)


def _record(algo: Any, env: Any, path: Path, episodes: int, deterministic: bool, seed: int,
            fps: float | None) -> dict[str, Any]:
    fps = fps or env.metadata.get("render_fps") or DEFAULT_FPS
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)  # ffmpeg picks the format by suffix
    out: dict[str, Any] = {"returns": [], "lengths": [], "outcomes": [], "frames": 0,
                           "fps": fps, "path": str(path)}
    stateful = algo._initial_state(1) is not None  # a recurrent policy hands back its state
    try:
        writer = (_Mp4 if path.suffix.lower() == ".mp4" else _Gif)(tmp, fps)
        for ep in range(episodes):
            obs, info = env.reset(seed=seed + ep)
            writer.add(_frame(env))
            state, total, steps, done = None, 0.0, 0, False
            while not done:
                act = algo.predict(obs, deterministic=deterministic,
                                   action_mask=info.get(ACTION_MASK_KEY), state=state,
                                   episode_start=steps == 0)
                if stateful:
                    act, state = act
                obs, reward, term, trunc, info = env.step(act)
                writer.add(_frame(env))
                total, steps, done = total + float(reward), steps + 1, bool(term or trunc)
            out["returns"].append(total)
            out["lengths"].append(steps)
            if "outcome" in info:
                out["outcomes"].append(info["outcome"])
            out["frames"] += steps + 1
        writer.close()
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        env.close()
    return out


__all__ = ["FORMATS", "record"]
