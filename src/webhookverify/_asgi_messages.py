"""ASGI messages in and out: the request body, the response, the wrapped
app's buffered response, and the scopes that are not HTTP.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, NamedTuple, TypeAlias

from ._body import BodyBuffer
from ._options import DELIVERY_KEY
from ._paths import slash_moved, toggle_slash
from ._replies import Reply
from .delivery import Outcome

__all__ = [
    "AppResponse",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "call_app",
    "delivery_scope",
    "other_scope",
    "read_body",
    "respond",
    "send_reply",
    "slash_redirect",
]

logger = logging.getLogger("webhookverify")

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]

# Response extensions that send something other than http.response.start and
# http.response.body: a middleware that buffers the wrapped app's response
# cannot relay them, so the wrapped app is not offered them.
UNRELAYABLE_EXTENSIONS = frozenset(
    {
        "http.response.pathsend",
        "http.response.zerocopysend",
        "http.response.early_hint",
        "http.response.trailers",
    }
)


async def read_body(
    receive: Receive, message: Message, length: int | None, limit: int
) -> bytes | None:
    """The whole body of a request whose first message, ``message``, did not
    carry all of it, or ``None`` when the client disconnected first."""
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


@functools.lru_cache(maxsize=32)
def _encoded(headers: tuple[tuple[str, str], ...]) -> tuple[tuple[bytes, bytes], ...]:
    # The replies come from a few fixed header sets (ours, not the request's): each encoded once.
    return tuple((n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers)


async def send_reply(send: Send, reply: Reply | Outcome) -> None:
    """Write the receiver's :class:`~webhookverify.Outcome` or the adapter's :class:`Reply`."""
    body = reply.body
    headers = [*_encoded(reply.headers), (b"content-length", b"%d" % len(body))]
    try:
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    except Exception as exc:  # noqa: BLE001 - logged for what it is
        reason = reply.reason if isinstance(reply, Outcome) else f"adapter_{reply.status}"
        _not_sent(exc, reply.status, reason)


async def respond(send: Send, status: int, headers: Any, body: bytes, reason: str) -> None:
    """Write one response: its start, then its whole body.

    A ``send`` that fails is logged for what it is, never as an answer sent:
    after the request was handled (as ``reason`` says) there is nothing else
    to answer with.
    """
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    except Exception as exc:  # noqa: BLE001 - logged for what it is
        _not_sent(exc, status, reason)


def _not_sent(exc: Exception, status: int, reason: str) -> None:
    """Log an answer the server would not take: the client gone, or another failure."""
    if isinstance(exc, OSError):  # ASGI HTTP 2.4: send() on a closed connection raises OSError
        logger.warning(
            "the client went away before the answer (%d, %s) was written; nothing was answered: %r",
            status,
            reason,
            exc,
            extra={"webhookverify": {"reason": "client_gone", "status": status, "outcome": reason}},
        )
    else:
        logger.error(
            "the server refused the answer (%d, %s); nothing more can be sent",
            status,
            reason,
            exc_info=exc,
        )


async def other_scope(scope: Scope, receive: Receive, send: Send) -> None:
    """``lifespan`` (startup and shutdown complete at once); a ``websocket`` is closed."""
    if scope["type"] == "lifespan":
        while (kind := (await receive())["type"]) != "lifespan.shutdown":
            if kind == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
    elif scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.close", "code": 1008})


def delivery_scope(scope: Scope, delivery: object) -> Scope:
    """The scope the wrapped app gets: a copy with the :class:`~webhookverify.Delivery`
    in its (copied) ``state``, offered only the extensions a buffered response relays."""
    inner = {**scope, "state": {**(scope.get("state") or {}), DELIVERY_KEY: delivery}}
    extensions = scope.get("extensions")
    if extensions:
        inner["extensions"] = {
            k: v for k, v in extensions.items() if k not in UNRELAYABLE_EXTENSIONS
        }
    return inner


class AppResponse(NamedTuple):
    """The wrapped app's whole response: status, headers (ASGI byte pairs), body."""

    status: int
    headers: list[Any]
    body: bytes


async def call_app(
    app: Callable[..., Awaitable[None]], scope: Scope, body: bytes, receive: Receive
) -> AppResponse:
    """Run the wrapped app and keep its whole response, buffered until the
    receiver has decided.

    Its ``receive`` gives ``body`` once, then the server's own messages
    (``http.disconnect`` ...), as Starlette's middlewares do.

    Raises:
        RuntimeError: the app sent its response out of order, or returned
            without a complete one.
    """
    status: int | None = None
    headers: list[Any] = []
    chunks: list[bytes] = []
    complete = False
    first = iter([{"type": "http.request", "body": body, "more_body": False}])

    async def replay() -> Message:
        return next(first, None) or await receive()

    async def capture(message: Message) -> None:
        nonlocal status, headers, complete
        kind = message.get("type")
        if kind == "http.response.start" and status is None:
            status = int(message["status"])
            headers = list(message.get("headers", ()))
        elif kind == "http.response.body" and status is not None and not complete:
            if message.get("body"):
                chunks.append(bytes(message["body"]))
            complete = not message.get("more_body", False)
        else:
            raise RuntimeError(f"the wrapped ASGI app sent {kind!r} out of order")

    await app(scope, replay, capture)
    if status is None or not complete:
        raise RuntimeError("the wrapped ASGI app returned without a complete response")
    return AppResponse(status, headers, b"".join(chunks))


def slash_redirect(scope: Scope, status: int, headers: Iterable[Any]) -> Scope | None:
    """The request's scope at the path the app redirected it to, when the
    redirect only adds or drops the trailing slash (``slash_moved``), else
    ``None``.

    Args:
        scope: the scope the app was called with.
        status: the app's answer.
        headers: the app's response headers (ASGI byte pairs).
    """
    found = {bytes(name).lower(): bytes(value) for name, value in scope.get("headers", ())}
    locations = [bytes(value) for name, value in headers if bytes(name).lower() == b"location"]
    location = locations[0].decode("latin-1") if len(locations) == 1 else None
    host = found.get(b"host", b"").decode("latin-1")
    root: str = scope.get("root_path", "")
    moved = slash_moved(scope.get("path", ""), root, status, location, host)
    if moved is None:
        return None
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        raw_path, mark, query = raw.decode("latin-1").partition("?")
        raw = (toggle_slash(raw_path) + mark + query).encode("latin-1")
        return {**scope, "path": moved, "raw_path": raw}
    return {**scope, "path": moved}
