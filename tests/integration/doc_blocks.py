"""The fenced code blocks of a doc under docs/, for the tests that run them as written."""

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def doc_blocks(name: str, lang: str) -> list[str]:
    """The bodies of docs/<name>'s ```<lang> blocks, in order."""
    return re.findall(rf"```{lang}\n(.*?)```", (DOCS / name).read_text(), flags=re.DOTALL)
