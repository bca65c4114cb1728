"""More senders that sign the raw body with an HMAC and nothing else, and
Close, which signs a timestamp with it: Help Scout (HMAC-SHA1, base64),
Discourse (``sha256=<hex>``), Segment (HMAC-SHA1, hex), Squarespace and
Close (a hex secret, hex-decoded into the key).

They sit apart from ``_raw_hmac_apps`` only to keep each module short.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..verifiers import HmacVerifier
from ..verifiers._base import DEFAULT_TOLERANCE
from ._common import SecretInput, hex_secrets, hmac_preset

__all__ = ["close", "discourse", "help_scout", "segment", "squarespace"]

# Close documents no window; the library's five minutes apply.
CLOSE_TOLERANCE = DEFAULT_TOLERANCE


def help_scout(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Help Scout webhooks (Mailbox API webhooks).

    Secret: the *Secret Key* of the webhook in *Manage > Apps > Webhooks*
    (or the ``secret`` given to *Create Webhook*), used as typed.

    Signed: the raw body, **HMAC-SHA1**, standard base64 in
    ``X-HelpScout-Signature``. SHA-1 is what Help Scout signs with; as an
    HMAC it is still not forgeable without the key.

    Replay id: content hash; the body names the conversation or customer,
    not the delivery.

    Source: Help Scout docs "Webhooks > Verifying"
    (https://developer.helpscout.com/webhooks/) and helpscout/helpscout-api-php
    ``examples/dynamic-custom-app.php`` (``base64_encode(hash_hmac('sha1',
    body, key, true))``); checked against the verdicts of that SDK's
    ``IncomingWebhook`` (Help Scout publishes no test vector).
    """
    return hmac_preset(
        "help_scout",
        secret=secret,
        secrets=secrets,
        algorithm="sha1",
        header="X-HelpScout-Signature",
        encoding="base64",
    )


def discourse(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Discourse webhooks.

    Secret: the *Secret* of the webhook in *Admin > API > Webhooks > (the
    webhook)*, used as typed. A webhook without one sends no signature,
    which is refused: set a secret.

    Signed: the raw body, HMAC-SHA256, ``X-Discourse-Event-Signature:
    sha256=<lower-case hex>``.

    Replay id: content hash; ``X-Discourse-Event-Id`` names the event but is
    not signed, so it is not used.

    Source: discourse/discourse ``app/jobs/regular/emit_web_hook_event.rb``
    (``"sha256=#{OpenSSL::HMAC.hexdigest("sha256", secret, body)}"``) and
    Discourse Meta "Setting up webhooks"
    (https://meta.discourse.org/t/setting-up-webhooks/49045); cross-checked
    against vectors built from that code.
    """
    return hmac_preset(
        "discourse",
        secret=secret,
        secrets=secrets,
        header="X-Discourse-Event-Signature",
        encoding="hex_lower",
        prefix="sha256=",
    )


def segment(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Segment's Webhooks destinations (Actions and Classic), ``X-Signature``.

    Secret: the destination's *Shared Secret* (*Settings > Advanced
    Settings*), used as typed. A destination without one sends no
    signature, which is refused: set a secret.

    Signed: the raw body, **HMAC-SHA1**, lower-case hex in ``X-Signature``.
    SHA-1 is what Segment signs with; as an HMAC it is still not forgeable
    without the key. Segment signs ``JSON.stringify`` of the event it sends,
    which is the body of an unbatched request. With batching on, Segment
    signs only the **first** event of the batch, not the body it sends
    (Twilio support, "How Segment computes x-signature for batched
    webhooks"): such a request is refused here, since the rest of its body
    is not covered. Turn batching off for a verified destination.

    Replay id: content hash; the event's ``messageId`` is signed with the
    body, and a retry keeps the body.

    Source: Segment docs "Webhooks (Actions) Destination > Authentication"
    (https://segment.com/docs/connections/destinations/catalog/actions-webhook/)
    and segmentio/action-destinations
    ``packages/destination-actions/src/destinations/webhook/index.ts``
    (``createHmac('sha1', sharedSecret).update(JSON.stringify(payload.data))
    .digest('hex')``); cross-checked against vectors built from that code
    (Segment publishes no test vector and no SDK that verifies).
    """
    return hmac_preset(
        "segment",
        secret=secret,
        secrets=secrets,
        algorithm="sha1",
        header="X-Signature",
        encoding="hex_lower",
    )


def squarespace(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Squarespace webhooks (Commerce / Webhook Subscriptions API).

    Secret: the ``secret`` that *Create a webhook subscription* (or *Rotate
    a subscription secret*) returns, as hex text. It is **hex-decoded**
    into the HMAC key, as Squarespace's documentation says (a ``Secret`` or
    bytes are taken as the key itself).

    Signed: the raw body, HMAC-SHA256, hex in ``Squarespace-Signature``
    (either case is read).

    Replay id: content hash; the body's ``id`` is signed with it, and a
    retry keeps the body.

    Source: Squarespace docs "Webhook Subscriptions API > Validating
    notifications" (https://developers.squarespace.com/commerce-apis/webhook-subscriptions-overview);
    cross-checked against vectors built from that algorithm (Squarespace
    publishes no test vector).

    Args:
        secret: the subscription secret as hex text, or the decoded key.
        secrets: several, oldest first, while rotating (not with ``secret``).

    Returns:
        An ``HmacVerifier`` over the raw body.

    Raises:
        ConfigurationError: no secret, both ``secret`` and ``secrets``, an
            empty one, or a text secret that is not hex.
    """
    secret, secrets = hex_secrets("squarespace", secret, secrets, "subscription secret")
    return hmac_preset(
        "squarespace",
        secret=secret,
        secrets=secrets,
        header="Squarespace-Signature",
        encoding="hex",
    )


def close(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = CLOSE_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> HmacVerifier:
    """Close (close.com) webhooks.

    Secret: the ``signature_key`` that *Create a webhook subscription*
    returns, as hex text; it is **hex-decoded** into the HMAC key, as
    Close's documentation says (a ``Secret`` or bytes are the key itself).

    Signed: ``<close-sig-timestamp><body>`` (the Unix timestamp in seconds,
    then the raw body, nothing between), HMAC-SHA256, lower-case hex in
    ``close-sig-hash``.

    Replay id: content hash; the body's event ``id`` is signed with it, and
    the signed timestamp bounds the window.

    Source: Close API docs "Webhooks > Webhook signatures"
    (https://developer.close.com/topics/webhooks/); cross-checked against
    vectors built from that algorithm (Close publishes no test vector).

    Args:
        secret: the ``signature_key`` as hex text, or the decoded key.
        secrets: several, oldest first, while rotating (not with ``secret``).
        tolerance: oldest accepted timestamp, in seconds.
        future_tolerance: how far ahead of the clock a timestamp may be.

    Returns:
        An ``HmacVerifier`` over the timestamp and the raw body.

    Raises:
        ConfigurationError: no secret, both ``secret`` and ``secrets``, an
            empty one, a text secret that is not hex, or a negative or
            non-numeric tolerance.
    """
    secret, secrets = hex_secrets("close", secret, secrets, "signature_key")
    return hmac_preset(
        "close",
        secret=secret,
        secrets=secrets,
        header="close-sig-hash",
        timestamp_header="close-sig-timestamp",
        template="{timestamp}{body}",
        encoding="hex_lower",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
    )
