"""presets.slack: the contract, and slack_sdk as an oracle in both directions."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.signature import Clock, SignatureVerifier

from webhookverify import HmacVerifier, VerificationError, WebhookRequest, presets
from webhookverify.testing import sign_request

from contract import NOW, VerifierContract

secrets = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40
)
# slack_sdk hashes str bodies as UTF-8: any text is a body both sides agree on
bodies = st.text(max_size=2048)


class FrozenClock(Clock):
    def now(self) -> float:
        return NOW


class TestSlack(VerifierContract):
    signs_timestamp = True
    tolerance = 300.0

    def make(self, keys: list[Any]) -> HmacVerifier:
        return presets.slack(secrets=keys)

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ("X-Slack-Signature", "X-Slack-Request-Timestamp")


@settings(max_examples=60, deadline=None)
@given(secret=secrets, body=bodies, age=st.integers(min_value=-300, max_value=300))
def test_sdk_signs_preset_verifies(secret: str, body: str, age: int) -> None:
    stamp = str(int(NOW) - age)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    request = WebhookRequest(
        headers={"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature},
        body=body.encode("utf-8"),
        received_at=NOW,
    )
    assert presets.slack(secret=secret).verify(request).timestamp == int(stamp)
    with pytest.raises(VerificationError):
        presets.slack(secret=secret + "x").verify(request)


@settings(max_examples=60, deadline=None)
@given(secret=secrets, body=bodies)
def test_preset_signs_sdk_verifies(secret: str, body: str) -> None:
    headers = presets.slack(secret=secret).sign(body.encode("utf-8"), now=time.time())
    sdk = SignatureVerifier(secret)
    assert sdk.is_valid_request(body, headers)
    assert not sdk.is_valid_request(body + "x", headers)


def test_docs_example_and_window_both_ways() -> None:
    body = b"token=x&text=hi"
    verifier = presets.slack(secret="8f742231b10e8888abcd99yyyzzz85a5")
    inside = sign_request(verifier, body, now=NOW + 299)
    verifier.verify(inside, now=NOW)
    with pytest.raises(VerificationError) as info:
        verifier.verify(sign_request(verifier, body, now=NOW + 301), now=NOW)
    assert info.value.reason == "timestamp_in_future"
    with pytest.raises(VerificationError) as info:
        verifier.verify(sign_request(verifier, body, now=NOW - 301), now=NOW)
    assert info.value.reason == "timestamp_too_old"


def test_form_body_hashed_as_received() -> None:
    # slash commands post form data; re-encoding it ('+' vs '%20') breaks the signature
    verifier = presets.slack(secret="s")
    request = sign_request(verifier, b"text=hello+world&x=%2F", now=NOW)
    verifier.verify(request, now=NOW)
    with pytest.raises(VerificationError):
        verifier.verify(request.replace(body=b"text=hello%20world&x=%2F"), now=NOW)


def test_upper_case_hex_refused_as_slack_sdk_does() -> None:
    verifier = presets.slack(secret="s")
    request = sign_request(verifier, b"{}", now=NOW)
    stamp, lower = (
        request.headers["X-Slack-Request-Timestamp"],
        request.headers["X-Slack-Signature"],
    )
    upper = "v0=" + lower[3:].upper()
    sdk = SignatureVerifier("s", clock=FrozenClock())
    assert sdk.is_valid(b"{}", stamp, lower)
    assert not sdk.is_valid(b"{}", stamp, upper)
    headers = {**request.headers, "X-Slack-Signature": upper}
    with pytest.raises(VerificationError):
        verifier.verify(request.replace(headers=headers), now=NOW)
