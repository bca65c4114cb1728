"""Which requests a middleware guards: its webhook paths, compared after the
normalisation a router may apply.

A router can send more than one spelling of a path to the same view:
Werkzeug (Flask) merges repeated slashes, so ``//webhooks`` and, under a
server that decodes the path, ``/%2Fwebhooks`` reach the ``/webhooks`` view;
a proxy or server may resolve dot segments; a case-insensitive route takes
``/WEBHOOKS``; a mount moves the front of the path into ``SCRIPT_NAME`` or
``root_path``. A middleware that compared paths exactly would let those
spellings reach the view unverified. So both the configured paths and the
request's path are reduced by :func:`normalize_path`, and a request is
guarded when the two agree.

The normalisation is deliberately over-inclusive: guarding a spelling that
the router would not send to the view costs a 401 or 405 where it would have
answered 404, while missing one lets a forged request through.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import ConfigurationError

__all__ = [
    "BODY_KEEPING_REDIRECTS",
    "PathSet",
    "environ_paths",
    "normalize_path",
    "scope_paths",
    "slash_moved",
    "toggle_slash",
]

# Rounds of percent-decoding. The server decodes the path once before the
# middleware sees it (PEP 3333 PATH_INFO, ASGI path); further rounds cover a
# component after the middleware that decodes again (Werkzeug, Django and
# Starlette do not). Three covers a double-encoded ``%252F`` with one to
# spare, and bounds the work on a path of nested escapes to three passes.
MAX_DECODINGS = 3


def normalize_path(path: str) -> str:
    """The one spelling of ``path`` that every router's spelling of it reduces to.

    The steps, in order:

    1. Percent-decode, up to :data:`MAX_DECODINGS` times (``%2F``, ``%2f``,
       ``%77`` for ``w``, ``%2e`` for ``.``), as UTF-8.
    2. Drop one line feed at the end (``/webhooks%0A``): Starlette and
       FastAPI match a route with a regular expression ending in ``$``, which
       Python's :mod:`re` also matches before a final newline, so
       ``"/webhooks\\n"`` reaches the ``/webhooks`` route.
    3. Merge repeated slashes (``//webhooks``), as Werkzeug's router does.
    4. Remove dot segments, as RFC 3986 §5.2.4 does: ``.`` is dropped and
       ``..`` removes the segment before it (none above the root). Slashes are
       merged first, as ``posixpath.normpath`` and nginx do, so ``..`` climbs
       over a whole segment.
    5. Drop a trailing slash (``/webhooks/``), except for the root ``/``.
    6. Fold case with :meth:`str.casefold`: no router in Flask, Django or
       Starlette ignores case by default, but a case-insensitive route or
       server may, and guarding a spelling that is not routed is harmless.

    Args:
        path: a path as text: ASGI ``path``, or a WSGI ``PATH_INFO`` already
            decoded from its latin-1 form to UTF-8 text. An empty path is ``/``.

    Returns:
        the normalised path: starts with ``/``, no empty, ``.`` or ``..``
        segments, no trailing slash unless it is ``/``, case-folded.
    """
    for _ in range(MAX_DECODINGS):
        if "%" not in path:
            break
        decoded = urllib.parse.unquote(path)
        if decoded == path:
            break
        path = decoded
    if path.endswith("\n"):
        path = path[:-1]
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == ".." and segments:
            segments.pop()
        elif segment not in ("", ".", ".."):
            segments.append(segment)
    return ("/" + "/".join(segments)).casefold()


class PathSet:
    """The webhook paths a middleware guards, matched after :func:`normalize_path`.

    Attributes:
        paths: the paths as configured.
        normalized: their normalised spellings, which requests are matched against.
    """

    __slots__ = ("normalized", "paths")

    def __init__(self, owner: str, path: str | None, paths: Iterable[str] | None) -> None:
        """Check and keep the configured paths.

        Raises:
            ConfigurationError: both or neither of ``path`` and ``paths`` usable,
                or a path that is not absolute or holds a query.
        """
        if path is not None and paths is not None:
            raise ConfigurationError(f"{owner}: give path= or paths=, not both")
        if paths is None:
            items: list[str] = ["/webhooks" if path is None else path]
        elif isinstance(paths, str | bytes):
            raise ConfigurationError(f"{owner}(paths=...) takes a list such as ['/webhooks']")
        else:
            items = list(paths)
        if not items:
            raise ConfigurationError(f"{owner}(paths=...) must name at least one path")
        for item in items:
            if not isinstance(item, str) or not item.startswith("/") or "?" in item:
                raise ConfigurationError(
                    f"{owner}(path=...) must be an absolute path such as '/webhooks', not {item!r}"
                )
        self.paths = frozenset(items)
        self.normalized = frozenset(normalize_path(item) for item in items)

    def matches(self, path: str, mount: str = "") -> bool:
        """Whether a request is on a guarded path.

        Args:
            path: the path within the app, which its router matches (WSGI
                ``PATH_INFO``; ASGI ``path`` without ``root_path``).
            mount: where the app is mounted (``SCRIPT_NAME``, ``root_path``),
                or ``""``.

        Returns:
            whether ``path``, or ``mount`` followed by ``path``, normalises to
            a guarded path: a middleware may be given either. Dot segments in
            ``path`` do not climb into ``mount``, as the router never sees it.
        """
        within = normalize_path(path)
        if within in self.normalized:
            return True
        return bool(mount) and normalize_path(mount + within) in self.normalized

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self.matches(path)


def environ_paths(environ: Mapping[str, Any]) -> tuple[str, str]:
    """A WSGI request's path within the app (``PATH_INFO``, what its router
    matches) and its mount point (``SCRIPT_NAME``), as text.

    PEP 3333 gives both as latin-1 strings of the bytes received; they are
    read as UTF-8, as Werkzeug and Django do, so that a non-ASCII path
    compares as the text it spells.
    """
    return _wsgi_text(environ.get("PATH_INFO", "")), _wsgi_text(environ.get("SCRIPT_NAME", ""))


def _wsgi_text(value: object) -> str:
    if not isinstance(value, str):
        return ""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:  # not a PEP 3333 string: compare it as it is
        return value


def scope_paths(scope: Mapping[str, Any]) -> tuple[str, str]:
    """An ASGI request's path within the app (what Starlette routes: ``path``
    minus ``root_path``) and its mount point (``root_path``).

    Servers differ on whether ``path`` holds ``root_path`` (the ASGI spec
    says it does; older servers leave it out): either way is understood.
    """
    path = scope.get("path", "")
    root = scope.get("root_path", "")
    if not isinstance(path, str) or not isinstance(root, str):
        return "", ""
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        return path[len(root) :], root
    return path, root


# The redirects that keep the method and the body (RFC 9110 §15.4.8, §15.4.9),
# as Starlette's redirect_slashes (307) and Werkzeug's strict_slashes (308)
# answer: 301, 302 and 303 let a client turn the POST into a GET, so following
# them would not be the same request.
BODY_KEEPING_REDIRECTS = frozenset({307, 308})


def toggle_slash(path: str) -> str:
    """``path`` with its trailing slash dropped, or added when it has none."""
    return path.rstrip("/") if path.endswith("/") else path + "/"


def slash_moved(path: str, root: str, status: int, location: str | None, host: str) -> str | None:
    """``path`` with its trailing slash added or dropped, when an app's answer
    is a redirect there and nowhere else; else ``None``.

    A router does that for a route declared with the other trailing slash
    than the request's (Starlette's and FastAPI's ``redirect_slashes``,
    Werkzeug's ``strict_slashes``, both on by default). Senders do not follow
    a redirect on a POST, so every delivery would end at it: a middleware
    holding the verified body follows it, as the sender would have.

    Args:
        path: the path the app was called with (ASGI ``path``, WSGI
            ``PATH_INFO``), decoded.
        root: the mount's prefix (``root_path``, ``SCRIPT_NAME``).
        status: the app's answer.
        location: its ``Location`` header (``None``: none, or several).
        host: the request's ``Host``, which an absolute ``Location`` must name.
    """
    if status not in BODY_KEEPING_REDIRECTS or location is None or path in ("", "/"):
        return None
    target = urllib.parse.urlsplit(location)
    if target.netloc and target.netloc.lower() != host.lower():
        return None  # another origin: not the same route spelled otherwise
    moved = toggle_slash(path)
    if urllib.parse.unquote(target.path) not in (moved, root + moved):
        return None
    return moved
