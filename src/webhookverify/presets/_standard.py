"""Standard Webhooks and its adopters: Svix, and through Svix Clerk and
Resend; GitLab's signing tokens; Replicate.

All sign ``{id}.{timestamp}.{body}`` as the specification says
(https://www.standardwebhooks.com, ``v1`` HMAC-SHA256 with the base64-decoded
``whsec_`` secret, ``v1a`` Ed25519) and differ only in header names and
defaults. ``Verification.scheme`` is the preset's name followed by the version
that passed: ``svix-v1``, ``standard-webhooks-v1a``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..routing import body_event_type
from ..verifiers._base import DEFAULT_TOLERANCE
from ..verifiers.standard import StandardWebhooksVerifier
from ._common import SecretInput, owner_of, scheme_of
from ._protocol import StandardPreset, speaks

if TYPE_CHECKING:
    from ..verifiers.asymmetric import PrivateKeyInput, PublicKeyInput

__all__ = ["clerk", "gitlab_signing", "replicate", "resend", "standard_webhooks", "svix"]

# Standard Webhooks' own libraries, Svix's, and through them Clerk's and
# Resend's, accept timestamps up to five minutes old or ahead.
STANDARD_WEBHOOKS_TOLERANCE = 300.0

# The specification's payload names its event in the signed body's ``type``
# (``user.created``); Svix, Clerk and Resend follow it.
_TYPE = body_event_type("type")


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

    Event type: the signed body's ``type`` (``user.created``), as the
    specification's payload structure has it.

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
    verifier = StandardPreset(
        secret=secret,
        secrets=secrets,
        public_key=public_key,
        public_keys=public_keys,
        private_key=private_key,
        header_prefix=header_prefix,
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        scheme=scheme_of("standard_webhooks"),
        owner=owner_of("standard_webhooks"),
    )
    return speaks(verifier, None, _TYPE)


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

    Event type: the signed body's ``type`` (``invoice.paid``).

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
    verifier = StandardPreset(
        secret=secret,
        secrets=secrets,
        public_key=public_key,
        public_keys=public_keys,
        private_key=private_key,
        header_prefix=header_prefix,
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        scheme=scheme_of("svix"),
        owner=owner_of("svix"),
    )
    return speaks(verifier, None, _TYPE)


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
        scheme=scheme_of("gitlab_signing"),
        owner=owner_of("gitlab_signing"),
    )


def replicate(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = STANDARD_WEBHOOKS_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> StandardWebhooksVerifier:
    """Replicate prediction and training webhooks (Standard Webhooks).

    Where the secret is: one per account or organisation, not per webhook:
    ``GET https://api.replicate.com/v1/webhooks/default/secret`` returns
    ``{"key": "whsec_..."}``. Pass the whole ``whsec_`` text.

    What is signed: ``{webhook-id}.{webhook-timestamp}.{body}``,
    HMAC-SHA256 with the base64-decoded ``whsec_`` secret, sent as
    ``webhook-signature: v1,<base64>`` (several, space-separated): Standard
    Webhooks ``v1``, with the unbranded ``webhook-`` headers.

    What differs: nothing from the specification. Replicate asks receivers
    to check the timestamp against replay without naming a window; the
    specification's five minutes apply, both ways.

    Replay id: ``webhook-id``, a header the signature covers, the same when
    Replicate resends a message.

    Source: Replicate docs "Verify webhooks"
    (https://replicate.com/docs/topics/webhooks/verify-webhook); cross-checked
    against the ``standardwebhooks`` library as an oracle in the tests.

    Args:
        secret / secrets: the ``whsec_`` secret(s), oldest first.
        tolerance: seconds a timestamp may be old (default 300).
        future_tolerance: seconds it may be ahead (default 300).

    Returns:
        A ``StandardWebhooksVerifier`` reading the ``webhook-`` headers.

    Raises:
        ConfigurationError: no secret, or one that is not ``whsec_`` base64.
    """
    return StandardWebhooksVerifier(
        secret=secret,
        secrets=secrets,
        header_prefix="webhook-",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        scheme=scheme_of("replicate"),
        owner=owner_of("replicate"),
    )


def _through_svix(
    name: str,
    secret: SecretInput | None,
    secrets: Iterable[SecretInput] | None,
    tolerance: float | None,
    future_tolerance: float | None,
) -> StandardWebhooksVerifier:
    """A sender that delivers through Svix with ``v1`` secrets: ``svix-`` headers."""
    verifier = StandardPreset(
        secret=secret,
        secrets=secrets,
        header_prefix="svix-",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        scheme=scheme_of(name),
        owner=owner_of(name),
    )
    return speaks(verifier, None, _TYPE)
