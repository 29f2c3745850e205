"""docs/defaults.md: its example runs as written and prints what its comments say; the line it
shows and the settings it states are the general preset's own."""

import contextlib
import io
import re

from doc_blocks import DOCS, doc_blocks

from thermorl.presets import GENERAL_SET


def test_python_example_runs_and_prints_what_the_comments_say():
    (code,) = doc_blocks("defaults.md", "python")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "docs/defaults.md", "exec"), {})  # noqa: S102  the doc is ours
    said = re.findall(r"# ((?:general|none) \d+ \S+)", code)
    assert len(said) == 2 and out.getvalue().splitlines()[:2] == said


def test_the_shown_line_and_the_stated_settings_are_the_presets():
    ppo = GENERAL_SET["ppo"]
    (line,) = doc_blocks("defaults.md", "text")
    assert [f"ppo.{k}={v}" for k, v in ppo.items()] == re.findall(r"ppo\.\w+=\w+", line)
    text = " ".join((DOCS / "defaults.md").read_text().split())
    assert (f"{ppo['num_envs']} envs x {ppo['num_steps']} steps, {ppo['update_epochs']} epochs "
            f"of {ppo['num_minibatches']} minibatches" in text)
