"""docs/ppo.md's example runs as written."""

from doc_blocks import doc_blocks


def test_python_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (code,) = doc_blocks("ppo.md", "python")
    exec(compile(code, "docs/ppo.md", "exec"), {})
