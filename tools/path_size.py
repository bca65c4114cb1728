"""Lines of code on the request path, module by module.

    python tools/path_size.py

    python tools/path_size.py --history   # the count after each change since the goal was set

Counts what a reviewer reads: lines holding code, not docstrings, comments
or blank lines. The modules are those the request-path redesign covers
(``request.py``, the old ``_http.py`` and every module split out of it,
``wsgi.py``, ``asgi.py``, ``receiver.py``, ``registry.py``, ``replay.py``,
``redis_store.py``, ``verifiers/``) under their present names, including the
modules later split out of them (``_outcomes.py`` from ``receiver.py``,
``handler.py`` from ``registry.py``). When the redesign was asked for, these
held 4,610 lines of code; its goal is at most 70% of that.

``--history`` counts the same modules (the old ``_http.py`` among them) at
every commit on the main line since then and prints those that changed the
count: what the redesign took out, and what later work (handshakes, fetched
keys, the fixes for lost deliveries) added back. Needs a git checkout.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import io
import subprocess
import sys
import tokenize
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "webhookverify"
BASELINE = 4_610
# The commit at which the redesign was asked for, when the path held BASELINE lines.
BASELINE_COMMIT = "9c0e0eba13e725b8b80a3573ea2f57de640013c8"
GOAL = 0.70
PATH = {
    "adapters": (
        "wsgi.py asgi.py _adapter.py _asgi_messages.py _wsgi_io.py _body.py _options.py "
        "_origin.py _replies.py _http.py"
    ),
    "request": "request.py",
    "receiver": "receiver.py _outcomes.py",
    "registry": "registry.py handler.py",
    "replay": "replay.py redis_store.py",
    "verifiers": "verifiers/*.py",
}


def code_lines(source: str) -> int:
    """The lines of ``source`` that hold code (docstrings, comments, blanks not counted)."""
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    skipped = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skipped and token.type != tokenize.ENDMARKER:
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines - docstrings)


def _git(*args: str) -> str:
    """git's output for ``args`` in this checkout."""
    done = subprocess.run(  # noqa: S603 - git on this checkout, with our own arguments
        ["git", *args],  # noqa: S607 - the git on PATH, as a developer runs it
        cwd=PACKAGE.parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def size_at(commit: str) -> int:
    """The path's lines of code in ``commit``."""
    prefix = "src/webhookverify/"
    patterns = [pattern for part in PATH.values() for pattern in part.split()]
    total = 0
    for name in _git("ls-tree", "-r", "--name-only", commit, prefix).split():
        module = name.removeprefix(prefix)
        if any(fnmatch.fnmatchcase(module, pattern) for pattern in patterns):
            total += code_lines(_git("show", f"{commit}:{name}"))
    return total


def history() -> None:
    """Print each commit on the main line since BASELINE_COMMIT that changed the count."""
    log = _git("log", "--first-parent", "--reverse", "--format=%H %s", f"{BASELINE_COMMIT}..HEAD")
    before = size_at(BASELINE_COMMIT)
    print(f"{before:5}         {BASELINE_COMMIT[:7]} (the redesign asked for)")
    for line in log.splitlines():
        commit, _, subject = line.partition(" ")
        after = size_at(commit)
        if after != before:
            print(f"{after:5} {after - before:+6}  {commit[:7]} {subject[:80]}")
        before = after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", action="store_true", help="the count after each change")
    if parser.parse_args().history:
        try:
            history()
        except (OSError, subprocess.CalledProcessError) as exc:
            said = (getattr(exc, "stderr", None) or str(exc)).strip()
            sys.exit(f"path_size: --history needs git and this repository's whole history: {said}")
        return
    total = 0
    for part, patterns in PATH.items():
        modules = sorted(p for pattern in patterns.split() for p in PACKAGE.glob(pattern))
        counted = {
            module.relative_to(PACKAGE).as_posix(): code_lines(module.read_text(encoding="utf-8"))
            for module in modules
        }
        total += sum(counted.values())
        listed = ", ".join(f"{name} {lines}" for name, lines in counted.items())
        print(f"{part:10} {sum(counted.values()):5}  ({listed})")
    print(f"{'total':10} {total:5}  ({total / BASELINE:.2f} of {BASELINE:,}; goal {GOAL:.2f})")


if __name__ == "__main__":
    main()
