"""Signed text that can be split otherwise: a sender signs parts run together,
and nothing in the signed bytes marks where one part ends. Each test takes a
captured delivery, moves a part boundary (the signature still verifies, by
the provider's SDK where one is installed, else by the documented
algorithm), and checks that the copy is refused or answered as a duplicate:
never dispatched again with a part changed or a replay key of its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from webhookverify import (
    Delivery,
    EventBus,
    Handler,
    HandlerRegistry,
    Receiver,
    VerificationError,
    Verifier,
    WebhookRequest,
    presets,
)

from _vectors import provider_file


def _receiver(verifier: Verifier, received: list[Delivery]) -> Receiver:
    bus = EventBus()
    bus.bind("webhook.received", received.append)
    return Receiver(HandlerRegistry([Handler("split", verifier, user="bot")]), bus)


# -- Sinch: <body>.<nonce>.<timestamp> -------------------------------------------------------


def _sinch_mac(secret: str, body: bytes, nonce: str, stamp: str) -> str:
    # Sinch's documented algorithm (and its .NET SDK's): HMAC-SHA256, base64
    message = body + b"." + nonce.encode() + b"." + stamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def test_sinch_body_tail_cannot_be_moved_into_the_nonce() -> None:
    """The body (JSON, full of '.') runs into the nonce with a '.' between:
    the body's tail after its last '.' can be sent as the start of the nonce.
    The signature is the SDK vector's; the nonce, the replay key, was new, so
    the cut-short body was dispatched again."""
    (vector,) = [
        v
        for v in provider_file("providers_more_c.json", "sinch")
        if v["id"] == "sinch-sdk-contact-create"
    ]
    headers = dict(vector["headers"])
    body = vector["body"].encode()
    nonce = headers["x-sinch-webhook-signature-nonce"]
    stamp = headers["x-sinch-webhook-signature-timestamp"]
    assert _sinch_mac(vector["secret"], body, nonce, stamp) == headers["x-sinch-webhook-signature"]
    cut = body.rindex(b".")
    moved_body, moved_nonce = body[:cut], body[cut + 1 :].decode() + "." + nonce
    # the oracle: the same signed text, so the same signature
    assert _sinch_mac(vector["secret"], moved_body, moved_nonce, stamp) == _sinch_mac(
        vector["secret"], body, nonce, stamp
    )

    received: list[Delivery] = []
    receiver = _receiver(presets.sinch(secret=vector["secret"]), received)
    now = vector["now"]
    original = WebhookRequest("POST", "https://h.test/sinch", headers, body, received_at=now)
    assert receiver.receive(original).reason == "accepted"
    moved = {**headers, "x-sinch-webhook-signature-nonce": moved_nonce}
    forged = WebhookRequest("POST", "https://h.test/sinch", moved, moved_body, received_at=now)
    with pytest.raises(VerificationError) as caught:
        presets.sinch(secret=vector["secret"]).verify(forged)
    assert caught.value.reason == "malformed_header"
    assert "x-sinch-webhook-signature-nonce" in str(caught.value)
    assert receiver.receive(forged).status == 401
    assert [d.request.body for d in received] == [body]


# -- Square without notification_url: <request URL><body> -----------------------------------

SQUARE_KEY = "square-signature-key"
SQUARE_URL = "https://hooks.example.test/square?tenant=7"
SQUARE_BODY = (
    b'{"merchant_id":"M1","type":"payment.updated","event_id":"6a8f5f28-5d4c",'
    b'"data":{"type":"payment","id":"P1","object":{"payment":{"amount":100}}}}'
)


def _square(url: str, body: bytes, signature: str) -> WebhookRequest:
    headers = {"x-square-hmacsha256-signature": signature}
    return WebhookRequest("POST", url, headers, body, received_at=1_700_000_000)


@pytest.mark.parametrize(
    "where",
    [
        "url tail into the body",  # "?tenant=" + "7{..."
        "body head into the url",  # "...7{" + '"merchant_id"...'
        "up to an inner object",  # the body then starts with "{" and still verifies
    ],
)
def test_square_bytes_cannot_move_between_request_url_and_body(where: str) -> None:
    """Square signs URL + body with nothing between. With the request's own
    URL, bytes moved across the boundary keep the signature; the copy's body
    has no readable event_id, so it was keyed by its content, a key of its
    own, and dispatched again with a mangled body."""
    verifier = presets.square(secret=SQUARE_KEY)
    signature = verifier.sign(SQUARE_BODY, url=SQUARE_URL)["x-square-hmacsha256-signature"]
    signed = SQUARE_URL.encode() + SQUARE_BODY
    # Square's documented algorithm (its SDK's webhooks_helper): base64(HMAC(key, url + body))
    oracle = base64.b64encode(hmac.new(SQUARE_KEY.encode(), signed, hashlib.sha256).digest())
    assert signature == oracle.decode()
    cut = {
        "url tail into the body": len(SQUARE_URL) - 1,
        "body head into the url": len(SQUARE_URL) + 1,
        "up to an inner object": len(SQUARE_URL) + SQUARE_BODY.index(b'{"type"'),
    }[where]
    url, body = signed[:cut].decode(), signed[cut:]
    assert url.encode() + body == signed  # the same signed text

    received: list[Delivery] = []
    receiver = _receiver(verifier, received)
    assert receiver.receive(_square(SQUARE_URL, SQUARE_BODY, signature)).reason == "accepted"
    outcome = receiver.receive(_square(url, body, signature))
    assert outcome.status == 401
    assert [d.request.body for d in received] == [SQUARE_BODY]


def test_square_request_url_refusals_name_the_cause() -> None:
    verifier = presets.square(secret=SQUARE_KEY)
    with pytest.raises(VerificationError, match=r"starts with neither '\{' nor '\['"):
        verifier.verify(_square(SQUARE_URL, b"a=1", "AAAA"))
    for url in (SQUARE_URL + "{", SQUARE_URL + "["):
        with pytest.raises(VerificationError, match=r"raw '\{' or '\[', which Square"):
            verifier.verify(_square(url, SQUARE_BODY, "AAAA"))
    # a host's IPv6 literal is no part of the path or query: it is not refused
    signature = verifier.sign(SQUARE_BODY, url="https://[::1]:8443/square")
    ipv6 = _square(
        "https://[::1]:8443/square", SQUARE_BODY, signature["x-square-hmacsha256-signature"]
    )
    assert verifier.verify(ipv6).delivery_id == "6a8f5f28-5d4c"
    # with notification_url= the URL is fixed: the boundary cannot move, nothing more is asked
    fixed = presets.square(secret=SQUARE_KEY, notification_url="https://a.test/{x}")
    signature = fixed.sign(b"a=1")["x-square-hmacsha256-signature"]
    assert fixed.verify(_square(SQUARE_URL, b"a=1", signature)).delivery_id is None


# -- Mailgun with tolerance=None: <timestamp><token> -----------------------------------------

MAILGUN_KEY = "mailgun-webhook-signing-key"
MAILGUN_TOKEN = "5f0e1d2c3b4a59687766554433221100ffeeddccbbaa998877"


def _mailgun(stamp: str, token: str, signature: str) -> WebhookRequest:
    fields = {"token": token, "timestamp": stamp, "signature": signature}
    body = json.dumps({"signature": fields, "event-data": {"event": "delivered"}}).encode()
    headers = {"Content-Type": "application/json"}
    return WebhookRequest("POST", "https://h.test/mailgun", headers, body, received_at=2e9)


def test_mailgun_digits_cannot_move_between_timestamp_and_token() -> None:
    """With the freshness check off, the timestamp's last digits can be sent
    as the token's first (or the token's leading digits as the timestamp's
    last): the SDK, its age check off too, accepts the copy, whose token (the
    replay key) is new, so the delivery was dispatched again. The timestamp
    is now held to the clock's width, which marks where the token starts."""
    from mailgun.security import SecurityGuard

    assert len(MAILGUN_TOKEN) == 50
    verifier = presets.mailgun(secret=MAILGUN_KEY, tolerance=None)
    stamp = "1700000000"
    fields = json.loads(verifier.signed_body({}, 1_700_000_000, token=MAILGUN_TOKEN))
    signature = fields["signature"]["signature"]
    copies = [(stamp[:-2], stamp[-2:] + MAILGUN_TOKEN), (stamp + "5", MAILGUN_TOKEN[1:])]
    for moved_stamp, moved_token in copies:
        assert SecurityGuard.verify_webhook(
            MAILGUN_KEY, moved_token, moved_stamp, signature, max_age_seconds=0
        )

    received: list[Delivery] = []
    receiver = _receiver(verifier, received)
    assert receiver.receive(_mailgun(stamp, MAILGUN_TOKEN, signature)).reason == "accepted"
    for moved_stamp, moved_token in copies:
        with pytest.raises(VerificationError, match="digits, not the 10 of this clock's"):
            verifier.verify(_mailgun(moved_stamp, moved_token, signature))
        assert receiver.receive(_mailgun(moved_stamp, moved_token, signature)).status == 401
    assert len(received) == 1


# -- {timestamp}{body} with the window off: Close (HMAC) and Discord (Ed25519) ---------------

CLOSE_KEY = "close-signature-key"
NOW = 1_700_000_000
BODY = b'{"id":"ev_1","event":{"action":"created"}}'


def _close(stamp: str, body: bytes, signature: str) -> WebhookRequest:
    headers = {"close-sig-timestamp": stamp, "close-sig-hash": signature}
    return WebhookRequest("POST", "https://h.test/close", headers, body, received_at=NOW + 60)


def test_close_timestamp_digits_cannot_move_into_the_body_with_the_window_off() -> None:
    """Close signs the timestamp run into the body. With tolerance=None the
    timestamp's last digit can be sent as the body's first: the same signed
    bytes, a body of its own (no longer JSON) and a content key of its own,
    so the delivery was dispatched again."""
    verifier = presets.close(secret=CLOSE_KEY.encode().hex(), tolerance=None)
    stamp = str(NOW)
    signed = stamp.encode() + BODY
    signature = hmac.new(CLOSE_KEY.encode(), signed, hashlib.sha256).hexdigest()
    assert verifier.sign(BODY, NOW)["close-sig-hash"] == signature  # the documented algorithm
    moved_stamp, moved_body = stamp[:-1], stamp[-1:].encode() + BODY
    assert moved_stamp.encode() + moved_body == signed

    received: list[Delivery] = []
    receiver = _receiver(verifier, received)
    assert receiver.receive(_close(stamp, BODY, signature)).reason == "accepted"
    with pytest.raises(VerificationError) as caught:
        verifier.verify(_close(moved_stamp, moved_body, signature))
    assert caught.value.reason == "malformed_timestamp"
    assert receiver.receive(_close(moved_stamp, moved_body, signature)).status == 401
    assert [d.request.body for d in received] == [BODY]
    # with the window on, the same copy was already refused, as too old
    with pytest.raises(VerificationError) as caught:
        presets.close(secret=CLOSE_KEY.encode().hex()).verify(
            _close(moved_stamp, moved_body, signature)
        )
    assert caught.value.reason == "timestamp_too_old"


def test_discord_timestamp_digits_cannot_move_into_the_body_with_the_window_off() -> None:
    """Discord signs (Ed25519) the timestamp run into the body, and keys on
    the body's id: the moved copy's body is no JSON, so it was keyed by its
    content, a key of its own."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    seed = bytes(range(32))
    verifier = presets.discord(private_key=seed, tolerance=None)
    stamp = str(NOW)
    headers = verifier.sign(BODY, NOW)
    signature = bytes.fromhex(headers["X-Signature-Ed25519"])
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    moved_stamp, moved_body = stamp[:-2], stamp[-2:].encode() + BODY
    public.verify(signature, moved_stamp.encode() + moved_body)  # the oracle: it verifies

    def request(stamp: str, body: bytes) -> WebhookRequest:
        sent = {**headers, "X-Signature-Timestamp": stamp}
        return WebhookRequest("POST", "https://h.test/discord", sent, body, received_at=NOW)

    received: list[Delivery] = []
    receiver = _receiver(verifier, received)
    assert receiver.receive(request(stamp, BODY)).reason == "accepted"
    assert receiver.receive(request(moved_stamp, moved_body)).status == 401
    assert [d.request.body for d in received] == [BODY]


def test_a_bare_timestamp_is_a_property_of_the_template() -> None:
    from webhookverify.verifiers import MessageTemplate

    bare = ["{timestamp}{body}", "{body}{timestamp}", "{id}{timestamp}{body}", "{timestamp}0{body}"]
    marked = ["{timestamp}.{body}", "v0:{timestamp}:{body}", "{body}.{id}.{timestamp}", "{body}"]
    assert [MessageTemplate(t).bare_timestamp for t in bare] == [True] * len(bare)
    assert [MessageTemplate(t).bare_timestamp for t in marked] == [False] * len(marked)


# -- HubSpot: <method><url><body><timestamp> (v3), <method><url><body> (v2) -----------------

HUBSPOT_SECRET = "hubspot-client-secret"
HUBSPOT_URL = "https://hooks.example.test/hubspot?portal=62515"
HUBSPOT_BODY = b'[{"eventId":1,"subscriptionType":"contact.creation","objectId":123}]'
HUBSPOT_NOW = 1_700_000_000


def _hubspot(url: str, body: bytes, headers: dict[str, str]) -> WebhookRequest:
    return WebhookRequest("POST", url, headers, body, received_at=HUBSPOT_NOW)


@pytest.mark.parametrize("versions", [("v3",), ("v2", "v3"), ("v2",)])
def test_hubspot_bytes_cannot_move_between_url_and_body(versions: tuple[str, ...]) -> None:
    """HubSpot signs the method, the URI and the body run together (v3 adds the
    timestamp). The URL's query's last digit can be sent as the body's first
    character: the same signed text, a body that is no longer JSON, and a
    content key of its own (v3's parts were hashed framed; with legacy
    versions the key is the body), so the request was dispatched again."""
    verifier = presets.hubspot(secret=HUBSPOT_SECRET, versions=versions)
    stamp = str(HUBSPOT_NOW * 1000)
    headers = verifier.sign(HUBSPOT_BODY, HUBSPOT_NOW, url=HUBSPOT_URL, timestamp=stamp)
    signed = b"POST" + HUBSPOT_URL.encode() + HUBSPOT_BODY + stamp.encode()
    # HubSpot's documented v3 algorithm: base64(HMAC-SHA256(secret, method+uri+body+timestamp))
    oracle = hmac.new(HUBSPOT_SECRET.encode(), signed, hashlib.sha256).digest()
    if "v3" in versions:
        assert headers["X-HubSpot-Signature-v3"] == base64.b64encode(oracle).decode()
    else:  # v2: SHA-256 of the secret, the method, the URL and the body
        legacy = HUBSPOT_SECRET.encode() + b"POST" + HUBSPOT_URL.encode() + HUBSPOT_BODY
        assert headers["X-HubSpot-Signature"] == hashlib.sha256(legacy).hexdigest()
    copies = [
        (HUBSPOT_URL[:-1], HUBSPOT_URL[-1:].encode() + HUBSPOT_BODY),
        (HUBSPOT_URL + "[", HUBSPOT_BODY[1:]),
    ]
    for url, body in copies:
        assert b"POST" + url.encode() + body + stamp.encode() == signed  # v2: without stamp

    received: list[Delivery] = []
    receiver = _receiver(verifier, received)
    assert receiver.receive(_hubspot(HUBSPOT_URL, HUBSPOT_BODY, headers)).reason == "accepted"
    for url, body in copies:
        assert receiver.receive(_hubspot(url, body, headers)).status == 401
    assert [d.request.body for d in received] == [HUBSPOT_BODY]


def test_hubspot_get_timestamp_digits_cannot_move_to_the_url_with_the_window_off() -> None:
    """A v3 GET signs method + URI + timestamp (no body): with tolerance=None,
    the timestamp's first digit can be sent as the URI's last, the copy's
    content key its own. The timestamp is now held to the clock's width."""
    verifier = presets.hubspot(secret=HUBSPOT_SECRET, tolerance=None)
    stamp = str(HUBSPOT_NOW * 1000)
    headers = verifier.sign(b"", HUBSPOT_NOW, method="GET", url=HUBSPOT_URL, timestamp=stamp)
    moved = {**headers, "X-HubSpot-Request-Timestamp": stamp[1:]}

    def get(url: str, sent: dict[str, str]) -> WebhookRequest:
        return WebhookRequest("GET", url, sent, b"", received_at=HUBSPOT_NOW)

    received: list[Delivery] = []
    receiver = _receiver(verifier, received)
    assert receiver.receive(get(HUBSPOT_URL, headers)).reason == "accepted"
    with pytest.raises(VerificationError, match="has 12 digits, not the 13"):
        verifier.verify(get(HUBSPOT_URL + stamp[0], moved))
    assert receiver.receive(get(HUBSPOT_URL + stamp[0], moved)).status == 401
    assert len(received) == 1
