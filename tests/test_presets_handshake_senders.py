"""X (Account Activity), Asana, Xero and Nylas: their vectors, their documented
algorithms as oracles, and the verifier contract.

The signed-delivery vectors are in tests/vectors/providers_handshake.json,
each with its source; their handshakes are tested in test_handshakes.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from webhookverify import ConfigurationError, VerificationError, WebhookRequest, presets

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
