"""The code in docs/aiohttp.md, docs/aws-lambda.md and docs/testing.md runs:
each page's Python blocks, in order, as a reader would paste them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from test_pytest_plugin import install_plugin

pytest_plugins = ["pytester"]

DOCS = Path(__file__).resolve().parent.parent / "docs"
SECRET = "docs-test-secret"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def python_of(page: str) -> str:
    blocks = BLOCK.findall((DOCS / page).read_text(encoding="utf-8"))
    assert blocks, f"docs/{page} has no python blocks"
    return "\n\n".join(blocks)


def run_page(page: str) -> dict[str, object]:
    namespace: dict[str, object] = {"__name__": f"docs_{page.replace('-', '_')}"}
    exec(compile(python_of(page), f"docs/{page}", "exec"), namespace)
    return namespace


def test_the_aiohttp_page_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", SECRET)
    namespace = run_page("aiohttp.md")
    assert callable(namespace["create_app"])


@pytest.mark.redis
def test_the_aws_lambda_page_runs(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("WEBHOOKVERIFY_REDIS_URL", redis_url)
    namespace = run_page("aws-lambda.md")
    assert callable(namespace["handler"])


def test_the_testing_page_runs_under_pytest_with_the_plugin(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(pytester.path / "site", monkeypatch)
    pytester.makepyfile(test_from_docs=python_of("testing.md"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "test_from_docs.py")
    result.assert_outcomes(passed=2)
