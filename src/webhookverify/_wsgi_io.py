"""WSGI in and out (PEP 3333): the headers, path and body from the environ,
the response written, and the wrapped app's response buffered.
"""

from __future__ import annotations

import http
import logging
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from ._body import READ_CHUNK_SIZE, BodyBuffer
from ._origin import quote_path
from ._paths import slash_moved, toggle_slash
from ._replies import BAD_REQUEST, LENGTH_REQUIRED, Refused, Reply
from .delivery import Outcome

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "AppResponse",
    "call_app",
    "header_pairs",
    "path",
    "read_body",
    "slash_redirect",
    "url_parts",
    "write",
]

logger = logging.getLogger("webhookverify")

# WSGI status lines ("200 OK"), by status.
_STATUS_LINES = {s.value: f"{s.value} {s.phrase}" for s in http.HTTPStatus}
_CGI_HEADERS = (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length"))
# CGI gives these two without the HTTP_ prefix: with it, they are not the request's.
_CGI_DUPLICATES = ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH")


def header_pairs(environ: WSGIEnvironment) -> list[tuple[str, Any]]:
    """The request's headers: the ``HTTP_*`` keys in environ order, then
    ``CONTENT_TYPE`` and ``CONTENT_LENGTH`` unless empty ("absent", PEP 3333)."""
    # "HTTP_" <= key < "HTTP`" is key.startswith("HTTP_") ("`" follows "_"),
    # by comparisons instead of a call or a slice for each of the keys; the
    # upper bound first, as most keys (wsgi.*, SERVER_*, REQUEST_*) fail it.
    try:
        pairs = [
            (key[5:].replace("_", "-").title(), value)  # HTTP_X_HUB_SIGNATURE -> X-Hub-Signature
            for key, value in environ.items()
            if key < "HTTP`" and key >= "HTTP_" and key not in _CGI_DUPLICATES
        ]
    except TypeError:  # a key that is not a str (PEP 3333 says every one is): not a header
        return header_pairs({k: v for k, v in environ.items() if type(k) is str})
    for key, name in _CGI_HEADERS:
        value = environ.get(key)
        if value:
            pairs.append((name, value))
    return pairs


def path(environ: WSGIEnvironment) -> str:
    """The request path as sent: the server's raw URI when it agrees with
    ``SCRIPT_NAME + PATH_INFO``, else those re-quoted (PEP 3333 "URL
    Reconstruction", from their latin-1 bytes)."""
    decoded = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    try:
        raw_decoded = decoded.encode("latin-1")
    except UnicodeEncodeError:  # not PEP 3333 text: quote it as UTF-8
        raw_decoded = decoded.encode("utf-8", "surrogateescape")
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(raw_uri, str) and raw_uri.startswith("/"):
        raw_path = raw_uri.partition("?")[0]
        if raw_path.isascii() and urllib.parse.unquote_to_bytes(raw_path) == raw_decoded:
            return quote_path(raw_path.encode("ascii"), decoded=False)
    return quote_path(raw_decoded, decoded=True)


def url_parts(environ: WSGIEnvironment) -> tuple[str, str, tuple[str, int | None]]:
    port = environ.get("SERVER_PORT", "")
    server = (
        environ.get("SERVER_NAME") or "localhost",
        int(port) if isinstance(port, str) and port.isascii() and port.isdigit() else None,
    )
    return path(environ), environ.get("QUERY_STRING", ""), server


def read_body(environ: WSGIEnvironment, length: int | None, limit: int) -> bytes:
    """The body: ``length`` bytes (already checked against ``limit``), or, without
    a length, up to the end of an input the server marks as terminated.

    Raises:
        Refused: 411 for a chunked body on a server that does not mark its
            input as terminated; 400 for a body that ends early or cannot be
            read; 413 past ``limit``.
    """
    if length is None and not environ.get("wsgi.input_terminated"):
        if environ.get("HTTP_TRANSFER_ENCODING"):
            raise Refused(LENGTH_REQUIRED, "length_required")
        return b""  # RFC 9112 §6.3: neither header, no body
    # without a length: to the end, never more than one byte past the limit
    remaining = limit + 1 if length is None else length
    stream = environ["wsgi.input"]
    buffer: BodyBuffer | None = None  # made once a read falls short of the whole body
    while remaining > 0:
        try:
            chunk = stream.read(min(remaining, READ_CHUNK_SIZE))
        except Exception as exc:  # noqa: BLE001 - the server's stream: a client gone, a bad chunk
            logger.info("the request body could not be read: %r", exc)
            raise Refused(BAD_REQUEST, "unreadable_body") from None
        if buffer is None:
            if len(chunk) == length:
                return bytes(chunk)  # the whole announced body in one read: the usual case
            buffer = BodyBuffer(limit, length)
        if not chunk:
            break
        buffer.add(chunk)
        remaining -= len(chunk)
    return b"" if buffer is None else buffer.finish()  # None: a Content-Length of 0


def write(reply: Reply | Outcome, start_response: StartResponse) -> list[bytes]:
    headers = [*reply.headers, ("Content-Length", str(len(reply.body)))]
    start_response(_STATUS_LINES.get(reply.status) or f"{reply.status} Unknown", headers)
    return [reply.body]


class AppResponse(NamedTuple):
    status: int
    line: str
    headers: list[tuple[str, str]]
    body: bytes


def call_app(app: WSGIApplication, environ: WSGIEnvironment) -> AppResponse:
    """Run a WSGI app to completion and keep its whole response."""
    started: list[Any] = []
    chunks: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        # Nothing is sent before the app finishes, so a second call (with
        # exc_info, as PEP 3333 allows for an error page) replaces the first.
        started[:] = [status, list(headers)]
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not started:
        raise RuntimeError("the wrapped WSGI app returned without calling start_response")
    line, headers = started
    return AppResponse(int(line.split(" ", 1)[0]), line, headers, b"".join(chunks))


def _text(value: str) -> str:
    """A PEP 3333 environ string (bytes as latin-1) read as the UTF-8 it carries."""
    return value.encode("latin-1", "replace").decode("utf-8", "replace")


def slash_redirect(environ: WSGIEnvironment, response: AppResponse) -> WSGIEnvironment | None:
    """The request's environ at the path the app redirected it to, when the
    redirect only adds or drops the trailing slash (``slash_moved``: Werkzeug's
    ``strict_slashes``), else ``None``. ``wsgi.input`` is left for the caller."""
    locations = [value for name, value in response.headers if name.lower() == "location"]
    location = locations[0] if len(locations) == 1 else None
    path_info: str = environ.get("PATH_INFO", "")
    root = _text(environ.get("SCRIPT_NAME", ""))
    host = environ.get("HTTP_HOST", "")
    if slash_moved(_text(path_info), root, response.status, location, host) is None:
        return None
    moved = {**environ, "PATH_INFO": toggle_slash(path_info)}
    for key in ("RAW_URI", "REQUEST_URI"):  # the target as sent (gunicorn, uWSGI)
        target = environ.get(key)
        if isinstance(target, str) and target:
            raw_path, mark, query = target.partition("?")
            moved[key] = toggle_slash(raw_path) + mark + query
    return moved
