"""Senders that check the endpoint before they deliver: Dropbox, X (Account
Activity), Nylas and Xero. Each signs deliveries with an HMAC of the raw body; what
sets them apart is the check, which the receiver answers (see
:mod:`webhookverify.handshake`). Asana's, which hands over the secret, is in
``_asana``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..errors import MalformedBody
from ..keys import to_secrets
from ..request import WebhookRequest
from ..routing import body_event_type
from ..verifiers import HmacVerifier
from ._common import SecretInput, hmac_preset, owner_of
from ._handshakes import CrcChallenge, QueryChallenge
from ._protocol import x_event_type

__all__ = ["dropbox", "nylas", "x", "xero"]


def dropbox(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Dropbox webhooks (POST notifications).

    Secret: the app's *App secret*, in the App Console under *(your app) >
    Settings*.

    Signed: the raw body, HMAC-SHA256, ``X-Dropbox-Signature: <lower-case
    hex>``. Dropbox first checks the endpoint with a GET carrying
    ``?challenge=...``, which Dropbox does not sign: the receiver answers it
    (the challenge echoed as ``text/plain``, ``nosniff``), for any caller,
    since the echo proves only that the endpoint answers.

    Replay id: content hash (the body lists accounts, not a delivery).

    Source: Dropbox "Webhooks" reference
    (https://www.dropbox.com/developers/reference/webhooks); cross-checked
    against the documented algorithm (Dropbox's SDK does not verify webhooks).
    """
    return hmac_preset(
        "dropbox",
        secret=secret,
        secrets=secrets,
        header="X-Dropbox-Signature",
        encoding="hex_lower",
        handshake=QueryChallenge("dropbox.challenge", "challenge"),
    )


class JsonObjectBody:
    """The raw body as the signed message, refused unless it is a JSON object
    (its first character past whitespace is ``{``): X's deliveries always are."""

    signs: frozenset[str] = frozenset()

    def __call__(self, request: WebhookRequest, values: Mapping[str, str]) -> tuple[bytes]:
        body = request.body
        if body.lstrip(b" \t\r\n")[:1] != b"{":
            raise MalformedBody("an X delivery is a JSON object; this body is not one")
        return (body,)


def x(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """X (formerly Twitter) Account Activity API webhooks.

    Named ``x``, the platform's name since 2023; its headers still say
    ``twitter``.

    Secret: the app's *API Key Secret* (consumer secret), in the Developer
    Portal under *Projects & Apps > (your app) > Keys and tokens*.

    Signed: the raw body, HMAC-SHA256, ``x-twitter-webhooks-signature:
    sha256=<base64>``. No timestamp is signed.

    Handshake: X's Challenge-Response Check, a GET with ``?crc_token=...``
    when the webhook is registered, about hourly after, and on demand. The
    receiver answers ``{"response_token": "sha256=<base64 HMAC-SHA256 of
    crc_token with the consumer secret>"}`` (the newest secret while rotating).
    X signs nothing on that GET, and needs nothing signed: only the holder of
    the secret can compute the answer.

    Event type: the signed body's ``*_events`` member
    (``tweet_create_events``, ``direct_message_events``).

    Replay id: content hash (the body carries no delivery id).

    Only a JSON object is a delivery: X sends nothing else, and the CRC
    answer (an HMAC under the same secret, in the same format) is never
    given for a text that is one, so it cannot sign one.

    Source: X developer docs "Account Activity API > Securing webhooks"
    (https://docs.x.com/x-api/webhooks/introduction) and X's published CRC
    example (gist jcipriano/373d4d441e8041f775b6227c0e2fd1f3, linked from
    those docs); cross-checked against the documented algorithm.
    """
    verifier = hmac_preset(
        "x",
        secret=secret,
        secrets=secrets,
        header="x-twitter-webhooks-signature",
        prefix="sha256=",
        encoding="base64",
        template=JsonObjectBody(),
        read_event_type=x_event_type,
    )
    newest = to_secrets(secret, secrets, owner=owner_of("x"))[-1]
    object.__setattr__(verifier, "handshake", CrcChallenge(newest))
    return verifier


def nylas(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Nylas API v3 webhooks.

    Secret: the ``webhook_secret`` Nylas returns when the webhook destination
    is created (``POST /v3/webhooks``), or rotates.

    Signed: the raw body, HMAC-SHA256, ``x-nylas-signature: <lower-case
    hex>``. No timestamp is signed.

    Handshake: Nylas checks a new destination with a GET carrying
    ``?challenge=...`` and expects the value back, exactly, within 10
    seconds. Nylas signs nothing on it: the receiver answers it (as
    ``text/plain``, ``nosniff``) for any caller, since the echo proves only
    that the endpoint answers.

    Event type: the signed body's ``type`` (``message.created``).

    Replay id: content hash.

    Source: Nylas docs "Using webhooks with Nylas > Respond to webhook
    verification requests" and "Verify Nylas webhooks"
    (https://developer.nylas.com/docs/v3/notifications/webhooks/);
    cross-checked against the documented algorithm.
    """
    return hmac_preset(
        "nylas",
        secret=secret,
        secrets=secrets,
        header="x-nylas-signature",
        encoding="hex_lower",
        handshake=QueryChallenge("nylas.challenge", "challenge"),
        read_event_type=body_event_type("type"),
    )


def xero(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> HmacVerifier:
    """Xero webhooks.

    Secret: the *Webhooks key* shown on the app's *Webhooks* page in the Xero
    developer portal.

    Signed: the raw body, HMAC-SHA256, ``x-xero-signature: <base64>``.

    Handshake: Xero's *intent to receive*: before it sends events, Xero posts
    payloads with correct and with wrong signatures and expects 401 for each
    wrong one and 200 with an empty body for each correct one, within five
    seconds. That is what every handler answers already (a refused request
    gets 401; a verified one 200 with an empty body, its ``events`` list
    empty), so no handshake object is needed.

    Replay id: content hash (each payload has its own ``entropy``).

    Source: Xero developer docs "Webhooks > Intent to receive" and "Signature"
    (https://developer.xero.com/documentation/guides/webhooks/configuring-your-server/);
    cross-checked against the documented algorithm.
    """
    return hmac_preset(
        "xero", secret=secret, secrets=secrets, header="x-xero-signature", encoding="base64"
    )
