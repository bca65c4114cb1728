"""The apps ``test_servers.py`` serves with real servers (uvicorn, hypercorn,
gunicorn, waitress), one process each.

Routes, the same under ASGI (``asgi_app``) and WSGI (``wsgi_app``):

- ``POST /hooks/app``: the endpoint app; a listener records each delivery.
- ``POST /hooks/mw``: the middleware over a small app that records the body it
  read and the delivery it was handed, and answers 201.
- ``POST /hooks/slow`` (ASGI only): a receiver with a 0.1 s time budget and a
  listener that takes 1 s: answers 202, records later.
- ``GET /_deliveries``: what was recorded, as JSON, for the tests to query.
- anything else: the middleware passes it through to the small app (404).

Two handlers: an HMAC one (replay protection by content) and a token one
(replay off, signs nothing: a cut body would verify, so only the adapter's
length checks keep it from being dispatched).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Iterable
from typing import Any

from webhookverify import (
    Delivery,
    EventBus,
    Handler,
    HandlerRegistry,
    HmacVerifier,
    Receiver,
    TokenVerifier,
)
from webhookverify import asgi as _asgi
from webhookverify import wsgi as _wsgi

SECRET = "servers-secret-0123456789"
TOKEN = "servers-token-0123456789"
MAX_BODY_SIZE = 16 * 1024
TIME_BUDGET = 0.1
SLOW_LISTENER = 1.0


def hmac_verifier() -> HmacVerifier:
    return HmacVerifier(secret=SECRET, header="X-Signature", prefix="sha256=")


def token_verifier() -> TokenVerifier:
    return TokenVerifier(secret=TOKEN, header="X-Token")


_lock = threading.Lock()
_records: list[dict[str, Any]] = []


def _record(route: str, body: bytes, delivery: Delivery | None) -> None:
    with _lock:
        _records.append(
            {
                "route": route,
                "sha256": hashlib.sha256(body).hexdigest(),
                "size": len(body),
                "delivery_body_matches": delivery is not None and delivery.request.body == body,
                "handler": delivery.handler.name if delivery is not None else None,
                "at": time.time(),
            }
        )


def _records_json() -> bytes:
    with _lock:
        return json.dumps(_records).encode()


def _receiver(time_budget: float | None = None) -> Receiver:
    registry = HandlerRegistry(
        [Handler("hmac", hmac_verifier()), Handler("token", token_verifier(), replay="off")]
    )
    return Receiver(registry, EventBus(), time_budget=time_budget)


# -- ASGI ------------------------------------------------------------------------------


async def _record_app(delivery: Delivery) -> None:
    _record("/hooks/app", delivery.request.body, delivery)


async def _record_slow(delivery: Delivery) -> None:
    await asyncio.sleep(SLOW_LISTENER)
    _record("/hooks/slow", delivery.request.body, delivery)


async def _inner_asgi(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] != "/hooks/mw":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"not found\n"})
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    _record("/hooks/mw", b"".join(chunks), _asgi.get_delivery(scope))
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"mw ok\n"})


_asgi_receiver = _receiver()
_asgi_receiver.bus.bind("webhook.received", _record_app)
_slow_receiver = _receiver(time_budget=TIME_BUDGET)
_slow_receiver.bus.bind("webhook.received", _record_slow)
_asgi_endpoint = _asgi.WebhookApp(_asgi_receiver, max_body_size=MAX_BODY_SIZE)
_asgi_slow = _asgi.WebhookApp(_slow_receiver, max_body_size=MAX_BODY_SIZE)
_asgi_mw = _asgi.WebhookMiddleware(
    _inner_asgi, _receiver(), path="/hooks/mw", max_body_size=MAX_BODY_SIZE
)


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    path = scope.get("path")
    if scope["type"] == "lifespan":
        await _asgi_endpoint(scope, receive, send)
    elif path == "/_deliveries":
        body = _records_json()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})
    elif path == "/hooks/app":
        await _asgi_endpoint(scope, receive, send)
    elif path == "/hooks/slow":
        await _asgi_slow(scope, receive, send)
    else:
        await _asgi_mw(scope, receive, send)


# -- WSGI ------------------------------------------------------------------------------


def _inner_wsgi(environ: Any, start_response: Any) -> Iterable[bytes]:
    if environ["PATH_INFO"] != "/hooks/mw":
        start_response("404 Not Found", [("Content-Length", "10")])
        return [b"not found\n"]
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    _record("/hooks/mw", body, _wsgi.get_delivery(environ))
    start_response("201 Created", [("Content-Length", "6")])
    return [b"mw ok\n"]


_wsgi_receiver = _receiver()
_wsgi_receiver.bus.bind("webhook.received", lambda d: _record("/hooks/app", d.request.body, d))
_wsgi_endpoint = _wsgi.WebhookApp(_wsgi_receiver, max_body_size=MAX_BODY_SIZE)
_wsgi_mw = _wsgi.WebhookMiddleware(
    _inner_wsgi, _receiver(), path="/hooks/mw", max_body_size=MAX_BODY_SIZE
)


def wsgi_app(environ: Any, start_response: Any) -> Iterable[bytes]:
    path = environ.get("PATH_INFO")
    if path == "/_deliveries":
        body = _records_json()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]
    if path == "/hooks/app":
        return _wsgi_endpoint(environ, start_response)
    return _wsgi_mw(environ, start_response)
