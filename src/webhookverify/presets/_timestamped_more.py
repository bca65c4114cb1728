"""More senders that sign a timestamp with the body, HMAC over a signed
message: Mux and Sanity in Stripe's ``t=...,v1=...`` layout, Webflow and
Lob with the timestamp in a header of its own.

They sit apart from ``_timestamped`` only to keep each module short; each
preset pins the provider's header, message template, encoding and window as
``_timestamped`` does.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..verifiers import HmacVerifier
from ..verifiers._base import DEFAULT_TOLERANCE
from ._common import STRIPE_LAYOUT, SecretInput, hmac_preset

__all__ = ["lob", "mux", "sanity", "webflow"]

# Mux's SDKs refuse a timestamp more than 300 s old (@mux/mux-node
# ``verifySignature``, DEFAULT_TOLERANCE = 300; its test refuses one 6 minutes old).
MUX_TOLERANCE = 300.0
# Sanity's toolkit checks no window at all; the library's five minutes apply.
SANITY_TOLERANCE = DEFAULT_TOLERANCE
# Webflow: "If the request is older than 5 minutes, this may indicate a replay
# attack" (docs "Verifying Requests"); its sample refuses anything older.
WEBFLOW_TOLERANCE = 300.0
# Lob's docs tell receivers to refuse a timestamp older than five minutes
# ("Using webhooks > Securing your endpoint").
LOB_TOLERANCE = 300.0


def mux(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = MUX_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> HmacVerifier:
    """Mux webhooks (``Mux-Signature: t=...,v1=...``).

    Secret: *Mux Dashboard > Settings > Webhooks > (the webhook) > Show
    Signing Secret*; each webhook has its own, used as typed.

    Signed: ``{t}.{raw body}``, HMAC-SHA256, lower-case hex in each ``v1=``
    entry of ``Mux-Signature: t=<unix>,v1=<hex>``; any ``v1`` may match, and
    entries of other versions (``v2=``) are ignored. ``t`` must lie within
    ``tolerance`` seconds in the past (300, Mux's SDK default) and
    ``future_tolerance`` in the future (the library default 300 s; Mux bounds
    only the past).

    Replay id: the signed ``id`` field of the body (the event's id, the same
    on every retry), read after the signature has passed; the body's
    ``attempts`` list grows on each retry, so the content hash would not
    recognise one. A body without it falls back to the content hash.

    Source: Mux docs "Verify webhook signatures"
    (https://www.mux.com/docs/core/verify-webhook-signatures) and muxinc/mux-node-sdk
    ``tests/api-resources/webhooks.test.ts`` (``verifySignature``), whose
    vector is in the tests.

    Args:
        secret: the secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        tolerance: seconds a timestamp may lie in the past; ``None`` turns
            the check off (by name only).
        future_tolerance: seconds it may lie ahead of this clock.

    Returns:
        An ``HmacVerifier`` reading ``Mux-Signature``.

    Raises:
        ConfigurationError: a missing or empty secret, or a negative or
            non-numeric tolerance.
    """
    return hmac_preset(
        "mux",
        secret=secret,
        secrets=secrets,
        header="Mux-Signature",
        header_format=STRIPE_LAYOUT,
        template="{timestamp}.{body}",
        encoding="hex_lower",
        id_field="id",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
    )


def sanity(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = SANITY_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> HmacVerifier:
    """Sanity GROQ-powered webhooks (``sanity-webhook-signature``).

    Secret: the *Secret* you set on the webhook in *sanity.io/manage >
    (the project) > API > Webhooks > (the webhook) > Edit*; Sanity signs only
    when one is set.

    Signed: ``{t}.{raw body}``, HMAC-SHA256, sent as
    ``sanity-webhook-signature: t=<unix milliseconds>,v1=<base64url>``, the
    digest in URL-safe base64 without padding. ``t`` is in **milliseconds**.
    Sanity's toolkit checks no window; the library's five minutes apply,
    both ways.

    Replay id: content hash. The body is the webhook's own GROQ projection,
    with no id Sanity vouches for, and the ``idempotency-key`` header is not
    signed, so it is never read: make the listener idempotent.

    Source: Sanity docs "GROQ-powered webhooks > Security"
    (https://www.sanity.io/docs/webhooks) and sanity-io/webhook-toolkit
    ``src/signature.ts`` and ``test/signature.test.ts``, whose vectors are in
    the tests.

    Args:
        secret: the secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        tolerance: seconds a timestamp may lie in the past; ``None`` turns
            the check off (by name only).
        future_tolerance: seconds it may lie ahead of this clock.

    Returns:
        An ``HmacVerifier`` reading ``sanity-webhook-signature``.

    Raises:
        ConfigurationError: a missing or empty secret, or a negative or
            non-numeric tolerance.
    """
    return hmac_preset(
        "sanity",
        secret=secret,
        secrets=secrets,
        header="sanity-webhook-signature",
        header_format=STRIPE_LAYOUT,
        template="{timestamp}.{body}",
        encoding="base64url",
        timestamp_format="unix_ms",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
    )


def webflow(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = WEBFLOW_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> HmacVerifier:
    """Webflow webhooks (``x-webflow-signature``, ``x-webflow-timestamp``).

    Secret: the OAuth application's *Client Secret* (*Workspace settings >
    Apps & Integrations > (the app)*), or the ``secret`` Webflow returned when
    the webhook was created through the API. Webhooks created in a site's
    dashboard or with a site token are not signed at all: this preset refuses
    them, as it should.

    Signed: ``{t}:{raw body}`` (a **colon**), HMAC-SHA256, lower-case hex in
    ``x-webflow-signature``; ``t`` is ``x-webflow-timestamp``, in
    **milliseconds**, and must lie within ``tolerance`` seconds in the past
    (300, Webflow's five minutes) and ``future_tolerance`` in the future.

    Replay id: content hash (timestamp and body); the body names the trigger
    and its object, not the delivery.

    Source: Webflow docs "Verifying Requests"
    (https://developers.webflow.com/docs/verifying-webhook-signatures)
    and webflow-api ``webhooks.verifySignature``, whose verdicts it is
    checked against (the docs' example shows a signature but neither its
    body nor its secret).

    Args:
        secret: the secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        tolerance: seconds a timestamp may lie in the past; ``None`` turns
            the check off (by name only).
        future_tolerance: seconds it may lie ahead of this clock.

    Returns:
        An ``HmacVerifier`` reading ``x-webflow-signature`` and
        ``x-webflow-timestamp``.

    Raises:
        ConfigurationError: a missing or empty secret, or a negative or
            non-numeric tolerance.
    """
    return hmac_preset(
        "webflow",
        secret=secret,
        secrets=secrets,
        header="x-webflow-signature",
        timestamp_header="x-webflow-timestamp",
        template="{timestamp}:{body}",
        encoding="hex_lower",
        timestamp_format="unix_ms",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
    )


def lob(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = LOB_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> HmacVerifier:
    """Lob webhooks (``Lob-Signature``, ``Lob-Signature-Timestamp``).

    Secret: the webhook's *Secret* in *Dashboard > Webhooks > (the
    webhook)*, used as typed; Test and Live webhooks have their own.

    Signed: ``{t}.{raw body}``, HMAC-SHA256, lower-case hex in
    ``Lob-Signature``; ``t`` is ``Lob-Signature-Timestamp``, in
    **milliseconds**, and must lie within ``tolerance`` seconds in the past
    (300, Lob's five minutes) and ``future_tolerance`` in the future.

    Replay id: the signed ``id`` field of the body (the event's ``evt_``
    id), read after the signature has passed: a retry is signed again at a
    later time, so the content hash would not recognise it. A body without
    it falls back to the content hash.

    Source: Lob Help Center "Using webhooks > Securing your endpoint"
    (https://help.lob.com/print-and-mail/getting-data-and-results/using-webhooks)
    and the Lob API reference "Webhooks"
    (https://docs.lob.com/#tag/Webhooks); cross-checked against vectors built
    from that algorithm (Lob publishes no test vector and its SDKs do not
    verify webhooks).

    Args:
        secret: the secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        tolerance: seconds a timestamp may lie in the past; ``None`` turns
            the check off (by name only).
        future_tolerance: seconds it may lie ahead of this clock.

    Returns:
        An ``HmacVerifier`` reading ``Lob-Signature`` and
        ``Lob-Signature-Timestamp``.

    Raises:
        ConfigurationError: a missing or empty secret, or a negative or
            non-numeric tolerance.
    """
    return hmac_preset(
        "lob",
        secret=secret,
        secrets=secrets,
        header="Lob-Signature",
        timestamp_header="Lob-Signature-Timestamp",
        template="{timestamp}.{body}",
        encoding="hex_lower",
        timestamp_format="unix_ms",
        id_field="id",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
    )
