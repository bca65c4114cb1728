"""Senders that sign a timestamp with the body, HMAC over a signed message:
Stripe, Slack, Twitch, Zoom, Paddle and Calendly.

Each preset pins the provider's header, message template, encoding and
window; ``tolerance=`` and ``future_tolerance=`` (seconds in the past and
ahead of this clock) default to what the provider documents or its SDK
enforces. Hex is ``hex_lower`` wherever the provider's own SDK compares the
lower-case hex text byte for byte: a request those SDKs refuse is refused
here.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..routing import body_event_type
from ..verifiers import HmacVerifier, KeyValueHeader
from ..verifiers._base import DEFAULT_TOLERANCE
from ._common import STRIPE_LAYOUT, SecretInput, hmac_preset
from ._handshakes import BodyChallenge, ZoomUrlValidation
from ._protocol import slack_event_type, speaks, twitch_event_type

__all__ = ["calendly", "paddle", "slack", "stripe", "twitch", "zoom"]

# Zoom names its event in the signed body's ``event`` (``meeting.started``).
_ZOOM_EVENT = body_event_type("event")

# Stripe's libraries default to 300 s (stripe-python Webhook.DEFAULT_TOLERANCE).
STRIPE_TOLERANCE = 300.0
# Slack: "verify that the request timestamp is within five minutes".
SLACK_TOLERANCE = 300.0
# Twitch: "reject messages whose timestamp is more than 10 minutes old".
TWITCH_TOLERANCE = 600.0
# Zoom documents no window; five minutes, as its sample app and Slack's scheme
# (which Zoom's copies), both ways.
ZOOM_TOLERANCE = DEFAULT_TOLERANCE
# Paddle's SDK refuses a timestamp more than 5 s from its clock, both ways
# (paddle_billing/Notifications/Verifier.py, maximum_variance=5).
PADDLE_TOLERANCE = 5.0
# Calendly: "we recommend a tolerance of three minutes" for the past; it says
# nothing of the future, so the library default bounds it.
CALENDLY_TOLERANCE = 180.0


def stripe(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = STRIPE_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> HmacVerifier:
    """Stripe webhooks (``Stripe-Signature: t=...,v1=...``).

    Secret: *Dashboard > Developers > Webhooks > (the endpoint) > Signing
    secret*, ``whsec_...`` (``stripe listen`` prints its own). Pass the whole
    string: Stripe keys the HMAC with the ``whsec_...`` text itself, not with
    its base64 decoding (unlike Standard Webhooks), so do not wrap it in
    ``Secret.from_whsec``.

    Signed: ``{t}.{raw body}``, HMAC-SHA256, lower-case hex in each ``v1=``
    entry. While a secret is being rolled Stripe sends one ``v1`` per active
    secret; any of them may match. ``v0`` entries (test-mode legacy scheme)
    and unknown keys are ignored, so a header with only ``v0`` is refused.
    ``t`` must lie within ``tolerance`` seconds in the past (300) and
    ``future_tolerance`` in the future (Stripe bounds only the past; the
    library default 300 s applies).

    Event type: the signed body's ``type`` (``invoice.paid``).

    Replay id: the signed ``id`` field of the body (``evt_...``), read after
    the signature has passed. Stripe signs every retry again with a new
    ``t``, so only the event id tells a retry from a new event; a body
    without it falls back to the content hash.

    Source: Stripe docs "Verify webhook signatures manually"
    (https://docs.stripe.com/webhooks#verify-manually) and stripe-python
    ``stripe/_webhook.py`` (``WebhookSignature.verify_header``).

    Args:
        secret: the secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        tolerance: seconds a timestamp may lie in the past; ``None`` turns
            the check off (by name only).
        future_tolerance: seconds it may lie ahead of this clock.

    Returns:
        An ``HmacVerifier`` reading ``Stripe-Signature``.

    Raises:
        ConfigurationError: a missing or empty secret, or a negative or
            non-numeric tolerance.
    """
    return hmac_preset(
        "stripe",
        secret=secret,
        secrets=secrets,
        header="Stripe-Signature",
        header_format=STRIPE_LAYOUT,
        template="{timestamp}.{body}",
        encoding="hex_lower",
        id_field="id",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        read_event_type=body_event_type("type"),
    )


def slack(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = SLACK_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> HmacVerifier:
    """Slack requests (Events API, slash commands, interactivity).

    Secret: *api.slack.com/apps > (your app) > Basic Information > App
    Credentials > Signing Secret* (not the verification token, which Slack
    deprecated).

    Signed: ``v0:{X-Slack-Request-Timestamp}:{raw body}``, HMAC-SHA256, sent
    as ``X-Slack-Signature: v0=<lower-case hex>``. The body is often form
    data (slash commands): it is hashed exactly as received, never re-encoded.
    Slack holds the timestamp to five minutes either way.

    Handshake: ``url_verification`` (signed like any request) is answered by
    the receiver with ``{"challenge": ...}``, never dispatched. Event type:
    the signed body's ``type``, with ``event.type`` for an Events API callback
    (``event_callback.app_mention``); none for form bodies.

    Replay id: the signed ``event_id`` field of an Events API body
    (``Ev...``), read after the signature has passed: Slack signs each retry
    (``X-Slack-Retry-Num``) again with a new timestamp, and that header is not
    signed. Slash commands, interactivity payloads (form data) and
    ``url_verification`` carry no event id: content hash.

    Source: Slack docs "Verifying requests from Slack"
    (https://docs.slack.dev/authentication/verifying-requests-from-slack/) and
    slackapi/python-slack-sdk ``slack_sdk/signature/__init__.py``.

    Args:
        secret: the secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        tolerance: seconds a timestamp may lie in the past; ``None`` turns
            the check off (by name only).
        future_tolerance: seconds it may lie ahead of this clock.

    Returns:
        An ``HmacVerifier`` reading ``X-Slack-Signature`` and
        ``X-Slack-Request-Timestamp``.

    Raises:
        ConfigurationError: a missing or empty secret, or a negative or
            non-numeric tolerance.
    """
    return hmac_preset(
        "slack",
        secret=secret,
        secrets=secrets,
        header="X-Slack-Signature",
        prefix="v0=",
        encoding="hex_lower",
        template="v0:{timestamp}:{body}",
        timestamp_header="X-Slack-Request-Timestamp",
        id_field="event_id",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        handshake=BodyChallenge("slack.url_verification", "url_verification", "challenge"),
        read_event_type=slack_event_type,
    )


def twitch(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = TWITCH_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> HmacVerifier:
    """Twitch EventSub webhooks.

    Secret: the ``transport.secret`` you chose when creating the
    subscription (10 to 100 ASCII characters); Twitch never shows it.

    Signed: ``Twitch-Eventsub-Message-Id`` + ``Twitch-Eventsub-Message-Timestamp``
    + raw body, with no separators, HMAC-SHA256, sent as
    ``Twitch-Eventsub-Message-Signature: sha256=<lower-case hex>``. The
    timestamp is RFC 3339 with nanoseconds; Twitch says to refuse messages
    older than 10 minutes.

    Handshake: ``Twitch-Eventsub-Message-Type: webhook_callback_verification``
    (signed like any message, the header aside: a signed body that carries
    ``challenge`` is taken as the handshake whatever the header says) is
    answered by the receiver with the body's ``challenge`` as
    ``text/plain``, never dispatched. Event type: the signed body's
    ``subscription.type`` (``channel.follow``) for a notification; none for
    a revocation (no ``event`` in the body).

    Replay id: ``Twitch-Eventsub-Message-Id``, a header the signature covers
    (Twitch resends a message with the same id).

    Source: Twitch docs "Handling webhook events > Verifying the event
    message" (https://dev.twitch.tv/docs/eventsub/handling-webhook-events/)
    and twitchdev/eventsub-webhooks-node-sample ``index.js``; cross-checked
    against self-generated vectors (no Twitch SDK is installed).

    Args:
        secret: the secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        tolerance: seconds a timestamp may lie in the past; ``None`` turns
            the check off (by name only).
        future_tolerance: seconds it may lie ahead of this clock.

    Returns:
        An ``HmacVerifier`` whose ``Verification.delivery_id`` is the
        message id.

    Raises:
        ConfigurationError: a missing or empty secret, or a negative or
            non-numeric tolerance.
    """
    return hmac_preset(
        "twitch",
        secret=secret,
        secrets=secrets,
        header="Twitch-Eventsub-Message-Signature",
        prefix="sha256=",
        encoding="hex_lower",
        template="{id}{timestamp}{body}",
        id_header="Twitch-Eventsub-Message-Id",
        timestamp_header="Twitch-Eventsub-Message-Timestamp",
        timestamp_format="rfc3339",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        handshake=BodyChallenge(
            "twitch.callback_verification",
            "webhook_callback_verification",
            "challenge",
            header="Twitch-Eventsub-Message-Type",
            plain=True,
        ),
        read_event_type=twitch_event_type,
    )


def zoom(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = ZOOM_TOLERANCE,
    future_tolerance: float | None = None,
) -> HmacVerifier:
    """Zoom webhooks (Marketplace apps' event subscriptions).

    Secret: the app's *Secret Token*, under *Features > Access* in the Zoom App
    Marketplace build flow.

    Signed: ``v0:{x-zm-request-timestamp}:{raw body}``, HMAC-SHA256, sent as
    ``x-zm-signature: v0=<lower-case hex>``. Zoom's sample app re-serialises the
    parsed JSON before hashing, which breaks on any body it does not reproduce;
    the raw body is what Zoom signs and what is verified here. Zoom names no
    window: 300 s by default, both ways.

    Handshake: ``endpoint.url_validation``, signed like any event, is answered
    by the receiver with ``plainToken`` and ``encryptedToken`` (the hex
    HMAC-SHA256 of it with the secret that verified the request), never
    dispatched. Event type: the signed body's ``event`` (``meeting.started``).

    Replay id: content hash. Zoom signs each retry again with a new
    timestamp and its body carries no event id (``x-zm-trackingid`` is not
    signed), so a retry of a processed event is dispatched again: make the
    listener idempotent.

    Source: Zoom docs "Using webhooks > Verify webhook events"
    (https://developers.zoom.us/docs/api/webhooks/) and zoom/webhook-sample
    ``index.js``; cross-checked against the documented algorithm.
    """
    verifier = hmac_preset(
        "zoom",
        secret=secret,
        secrets=secrets,
        header="x-zm-signature",
        encoding="hex_lower",
        prefix="v0=",
        template="v0:{timestamp}:{body}",
        timestamp_header="x-zm-request-timestamp",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        read_event_type=_ZOOM_EVENT,
    )
    return speaks(verifier, ZoomUrlValidation(verifier.secrets), _ZOOM_EVENT)


def paddle(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = PADDLE_TOLERANCE,
    future_tolerance: float | None = None,
) -> HmacVerifier:
    """Paddle Billing notifications.

    Secret: the notification destination's *secret key*
    (``pdl_ntfset_...``), in *Developer tools > Notifications > (the
    destination) > Edit*. The whole text, prefix included, is the HMAC key.

    Signed: ``{ts}:{raw body}``, HMAC-SHA256, sent as ``Paddle-Signature:
    ts=<unix>;h1=<lower-case hex>``, with one ``h1`` per active secret while
    one is rotated: any may match. The window is Paddle's **5 s**, both ways,
    as its SDK enforces; widen ``tolerance=`` only if your queue delays
    verification.

    Replay id: the signed ``event_id`` field of the body (``evt_...``), the
    key Paddle recommends for deduplication, read after the signature has
    passed. Paddle signs each retry again with a new ``ts``; a body without
    the id falls back to the content hash.

    Event type: the signed body's ``event_type`` (``transaction.completed``).

    Source: Paddle docs "Verify webhook signatures"
    (https://developer.paddle.com/webhooks/signature-verification) and
    PaddleHQ/paddle-python-sdk ``paddle_billing/Notifications/Verifier.py``,
    used as an oracle in the tests.
    """
    return hmac_preset(
        "paddle",
        secret=secret,
        secrets=secrets,
        header="Paddle-Signature",
        encoding="hex_lower",
        header_format=KeyValueHeader(signature_key="h1", timestamp_key="ts", separator=";"),
        template="{timestamp}:{body}",
        id_field="event_id",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        read_event_type=body_event_type("event_type"),
    )


def calendly(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = CALENDLY_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> HmacVerifier:
    """Calendly webhook subscriptions with a signing key.

    Secret: the ``signing_key`` you passed when creating the subscription (or
    the one Calendly generated for your OAuth app).

    Signed: ``{t}.{raw body}``, HMAC-SHA256, ``Calendly-Webhook-Signature:
    t=<unix>,v1=<lower-case hex>``, Stripe's layout. Calendly recommends a
    three-minute window for the past; the future is bounded by the library
    default (300 s), Calendly saying nothing of it.

    Event type: the signed body's ``event`` (``invitee.created``).

    Replay id: content hash. The body holds no event id (``payload.uri``
    names the invitee, shared by its ``created`` and ``canceled`` events), so
    a retry signed again with a new ``t`` is not recognised: make the
    listener idempotent.

    Source: Calendly docs "Webhook signatures"
    (https://developer.calendly.com/api-docs/overview/webhooks/webhook-signatures);
    cross-checked against the documented algorithm.
    """
    return hmac_preset(
        "calendly",
        secret=secret,
        secrets=secrets,
        header="Calendly-Webhook-Signature",
        encoding="hex_lower",
        header_format=STRIPE_LAYOUT,
        template="{timestamp}.{body}",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        read_event_type=body_event_type("event"),
    )
