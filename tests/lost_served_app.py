"""The apps ``test_round4_lost.py`` serves.

The Flask app (gunicorn: ``lost_served_app:create_app()``), with
``MAX_CONTENT_LENGTH`` below the webhook views' ``max_body_size``:

- ``POST /plain``: records the delivery, answers 204;
- ``POST /stream``: answers with a generator that fails on the first
  attempt for a body and records the delivery on a later one.

Each line of ``$WEBHOOK_RUNS_FILE`` is ``<what> <sha256 of the body>``.

The ASGI endpoint (uvicorn: ``lost_served_app:asgi_app --factory``), on a
:class:`~webhookverify.RedisReplayStore` at ``$REDIS_URL`` under
``$WEBHOOK_REDIS_PREFIX``: its listener pushes the body to the Redis list
``<prefix>started``, then waits for as many seconds as the body's ``wait``.
The WSGI endpoint (gunicorn: ``lost_served_app:wsgi_app()``) does the same.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask, Response, stream_with_context

from webhookverify import (
    Delivery,
    EventBus,
    Handler,
    HandlerRegistry,
    HmacVerifier,
    Receiver,
    asgi,
    wsgi,
)
from webhookverify.flask import webhook_view
from webhookverify.replay import RedisReplayStore

SECRET = "round4-lost-secret-0123456789"
RUNS_ENV = "WEBHOOK_RUNS_FILE"
PREFIX_ENV = "WEBHOOK_REDIS_PREFIX"
APP_LIMIT = 1024  # the app's MAX_CONTENT_LENGTH: deliveries are larger


def verifier() -> HmacVerifier:
    return HmacVerifier(secret=SECRET, header="X-Signature", prefix="sha256=")


def runs(runs_file: str | Path, what: str, body: bytes) -> int:
    """How many ``what`` lines the file holds for ``body``."""
    line = f"{what} {hashlib.sha256(body).hexdigest()}"
    try:
        return Path(runs_file).read_text(encoding="utf-8").splitlines().count(line)
    except FileNotFoundError:
        return 0


def _note(runs_file: str, what: str, body: bytes) -> None:
    with Path(runs_file).open("a", encoding="utf-8") as log:
        log.write(f"{what} {hashlib.sha256(body).hexdigest()}\n")


def create_app() -> Flask:
    log = os.environ[RUNS_ENV]
    receiver = Receiver(HandlerRegistry([Handler("svc", verifier())]))
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = APP_LIMIT

    @app.post("/plain")
    @webhook_view(receiver)
    def plain(delivery: Delivery) -> Any:
        _note(log, "done", delivery.body)
        return "", 204

    @app.post("/stream")
    @webhook_view(receiver)
    def stream(delivery: Delivery) -> Any:
        def chunks() -> Iterator[bytes]:
            yield b"working\n"
            first = runs(log, "attempt", delivery.body) == 0
            _note(log, "attempt", delivery.body)
            if first:
                raise RuntimeError("the database went away mid-stream")
            _note(log, "done", delivery.body)
            yield b"done\n"

        return Response(stream_with_context(chunks()), 200)

    return app


def asgi_app() -> asgi.WebhookApp:
    import redis.asyncio

    url, prefix = os.environ["REDIS_URL"], os.environ[PREFIX_ENV]
    log = redis.asyncio.Redis.from_url(url)
    bus = EventBus()

    async def on_delivery(delivery: Delivery) -> None:
        await log.rpush(prefix + "started", delivery.body)
        await asyncio.sleep(delivery.json()["wait"])

    bus.bind("webhook.received", on_delivery)
    store = RedisReplayStore(url, prefix=prefix)
    return asgi.WebhookApp(
        Receiver(HandlerRegistry([Handler("svc", verifier())]), bus, replay_store=store)
    )


def wsgi_app() -> wsgi.WebhookApp:
    import redis

    url, prefix = os.environ["REDIS_URL"], os.environ[PREFIX_ENV]
    log = redis.Redis.from_url(url)
    bus = EventBus()

    def on_delivery(delivery: Delivery) -> None:
        log.rpush(prefix + "started", delivery.body)
        time.sleep(delivery.json()["wait"])

    bus.bind("webhook.received", on_delivery)
    store = RedisReplayStore(url, prefix=prefix)
    return wsgi.WebhookApp(
        Receiver(HandlerRegistry([Handler("svc", verifier())]), bus, replay_store=store)
    )
