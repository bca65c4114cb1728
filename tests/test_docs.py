"""The documentation says what the code does."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import webhookverify
from webhookverify import presets

ROOT = Path(__file__).resolve().parent.parent


def test_presets_page_is_generated_from_the_code() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_presets_doc.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_quick_start_is_two_single_command_bash_blocks() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Quick start\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, "README.md needs a '## Quick start' section"
    section = match.group(1)
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.S)
    assert [lang for lang, _ in blocks] == ["bash", "bash"]
    commands = [body.strip() for _, body in blocks]
    assert all(len(c.splitlines()) == 1 for c in commands)
    assert commands == ["python3 tasks.py demo", "python3 tasks.py test"]


def test_readme_opens_with_the_quick_start_then_the_install() -> None:
    """The project's two commands open the README; the package index's reader
    finds how to install right after them."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## (.*)$", text, re.M)
    assert sections[:2] == ["Quick start", "Install"]
    install = text.split("## Install\n", 1)[1].split("\n## ", 1)[0]
    assert install.lstrip().startswith("```\npip install webhookverify ")


def test_ci_runs_the_readme_test_command() -> None:
    assert "python3 tasks.py test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_local_links_in_docs_exist() -> None:
    for page in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


REPOSITORY = "https://github.com/webhookverify/webhookverify"


def test_readme_links_work_on_the_package_index() -> None:
    """The index shows README.md without the repository around it: every link is
    absolute, and one into the repository names a file that exists."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)]*)\)", text)
    assert targets, "the README links to its documentation"
    for target in targets:
        assert target.startswith("https://"), f"README.md: relative link {target}"
        path = re.sub(rf"^{re.escape(REPOSITORY)}(?:/(?:blob|tree)/main/)?", "", target)
        if path != target and path and not path.startswith("/"):
            assert (ROOT / path.split("#")[0]).exists(), f"README.md links to missing {path}"


def test_changelog_names_every_preset() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    missing = [name for name in presets.PRESETS if f"presets.{name}" not in text]
    assert missing == []


def test_verifiers_page_example_passes_the_contract(tmp_path: Path) -> None:
    # The page's Python blocks, in order, make one test module: the example
    # verifier, its use in a registry, and its contract test class.
    text = (ROOT / "docs" / "verifiers.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 3
    module = tmp_path / "test_verifiers_page.py"
    module.write_text("\n\n".join(blocks), encoding="utf-8")
    package_root = str(Path(webhookverify.__file__).resolve().parent.parent)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(module)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": package_root},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout
