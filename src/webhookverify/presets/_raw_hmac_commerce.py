"""Business platforms that sign the raw body with an HMAC and nothing else: no
timestamp, no id, no URL.

WooCommerce, Lemon Squeezy, Intuit QuickBooks, DocuSign Connect, Checkr,
GoCardless, Onfido (HMAC-SHA256) and Paystack (HMAC-SHA512).
The other raw-body senders are in ``_raw_hmac`` and ``_raw_hmac_apps``. Hex
is ``hex_lower``: each sender emits lower-case hex and its SDK or documented
sample compares that text byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..verifiers import HmacVerifier
from ._common import SecretInput, hmac_preset

__all__ = [
    "checkr",
    "docusign",
    "gocardless",
    "intuit",
    "lemon_squeezy",
    "onfido",
    "paystack",
    "woocommerce",
]


def woocommerce(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """WooCommerce webhooks.

    Secret: the *Secret* of the webhook in *WooCommerce > Settings > Advanced >
    Webhooks > (the webhook)*, as typed there (WooCommerce stores it
    HTML-escaped and decodes it again before signing).

    Signed: the raw body, HMAC-SHA256, standard **base64** in
    ``X-WC-Webhook-Signature``. A site can change the algorithm with the
    ``woocommerce_webhook_hash_algorithm`` filter; such a site is served by
    ``HmacVerifier`` directly, not by this preset.

    Replay id: content hash; ``X-WC-Webhook-Delivery-ID`` and
    ``X-WC-Webhook-ID`` are not signed, so they are never used.

    Source: WooCommerce ``includes/class-wc-webhook.php``
    (``WC_Webhook::generate_signature``) and the WooCommerce REST API docs
    "Webhooks" (https://woocommerce.github.io/woocommerce-rest-api-docs/#webhooks);
    cross-checked against a vector built from that code (WooCommerce ships no
    test vector).
    """
    return hmac_preset(
        "woocommerce",
        secret=secret,
        secrets=secrets,
        header="X-WC-Webhook-Signature",
        encoding="base64",
    )


def lemon_squeezy(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Lemon Squeezy webhooks.

    Secret: the *Signing secret* you type when creating the webhook in
    *Settings > Webhooks* (6 to 40 characters of your choice).

    Signed: the raw body, HMAC-SHA256, ``X-Signature: <lower-case hex>``, no
    prefix, no timestamp.

    Replay id: content hash; ``X-Event-Name`` is not signed and not read
    (the body's ``meta.event_name`` is the signed copy).

    Source: Lemon Squeezy docs "Signing requests"
    (https://docs.lemonsqueezy.com/help/webhooks/signing-requests);
    checked against the verdicts of lmsqueezy/laravel's
    ``VerifyWebhookSignature`` middleware.
    """
    return hmac_preset(
        "lemon_squeezy",
        secret=secret,
        secrets=secrets,
        header="X-Signature",
        encoding="hex_lower",
    )


def intuit(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Intuit QuickBooks Online webhooks.

    Secret: the app's *Verifier Token*, in the Intuit Developer portal under
    *(the app) > Webhooks > Show token* (development and production each have
    their own); not the OAuth client secret.

    Signed: the raw body, HMAC-SHA256, standard **base64** in
    ``intuit-signature``.

    Replay id: content hash; ``eventNotifications`` is a batch, each entity
    carrying its own ``lastUpdated``.

    Source: Intuit docs "Managing webhooks notifications > Validating the
    notification"
    (https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks/managing-webhooks-notifications);
    checked against the vector of intuit/QuickBooks-V3-Java-SDK's
    ``WebhooksServiceTest``.
    """
    return hmac_preset(
        "intuit",
        secret=secret,
        secrets=secrets,
        header="intuit-signature",
        encoding="base64",
    )


def docusign(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    header: str = "X-DocuSign-Signature-1",
) -> HmacVerifier:
    """DocuSign Connect (webhook) messages with HMAC security.

    Secret: a Connect key from *Settings > Connect > Connect Keys > Add Secret
    Key* (shown in full once); the Connect configuration must have *Include
    HMAC Signature* ticked, or nothing is signed.

    Signed: the raw body, HMAC-SHA256, standard **base64**. DocuSign sends one
    header per active key, ``X-DocuSign-Signature-1`` for the first,
    ``-2`` for the second and so on; this preset reads one of them
    (``header=``). While rotating, give both keys with ``secrets=`` and read
    the header of the key that stays.

    Replay id: content hash; the body names the envelope, not the delivery.

    Source: DocuSign docs "How to validate an HMAC signature"
    (https://developers.docusign.com/platform/webhooks/connect/validate/);
    cross-checked against a vector built from the documented algorithm.

    Args:
        secret: the Connect key, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        header: the signature header to read (default the first key's).

    Returns:
        An ``HmacVerifier`` over the raw body.

    Raises:
        ConfigurationError: no secret, both ``secret`` and ``secrets``, an
            empty one, or an empty ``header``.
    """
    return hmac_preset("docusign", secret=secret, secrets=secrets, header=header, encoding="base64")


def checkr(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Checkr webhooks.

    Secret: the account's secret API key, in *Account Settings > Developer
    Settings > API keys* of the Checkr Dashboard (the key the webhook's
    environment uses).

    Signed: the raw body, HMAC-SHA256, ``X-Checkr-Signature: <lower-case
    hex>``, no prefix, no timestamp.

    Replay id: content hash (Checkr signs no delivery id apart from the body).

    Source: checkr/webhook-verification-examples ``verify_signature.py`` and
    ``verify_signature.js`` (Checkr's own examples, whose vector the tests
    use) and Checkr docs "Webhooks" (https://docs.checkr.com/apis/webhooks).
    """
    return hmac_preset(
        "checkr",
        secret=secret,
        secrets=secrets,
        header="X-Checkr-Signature",
        encoding="hex_lower",
    )


def paystack(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Paystack webhooks (``x-paystack-signature``).

    Secret: the account's **secret key** (``sk_live_...`` or ``sk_test_...``),
    in *Paystack Dashboard > Settings > API Keys & Webhooks*; Paystack has no
    separate webhook secret, so the key of the mode the webhook belongs to
    signs it.

    Signed: the raw body, **HMAC-SHA512**, lower-case hex (128 characters) in
    ``x-paystack-signature``, no prefix, no timestamp.

    Replay id: content hash; the body's ``data.id`` names the transaction (a
    number), not the delivery, and Paystack signs no delivery id.

    Source: Paystack docs "Webhooks > Verify event origin"
    (https://paystack.com/docs/payments/webhooks/#verify-event-origin);
    cross-checked against a vector built from the documented algorithm
    (Paystack publishes no vector and no official Python SDK).
    """
    return hmac_preset(
        "paystack",
        secret=secret,
        secrets=secrets,
        algorithm="sha512",
        header="x-paystack-signature",
        encoding="hex_lower",
    )


def gocardless(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """GoCardless webhooks (``Webhook-Signature``).

    Secret: the webhook endpoint's *Secret*, in *GoCardless Dashboard >
    Developers > Webhook endpoints > (the endpoint)*; each endpoint has its own.

    Signed: the raw body, HMAC-SHA256, lower-case hex in ``Webhook-Signature``,
    no prefix, no timestamp.

    Replay id: content hash; the body's ``events`` is a batch, each event with
    its own ``id``, so no one id names the delivery.

    Source: GoCardless docs "Webhooks > Staying secure"
    (https://developer.gocardless.com/getting-started/staying-up-to-date-with-webhooks)
    and gocardless/gocardless-pro-java ``WebhookTest.java``, whose vector is in
    the tests.
    """
    return hmac_preset(
        "gocardless",
        secret=secret,
        secrets=secrets,
        header="Webhook-Signature",
        encoding="hex_lower",
    )


def onfido(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Onfido webhooks (``X-SHA2-Signature``).

    Secret: the webhook's *token*, returned once when the webhook is created
    (*Onfido Dashboard > Webhooks*, or ``token`` in the answer of
    ``POST /webhooks``).

    Signed: the raw body, HMAC-SHA256, lower-case hex in ``X-SHA2-Signature``.
    Onfido's older ``X-Signature`` header (HMAC-SHA1) is not read.

    Replay id: content hash; ``payload.object.id`` names the check or report,
    shared by its events, not the delivery.

    Source: Onfido docs "Webhooks > Verifying webhook signatures"
    (https://documentation.onfido.com/api/latest/#webhooks) and
    onfido/onfido-python ``tests/test_classic_webhook_event_verification.py``
    (``WebhookEventVerifier``), whose vectors are in the tests.
    """
    return hmac_preset(
        "onfido",
        secret=secret,
        secrets=secrets,
        header="X-SHA2-Signature",
        encoding="hex_lower",
    )
