"""Same seed and config, same numbers; another seed, other numbers."""

from __future__ import annotations

import pytest


def _values(it, run_dir):
    header, rows = it.read_metrics(run_dir)
    keep = [k for k in header if not k.startswith(it.TIMING)]
    return keep, [[row[k] for k in keep] for row in rows]


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_same_seed_same_metrics_other_seed_other_metrics(run_cli, it, tmp_path, env_id):
    def train(name, seed):
        d = tmp_path / name
        r = run_cli("train", env_id, "--total-timesteps", "384", "--seed", seed, "--run-dir", d,
                    *it.FAST)
        assert r.rc == 0, r
        return _values(it, d)

    cols_a, a = train("a", 4)
    cols_b, b = train("b", 4)
    cols_c, c = train("c", 5)
    assert cols_a == cols_b
    assert "loss/value" in cols_a and "eval/mean_return" in cols_a and "perf/sps" not in cols_a
    assert len(a) == 3
    assert a == b  # exact, as written to the CSV
    assert cols_c == cols_a and a != c
    col = cols_a.index("loss/value")
    assert [row[col] for row in a] != [row[col] for row in c]
