"""X (Account Activity), Asana, Xero and Nylas: their vectors, their documented
algorithms as oracles, and the verifier contract.

The signed-delivery vectors are in tests/vectors/providers_handshake.json,
each with its source; their handshakes are tested in test_handshakes.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import quote

import pytest

from webhookverify import (
    ConfigurationError,
    EventBus,
    Handler,
    HandlerRegistry,
    Receiver,
    VerificationError,
    WebhookRequest,
    presets,
)

from _vectors import check_sources, check_vector, provider_file, vector_request
from contract import NOW
from preset_contracts import PresetContract

FILE = "providers_handshake.json"
PROVIDERS = {"x": 2, "asana": 2, "xero": 2, "nylas": 2}
VECTORS = provider_file(FILE)
VALID = [v for v in VECTORS if v["expected"] == "valid"]
BODY = b'{"events":[{"type":"created"}]}'


def test_every_provider_has_its_vectors_with_a_source() -> None:
    check_sources(FILE, PROVIDERS)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["id"])
def test_vector(vector: dict[str, Any]) -> None:
    check_vector(getattr(presets, vector["provider"])(secret=vector["secret"]), vector, NOW, 60)


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v["id"])
def test_vector_with_another_key_is_refused(vector: dict[str, Any]) -> None:
    verifier = getattr(presets, vector["provider"])(secret="another-secret-of-the-kind")
    with pytest.raises(VerificationError) as info:
        verifier.verify(vector_request(vector, NOW))
    assert info.value.reason == "signature_mismatch"


@pytest.mark.parametrize(
    ("name", "header", "encode"),
    [
        ("x", "x-twitter-webhooks-signature", lambda d: "sha256=" + base64.b64encode(d).decode()),
        ("asana", "X-Hook-Signature", lambda d: d.hex()),
        ("xero", "x-xero-signature", lambda d: base64.b64encode(d).decode()),
        ("nylas", "x-nylas-signature", lambda d: d.hex()),
    ],
)
def test_the_documented_algorithm_is_what_is_signed(name: str, header: str, encode: Any) -> None:
    verifier = getattr(presets, name)(secret="oracle-secret")
    expected = encode(hmac.new(b"oracle-secret", BODY, hashlib.sha256).digest())
    assert verifier.sign(BODY) == {header: expected}
    result = verifier.verify(WebhookRequest(headers={header: expected}, body=BODY))
    assert result.scheme == f"{name}-hmac-sha256"
    assert verifier.replay_default == "content"


def test_x_answers_crc_with_the_newest_secret() -> None:
    verifier = presets.x(secrets=["old-consumer-secret", "new-consumer-secret"])
    request = WebhookRequest("GET", "https://h.test/x?crc_token=abc", {}, b"")
    answer = verifier.handshake.answer(request, None)  # type: ignore[attr-defined]
    digest = hmac.new(b"new-consumer-secret", b"abc", hashlib.sha256).digest()
    assert answer.body == b'{"response_token": "sha256=' + base64.b64encode(digest) + b'"}'


def test_asana_without_a_secret_cannot_sign() -> None:
    with pytest.raises(ConfigurationError, match=r"^presets\.asana needs a secret to sign"):
        presets.asana().sign(BODY)
    with pytest.raises(ConfigurationError, match=r"^presets\.asana takes secret="):
        presets.asana(secret="a", secrets=["b"])


class TestX(PresetContract):
    preset = "x"


class TestAsana(PresetContract):
    preset = "asana"


class TestXero(PresetContract):
    preset = "xero"


class TestNylas(PresetContract):
    preset = "nylas"


# -- X's CRC is an HMAC under the key that signs deliveries --------------------------


FORGED_BODIES = [
    b'{"for_user_id":"2244994945","tweet_create_events":[{"text":"forged"}]}',
    b"[1]",
    b"123",
    b"null",
    b"not-json-at-all",
]


@pytest.mark.parametrize("body", FORGED_BODIES)
def test_the_crc_answer_never_signs_a_delivery(body: bytes) -> None:
    # The CRC answer is sha256=base64(HMAC-SHA256(consumer secret, crc_token)),
    # the very format of x-twitter-webhooks-signature over a body: answered for
    # any crc_token, it would sign whatever body an attacker sends as the token.
    verifier = presets.x(secret="x-consumer-secret")
    receiver = Receiver(HandlerRegistry([Handler("x", verifier)]), EventBus())
    dispatched: list[object] = []
    receiver.bus.bind("webhook.received", dispatched.append)
    crc = WebhookRequest("GET", "https://hooks.example.test/x?crc_token=" + quote(body), {})
    answer = receiver.receive(crc)
    if answer.status != 200:
        assert answer.status == 401  # refused: the attacker learns nothing
        return
    signature = json.loads(answer.body)["response_token"]
    headers = {"x-twitter-webhooks-signature": signature}
    forged = WebhookRequest("POST", "https://hooks.example.test/x", headers, body)
    assert receiver.receive(forged).status == 401
    assert dispatched == []


def test_x_refuses_a_body_that_is_not_a_json_object() -> None:
    # X sends JSON objects; anything else is no delivery of X's, however signed.
    verifier = presets.x(secret="x-consumer-secret")
    for body in (b"[1]", b"123", b"null", b"not-json", b" "):
        digest = hmac.new(b"x-consumer-secret", body, hashlib.sha256).digest()
        signature = "sha256=" + base64.b64encode(digest).decode()
        request = WebhookRequest(
            "POST",
            "https://hooks.example.test/x",
            {"x-twitter-webhooks-signature": signature},
            body,
        )
        with pytest.raises(VerificationError):
            verifier.verify(request, NOW)
    body = b'  {"for_user_id": "1"}'
    digest = hmac.new(b"x-consumer-secret", body, hashlib.sha256).digest()
    signature = "sha256=" + base64.b64encode(digest).decode()
    request = WebhookRequest(
        "POST", "https://hooks.example.test/x", {"x-twitter-webhooks-signature": signature}, body
    )
    assert verifier.verify(request, NOW).key_id is not None
