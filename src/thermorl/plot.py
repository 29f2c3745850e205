"""Plots of finished (or running) training runs, read back from their `metrics.csv`.

The CSV rather than the TensorBoard files is the source because it is the one format every run
writes and it needs nothing beyond the standard library to read. Entropy control is the point of
thermorl, so each action head gets its own row: the measured entropy next to the target it is
steered towards, and beside them the coefficient doing the steering. Several runs (seeds or
settings) overlay in one colour each, which is how one sees whether the control is reproducible.
With `group`, runs that differ only by seed (a configuration, as `thermorl compare` groups them)
are drawn as one curve, their mean, in a band from their min to their max, which stays readable
where twenty overlaid seeds would not.

matplotlib is imported only when a figure is built, so that training and `read_metrics` do not
pay for loading it.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from .errors import ThermorlError, writing

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Metrics = dict[str, np.ndarray]

__all__ = ["read_metrics", "build_figure", "plot_runs"]

DPI = 110
_STEP = "global_step"
_RETURN = "episode/return"
_EVAL = "eval/mean_return"
# Per-head keys are "<prefix><head>"; the head is whatever follows the prefix.
_HEAD_PREFIXES = ("entropy/", "target_entropy/", "alpha/")


def read_metrics(run_dir: str | Path) -> dict[str, np.ndarray]:
    """The columns of `run_dir/metrics.csv` as float arrays of equal length, NaN where a row left
    the cell blank (a metric not logged at that update, e.g. eval on most rows)."""
    run_dir = Path(run_dir)
    path = run_dir / "metrics.csv"
    if not run_dir.is_dir():
        raise ThermorlError(f"run directory {run_dir} does not exist")
    if not path.is_file():
        raise ThermorlError(f"{path} does not exist; is {run_dir} a thermorl run directory?")
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ThermorlError(f"{path} is empty")
    header, body = rows[0], [r for r in rows[1:] if any(cell.strip() for cell in r)]
    if not body:
        raise ThermorlError(f"{path} has a header but no rows yet; the run has not logged an update")
    data = np.full((len(body), len(header)), np.nan)
    for i, row in enumerate(body):
        # A row cut short (a run killed mid-write) keeps NaN in its missing tail.
        for j, cell in enumerate(row[:len(header)]):
            data[i, j] = _to_float(cell)
    return {key: data[:, j].copy() for j, key in enumerate(header)}


def _to_float(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:  # blank, or text no numeric panel could show anyway
        return math.nan


def _heads(runs: Sequence[dict[str, np.ndarray]]) -> list[str]:
    heads = {key[len(prefix):] for run in runs for key in run
             for prefix in _HEAD_PREFIXES if key.startswith(prefix) and len(key) > len(prefix)}
    return sorted(heads)


def _line(ax: Axes, run: dict[str, np.ndarray], key: str, **style) -> bool:
    """Plot `key` against global_step if the run has any value for it; blanks are dropped rather
    than drawn as gaps, since a metric logged every few rows should still read as one curve."""
    if key not in run:
        return False
    x, y = run[_STEP], run[key]
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return False
    ax.plot(x[ok], y[ok], **style)
    return True


def _band(ax: Axes, runs: Sequence[Metrics], key: str, **style) -> bool:
    """Plot the mean of `key` over `runs` against global_step, shaded from the runs' min to
    their max; True if any run has a value for it.

    Runs log at their own steps, so each run's finite points are interpolated linearly onto a
    common grid: every step any run logged, within the range all of them cover (no run is
    extrapolated beyond its last point, so the curve ends where the shortest run does). A run
    without the key (a seed that never evaluated) is left out of that curve. Min-max rather
    than mean +/- std: with the few seeds a configuration usually has, a std is a guess, and
    min-max shows the band every seed's curve stays inside. Points (no line style) get a
    vertical min-max bar at each point instead of a band."""
    curves = []
    for run in runs:
        if key not in run:
            continue
        x, y = run[_STEP], run[key]
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.any():
            order = np.argsort(x[ok], kind="stable")
            curves.append((x[ok][order], y[ok][order]))
    if not curves:
        return False
    start, end = max(x[0] for x, _ in curves), min(x[-1] for x, _ in curves)
    grid = np.unique(np.concatenate([x for x, _ in curves]))
    grid = grid[(grid >= start) & (grid <= end)]
    if not grid.size:  # the runs share no stretch of steps: nothing to average
        return False
    ys = np.stack([np.interp(grid, x, y) for x, y in curves])
    ax.plot(grid, ys.mean(axis=0), **style)
    if len(curves) == 1:
        return True
    if style.get("ls") == "none":  # points (evaluations): a bar at each, a band would swamp them
        ax.vlines(grid, ys.min(axis=0), ys.max(axis=0), color=style.get("color"), lw=1.0,
                  alpha=0.6)
    else:
        ax.fill_between(grid, ys.min(axis=0), ys.max(axis=0), color=style.get("color"),
                        alpha=0.2, lw=0)
    return True


def _mark_unreachable(ax: Axes, run: dict[str, np.ndarray], head: str, colour: str) -> bool:
    """Shade where the run flagged this head's target as unreachable, with an x at the first
    such update on its entropy curve; True if there was any."""
    key = f"warn/entropy_unreachable/{head}"
    if key not in run:
        return False
    x, flag = run[_STEP], run[key]
    on = np.isfinite(flag) & (flag > 0)
    if not on.any():
        return False
    first = int(np.flatnonzero(on)[0])
    ax.axvspan(x[first], np.nanmax(x), color="red", alpha=0.08, lw=0)
    ent = run.get(f"entropy/{head}")
    if ent is not None and np.isfinite(ent[first]):
        ax.plot([x[first]], [ent[first]], marker="x", ms=9, mew=2, color="red", mec=colour)
    return True


def _grouped(dirs: Sequence[Path], labels: Sequence[str] | None
             ) -> tuple[list[list[Metrics]], list[str]]:
    """The runs under `dirs` (run directories or directories holding them) as configurations:
    each one's metrics, and its label (its compare name and run count, unless given)."""
    # imported here: compare reads metrics with this module's read_metrics
    from .compare import find_runs, group_runs, load_run

    configs = group_runs([load_run(d) for d in find_runs(dirs)])
    if labels is None:
        labels = [f"{c.name} ({len(c.runs)} run{'s' if len(c.runs) != 1 else ''})"
                  for c in configs]
    elif len(labels) != len(configs):
        raise ThermorlError(f"{len(labels)} labels given for {len(configs)} configurations; "
                            f"with --group, give one label per configuration")
    groups = [[read_metrics(r.path) for r in c.runs] for c in configs]
    for c, members in zip(configs, groups):
        for r, run in zip(c.runs, members):
            if _STEP not in run:
                raise ThermorlError(f"{r.path / 'metrics.csv'} has no {_STEP} column")
    return groups, list(labels)


def build_figure(run_dirs: Sequence[str | Path], labels: Sequence[str] | None = None,
                 group: bool = False) -> Figure:
    """The figure `plot_runs` saves: a return panel on top, then one row per action head with
    entropy against its target (left) and the entropy coefficient alpha (right).

    Without `group`, one curve per run directory. With `group`, `run_dirs` may also be
    directories holding runs at any depth, and each configuration (runs equal but for their
    seed; `thermorl.compare.group_runs`) is one curve: the mean over its runs on a common
    step grid, in a band from their min to their max (`_band`); `labels` then name the
    configurations. Runs not yet finished are drawn too, unlike in compare's table: a plot is
    how one watches a sweep that is still running."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch
    except ImportError as e:
        raise ThermorlError("plotting needs matplotlib (a thermorl dependency): pip install 'matplotlib>=3.7'") from e

    run_dirs = [Path(d) for d in run_dirs]
    if not run_dirs:
        raise ThermorlError("no run directories to plot")
    if group:
        series, labels = _grouped(run_dirs, labels)
        draw = _band
    else:
        if labels is None:
            # resolve() so that "." or "run/" still gives the directory's own name
            labels = [d.resolve().name or str(d) for d in run_dirs]
        elif len(labels) != len(run_dirs):
            raise ThermorlError(f"{len(labels)} labels given for {len(run_dirs)} run directories")
        runs = [read_metrics(d) for d in run_dirs]
        for d, run in zip(run_dirs, runs):
            if _STEP not in run:
                raise ThermorlError(f"{d / 'metrics.csv'} has no {_STEP} column")
        series = [[run] for run in runs]  # one run per curve

        def draw(ax: Axes, members: Sequence[Metrics], key: str, **style) -> bool:
            return _line(ax, members[0], key, **style)
    heads = _heads([run for members in series for run in members])

    # A figure and canvas of our own, not pyplot: no global backend switch, no figure registry,
    # so this is safe to call from a notebook or a training process with its own matplotlib use.
    fig = Figure(figsize=(11.0, 3.2 + 2.9 * len(heads)), dpi=DPI)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(1 + len(heads), 2)
    colours = [f"C{i % 10}" for i in range(len(series))]

    ax = fig.add_subplot(grid[0, :])
    for members, label, c in zip(series, labels, colours):
        draw(ax, members, _RETURN, color=c, lw=1.6, label=label)
        draw(ax, members, _EVAL, color=c, ls="none", marker="o", ms=5, mec="black", mew=0.5)
    ax.set_title("episode return (line: mean of last 20 training episodes; dots: evaluation)")
    ax.set_xlabel(_STEP)
    ax.set_ylabel("return")
    # Run labels are listed once, here, rather than repeated in every head panel.
    handles = [Line2D([], [], color=c, lw=1.6, label=lb) for c, lb in zip(colours, labels)]
    handles.append(Line2D([], [], color="grey", ls="none", marker="o", mec="black", mew=0.5,
                          label="eval"))
    if group:
        handles.append(Patch(color="grey", alpha=0.2, lw=0,
                             label="band (bar): min-max over runs"))
    ax.legend(handles=handles, loc="best", fontsize="small")
    ax.grid(alpha=0.3)

    style_key = [Line2D([], [], color="grey", lw=1.6, label="entropy"),
                 Line2D([], [], color="grey", lw=1.2, ls="--", label="target")]
    for row, head in enumerate(heads, start=1):
        ax_h = fig.add_subplot(grid[row, 0], sharex=ax)
        ax_a = fig.add_subplot(grid[row, 1], sharex=ax)
        any_target = False
        unreachable = False
        for members, c in zip(series, colours):
            draw(ax_h, members, f"entropy/{head}", color=c, lw=1.6)
            any_target |= draw(ax_h, members, f"target_entropy/{head}", color=c, lw=1.2,
                               ls="--")
            draw(ax_a, members, f"alpha/{head}", color=c, lw=1.6)
            for run in members:  # each run's own flag: one seed failing to reach is news
                unreachable |= _mark_unreachable(ax_h, run, head, c)
        ax_h.set_title(f"entropy/{head}" + ("  (target unreachable: red band)"
                                            if unreachable else ""))
        ax_h.set_ylabel("nats")
        if any_target:
            ax_h.legend(handles=style_key, loc="best", fontsize="small")
        # alpha changes sign when entropy crosses its target, so zero is the reference to read by.
        ax_a.axhline(0.0, color="black", lw=0.6, alpha=0.6)
        ax_a.set_title(f"coefficient alpha/{head}")
        ax_a.set_ylabel("alpha")
        for a in (ax_h, ax_a):
            a.set_xlabel(_STEP)
            a.grid(alpha=0.3)

    fig.tight_layout()
    return fig


def plot_runs(run_dirs: Sequence[str | Path], out: str | Path | None = None,
              labels: Sequence[str] | None = None, group: bool = False) -> Path:
    """Write the figure of `run_dirs` (overlaid; with `group`, one mean curve and band per
    configuration, see `build_figure`) as a PNG and return its path; by default `plot.png`
    inside the first directory given."""
    if isinstance(run_dirs, (str, Path)):  # one run given bare would otherwise split into chars
        run_dirs = [run_dirs]
    fig = build_figure(run_dirs, labels, group=group)
    path = Path(out) if out is not None else Path(run_dirs[0]) / "plot.png"
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", dpi=DPI)
    return path
