"""Signed text that can be split otherwise: a sender signs parts run together,
and nothing in the signed bytes marks where one part ends. Each test takes a
captured delivery, moves a part boundary (the signature still verifies, by
the provider's SDK where one is installed, else by the documented
algorithm), and checks that the copy is refused or answered as a duplicate:
never dispatched again with a part changed or a replay key of its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from webhookverify import (
    Delivery,
    EventBus,
    Handler,
    HandlerRegistry,
    Receiver,
    VerificationError,
    Verifier,
    WebhookRequest,
    presets,
)

from _vectors import provider_file


def _receiver(verifier: Verifier, received: list[Delivery]) -> Receiver:
    bus = EventBus()
    bus.bind("webhook.received", received.append)
    return Receiver(HandlerRegistry([Handler("split", verifier, user="bot")]), bus)


# -- Sinch: <body>.<nonce>.<timestamp> -------------------------------------------------------


def _sinch_mac(secret: str, body: bytes, nonce: str, stamp: str) -> str:
    # Sinch's documented algorithm (and its .NET SDK's): HMAC-SHA256, base64
    message = body + b"." + nonce.encode() + b"." + stamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def test_sinch_body_tail_cannot_be_moved_into_the_nonce() -> None:
    """The body (JSON, full of '.') runs into the nonce with a '.' between:
    the body's tail after its last '.' can be sent as the start of the nonce.
    The signature is the SDK vector's; the nonce, the replay key, was new, so
    the cut-short body was dispatched again."""
    (vector,) = [
        v
        for v in provider_file("providers_more_c.json", "sinch")
        if v["id"] == "sinch-sdk-contact-create"
    ]
    headers = dict(vector["headers"])
    body = vector["body"].encode()
    nonce = headers["x-sinch-webhook-signature-nonce"]
    stamp = headers["x-sinch-webhook-signature-timestamp"]
    assert _sinch_mac(vector["secret"], body, nonce, stamp) == headers["x-sinch-webhook-signature"]
    cut = body.rindex(b".")
    moved_body, moved_nonce = body[:cut], body[cut + 1 :].decode() + "." + nonce
    # the oracle: the same signed text, so the same signature
    assert _sinch_mac(vector["secret"], moved_body, moved_nonce, stamp) == _sinch_mac(
        vector["secret"], body, nonce, stamp
    )

    received: list[Delivery] = []
    receiver = _receiver(presets.sinch(secret=vector["secret"]), received)
    now = vector["now"]
    original = WebhookRequest("POST", "https://h.test/sinch", headers, body, received_at=now)
    assert receiver.receive(original).reason == "accepted"
    moved = {**headers, "x-sinch-webhook-signature-nonce": moved_nonce}
    forged = WebhookRequest("POST", "https://h.test/sinch", moved, moved_body, received_at=now)
    with pytest.raises(VerificationError) as caught:
        presets.sinch(secret=vector["secret"]).verify(forged)
    assert caught.value.reason == "malformed_header"
    assert "x-sinch-webhook-signature-nonce" in str(caught.value)
    assert receiver.receive(forged).status == 401
    assert [d.request.body for d in received] == [body]
