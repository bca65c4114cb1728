"""ASGI adapters (ASGI 3, HTTP spec 2.x): an endpoint app and a middleware.

:class:`WebhookApp` is a whole webhook endpoint::

    app = WebhookApp(receiver)                    # uvicorn module:app

:class:`WebhookMiddleware` verifies requests to the webhook path(s) before
your app sees them::

    app.add_middleware(WebhookMiddleware, receiver=receiver, path="/webhooks")

Both read the body once from ``http.request`` messages, bounded by
``max_body_size`` (a Content-Length over the limit is refused before
reading; a body without one is streamed up to the limit), build the
:class:`~webhookverify.WebhookRequest` and run :meth:`Receiver.areceive
<webhookverify.Receiver.areceive>`. A client that disconnects mid-body
(``http.disconnect``) gets nothing dispatched and no response. Refusals are
short fixed texts (400, 405 with ``Allow``, 413, 431 past the header limits),
and each fires ``webhook.rejected`` (a :class:`~webhookverify.Rejection`
without a request); an unexpected error inside the adapter answers 500, so
the sender retries, and is logged. A client gone before the answer is
written is logged as such: nothing was answered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias, Unpack

from ._adapter import build_request, read_headers
from ._body import BodyBuffer, parse_content_length, whole_body
from ._options import (
    DEFAULT_MAX_BODY_SIZE,
    DELIVERY_KEY,
    AdapterOptions,
    AdapterSettings,
    Guard,
    check_receiver,
)
from ._origin import check_host, quote_path
from ._paths import scope_paths
from ._replies import (
    INTERNAL_ERROR,
    Refused,
    Reply,
    app_answer_stands,
    arefuse,
    decline_unless_2xx,
)
from .delivery import Outcome
from .errors import ConfigurationError, MissingDelivery
from .request import WebhookRequest

if TYPE_CHECKING:
    from .receiver import AsyncDispatch, Delivery, Receiver

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DELIVERY_KEY",
    "ASGIApp",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "WebhookApp",
    "WebhookMiddleware",
    "get_delivery",
    "require_delivery",
]

logger = logging.getLogger("webhookverify")

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]

# Response extensions that send something other than http.response.start and
# http.response.body: a middleware that buffers the wrapped app's response
# cannot relay them, so the wrapped app is not offered them.
_UNRELAYABLE_EXTENSIONS = frozenset(
    {
        "http.response.pathsend",
        "http.response.zerocopysend",
        "http.response.early_hint",
        "http.response.trailers",
    }
)


def get_delivery(scope: Scope) -> Delivery | None:
    """The verified :class:`~webhookverify.Delivery` a middleware put in ``scope["state"]``.

    Starlette and FastAPI users may also write
    ``request.scope["state"]["webhookverify.delivery"]``.
    """
    state = scope.get("state")
    delivery: Delivery | None = state.get(DELIVERY_KEY) if state is not None else None
    return delivery


def require_delivery(scope: Scope) -> Delivery:
    """The verified :class:`~webhookverify.Delivery` for an endpoint that must not run without one.

    Call it first (FastAPI and Starlette: ``require_delivery(request.scope)``):
    a request that reached the endpoint without passing through a
    :class:`WebhookMiddleware` guarding this route stops here.

    Raises:
        MissingDelivery: the request carries no verified delivery; mount
            ``WebhookMiddleware`` with ``path=...`` matching this route.
    """
    delivery = get_delivery(scope)
    if delivery is None:
        raise MissingDelivery()
    return delivery


# -- reading a request -----------------------------------------------------------------


def _path(scope: Scope) -> str:
    """The request path as sent: ``raw_path`` when the server gives it (the
    bytes received), else ``root_path + path`` re-quoted."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        return quote_path(raw.partition(b"?")[0], decoded=False)
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and not path.startswith(root):
        path = root + path
    return quote_path(path.encode("utf-8", "surrogateescape"), decoded=True)


def _url_parts(scope: Scope) -> tuple[str, str, tuple[str, int | None] | None]:
    query: bytes = scope.get("query_string", b"")
    return _path(scope), query.decode("latin-1"), scope.get("server")


async def _read_body(receive: Receive, length: int | None, limit: int) -> bytes | None:
    """The whole body, or ``None`` when the client disconnected first."""
    message = await receive()
    if message.get("type") == "http.request" and not message.get("more_body", False):
        return whole_body(message.get("body", b""), length, limit)  # one message: the usual case
    buffer = BodyBuffer(limit, length)
    while True:
        kind = message.get("type")
        if kind == "http.request":
            buffer.add(message.get("body", b""))
            if not message.get("more_body", False):
                return buffer.finish()
        elif kind == "http.disconnect":
            return None
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} while reading the body")
        message = await receive()


async def _read_request(
    options: AdapterOptions, scope: Scope, receive: Receive, received_at: float
) -> WebhookRequest | None:
    """Build the request (``None`` on disconnect), or raise :class:`Refused`.

    A wrong method, a malformed header or Host, or a Content-Length over the
    limit is refused before the first ``receive``.
    """
    method: str = scope.get("method", "GET")
    options.check_method(method)
    headers = read_headers(options, scope.get("headers", ()))
    limit = options.max_body_size
    length = parse_content_length(headers.get_all("content-length"), limit)
    host = check_host(headers.get_all("host"))
    body = await _read_body(receive, length, limit)
    client = scope.get("client")
    peer: str | None = client[0] if client else None
    if body is None:
        logger.info(
            "the client disconnected mid-body; nothing dispatched",
            extra={"webhookverify": {"reason": "client_disconnected", "remote_addr": peer}},
        )
        return None
    return build_request(
        options,
        method=method,
        scheme=scope.get("scheme", "http"),
        host=host,
        headers=headers,
        body=body,
        received_at=received_at,
        peer=peer,
        url_parts=lambda: _url_parts(scope),
    )


async def _reply(send: Send, reply: Reply | Outcome) -> None:
    """Write the receiver's :class:`~webhookverify.Outcome` or the adapter's :class:`Reply`."""
    body = reply.body
    headers = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in reply.headers]
    headers.append((b"content-length", b"%d" % len(body)))
    reason = reply.reason if isinstance(reply, Outcome) else f"adapter_{reply.status}"
    await _respond(send, reply.status, headers, body, reason)


async def _respond(send: Send, status: int, headers: Any, body: bytes, reason: str) -> None:
    """Write one response: its start, then its whole body.

    A ``send`` that fails is logged for what it is, never as an answer sent:
    after the request was handled (as ``reason`` says) there is nothing else
    to answer with.
    """
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    except OSError as exc:  # ASGI HTTP 2.4: send() on a closed connection raises OSError
        logger.warning(
            "the client went away before the answer (%d, %s) was written; nothing was answered: %r",
            status,
            reason,
            exc,
            extra={"webhookverify": {"reason": "client_gone", "status": status, "outcome": reason}},
        )
    except Exception:
        logger.exception(
            "the server refused the answer (%d, %s); nothing more can be sent", status, reason
        )


async def _handle(
    receiver: Receiver,
    options: AdapterOptions,
    scope: Scope,
    receive: Receive,
    dispatch: AsyncDispatch | None = None,
) -> Reply | Outcome | None:
    """Read, verify and dispatch one request; the reply to write (``None``: the
    client went away mid-body, nothing to answer)."""
    try:
        try:
            request = await _read_request(options, scope, receive, time.time())
        except Refused as refused:
            try:
                path: str | None = _path(scope)
            except Exception:  # noqa: BLE001 - a scope whose path is not text: say nothing of it
                path = None
            client = scope.get("client")
            peer = client[0] if client else None
            return await arefuse(receiver.bus, refused, scope.get("method"), path, peer)
        if request is None:
            return None
        if dispatch is None:
            return await receiver.areceive(request)
        return await receiver.areceive(request, dispatch=dispatch)
    except Exception:
        logger.exception("the ASGI webhook adapter failed; answering 500 for a retry")
        return INTERNAL_ERROR


async def _other_scope(scope: Scope, receive: Receive, send: Send) -> None:
    """``lifespan`` (startup and shutdown complete at once); a ``websocket`` is closed."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.close", "code": 1008})


class WebhookApp:
    """An ASGI app that is a whole webhook endpoint.

    Answers ``lifespan`` (startup and shutdown complete at once) and closes
    websockets, so it can be served on its own.

    Args:
        receiver: the :class:`~webhookverify.Receiver` that decides.
        options: ``max_body_size``, ``methods``, ``public_url``,
            ``trusted_proxies``, ``proxy_headers``, ``max_header_count``,
            ``max_header_bytes``: as for :class:`webhookverify.wsgi.WebhookApp`.

    Raises:
        ConfigurationError: a setting is wrong, at construction.
    """

    def __init__(self, receiver: Receiver, **options: Unpack[AdapterSettings]) -> None:
        check_receiver("WebhookApp", receiver, "areceive")
        self.receiver = receiver
        self.options = AdapterOptions.build("WebhookApp", **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await _other_scope(scope, receive, send)
            return
        reply = await _handle(self.receiver, self.options, scope, receive)
        if reply is not None:
            await _reply(send, reply)

    def __repr__(self) -> str:
        return f"asgi.WebhookApp({self.receiver!r})"


@dataclass(slots=True)
class _Capture:
    """The wrapped app's response, buffered until the receiver has decided."""

    status: int | None = None
    headers: list[Any] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    complete: bool = False

    async def send(self, message: Message) -> None:
        kind = message.get("type")
        if kind == "http.response.start" and self.status is None:
            self.status = int(message["status"])
            self.headers = list(message.get("headers", ()))
        elif kind == "http.response.body" and self.status is not None and not self.complete:
            body = message.get("body", b"")
            if body:
                self.chunks.append(bytes(body))
            self.complete = not message.get("more_body", False)
        else:
            raise RuntimeError(f"the wrapped ASGI app sent {kind!r} out of order")


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body once, then the server's own messages
    (``http.disconnect`` ...), as Starlette's middlewares do."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class WebhookMiddleware:
    """Verify webhook requests before an ASGI app sees them.

    Requests to ``path`` (or any of ``paths``) are read and run through the
    receiver; other paths, ``lifespan`` and ``websocket`` scopes go to ``app``
    untouched, and so do ``passthrough_methods`` on the webhook paths. A
    request is on a webhook path when its path within the app (``path``
    minus ``root_path``), or its whole path, names it in any spelling a
    router may take for it (see :class:`webhookverify.wsgi.WebhookMiddleware`).
    In the endpoint, call :func:`require_delivery`.

    A verified, new delivery is dispatched to ``app``: the middleware passes
    :meth:`Receiver.areceive <webhookverify.Receiver.areceive>` a ``dispatch``
    that calls ``app`` with a ``receive`` that replays the exact body bytes
    once, then passes the server's later messages through, and with the
    :class:`~webhookverify.Delivery` at
    ``scope["state"]["webhookverify.delivery"]`` (the scope and its ``state``
    are copies). The key is committed only once ``app`` has answered 2xx; any
    other answer declines the delivery (the key is released and the sender
    gets the app's answer), and a raise gets the sender a 500. The app's
    response is buffered and sent once the key is settled. With
    ``Receiver(time_budget=...)``, an app still running at the budget gets
    the sender a 202; its response is then discarded, and a failure or
    non-2xx releases the key for the retry. ``webhook.received`` listeners on
    the bus are not called for the middleware's requests: the app is the
    dispatch.

    What ``app`` does not see: refusals (401, 403, 409, 503, and the adapter's
    400/405/413/431), duplicates of a processed delivery (the receiver's 200),
    and requests whose client disconnected mid-body.

    Args:
        app: the ASGI app to protect.
        receiver: the :class:`~webhookverify.Receiver` that decides.
        path / paths: the webhook path, or several (default ``"/webhooks"``).
        passthrough_methods: methods that reach ``app`` unverified on the
            webhook paths (default none: they get 405).
        options: as for :class:`WebhookApp`.

    Raises:
        ConfigurationError: a setting is wrong, at construction.
    """

    def __init__(
        self,
        app: ASGIApp,
        receiver: Receiver,
        *,
        path: str | None = None,
        paths: Any = None,
        passthrough_methods: Any = (),
        **options: Unpack[AdapterSettings],
    ) -> None:
        if not callable(app):
            raise ConfigurationError("WebhookMiddleware(app=...) must be an ASGI app")
        check_receiver("WebhookMiddleware", receiver, "areceive")
        self.app = app
        self.receiver = receiver
        guard = Guard.build(path, paths, passthrough_methods)
        self.options = AdapterOptions.build("WebhookMiddleware", **options)
        self.guard = guard.check(self.options)
        self.paths, self.passthrough_methods = guard.paths, guard.passthrough_methods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.guard.guards(
            scope.get("method"), *scope_paths(scope)
        ):
            await self.app(scope, receive, send)
            return
        answered: list[tuple[int, list[Any], bytes]] = []

        async def dispatch(delivery: Delivery) -> None:
            inner = {**scope, "state": {**(scope.get("state") or {}), DELIVERY_KEY: delivery}}
            extensions = scope.get("extensions")
            if extensions:
                inner["extensions"] = {
                    k: v for k, v in extensions.items() if k not in _UNRELAYABLE_EXTENSIONS
                }
            capture = _Capture()
            await self.app(inner, _replay(delivery.request.body, receive), capture.send)
            if capture.status is None or not capture.complete:
                raise RuntimeError("the wrapped ASGI app returned without a complete response")
            answered.append((capture.status, capture.headers, b"".join(capture.chunks)))
            decline_unless_2xx(capture.status, str(capture.status))

        reply = await _handle(self.receiver, self.options, scope, receive, dispatch)
        if reply is None:
            return
        if answered and isinstance(reply, Outcome) and app_answer_stands(reply, answered[0][0]):
            await _respond(send, *answered[0], reply.reason)
            return
        await _reply(send, reply)

    def __repr__(self) -> str:
        return f"asgi.WebhookMiddleware({self.app!r}, paths={sorted(self.paths.paths)!r})"
