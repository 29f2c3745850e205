"""docs/export.md: its Python examples run as written and print what their comments say, and
the command output it shows has the lines `thermorl export` prints."""

import contextlib
import io
import re

import pytest
from doc_blocks import doc_blocks

pytest.importorskip("onnxruntime", reason="the [export] extra is not installed")
pytest.importorskip("onnxscript", reason="the [export] extra is not installed")


@pytest.mark.parametrize("index", [0, 1])
def test_python_examples_run_and_print_what_the_comments_say(index):
    code = doc_blocks("export.md", "python")[index]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "docs/export.md", "exec"), {})  # noqa: S102  the doc is ours
    said = re.findall(r"print\(info.*\)  # (.*)", code)
    assert said and out.getvalue().splitlines()[0] == said[0]
    if index == 0:  # the exported CartPole policy, run by onnxruntime alone, balances the pole
        assert out.getvalue().splitlines()[-1] == re.findall(r"print\(total\)  # (\S+):", code)[0]


def test_the_shown_output_is_what_export_prints(run_cli, cartpole_run, tmp_path):
    (shown,) = doc_blocks("export.md", "text")
    res = run_cli("export", cartpole_run, "--checkpoint", "best", "-o", tmp_path / "c.onnx")
    assert res.rc == 0, res.err
    def shape(text):  # each line without its paths and numbers
        return [re.sub(r"\S*(/|\.onnx|\.pt)\S*|\d[\d.e-]*", "#", line).strip()
                for line in text.strip().splitlines()]
    assert shape(shown) == shape(res.out)
