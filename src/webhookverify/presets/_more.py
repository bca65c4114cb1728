"""Presets for the rest of the field: payments, e-mail, collaboration, forms,
hosting and identity senders.

Each preset is one configured verifier: header, algorithm, encoding, signed
message and tolerance are the provider's, pinned here. Secrets are
``secret=`` (one) or ``secrets=`` (oldest first, for rotation); a ``str`` is
the secret text exactly as the provider's dashboard shows it.

Hex signatures are ``hex_lower``: every sender here emits lower-case hex, and
its SDK or documented sample compares that text byte for byte.

Three helpers answer the one-time handshakes some senders make before they
deliver anything: :func:`zoom_url_validation`, :func:`dropbox_challenge` and
:func:`okta_verification`.
"""

from __future__ import annotations

import hmac as _hmac
from collections.abc import Iterable

from ..errors import InvalidRequest, MalformedBody
from ..keys import Secret, to_secrets
from ..verifiers import HmacVerifier, KeyValueHeader, TokenVerifier
from ..verifiers._base import DEFAULT_TOLERANCE
from ._box import BOX_FUTURE_TOLERANCE, BOX_TOLERANCE, BoxVerifier
from ._linear import LINEAR_TOLERANCE, LinearVerifier
from ._mailgun import MAILGUN_TOLERANCE, MailgunVerifier
from ._mandrill import MandrillMessage, check_webhook_url
from ._mollie import MollieVerifier
from ._netlify import NetlifyVerifier

__all__ = [
    "BoxVerifier",
    "LinearVerifier",
    "MailgunVerifier",
    "MollieVerifier",
    "NetlifyVerifier",
    "bitbucket",
    "box",
    "calendly",
    "circleci",
    "coinbase_commerce",
    "dropbox",
    "dropbox_challenge",
    "intercom",
    "jira",
    "linear",
    "mailgun",
    "mandrill",
    "meta",
    "mollie",
    "netlify",
    "okta",
    "okta_verification",
    "paddle",
    "razorpay",
    "sentry",
    "trello",
    "typeform",
    "vercel",
    "zoom",
    "zoom_url_validation",
]

SecretInput = Secret | str | bytes

# Paddle's SDK refuses a timestamp more than 5 s from its clock, both ways
# (paddle_billing/Notifications/Verifier.py, maximum_variance=5).
PADDLE_TOLERANCE = 5.0
# Calendly: "we recommend a tolerance of three minutes" for the past; it says
# nothing of the future, so the library default bounds it.
CALENDLY_TOLERANCE = 180.0
# Zoom documents no window; five minutes, as its sample app and Slack's scheme
# (which Zoom's copies), both ways.
ZOOM_TOLERANCE = DEFAULT_TOLERANCE
# The handshake values are short random strings (Zoom's plainToken is 22
# characters, Dropbox's challenge and Okta's about 40-50); a longer one is not
# theirs, and echoing it back would only help someone probing the endpoint.
MAX_CHALLENGE = 1024


def _hex_body(
    secret: SecretInput | None,
    secrets: Iterable[SecretInput] | None,
    header: str,
    *,
    algorithm: str = "sha256",
    prefix: str = "",
    scheme: str,
    id_field: str | tuple[str, ...] | None = None,
) -> HmacVerifier:
    return HmacVerifier(
        secret=secret,
        secrets=secrets,
        header=header,
        algorithm=algorithm,
        encoding="hex_lower",
        prefix=prefix,
        scheme=scheme,
        id_field=id_field,
    )


# -- HMAC over the raw body ------------------------------------------------------------


def typeform(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Typeform webhooks.

    Secret: the one you type in *Connect > Webhooks > (the webhook) > Edit >
    Secret* (or ``secret`` in the Webhooks API).

    Signed: the raw body, HMAC-SHA256, sent as ``Typeform-Signature:
    sha256=<base64>``. Unlike GitHub and its followers, the digest behind the
    ``sha256=`` prefix is **base64**, not hex. No timestamp is signed.

    Replay id: the signed ``event_id`` field of the body, read after the
    signature has passed (a body without it: content hash).

    Source: Typeform docs "Secure your webhooks"
    (https://www.typeform.com/developers/webhooks/secure-your-webhooks/);
    no Typeform SDK verifies webhooks, so the tests cross-check the
    documented algorithm against a vector built from it.
    """
    return HmacVerifier(
        secret=secret,
        secrets=secrets,
        header="Typeform-Signature",
        encoding="base64",
        prefix="sha256=",
        scheme="typeform-hmac-sha256",
        id_field="event_id",
    )


def meta(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Meta (Facebook, Instagram, WhatsApp Business, Messenger) Graph API webhooks.

    Secret: the app's *App Secret*, in the App Dashboard under *App settings >
    Basic*.

    Signed: the raw body, HMAC-SHA256, ``X-Hub-Signature-256:
    sha256=<lower-case hex>``. Meta signs the payload exactly as sent, with
    non-ASCII characters escaped (``\\u00e9``): verify the raw bytes, never a
    re-serialised object. The legacy SHA-1 ``X-Hub-Signature`` is not read.

    Replay id: content hash. A body batches ``entry`` items and holds no id
    of the delivery.

    Source: Meta for Developers, Graph API "Webhooks > Getting started >
    Validate payloads"
    (https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads);
    no Meta SDK is installed here: cross-checked against the documented
    algorithm and a vector built from it.
    """
    return _hex_body(
        secret, secrets, "X-Hub-Signature-256", prefix="sha256=", scheme="meta-hmac-sha256"
    )


def intercom(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Intercom webhooks.

    Secret: the app's *client secret*, in the Developer Hub under *(your app) >
    Basic information*.

    Signed: the raw body with **HMAC-SHA1**, ``X-Hub-Signature:
    sha1=<lower-case hex>``. SHA-1 because Intercom offers nothing else.

    Replay id: the signed ``id`` field of the body (``notif_...``), read after
    the signature has passed. Intercom's retries change the body
    (``delivery_attempts``), so the content hash alone would not recognise
    them; a body without the id falls back to it.

    Source: Intercom developer docs "Webhooks > Signed notifications"
    (https://developers.intercom.com/docs/references/webhooks/webhook-models);
    cross-checked against the documented algorithm (no SDK verifies it).
    """
    return _hex_body(
        secret,
        secrets,
        "X-Hub-Signature",
        algorithm="sha1",
        prefix="sha1=",
        scheme="intercom-hmac-sha1",
        id_field="id",
    )


def bitbucket(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Bitbucket Cloud webhooks with a secret.

    Secret: *Repository settings > Webhooks > (the webhook) > Secret*, which you
    set or have Bitbucket generate.

    Signed: the raw body, HMAC-SHA256, in ``X-Hub-Signature:
    sha256=<lower-case hex>``: the header *name* GitHub uses for SHA-1, with a
    SHA-256 value.

    Replay id: content hash; ``X-Request-UUID`` is not signed, so it is
    never used.

    Source: Bitbucket Cloud docs "Manage webhooks > Secure webhooks"
    (https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/);
    cross-checked against the documented algorithm.
    """
    return _hex_body(
        secret, secrets, "X-Hub-Signature", prefix="sha256=", scheme="bitbucket-hmac-sha256"
    )


def jira(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Jira Cloud admin webhooks with a secret (WebSub-style signatures).

    Secret: *Jira settings > System > WebHooks > (the webhook) > Secret*, or
    ``secret`` when the webhook is registered through ``/rest/webhooks/1.0/webhook``.

    Signed: the raw body, HMAC-SHA256, ``X-Hub-Signature: sha256=<lower-case
    hex>`` (WebSub's ``method=signature``). Only admin webhooks carry it;
    webhooks that Connect or OAuth apps register carry a JWT in
    ``Authorization`` instead, which this preset does not read.

    Replay id: content hash; ``X-Atlassian-Webhook-Identifier`` is not
    signed, so it is never used.

    Source: Atlassian "Jira Cloud platform > Webhooks > Secure admin webhooks"
    (https://developer.atlassian.com/cloud/jira/platform/webhooks/);
    cross-checked against the documented algorithm.
    """
    return _hex_body(
        secret, secrets, "X-Hub-Signature", prefix="sha256=", scheme="jira-hmac-sha256"
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
        secret,
        secrets,
        "x-vercel-signature",
        algorithm="sha1",
        scheme="vercel-hmac-sha1",
        id_field="id",
    )


def coinbase_commerce(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Coinbase Commerce webhooks.

    Secret: the *shared secret* in *Settings > Notifications* of the Commerce
    dashboard.

    Signed: the raw body, HMAC-SHA256, ``X-CC-Webhook-Signature: <lower-case
    hex>``, no prefix, no timestamp.

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
        secret,
        secrets,
        "X-CC-Webhook-Signature",
        scheme="coinbase-hmac-sha256",
        id_field=("event", "id"),
    )


def dropbox(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Dropbox webhooks (POST notifications).

    Secret: the app's *App secret*, in the App Console under *(your app) >
    Settings*.

    Signed: the raw body, HMAC-SHA256, ``X-Dropbox-Signature: <lower-case
    hex>``. Dropbox first checks the endpoint with a GET carrying
    ``?challenge=...``, which is not signed: answer it with
    :func:`dropbox_challenge`.

    Replay id: content hash (the body lists accounts, not a delivery).

    Source: Dropbox "Webhooks" reference
    (https://www.dropbox.com/developers/reference/webhooks); cross-checked
    against the documented algorithm (Dropbox's SDK does not verify webhooks).
    """
    return _hex_body(secret, secrets, "X-Dropbox-Signature", scheme="dropbox-hmac-sha256")


def razorpay(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Razorpay webhooks.

    Secret: the *webhook secret* you set in *Dashboard > Accounts & Settings >
    Webhooks* (not the API key secret, though both may be the same text).

    Signed: the raw body, HMAC-SHA256, ``X-Razorpay-Signature: <lower-case
    hex>``.

    Replay id: content hash; ``x-razorpay-event-id`` is not signed, so it is
    never used.

    Source: Razorpay docs "Validate and test webhooks"
    (https://razorpay.com/docs/webhooks/validate-test/) and
    razorpay/razorpay-python ``razorpay/utility/utility.py``
    (``verify_webhook_signature``), used as an oracle in the tests.
    """
    return _hex_body(secret, secrets, "X-Razorpay-Signature", scheme="razorpay-hmac-sha256")


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

    Replay id: content hash; ``Request-ID`` is not signed, so it is never
    used.

    Source: Sentry docs "Integration platform > Webhooks"
    (https://docs.sentry.io/integrations/integration-platform/webhooks/) and
    getsentry/sentry ``src/sentry/sentry_apps/api/serializers/app_platform_event.py``.
    """
    return _hex_body(secret, secrets, "Sentry-Hook-Signature", scheme="sentry-hmac-sha256")


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
    return HmacVerifier(
        secret=secret,
        secrets=secrets,
        header="circleci-signature",
        encoding="hex_lower",
        prefix="v1=",
        delimiter=",",
        scheme="circleci-hmac-sha256",
        id_field="id",
    )


def mollie(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> MollieVerifier:
    """Mollie next-gen webhooks.

    Secret: the webhook's *signing secret*, in *Dashboard > Developers >
    Webhooks*. Classic Mollie webhooks (a bare ``id=tr_...`` form post) are
    not signed at all: fetch the object from the API instead.

    Signed: the raw body, HMAC-SHA256, ``X-Mollie-Signature: sha256=<lower-case
    hex>``. As Mollie's SDK, the prefix is optional, several signatures (header
    fields repeated or comma-joined) are accepted, and any may match any of
    ``secrets`` during a rotation.

    Replay id: the signed ``id`` field of the body (``event_...``), read after
    the signature has passed (a body without it: content hash).

    Source: Mollie docs "Webhooks: best practices"
    (https://docs.mollie.com/reference/webhooks-best-practices) and
    mollie/mollie-api-php ``src/Webhooks/SignatureValidator.php`` with its tests.
    """
    return MollieVerifier(secret=secret, secrets=secrets)


# -- HMAC over a signed message with a timestamp ------------------------------------


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
    window: 300 s by default, both ways. Zoom's ``endpoint.url_validation``
    event is signed like any other: verify it, then answer with
    :func:`zoom_url_validation`.

    Replay id: content hash. Zoom signs each retry again with a new
    timestamp and its body carries no event id (``x-zm-trackingid`` is not
    signed), so a retry of a processed event is dispatched again: make the
    listener idempotent.

    Source: Zoom docs "Using webhooks > Verify webhook events"
    (https://developers.zoom.us/docs/api/webhooks/) and zoom/webhook-sample
    ``index.js``; cross-checked against the documented algorithm.
    """
    return HmacVerifier(
        secret=secret,
        secrets=secrets,
        header="x-zm-signature",
        encoding="hex_lower",
        prefix="v0=",
        template="v0:{timestamp}:{body}",
        timestamp_header="x-zm-request-timestamp",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        scheme="zoom-hmac-sha256",
    )


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

    Source: Paddle docs "Verify webhook signatures"
    (https://developer.paddle.com/webhooks/signature-verification) and
    PaddleHQ/paddle-python-sdk ``paddle_billing/Notifications/Verifier.py``,
    used as an oracle in the tests.
    """
    return HmacVerifier(
        secret=secret,
        secrets=secrets,
        header="Paddle-Signature",
        encoding="hex_lower",
        header_format=KeyValueHeader(signature_key="h1", timestamp_key="ts", separator=";"),
        template="{timestamp}:{body}",
        id_field="event_id",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        scheme="paddle-hmac-sha256",
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

    Replay id: content hash. The body holds no event id (``payload.uri``
    names the invitee, shared by its ``created`` and ``canceled`` events), so
    a retry signed again with a new ``t`` is not recognised: make the
    listener idempotent.

    Source: Calendly docs "Webhook signatures"
    (https://developer.calendly.com/api-docs/overview/webhooks/webhook-signatures);
    cross-checked against the documented algorithm.
    """
    return HmacVerifier(
        secret=secret,
        secrets=secrets,
        header="Calendly-Webhook-Signature",
        encoding="hex_lower",
        header_format=KeyValueHeader(signature_key="v1", timestamp_key="t", separator=","),
        template="{timestamp}.{body}",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        scheme="calendly-hmac-sha256",
    )


def box(
    *,
    secret: SecretInput | None = None,
    secondary_secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = BOX_TOLERANCE,
    future_tolerance: float | None = BOX_FUTURE_TOLERANCE,
) -> BoxVerifier:
    """Box webhooks (v2).

    Secret: the *Primary Key* (``secret=``) and *Secondary Key*
    (``secondary_secret=``) under *Developer Console > (your app) > Webhooks >
    Manage signature keys*.

    Signed: ``{raw body}{box-delivery-timestamp}`` (RFC 3339), HMAC-SHA256,
    base64, twice: ``box-signature-primary`` with the primary key and
    ``box-signature-secondary`` with the secondary key, so one key can be
    rotated while the other verifies. ``box-signature-version`` must be ``1``
    and ``box-signature-algorithm`` ``HmacSHA256``. Window: Box's ten minutes
    for the past; 300 s for the future (Box's generated SDK allows none, its
    documentation says nothing: pass ``future_tolerance=0`` for the SDK's rule).

    Box's quirk: its SDKs also accept a signature over the body re-escaped as
    ASCII JSON (non-ASCII as lower-case ``\\uXXXX``, control characters as
    ``\\n``/``\\r``/``\\t``/``\\u00XX``, backslashes doubled unless before ``/``),
    since some deliveries are signed that way. This preset does the same, in
    the SDK's order: primary over the raw body, then the escaped body, then the
    secondary signature likewise; but it accepts the escaped form only when it
    parses to the same JSON value as the body (escaping doubles backslashes, so
    a body ``"C:\\new"`` would otherwise verify against Box's ``"C:\\\\new"``
    and mean a newline), and only for a body with at most 1,024 places and
    16 KiB to escape (``MAX_ESCAPE_RUNS``, ``MAX_ESCAPED_BYTES``), since it is
    tried before any signature is known to be good.

    Replay id: the signed ``id`` field of the body (the event's id, which
    stays the same when Box retries), read after the signature has passed.
    ``box-delivery-id`` changes on every retry and is not signed; Box signs
    each retry again with a new ``box-delivery-timestamp``.

    Source: Box developer docs "Signature verification"
    (https://developer.box.com/guides/webhooks/v2/signatures-v2/) and
    box/box-python-sdk-gen ``box_sdk_gen/managers/webhooks.py``
    (``validate_message``) and ``box_sdk_gen/internal/utils.py``
    (``compute_webhook_signature``, ``escape_unicode``), used as an oracle in
    the tests.
    """
    return BoxVerifier(
        secret=secret,
        secondary_secret=secondary_secret,
        secrets=secrets,
        tolerance=tolerance,
        future_tolerance=future_tolerance,
    )


# -- signatures that need more than a template -------------------------------------


def linear(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = LINEAR_TOLERANCE,
    future_tolerance: float | None = LINEAR_TOLERANCE,
) -> LinearVerifier:
    """Linear webhooks.

    Secret: the webhook's *signing secret* (``lin_wh_...``), in *Settings > API
    > Webhooks > (the webhook)*.

    Signed: the raw body, HMAC-SHA256, ``Linear-Signature: <lower-case hex>``
    (no prefix). Linear's timestamp is not in a header: it is the body's
    top-level ``webhookTimestamp`` (unix **milliseconds**), signed along with
    the rest of the body and held here to Linear's one-minute window, both
    ways, after the signature has passed. A body without it is refused (the
    SDK skips the check then; a signed timestamp is never optional here).

    Replay id: content hash. ``Linear-Delivery`` is not signed, and the
    body's ``webhookId`` names the webhook, not the delivery.

    Source: Linear docs "Webhooks > Securing webhooks"
    (https://linear.app/developers/webhooks) and linear/linear
    ``packages/sdk/src/webhooks/client.ts`` (``LinearWebhookClient.verify``);
    cross-checked against that code and a vector built from it.
    """
    return LinearVerifier(
        secret=secret, secrets=secrets, tolerance=tolerance, future_tolerance=future_tolerance
    )


def mailgun(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = MAILGUN_TOLERANCE,
    future_tolerance: float | None = None,
) -> MailgunVerifier:
    """Mailgun webhooks and routes.

    Secret: the *HTTP webhook signing key*, in *Sending > Webhooks* (or
    *Settings > API Security*). For a subaccount's events, the primary
    account's key verifies ``parent-signature``.

    Signed: ``{timestamp}{token}``, HMAC-SHA256, lower-case hex, posted **in
    the body**: the ``signature`` object of a JSON webhook, or the
    ``timestamp``/``token``/``signature`` fields of a form (legacy webhooks,
    routes; urlencoded or multipart). The event data is **not** signed by
    Mailgun: a verified delivery proves that Mailgun sent *a* recent request
    with this token, not that the rest of the body is untouched, so serve the
    endpoint over HTTPS only. The window is that of Mailgun's SDK: 15
    minutes, both ways. ``sign()`` cannot put a signature in the body:
    :meth:`MailgunVerifier.signed_body` builds one.

    Replay id: the signed ``token`` (keep the replay guard on). The event's
    own ``event-data.id`` is not signed, so it is never used.

    Source: Mailgun docs "Securing webhooks"
    (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks)
    and mailgun/mailgun-python ``mailgun/security.py``
    (``SecurityGuard.verify_webhook``), used as an oracle in the tests.
    """
    return MailgunVerifier(
        secret=secret, secrets=secrets, tolerance=tolerance, future_tolerance=future_tolerance
    )


def mandrill(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    url: str | None = None,
) -> HmacVerifier:
    """Mandrill (Mailchimp Transactional) webhooks.

    Secret: the webhook's *key*, in *Settings > Webhooks* of the Mandrill
    (Mailchimp Transactional) app.

    Args:
        url: the webhook URL **exactly** as entered in Mandrill, query string
            included. Default: the request's URL, which is right only when the
            adapter sees the public URL (see the adapters' ``public_url``).

    Signed: the URL, then each POST field's name and value (form-decoded,
    sorted by name, no separator), HMAC-SHA1, base64, in
    ``X-Mandrill-Signature``. Mandrill signs the decoded fields, so two
    encodings of the same fields carry the same signature; a form that
    repeats a field is refused. SHA-1 because Mandrill offers nothing else.

    Replay id: content hash (``mandrill_events`` is a batch, with no one id).

    Source: Mailchimp Transactional docs "Authenticating webhook requests"
    (https://mailchimp.com/developer/transactional/guides/track-respond-activity-webhooks/#authenticating-webhook-requests);
    cross-checked against the documented algorithm.
    """
    return HmacVerifier(
        secret=secret,
        secrets=secrets,
        header="X-Mandrill-Signature",
        algorithm="sha1",
        encoding="base64",
        template=MandrillMessage(url),
        scheme="mandrill-hmac-sha1",
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
    check_webhook_url(callback_url, "presets.trello")
    literal = callback_url.replace("{", "{{").replace("}", "}}")
    return HmacVerifier(
        secret=secret,
        secrets=secrets,
        header="X-Trello-Webhook",
        algorithm="sha1",
        encoding="base64",
        template="{body}" + literal,
        scheme="trello-hmac-sha1",
    )


def netlify(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> NetlifyVerifier:
    """Netlify outgoing webhooks (deploy notifications, form submissions).

    Secret: the *JWS secret token* you set on the notification, in *Project
    configuration > Notifications > (the outgoing webhook)*.

    Signed: ``X-Webhook-Signature`` is a JWT signed with HS256 whose claims are
    ``iss: "netlify"`` and ``sha256``, the lower-case hex SHA-256 of the raw
    body. The token's algorithm is pinned to HS256 (``none`` and everything
    else refused), its HMAC checked, then ``iss``, then the body's hash in
    constant time. No timestamp is signed.

    Replay id: content hash. The body's ``id`` is the deploy's, shared by all
    of that deploy's notifications, so it is not a delivery id.

    Source: Netlify docs "Deploy notifications > Payload signature"
    (https://docs.netlify.com/site-deploys/deploy-notifications/#payload-signature);
    cross-checked against the documented algorithm and RFC 7515/7519.
    """
    return NetlifyVerifier(secret=secret, secrets=secrets)


def okta(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    header: str = "Authorization",
) -> TokenVerifier:
    """Okta event hooks and inline hooks with header authentication.

    Secret: the *Authentication secret* you set on the hook (the whole header
    value, e.g. ``Basic YWRt...`` or a random token); ``header=`` is the
    *Authentication field* (default ``Authorization``).

    Nothing is signed: Okta sends the configured value verbatim, compared here
    in constant time. A static token proves far less than a signature: it
    does not cover the body, and anyone who sees one request (a logging proxy,
    a TLS terminator) can send any body with it, at any time; nothing tells a
    replay from a new event. Serve the endpoint over HTTPS only, use a long
    random value, and rotate it with ``secrets=[old, new]``. Okta's one-time
    GET verification also carries the header: verify it, then answer with
    :func:`okta_verification`.

    Replay id: none, replay protection is off: nothing is signed, so the
    body's ``eventId`` proves nothing and is never used.

    Source: Okta docs "Event hooks > Verify the endpoint" and "Secure your
    hooks" (https://developer.okta.com/docs/concepts/event-hooks/,
    https://developer.okta.com/docs/guides/secure-hooks/).
    """
    return TokenVerifier(secret=secret, secrets=secrets, header=header)


# -- handshakes ----------------------------------------------------------------------


def _challenge_text(value: object, what: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_CHALLENGE:
        raise InvalidRequest(f"the {what} must be a non-empty string of at most {MAX_CHALLENGE}")
    if not (value.isascii() and value.isprintable()):
        raise InvalidRequest(f"the {what} has characters outside printable ASCII")
    return value


def zoom_url_validation(plain_token: str, *, secret: SecretInput) -> dict[str, str]:
    """Answer Zoom's ``endpoint.url_validation`` challenge.

    Zoom posts ``{"event": "endpoint.url_validation", "payload": {"plainToken":
    ...}}`` (signed like any event: verify it with :func:`zoom` first) and
    expects, within three seconds, a 200 with this JSON body.

    Args:
        plain_token: ``payload.plainToken`` from the request body.
        secret: the app's Secret Token (the one :func:`zoom` verifies with).

    Returns:
        ``{"plainToken": plain_token, "encryptedToken": <lower-case hex
        HMAC-SHA256 of plain_token>}``, to send as JSON.

    Raises:
        MalformedBody: ``plain_token`` is not a short printable ASCII string.
        ConfigurationError: an empty secret.
    """
    try:
        token = _challenge_text(plain_token, "plainToken")
    except InvalidRequest as exc:
        raise MalformedBody(str(exc)) from None
    key = to_secrets(secret, None, owner="zoom_url_validation")[0].value
    encrypted = _hmac.new(key, token.encode("ascii"), "sha256").hexdigest()
    return {"plainToken": token, "encryptedToken": encrypted}


def dropbox_challenge(challenge: str) -> tuple[bytes, dict[str, str]]:
    """Answer Dropbox's GET verification request (``?challenge=...``).

    Dropbox asks the endpoint to echo the ``challenge`` query parameter. The
    answer is sent as ``text/plain`` with ``X-Content-Type-Options: nosniff``,
    as Dropbox recommends, so the echoed text can never be read as HTML.

    Returns:
        ``(body, headers)`` for a 200 response.

    Raises:
        InvalidRequest: a missing, overlong or non-printable challenge.
    """
    text = _challenge_text(challenge, "Dropbox challenge")
    headers = {"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}
    return text.encode("ascii"), headers


def okta_verification(challenge: str) -> dict[str, str]:
    """Answer Okta's one-time event hook verification.

    Okta sends a GET with ``X-Okta-Verification-Challenge`` (and the
    configured authentication header: verify it with :func:`okta` first) and
    expects ``{"verification": <that value>}`` as JSON.

    Raises:
        InvalidRequest: a missing, overlong or non-printable challenge.
    """
    return {"verification": _challenge_text(challenge, "X-Okta-Verification-Challenge")}
