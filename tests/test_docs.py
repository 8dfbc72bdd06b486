"""The documentation stays true: every ```python block in README.md and docs/*.md runs without error.

Blocks of one file run in order in one shared namespace, like a reader pasting them into a session.
"""
import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = sorted([os.path.join(ROOT, "README.md")] + glob.glob(os.path.join(ROOT, "docs", "*.md")))
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


def python_blocks(path):
    """(line number, code) of each ```python block in a Markdown file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


def test_block_extractor_finds_blocks():
    blocks = python_blocks(os.path.join(ROOT, "docs", "engine.md"))
    assert len(blocks) >= 5
    assert all(code.strip() for _, code in blocks)


@pytest.mark.parametrize("path", FILES, ids=[os.path.relpath(f, ROOT) for f in FILES])
def test_markdown_snippets_run(path):
    if not os.path.exists(path):
        pytest.skip(f"{os.path.relpath(path, ROOT)} does not exist")
    namespace = {"__name__": "__docs__"}
    for line, code in python_blocks(path):
        where = f"{os.path.relpath(path, ROOT)}:{line}"
        exec(compile(code, where, "exec"), namespace)  # noqa: S102  (our own documentation)
