"""Stronger proofs for presets first proven only by vectors built here: the
providers' own SDKs as oracles, and their test suites' vectors.

Replicate: the vector of replicate-python's test suite (in
tests/vectors/providers_more_g.json) and ``replicate.webhooks.validate`` as an
oracle. Telnyx: ``Telnyx.webhooks.unwrap`` of the official telnyx SDK as an
oracle (it checks the signature against its own clock, so these requests are
signed now). Both ways: what we sign the SDK accepts, and where the SDK
refuses a tampered request, so do we.
"""

from __future__ import annotations

import base64
import time
import warnings
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from webhookverify import VerificationError, WebhookRequest, presets

from _vectors import check_sources, check_vector, provider_file, vector_request
from contract import NOW

FILE = "providers_more_g.json"
VECTORS = provider_file(FILE)
REPLICATE_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODIES = [
    b'{"test": 2432232314}',
    b'{"id":"p1","status":"succeeded","output":["h\xc3\xa9llo"]}',
    b"",
    b"x" * 5000,
]


def test_every_provider_has_its_vectors_with_a_source() -> None:
    check_sources(FILE, {"replicate": 2})


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["id"])
def test_vector(vector: dict[str, Any]) -> None:
    check_vector(getattr(presets, vector["provider"])(secret=vector["secret"]), vector, NOW, 1)


def test_replicate_sdk_accepts_its_test_vector_as_we_do() -> None:
    import replicate
    from replicate.webhook import WebhookSigningSecret

    (vector,) = [v for v in VECTORS if v["id"] == "replicate-sdk-test-valid"]
    secret = WebhookSigningSecret(key=vector["secret"])
    replicate.webhooks.validate(headers=vector["headers"], body=vector["body"], secret=secret)
    result = presets.replicate(secret=vector["secret"]).verify(
        vector_request(vector, NOW), now=vector["now"]
    )
    assert result.delivery_id == "msg_p5jXN8AQM9LWM0D4loKWxJek"


@pytest.mark.parametrize("body", BODIES)
def test_replicate_sdk_oracle_both_ways(body: bytes) -> None:
    import replicate
    from replicate.webhook import InvalidSignatureError, WebhookSigningSecret

    secret = WebhookSigningSecret(key=REPLICATE_SECRET)
    verifier = presets.replicate(secret=REPLICATE_SECRET)
    headers = verifier.sign(body, NOW, id="msg_oracle")
    if body:  # the SDK refuses an empty body before it looks at the signature
        replicate.webhooks.validate(headers=headers, body=body.decode(), secret=secret)
    assert verifier.verify(WebhookRequest(headers=headers, body=body), now=NOW).key_id
    tampered = body + b" "
    with pytest.raises(InvalidSignatureError):
        replicate.webhooks.validate(headers=headers, body=tampered.decode(), secret=secret)
    with pytest.raises(VerificationError):
        verifier.verify(WebhookRequest(headers=headers, body=tampered), now=NOW)


def _telnyx_client(public_key: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import telnyx

    return telnyx.Telnyx(api_key="KEY_test_oracle", public_key=public_key)


@pytest.mark.parametrize("body", [b for b in BODIES if b.startswith(b"{")])
def test_telnyx_sdk_oracle_both_ways(body: bytes) -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    public = base64.b64encode(raw).decode()
    client = _telnyx_client(public)
    signer = presets.telnyx(public_key=public, private_key=private)
    now = time.time()  # the SDK judges the timestamp by its own clock
    headers = signer.sign(body, now)
    client.webhooks.unwrap(body.decode(), headers=headers)
    assert signer.verify(WebhookRequest(headers=headers, body=body), now=now).key_id
    for changed_body, changed_headers in (
        (body + b" ", headers),
        (body, {**headers, "telnyx-timestamp": str(int(headers["telnyx-timestamp"]) + 1)}),
    ):
        with pytest.raises(ValueError, match="Signature verification failed"):
            client.webhooks.unwrap(changed_body.decode(), headers=changed_headers)
        with pytest.raises(VerificationError):
            signer.verify(WebhookRequest(headers=changed_headers, body=changed_body), now=now)
    # another key: the SDK refuses, and so do we
    other = base64.b64encode(
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()
    with pytest.raises(ValueError, match="Signature verification failed"):
        _telnyx_client(other).webhooks.unwrap(body.decode(), headers=headers)
    with pytest.raises(VerificationError):
        presets.telnyx(public_key=other).verify(WebhookRequest(headers=headers, body=body), now=now)
