"""README's "Five minutes" example runs with whichever senders a reader configured.

tests/test_docs_blocks.py runs it with every variable the pages read set;
a reader who has only GitHub's secret (or only Stripe's) must get a working
endpoint too, and one who has neither a sentence saying what to set, not a
KeyError traceback.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import webhookverify

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_ROOT = str(Path(webhookverify.__file__).resolve().parent.parent)
SECRETS = {
    "GITHUB_WEBHOOK_SECRET": "readme-github-secret",
    "STRIPE_WEBHOOK_SECRET": "whsec_readme-stripe-secret",
}


def _five_minutes() -> str:
    """The Python blocks of README's "Five minutes" section, as one program."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Five minutes", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```python\n(.*?)^```$", section, re.S | re.M)
    assert len(blocks) >= 2, "the section lost its example"
    return "\n".join(blocks) + '\nprint("endpoint ready:", [h.name for h in registry])\n'


def _run(tmp_path: Path, secrets: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env.update(secrets, HOME=str(tmp_path))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", _five_minutes()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("configured", "handlers"),
    [
        (["GITHUB_WEBHOOK_SECRET"], "['github']"),
        (["STRIPE_WEBHOOK_SECRET"], "['stripe']"),
        (list(SECRETS), "['github', 'stripe']"),
    ],
)
def test_the_example_runs_with_the_senders_configured(
    configured: list[str], handlers: str, tmp_path: Path
) -> None:
    result = _run(tmp_path, {name: SECRETS[name] for name in configured})
    assert result.returncode == 0, result.stderr
    assert f"endpoint ready: {handlers}" in result.stdout


def test_the_example_without_any_sender_says_what_to_set(tmp_path: Path) -> None:
    result = _run(tmp_path, {})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert "GITHUB_WEBHOOK_SECRET" in line
    assert "STRIPE_WEBHOOK_SECRET" in line
