"""Presets for Standard Webhooks and its family (Svix, Clerk, Resend, GitLab
signing tokens), and for the public-key senders (Discord, SendGrid).

The public-key presets load ``cryptography`` when called, not when
``webhookverify.presets`` is imported.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..keys import Secret
from ..verifiers._base import DEFAULT_TOLERANCE
from ..verifiers.standard import StandardWebhooksVerifier

if TYPE_CHECKING:
    from ..verifiers.asymmetric import PrivateKeyInput, PublicKeyInput, PublicKeyVerifier

__all__ = [
    "clerk",
    "discord",
    "gitlab_signing",
    "resend",
    "sendgrid",
    "standard_webhooks",
    "svix",
]

# Standard Webhooks' own libraries, Svix's, and through them Clerk's and
# Resend's, accept timestamps up to five minutes old or ahead.
STANDARD_WEBHOOKS_TOLERANCE = 300.0

SecretInput = Secret | str | bytes


def standard_webhooks(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    public_key: PublicKeyInput | None = None,
    public_keys: Iterable[PublicKeyInput] | None = None,
    private_key: PrivateKeyInput | None = None,
    tolerance: float | None = STANDARD_WEBHOOKS_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
    header_prefix: str = "webhook-",
) -> StandardWebhooksVerifier:
    """Any sender that follows the Standard Webhooks specification.

    Where the secret is: the sender's webhook (endpoint) settings show a
    ``whsec_...`` signing secret for ``v1`` signatures, or a ``whpk_...``
    public key for ``v1a`` (Ed25519) signatures.

    What is signed: ``{webhook-id}.{webhook-timestamp}.{body}``; the
    ``webhook-signature`` header lists ``v1,<base64>`` and/or
    ``v1a,<base64>`` entries separated by spaces (several while the sender
    rotates keys).

    What differs: the ``whsec_`` secret is base64-decoded and the decoded
    bytes are the HMAC key (Stripe's ``whsec_`` secrets, by contrast, are used
    as typed).

    Replay id: ``webhook-id`` (with ``header_prefix``), a header the
    signature covers and the same on every retry.

    Args:
        secret / secrets: ``whsec_`` secret(s), oldest first, for ``v1``.
        public_key / public_keys: ``whpk_`` key(s) for ``v1a``.
        private_key: a ``whsk_`` key, only to sign ``v1a`` in tests.
        tolerance: seconds a timestamp may be old (default 300, the
            specification's); ``None`` turns the check off.
        future_tolerance: seconds it may be ahead (default 300).
        header_prefix: ``webhook-``; some senders brand the headers.

    Raises:
        ConfigurationError: no key, or a key that cannot be read.
    """
    return StandardWebhooksVerifier(
        secret=secret,
        secrets=secrets,
        public_key=public_key,
        public_keys=public_keys,
        private_key=private_key,
        header_prefix=header_prefix,
        tolerance=tolerance,
        future_tolerance=future_tolerance,
    )


def svix(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    public_key: PublicKeyInput | None = None,
    public_keys: Iterable[PublicKeyInput] | None = None,
    private_key: PrivateKeyInput | None = None,
    tolerance: float | None = STANDARD_WEBHOOKS_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
    header_prefix: str = "svix-",
) -> StandardWebhooksVerifier:
    """Svix, and any application that sends its webhooks through Svix.

    Where the secret is: the Svix app portal (or the sending application's
    webhook page built on it), on the endpoint's page: "Signing Secret",
    ``whsec_...``.

    What is signed: ``{svix-id}.{svix-timestamp}.{body}``, exactly as
    Standard Webhooks; ``svix-signature`` lists ``v1,<base64>`` entries.

    What differs: only the header names (``svix-id``, ``svix-timestamp``,
    ``svix-signature``). Svix can also send the unbranded ``webhook-*``
    names; pass ``header_prefix="webhook-"`` for such endpoints. Svix
    endpoints configured for asymmetric signing send ``v1a`` with a
    ``whpk_`` public key.

    Replay id: ``svix-id``, a header the signature covers and the same on
    every retry.

    Args:
        secret / secrets: ``whsec_`` secret(s), oldest first.
        public_key / public_keys: ``whpk_`` key(s), for ``v1a`` endpoints.
        private_key: a ``whsk_`` key, only to sign ``v1a`` in tests.
        tolerance: seconds a timestamp may be old (default 300, Svix's).
        future_tolerance: seconds it may be ahead (default 300).
        header_prefix: ``svix-`` (default) or ``webhook-``.
    """
    return StandardWebhooksVerifier(
        secret=secret,
        secrets=secrets,
        public_key=public_key,
        public_keys=public_keys,
        private_key=private_key,
        header_prefix=header_prefix,
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        scheme="svix",
    )


def clerk(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = STANDARD_WEBHOOKS_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> StandardWebhooksVerifier:
    """Clerk, which delivers its webhooks through Svix.

    Where the secret is: Clerk Dashboard → Configure → Webhooks → the
    endpoint → "Signing Secret" (``whsec_...``; Clerk's examples read it
    from ``CLERK_WEBHOOK_SIGNING_SECRET``).

    What is signed: ``{svix-id}.{svix-timestamp}.{body}`` (Svix's scheme).

    What differs: nothing from Svix.

    Replay id: ``svix-id``, the Svix message id: a header the signature
    covers and the same on every retry.

    Args:
        secret / secrets: ``whsec_`` secret(s), oldest first.
        tolerance: seconds a timestamp may be old (default 300, Svix's).
        future_tolerance: seconds it may be ahead (default 300).
    """
    return _through_svix("clerk", secret, secrets, tolerance, future_tolerance)


def resend(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = STANDARD_WEBHOOKS_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> StandardWebhooksVerifier:
    """Resend, which delivers its webhooks through Svix.

    Where the secret is: Resend dashboard → Webhooks → the webhook →
    "Signing Secret" (``whsec_...``).

    What is signed: ``{svix-id}.{svix-timestamp}.{body}`` (Svix's scheme).

    What differs: Resend's own SDK compares only the base64 part of each
    entry and ignores the version label; this preset, like Svix's
    libraries, only accepts ``v1`` entries.

    Replay id: ``svix-id``, a header the signature covers and the same on
    every retry.

    Args:
        secret / secrets: ``whsec_`` secret(s), oldest first.
        tolerance: seconds a timestamp may be old (default 300, Svix's).
        future_tolerance: seconds it may be ahead (default 300).
    """
    return _through_svix("resend", secret, secrets, tolerance, future_tolerance)


def gitlab_signing(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = STANDARD_WEBHOOKS_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> StandardWebhooksVerifier:
    """GitLab webhooks with a signing token (GitLab 19.0 and later).

    Where the secret is: the project's (or group's, or the instance's system
    hook) Settings → Webhooks → the webhook → "Signing token", a
    ``whsec_`` + base64 of 32 random bytes. It is shown once, when set.

    What is signed: ``{webhook-id}.{webhook-timestamp}.{body}``, HMAC-SHA256,
    sent as ``webhook-signature: v1,<base64>``: Standard Webhooks ``v1``.

    What differs: ``webhook-id`` equals GitLab's ``Idempotency-Key`` header,
    the same on every retry. GitLab sends ``webhook-id`` and
    ``webhook-timestamp`` on every delivery but ``webhook-signature`` only
    when a signing token is configured. The older "Secret token"
    (``X-Gitlab-Token``) is a plain shared token that signs nothing; it is
    a different preset. GitLab documents no tolerance, so the Standard
    Webhooks five minutes apply.

    Replay id: ``webhook-id``, a header the signature covers (equal to the
    unsigned ``Idempotency-Key``, which is not read).

    Args:
        secret / secrets: the ``whsec_`` signing token(s), oldest first.
        tolerance: seconds a timestamp may be old (default 300).
        future_tolerance: seconds it may be ahead (default 300).
    """
    return StandardWebhooksVerifier(
        secret=secret,
        secrets=secrets,
        header_prefix="webhook-",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        scheme="gitlab",
    )


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
        scheme="discord-ed25519",
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
        scheme="sendgrid-ecdsa",
    )


def _through_svix(
    scheme: str,
    secret: SecretInput | None,
    secrets: Iterable[SecretInput] | None,
    tolerance: float | None,
    future_tolerance: float | None,
) -> StandardWebhooksVerifier:
    """A sender that delivers through Svix with ``v1`` secrets: ``svix-`` headers."""
    return StandardWebhooksVerifier(
        secret=secret,
        secrets=secrets,
        header_prefix="svix-",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        scheme=scheme,
    )
