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
<webhookverify.Receiver.areceive>`: async listeners are awaited, sync ones run
in a worker thread, and with ``Receiver(time_budget=...)`` slow listeners
finish in the background after a 202. A client that disconnects mid-body
(``http.disconnect``) gets nothing dispatched and no response: there is no one
left to answer. Refusals are short fixed texts (400, 405 with ``Allow``, 413,
431 past the header limits), and each fires ``webhook.rejected`` (a
:class:`~webhookverify.Rejection` without a request) on the receiver's bus;
an unexpected error inside the adapter answers 500, so the sender retries, and
is logged. A client gone before the answer is written is logged as such:
nothing was answered.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from ._http import (
    BAD_REQUEST,
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_MAX_HEADER_COUNT,
    DELIVERY_KEY,
    INTERNAL_ERROR,
    AdapterOptions,
    BodyBuffer,
    ProxyHeaders,
    Refused,
    Reply,
    forwarded_origin,
    middleware_settings,
    parse_content_length,
    parse_headers,
    quote_path,
    request_url,
    whole_body,
)
from ._paths import scope_paths
from ._replies import ACCEPTED, app_answer_stands, arefuse
from .errors import ConfigurationError, DeliveryDeclined, InvalidRequest, MissingDelivery
from .events import RECEIVED
from .request import WebhookRequest, _checked_request

if TYPE_CHECKING:
    from .receiver import Delivery, Outcome, Receiver

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
    """The verified :class:`~webhookverify.Delivery` for a view that must not run without one.

    Call it first in an endpoint that acts on webhooks (FastAPI and
    Starlette: ``require_delivery(request.scope)``): if the request reached
    it without passing through a :class:`WebhookMiddleware` that guards this
    route, the endpoint stops here instead of acting on unverified input.

    Args:
        scope: the ASGI scope.

    Returns:
        the delivery the middleware verified.

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


async def _read_body(
    message: Message, receive: Receive, length: int | None, limit: int
) -> bytes | None:
    """The whole body from ``message`` on, or ``None`` when the client disconnected first."""
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

    Everything is decided from the scope before the first ``receive``: a
    wrong method, a malformed header or Host, or a Content-Length over the
    limit is refused without reading the body.
    """
    method: str = scope.get("method", "GET")
    if method not in options.methods:
        raise options.method_refused()
    headers = parse_headers(
        scope.get("headers", ()),
        max_count=options.max_header_count,
        max_bytes=options.max_header_bytes,
    )
    index = headers.by_name
    limit = options.max_body_size
    length = parse_content_length(index.get("content-length", ()), limit)
    client = scope.get("client")
    peer: str | None = client[0] if client else None
    origin = forwarded_origin(options, peer, headers) if options.trusts_proxies else None
    scheme = scope.get("scheme", "http")
    hosts = index.get("host", ())
    raw_path = scope.get("raw_path")
    query: bytes = scope.get("query_string", b"")
    # The URL of a request with one Host and a raw_path, behind no trusted
    # proxy (the usual request), depends on nothing else than these four: it
    # is built once per distinct four.
    key = None
    if origin is None and len(hosts) == 1 and hosts[0] and type(raw_path) is bytes and raw_path:
        key = (scheme, hosts[0], raw_path, query)
    url = options.urls.get(key) if key is not None else None
    if url is None:
        url = request_url(
            options,
            scheme=scheme,
            hosts=hosts,
            server=scope.get("server"),
            path=_path(scope),
            query=query.decode("latin-1") if query else "",
            origin=origin,
        )
        if key is not None:
            options.remember_url(key, url)
    message = await receive()
    if message.get("type") == "http.request" and not message.get("more_body", False):
        body: bytes = message.get("body", b"")  # one message: the usual case
        if len(body) != length:
            body = whole_body(body, length, limit)
    else:
        streamed = await _read_body(message, receive, length, limit)
        if streamed is None:
            logger.info(
                "the client disconnected mid-body; nothing dispatched",
                extra={"webhookverify": {"reason": "client_disconnected", "remote_addr": peer}},
            )
            return None
        body = streamed
    remote_addr = peer if origin is None else origin.remote_addr
    try:
        return _checked_request(method, url, headers, body, received_at, remote_addr)
    except InvalidRequest:
        raise Refused(BAD_REQUEST, "malformed_request") from None


@functools.lru_cache(maxsize=64)
def _encoded(headers: tuple[tuple[str, str], ...], length: int) -> tuple[tuple[bytes, bytes], ...]:
    # The receiver answers from a few fixed header sets and bodies: encode each once.
    encoded = tuple((n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers)
    return (*encoded, (b"content-length", b"%d" % length))


async def _respond(
    send: Send, status: int, headers: Iterable[Any], body: bytes, reason: str
) -> None:
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


async def _reply(send: Send, reply: Reply | Outcome, reason: str) -> None:
    """Write a :class:`Reply` or the receiver's :class:`~webhookverify.Outcome`."""
    body = reply.body
    await _respond(send, reply.status, _encoded(reply.headers, len(body)), body, reason)


async def _refuse(receiver: Receiver, refused: Refused, scope: Scope) -> Reply:
    """Log the adapter's refusal and fire ``webhook.rejected``; the reply to write."""
    client = scope.get("client")
    try:
        path: str | None = _path(scope)
    except Exception:  # noqa: BLE001 - a scope whose path is not text: say nothing of it
        path = None
    return await arefuse(
        receiver.bus,
        refused,
        method=scope.get("method"),
        path=path,
        remote_addr=client[0] if client else None,
    )


async def _other_scope(scope: Scope, receive: Receive, send: Send) -> None:
    """``lifespan`` (startup and shutdown complete at once); a ``websocket`` is closed."""
    kind = scope["type"]
    if kind == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif kind == "websocket":
        await receive()
        await send({"type": "websocket.close", "code": 1008})


def _check_receiver(owner: str, receiver: object) -> None:
    bus = getattr(receiver, "bus", None)
    if not callable(getattr(receiver, "areceive", None)) or not callable(
        getattr(bus, "bind", None)
    ):
        raise ConfigurationError(f"{owner}(receiver=...) must be a webhookverify.Receiver")


class WebhookApp:
    """An ASGI app that is a whole webhook endpoint.

    Answers ``lifespan`` (startup and shutdown complete at once) and closes
    websockets, so it can be served on its own.

    Args:
        receiver: the :class:`~webhookverify.Receiver` that decides.
        max_body_size: the largest body accepted, in bytes (default 1 MiB).
        methods: the methods accepted (default ``("POST",)``); others get 405.
        public_url: the base URL senders use, such as
            ``"https://hooks.example.com"``: the request's path and query are
            appended to it. Needed behind a proxy by schemes that sign the
            URL (Twilio, Square, HubSpot, Trello); pins the host as well.
        trusted_proxies: proxies whose ``X-Forwarded-For/-Proto/-Host`` (or
            ``Forwarded``) headers are believed, by address or network
            (``["10.0.0.0/8", "127.0.0.1"]``; ``"unix"`` for a Unix socket).
            Empty by default: forwarded headers are then ignored.
        proxy_headers: ``"x-forwarded"`` (default) or ``"forwarded"`` (RFC 7239).
        max_header_count: the most header fields accepted (default 100, as
            gunicorn); more are answered 431 before any is parsed.
        max_header_bytes: the most bytes of header names and values
            together (default 64 KiB); more are answered 431.

    Raises:
        ConfigurationError: a setting is wrong, at construction.
    """

    def __init__(
        self,
        receiver: Receiver,
        *,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        methods: Iterable[str] = ("POST",),
        public_url: str | None = None,
        trusted_proxies: Iterable[Any] = (),
        proxy_headers: ProxyHeaders = "x-forwarded",
        max_header_count: int = DEFAULT_MAX_HEADER_COUNT,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    ) -> None:
        _check_receiver("WebhookApp", receiver)
        self.receiver = receiver
        self.options = AdapterOptions.build(
            "WebhookApp",
            max_body_size=max_body_size,
            methods=methods,
            public_url=public_url,
            trusted_proxies=trusted_proxies,
            proxy_headers=proxy_headers,
            max_header_count=max_header_count,
            max_header_bytes=max_header_bytes,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await _other_scope(scope, receive, send)
            return
        received_at = time.time()
        try:
            try:
                request = await _read_request(self.options, scope, receive, received_at)
            except Refused as refused:
                reply: Reply | Outcome = await _refuse(self.receiver, refused, scope)
                reason = refused.reason
            else:
                if request is None:
                    return
                reply = await self.receiver.areceive(request)
                reason = reply.reason
        except Exception:
            logger.exception("the ASGI webhook endpoint failed; answering 500 for a retry")
            reply, reason = INTERNAL_ERROR, "adapter_failed"
        body = reply.body
        await _respond(send, reply.status, _encoded(reply.headers, len(body)), body, reason)

    def __repr__(self) -> str:
        return f"asgi.WebhookApp({self.receiver!r})"


# -- the middleware --------------------------------------------------------------------


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


@dataclass(slots=True)
class _Context:
    owner: WebhookMiddleware
    scope: Scope
    receive: Receive
    request: WebhookRequest
    response: _Capture | None = None


_CURRENT: contextvars.ContextVar[_Context] = contextvars.ContextVar("webhookverify_asgi")


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
    receiver; other paths, ``lifespan`` and ``websocket`` scopes go to
    ``app`` untouched, and so do ``passthrough_methods`` on the webhook paths
    (for a provider's ``GET`` handshake; no delivery is set for those). A
    request is on a webhook path when its path within the app (``path``
    minus ``root_path``), or its whole path, names it in any spelling a
    router may take for it: percent-encoded, with repeated or trailing
    slashes, dot segments, or in another case. In the endpoint, call
    :func:`require_delivery` so that a route the middleware does not guard
    fails loudly instead of running unverified.

    A verified, new delivery is handed to ``app`` **as a listener of
    ``webhook.received``**: the middleware binds one async listener to
    ``receiver.bus`` at construction, which calls ``app`` with a ``receive``
    that replays the exact body bytes once, then passes the server's later
    messages through, and with the :class:`~webhookverify.Delivery` at
    ``scope["state"]["webhookverify.delivery"]`` (see :func:`get_delivery`; the
    scope and its ``state`` are copies, the caller's dicts are not changed).
    So the delivery key is committed only once ``app`` has answered 2xx. Any
    other answer (a validation error, a 403, a redirect, a 5xx) declines the
    delivery: the key is released, the status is logged at warning level, and
    the sender gets the app's answer and retries, and the retry reaches
    ``app`` again rather than being taken for a replay; so does a raise (the
    sender gets 500). The app's response is buffered and sent once the key is
    settled. With ``Receiver(time_budget=...)``, an app still running at the
    budget gets the sender a 202; its response is then discarded, and a
    failure or non-2xx releases the key for the retry.

    What ``app`` does not see: refusals (401, 403, 409, 503, and the adapter's
    400/405/413/431, which fire ``webhook.rejected`` as well), which the
    middleware answers itself; duplicates of a
    processed delivery, acknowledged with the receiver's 200 without calling
    ``app`` again; and requests whose client disconnected mid-body.

    Args:
        app: the ASGI app to protect.
        receiver: the :class:`~webhookverify.Receiver` that decides.
        path / paths: the webhook path, or several (default ``"/webhooks"``).
        passthrough_methods: methods that reach ``app`` unverified on the
            webhook paths (default none: they get 405).
        max_body_size, methods, public_url, trusted_proxies, proxy_headers,
        max_header_count, max_header_bytes:
            as for :class:`WebhookApp`.

    Raises:
        ConfigurationError: a setting is wrong, at construction.
    """

    def __init__(
        self,
        app: ASGIApp,
        receiver: Receiver,
        *,
        path: str | None = None,
        paths: Iterable[str] | None = None,
        passthrough_methods: Iterable[str] = (),
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        methods: Iterable[str] = ("POST",),
        public_url: str | None = None,
        trusted_proxies: Iterable[Any] = (),
        proxy_headers: ProxyHeaders = "x-forwarded",
        max_header_count: int = DEFAULT_MAX_HEADER_COUNT,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    ) -> None:
        if not callable(app):
            raise ConfigurationError("WebhookMiddleware(app=...) must be an ASGI app")
        _check_receiver("WebhookMiddleware", receiver)
        self.app = app
        self.receiver = receiver
        self.paths, self.options, self.passthrough_methods = middleware_settings(
            path,
            paths,
            passthrough_methods,
            max_body_size=max_body_size,
            methods=methods,
            public_url=public_url,
            trusted_proxies=trusted_proxies,
            proxy_headers=proxy_headers,
            max_header_count=max_header_count,
            max_header_bytes=max_header_bytes,
        )
        receiver.bus.bind(RECEIVED, self._dispatch)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.paths.matches(*scope_paths(scope))
            or scope.get("method") in self.passthrough_methods
        ):
            await self.app(scope, receive, send)
            return
        received_at = time.time()
        try:
            try:
                request = await _read_request(self.options, scope, receive, received_at)
            except Refused as refused:
                await _reply(send, await _refuse(self.receiver, refused, scope), refused.reason)
                return
            if request is None:
                return
            context = _Context(self, scope, receive, request)
            token = _CURRENT.set(context)
            try:
                outcome = await self.receiver.areceive(request)
            finally:
                _CURRENT.reset(token)
            app = context.response
            if (
                app is not None
                and app.status is not None
                and app_answer_stands(outcome.reason, app.status)
            ):
                body = b"".join(app.chunks)
                await _respond(send, app.status, app.headers, body, outcome.reason)
                return
            if outcome.reason in ACCEPTED:
                logger.error(
                    "a delivery was accepted but the wrapped app was not called; was the "
                    "middleware's listener unbound from receiver.bus?"
                )
            reply: Reply | Outcome = outcome
            reason = outcome.reason
        except Exception:
            logger.exception("the ASGI webhook middleware failed; answering 500 for a retry")
            reply, reason = INTERNAL_ERROR, "adapter_failed"
        await _reply(send, reply, reason)

    async def _dispatch(self, delivery: Delivery) -> None:
        """The listener: run the wrapped app for this middleware's own request."""
        context = _CURRENT.get(None)
        if context is None or context.owner is not self or context.request is not delivery.request:
            return
        scope = dict(context.scope)
        scope["state"] = {**(context.scope.get("state") or {}), DELIVERY_KEY: delivery}
        extensions = scope.get("extensions")
        if extensions:
            scope["extensions"] = {
                k: v for k, v in extensions.items() if k not in _UNRELAYABLE_EXTENSIONS
            }
        capture = _Capture()
        await self.app(scope, _replay(delivery.request.body, context.receive), capture.send)
        if capture.status is None or not capture.complete:
            raise RuntimeError("the wrapped ASGI app returned without a complete response")
        context.response = capture
        if not 200 <= capture.status < 300:
            # Only a 2xx means the app processed the delivery: a 4xx committed
            # would turn the sender's retry into an empty 200 that never
            # reaches the app.
            raise DeliveryDeclined(
                f"the wrapped app answered {capture.status}", status=capture.status
            )

    def __repr__(self) -> str:
        return f"asgi.WebhookMiddleware({self.app!r}, paths={sorted(self.paths.paths)!r})"
