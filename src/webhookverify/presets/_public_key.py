"""Senders that sign with a private key and publish the public one: Discord
and Telnyx (Ed25519), and Twilio SendGrid (ECDSA P-256).

These presets load ``cryptography`` when called, not when
``webhookverify.presets`` is imported. Senders whose keys must be fetched
from a URL they publish are not here: the key is configured, never fetched.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..verifiers._base import DEFAULT_TOLERANCE
from ._common import owner_of, scheme_of

if TYPE_CHECKING:
    from ..verifiers.asymmetric import PrivateKeyInput, PublicKeyInput, PublicKeyVerifier

__all__ = ["discord", "sendgrid", "telnyx"]

# Telnyx's SDK refuses a timestamp more than 300 s old
# (telnyx-python ``telnyx/webhook.py``, ``Webhook.DEFAULT_TOLERANCE``).
TELNYX_TOLERANCE = 300.0


def discord(
    *,
    public_key: PublicKeyInput | None = None,
    public_keys: Iterable[PublicKeyInput] | None = None,
    private_key: PrivateKeyInput | None = None,
    tolerance: float | None = DEFAULT_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> PublicKeyVerifier:
    """Discord interactions sent to an "Interactions Endpoint URL".

    Where the key is: Discord Developer Portal → Applications → the app →
    General Information → "Public Key" (64 hex digits).

    What is signed: Ed25519 over ``X-Signature-Timestamp`` (unix seconds)
    immediately followed by the raw body, no separator; the signature is in
    ``X-Signature-Ed25519`` as hex.

    What differs: Discord first sends a PING interaction (``"type": 1``) that
    must be answered ``{"type": 1}`` (PONG) in the response body, and keeps
    sending requests with deliberately bad signatures that must be refused
    with 401, or it removes the endpoint. Discord documents no tolerance
    and does not retry; the library's five minutes apply.

    Replay id: the signed ``id`` field of the body (the interaction's
    snowflake), read after the signature has passed (a body without it:
    content hash).

    Args:
        public_key / public_keys: the application's public key(s).
        private_key: a 32-byte Ed25519 seed, only to sign in tests.
        tolerance: seconds a timestamp may be old (default 300).
        future_tolerance: seconds it may be ahead (default 300).
    """
    from ..verifiers.asymmetric import PublicKeyVerifier

    return PublicKeyVerifier(
        algorithm="ed25519",
        public_key=public_key,
        public_keys=public_keys,
        private_key=private_key,
        header="X-Signature-Ed25519",
        encoding="hex",
        template="{timestamp}{body}",
        timestamp_header="X-Signature-Timestamp",
        id_field="id",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        scheme=scheme_of("discord", "ed25519"),
        owner=owner_of("discord"),
    )


def sendgrid(
    *,
    public_key: PublicKeyInput | None = None,
    public_keys: Iterable[PublicKeyInput] | None = None,
    private_key: PrivateKeyInput | None = None,
    tolerance: float | None = DEFAULT_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> PublicKeyVerifier:
    """Twilio SendGrid's Signed Event Webhook.

    Where the key is: SendGrid → Settings → Mail Settings → Event Webhooks →
    the webhook → Security features → "Enable Signed Event Webhook", then
    Save; the "Verification Key" is shown there (base64 DER
    SubjectPublicKeyInfo, no PEM armour: paste it as is).

    What is signed: ECDSA P-256 with SHA-256 over
    ``X-Twilio-Email-Event-Webhook-Timestamp`` immediately followed by the
    raw body; ``X-Twilio-Email-Event-Webhook-Signature`` holds the DER
    signature in base64.

    What differs: the body often ends with CRLF, which is signed: verify the
    raw bytes, never re-serialised JSON. SendGrid documents no tolerance
    (its SDKs check none); the library's five minutes apply.

    Replay id: content hash. The body is a batch (a JSON array) of events,
    each with its own ``sg_event_id``; no one id names the delivery, so a
    retry signed again with a new timestamp is not recognised.

    Args:
        public_key / public_keys: the verification key(s), oldest first.
        private_key: a P-256 private key, only to sign in tests.
        tolerance: seconds a timestamp may be old (default 300).
        future_tolerance: seconds it may be ahead (default 300).
    """
    from ..verifiers.asymmetric import PublicKeyVerifier

    return PublicKeyVerifier(
        algorithm="ecdsa-p256-sha256",
        signature_format="der",
        public_key=public_key,
        public_keys=public_keys,
        private_key=private_key,
        header="X-Twilio-Email-Event-Webhook-Signature",
        encoding="base64",
        template="{timestamp}{body}",
        timestamp_header="X-Twilio-Email-Event-Webhook-Timestamp",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        scheme=scheme_of("sendgrid", "ecdsa"),
        owner=owner_of("sendgrid"),
    )


def telnyx(
    *,
    public_key: PublicKeyInput | None = None,
    public_keys: Iterable[PublicKeyInput] | None = None,
    private_key: PrivateKeyInput | None = None,
    tolerance: float | None = TELNYX_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> PublicKeyVerifier:
    """Telnyx API v2 webhooks, signed with Ed25519.

    Where the key is: Telnyx Mission Control Portal → Account Settings →
    Keys & Credentials → Public Key (the raw 32-byte Ed25519 key in base64;
    paste it as is).

    What is signed: Ed25519 over ``telnyx-timestamp`` (unix seconds), a
    ``|`` and the raw body; ``telnyx-signature-ed25519`` holds the 64-byte
    signature in base64.

    What differs: the separator is a pipe, not a dot. Telnyx's SDK refuses a
    timestamp more than 300 s old and bounds only the past; the future is
    bounded by the library default (300 s).

    Replay id: the signed ``data.id`` field of the body (the event's id, the
    same on every retry; ``meta.attempt`` changes), read after the signature
    has passed; a body without it falls back to the content hash.

    Source: team-telnyx/telnyx-python ``telnyx/webhook.py``
    (``WebhookSignature.verify``) and ``tests/test_webhook.py``, whose signer
    is replayed with PyNaCl as an oracle in the tests.

    Args:
        public_key / public_keys: the account's public key(s), oldest first.
        private_key: a 32-byte Ed25519 seed, only to sign in tests.
        tolerance: seconds a timestamp may be old (default 300).
        future_tolerance: seconds it may be ahead (default 300).

    Returns:
        A ``PublicKeyVerifier`` reading ``telnyx-signature-ed25519`` and
        ``telnyx-timestamp``.

    Raises:
        ConfigurationError: no key, a key that cannot be read as Ed25519, or a
            negative or non-numeric tolerance.
    """
    from ..verifiers.asymmetric import PublicKeyVerifier

    return PublicKeyVerifier(
        algorithm="ed25519",
        public_key=public_key,
        public_keys=public_keys,
        private_key=private_key,
        header="telnyx-signature-ed25519",
        encoding="base64",
        template="{timestamp}|{body}",
        timestamp_header="telnyx-timestamp",
        id_field=("data", "id"),
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        scheme=scheme_of("telnyx", "ed25519"),
        owner=owner_of("telnyx"),
    )
