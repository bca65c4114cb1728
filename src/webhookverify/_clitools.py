"""Plumbing of the ``webhookverify`` command that is not about webhooks.

``--version``, read from the installed distribution only when asked, a
quiet exit when the reader of the output goes away, the argument types
``--now`` and ``--port`` (a usage error, not a traceback, for ``--now nan``),
and :class:`Fail`, the one-line cause and remedy every command stops with.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

__all__ = [
    "Fail",
    "VersionAction",
    "discard_stdout",
    "out",
    "package_version",
    "port_number",
    "unix_time",
]

# --now: unix seconds from 1970 up to the last second of the year 9999, the
# range a datetime (and so every RFC 3339 timestamp a scheme signs) can hold.
MAX_NOW = 253_402_300_799.0
# --port: a TCP port number (RFC 9293: 16 bits); 0 lets the system choose.
MAX_PORT = 65_535


class Fail(Exception):
    """A command stops: one line of cause, one of remedy, and an exit status.

    Args:
        cause: what went wrong, naming the option or file.
        remedy: what to change.
        code: the exit status (2, a usage or configuration mistake, unless told).
    """

    def __init__(self, cause: str, remedy: str, code: int = 2) -> None:
        super().__init__(cause)
        self.cause, self.remedy, self.code = cause, remedy, code


def out(text: str = "") -> None:
    """Write one line of a command's answer to stdout."""
    sys.stdout.write(text + "\n")


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


def unix_time(text: str) -> float:
    """``--now``: unix seconds, a finite number in the range a timestamp can take.

    Raises:
        argparse.ArgumentTypeError: not a number, or outside 0 to ``MAX_NOW``
            (``nan`` and ``inf`` included).
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= MAX_NOW:  # nan fails this too
        raise argparse.ArgumentTypeError(
            f"{text!r} is not unix seconds from 0 to {MAX_NOW:.0f} (the year 9999)"
        )
    return value


def port_number(text: str) -> int:
    """``--port``: a TCP port number, 0 for any free one.

    Raises:
        argparse.ArgumentTypeError: not digits, or above ``MAX_PORT``.
    """
    if not text.isascii() or not text.isdigit() or int(text) > MAX_PORT:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number from 0 to {MAX_PORT}")
    return int(text)
