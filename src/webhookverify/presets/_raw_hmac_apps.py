"""Operations and messaging apps that sign the raw body with an HMAC-SHA256
and nothing else: no timestamp, no id, no URL.

PagerDuty (v3 webhooks), Cal.com, LINE and Airtable. The other raw-body senders are in
``_raw_hmac`` and ``_raw_hmac_commerce``. Hex is ``hex_lower``: each sender
emits lower-case hex and its SDK or documented sample compares that text
byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._checks import check_list
from ..errors import ConfigurationError
from ..keys import Secret
from ..verifiers import HmacVerifier
from ._common import SecretInput, hmac_preset, owner_of

__all__ = ["airtable", "cal_com", "line", "pagerduty"]


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


def _airtable_key(secret: SecretInput) -> SecretInput:
    """A ``macSecretBase64`` as Airtable returns it, decoded; bytes and ``Secret`` as given.

    Raises:
        ConfigurationError: a text secret that is not base64 (an empty one is
            left for the verifier to refuse as empty).
    """
    if not isinstance(secret, str) or not secret.strip():
        return secret
    try:
        return Secret.from_base64(secret)
    except ConfigurationError:
        raise ConfigurationError(
            f"{owner_of('airtable')} secret is not base64: pass the macSecretBase64 "
            "exactly as Airtable returned it"
        ) from None


def airtable(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Airtable webhooks (the Web API's webhook notifications).

    Secret: the ``macSecretBase64`` that *Create a webhook*
    (``POST /v0/bases/{baseId}/webhooks``) returns, once, with the webhook's
    id. Pass it as that text: it is **base64-decoded** into the HMAC key, as
    Airtable's documentation says (a ``Secret`` or bytes are taken as the key
    itself). Each webhook has its own.

    Signed: the raw body, HMAC-SHA256, ``X-Airtable-Content-MAC:
    hmac-sha256=<lower-case hex>``. The body is a notification ping
    (``{"base": {"id": ...}, "webhook": {"id": ...}, "timestamp": ...}``);
    the changes themselves are fetched with *List webhook payloads*.

    Replay id: content hash; the body's ``timestamp`` is signed with it, so
    two pings differ, and a redelivery keeps the body.

    Source: Airtable docs "Webhooks overview > Webhook notification
    delivery" (https://airtable.com/developers/web/api/webhooks-overview);
    cross-checked against a vector built from that algorithm (Airtable
    publishes no test vector and no SDK that verifies notifications).

    Args:
        secret: the ``macSecretBase64`` text, or the decoded key as bytes or
            a ``Secret``.
        secrets: several, oldest first, while replacing a webhook (not with
            ``secret``).

    Returns:
        An ``HmacVerifier`` over the raw body.

    Raises:
        ConfigurationError: no secret, both ``secret`` and ``secrets``, an
            empty one, or a text secret that is not base64.
    """
    return hmac_preset(
        "airtable",
        secret=None if secret is None else _airtable_key(secret),
        secrets=secrets
        if isinstance(secrets, str | bytes | Secret | None)
        else [_airtable_key(s) for s in check_list(secrets, "secrets", "presets.airtable")],
        header="X-Airtable-Content-MAC",
        encoding="hex_lower",
        prefix="hmac-sha256=",
    )
