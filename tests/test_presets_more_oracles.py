"""The providers' own SDKs as oracles, both ways, on random payloads.

Paddle (paddle-python-sdk), Box (box-sdk-gen), Razorpay (razorpay), Coinbase
Commerce (coinbase-commerce) and Mailgun (mailgun) publish Python SDKs with a
verify function: what they sign we verify, what we sign they accept, and on
tampered input both refuse. Where an SDK has no signing function, its own
verification is the oracle for both verdicts.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from webhookverify import VerificationError, WebhookRequest, presets

PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
SECRETS = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=48
)
BODIES = st.text(max_size=300)


def verdict(verifier: Any, request: WebhookRequest, now: float) -> bool:
    try:
        verifier.verify(request, now=now)
    except VerificationError:
        return False
    return True


# -- Paddle --------------------------------------------------------------------------------

paddle_sdk = pytest.importorskip("paddle_billing.Notifications")
from paddle_billing.Notifications.PaddleSignature import PaddleSignature  # noqa: E402


class _PaddleRequest:
    def __init__(self, headers: dict[str, str], body: bytes) -> None:
        self.headers = headers
        self.body = body


@PROPERTY
@given(body=BODIES, secret=SECRETS, other=SECRETS)
def test_paddle_sdk_signature_verifies_here(body: str, secret: str, other: str) -> None:
    now = int(time.time())
    h1 = PaddleSignature.calculate_hmac(secret, f"{now}:{body}".encode()).hexdigest()
    request = WebhookRequest(
        headers={"Paddle-Signature": f"ts={now};h1={h1}"}, body=body.encode(), received_at=now
    )
    presets.paddle(secret=secret).verify(request)
    assert verdict(presets.paddle(secrets=[other, secret]), request, now)
    if other != secret:
        assert not verdict(presets.paddle(secret=other), request, now)


@PROPERTY
@given(body=BODIES, secret=SECRETS, drift=st.integers(min_value=-20, max_value=20))
def test_paddle_signature_here_is_accepted_by_the_sdk(body: str, secret: str, drift: int) -> None:
    # Paddle's Verifier reads the clock itself; a drift of more than 5 s either
    # way is refused by both, anything closer accepted by both.
    assume(abs(abs(drift) - 5) > 1)  # keep clear of the boundary the clocks race on
    now = time.time()
    headers = presets.paddle(secret=secret).sign(body.encode(), now + drift)
    ours = verdict(
        presets.paddle(secret=secret), WebhookRequest(headers=headers, body=body.encode()), now
    )
    theirs = paddle_sdk.Verifier().verify(
        _PaddleRequest(headers, body.encode()), paddle_sdk.Secret(secret)
    )
    assert ours is theirs is (abs(drift) < 5)


# -- Box ------------------------------------------------------------------------------------

box_sdk = pytest.importorskip("box_sdk_gen.internal.utils")
from box_sdk_gen.managers.webhooks import WebhooksManager  # noqa: E402

BOX_TEXT = st.text(
    alphabet=st.sampled_from([*'ab /\\"{}:\n\t\r\x01\x7f', "\u00e9", "\u4e2d", "\U0001f600"]),
    max_size=80,
)
# Box sends JSON: documents as well as raw text, so that both verdicts of the
# escaped form are reached.
BOX_BODIES = st.one_of(
    BOX_TEXT, BOX_TEXT.map(lambda text: json.dumps({"name": text}, ensure_ascii=False))
)


def box_same_document(body: str) -> bool:
    """Whether the SDK's escaped form of ``body`` is the same JSON value as ``body``."""
    escaped = box_sdk.escape_unicode(body)
    if escaped == body:
        return True
    try:
        return bool(json.loads(body) == json.loads(escaped))
    except ValueError:
        return False


@PROPERTY
@given(body=BOX_BODIES, primary=SECRETS, secondary=SECRETS, escape=st.booleans())
def test_box_sdk_signature_verifies_here(
    body: str, primary: str, secondary: str, escape: bool
) -> None:
    # What the SDK signed in escaped form is accepted only where that form is
    # the same JSON document as the body: otherwise the signed text and the
    # delivered one mean different things ("C:\\new" signed as "C:\\\\new").
    now = int(time.time())
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 30))
    headers = {
        "box-delivery-timestamp": stamp,
        "box-signature-version": "1",
        "box-signature-algorithm": "HmacSHA256",
    }
    headers["box-signature-primary"] = box_sdk.compute_webhook_signature(
        body, headers, primary, escape_body=escape
    )
    headers["box-signature-secondary"] = box_sdk.compute_webhook_signature(
        body, headers, secondary, escape_body=escape
    )
    request = WebhookRequest(headers=headers, body=body.encode("utf-8"), received_at=now)
    accepted = not escape or box_same_document(body)
    both = presets.box(secret=primary, secondary_secret=secondary)
    assert verdict(both, request, now) is accepted
    other = presets.box(secret="not-" + primary, secondary_secret=secondary)
    assert verdict(other, request, now) is accepted
    assert not verdict(presets.box(secret="not-" + primary + secondary), request, now)
    assert WebhooksManager.validate_message(body, headers, primary, secondary_key=secondary)


@PROPERTY
@given(body=BOX_TEXT, primary=SECRETS, secondary=SECRETS, tamper=st.booleans())
def test_box_signature_here_is_accepted_by_the_sdk(
    body: str, primary: str, secondary: str, tamper: bool
) -> None:
    now = time.time()
    verifier = presets.box(secret=primary, secondary_secret=secondary)
    headers = verifier.sign(body.encode("utf-8"), now - 30)
    received = body + ("x" if tamper else "")
    theirs = WebhooksManager.validate_message(received, headers, primary, secondary_key=secondary)
    ours = verdict(verifier, WebhookRequest(headers=headers, body=received.encode()), now)
    assert ours is theirs is (not tamper)


def test_box_sdk_and_we_agree_on_the_future() -> None:
    now = time.time()
    verifier = presets.box(secret="k", future_tolerance=0)
    headers = verifier.sign(b"{}", now + 120)
    assert not WebhooksManager.validate_message("{}", headers, "k")
    assert not verdict(verifier, WebhookRequest(headers=headers, body=b"{}"), now)
    # the preset's default allows the library's 300 s of clock skew
    assert verdict(presets.box(secret="k"), WebhookRequest(headers=headers, body=b"{}"), now)


# -- Razorpay -------------------------------------------------------------------------------

razorpay = pytest.importorskip("razorpay")


@PROPERTY
@given(body=BODIES, secret=SECRETS, tamper=st.booleans())
def test_razorpay_sdk_and_we_agree(body: str, secret: str, tamper: bool) -> None:
    utility = razorpay.Utility(None)
    signature = presets.razorpay(secret=secret).sign(body.encode())["X-Razorpay-Signature"]
    received = body + ("!" if tamper else "")
    try:
        theirs = utility.verify_webhook_signature(received, signature, secret)
    except razorpay.errors.SignatureVerificationError:
        theirs = False
    request = WebhookRequest(headers={"X-Razorpay-Signature": signature}, body=received.encode())
    assert verdict(presets.razorpay(secret=secret), request, 0) is theirs is (not tamper)


# -- Coinbase Commerce ---------------------------------------------------------------------

coinbase = pytest.importorskip("coinbase_commerce.webhook")
from coinbase_commerce.error import SignatureVerificationError  # noqa: E402


@PROPERTY
@given(body=BODIES, secret=SECRETS, other=SECRETS)
def test_coinbase_sdk_and_we_agree(body: str, secret: str, other: str) -> None:
    theirs = coinbase.WebhookSignature._compute_signature(body, secret)
    request = WebhookRequest(headers={"X-CC-Webhook-Signature": theirs}, body=body.encode())
    presets.coinbase_commerce(secret=secret).verify(request)
    ours = presets.coinbase_commerce(secret=other).sign(body.encode())["X-CC-Webhook-Signature"]
    if other == secret:
        assert coinbase.WebhookSignature.verify_sig_header(body, ours, secret)
    else:
        with pytest.raises(SignatureVerificationError):
            coinbase.WebhookSignature.verify_sig_header(body, ours, secret)
        assert not verdict(presets.coinbase_commerce(secret=other), request, 0)


# -- Mailgun --------------------------------------------------------------------------------

mailgun_security = pytest.importorskip("mailgun.security")


@PROPERTY
@given(
    secret=SECRETS,
    token=st.text(alphabet="0123456789abcdef", min_size=50, max_size=50),
    drift=st.integers(min_value=-1000, max_value=1000),
    tamper=st.sampled_from([None, "token", "timestamp", "signature"]),
)
def test_mailgun_sdk_and_we_agree(secret: str, token: str, drift: int, tamper: str | None) -> None:
    assume(abs(abs(drift) - 900) > 2)  # keep clear of the boundary the clocks race on
    now = time.time()
    verifier = presets.mailgun(secret=secret)
    document = json.loads(verifier.signed_body({"event": "delivered"}, now + drift, token=token))
    fields = document["signature"]
    if tamper == "token":
        fields["token"] = token[::-1] if token != token[::-1] else token + "0"
    elif tamper == "timestamp":
        fields["timestamp"] = str(int(fields["timestamp"]) + 1)
    elif tamper == "signature":
        fields["signature"] = fields["signature"][::-1]
    theirs = mailgun_security.SecurityGuard.verify_webhook(
        secret, fields["token"], fields["timestamp"], fields["signature"]
    )
    request = WebhookRequest(
        headers={"Content-Type": "application/json"}, body=json.dumps(document).encode()
    )
    ours = verdict(verifier, request, now)
    assert ours is theirs is (tamper is None and abs(drift) < 900)
