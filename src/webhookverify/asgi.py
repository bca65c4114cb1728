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
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeAlias

from ._adapter import Endpoint, Middleware, build_request, followed_redirect, read_head
from ._asgi_messages import (
    AppResponse,
    Message,
    Receive,
    Scope,
    Send,
    call_app,
    delivery_scope,
    other_scope,
    read_body,
    respond,
    send_reply,
    slash_redirect,
)
from ._body import whole_body
from ._options import DEFAULT_MAX_BODY_SIZE, DELIVERY_KEY, AdapterOptions
from ._origin import quote_path
from ._paths import scope_paths
from ._replies import INTERNAL_ERROR, Refused, Reply, app_answer_stands, arefuse, decline_unless_2xx
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
            pairs = scope.get("headers", ())
            headers, length, host = read_head(options, receiver.handshake_methods, method, pairs)
            max_size = options.max_body_size
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


class WebhookApp(Endpoint):
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

    receive = "areceive"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await other_scope(scope, receive, send)
            return
        reply = await _handle(self.receiver, self.options, scope, receive)
        if reply is not None:
            await send_reply(send, reply)


class WebhookMiddleware(Middleware[ASGIApp]):
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

    receive = "areceive"
    kind = "an ASGI"
    arguments = 3
    other_kind = (
        "use webhookverify.wsgi.WebhookMiddleware "
        "(Flask: app.wsgi_app = WebhookMiddleware(app.wsgi_app, receiver, path=...))"
    )
    app_attribute = "asgi_app"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.guard.guards(
            scope.get("method"), *scope_paths(scope)
        ):
            try:
                await self.app(scope, receive, send)
            except RecursionError:
                self.check_not_own_app()
                raise
            return
        answered: list[AppResponse] = []

        async def dispatch(delivery: Delivery) -> None:
            self.check_not_own_app()
            inner = delivery_scope(scope, delivery)
            body = delivery.request.body
            # a copy: routers write into the scope they get (a mount's root_path)
            response = await call_app(self.app, {**inner}, body, receive)
            moved = slash_redirect(inner, response.status, response.headers)
            if moved is not None:
                followed_redirect(inner.get("path"), moved["path"])
                response = await call_app(self.app, moved, body, receive)
            answered.append(response)
            decline_unless_2xx(response.status, str(response.status))

        reply = await _handle(self.receiver, self.options, scope, receive, dispatch)
        if reply is None:
            return
        if answered and isinstance(reply, Outcome) and app_answer_stands(reply, answered[0].status):
            await respond(send, *answered[0], reply.reason)
            return
        await send_reply(send, reply)
