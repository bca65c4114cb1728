"""Twitch signs a message's id, timestamp and body, but not the
``Twitch-Eventsub-Message-Type`` header that says whether it is a
notification, a revocation or the callback verification. What is decided
from that header must not let a signed message be taken for another kind:
the verification (a handshake, never replay-guarded) sent again as a
``notification`` is answered as the handshake, never dispatched; a
revocation, whose body names the subscription's type too, never reaches
the listeners of that event type. Through the receiver and a real WSGI
server."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest

from webhookverify import Delivery, Handler, HandlerRegistry, Receiver, presets
from webhookverify.request import WebhookRequest
from webhookverify.testing import sign_request
from webhookverify.wsgi import WebhookApp

SECRET = "twitch-message-types-secret"
TYPE = "Twitch-Eventsub-Message-Type"
SUBSCRIPTION = {"id": "f1c2a387", "type": "channel.follow", "version": "2"}
# the bodies as Twitch documents them ("Handling webhook events")
VERIFICATION = {
    "challenge": "pogchamp-kappa-360noscope-vohiyo",
    "subscription": {**SUBSCRIPTION, "status": "webhook_callback_verification_pending"},
}
REVOCATION = {"subscription": {**SUBSCRIPTION, "status": "authorization_revoked"}}
NOTIFICATION = {
    "subscription": {**SUBSCRIPTION, "status": "enabled"},
    "event": {"user_id": "1234", "broadcaster_user_id": "1337"},
}


def message(body: dict[str, Any], kind: str) -> WebhookRequest:
    """A message signed as Twitch signs it, with a fresh message id."""
    headers = {"Twitch-Eventsub-Message-Id": str(uuid.uuid4()), TYPE: kind}
    return sign_request(presets.twitch(secret=SECRET), json.dumps(body).encode(), headers=headers)


def with_type(request: WebhookRequest, kind: str) -> WebhookRequest:
    """The same signed message, its (unsigned) message-type header changed."""
    pairs = [(n, kind if n.lower() == TYPE.lower() else v) for n, v in request.headers.raw_items()]
    return request.replace(headers=pairs)


def receiver_and_events() -> tuple[Receiver, dict[str, list[Any]]]:
    receiver = Receiver(HandlerRegistry([Handler("twitch", presets.twitch(secret=SECRET))]))
    seen: dict[str, list[Any]] = {"received": [], "follow": [], "handshake": []}
    receiver.bus.bind("webhook.received", seen["received"].append)
    receiver.bus.bind("webhook.received.twitch.channel.follow", seen["follow"].append)
    receiver.bus.bind("webhook.handshake", seen["handshake"].append)
    return receiver, seen


@pytest.mark.parametrize("kind", ["notification", "revocation", ""])
def test_the_verification_under_another_message_type_is_never_dispatched(kind: str) -> None:
    receiver, seen = receiver_and_events()
    verification = message(VERIFICATION, "webhook_callback_verification")
    assert receiver.receive(verification).body == VERIFICATION["challenge"].encode()
    resent = with_type(verification, kind)
    outcome = receiver.receive(resent)
    assert (outcome.status, outcome.reason) == (200, "handshake")
    assert seen["received"] == [] and seen["follow"] == []
    assert len(seen["handshake"]) == 2


def test_a_revocation_never_reaches_the_listeners_of_its_event_type() -> None:
    receiver, seen = receiver_and_events()
    assert receiver.receive(message(REVOCATION, "revocation")).status == 200
    assert seen["follow"] == []
    [revoked] = seen["received"]  # still dispatched, to the handler's listeners
    assert isinstance(revoked, Delivery) and revoked.event_type is None
    assert receiver.receive(message(NOTIFICATION, "notification")).status == 200
    [followed] = seen["follow"]
    assert (followed.event_type, followed.event_type_signed) == ("channel.follow", True)


def test_a_batched_notification_is_routed_by_its_type() -> None:
    receiver, seen = receiver_and_events()
    batched = {"subscription": NOTIFICATION["subscription"], "events": [{"id": "1"}]}
    assert receiver.receive(message(batched, "notification")).status == 200
    assert len(seen["follow"]) == 1


def test_a_notification_is_never_taken_for_the_verification() -> None:
    receiver, seen = receiver_and_events()
    sent = with_type(message(NOTIFICATION, "notification"), "webhook_callback_verification")
    outcome = receiver.receive(sent)
    assert outcome.status == 200 and outcome.reason != "handshake"
    assert len(seen["follow"]) == 1 and seen["handshake"] == []


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served() -> Iterator[tuple[str, dict[str, list[Any]]]]:
    receiver, seen = receiver_and_events()
    server = make_server("127.0.0.1", 0, WebhookApp(receiver), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/webhooks", seen
    finally:
        server.shutdown()
        server.server_close()


def test_under_a_real_server(served: tuple[str, dict[str, list[Any]]]) -> None:
    url, seen = served
    verification = message(VERIFICATION, "webhook_callback_verification")
    for request in (verification, with_type(verification, "notification")):
        response = httpx.post(url, content=request.body, headers=dict(request.headers.items()))
        assert (response.status_code, response.text) == (200, VERIFICATION["challenge"])
    revocation = message(REVOCATION, "revocation")
    response = httpx.post(url, content=revocation.body, headers=dict(revocation.headers.items()))
    assert response.status_code == 200
    assert seen["follow"] == [] and len(seen["received"]) == 1
