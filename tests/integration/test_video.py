"""`thermorl eval --video`: the file holds the frames of the episodes played, in order (one after
the reset and one per step), for .mp4 and .gif and for the duel's own renderer; bad requests
are one-line errors."""

import json
import sys

import numpy as np
import pytest

import thermorl
from thermorl.envs import make_render_env

iio = pytest.importorskip("imageio.v2", reason="the [video] extra is not installed")
pytest.importorskip("imageio_ffmpeg", reason="the [video] extra is not installed")
pytest.importorskip("pygame", reason="the [video] extra is not installed")
from PIL import Image  # noqa: E402  (Pillow comes with matplotlib)


@pytest.fixture(autouse=True)
def _no_display(monkeypatch):
    """SDL's dummy video driver for the frames drawn here (recording sets it itself)."""
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")


def reference_frames(run, seed, episodes=1):
    """The frames of the same episodes, played again here through predict on a fresh env."""
    algo = thermorl.PPO.load(run)
    env = make_render_env(algo.env_source)
    frames = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        frames.append(env.render())
        done = False
        while not done:
            obs, _, term, trunc, _ = env.step(algo.predict(obs))
            frames.append(env.render())
            done = term or trunc
    env.close()
    algo.close()
    return frames


def mp4_frames(path):
    """Every frame of an MP4 (list() would ask the reader its length, which it gives as inf)."""
    reader = iio.get_reader(path)
    frames = [f for f in reader]
    reader.close()
    return frames


def gif_frames(path):
    """Every frame of a GIF, a frame shown for k frame times repeated k times (Pillow stores a
    frame equal to the one before as a longer showing of that one)."""
    im = Image.open(path)
    durations = []
    for i in range(im.n_frames):
        im.seek(i)
        durations.append(im.info["duration"])
    unit = min(durations)
    out = []
    for i, d in enumerate(durations):
        im.seek(i)
        out += [np.asarray(im.convert("RGB"))] * round(d / unit)
    return out


def moved(a, b):
    """The fraction of pixels that differ strongly between two frames (by more than 60 of 255
    in some channel): 0 for a frame and its lossy copy, well above 0 when the pole moved."""
    return float((np.abs(a.astype(np.int16) - b.astype(np.int16)).max(-1) > 60).mean())


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_video_holds_the_episodes_frames_in_order(run_cli, cartpole_run, tmp_path, suffix):
    out = tmp_path / f"ep{suffix}"
    res = run_cli("eval", cartpole_run, "--video", out, "--episodes", "2", "--seed", "5",
                  "--json")
    assert res.rc == 0, res.err
    rec = json.loads(res.out)
    refs = reference_frames(cartpole_run, 5, episodes=2)
    assert rec["frames"] == len(refs) == sum(rec["lengths"]) + 2  # T + 1 frames per episode
    frames = mp4_frames(out) if suffix == ".mp4" else gif_frames(out)
    assert len(frames) == len(refs)
    assert frames[0].shape == refs[0].shape
    # each decoded frame is its own reference up to the codec's noise, while frames 10 steps
    # apart differ by several times more (so a dropped, repeated or reordered frame is caught)
    own = max(moved(f, r) for f, r in zip(frames, refs))
    apart = np.median([moved(f, r) for f, r in zip(frames, refs[10:])])
    assert own <= 3e-4 and apart >= 1e-3 and moved(refs[0], refs[-1]) > 5e-3
    assert not list(tmp_path.glob("*.tmp*"))


def test_duel_video_through_its_own_renderer(run_cli, tmp_path, it):
    run = tmp_path / "duel"
    assert run_cli("train", "thermorl/Dogfight-v0", "--run-dir", run, "--total-timesteps",
                   "256", *it.FAST, "--eval.freq", "0").rc == 0
    res = run_cli("eval", run, "--video", tmp_path / "duel.mp4", "--json", "--stochastic")
    assert res.rc == 0, res.err
    rec = json.loads(res.out)
    frames = mp4_frames(tmp_path / "duel.mp4")
    assert len(frames) == rec["frames"] == rec["lengths"][0] + 1
    assert frames[0].shape == (400, 400, 3) and rec["outcomes"][0] in ("win", "loss", "draw")
    assert rec["fps"] == 10  # the duel's render_fps


@pytest.mark.parametrize("argv,match", [
    (["--video", "ep.avi"], "must end in .mp4 or .gif"),
    (["--video", "/no/such/dir/ep.mp4"], "directory '/no/such/dir' does not exist"),
    (["--video", "ep.gif", "--fps", "0"], "--fps must be a positive number"),
])
def test_bad_video_requests_are_one_line_errors(run_cli, cartpole_run, argv, match):
    res = run_cli("eval", cartpole_run, *argv)
    assert res.rc == 2 and match in res.err and len(res.err.strip().splitlines()) == 1


def test_an_env_that_cannot_render_is_named(run_cli, tmp_path, it):
    run = tmp_path / "spaces"
    env = "spaces_envs:ThermorlSpaces/discrete-v0"
    assert run_cli("train", env, "--run-dir", run, "--total-timesteps", "128", *it.FAST).rc == 0
    res = run_cli("eval", run, "--video", tmp_path / "x.gif", "--trust-env-module")
    assert res.rc == 2 and "ThermorlSpaces/discrete-v0" in res.err
    assert "render" in res.err and len(res.err.strip().splitlines()) == 1
    assert not (tmp_path / "x.gif").exists()


def test_mp4_without_the_extra_is_named(run_cli, cartpole_run, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio", None)
    monkeypatch.setitem(sys.modules, "imageio.v2", None)
    res = run_cli("eval", cartpole_run, "--video", tmp_path / "x.mp4")
    assert res.rc == 2 and 'pip install -e ".[video]"' in res.err
