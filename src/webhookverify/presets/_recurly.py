"""Recurly webhooks: ``recurly-signature: <t>,<hex>[,<hex>...]``, HMAC-SHA256
of ``{t}.{body}`` with ``t`` in milliseconds.

The header has no keys: the first comma-separated element is the timestamp,
every other one a signature (two while a secret is being regenerated). It
is read into Stripe's ``t=...,v1=...,v1=...`` layout and checked by an
``HmacVerifier``, so the window, the rotation and the errors are the
library's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from ..errors import MalformedHeader
from ..request import WebhookRequest
from ..verifiers._base import DEFAULT_TOLERANCE, Verification, single_header
from ._common import STRIPE_LAYOUT, HmacWrapper, SecretInput, hmac_preset

__all__ = ["RecurlyVerifier", "recurly"]

HEADER: Final = "recurly-signature"
# Recurly keeps the old and the new key valid for 24 hours after a secret is
# regenerated, so a header holds one or two signatures; a few more are allowed
# for a regeneration during another, no more so that a forged header cannot
# make a request cost many HMACs.
MAX_SIGNATURES: Final = 4
# Recurly's client libraries refuse a timestamp more than five minutes away
# (DEFAULT_WEBHOOK_TOLERANCE), both ways.
RECURLY_TOLERANCE: Final = 300.0


class RecurlyVerifier(HmacWrapper):
    """Verify ``recurly-signature: <t>,<hex>[,<hex>...]``.

    Args:
        secret: the endpoint's secret key(s), oldest first.
        secrets: several, for a rotation, instead of ``secret``.
        tolerance: how old ``t`` may be, in seconds.
        future_tolerance: how far ahead of the clock it may be.

    Raises:
        ConfigurationError: no secret, or a bad tolerance.
    """

    __slots__ = ()

    def __init__(
        self,
        *,
        secret: SecretInput | None = None,
        secrets: Iterable[SecretInput] | None = None,
        tolerance: float | None = RECURLY_TOLERANCE,
        future_tolerance: float | None = DEFAULT_TOLERANCE,
    ) -> None:
        inner = hmac_preset(
            "recurly",
            secret=secret,
            secrets=secrets,
            header=HEADER,
            header_format=STRIPE_LAYOUT,
            template="{timestamp}.{body}",
            encoding="hex_lower",
            timestamp_format="unix_ms",
            tolerance=tolerance,
            future_tolerance=future_tolerance,
        )
        super().__init__(inner)

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify the header's timestamp and any of its signatures.

        Returns:
            The :class:`Verification` of the signature that passed.

        Raises:
            VerificationError: no header; one that is not ``<t>,<sig>[,...]``
                (an element with ``=`` in it, an empty one, no signature, more
                than ``MAX_SIGNATURES``); a timestamp out of the window; or no
                signature that verifies.
        """
        parts = [part.strip() for part in single_header(request, HEADER).split(",")]
        if len(parts) < 2 or any(not part or "=" in part for part in parts):
            raise MalformedHeader(
                f"the {HEADER} header is not '<timestamp>,<signature>[,<signature>...]'",
                header=HEADER,
            )
        if len(parts) - 1 > MAX_SIGNATURES:
            raise MalformedHeader(f"the {HEADER} header has too many signatures", header=HEADER)
        stamp, signatures = parts[0], parts[1:]
        keyed = ",".join([f"t={stamp}", *(f"v1={signature}" for signature in signatures)])
        others = [(k, v) for k, v in request.headers.raw_items() if k.lower() != HEADER]
        return self._inner.verify(request.replace(headers=[*others, (HEADER, keyed)]), now)

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Return ``recurly-signature: <t>,<hex>`` for ``body`` (one signature).

        Raises:
            NoValidKey: no secret is valid at ``now``.
        """
        headers = self._inner.sign(body, now, **parts)
        stamp, signature = STRIPE_LAYOUT.parse(headers[HEADER], HEADER)[::-1]
        return {**headers, HEADER: f"{stamp},{signature[0]}"}

    def __repr__(self) -> str:
        return f"RecurlyVerifier(secrets=<{len(self.secrets)} hidden>)"


def recurly(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = RECURLY_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> RecurlyVerifier:
    """Recurly webhooks, JSON format (``recurly-signature``).

    Secret: the endpoint's *Secret key*, on *Integrations > Webhooks >
    Endpoints* of the Recurly app; each endpoint has its own. Only JSON
    webhooks are signed; XML ones carry no signature and are refused.

    Signed: ``{t}.{raw body}``, HMAC-SHA256, sent as ``recurly-signature:
    <t>,<lower-case hex>[,<lower-case hex>]``: the first element is the
    timestamp in **milliseconds**, the others signatures. After a secret is
    regenerated both keys sign for 24 hours, so the header holds two
    signatures; any may match, so list the key you have, or both with
    ``secrets=[old, new]``. ``t`` must lie within ``tolerance`` seconds in the
    past and ``future_tolerance`` in the future (300 each, Recurly's client
    libraries' five minutes).

    Replay id: content hash (timestamp and body); Recurly signs no delivery
    id apart from the body.

    Source: Recurly docs "Signature verification"
    (https://docs.recurly.com/recurly-subscriptions/docs/signature-verification)
    and the client libraries' ``verify_signature`` (recurly-client-ruby
    ``Recurly::Webhooks``, recurly-client-go ``VerifyWebhookSignature``);
    cross-checked against vectors built from the documented algorithm (the
    docs' example header comes without its body or key).

    Args:
        secret: the secret key, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        tolerance: seconds a timestamp may lie in the past; ``None`` turns
            the check off (by name only).
        future_tolerance: seconds it may lie ahead of this clock.

    Returns:
        A ``RecurlyVerifier`` reading ``recurly-signature``.

    Raises:
        ConfigurationError: a missing or empty secret, or a negative or
            non-numeric tolerance.
    """
    return RecurlyVerifier(
        secret=secret, secrets=secrets, tolerance=tolerance, future_tolerance=future_tolerance
    )
