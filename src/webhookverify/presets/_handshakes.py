"""Answers to the one-time checks senders make of an endpoint before they
deliver anything, as :class:`~webhookverify.handshake.Handshake` objects the
presets give their verifiers (the receiver answers them), and three helpers
for applications that answer by hand.

Signed (answered only once the handler's verifier has passed): Slack
``url_verification``, Zoom ``endpoint.url_validation``, Twitch
``webhook_callback_verification``, Okta's verification GET (its header
authentication). Unsigned, where the provider's protocol signs nothing:
Meta/WebSub ``hub.challenge`` (answered only with the configured
``verify_token``), X's CRC (whose answer is an HMAC with the consumer
secret), Dropbox's and Nylas's ``challenge`` and Microsoft Graph's
``validationToken`` (plain echoes: they prove only that the endpoint
answers). Asana's ``X-Hook-Secret`` is in ``_asana``.

Every echoed value is bounded by ``MAX_CHALLENGE`` and printable ASCII;
anything else is not answered (the request goes on to be refused).
"""

from __future__ import annotations

import base64
import hmac as _hmac
import json
import re
import urllib.parse
from typing import TYPE_CHECKING

from ..errors import InvalidRequest, MalformedBody
from ..handshake import HandshakeAnswer, challenge_text, handshake_answer
from ..keys import Secret, to_secrets
from ..verifiers import constant_time_equal
from ._common import SecretInput, owner_of

if TYPE_CHECKING:
    from ..request import WebhookRequest
    from ..types import Verification

# The helpers users call; the handshake classes are the presets' own.
__all__ = ["dropbox_challenge", "graph_validation", "okta_verification", "zoom_url_validation"]

# A handshake's query has a handful of parameters (WebSub's three, X's two);
# parsing stops past this many.
MAX_QUERY_FIELDS = 16

_GET = frozenset({"GET"})
# X's crc_token is a random token (a UUID in X's published example). The CRC
# answer is sha256=base64(HMAC-SHA256(consumer secret, crc_token)): the very
# format of x-twitter-webhooks-signature over a body. Answered for any text, it
# would sign a body of the asker's choosing (a JSON event passed as the token);
# no JSON object or array is made of these characters.
CRC_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{1,256}")
_POST = frozenset({"POST"})


def query_value(request: WebhookRequest, name: str) -> str | None:
    """The one value of query parameter ``name``, or ``None`` (absent,
    repeated, or a query past ``MAX_QUERY_FIELDS`` parameters)."""
    query = request.url.partition("?")[2]
    if not query:
        return None
    try:
        values = urllib.parse.parse_qs(
            query, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS
        ).get(name)
    except ValueError:
        return None
    return values[0] if values is not None and len(values) == 1 else None


def bounded(value: object, what: str) -> str | None:
    """``value`` if it may be echoed (see ``challenge_text``), else ``None``."""
    try:
        return challenge_text(value, what)
    except InvalidRequest:
        return None


def json_object(body: bytes) -> dict[str, object] | None:
    """The body as a JSON object, or ``None`` (never raises)."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


class _Handshake:
    """What every handshake here has: ``kind``, ``signed``, ``methods``; immutable."""

    __slots__ = ("kind", "methods", "signed")

    kind: str
    signed: bool
    methods: frozenset[str]

    def __init__(self, kind: str, signed: bool, methods: frozenset[str]) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "signed", signed)
        object.__setattr__(self, "methods", methods)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; build a new one")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r}, signed={self.signed!r})"


class QueryChallenge(_Handshake):
    """Echo query parameter ``param`` as ``text/plain`` (unsigned): Dropbox's
    and Nylas's GET ``?challenge=``, Microsoft Graph's POST ``?validationToken=``.

    The echo proves only that the endpoint answers; the protocols sign
    nothing on it, so it is answered for a request no handler verified.
    """

    __slots__ = ("method", "param")

    method: str
    param: str

    def __init__(self, kind: str, param: str, *, method: str = "GET") -> None:
        super().__init__(kind, False, frozenset({method}))
        object.__setattr__(self, "param", param)
        object.__setattr__(self, "method", method)

    def answer(
        self, request: WebhookRequest, verification: Verification | None
    ) -> HandshakeAnswer | None:
        if request.method != self.method:
            return None
        value = bounded(query_value(request, self.param), self.param)
        return None if value is None else handshake_answer(value)


def graph_validation() -> QueryChallenge:
    """Microsoft Graph change notifications' subscription validation: a POST
    with ``?validationToken=``, answered with the token (URL-decoded) as
    ``text/plain`` within 10 seconds. Give it to a handler with
    ``Handler(..., handshake=graph_validation())``.

    Source: Microsoft Graph docs "Receive change notifications through
    webhooks > Notification endpoint validation"
    (https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks).
    """
    return QueryChallenge("graph.validation", "validationToken", method="POST")


class HubChallenge(_Handshake):
    """Meta/WebSub verification: GET ``?hub.mode=subscribe&hub.challenge=...
    &hub.verify_token=...``, answered with the challenge as ``text/plain``
    only when ``hub.verify_token`` equals the configured token (compared in
    constant time); a wrong or missing token is never answered.
    """

    __slots__ = ("_token",)

    _token: bytes

    def __init__(self, kind: str, verify_token: SecretInput, *, owner: str) -> None:
        super().__init__(kind, False, _GET)
        token = to_secrets(verify_token, None, owner=owner)[0].value
        object.__setattr__(self, "_token", token)

    def answer(
        self, request: WebhookRequest, verification: Verification | None
    ) -> HandshakeAnswer | None:
        if request.method != "GET" or query_value(request, "hub.mode") != "subscribe":
            return None
        token = query_value(request, "hub.verify_token")
        challenge = bounded(query_value(request, "hub.challenge"), "hub.challenge")
        if token is None or challenge is None:
            return None
        if not constant_time_equal(token.encode("utf-8", "surrogateescape"), self._token):
            return None
        return handshake_answer(challenge)


class CrcChallenge(_Handshake):
    """X's Challenge-Response Check: GET ``?crc_token=...``, answered with
    ``{"response_token": "sha256=" + base64(HMAC-SHA256(consumer secret,
    crc_token))}``. Unsigned (X signs nothing on it): only the holder of the
    consumer secret can compute the answer, and it reveals nothing of the
    secret. But the answer is an HMAC under the key that signs deliveries, in
    their signature's format: only a token of :data:`CRC_TOKEN`'s characters
    is answered, so that no JSON document is ever signed (and
    :func:`~webhookverify.presets.x` takes only JSON objects as deliveries).
    """

    __slots__ = ("_key",)

    _key: bytes

    def __init__(self, key: Secret) -> None:
        super().__init__("x.crc", False, _GET)
        object.__setattr__(self, "_key", key.value)

    def answer(
        self, request: WebhookRequest, verification: Verification | None
    ) -> HandshakeAnswer | None:
        if request.method != "GET":
            return None
        token = query_value(request, "crc_token")
        if token is None or not CRC_TOKEN.fullmatch(token):
            return None  # never an HMAC of a text that could be a delivery
        digest = _hmac.new(self._key, token.encode("ascii"), "sha256").digest()
        body = {"response_token": "sha256=" + base64.b64encode(digest).decode("ascii")}
        return handshake_answer(json.dumps(body), json=True)


class BodyChallenge(_Handshake):
    """A signed handshake named by a field of the JSON body (Slack's
    ``"type": "url_verification"``) or by a header (Twitch's
    ``Twitch-Eventsub-Message-Type: webhook_callback_verification``), whose
    body's ``field`` is echoed: as JSON ``{field: value}``, or as
    ``text/plain`` with ``plain=True``. With ``header``, a body that carries
    ``field`` is the handshake too, whatever the header (which the sender
    does not sign) says.
    """

    __slots__ = ("field", "header", "marker", "plain")

    field: str
    header: str | None
    marker: str
    plain: bool

    def __init__(
        self, kind: str, marker: str, field: str, *, header: str | None = None, plain: bool = False
    ) -> None:
        super().__init__(kind, True, _POST)
        for name, value in (
            ("marker", marker),
            ("field", field),
            ("header", header),
            ("plain", plain),
        ):
            object.__setattr__(self, name, value)

    def answer(
        self, request: WebhookRequest, verification: Verification | None
    ) -> HandshakeAnswer | None:
        # Twitch signs the id, the timestamp and the body, not the header that
        # names the handshake: a signed body that carries ``field`` is the
        # handshake whatever that header says, so that it is never dispatched
        # as a delivery (the same message sent again with the header changed)
        named = self.header is not None and request.headers.get(self.header) == self.marker
        cheap = self.marker if self.header is None else self.field
        if not named and cheap.encode("ascii") not in request.body:  # the cheap test first
            return None
        body = json_object(request.body)
        if body is None or (self.header is None and body.get("type") != self.marker):
            return None
        value = bounded(body.get(self.field), self.field)  # None without ``field``
        if value is None:
            return None
        if self.plain:
            return handshake_answer(value)
        return handshake_answer(json.dumps({self.field: value}), json=True)


class HeaderChallenge(_Handshake):
    """Okta's event hook verification: a GET carrying
    ``X-Okta-Verification-Challenge`` (and the hook's authentication header,
    which the verifier checks first: signed), answered with
    ``{"verification": <that value>}``."""

    __slots__ = ("header",)

    header: str

    def __init__(self, kind: str, header: str) -> None:
        super().__init__(kind, True, _GET)
        object.__setattr__(self, "header", header)

    def answer(
        self, request: WebhookRequest, verification: Verification | None
    ) -> HandshakeAnswer | None:
        if request.method != "GET":
            return None
        value = bounded(request.headers.get(self.header), self.header)
        if value is None:
            return None
        return handshake_answer(json.dumps({"verification": value}), json=True)


class ZoomUrlValidation(_Handshake):
    """Zoom's ``endpoint.url_validation``, signed like any event: answered with
    ``{"plainToken": ..., "encryptedToken": <hex HMAC-SHA256 of it with the
    secret that verified the request>}``."""

    __slots__ = ("_keys",)

    _keys: dict[str, bytes]

    def __init__(self, secrets: tuple[Secret, ...]) -> None:
        super().__init__("zoom.url_validation", True, _POST)
        keys = {s.key_id or f"secret[{i}]": s.value for i, s in enumerate(secrets)}
        object.__setattr__(self, "_keys", keys)

    def answer(
        self, request: WebhookRequest, verification: Verification | None
    ) -> HandshakeAnswer | None:
        if verification is None or b"endpoint.url_validation" not in request.body:
            return None
        body = json_object(request.body)
        if body is None or body.get("event") != "endpoint.url_validation":
            return None
        payload = body.get("payload")
        token = bounded(payload.get("plainToken") if isinstance(payload, dict) else None, "token")
        key = self._keys.get(verification.key_id or "")
        if token is None or key is None:
            return None
        encrypted = _hmac.new(key, token.encode("ascii"), "sha256").hexdigest()
        reply = {"plainToken": token, "encryptedToken": encrypted}
        return handshake_answer(json.dumps(reply), json=True)


# -- helpers for applications that answer by hand ------------------------------------


def zoom_url_validation(plain_token: str, *, secret: SecretInput) -> dict[str, str]:
    """Answer Zoom's ``endpoint.url_validation`` challenge by hand (the receiver
    answers it itself for a handler built with :func:`zoom`).

    Returns:
        ``{"plainToken": plain_token, "encryptedToken": <lower-case hex
        HMAC-SHA256 of plain_token>}``, to send as JSON.

    Raises:
        MalformedBody: ``plain_token`` is not a short printable ASCII string.
        ConfigurationError: an empty secret.
    """
    try:
        token = challenge_text(plain_token, "plainToken")
    except InvalidRequest as exc:
        raise MalformedBody(str(exc)) from None
    key = to_secrets(secret, None, owner=owner_of("zoom_url_validation"))[0].value
    encrypted = _hmac.new(key, token.encode("ascii"), "sha256").hexdigest()
    return {"plainToken": token, "encryptedToken": encrypted}


def dropbox_challenge(challenge: str) -> tuple[bytes, dict[str, str]]:
    """Answer Dropbox's GET verification request (``?challenge=...``) by hand.

    Returns:
        ``(body, headers)`` for a 200 response (``text/plain``, ``nosniff``).

    Raises:
        InvalidRequest: a missing, overlong or non-printable challenge.
    """
    text = challenge_text(challenge, "Dropbox challenge")
    headers = {"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}
    return text.encode("ascii"), headers


def okta_verification(challenge: str) -> dict[str, str]:
    """Answer Okta's one-time event hook verification by hand:
    ``{"verification": <X-Okta-Verification-Challenge>}`` as JSON.

    Raises:
        InvalidRequest: a missing, overlong or non-printable challenge.
    """
    return {"verification": challenge_text(challenge, "X-Okta-Verification-Challenge")}
