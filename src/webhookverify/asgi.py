"""ASGI adapters (ASGI 3, HTTP spec 2.x): an endpoint app and a middleware.

:class:`WebhookApp` is a whole webhook endpoint (``app = WebhookApp(receiver)``,
served by uvicorn); :class:`WebhookMiddleware` verifies requests to the
webhook path(s) before your app sees them (Starlette and FastAPI:
``app.add_middleware(WebhookMiddleware, receiver=receiver, path="/webhooks")``).

Both read the body once from ``http.request`` messages, bounded by
``max_body_size``, and run :meth:`Receiver.areceive
<webhookverify.Receiver.areceive>`, answering as the WSGI adapters do (see
:mod:`webhookverify.wsgi`). A client that disconnects mid-body
(``http.disconnect``) gets nothing dispatched and no response; a client gone
before the answer is written is logged as such.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeAlias, Unpack

from ._adapter import build_request, read_headers
from ._asgi_messages import (
    UNRELAYABLE_EXTENSIONS,
    Capture,
    Message,
    Receive,
    Scope,
    Send,
    other_scope,
    read_body,
    replay,
    respond,
    send_reply,
    slash_redirect,
)
from ._body import parse_content_length, whole_body
from ._options import (
    DEFAULT_MAX_BODY_SIZE,
    DELIVERY_KEY,
    AdapterOptions,
    AdapterSettings,
    check_receiver,
    middleware_settings,
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
from .errors import MissingDelivery

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

ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]


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
        received_at = time.time()
        client = scope.get("client")
        peer: str | None = client[0] if client else None
        try:
            # The head first: a wrong method, a malformed header or Host, or a
            # Content-Length over the limit is refused before the first receive.
            method: str = scope.get("method", "GET")
            options.check_method(method, receiver.handshake_methods)
            headers = read_headers(options, scope.get("headers", ()))
            max_size, found = options.max_body_size, headers.by_name
            length = parse_content_length(found.get("content-length", ()), max_size)
            host = check_host(found.get("host", ()))
            message = await receive()
            if message.get("type") == "http.request" and not message.get("more_body", False):
                body: bytes | None = whole_body(message.get("body", b""), length, max_size)
            else:
                body = await read_body(receive, message, length, max_size)
            if body is None:
                logger.info(
                    "the client disconnected mid-body; nothing dispatched",
                    extra={"webhookverify": {"reason": "client_disconnected", "remote_addr": peer}},
                )
                return None
            request = build_request(
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
        except Refused as refused:
            try:
                path: str | None = _path(scope)
            except Exception:  # noqa: BLE001 - a scope whose path is not text: say nothing of it
                path = None
            return await arefuse(receiver.bus, refused, scope.get("method"), path, peer)
        if dispatch is None:
            return await receiver.areceive(request)
        return await receiver.areceive(request, dispatch=dispatch)
    except Exception:
        logger.exception("the ASGI webhook adapter failed; answering 500 for a retry")
        return INTERNAL_ERROR


class WebhookApp:
    """An ASGI app that is a whole webhook endpoint.

    Answers ``lifespan`` (startup and shutdown complete at once) and closes
    websockets, so it can be served on its own.

    Args:
        receiver: the :class:`~webhookverify.Receiver` that decides.
        max_body_size: the largest body accepted, in bytes (default 1 MiB).
            It and ``methods``, ``public_url``, ``trusted_proxies``,
            ``proxy_headers``, ``max_header_count``, ``max_header_bytes`` are
            as for :class:`webhookverify.wsgi.WebhookApp`.

    Raises:
        ConfigurationError: a setting is wrong, at construction.
    """

    def __init__(self, receiver: Receiver, **options: Unpack[AdapterSettings]) -> None:
        check_receiver("WebhookApp", receiver, "areceive")
        self.receiver = receiver
        self.options = AdapterOptions.build("WebhookApp", **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await other_scope(scope, receive, send)
            return
        reply = await _handle(self.receiver, self.options, scope, receive)
        if reply is not None:
            await send_reply(send, reply)

    def __repr__(self) -> str:
        return f"asgi.WebhookApp({self.receiver!r})"


class WebhookMiddleware:
    """Verify webhook requests before an ASGI app sees them.

    As :class:`webhookverify.wsgi.WebhookMiddleware`, for ASGI: requests to
    ``path`` (or any of ``paths``, in any spelling a router may take for
    them; within a mount, ``path`` minus ``root_path`` or the whole path)
    are verified, and a verified, new delivery is the dispatch step of
    :meth:`Receiver.areceive <webhookverify.Receiver.areceive>`: ``app`` is
    called with a ``receive`` that replays the exact body bytes once, then
    passes the server's later messages through, and with the
    :class:`~webhookverify.Delivery` at
    ``scope["state"]["webhookverify.delivery"]`` (the scope and its
    ``state`` are copies). Only a 2xx from ``app`` commits the key; its
    response is buffered and sent once the key is settled (its background
    tasks run before that: they are part of the dispatch). A 307 or 308 to
    the path's other trailing slash (Starlette's ``redirect_slashes``) is
    followed once, with a warning: senders do not follow one. Other paths,
    ``lifespan``, ``websocket`` and ``passthrough_methods`` go to ``app``
    untouched. With ``Receiver(time_budget=...)``, an app still running at
    the budget gets the sender a 202; its response is then discarded, and a
    failure or non-2xx releases the key for the retry.

    Args:
        app: the ASGI app to protect.
        receiver: the :class:`~webhookverify.Receiver` that decides.
        path: the webhook path (default ``"/webhooks"``).
        paths: several webhook paths, instead of ``path``.
        passthrough_methods: methods that reach ``app`` unverified on the
            webhook paths (default none: they get 405).
        max_body_size: the largest body accepted; it and the other keyword
            options are as for :class:`WebhookApp`.

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
        **options: Unpack[AdapterSettings],
    ) -> None:
        self.guard, self.options = middleware_settings(
            app, "an ASGI", receiver, path, paths, passthrough_methods, options
        )
        self.app = app
        self.receiver = receiver
        self.paths = self.guard.paths
        self.passthrough_methods = self.guard.passthrough_methods

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
                    k: v for k, v in extensions.items() if k not in UNRELAYABLE_EXTENSIONS
                }
            capture = Capture()
            # a copy: routers write into the scope they get (a mount's root_path)
            await self.app({**inner}, replay(delivery.request.body, receive), capture.send)
            moved = None
            if capture.status is not None and capture.complete:
                moved = slash_redirect(inner, capture.status, capture.headers)
            if moved is not None:
                logger.warning(
                    "the app redirected the webhook path %r to %r; the redirect was followed "
                    "here, as senders do not follow one for a POST: give the sender that URL",
                    inner.get("path"),
                    moved["path"],
                )
                capture = Capture()
                await self.app(moved, replay(delivery.request.body, receive), capture.send)
            if capture.status is None or not capture.complete:
                raise RuntimeError("the wrapped ASGI app returned without a complete response")
            answered.append((capture.status, capture.headers, b"".join(capture.chunks)))
            decline_unless_2xx(capture.status, str(capture.status))

        reply = await _handle(self.receiver, self.options, scope, receive, dispatch)
        if reply is None:
            return
        if answered and isinstance(reply, Outcome) and app_answer_stands(reply, answered[0][0]):
            await respond(send, *answered[0], reply.reason)
            return
        await send_reply(send, reply)

    def __repr__(self) -> str:
        return f"asgi.WebhookMiddleware({self.app!r}, paths={sorted(self.paths.paths)!r})"
