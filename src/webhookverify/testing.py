"""Helpers for testing code that receives webhooks.

``sign_request`` builds a :class:`WebhookRequest` signed the way a real sender
would sign it, with any verifier of this library.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from .request import WebhookRequest
from .verifiers import Verifier

__all__ = ["sign_request"]


def sign_request(
    verifier: Verifier,
    body: bytes | str = b"{}",
    *,
    now: float | None = None,
    method: str = "POST",
    url: str = "https://example.test/webhooks",
    headers: Mapping[str, str] | None = None,
    received_at: float | None = None,
    **parts: str,
) -> WebhookRequest:
    """Return a request signed by ``verifier.sign``, as its sender would send it.

    Args:
        verifier: any verifier; its ``sign`` makes the signature headers.
        body: the raw body (``str`` is encoded as UTF-8).
        now: when it was signed (default: the clock); also ``received_at``
            unless that is given.
        method: the request's method (signed by some schemes).
        url: the request's URL (signed by some schemes).
        headers: extra headers to send alongside the signature headers.
        parts: passed to ``verifier.sign`` (``timestamp=``, ``id=``, ...).
    """
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    moment = time.time() if now is None else now
    signed = verifier.sign(raw, moment, method=method, url=url, **parts)
    all_headers = {"Content-Type": "application/json", **(headers or {}), **signed}
    return WebhookRequest(
        method=method,
        url=url,
        headers=all_headers,
        body=raw,
        received_at=moment if received_at is None else received_at,
    )


# -- adapters: WSGI environ and ASGI scope builders, and drivers -----------------------
#
# These build what a server would hand the WSGI and ASGI adapters, so that an
# app can be exercised without a socket: run_wsgi(app, make_environ(request))
# and run_asgi(app, make_scope(request), request.body).

import io  # noqa: E402 - kept with the adapter helpers they serve
import urllib.parse  # noqa: E402
from collections.abc import Callable, Iterable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any, Literal  # noqa: E402

from ._wsgi_io import call_app  # noqa: E402
from .request import Headers  # noqa: E402

__all__ += ["AdapterResponse", "call_asgi", "make_environ", "make_scope", "run_asgi", "run_wsgi"]

_AUTO: Any = "auto"


@dataclass(frozen=True, slots=True)
class AdapterResponse:
    """A response an app wrote: status, headers (case-insensitive) and body."""

    status: int
    headers: Headers
    body: bytes
    messages: tuple[dict[str, Any], ...] = field(default=(), repr=False, compare=False)
    """Under ASGI: every message the app sent, in order."""


def _parts(
    request: WebhookRequest | None,
    method: str | None,
    url: str | None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None,
    body: bytes | None,
) -> tuple[str, urllib.parse.SplitResult, list[tuple[str, str]], bytes]:
    if request is not None:
        method = method or request.method
        url = url or request.url
        if headers is None:
            headers = request.headers.raw_items()
        body = request.body if body is None else body
    pairs = list(headers.items() if isinstance(headers, Mapping) else headers or ())
    return (
        (method or "POST").upper(),
        urllib.parse.urlsplit(url or "http://example.test/webhooks"),
        pairs,
        b"" if body is None else bytes(body),
    )


def _with_length(
    pairs: list[tuple[str, str]], body: bytes, content_length: int | str | None, chunked: bool
) -> list[tuple[str, str]]:
    """Pairs without the caller's length headers, plus the ones asked for."""
    drop = ("content-length", "transfer-encoding")
    kept = [(n, v) for n, v in pairs if n.lower() not in drop]
    if chunked:
        kept.append(("Transfer-Encoding", "chunked"))
    if content_length is _AUTO:
        if not chunked:
            kept.append(("Content-Length", str(len(body))))
    elif content_length is not None:
        kept.append(("Content-Length", str(content_length)))
    return kept


def make_environ(
    request: WebhookRequest | None = None,
    *,
    method: str | None = None,
    url: str | None = None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    body: bytes | None = None,
    content_length: int | str | None = _AUTO,
    chunked: bool = False,
    input_terminated: bool | None = None,
    script_name: str = "",
    remote_addr: str | None = "127.0.0.1",
    **extra: Any,
) -> dict[str, Any]:
    """A PEP 3333 environ for ``request`` (or for the parts given), as a server builds it.

    Args:
        request: a :class:`WebhookRequest` (from :func:`sign_request`) whose
            method, URL, headers and body are used; any part given by keyword
            replaces the request's.
        url: split into ``wsgi.url_scheme``, ``HTTP_HOST``, ``SERVER_NAME``,
            ``SERVER_PORT``, ``SCRIPT_NAME``/``PATH_INFO`` (decoded to latin-1,
            as PEP 3333 says) and ``QUERY_STRING``.
        headers: become ``HTTP_*`` keys (``CONTENT_TYPE`` for Content-Type);
            repeated headers are folded with ``", "``, as servers do.
        body: the bytes ``wsgi.input`` yields.
        content_length: ``CONTENT_LENGTH``: by default ``len(body)``; an int
            or str sets it (a number larger than the body simulates a client
            that went away, an invalid string an invalid header); ``None``
            omits it.
        chunked: send ``Transfer-Encoding: chunked`` without a Content-Length.
        input_terminated: set ``wsgi.input_terminated`` (default: ``chunked``).
        script_name: the mount point; removed from the front of the URL's path.
        remote_addr: ``REMOTE_ADDR``.
        extra: more environ keys.
    """
    verb, parts, pairs, raw = _parts(request, method, url, headers, body)
    path = urllib.parse.unquote_to_bytes(parts.path or "/").decode("latin-1")
    if script_name and path.startswith(script_name):
        path = path[len(script_name) :]
    scheme = parts.scheme or "http"
    environ: dict[str, Any] = {
        "REQUEST_METHOD": verb,
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path,
        "QUERY_STRING": parts.query,
        "SERVER_NAME": parts.hostname or "localhost",
        "SERVER_PORT": str(parts.port or (443 if scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(raw),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input_terminated": chunked if input_terminated is None else input_terminated,
    }
    if remote_addr is not None:
        environ["REMOTE_ADDR"] = remote_addr
    if parts.netloc and not any(n.lower() == "host" for n, _ in pairs):
        pairs.insert(0, ("Host", parts.netloc))
    for name, value in _with_length(pairs, raw, content_length, chunked):
        key = name.upper().replace("-", "_")
        key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key
        environ[key] = f"{environ[key]}, {value}" if key in environ else value
    environ.update(extra)
    return environ


def run_wsgi(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> AdapterResponse:
    """Call a WSGI app with ``environ`` and collect its whole response.

    Raises:
        RuntimeError: the app returned without calling ``start_response``.
    """
    response = call_app(app, environ)
    return AdapterResponse(response.status, Headers(response.headers), response.body)


def make_scope(
    request: WebhookRequest | None = None,
    *,
    method: str | None = None,
    url: str | None = None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    body: bytes | None = None,
    content_length: int | str | None = _AUTO,
    chunked: bool = False,
    root_path: str = "",
    raw_path: bool = True,
    client: tuple[str, int] | None = ("127.0.0.1", 50000),
    scope_type: Literal["http", "websocket"] = "http",
    state: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An ASGI ``http`` scope for ``request`` (or the parts given), as a server builds it.

    Args:
        request: a :class:`WebhookRequest` whose method, URL and headers are
            used (and whose body sets the Content-Length); keywords replace parts.
        url: split into ``scheme``, ``server``, ``path`` (decoded),
            ``raw_path`` (as in the URL) and ``query_string``; a ``Host``
            header is added from it unless ``headers`` has one.
        body: only sets the default Content-Length: pass the body itself to
            :func:`run_asgi`.
        content_length: as for :func:`make_environ`; ``None`` omits it.
        chunked: send ``Transfer-Encoding: chunked`` without a Content-Length.
        root_path: the mount point; ``path`` and ``raw_path`` keep it at the
            front, as uvicorn sends them.
        raw_path: include ``raw_path`` (servers may leave it out).
        client: the peer ``(host, port)``, or ``None`` (a Unix socket).
        state: ``scope["state"]`` (left out when ``None``).
        extra: more scope keys.
    """
    verb, parts, pairs, raw = _parts(request, method, url, headers, body)
    secure = parts.scheme in ("https", "wss")
    if scope_type == "http":
        scheme = "https" if secure else "http"
    else:
        scheme, content_length = ("wss" if secure else "ws"), None
    raw_url_path = parts.path or "/"
    if root_path and not raw_url_path.startswith(root_path):
        raw_url_path = root_path + raw_url_path
    if parts.netloc and not any(n.lower() == "host" for n, _ in pairs):
        pairs.insert(0, ("Host", parts.netloc))
    scope: dict[str, Any] = {
        "type": scope_type,
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": verb,
        "scheme": scheme,
        "path": urllib.parse.unquote(raw_url_path),
        "query_string": parts.query.encode("latin-1"),
        "root_path": root_path,
        "headers": [
            (n.lower().encode("latin-1"), v.encode("latin-1"))
            for n, v in _with_length(pairs, raw, content_length, chunked)
        ],
        "client": client,
        "server": (parts.hostname or "localhost", parts.port or (443 if secure else 80)),
    }
    if scope_type != "http":
        del scope["method"]
    if raw_path:
        scope["raw_path"] = raw_url_path.encode("latin-1")
    if state is not None:
        scope["state"] = state
    scope.update(extra)
    return scope


async def call_asgi(
    app: Callable[..., Any],
    scope: dict[str, Any],
    body: bytes = b"",
    *,
    chunk_size: int | None = None,
    disconnect_after: int | None = None,
    timeout: float = 10.0,
) -> AdapterResponse | None:
    """Drive an ASGI app through one HTTP request, as a server would.

    The body goes in ``http.request`` messages of ``chunk_size`` bytes (one
    message by default). Once the body is delivered, a further ``receive``
    waits until the response is complete and then gives ``http.disconnect``.

    Args:
        disconnect_after: give only this many body messages (with
            ``more_body`` set) and then ``http.disconnect``: a client that
            went away mid-body.
        timeout: seconds before the call is abandoned (``TimeoutError``).

    Returns:
        the response, or ``None`` when the app sent none.

    Raises:
        RuntimeError: the app broke the ASGI message order.
    """
    import asyncio

    size = chunk_size or max(len(body), 1)
    chunks: Sequence[bytes] = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    if disconnect_after is not None:
        chunks = chunks[:disconnect_after]
    position = 0
    sent: list[dict[str, Any]] = []
    finished = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal position
        if position < len(chunks):
            chunk = chunks[position]
            position += 1
            more = disconnect_after is not None or position < len(chunks)
            return {"type": "http.request", "body": chunk, "more_body": more}
        if disconnect_after is None:
            await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        kind = message.get("type")
        if finished.is_set():
            raise RuntimeError(f"the app sent {kind!r} after the response was complete")
        started = any(m["type"] == "http.response.start" for m in sent)
        if kind == "http.response.start":
            if started:
                raise RuntimeError("the app sent http.response.start twice")
        elif kind == "http.response.body":
            if not started:
                raise RuntimeError("the app sent http.response.body before http.response.start")
            if not message.get("more_body", False):
                finished.set()
        else:
            raise RuntimeError(f"the app sent an unexpected message {kind!r}")
        sent.append(dict(message))

    await asyncio.wait_for(app(scope, receive, send), timeout)
    if not sent:
        return None
    start = sent[0]
    headers = Headers([(bytes(n), bytes(v)) for n, v in start.get("headers", ())])
    body_out = b"".join(m.get("body", b"") for m in sent[1:])
    return AdapterResponse(int(start["status"]), headers, body_out, tuple(sent))


def run_asgi(
    app: Callable[..., Any],
    scope: dict[str, Any],
    body: bytes = b"",
    *,
    chunk_size: int | None = None,
    disconnect_after: int | None = None,
    timeout: float = 10.0,
) -> AdapterResponse | None:
    """:func:`call_asgi` on a new event loop, for synchronous tests."""
    import asyncio

    return asyncio.run(
        call_asgi(
            app,
            scope,
            body,
            chunk_size=chunk_size,
            disconnect_after=disconnect_after,
            timeout=timeout,
        )
    )


# VerifierContract, the pytest class that tests a verifier (yours too), loads
# when first named: importing this module never imports pytest.
from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:
    pass


def __getattr__(name: str) -> Any:
    if name == "VerifierContract":
        from .testing_contract import VerifierContract

        return VerifierContract
    if name == "make_apple_test_chain":  # loads cryptography: only when named
        from .presets._apple_testing import make_test_chain

        return make_test_chain
    if name in ("SignedDelivery", "WebhookSigner"):  # testing_clients builds on this module
        from . import testing_clients

        return getattr(testing_clients, name)
    raise AttributeError(f"module 'webhookverify.testing' has no attribute {name!r}")
