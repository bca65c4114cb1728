"""docs/testing.md's example suite passes under pytest, with the plugin loaded.

tests/test_docs_blocks.py runs each block of the page; this runs the page's
Python blocks, in order, as a test module, so that its fixtures are used
and its test functions run, with the ``webhook_signer`` fixture the plugin
provides.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from test_pytest_plugin import install_plugin

pytest_plugins = ["pytester"]

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def python_of(page: str) -> str:
    blocks = BLOCK.findall((DOCS / page).read_text(encoding="utf-8"))
    assert blocks, f"docs/{page} has no python blocks"
    return "\n\n".join(blocks)


def test_the_testing_page_runs_under_pytest_with_the_plugin(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(pytester.path / "site", monkeypatch)
    pytester.makepyfile(test_from_docs=python_of("testing.md"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "test_from_docs.py")
    result.assert_outcomes(passed=2)
