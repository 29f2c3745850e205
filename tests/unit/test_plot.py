"""Plotting runs from their metrics.csv: blanks as NaN, missing columns tolerated, clear errors."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from thermorl.errors import ThermorlError
from thermorl.plot import build_figure, plot_runs, read_metrics

pytest.importorskip("matplotlib")

# Blank cells as the CSV writer leaves them: eval only on some rows, a head metric missing once.
FULL = """\
global_step,episode/return,entropy/fire,target_entropy/fire,alpha/fire,entropy/throttle,target_entropy/throttle,alpha/throttle,eval/mean_return
100,,0.69,0.35,-0.5,1.40,0.80,-0.5,
200,12.0,0.60,0.35,-0.2,1.30,0.80,-0.3,
300,15.5,0.50,0.35,0.0,,0.80,-0.1,20.0
400,19.0,0.40,0.35,0.1,1.00,0.80,0.05,
500,24.0,0.36,0.35,0.05,0.85,0.80,0.02,31.0
"""

# An older or fixed-coefficient run: no targets, and the columns in another order.
NO_TARGET = """\
global_step,alpha/throttle,entropy/throttle,alpha/fire,entropy/fire,episode/return
100,0.01,1.38,0.01,0.68,
250,0.01,1.20,0.01,0.61,10.0
400,0.01,1.05,0.01,0.52,14.0
"""


def _run(root: Path, name: str, csv_text: str) -> Path:
    d = root / name
    d.mkdir()
    (d / "metrics.csv").write_text(csv_text)
    (d / "config.yaml").write_text("env_id: Fake-v0\n")
    return d


@pytest.fixture
def runs(tmp_path: Path) -> list[Path]:
    return [_run(tmp_path, "full", FULL), _run(tmp_path, "no_target", NO_TARGET)]


def test_read_metrics_parses_blanks_as_nan(runs: list[Path]) -> None:
    m = read_metrics(runs[0])
    assert list(m)[:2] == ["global_step", "episode/return"]
    assert all(isinstance(v, np.ndarray) and v.dtype == float and len(v) == 5 for v in m.values())
    np.testing.assert_array_equal(m["global_step"], [100, 200, 300, 400, 500])
    assert math.isnan(m["episode/return"][0]) and m["episode/return"][1] == 12.0
    assert math.isnan(m["entropy/throttle"][2])
    np.testing.assert_array_equal(np.isnan(m["eval/mean_return"]), [True, True, False, True, False])
    assert m["alpha/fire"][0] == -0.5


def test_read_metrics_short_row_is_padded_with_nan(tmp_path: Path) -> None:
    d = _run(tmp_path, "cut", "global_step,a,b\n1,2.0,3.0\n2,4.0\n")
    m = read_metrics(d)
    assert m["a"][1] == 4.0 and math.isnan(m["b"][1])


def test_missing_dir_raises_naming_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ThermorlError, match=re.escape(str(missing))):
        read_metrics(missing)
    with pytest.raises(ThermorlError, match=re.escape(str(missing))):
        plot_runs([missing])


def test_missing_or_empty_csv_raises_naming_path(tmp_path: Path) -> None:
    d = tmp_path / "run"
    d.mkdir()
    with pytest.raises(ThermorlError, match="metrics.csv"):
        read_metrics(d)
    (d / "metrics.csv").write_text("")
    with pytest.raises(ThermorlError, match=re.escape(str(d / "metrics.csv"))):
        read_metrics(d)
    (d / "metrics.csv").write_text("global_step,episode/return\n")
    with pytest.raises(ThermorlError, match=re.escape(str(d / "metrics.csv"))):
        read_metrics(d)


def test_figure_has_return_panel_plus_two_per_head(runs: list[Path]) -> None:
    fig = build_figure(runs)
    assert len(fig.axes) == 1 + 2 * 2
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[1:] == ["entropy/fire", "coefficient alpha/fire",
                          "entropy/throttle", "coefficient alpha/throttle"]
    # Default labels are the run directories' names, one legend entry each.
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[:2] == ["full", "no_target"]
    # Entropy panel of "fire": entropy + target of the full run, entropy of the other.
    assert len(fig.axes[1].get_lines()) == 3


def test_single_head_and_headless_runs(tmp_path: Path) -> None:
    one = _run(tmp_path, "one", "global_step,episode/return,entropy/action,alpha/action\n"
                                "1,1.0,0.6,0.1\n2,2.0,0.5,-0.1\n")
    bare = _run(tmp_path, "bare", "global_step,episode/return\n1,1.0\n2,3.0\n")
    assert len(build_figure([one]).axes) == 3
    assert len(build_figure([bare]).axes) == 1
    assert len(build_figure([one, bare]).axes) == 3


def test_plot_runs_writes_png(runs: list[Path], tmp_path: Path) -> None:
    import matplotlib.image

    out = plot_runs(runs, tmp_path / "figs" / "cmp.png", labels=["seed 1", "seed 2"])
    assert out == tmp_path / "figs" / "cmp.png"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = matplotlib.image.imread(out)
    height, width = img.shape[:2]
    # Three rows of panels in a wide figure: taller than half its width, but not absurdly so.
    assert width > 800 and width * 0.6 < height < width * 1.5


def test_plot_runs_default_out_is_in_first_run(runs: list[Path]) -> None:
    out = plot_runs(runs)
    assert out == runs[0] / "plot.png" and out.is_file()


def test_label_count_must_match(runs: list[Path]) -> None:
    with pytest.raises(ThermorlError, match="labels"):
        plot_runs(runs, labels=["only one"])


def test_an_unreachable_target_is_marked(tmp_path: Path) -> None:
    d = _run(tmp_path, "stuck", "global_step,episode/return,entropy/action,target_entropy/action,"
                                "alpha/action,warn/entropy_unreachable/action\n"
                                "1,1.0,0.9,0.2,0.5,0\n2,2.0,0.8,0.2,0.5,1\n3,2.5,0.8,0.2,0.5,1\n")
    ok = _run(tmp_path, "ok", "global_step,entropy/action,warn/entropy_unreachable/action\n"
                              "1,0.2,0\n2,0.2,0\n")
    fig = build_figure([d, ok])
    ax = fig.axes[1]
    assert "unreachable" in ax.get_title()
    assert len(ax.patches) == 1  # the band from step 2 on, for the run that flagged it
    assert ax.patches[0].get_x() == 2.0
    assert "unreachable" not in build_figure([ok]).axes[1].get_title()
