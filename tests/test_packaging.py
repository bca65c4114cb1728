"""What a user gets from the package index: the license, the links, no dev tools."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

import webhookverify

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
REPOSITORY = "https://github.com/webhookverify/webhookverify"


def test_the_license_file_is_the_one_the_metadata_names() -> None:
    project = PROJECT["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2026 The webhookverify developers\n")
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def test_project_urls_point_at_the_repository() -> None:
    urls = PROJECT["project"]["urls"]
    assert set(urls) == {"Homepage", "Documentation", "Changelog", "Issues", "Source"}
    assert all(url.startswith(REPOSITORY) for url in urls.values()), urls
    assert urls["Changelog"].endswith("/CHANGELOG.md")


def test_development_tools_are_a_dependency_group_not_an_extra() -> None:
    """Users see the `redis` and `fetch` extras only; `tasks.py test` installs the `dev` group."""
    assert set(PROJECT["project"]["optional-dependencies"]) == {"redis", "fetch"}
    dev = {re.split(r"[<>=\[]", spec)[0] for spec in PROJECT["dependency-groups"]["dev"]}
    assert {"pytest", "hypothesis", "ruff", "mypy", "redis", "stripe", "django", "uvicorn"} <= dev
    tasks = (ROOT / "tasks.py").read_text(encoding="utf-8")
    assert 'ensure_venv("dev")' in tasks
    assert '"--group", group' in tasks
    assert 'MIN_PIP = "25.1"' in tasks  # the first pip that installs --group


def test_the_version_is_written_once() -> None:
    assert PROJECT["project"]["version"] == webhookverify.__version__


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist and the wheel, built by the project's build backend, offline."""
    if importlib.util.find_spec("hatchling") is None:
        if os.environ.get("CI"):
            pytest.fail("hatchling (the build backend, in the dev group) is not installed")
        pytest.skip("hatchling is not installed: pip install --group dev")
    out = tmp_path_factory.mktemp("dist")
    code = (
        "import sys, hatchling.build as b\n"
        "print(b.build_sdist(sys.argv[1]))\n"
        "print(b.build_wheel(sys.argv[1]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    sdist, wheel = result.stdout.split()
    return {"sdist": out / sdist, "wheel": out / wheel}


def test_the_wheel_carries_the_license_and_the_links(built: dict[str, Path]) -> None:
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = wheel.namelist()
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        license_text = wheel.read(f"{info}/licenses/LICENSE").decode()
        metadata = wheel.read(f"{info}/METADATA").decode()
    assert license_text == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "License-Expression: MIT" in metadata
    assert "License-File: LICENSE" in metadata
    assert f"Project-URL: Source, {REPOSITORY}" in metadata
    assert "Provides-Extra: redis" in metadata
    assert "Provides-Extra: test" not in metadata
    assert "pytest" not in metadata.split("\n\n", 1)[0]  # no dev tool among the requirements
    assert "webhookverify/py.typed" in names


def test_the_sdist_carries_the_license(built: dict[str, Path]) -> None:
    with tarfile.open(built["sdist"]) as sdist:
        names = sdist.getnames()
        top = names[0].split("/")[0]
        member = sdist.extractfile(f"{top}/LICENSE")
        assert member is not None
        assert member.read().decode() == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert f"{top}/pyproject.toml" in names
    assert not any("/.venv/" in name for name in names)
