"""More senders that sign a timestamp with the body: Zendesk, Frame.io and
Sinch.

The family's other members (Stripe, Slack, Twitch, Zoom, Paddle, Calendly)
are in ``_timestamped``; the conventions are the same: ``tolerance=`` and
``future_tolerance=`` (seconds in the past and ahead of this clock) default
to what the provider documents, else to the library's five minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from ..request import WebhookRequest
from ..verifiers import HmacVerifier, MessageTemplate
from ..verifiers._base import DEFAULT_TOLERANCE
from ._common import SecretInput, check_no_dot, hmac_preset

__all__ = ["frame_io", "sinch", "zendesk"]

# Zendesk says its signatures "help prevent against replay attacks" but names
# no window: five minutes, both ways, as most senders document.
ZENDESK_TOLERANCE = DEFAULT_TOLERANCE

# Frame.io: "verify that the timestamp is within 5 minutes of local time".
FRAME_IO_TOLERANCE = 300.0
# Sinch tells receivers to refuse old timestamps but names no window: five
# minutes, both ways, as most senders document.
SINCH_TOLERANCE = DEFAULT_TOLERANCE
SINCH_NONCE: Final = "x-sinch-webhook-signature-nonce"


class SinchMessage:
    """The message Sinch signs: ``<body>.<nonce>.<timestamp>``, with a nonce
    that holds no ``.``.

    The timestamp is digits, so it is what follows the last ``.``; but the
    body is free text, and nothing else marks where the nonce starts. A
    ``.`` in the nonce would let the body's tail (after any ``.`` in it) be
    moved into the nonce header: the signed text unchanged, the body cut
    short, and the nonce, which keys the replay guard, new. Sinch's nonces
    are ULIDs (Crockford base32); one with a ``.`` is refused as a malformed
    header, which makes the split unique.
    """

    __slots__ = ()

    signs: frozenset[str] = frozenset({"id", "timestamp"})
    _template: Final = MessageTemplate("{body}.{id}.{timestamp}")

    def __call__(self, request: WebhookRequest, values: Mapping[str, str]) -> Sequence[bytes]:
        check_no_dot(values["id"], SINCH_NONCE)
        return self._template.build(request, values)

    def __repr__(self) -> str:
        return "SinchMessage(<body>.<nonce>.<timestamp>)"


def zendesk(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = ZENDESK_TOLERANCE,
    future_tolerance: float | None = None,
) -> HmacVerifier:
    """Zendesk webhooks (Admin Center webhooks, for triggers, automations and
    event subscriptions).

    Secret: the webhook's signing secret, in *Admin Center > Apps and
    integrations > Webhooks > (the webhook) > Signing secret > Reveal
    secret*. A test sent from the form before the webhook exists is signed
    with a fixed test secret that Zendesk publishes: never configure that one.

    Signed: ``X-Zendesk-Webhook-Signature-Timestamp`` (RFC 3339, as
    ``2021-07-25T10:00:00Z``) immediately followed by the raw body, with no
    separator, HMAC-SHA256, standard **base64** in
    ``X-Zendesk-Webhook-Signature``. A request without a body (a GET or
    DELETE webhook) signs the timestamp alone. An earlier version of
    Zendesk's page wrote the body first; its current text, followed here,
    puts the timestamp first (see the tests' vectors).

    Replay id: content hash of the signed timestamp and body;
    ``X-Zendesk-Webhook-Id`` and ``X-Zendesk-Webhook-Invocation-Id`` are not
    signed, so they are never used.

    Source: Zendesk docs "Verifying webhook authenticity"
    (https://developer.zendesk.com/documentation/webhooks/verifying/);
    cross-checked against a vector built from the documented algorithm
    (Zendesk ships no SDK that verifies webhooks).

    Args:
        secret: the signing secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        tolerance: seconds a timestamp may lie in the past; ``None`` turns
            the check off (by name only).
        future_tolerance: seconds it may lie ahead of this clock (default:
            ``tolerance``).

    Returns:
        An ``HmacVerifier`` over the timestamp and the raw body.

    Raises:
        ConfigurationError: a missing or empty secret, or a negative or
            non-numeric tolerance.
    """
    return hmac_preset(
        "zendesk",
        secret=secret,
        secrets=secrets,
        header="X-Zendesk-Webhook-Signature",
        encoding="base64",
        template="{timestamp}{body}",
        timestamp_header="X-Zendesk-Webhook-Signature-Timestamp",
        timestamp_format="rfc3339",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
    )


def frame_io(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = FRAME_IO_TOLERANCE,
    future_tolerance: float | None = None,
) -> HmacVerifier:
    """Frame.io webhooks and custom actions.

    Secret: the *Signing secret* Frame.io shows once when the webhook (or
    custom action) is created in the developer site, or that the API returns
    with it; used as text (UTF-8).

    Signed: ``v0:<X-Frameio-Request-Timestamp>:<raw body>``, HMAC-SHA256,
    ``X-Frameio-Signature: v0=<lower-case hex>``; the timestamp is Unix
    seconds and must lie within five minutes of this clock.

    Replay id: content hash of the signed timestamp and body; the body's
    ``resource.id`` names the resource, not the delivery.

    Source: Frame.io docs "Webhooks Overview > Security and Verification"
    (https://developer.frame.io/docs/automations-webhooks/webhooks-overview);
    cross-checked against a vector built from that algorithm (Frame.io
    publishes no test vector and no SDK that verifies webhooks).

    Args:
        secret: the signing secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        tolerance: seconds a timestamp may lie in the past (default: five
            minutes); ``None`` turns the check off (by name only).
        future_tolerance: seconds it may lie ahead of this clock (default:
            ``tolerance``).

    Returns:
        An ``HmacVerifier`` over the timestamp and the raw body.

    Raises:
        ConfigurationError: a missing or empty secret, or a negative or
            non-numeric tolerance.
    """
    return hmac_preset(
        "frame_io",
        secret=secret,
        secrets=secrets,
        header="X-Frameio-Signature",
        encoding="hex_lower",
        prefix="v0=",
        template="v0:{timestamp}:{body}",
        timestamp_header="X-Frameio-Request-Timestamp",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
    )


def sinch(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = SINCH_TOLERANCE,
    future_tolerance: float | None = None,
) -> HmacVerifier:
    """Sinch Conversation API webhooks (callbacks of a webhook with a secret).

    Secret: the *Secret* of the webhook, set when it is created in the
    Conversation API (``POST /v1/projects/{project_id}/webhooks``, field
    ``secret``) or in the dashboard's *Conversation API > Apps > (the app) >
    Webhooks*; used as text (UTF-8). A webhook without one is not signed.

    Signed: the raw body, ``.``, ``x-sinch-webhook-signature-nonce``, ``.``,
    ``x-sinch-webhook-signature-timestamp`` (Unix seconds), HMAC-SHA256,
    standard **base64** in ``x-sinch-webhook-signature``. Sinch names the
    algorithm in ``x-sinch-webhook-signature-algorithm`` (``HmacSHA256``);
    only HMAC-SHA256 signatures verify here. Other Sinch products (SMS,
    Voice, Numbers) sign differently and are not covered.

    Replay id: the signed nonce (``x-sinch-webhook-signature-nonce``), which
    Sinch sends "to protect against replay attacks". A nonce holding a ``.``
    is refused: Sinch's are ULIDs, and the ``.`` would let part of the body
    be moved into it under the same signature.

    Source: Sinch docs "Conversation API > Webhooks > Validating callbacks"
    (https://developers.sinch.com/docs/conversation/callbacks/) and
    sinch/sinch-sdk-dotnet ``tests/Sinch.Tests/Conversation/WebhooksTests.cs``
    (``ValidateRequest``), whose vector the tests use.

    Args:
        secret: the webhook's secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        tolerance: seconds a timestamp may lie in the past; ``None`` turns
            the check off (by name only).
        future_tolerance: seconds it may lie ahead of this clock (default:
            ``tolerance``).

    Returns:
        An ``HmacVerifier`` over the body, the nonce and the timestamp.

    Raises:
        ConfigurationError: a missing or empty secret, or a negative or
            non-numeric tolerance.
    """
    return hmac_preset(
        "sinch",
        secret=secret,
        secrets=secrets,
        header="x-sinch-webhook-signature",
        encoding="base64",
        template=SinchMessage(),
        id_header=SINCH_NONCE,
        timestamp_header="x-sinch-webhook-signature-timestamp",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
    )
