"""Presets for the most used senders: GitHub, GitLab, Tiki, Stripe, Slack,
Shopify, Twitch, Square, HubSpot and Twilio.

Each preset is a configured verifier: the header, algorithm, encoding,
signed message and tolerance are the provider's, pinned here. Secrets are
``secret=`` (one) or ``secrets=`` (oldest first, for rotation); a ``str`` is
the secret text exactly as the provider's dashboard shows it.

Hex signatures are ``hex_lower`` wherever the provider's own SDK compares the
lower-case hex text byte for byte: a request those SDKs refuse is refused here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from ..errors import ConfigurationError
from ..keys import Secret
from ..verifiers import HmacVerifier, KeyValueHeader, TokenVerifier
from ..verifiers._base import DEFAULT_TOLERANCE, Encoding, check_tolerance
from ..verifiers.hmac import ALGORITHMS
from ._hubspot import HUBSPOT_TOLERANCE, HubSpotVerifier, HubSpotVersion
from ._square import SquareMessage, check_absolute_url
from ._twilio import TwilioVerifier

__all__ = [
    "github",
    "gitlab",
    "hubspot",
    "shopify",
    "slack",
    "square",
    "stripe",
    "tiki",
    "twilio",
    "twitch",
]

SecretInput = Secret | str | bytes

# Stripe's libraries default to 300 s (stripe-python Webhook.DEFAULT_TOLERANCE).
STRIPE_TOLERANCE = 300.0
# Slack: "verify that the request timestamp is within five minutes".
SLACK_TOLERANCE = 300.0
# Twitch: "reject messages whose timestamp is more than 10 minutes old".
TWITCH_TOLERANCE = 600.0


def _windows(
    owner: str, tolerance: float | None, future_tolerance: float | None
) -> tuple[float | None, float | None]:
    """Check both tolerances for a verifier that cannot name the preset itself."""
    return (
        check_tolerance(tolerance, "tolerance", owner),
        check_tolerance(future_tolerance, "future_tolerance", owner),
    )


def github(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    legacy_sha1: bool = False,
) -> HmacVerifier:
    """GitHub (and GitHub Enterprise Server) webhooks.

    Secret: the repository's, organization's or app's *Settings > Webhooks >
    (the webhook) > Secret*; you choose it, GitHub never shows it again.

    Signed: the raw body, HMAC-SHA256, sent as ``X-Hub-Signature-256:
    sha256=<lower-case hex>``. GitHub's documented examples compare that text
    exactly, so upper-case hex is refused.

    Replay id: content hash; ``X-GitHub-Delivery`` is not signed, so it is
    never used (GitHub signs no timestamp and no delivery id; a redelivery
    carries the same body and is caught by content).

    ``legacy_sha1=True`` verifies the old ``X-Hub-Signature: sha1=<hex>``
    header (HMAC-SHA1) instead, for GitHub Enterprise Server releases that
    send nothing else; GitHub.com sends both headers, and the default needs
    only the SHA-256 one.

    Source: GitHub docs "Validating webhook deliveries"
    (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries)
    and octokit/webhooks-methods.js ``src/node/verify.ts``; cross-checked
    against the docs' and octokit's test vectors (no GitHub SDK for Python is
    installed).

    Args:
        secret: the secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        legacy_sha1: verify ``X-Hub-Signature`` (HMAC-SHA1) instead.

    Returns:
        An ``HmacVerifier`` for the chosen header.

    Raises:
        ConfigurationError: no secret, both ``secret`` and ``secrets``, or an
            empty one.
    """
    if legacy_sha1:
        return HmacVerifier(
            secret=secret,
            secrets=secrets,
            header="X-Hub-Signature",
            algorithm="sha1",
            encoding="hex_lower",
            prefix="sha1=",
            owner="presets.github",
        )
    return HmacVerifier(
        secret=secret,
        secrets=secrets,
        header="X-Hub-Signature-256",
        encoding="hex_lower",
        prefix="sha256=",
        owner="presets.github",
    )


def gitlab(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
) -> TokenVerifier:
    """GitLab's secret token (``X-Gitlab-Token``).

    Secret: *Project (or group) > Settings > Webhooks > (the webhook) >
    Secret token*, the text you typed there.

    Signed: nothing. GitLab sends the token itself in ``X-Gitlab-Token``,
    compared here in constant time. A token proves less than a signature: it
    does not cover the body, so whoever sees one delivery (a logging proxy, a
    TLS terminator) can send any body with it, and nothing tells a replay from
    a new delivery. Serve the endpoint over HTTPS only, and prefer
    ``presets.gitlab_signing`` (GitLab's HMAC signing token, Standard
    Webhooks format) wherever your GitLab offers it.

    Replay id: none, replay protection is off; nothing is signed, and the
    ``Idempotency-Key`` header (the same on every retry) is not covered by
    anything, so it is never used.

    Source: GitLab docs "Webhooks > Validate payloads by using a secret token"
    (https://docs.gitlab.com/user/project/integrations/webhooks/);
    cross-checked against self-generated vectors only (there is nothing more
    to a token than the comparison).

    Args:
        secret: the token, as text or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).

    Returns:
        A ``TokenVerifier`` reading ``X-Gitlab-Token``.

    Raises:
        ConfigurationError: no secret, both ``secret`` and ``secrets``, or an
            empty one.
    """
    return TokenVerifier(secret=secret, secrets=secrets, header="X-Gitlab-Token")


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
    if verification not in encodings:
        raise ConfigurationError(
            "presets.tiki(verification=...) must be 'hmac' (hex) or 'base64 hmac', the "
            "verification types Tiki offers"
        )
    if algorithm not in ALGORITHMS:
        raise ConfigurationError(
            f"presets.tiki(algorithm=...) must be one of {', '.join(sorted(ALGORITHMS))}"
        )
    return HmacVerifier(
        secret=secret,
        secrets=secrets,
        header=header,
        algorithm=algorithm,
        encoding=encodings[verification],
        owner="presets.tiki",
    )


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
    return HmacVerifier(
        secret=secret,
        secrets=secrets,
        header="Stripe-Signature",
        header_format=KeyValueHeader(signature_key="v1", timestamp_key="t", separator=","),
        template="{timestamp}.{body}",
        encoding="hex_lower",
        id_field="id",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        owner="presets.stripe",
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
    return HmacVerifier(
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
        owner="presets.slack",
    )


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

    Replay id: content hash; ``X-Shopify-Webhook-Id`` and
    ``X-Shopify-Event-Id`` are not signed, so they are never used (Shopify
    signs no timestamp; a retry carries the same body).

    Source: Shopify docs "Deliver webhooks through HTTPS > Verify the webhook"
    (https://shopify.dev/docs/apps/build/webhooks/subscribe/https) and
    Shopify/shopify-app-js ``lib/webhooks/validate.ts``; cross-checked
    against self-generated vectors (no Shopify SDK for Python is installed).

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
    return HmacVerifier(
        secret=secret, secrets=secrets, header=header, encoding="base64", owner="presets.shopify"
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
    return HmacVerifier(
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
        owner="presets.twitch",
    )


def square(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    notification_url: str | None = None,
) -> HmacVerifier:
    """Square webhooks (``x-square-hmacsha256-signature``).

    Secret: *Developer Console > (the app) > Webhooks > Subscriptions > (the
    subscription) > Signature key*, used as the text shown.

    Signed: the subscription's notification URL followed by the raw body,
    HMAC-SHA256, standard base64. The URL is the one configured in the
    console, character for character, not necessarily what your server sees
    behind a proxy: set ``notification_url=`` to it. Without it, each
    request's own URL is used. No timestamp is signed. The legacy
    ``x-square-signature`` (HMAC-SHA1) header is not read.

    Replay id: the signed ``event_id`` field of the body, read after the
    signature has passed (a body without it: content hash).

    Source: Square docs "Validate webhook notifications"
    (https://developer.squareup.com/docs/webhooks/step3validate) and
    square/square-python-sdk ``square/utilities/webhooks_helper.py``;
    cross-checked against that SDK's test vectors (the SDK is not installed).

    Args:
        secret: the secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        notification_url: the subscription's URL as configured at Square.

    Returns:
        An ``HmacVerifier`` over the URL and the raw body.

    Raises:
        ConfigurationError: a missing or empty secret, or a
            ``notification_url`` that is not an absolute http(s) URL.
    """
    if notification_url is not None:
        check_absolute_url(notification_url, "presets.square(notification_url=...)")
    return HmacVerifier(
        secret=secret,
        secrets=secrets,
        header="x-square-hmacsha256-signature",
        encoding="base64",
        template=SquareMessage(notification_url),
        id_field="event_id",
        owner="presets.square",
    )


def hubspot(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    versions: Iterable[HubSpotVersion] = ("v3",),
    tolerance: float | None = HUBSPOT_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> HubSpotVerifier:
    """HubSpot webhooks and app requests (signature v3; v1 and v2 on request).

    Secret: the app's client secret (*developer account > Apps > (the app) >
    Auth > Client secret*).

    Signed (v3): ``method + URI + raw body + X-HubSpot-Request-Timestamp``,
    HMAC-SHA256, base64 in ``X-HubSpot-Signature-v3``. The timestamp is in
    **milliseconds**; HubSpot refuses anything older than 5 minutes. Before
    signing, HubSpot decodes ``%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C
    %3B`` in the URI (and no other escape); the request URL is decoded the
    same way here.

    Versions: only v3 by default. v1 (SHA-256 of secret + body) and v2
    (SHA-256 of secret + method + URI + body) are plain hashes, not HMACs,
    sign no timestamp and allow length extension; HubSpot sends them
    alongside v3 "for backwards compatibility". Name them, e.g.
    ``versions=("v1", "v2", "v3")``, only for senders that send nothing
    newer. A request then selects within that set: v3 when it carries
    ``X-HubSpot-Signature-v3`` (no fallback if it fails), else the version in
    ``X-HubSpot-Signature-Version``.

    Replay id: content hash. The body is a batch (a JSON array) of events,
    each with its own ``eventId``; no one id names the delivery, so a retry
    signed again with a new timestamp is not recognised.

    Source: HubSpot docs "Validating requests"
    (https://developers.hubspot.com/docs/api/webhooks/validating-requests) and
    HubSpot/hubspot-api-python ``hubspot/utils/signature.py``; cross-checked
    against the docs' and that SDK's test vectors (the SDK is not installed).

    Args:
        secret: the secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        versions: the signature versions accepted, a tuple drawn from
            ``"v1"``, ``"v2"`` and ``"v3"``.
        tolerance: seconds a v3 timestamp may lie in the past; ``None`` turns
            the check off (by name only).
        future_tolerance: seconds it may lie ahead of this clock.

    Returns:
        A ``HubSpotVerifier``; ``Verification.scheme`` names the version
        that passed (``hubspot-v3``, ...).

    Raises:
        ConfigurationError: a missing or empty secret, ``versions`` empty or
            naming an unknown version, or a bad tolerance.
    """
    tolerance, future_tolerance = _windows("presets.hubspot", tolerance, future_tolerance)
    return HubSpotVerifier(
        secret=secret,
        secrets=secrets,
        versions=versions,
        tolerance=tolerance,
        future_tolerance=future_tolerance,
    )


def twilio(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    public_url: str | None = None,
    shared_key: SecretInput | None = None,
    shared_keys: Iterable[SecretInput] | None = None,
    shared_key_algorithms: Iterable[Literal["sha1", "sha256"]] = ("sha256",),
) -> TwilioVerifier:
    """Twilio webhooks (``X-Twilio-Signature``).

    Secret: the account's Auth Token (*Console > Account > API keys &
    tokens > Auth Token*); during a token rotation pass both, oldest first.
    Accounts that sign with a Webhooks SharedKey (public beta) pass that
    key's secret as ``shared_key=``.

    Signed: the full URL Twilio called (query included) followed by the POST
    form fields sorted by name, each distinct value as ``name + value``
    (decoded, no separators), HMAC-SHA1, base64. JSON bodies: the URL carries
    ``bodySHA256=<hex SHA-256 of the body>``, the signature covers the URL
    alone, and the body must hash to that value. Like Twilio's SDKs, the URL
    is tried as received and with its port removed (or the default port
    added). SHA-256: Twilio uses it only with a SharedKey whose Webhook
    Setting names HMAC_SHA256, announced by
    ``X-Twilio-Webhooks-Signature-Settings``. That header is unsigned, so it
    only switches to the SharedKey secrets and picks an algorithm within
    ``shared_key_algorithms`` (default ``("sha256",)``); a request never
    brings the Auth Token and SHA-256 together, nor any other algorithm.

    The URL must be what Twilio called: behind a proxy set ``public_url=``
    (else each request's own URL is used). Field names and values run together unseparated,
    so two different forms can share a signed string; Twilio's scheme, not
    ours, and one more reason to keep the Auth Token private.

    Replay id: content hash; ``I-Twilio-Idempotency-Token`` is not signed, so
    it is never used (Twilio signs no timestamp; a retry is the same request).

    Source: twilio/twilio-python ``twilio/request_validator.py``; Twilio docs
    "Webhooks security"
    (https://www.twilio.com/docs/usage/webhooks/webhooks-security) and "Sign
    webhooks with shared keys"
    (https://www.twilio.com/docs/usage/webhooks/webhook-shared-keys).

    Args:
        secret: the Auth Token, as text or bytes, or a ``Secret``.
        secrets: several Auth Tokens, oldest first (not with ``secret``).
        public_url: the URL Twilio calls, exactly, query included.
        shared_key: a SharedKey secret, for Webhook Settings that sign with one.
        shared_keys: several, oldest first (not with ``shared_key``).
        shared_key_algorithms: what a SharedKey request may use: ``"sha256"``
            and/or ``"sha1"``.

    Returns:
        A ``TwilioVerifier``; ``Verification.scheme`` is ``hmac-sha1`` or
        ``hmac-sha256``.

    Raises:
        ConfigurationError: no key at all, an empty key, an unknown
            algorithm, or a ``public_url`` that is not an absolute http(s) URL.
    """
    return TwilioVerifier(
        secret=secret,
        secrets=secrets,
        public_url=public_url,
        shared_key=shared_key,
        shared_keys=shared_keys,
        shared_key_algorithms=shared_key_algorithms,
    )
