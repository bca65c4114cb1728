"""The WSGI endpoint ``test_gunicorn_redis.py`` serves with gunicorn, several
worker processes sharing one Redis replay store.

``POST /webhooks``: a listener that takes ``LISTENER_SECONDS`` (so that a
copy sent at once overlaps it in another worker), counts its runs per body
in Redis, and fails its first run of a body holding ``"fail_first"``.
The store's and the counters' Redis is ``REDIS_URL``, under ``REDIS_PREFIX``.
"""

from __future__ import annotations

import hashlib
import os
import time

import redis

from webhookverify import Delivery, EventBus, Handler, HandlerRegistry, HmacVerifier, Receiver
from webhookverify.replay import RedisReplayStore
from webhookverify.wsgi import WebhookApp

SECRET = "redis-served-secret-0123456789"
# Long enough that a copy sent at the same moment reaches the other worker
# while the first still runs, even on a loaded machine.
LISTENER_SECONDS = 1.5

# Set by the test for the server's processes; the defaults let the test import this.
URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
PREFIX = os.environ.get("REDIS_PREFIX", "webhookverify-test:")
_counters = redis.Redis.from_url(URL)


def verifier() -> HmacVerifier:
    return HmacVerifier(secret=SECRET, header="X-Signature", prefix="sha256=")


def runs_key(prefix: str, body: bytes) -> str:
    """Where the listener counts its runs for ``body``, under ``prefix``."""
    return f"{prefix}runs:{hashlib.sha256(body).hexdigest()}"


def listener(delivery: Delivery) -> None:
    body = delivery.request.body
    runs = _counters.incr(runs_key(PREFIX, body))
    time.sleep(LISTENER_SECONDS)
    if b"fail_first" in body and runs == 1:
        raise RuntimeError("the first run of this delivery fails")


bus = EventBus()
bus.bind("webhook.received", listener)
app = WebhookApp(
    Receiver(
        HandlerRegistry([Handler("hmac", verifier())]),
        bus,
        replay_store=RedisReplayStore(URL, prefix=PREFIX),
    )
)
