"""docs/sweep.md and the README: the one-command sweep runs as written (with a tiny budget added,
in a loopback-only namespace) and `thermorl compare` then prints the table the sweep ended with;
the cluster and namespace examples are commands the CLI accepts."""

import json
import re
import shlex

import pytest
import raynet
from doc_blocks import DOCS, doc_blocks
from test_docs_compare import commands

from thermorl import cli

# The documented sweep runs at the preset's budget (100k steps a trial); here each trial takes
# 256 steps in batches of 128, which is enough to show every part working.
TINY = ["--total-timesteps", "256", "--ppo.num_envs", "2", "--ppo.num_steps", "64",
        "--ppo.num_minibatches", "2", "--ppo.update_epochs", "2", "--eval.episodes", "2"]


def example() -> list[list[str]]:
    return commands(doc_blocks("sweep.md", "bash")[0])


def test_readme_shows_the_documented_sweep():
    readme = (DOCS.parent / "README.md").read_text()
    block = doc_blocks("sweep.md", "bash")[0]
    assert block in readme and "docs/sweep.md" in readme
    sweep, compare = example()
    assert sweep[:2] == ["sweep", "CartPole-v1"] and compare == ["compare", sweep[-1]]
    args = cli.build_parser().parse_args(sweep)
    assert (args.seeds, args.grid) == (3, ["ppo.learning_rate=3e-4,1e-3"])


def test_cluster_and_namespace_examples_parse():
    blocks = doc_blocks("sweep.md", "bash")
    cluster = commands(blocks[2])
    (args,) = [cli.build_parser().parse_args(c) for c in cluster]
    assert args.address == "HEAD_IP:6379" and args.seeds == 5
    (inner,) = re.findall(r"'ip link set lo up && (.*)'", blocks[3], flags=re.S)
    words = shlex.split(inner.replace("\\\n", " "))
    assert words[0] == "thermorl" and words[1:] == example()[0]


@pytest.mark.slow  # six trials and a Ray start: about a minute on 2 slow cores
def test_one_command_sweep_then_compare(tmp_path, capsys):
    raynet.need_ray()
    sweep, compare = example()
    r = raynet.run_cli([*sweep, *TINY], timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "2 configurations x 3 seeds = 6 trials" in r.stderr
    capsys.readouterr()
    assert cli.main(compare) == 0  # in tmp_path, as the sweep ran (the tests' conftest chdirs)
    table = capsys.readouterr().out
    assert cli.main([*compare, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert table == r.stdout  # the sweep ended with the table compare prints
    assert [(c["name"], c["runs"]) for c in res["configurations"]] == [
        ("ppo.learning_rate=0.0003", 3), ("ppo.learning_rate=0.001", 3)]
