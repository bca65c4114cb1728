"""A receiver written by hand that gives what ``WebhookApp`` gives by default,
for one scheme: the floor of the guarantees, not of the scheme.

``bench_adapters.py``'s ``minimal`` receiver checks the signature, the window
and a set of seen ids, and nothing else. ``WebhookApp`` with
``presets.standard_webhooks`` and the defaults also refuses, before reading
the body, a method it does not take (405), more than 100 header fields or
64 KiB of them (431), a header name or value HTTP does not allow, a
malformed or repeated Host or Content-Length (400) and a body over 1 MiB
(413); it reads the body to its announced length; it refuses a repeated
signature, id or timestamp header and more than 16 signatures; it holds a
delivery's key in flight for a lease while the listener runs (a second copy
arriving meanwhile gets 409), commits it only when the listener succeeded
(a failure releases it and answers 500, so the sender's retry is processed),
in a store bounded to 100,000 keys; it hands the listener the verified
delivery; it answers with a Content-Type.

This module does the same, written as directly as its author could: one
function per server interface, the checks inlined, the same limits. What it
costs against ``minimal`` is what those guarantees cost in any Python
receiver; what ``WebhookApp`` costs against it is what the library adds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

MAX_HEADER_COUNT = 100
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY = 1 << 20
MAX_SIGNATURES = 16
LEASE = 60.0
TTL = 600.0 + 2 * 300  # the window both ways, and a margin, as the library keeps id keys
MAX_KEYS = 100_000

# RFC 9110 §5.1 and §5.5: every other byte becomes the separator, so that a
# field holding one splits and the count of fields after the split tells.
_TOKEN = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_NAMES = bytes(b if b in _TOKEN + b" " else 0x20 for b in range(256)).lower()
_VALUES = bytes(
    b if b == 0x09 or b == 0x0A or 0x20 <= b <= 0x7E or b >= 0x80 else 0x0A for b in range(256)
)
_HOST = re.compile(rb"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-_~%]+)(?::[0-9]{0,5})?")
_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
_TEXT_WSGI = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "0")]


class Replay:
    """Delivery ids in flight (for a lease) and done (for a ttl), bounded, under a lock."""

    def __init__(self) -> None:
        self.done: dict[bytes, float] = {}
        self.in_flight: dict[bytes, tuple[float, int]] = {}
        self.lock = threading.Lock()
        self.tokens = itertools.count()

    def reserve(self, key: bytes, now: float) -> int | str:
        with self.lock:
            if self.done.get(key, now) > now:
                return "duplicate"
            held = self.in_flight.get(key)
            if held is not None and held[0] > now:
                return "in_flight"
            if len(self.done) + len(self.in_flight) >= MAX_KEYS and self.done:
                del self.done[next(iter(self.done))]  # the oldest done key
            token = next(self.tokens)
            self.in_flight[key] = (now + LEASE, token)
            return token

    def settle(self, key: bytes, token: int, now: float, *, commit: bool) -> None:
        with self.lock:
            held = self.in_flight.get(key)
            if held is not None and held[1] != token and held[0] > now:
                return  # reserved again by another after this lease ran out
            self.in_flight.pop(key, None)
            if commit:
                self.done.pop(key, None)
                self.done[key] = now + TTL


def _head(method: str, pairs: list[tuple[bytes, bytes]]) -> tuple[int, Any, int]:
    """(0, the fields by lower-cased name, Content-Length) or (a refusal status, None, 0)."""
    if method != "POST":
        return 405, None, 0
    if len(pairs) > MAX_HEADER_COUNT:
        return 431, None, 0
    names, values = zip(*pairs, strict=True) if pairs else ((), ())
    keys = b" ".join(names).translate(_NAMES).split(b" ")
    texts = b"\n".join(values).translate(_VALUES).split(b"\n")
    if len(keys) != len(pairs) or len(texts) != len(pairs) or b"" in keys:
        return 400, None, 0
    if sum(map(len, keys)) + sum(map(len, texts)) > MAX_HEADER_BYTES:
        return 431, None, 0
    fields = dict(zip(keys, texts, strict=True))
    if len(fields) != len(pairs):  # a repeated field: only harmless ones may repeat
        for name in (b"host", b"content-length", b"webhook-id", b"webhook-timestamp"):
            if keys.count(name) > 1:
                return 400, None, 0
        if keys.count(b"webhook-signature") > 1:
            return 401, None, 0
    host = fields.get(b"host", b"")
    length = fields.get(b"content-length", b"0")
    if (host and not _HOST.fullmatch(host)) or not (length.isdigit() and len(length) < 20):
        return 400, None, 0
    if int(length) > MAX_BODY:
        return 413, None, 0
    return 0, fields, int(length)


def _verify(fields: Any, body: bytes, key: bytes) -> bytes | None:
    """The verified delivery id, or ``None``."""
    delivery_id: bytes = fields.get(b"webhook-id", b"")
    stamp = fields.get(b"webhook-timestamp", b"")
    if not delivery_id or not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
        return None
    signatures = fields.get(b"webhook-signature", b"").split(b" ")
    if len(signatures) > MAX_SIGNATURES:
        return None
    digest = hmac.new(key, delivery_id + b"." + stamp + b"." + body, hashlib.sha256).digest()
    expected = b"v1," + base64.b64encode(digest)
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        return None
    return delivery_id


def _admit(
    replay: Replay, fields: Any, body: bytes, length: int, key: bytes
) -> tuple[int, dict[str, Any] | None]:
    """What follows the body, up to the listener: (the status to answer, None),
    or (0, the delivery) reserved for the listener to run."""
    if len(body) != length:
        return 400, None
    delivery_id = _verify(fields, body, key)
    if delivery_id is None:
        return 401, None
    replay_key = b"bench:" + delivery_id
    token = replay.reserve(replay_key, time.monotonic())
    if token == "duplicate":
        return 200, None
    if token == "in_flight":
        return 409, None
    return 0, {
        "handler": "bench",
        "id": delivery_id,
        "body": body,
        "key": replay_key,
        "token": token,
    }


def guarded_asgi(key: bytes, listener: Callable[..., Any]) -> Any:
    replay = Replay()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        status, fields, length = _head(scope["method"], scope["headers"])
        if not status:
            chunks, more = [], True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away: nothing to answer
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            status, delivery = _admit(replay, fields, b"".join(chunks), length, key)
            if delivery is not None:
                try:
                    await listener(delivery)
                    status = 200
                except Exception:  # noqa: BLE001 - released: the sender retries
                    status = 500
                replay.settle(
                    delivery["key"], delivery["token"], time.monotonic(), commit=status == 200
                )
        headers = [*_TEXT, (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    return app


def _environ_pairs(environ: dict[str, Any]) -> Iterable[tuple[bytes, bytes]]:
    for name, value in environ.items():
        if name.startswith("HTTP_"):
            yield name[5:].replace("_", "-").encode("latin-1"), value.encode("latin-1")
    for name, header in (("CONTENT_TYPE", b"content-type"), ("CONTENT_LENGTH", b"content-length")):
        if environ.get(name):
            yield header, environ[name].encode("latin-1")


def guarded_wsgi(key: bytes, listener: Callable[..., Any]) -> Any:
    replay = Replay()
    reasons = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        status, fields, length = _head(environ["REQUEST_METHOD"], list(_environ_pairs(environ)))
        if not status:
            body = environ["wsgi.input"].read(length)
            status, delivery = _admit(replay, fields, body, length, key)
            if delivery is not None:
                try:
                    listener(delivery)
                    status = 200
                except Exception:  # noqa: BLE001 - released: the sender retries
                    status = 500
                replay.settle(
                    delivery["key"], delivery["token"], time.monotonic(), commit=status == 200
                )
        start_response(reasons[status], _TEXT_WSGI)
        return [b""]

    return app
