"""FastAPI and Starlette integration: a dependency, a route class, an endpoint decorator.

FastAPI: the route takes the verified delivery as a dependency::

    verified = WebhookDelivery(receiver)
    app = FastAPI()
    install(app)  # refusals answered with the receiver's exact text

    @app.post("/webhooks/github")
    async def github(delivery: Delivery = Depends(verified)):
        ...

The delivery semantics are the receiver's (:meth:`Receiver.areceive
<webhookverify.Receiver.areceive>`), with the route as its dispatch step: a
verified, new delivery runs the route once; a duplicate of a processed one
answers 200 without running it; refusals (401, 403, 409, 503; 400 and 413
for a body the dependency cannot take) answer the receiver's status,
headers and text, and the route does not run. The route raising (500, or an
``HTTPException``'s status), failing request validation (422), or setting a
status other than 2xx on the injected ``Response`` declines the delivery:
its key is released, so the sender's retry runs the route again.

A route that *returns* a ``Response`` object is seen by the dependency only
through :class:`WebhookRoute`: FastAPI gives dependencies no access to the
returned response. Use ``APIRouter(route_class=WebhookRoute)`` for such
routes (the route's status is then what commits or declines), or raise
``HTTPException`` to decline. Keep the dependency's default scope: with
``Depends(..., scope="function")`` its exit runs before the route's status
is known.

Under an :class:`~webhookverify.asgi.WebhookMiddleware` guarding the route
with the same receiver, the route runs with the middleware's delivery, which
settles its key by the route's answer.

Starlette: :func:`webhook_endpoint` wraps ``async def endpoint(request,
delivery) -> Response`` as the WSGI and ASGI middlewares wrap an app.

FastAPI and Starlette are imported when this module is, never by ``import
webhookverify``. The dependency runs on asyncio.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeAlias

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import StreamingResponse

from ._body import BodyBuffer, parse_content_length
from ._options import DEFAULT_MAX_BODY_SIZE, DELIVERY_KEY
from ._origin import sent_path
from ._replies import (
    BAD_REQUEST,
    INTERNAL_ERROR,
    Refused,
    app_answer_stands,
    arefuse,
    decline_unless_2xx,
    replay_parts,
    verified_ahead,
)
from .delivery import Delivery, Outcome
from .errors import ConfigurationError, DeliveryDeclined, InvalidRequest
from .receiver import Receiver
from .request import WebhookRequest

__all__ = [
    "STATUS_KEY",
    "WebhookDelivery",
    "WebhookRefused",
    "WebhookRoute",
    "install",
    "outcome_response",
    "read_request",
    "webhook_endpoint",
    "webhook_refused_handler",
]

logger = logging.getLogger("webhookverify")

# Where WebhookRoute records the route's final status in the ASGI scope, for
# the dependency's exit to commit or decline by.
STATUS_KEY = "webhookverify.route_status"

Endpoint: TypeAlias = Callable[[Request, Delivery], Awaitable[Response]]

# Logged when FastAPI consumed the body before WebhookDelivery could read it.
CONSUMED = (
    "the request body was read before WebhookDelivery ran: the route declares Form() or "
    "File() parameters, which FastAPI parses first; route it with "
    "APIRouter(route_class=WebhookRoute) so the body is read once for both (answering 500)"
)

# Dispatches whose route was cancelled: kept referenced until their key is
# released, so they are not garbage-collected mid-flight.
_RELEASING: set[asyncio.Future[Outcome]] = set()


class WebhookRefused(HTTPException):
    """A request the route does not run for: its answer (status, headers, body).

    An ``HTTPException``: without :func:`install`, FastAPI answers it with
    the status and headers and ``{"detail": text}``; with it, with the exact
    text the receiver chose.
    """

    def __init__(self, status: int, headers: tuple[tuple[str, str], ...], body: bytes) -> None:
        extra = {k: v for k, v in headers if k.lower() != "content-type"}
        super().__init__(status, detail=body.decode("utf-8").strip(), headers=extra)
        self.answer = (status, headers, body)


def outcome_response(status: int, headers: tuple[tuple[str, str], ...], body: bytes) -> Response:
    """A Starlette ``Response`` with exactly this status, headers and body."""
    return Response(body, status_code=status, headers=dict(headers))


async def webhook_refused_handler(request: Request, exc: Exception) -> Response:
    """The exception handler :func:`install` registers for :class:`WebhookRefused`."""
    if not isinstance(exc, WebhookRefused):  # pragma: no cover - registered for it only
        raise exc
    return outcome_response(*exc.answer)


def install(app: FastAPI) -> None:
    """Answer refusals and duplicates with the receiver's exact status, headers and text."""
    app.add_exception_handler(WebhookRefused, webhook_refused_handler)


async def read_request(receiver: Receiver, request: Request, max_body_size: int) -> WebhookRequest:
    """The :class:`~webhookverify.WebhookRequest` to verify, the body read once.

    The body is read from the stream within ``max_body_size`` and kept on
    the request, so that the route and FastAPI's body parameters read it again.

    Raises:
        WebhookRefused: 413 past ``max_body_size`` (before reading when the
            Content-Length says so); 400 for a bad length or header.
    """
    try:
        length = parse_content_length(request.headers.getlist("content-length"), max_body_size)
        buffer = BodyBuffer(max_body_size, length)
        try:
            async for chunk in request.stream():
                buffer.add(chunk)
        except RuntimeError:  # Starlette: "Stream consumed", by FastAPI's Form() parsing
            logger.error(CONSUMED, extra={"webhookverify": {"reason": "body_consumed"}})
            raise Refused(INTERNAL_ERROR, "body_consumed") from None
        body = buffer.finish()
        request._body = body  # Starlette's cache: request.body() returns it from now on
        client = request.client
        try:
            return WebhookRequest(
                request.method,
                _sent_url(request),
                request.headers.raw,
                body,
                time.time(),
                client.host if client else None,
            )
        except InvalidRequest:
            raise Refused(BAD_REQUEST, "malformed_request") from None
    except Refused as refused:
        remote = request.client.host if request.client else None
        reply = await arefuse(receiver.bus, refused, request.method, request.url.path, remote)
        raise WebhookRefused(*reply) from None


def _sent_url(request: Request) -> str:
    """The URL as the sender wrote it: Starlette's ``request.url`` holds the
    decoded path (``/café``), a URL-signing sender signed the bytes it sent."""
    url = request.url
    path = sent_path(request.scope.get("raw_path"), url.path)
    return f"{url.scheme}://{url.netloc}{path}" + (f"?{url.query}" if url.query else "")


def _ahead(request: Request, receiver: Receiver) -> Delivery | None:
    """The delivery an ``asgi.WebhookMiddleware`` verified for this request
    with one of ``receiver``'s handlers, else ``None``."""
    state = request.scope.get("state")
    return verified_ahead(state.get(DELIVERY_KEY) if state else None, receiver)


def _check(name: str, receiver: object, max_body_size: object) -> None:
    if not isinstance(receiver, Receiver):
        raise ConfigurationError(
            f"{name}(receiver) takes a webhookverify.Receiver, not {type(receiver).__name__}"
        )
    if isinstance(max_body_size, bool) or not isinstance(max_body_size, int) or max_body_size < 1:
        raise ConfigurationError(f"{name}(max_body_size=...) must be a positive whole number")


class WebhookDelivery:
    """A FastAPI dependency: the verified :class:`~webhookverify.Delivery`.

    ``delivery: Delivery = Depends(WebhookDelivery(receiver))``. The route
    runs only for a verified, new delivery; see the module's documentation
    for what commits and what declines it.

    Args:
        receiver: the :class:`~webhookverify.Receiver` that decides.
        max_body_size: the largest body read, in bytes (default 1 MiB).

    Raises:
        ConfigurationError: a setting is wrong, at construction.
    """

    def __init__(self, receiver: Receiver, *, max_body_size: int = DEFAULT_MAX_BODY_SIZE) -> None:
        _check("WebhookDelivery", receiver, max_body_size)
        self.receiver = receiver
        self.max_body_size = max_body_size

    async def __call__(self, request: Request, response: Response) -> AsyncIterator[Delivery]:
        ahead = _ahead(request, self.receiver)
        if ahead is not None:  # a WebhookMiddleware holds its key, settled by the answer
            yield ahead
            return
        webhook_request = await read_request(self.receiver, request, self.max_body_size)
        loop = asyncio.get_running_loop()
        handed: asyncio.Future[Delivery] = loop.create_future()
        finished: asyncio.Future[None] = loop.create_future()

        async def dispatch(delivery: Delivery) -> None:
            handed.set_result(delivery)
            await finished  # the route's end: its result commits, its failure releases

        receiving = asyncio.ensure_future(
            self.receiver.areceive(webhook_request, dispatch=dispatch)
        )
        waiting: set[asyncio.Future[Any]] = {receiving, handed}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled before the route: the key is released
            _abandon(receiving, finished, "the request was cancelled")
            raise
        if not handed.done():
            outcome = receiving.result()
            raise WebhookRefused(outcome.status, outcome.headers, outcome.body)
        try:
            yield handed.result()
        except Exception as exc:
            status = exc.status_code if isinstance(exc, HTTPException) else None
            failure = exc if status is None else DeliveryDeclined(f"{exc!r}", status=status)
            finished.set_exception(failure)
            await receiving
            raise
        except BaseException:  # cancelled: release the key without waiting
            _abandon(receiving, finished, "the route was cancelled")
            raise
        status = request.scope.get(STATUS_KEY, response.status_code)
        if status is not None and not 200 <= status < 300:
            finished.set_exception(DeliveryDeclined(f"the route answered {status}", status=status))
        else:
            finished.set_result(None)
        await receiving

    def __repr__(self) -> str:
        return f"fastapi.WebhookDelivery({self.receiver!r})"


def _abandon(receiving: asyncio.Future[Outcome], finished: asyncio.Future[None], why: str) -> None:
    """Decline a delivery whose request was cancelled: the receiver releases
    its key in the background (``receiving`` is kept referenced until then)."""
    if not finished.done():
        finished.set_exception(DeliveryDeclined(why))
    _RELEASING.add(receiving)
    receiving.add_done_callback(_RELEASING.discard)


class WebhookRoute(APIRoute):
    """An ``APIRoute`` that records the route's final status for :class:`WebhookDelivery`.

    ``APIRouter(route_class=WebhookRoute)``: a route returning a ``Response``
    object with a status other than 2xx then declines the delivery too; and
    a route with body parameters (``Form()``, ``File()``, ``Body()``) has its
    body read once, within its :class:`WebhookDelivery`'s ``max_body_size``,
    before FastAPI parses them, so that the dependency verifies the same
    bytes (FastAPI parses a form from the stream before any dependency runs).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        found = _webhook_dependencies(self.dependant) if self.body_field is not None else []
        reader = found[0] if found else None

        async def record_status(request: Request) -> Response:
            if reader is not None:  # kept on the request: FastAPI's parsing reads it again
                await read_request(reader.receiver, request, reader.max_body_size)
            response = await handler(request)
            request.scope[STATUS_KEY] = response.status_code
            return response

        return record_status


def _webhook_dependencies(dependant: Any) -> list[WebhookDelivery]:
    """The :class:`WebhookDelivery` dependencies of a route, sub-dependencies included."""
    found = [dependant.call] if isinstance(dependant.call, WebhookDelivery) else []
    for sub in dependant.dependencies:
        found += _webhook_dependencies(sub)
    return found


def webhook_endpoint(
    receiver: Receiver, *, max_body_size: int = DEFAULT_MAX_BODY_SIZE
) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    """Decorate a Starlette ``async def endpoint(request, delivery) -> Response``.

    The endpoint is the receiver's dispatch step: its 2xx commits the
    delivery (its response is sent; a ``StreamingResponse`` is read to its
    end first, so that its failure releases the key); any other status, or an
    ``HTTPException``, declines it (the endpoint's answer is sent, the key
    released); a raise answers 500. Refusals and duplicates never reach it.

    Raises:
        ConfigurationError: a setting is wrong, at decoration.
    """
    _check("webhook_endpoint", receiver, max_body_size)

    def decorate(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(endpoint)
        async def run(request: Request) -> Response:
            ahead = _ahead(request, receiver)
            if ahead is not None:  # a WebhookMiddleware holds its key, settled by the answer
                return await endpoint(request, ahead)
            try:
                webhook_request = await read_request(receiver, request, max_body_size)
            except WebhookRefused as refused:
                return outcome_response(*refused.answer)
            answered: list[Response] = []
            raised: list[HTTPException] = []

            async def dispatch(delivery: Delivery) -> None:
                try:
                    response = await endpoint(request, delivery)
                except HTTPException as exc:
                    raised.append(exc)
                    raise DeliveryDeclined(f"the endpoint raised {exc!r}") from None
                if isinstance(response, StreamingResponse):
                    # its iterator runs as the answer is sent, after the key is
                    # committed: read it now, so that its failure releases the key
                    parts = [part async for part in response.body_iterator]
                    response.body_iterator = replay_parts(parts)
                answered.append(response)
                decline_unless_2xx(response.status_code, str(response.status_code))

            outcome = await receiver.areceive(webhook_request, dispatch=dispatch)
            if raised and outcome.reason == "declined":
                raise raised[0]  # Starlette's exception handlers answer it
            if answered and app_answer_stands(outcome, answered[0].status_code):
                return answered[0]
            return outcome_response(outcome.status, outcome.headers, outcome.body)

        return run

    return decorate
