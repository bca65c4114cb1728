"""A signed handshake that raises on a verified request: it may have been a
handshake, so it is never dispatched as a delivery; the sender is told to
retry (503), through the receiver and through a real WSGI server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest

from webhookverify import Handler, HandlerRegistry, Receiver, presets
from webhookverify.testing import sign_request
from webhookverify.wsgi import WebhookApp

SECRET = "handshake-failure-secret"
URL = "https://hooks.example.test/webhooks"
# What a user's handshake may choke on: a verified delivery whose body is a
# JSON array, where it expected an object.
BODY = b'[{"type": "url_verification"}]'


class Choking:
    """A signed handshake of the user's own with a bug: it raises on a body
    that is not a JSON object."""

    kind, signed, methods = "own.check", True, frozenset({"POST"})

    def answer(self, request: Any, verification: Any) -> Any:
        import json

        body = json.loads(request.body)
        if body.get("type") == "url_verification":  # AttributeError on a list
            raise AssertionError("not reached for this body")
        return None


class ChokingAsync(Choking):
    async def aanswer(self, request: Any, verification: Any) -> Any:
        return self.answer(request, verification)


def receiver_and_events(handshake: Any) -> tuple[Receiver, dict[str, list[Any]]]:
    handler = Handler("own", presets.github(secret=SECRET), handshake=handshake)
    receiver = Receiver(HandlerRegistry([handler]), retry_after=9)
    seen: dict[str, list[Any]] = {"received": [], "handshake": [], "rejected": []}
    for name, got in seen.items():
        receiver.bus.bind(f"webhook.{name}", got.append)
    return receiver, seen


@pytest.mark.parametrize("handshake", [Choking, ChokingAsync])
def test_a_signed_handshake_that_raises_dispatches_nothing(handshake: type[Choking]) -> None:
    receiver, seen = receiver_and_events(handshake())
    request = sign_request(presets.github(secret=SECRET), BODY, url=URL)
    for outcome in (receiver.receive(request), asyncio.run(receiver.areceive(request))):
        assert (outcome.status, outcome.reason) == (503, "handshake_unavailable")
        assert ("Retry-After", "9") in outcome.headers
    assert seen["received"] == [] and seen["handshake"] == []
    assert [r.reason for r in seen["rejected"]] == ["handshake_unavailable"] * 2


def test_an_unsigned_handshake_that_raises_is_still_a_401() -> None:
    class Broken:
        kind, signed, methods = "broken.check", False, frozenset({"POST"})

        def answer(self, request: Any, verification: Any) -> Any:
            raise RuntimeError("a bug in a handshake of the user's own")

    receiver, seen = receiver_and_events(Broken())
    outcome = receiver.receive(sign_request(presets.github(secret="other"), BODY, url=URL))
    assert outcome.status == 401
    assert seen["received"] == [] and seen["handshake"] == []


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served() -> Iterator[tuple[str, dict[str, list[Any]]]]:
    receiver, seen = receiver_and_events(Choking())
    server: WSGIServer = make_server("127.0.0.1", 0, WebhookApp(receiver), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/webhooks", seen
    finally:
        server.shutdown()
        server.server_close()


def test_under_a_real_server_the_sender_is_told_to_retry(
    served: tuple[str, dict[str, list[Any]]],
) -> None:
    url, seen = served
    headers = dict(sign_request(presets.github(secret=SECRET), BODY).headers.items())
    response = httpx.post(url, content=BODY, headers=headers)
    assert response.status_code == 503 and response.headers["Retry-After"] == "9"
    assert seen["received"] == []
