"""presets.stripe: the contract, and stripe-python as an oracle in both directions."""

from __future__ import annotations

import time
from typing import Any

import pytest
import stripe as stripe_sdk
from hypothesis import given, settings
from hypothesis import strategies as st

from webhookverify import HmacVerifier, Secret, VerificationError, WebhookRequest, presets
from webhookverify.testing import sign_request

from contract import NOW, VerifierContract

Signature = stripe_sdk.WebhookSignature

# Stripe secrets are "whsec_" + base62; the key is that whole text, as UTF-8.
secrets = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40
).map(lambda tail: "whsec_" + tail)
payloads = st.text(max_size=2048)


class TestStripe(VerifierContract):
    signs_timestamp = True
    tolerance = 300.0

    def make(self, keys: list[Any]) -> HmacVerifier:
        return presets.stripe(secrets=keys)


@settings(max_examples=60, deadline=None)
@given(secret=secrets, payload=payloads, age=st.integers(min_value=-300, max_value=300))
def test_sdk_signs_preset_verifies(secret: str, payload: str, age: int) -> None:
    stamp = int(NOW) - age
    header = Signature.generate_signature_header(payload, secret, timestamp=stamp)
    request = WebhookRequest(
        headers={"Stripe-Signature": header}, body=payload.encode("utf-8"), received_at=NOW
    )
    result = presets.stripe(secret=secret).verify(request)
    assert result.timestamp == stamp
    with pytest.raises(VerificationError):
        presets.stripe(secret=secret + "x").verify(request)


@settings(max_examples=60, deadline=None)
@given(secret=secrets, payload=payloads)
def test_preset_signs_sdk_verifies(secret: str, payload: str) -> None:
    now = time.time()
    headers = presets.stripe(secret=secret).sign(payload.encode("utf-8"), now=now)
    assert Signature.verify_header(payload, headers["Stripe-Signature"], secret, tolerance=300)
    with pytest.raises(stripe_sdk.SignatureVerificationError):
        Signature.verify_header(payload + " ", headers["Stripe-Signature"], secret, 300)


@settings(max_examples=30, deadline=None)
@given(payload=payloads, old=secrets, new=secrets)
def test_rotation_header_with_several_v1_and_v0(payload: str, old: str, new: str) -> None:
    # While a secret rolls, Stripe sends one v1 per active secret (and may send v0).
    stamp = int(NOW)
    signed = f"{stamp}.{payload}"
    entries = [
        f"t={stamp}",
        f"v1={Signature._compute_signature(signed, old)}",
        f"v0={'a' * 64}",
        f"v1={Signature._compute_signature(signed, new)}",
    ]
    request = WebhookRequest(
        headers={"Stripe-Signature": ",".join(entries)},
        body=payload.encode("utf-8"),
        received_at=NOW,
    )
    for secret in (old, new):
        presets.stripe(secret=secret).verify(request)
        assert Signature.verify_header(payload, ",".join(entries), secret, tolerance=None)
    mine = presets.stripe(secrets=[Secret(new, key_id="new")]).verify(request)
    assert mine.key_id == "new"


def test_whole_whsec_string_is_the_key() -> None:
    body = b'{"id":"evt_1"}'
    header = Signature.generate_signature_header(body.decode(), "whsec_dGVzdA==", int(NOW))
    request = WebhookRequest(headers={"Stripe-Signature": header}, body=body, received_at=NOW)
    presets.stripe(secret="whsec_dGVzdA==").verify(request)
    # decoding it as Standard Webhooks does gives another key: refused
    with pytest.raises(VerificationError):
        presets.stripe(secret=Secret.from_whsec("whsec_dGVzdA==")).verify(request)


def test_upper_case_hex_refused_as_stripe_does() -> None:
    body = b"{}"
    header = Signature.generate_signature_header(body.decode(), "whsec_k", int(NOW))
    stamp, signature = header.split(",")
    upper = f"{stamp},v1={signature[3:].upper()}"
    with pytest.raises(stripe_sdk.SignatureVerificationError):
        Signature.verify_header(body, upper, "whsec_k", tolerance=None)
    with pytest.raises(VerificationError):
        presets.stripe(secret="whsec_k").verify(
            WebhookRequest(headers={"Stripe-Signature": upper}, body=body, received_at=NOW)
        )


def test_tolerance_past_is_stripes_future_is_bounded() -> None:
    verifier = presets.stripe(secret="whsec_k")
    assert verifier.tolerance == 300 and verifier.future_tolerance == 300
    relaxed = presets.stripe(secret="whsec_k", tolerance=3600)
    old = sign_request(relaxed, now=NOW - 3000)
    relaxed.verify(old, now=NOW)
    with pytest.raises(VerificationError) as info:
        verifier.verify(old, now=NOW)
    assert info.value.reason == "timestamp_too_old"
    off = presets.stripe(secret="whsec_k", tolerance=None, future_tolerance=None)
    off.verify(sign_request(off, now=1), now=NOW)
    assert off.replay_window is None
