#!/usr/bin/env python3
"""The project's two commands, runnable on a fresh machine with Python 3.11+.

    python3 tasks.py demo   # a receiver on loopback: signed, tampered, replayed deliveries
    python3 tasks.py test   # ruff, mypy --strict and the whole test suite

Each creates ``.venv/`` beside this file on first use and installs what it
needs there (never into the system's Python), then reinstalls only when
``pyproject.toml`` changes. Tests that need Redis use ``REDIS_URL``; without
it, a ``redis-server`` found on PATH is started on a free loopback port for
the run. With ``CI`` set, those tests fail rather than skip when Redis is
missing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _run(*args: str | os.PathLike[str], env: dict[str, str] | None = None) -> int:
    print("+", " ".join(str(a) for a in args), flush=True)
    return subprocess.call([str(a) for a in args], cwd=ROOT, env=env)


# pip learned to install PEP 735 dependency groups (--group) in 25.1.
MIN_PIP = "25.1"


def ensure_venv(group: str | None) -> None:
    """Create the virtual environment and install the project, with ``group``.

    Args:
        group: a ``[dependency-groups]`` table of pyproject.toml to install
            as well (``dev``: the test and lint tools), or ``None``.
    """
    if sys.version_info < (3, 11):
        sys.exit("webhookverify needs Python 3.11 or newer; run this with python3.11 or later")
    if not PYTHON.exists():
        print(f"creating a virtual environment in {VENV.name}/", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{group or 'base'}"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    upgrade = (PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", f"pip>={MIN_PIP}")
    if _run(*upgrade) != 0:
        sys.exit(f"could not install pip>={MIN_PIP} in .venv; check network access to the index")
    install: tuple[str, ...] = ("--group", group) if group else ()
    if _run(PYTHON, "-m", "pip", "install", "--quiet", *install, "-e", ".") != 0:
        what = f"the project and its {group!r} group" if group else "the project"
        sys.exit(f"could not install {what} into .venv; see pip's message above")
    stamp.write_text(wanted)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_redis(env: dict[str, str]) -> subprocess.Popen[bytes] | None:
    if env.get("REDIS_URL"):
        return None
    server = shutil.which("redis-server")
    if server is None:
        if env.get("CI"):
            print(
                "REDIS_URL is not set and redis-server is not installed: the Redis tests will fail"
            )
        else:
            print("note: no REDIS_URL and no redis-server on PATH: the Redis tests are skipped")
        return None
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="webhookverify-redis-")
    proc = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    print(f"started redis-server for the tests on 127.0.0.1:{port}", flush=True)
    return proc


def test(args: list[str]) -> int:
    ensure_venv("dev")
    env = dict(os.environ)
    for step in (
        (PYTHON, "-m", "ruff", "check", "."),
        (PYTHON, "-m", "ruff", "format", "--check", "."),
        (PYTHON, "-m", "mypy", "--strict", "src"),
    ):
        if _run(*step, env=env) != 0:
            return 1
    redis = _start_redis(env)
    try:
        code = _run(PYTHON, "-m", "pytest", *args, env=env)
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
    if code == 5:
        print("pytest collected no tests: that is a failure, not a pass")
        return 1
    return code


def demo(args: list[str]) -> int:
    ensure_venv(None)
    return _run(BIN / "webhookverify", "demo", *args)


def main() -> int:
    commands = {"test": test, "demo": demo}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print("usage: python3 tasks.py {demo|test} [arguments for pytest or the demo]")
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
