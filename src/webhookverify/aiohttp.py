"""aiohttp integration: a handler factory and a middleware.

A handler takes the request and the verified :class:`~webhookverify.Delivery`
and runs only for a verified, new delivery::

    from aiohttp import web
    from webhookverify.aiohttp import webhook_handler

    async def github(request: web.Request, delivery: Delivery) -> web.Response:
        payload = delivery.json()
        ...
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/webhooks/github", webhook_handler(receiver, github))

:class:`WebhookMiddleware` guards paths of an app instead, as the WSGI and
ASGI middlewares do, and puts the delivery at ``request[DELIVERY]``
(:func:`get_delivery`, :func:`require_delivery`)::

    app = web.Application(middlewares=[WebhookMiddleware(receiver, path="/webhooks")])

The handler is the dispatch step of :meth:`Receiver.areceive
<webhookverify.Receiver.areceive>`: only its 2xx records the delivery as
processed. Any other answer (returned, or an ``HTTPException`` raised, such
as the router's 404) is sent as it is and releases the delivery key, so the
sender's retry runs the handler again; a raise answers 500 and releases it
too. Refusals (401, 403, 409, 503; 400, 405, 413 and 431 as the ASGI adapter
answers them) and a duplicate of a processed delivery (200) never run it.

The body is read once from the request's stream, at most ``max_body_size``
bytes (aiohttp's own ``client_max_size`` does not apply to it, nor to the
form parsers reading it again), and kept on
the request, so that ``await request.read()``, ``request.json()``,
``request.post()`` (a multipart form too) and ``request.content`` in the
handler give the same bytes. aiohttp decompresses a body sent with
``Content-Encoding``: it is verified as aiohttp hands it over.

aiohttp is imported when this module is, never by ``import webhookverify``.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeAlias, Unpack

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.streams import StreamReader
from multidict import CIMultiDict

from ._adapter import build_request, read_head
from ._body import BodyBuffer
from ._options import AdapterOptions, AdapterSettings, check_receiver, middleware_settings
from ._origin import quote_path
from ._replies import (
    BAD_REQUEST,
    Refused,
    app_answer_stands,
    arefuse,
    decline_unless_2xx,
    verified_ahead,
)
from .delivery import Delivery
from .errors import ConfigurationError, MissingDelivery
from .receiver import Receiver
from .request import WebhookRequest

__all__ = [
    "DELIVERY",
    "WebhookHandler",
    "WebhookMiddleware",
    "get_delivery",
    "read_request",
    "require_delivery",
    "webhook_handler",
]

# Where the verified delivery is put for the handler: request[DELIVERY].
DELIVERY: web.RequestKey[Delivery] = web.RequestKey("webhookverify.delivery", Delivery)

WebhookHandler: TypeAlias = Callable[[web.Request, Delivery], Awaitable[web.StreamResponse]]
Handler: TypeAlias = Callable[[web.Request], Awaitable[web.StreamResponse]]

# aiohttp's own default stream limit (64 KiB): the replayed body's stream is at
# least this big, and never below the body, so it never asks for backpressure.
_STREAM_LIMIT = 2**16


def get_delivery(request: web.Request) -> Delivery | None:
    """The verified :class:`~webhookverify.Delivery` put on ``request`` (``None``: none)."""
    return request.get(DELIVERY)


def require_delivery(request: web.Request) -> Delivery:
    """The verified delivery, for a handler that must not run without one.

    Raises:
        MissingDelivery: no :class:`WebhookMiddleware` guards this route;
            add its path to the middleware's ``path=`` or ``paths=``.
    """
    delivery = get_delivery(request)
    if delivery is None:
        raise MissingDelivery()
    return delivery


async def read_request(
    options: AdapterOptions,
    request: web.Request,
    *,
    handshake_methods: frozenset[str] = frozenset(),
) -> WebhookRequest:
    """The :class:`~webhookverify.WebhookRequest` to verify, the body read once.

    ``handshake_methods`` (the receiver's): methods let through besides
    ``options.methods``, for a handler's handshake (Dropbox's GET).

    The head is checked before the body is read: the method, the header
    limits, the Content-Length against ``max_body_size``, the Host.

    Raises:
        Refused: 405, 431, 413 or 400 (a malformed header or Host, a body
            that disagrees with its length or a client gone mid-body).
    """
    received_at = time.time()
    pairs = request.raw_headers
    headers, length, host = read_head(options, handshake_methods, request.method, pairs)
    # aiohttp decodes a Content-Encoding (gzip, deflate, br, zstd) as it reads:
    # the length then counts the encoded bytes, which aiohttp itself reads in
    # full or fails (RFC 9110 §8.6); only the limit applies to what it hands over
    decoded = any(
        value.strip(" \t").lower() != "identity" for value in headers.get_all("content-encoding")
    )
    buffer = BodyBuffer(options.max_body_size, None if decoded else length)
    try:
        while chunk := await request.content.readany():
            buffer.add(chunk)
    except (HttpProcessingError, OSError):  # the client went away mid-body
        raise Refused(BAD_REQUEST, "truncated_body") from None
    body = buffer.finish()
    # aiohttp's own cache of the body: request.read(), text() and json() return it
    request._read_bytes = body
    # and a fresh stream of it for what reads the stream instead (request.content,
    # multipart(), post() of a multipart form): the one read above is drained
    if body:  # (no body: aiohttp's empty stream stays, body_exists stays False)
        request._payload = _stream_of(body, request)
        request._cache.pop("content", None)  # request.content is cached (reify): the old one
        # post() and multipart() hold the body to the app's client_max_size as they
        # parse it: one max_body_size accepted past it would get a 413 from inside
        # the handler, and so would every retry of it (0: aiohttp's "no limit")
        if 0 < request.client_max_size < len(body):
            request._client_max_size = len(body)
    return build_request(
        options,
        method=request.method,
        scheme=request.scheme,
        host=host,
        headers=headers,
        body=body,
        received_at=received_at,
        peer=request.remote,
        url_parts=lambda: _url_parts(request),
    )


def _stream_of(body: bytes, request: web.Request) -> StreamReader:
    """A stream that yields ``body``, then its end."""
    # a limit above the body's size: feeding it never pauses the connection's reading
    limit = max(len(body), _STREAM_LIMIT)
    stream = StreamReader(request.protocol, limit, loop=asyncio.get_running_loop())
    stream.feed_data(body)
    stream.feed_eof()
    return stream


def _mount_of(request: web.Request) -> str:
    """The prefix of the sub-application whose middleware runs now
    (``app.add_subapp("/api", sub)``: ``"/api"``, nested prefixes included),
    or ``""`` for the main application or one added by domain."""
    info = request.match_info
    apps, current = info.apps, info.current_app
    for parent, child in itertools.pairwise(apps):
        if child is current:
            for resource in parent.router.resources():
                if isinstance(resource, web.PrefixedSubAppResource):
                    found = resource.get_info()
                    if found.get("app") is current:
                        return str(found.get("prefix", ""))
            break
    return ""


def _url_parts(request: web.Request) -> tuple[str, str, tuple[str, int | None] | None]:
    """The path as sent (re-quoted where needed), the raw query, no server name."""
    path, _, query = request.raw_path.partition("?")
    return quote_path(path.encode("utf-8", "surrogateescape"), decoded=False), query, None


def _response(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> web.Response:
    return web.Response(body=body, status=status, headers=CIMultiDict(headers))


async def _run(
    receiver: Receiver,
    options: AdapterOptions,
    request: web.Request,
    call: WebhookHandler,
) -> web.StreamResponse:
    """Read, verify and dispatch one request to ``call``; the response to send.

    The delivery is put at ``request[DELIVERY]`` before ``call`` runs. A
    :class:`WebhookMiddleware` in front of a :func:`webhook_handler` with the
    same receiver verified the request already and holds its key: ``call``
    runs with its delivery, and the middleware settles the key by the answer.
    """
    ahead = verified_ahead(request.get(DELIVERY), receiver)
    if ahead is not None:
        return await call(request, ahead)
    try:
        methods = receiver.handshake_methods
        webhook_request = await read_request(options, request, handshake_methods=methods)
    except Refused as refused:
        reply = await arefuse(receiver.bus, refused, request.method, request.path, request.remote)
        return _response(*reply)
    answered: list[web.StreamResponse] = []
    raised: list[web.HTTPException] = []

    async def dispatch(delivery: Delivery) -> None:
        request[DELIVERY] = delivery
        try:
            response = await call(request, delivery)
        except web.HTTPException as exc:  # raised, as aiohttp's router and handlers do
            response = exc
            raised.append(exc)
        answered.append(response)
        decline_unless_2xx(response.status, f"{response.status} {response.reason}")

    outcome = await receiver.areceive(webhook_request, dispatch=dispatch)
    if answered:
        response = answered[0]
        # a response already started (prepared) went to the sender: nothing else can
        if response.prepared or app_answer_stands(outcome, response.status):
            if raised:
                raise raised[0]
            return response
    if request.writer.output_size:
        # The handler failed after its StreamResponse started sending: a second
        # response written after it would reach the sender as the first one's
        # body. Raising lets aiohttp close the connection (as it does for any
        # handler failing mid-answer), so the sender sees a broken answer and
        # retries; the receiver has already released the key for that retry.
        raise ConnectionResetError(
            f"the handler failed after its answer started ({outcome.status}, "
            f"{outcome.reason}); the connection is closed so the sender retries"
        )
    return _response(outcome.status, outcome.headers, outcome.body)


def _check_handler(owner: str, handler: object) -> None:
    call = getattr(handler, "__call__", None)  # noqa: B004 - an object with async __call__ too
    if not (inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call)):
        raise ConfigurationError(
            f"{owner}(handler) must be an async function taking (request, delivery) and "
            "returning a web.Response"
        )


def webhook_handler(
    receiver: Receiver, handler: WebhookHandler, **options: Unpack[AdapterSettings]
) -> Handler:
    """An aiohttp handler that runs ``handler(request, delivery)`` for a verified, new delivery.

    Args:
        receiver: the :class:`~webhookverify.Receiver` that decides.
        handler: ``async def handler(request, delivery) -> web.StreamResponse``.
        options: ``max_body_size`` (default 1 MiB), ``methods`` (default
            ``("POST",)``; others get 405), ``public_url``,
            ``trusted_proxies``, ``proxy_headers``, ``max_header_count``,
            ``max_header_bytes``: as for :class:`webhookverify.asgi.WebhookApp`.

    Returns:
        ``async def (request) -> web.StreamResponse``, for ``app.router.add_post``.

    Raises:
        ConfigurationError: a setting is wrong, or ``handler`` is not async.
    """
    check_receiver("webhook_handler", receiver, "areceive")
    _check_handler("webhook_handler", handler)
    adapter = AdapterOptions.build("webhook_handler", **options)

    async def verified(request: web.Request) -> web.StreamResponse:
        return await _run(receiver, adapter, request, handler)

    verified.__name__ = getattr(handler, "__name__", "webhook_handler")
    verified.__doc__ = getattr(handler, "__doc__", None)
    return verified


class WebhookMiddleware:
    """An aiohttp middleware that verifies requests to the webhook path(s).

    Requests to ``path`` (or any of ``paths``, in any spelling a router may
    take for them) are verified; a verified, new delivery reaches the
    handler with the delivery at ``request[DELIVERY]``. Other paths, and
    ``passthrough_methods`` on the webhook paths, reach the handler untouched.

    Args:
        receiver: the :class:`~webhookverify.Receiver` that decides.
        path: the webhook path (default ``"/webhooks"``).
        paths: several webhook paths, instead of ``path``.
        passthrough_methods: methods that reach the handler unverified on the
            webhook paths (default none: they get 405).
        max_body_size: the largest body accepted; it and the other keyword
            options are as for :func:`webhook_handler`.

    Raises:
        ConfigurationError: a setting is wrong, at construction.
    """

    # what @web.middleware marks: called as (request, handler), not the old (app, handler)
    __middleware_version__ = 1

    def __init__(
        self,
        receiver: Receiver,
        *,
        path: str | None = None,
        paths: Iterable[str] | None = None,
        passthrough_methods: Iterable[str] = (),
        **options: Unpack[AdapterSettings],
    ) -> None:
        owner = "aiohttp.WebhookMiddleware"
        self.guard, self.options = middleware_settings(
            owner, receiver, "areceive", path, paths, passthrough_methods, options
        )
        self.receiver = receiver

    def guards(self, request: web.Request) -> bool:
        """Whether this request is verified: its path, in the decoded or the raw
        spelling, whole or within the sub-application whose middleware this is."""
        guard, method = self.guard, request.method
        mount = _mount_of(request)
        for path in (request.path, request.raw_path.partition("?")[0]):
            if guard.guards(method, path, ""):
                return True
            # under app.add_subapp(prefix, sub) the path holds the prefix, and the
            # sub-application's routes (and so its middleware's paths) do not
            if mount and path.startswith(mount) and guard.guards(method, path[len(mount) :], mount):
                return True
        return False

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.guards(request):
            return await handler(request)

        async def call(request: web.Request, delivery: Delivery) -> web.StreamResponse:
            return await handler(request)

        return await _run(self.receiver, self.options, request, call)

    def __repr__(self) -> str:
        return f"aiohttp.WebhookMiddleware(paths={sorted(self.guard.paths.paths)!r})"
