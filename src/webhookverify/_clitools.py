"""Plumbing of the ``webhookverify`` command that is not about webhooks.

``--version``, read from the installed distribution only when asked, and
a quiet exit when the reader of the output goes away.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

__all__ = ["VersionAction", "discard_stdout", "package_version"]


def package_version() -> str:
    """The installed version of webhookverify (its ``__version__`` in a bare source tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("webhookverify")
    except PackageNotFoundError:
        from . import __version__

        return __version__


class VersionAction(argparse.Action):
    """``--version``: print ``PROG VERSION`` and exit 0, like argparse's own action,
    but without reading the package metadata on every other run."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        sys.stdout.write(f"{parser.prog} {package_version()}\n")
        sys.stdout.flush()  # now, while a closed pipe can still be reported quietly
        parser.exit()


def discard_stdout() -> None:
    """Point stdout at the null device, once its reader has gone away.

    Python flushes stdout again at exit, and that flush must not fail (and
    print a second error) too: the recipe of the ``signal`` module's
    documentation, "Note on SIGPIPE".
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is no file descriptor (captured in a test): no flush to fail
