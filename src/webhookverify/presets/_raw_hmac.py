"""Senders that sign the raw body with an HMAC and nothing else: no timestamp,
no header, at most a URL the sender was configured with (Trello).

Shopify, Typeform, Vercel, Coinbase Commerce, Dropbox, Razorpay, Sentry,
CircleCI, Trello and Tiki's configurable handlers; GitHub and its followers
in ``_hub_signature``; Mollie, whose SDK reads its header leniently, in
``_mollie``. Hex is ``hex_lower``: each sender emits lower-case hex and its
SDK or documented sample compares that text byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from ..errors import ConfigurationError
from ..routing import EventTypeReader, body_event_type, header_event_type
from ..verifiers import HmacVerifier
from ..verifiers._base import Encoding
from ..verifiers.hmac import ALGORITHMS
from ._common import SecretInput, check_absolute_url, hmac_preset

__all__ = [
    "circleci",
    "coinbase_commerce",
    "razorpay",
    "sentry",
    "shopify",
    "tiki",
    "trello",
    "typeform",
    "vercel",
]


def shopify(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    header: str = "X-Shopify-Hmac-Sha256",
) -> HmacVerifier:
    """Shopify webhooks (``X-Shopify-Hmac-Sha256``).

    Secret: the app's client secret (*Partner or Dev Dashboard > (the app) >
    Client credentials > Client secret*). Webhooks created by hand in the
    store admin (*Settings > Notifications > Webhooks*) are signed with the
    key shown on that page instead; test deliveries sent from there do not
    verify against the app's secret.

    Signed: the raw body, HMAC-SHA256, standard **base64** (not hex: a hex
    digest in the header is refused). Newer "events" deliveries also send
    ``Shopify-Hmac-Sha256`` (no ``X-``); ``header=`` reads that one instead.

    Event type: ``X-Shopify-Topic`` (``orders/create``), marked unsigned:
    Shopify signs the body, not the header.

    Replay id: content hash; ``X-Shopify-Webhook-Id`` and
    ``X-Shopify-Event-Id`` are not signed, so they are never used (Shopify
    signs no timestamp; a retry carries the same body).

    Source: Shopify docs "Deliver webhooks through HTTPS > Verify the webhook"
    (https://shopify.dev/docs/apps/build/webhooks/subscribe/https) and
    Shopify/shopify-app-js ``lib/webhooks/validate.ts``; checked against
    requests signed and judged by ``@shopify/shopify-api``'s ``webhooks.validate``.

    Args:
        secret: the secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        header: the signature header to read.

    Returns:
        An ``HmacVerifier`` over the raw body.

    Raises:
        ConfigurationError: no secret, both ``secret`` and ``secrets``, or an
            empty one.
    """
    return hmac_preset(
        "shopify",
        secret=secret,
        secrets=secrets,
        header=header,
        encoding="base64",
        read_event_type=header_event_type("X-Shopify-Topic"),
    )


def typeform(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Typeform webhooks.

    Secret: the one you type in *Connect > Webhooks > (the webhook) > Edit >
    Secret* (or ``secret`` in the Webhooks API).

    Signed: the raw body, HMAC-SHA256, sent as ``Typeform-Signature:
    sha256=<base64>``. Unlike GitHub and its followers, the digest behind the
    ``sha256=`` prefix is **base64**, not hex. No timestamp is signed.

    Event type: the signed body's ``event_type`` (``form_response``).

    Replay id: the signed ``event_id`` field of the body, read after the
    signature has passed (a body without it: content hash).

    Source: Typeform docs "Secure your webhooks"
    (https://www.typeform.com/developers/webhooks/secure-your-webhooks/);
    no Typeform SDK verifies webhooks, so the tests cross-check the
    documented algorithm against a vector built from it.
    """
    return hmac_preset(
        "typeform",
        secret=secret,
        secrets=secrets,
        header="Typeform-Signature",
        encoding="base64",
        prefix="sha256=",
        id_field="event_id",
        read_event_type=body_event_type("event_type"),
    )


def vercel(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Vercel webhooks.

    Secret: the webhook's secret shown once in *Team settings > Webhooks* when
    it is created; for an integration's webhooks, the integration's *Client
    Secret* instead.

    Signed: the raw body with **HMAC-SHA1**, ``x-vercel-signature: <lower-case
    hex>``, no prefix. SHA-1 because Vercel offers nothing else.

    Replay id: the signed ``id`` field of the body (Vercel's id of the
    delivery), read after the signature has passed (a body without it:
    content hash).

    Source: Vercel docs "Webhooks > Securing webhooks"
    (https://vercel.com/docs/webhooks/webhooks-api#securing-webhooks);
    cross-checked against the documented algorithm.
    """
    return _hex_body(
        "vercel", secret, secrets, "x-vercel-signature", algorithm="sha1", id_field="id"
    )


def coinbase_commerce(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Coinbase Commerce webhooks.

    Secret: the *shared secret* in *Settings > Notifications* of the Commerce
    dashboard.

    Signed: the raw body, HMAC-SHA256, ``X-CC-Webhook-Signature: <lower-case
    hex>``, no prefix, no timestamp.

    Event type: the signed body's ``event.type`` (``charge:confirmed``).

    Replay id: the signed ``event.id`` of the body, read after the signature
    has passed. Each attempt changes the body (``attempt_number``), so the
    content hash alone would not recognise a retry; a body without the id
    falls back to it.

    Source: Coinbase Commerce "Webhooks security"
    (https://docs.cdp.coinbase.com/commerce/api-arcitecture/webhooks-security)
    and coinbase/coinbase-commerce-python ``coinbase_commerce/webhook.py``
    (``WebhookSignature``), used as an oracle in the tests.
    """
    return _hex_body(
        "coinbase_commerce",
        secret,
        secrets,
        "X-CC-Webhook-Signature",
        id_field=("event", "id"),
        read_event_type=body_event_type("event", "type"),
    )


def razorpay(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Razorpay webhooks.

    Secret: the *webhook secret* you set in *Dashboard > Accounts & Settings >
    Webhooks* (not the API key secret, though both may be the same text).

    Signed: the raw body, HMAC-SHA256, ``X-Razorpay-Signature: <lower-case
    hex>``.

    Event type: the signed body's ``event`` (``payment.captured``).

    Replay id: content hash; ``x-razorpay-event-id`` is not signed, so it is
    never used.

    Source: Razorpay docs "Validate and test webhooks"
    (https://razorpay.com/docs/webhooks/validate-test/) and
    razorpay/razorpay-python ``razorpay/utility/utility.py``
    (``verify_webhook_signature``), used as an oracle in the tests.
    """
    event = body_event_type("event")  # payment.captured
    return _hex_body("razorpay", secret, secrets, "X-Razorpay-Signature", read_event_type=event)


def sentry(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Sentry integration-platform webhooks.

    Secret: the integration's *Client Secret*, in *Settings > Developer Settings >
    (the integration) > Credentials*.

    Signed: HMAC-SHA256 of the body, ``Sentry-Hook-Signature: <lower-case hex>``.
    Sentry's documentation shows the check as ``JSON.stringify(request.body)``,
    re-serialising parsed JSON; what Sentry really signs is the exact text it
    sends (``AppPlatformEvent.body`` is serialised once, then both signed and
    posted), so the raw bytes are verified here, which also holds for bodies
    that ``JSON.stringify`` would not reproduce (``\\u`` escapes, key order,
    spacing). ``Sentry-Hook-Timestamp`` is sent but not signed, so it proves
    nothing and is not read.

    Replay id: content hash; ``Request-ID`` is not signed, so never used.

    Source: Sentry docs "Integration platform > Webhooks"
    (https://docs.sentry.io/integrations/integration-platform/webhooks/) and
    getsentry/sentry ``src/sentry/sentry_apps/api/serializers/app_platform_event.py``;
    checked against the verdicts of Sentry's reference integration
    (getsentry/integration-platform-example), empty bodies too.
    """
    return _hex_body("sentry", secret, secrets, "Sentry-Hook-Signature")


def circleci(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """CircleCI outbound webhooks.

    Secret: the *secret token* you set on the webhook, in *Project settings >
    Webhooks*.

    Signed: the raw body, HMAC-SHA256, in ``circleci-signature``: a
    comma-separated list of ``version=signature`` entries, of which ``v1=<lower-case
    hex>`` is read and any other version (a future ``v2``) ignored.

    Replay id: the signed ``id`` field of the body, which CircleCI documents
    for deduplication, read after the signature has passed (a body without
    it: content hash).

    Source: CircleCI docs "Outbound webhooks > Validate webhooks"
    (https://circleci.com/docs/outbound-webhooks/); cross-checked against the
    documented algorithm.
    """
    return hmac_preset(
        "circleci",
        secret=secret,
        secrets=secrets,
        header="circleci-signature",
        encoding="hex_lower",
        prefix="v1=",
        delimiter=",",
        id_field="id",
    )


def tiki(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    verification: Literal["hmac", "base64 hmac"] = "base64 hmac",
    algorithm: str = "sha256",
    header: str = "Webhook-Signature",
) -> HmacVerifier:
    """A caller configured the way Tiki 25's webhook handlers are.

    Tiki receives webhooks at ``tiki-webhooks.php``; each handler names a
    signature header, a verification type, an algorithm and the secret copied
    from the calling system's admin panel. This preset takes the same four
    settings, so a handler can move from Tiki to here unchanged.

    Secret: copied from the calling system (Tiki: *Admin > Advanced >
    Security > Webhooks*, the handler's secret).

    Signed: the raw body. ``verification="hmac"`` is lower-case hex, the
    output of PHP's ``hash_hmac`` that Tiki compares with ``!==``;
    ``"base64 hmac"`` (Tiki's documented setup, the default) is base64 of the
    raw digest. ``algorithm`` defaults to ``sha256``.

    Differences from Tiki: the comparison is constant-time (Tiki uses
    ``!==``), and the header is matched case-insensitively as HTTP requires
    (Tiki's ``getallheaders()`` lookup is case-sensitive, so it misses a
    header an HTTP/2 client sent in lower case).

    Replay id: content hash (Tiki signs the body alone).

    Source: Tiki ``lib/auth/webhook.php`` (``Webhook::verify``) and the Tiki 25
    "Webhooks" documentation page; cross-checked against self-generated
    vectors, there being no Tiki SDK to test against.

    Args:
        secret: the secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        verification: ``"hmac"`` (hex) or ``"base64 hmac"``, as in Tiki.
        algorithm: ``sha256`` (default), ``sha1``, ``sha224``, ``sha384`` or
            ``sha512``.
        header: the signature header the caller sends.

    Returns:
        An ``HmacVerifier`` over the raw body.

    Raises:
        ConfigurationError: an unknown ``verification`` or ``algorithm``, an
            empty ``header``, or a missing or empty secret.
    """
    encodings: dict[str, Encoding] = {"hmac": "hex_lower", "base64 hmac": "base64"}
    if not isinstance(verification, str) or verification not in encodings:
        raise ConfigurationError(
            "presets.tiki(verification=...) must be 'hmac' (hex) or 'base64 hmac', the "
            "verification types Tiki offers"
        )
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise ConfigurationError(
            f"presets.tiki(algorithm=...) must be one of {', '.join(sorted(ALGORITHMS))}"
        )
    return hmac_preset(
        "tiki",
        secret=secret,
        secrets=secrets,
        header=header,
        algorithm=algorithm,
        encoding=encodings[verification],
    )


def trello(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    callback_url: str,
) -> HmacVerifier:
    """Trello webhooks.

    Secret: the Power-Up's or app's *OAuth 1.0 secret* (the API key's
    *Secret*), not a user token.

    Args:
        callback_url: the ``callbackURL`` **exactly** as given when the webhook
            was created, query string included: it is part of what is signed.

    Signed: ``{raw body}{callback_url}``, **HMAC-SHA1**, base64, in
    ``X-Trello-Webhook``. SHA-1 because Trello offers nothing else. The HEAD
    request Trello sends when a webhook is created carries no signature: answer
    it with 200 without verifying.

    Replay id: content hash. ``action.id`` is not used: one action reaches
    the same callback URL once per webhook watching it (a board and a card
    on it), and those deliveries differ only outside that id.

    Source: Atlassian "Trello REST API > Webhooks > Webhook signatures"
    (https://developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/);
    cross-checked against the documented algorithm.

    Raises:
        ConfigurationError: ``callback_url`` is not an absolute http(s) URL.
    """
    check_absolute_url(callback_url, "presets.trello(callback_url=...)")
    # The URL is signed as given: braces in it are text, not template fields.
    literal = callback_url.replace("{", "{{").replace("}", "}}")
    return hmac_preset(
        "trello",
        secret=secret,
        secrets=secrets,
        header="X-Trello-Webhook",
        algorithm="sha1",
        encoding="base64",
        template="{body}" + literal,
    )


def _hex_body(
    name: str,
    secret: SecretInput | None,
    secrets: Iterable[SecretInput] | None,
    header: str,
    *,
    algorithm: str = "sha256",
    id_field: str | tuple[str, ...] | None = None,
    read_event_type: EventTypeReader | None = None,
) -> HmacVerifier:
    """``<header>: <lower-case hex>`` over the raw body, no prefix."""
    return hmac_preset(
        name,
        secret=secret,
        secrets=secrets,
        header=header,
        algorithm=algorithm,
        encoding="hex_lower",
        id_field=id_field,
        read_event_type=read_event_type,
    )
