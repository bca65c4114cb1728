"""Operations and messaging apps that sign the raw body with an HMAC-SHA256
and nothing else: no timestamp, no id, no URL.

PagerDuty (v3 webhooks), Cal.com and LINE. The other raw-body senders are in
``_raw_hmac`` and ``_raw_hmac_commerce``. Hex is ``hex_lower``: each sender
emits lower-case hex and its SDK or documented sample compares that text
byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..verifiers import HmacVerifier
from ._common import SecretInput, hmac_preset

__all__ = ["cal_com", "line", "pagerduty"]


def pagerduty(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """PagerDuty v3 webhooks (webhook subscriptions).

    Secret: the subscription's secret, shown once when the subscription is
    created in *Integrations > Generic Webhooks (v3) > New Webhook* (or
    returned by the API that creates it).

    Signed: the raw body, HMAC-SHA256, in ``X-PagerDuty-Signature``: a
    comma-separated list of ``v1=<lower-case hex>``, one per active secret
    while PagerDuty rotates them; any other version is ignored.

    Replay id: content hash; no header but the signature is read.

    Source: PagerDuty docs "Verifying Signatures"
    (PagerDuty/developer-docs ``docs/webhooks/04-Signatures.md``) and
    PagerDuty/go-pagerduty ``webhookv3/webhookv3_test.go``, whose vector the
    tests use.
    """
    return hmac_preset(
        "pagerduty",
        secret=secret,
        secrets=secrets,
        header="X-PagerDuty-Signature",
        encoding="hex_lower",
        prefix="v1=",
        delimiter=",",
    )


def cal_com(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Cal.com webhooks.

    Secret: the *Secret* of the webhook in *Settings > Developer > Webhooks >
    (the webhook)*. A webhook without one sends ``no-secret-provided`` in the
    header, which is refused: set a secret.

    Signed: the raw body, HMAC-SHA256, ``X-Cal-Signature-256: <lower-case
    hex>``, no prefix, no timestamp.

    Replay id: content hash; the body's ``triggerEvent`` and booking ``uid``
    name the booking, not the delivery.

    Source: calcom/cal.com ``packages/features/webhooks/lib/sendPayload.ts``;
    cross-checked against a vector built from that code (Cal.com publishes no
    test vector).
    """
    return hmac_preset(
        "cal_com",
        secret=secret,
        secrets=secrets,
        header="X-Cal-Signature-256",
        encoding="hex_lower",
    )


def line(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """LINE Messaging API webhooks.

    Secret: the channel's *Channel secret*, in the LINE Developers Console
    under *(the provider) > (the channel) > Basic settings*; not the channel
    access token.

    Signed: the raw body, HMAC-SHA256, standard **base64** in
    ``x-line-signature``.

    Replay id: content hash; ``events`` is a batch, each event carrying its
    own ``webhookEventId``, and a redelivery keeps the body.

    Source: LINE docs "Messaging API reference > Signature validation"
    (https://developers.line.biz/en/reference/messaging-api/#signature-validation)
    and line/line-bot-sdk-python ``tests/test_signature.py``, whose vector
    the tests use.
    """
    return hmac_preset(
        "line", secret=secret, secrets=secrets, header="x-line-signature", encoding="base64"
    )
