"""Adyen, Braintree, Contentful, Plivo, Segment and Lob: their vectors, their
SDKs as oracles, and the verifier contract.

The vectors are in tests/vectors/providers_more_f.json, each with its source:
Adyen's from its Python library's test suite; Braintree's, Contentful's and
Plivo's signed by the providers' own SDK signers (``sdk-signed``); Segment's
and Lob's, who publish neither a vector nor an SDK that verifies, built from
the documented algorithm (``self-generated``). The Adyen, Braintree and Plivo
SDKs also run here as oracles, both ways.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import urllib.parse
import warnings
from typing import Any

import pytest

from webhookverify import ConfigurationError, Secret, VerificationError, WebhookRequest, presets
from webhookverify.presets._adyen import MAX_ADYEN_ITEMS
from webhookverify.presets._contentful import canonical_path

from _vectors import check_sources, check_vector, provider_file, vector_request
from contract import NOW, VerifierContract, mutate
from preset_contracts import PresetContract

FILE = "providers_more_f.json"
# provider in the file -> number of vectors
COUNTS = {"adyen": 7, "braintree": 4, "contentful": 5, "plivo": 6, "segment": 2, "lob": 2}
VECTORS = provider_file(FILE)
VALID = [v for v in VECTORS if v["expected"] == "valid"]
OTHER_KEY = {"adyen": "ab" * 32}
ADYEN_KEY = "74F490DD33F7327BAECC88B2947C011FC02D014A473AAA33A8EC93E4DC069174"
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def preset_for(vector: dict[str, Any], **override: Any) -> Any:
    """The preset for a vector's sender, built from the vector's data only."""
    options = {"public_key": vector["public_key"]} if "public_key" in vector else {}
    secret = override.get("secret", vector["secret"])
    return getattr(presets, vector["provider"])(secret=secret, **options)


def test_every_provider_has_its_vectors_with_a_source() -> None:
    check_sources(FILE, COUNTS)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["id"])
def test_vector(vector: dict[str, Any]) -> None:
    check_vector(preset_for(vector), vector, NOW, skew=60)


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v["id"])
def test_vector_with_another_key_is_refused(vector: dict[str, Any]) -> None:
    other = OTHER_KEY.get(vector["provider"], "another-secret-of-the-same-kind")
    with pytest.raises(VerificationError) as info:
        preset_for(vector, secret=other).verify(vector_request(vector, NOW), now=vector.get("now"))
    assert info.value.reason == "signature_mismatch"


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v["id"])
def test_vector_with_one_more_body_byte_is_refused(vector: dict[str, Any]) -> None:
    request = vector_request(vector, NOW)
    longer = request.replace(body=request.body + b"x")
    if vector["provider"] == "adyen":
        # Adyen's documented limit: only eight fields of each item are signed
        longer = request.replace(body=request.body + b" ")
        assert preset_for(vector).verify(longer).key_id is not None
        return
    with pytest.raises(VerificationError):
        preset_for(vector).verify(longer, now=vector.get("now"))


# -- Adyen -------------------------------------------------------------------------------

SDK_ITEMS = [
    json.loads(v["body"])["notificationItems"][0]["NotificationRequestItem"]
    for v in VECTORS
    if v["id"].startswith("adyen-sdk-") and v["secret"] == ADYEN_KEY
]


def adyen_request(*items: dict[str, Any]) -> WebhookRequest:
    document = {
        "live": "false",
        "notificationItems": [{"NotificationRequestItem": i} for i in items],
    }
    return WebhookRequest(headers=JSON, body=json.dumps(document).encode(), received_at=NOW)


def test_adyen_every_item_of_a_batch_must_verify() -> None:
    verifier = presets.adyen(secret=ADYEN_KEY)
    assert len(SDK_ITEMS) == 4
    result = verifier.verify(adyen_request(*SDK_ITEMS))
    assert len(result.signed) == 4
    first = SDK_ITEMS[0]["pspReference"].encode() + b"::"
    assert any(text.startswith(first) for text in result.signed)
    # any one item altered, or its signature dropped, refuses the whole delivery
    for index in range(4):
        items = copy.deepcopy(SDK_ITEMS)
        items[index]["eventCode"] = "REFUND"
        with pytest.raises(VerificationError) as info:
            verifier.verify(adyen_request(*items))
        assert info.value.reason == "signature_mismatch"
        del items[index]["additionalData"]["hmacSignature"]
        with pytest.raises(VerificationError) as info:
            verifier.verify(adyen_request(*items))
        assert info.value.reason == "malformed_body"


def test_adyen_sdk_oracle_both_ways() -> None:
    from Adyen.util import generate_notification_sig, is_valid_hmac_notification

    key = "0F" * 32
    verifier = presets.adyen(secret=key)
    items = [
        {
            "pspReference": f"PSP{n}",
            "originalReference": "ORIG" if n % 2 else "",
            "merchantAccountCode": "Merchant:Account",
            "merchantReference": f"order/{n}\\h\u00e9llo:x",
            "amount": {"currency": "EUR", "value": 1000 + n},
            "eventCode": "AUTHORISATION",
            "success": "true" if n % 2 else "false",
            "additionalData": {"note": "unsigned"},
        }
        for n in range(3)
    ]
    body = verifier.signed_body(items, NOW)
    document = json.loads(body)
    for entry in document["notificationItems"]:
        item = entry["NotificationRequestItem"]
        assert is_valid_hmac_notification(item, key)
        unsigned = {k: v for k, v in item.items() if k != "additionalData"}
        expected = generate_notification_sig(unsigned, key).decode()
        assert item["additionalData"]["hmacSignature"] == expected
    assert verifier.verify(WebhookRequest(headers=JSON, body=body), now=NOW).key_id


def test_adyen_refuses_what_is_not_a_notification() -> None:
    verifier = presets.adyen(secret=ADYEN_KEY)
    good = adyen_request(SDK_ITEMS[0])
    bodies = [
        b"[]",
        b'{"notificationItems": []}',
        b'{"notificationItems": [{"other": {}}]}',
        json.dumps(
            {"notificationItems": [{"NotificationRequestItem": {}}] * (MAX_ADYEN_ITEMS + 1)}
        ).encode(),
    ]
    for body in bodies:
        with pytest.raises(VerificationError) as info:
            verifier.verify(good.replace(body=body))
        assert info.value.reason == "malformed_body"
    # a signed field of a type Adyen never sends (a JSON boolean, a float)
    for field, value in (("success", True), ("amount", {"value": 10.5, "currency": "EUR"})):
        item = dict(SDK_ITEMS[0], **{field: value})
        with pytest.raises(VerificationError) as info:
            verifier.verify(adyen_request(item))
        assert info.value.reason == "malformed_body"
    with pytest.raises(VerificationError) as info:
        verifier.verify(good.replace(headers={"Content-Type": "text/plain"}))
    assert info.value.reason == "malformed_header"


def test_adyen_key_is_hex() -> None:
    with pytest.raises(ConfigurationError, match=r"^presets\.adyen secret is not hex"):
        presets.adyen(secret="not hex")
    decoded = presets.adyen(secret=Secret(bytes.fromhex(ADYEN_KEY)))
    assert decoded.verify(adyen_request(*SDK_ITEMS)).key_id
    rotated = presets.adyen(secrets=["00" * 32, ADYEN_KEY.lower()])
    assert rotated.verify(adyen_request(*SDK_ITEMS)).key_id == "secret[1]"


# -- Braintree ---------------------------------------------------------------------------


def braintree_gateway(public_key: str = "pub_key", private_key: str = "priv_key") -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the SDK's own, on import
        import braintree

    config = braintree.Configuration(
        environment=braintree.Environment.Sandbox,
        merchant_id="merchant_id",
        public_key=public_key,
        private_key=private_key,
    )
    return braintree.BraintreeGateway(config)


@pytest.mark.parametrize(
    "kind", ["subscription_went_past_due", "disbursement", "check", "dispute_opened"]
)
def test_braintree_sdk_oracle_both_ways(kind: str) -> None:
    gateway = braintree_gateway()
    verifier = presets.braintree(public_key="pub_key", secret="priv_key")
    with warnings.catch_warnings():
        # the SDK's own deprecations (datetime.utcnow, dispute fields)
        warnings.simplefilter("ignore", DeprecationWarning)
        sample = gateway.webhook_testing.sample_notification(kind, "my_id")
        body = urllib.parse.urlencode(sample).encode()
        result = verifier.verify(WebhookRequest(headers=FORM, body=body), now=NOW)
        assert result.scheme == "braintree-hmac-sha1"
        signed = verifier.signed_body(sample["bt_payload"], NOW).decode()
        ours = dict(urllib.parse.parse_qsl(signed))
        parsed = gateway.webhook_notification.parse(ours["bt_signature"], ours["bt_payload"])
        assert parsed.kind == kind
    # another private key: the SDK refuses ours, and we refuse the SDK's
    other = presets.braintree(public_key="pub_key", secret="other_key")
    with pytest.raises(VerificationError):
        other.verify(WebhookRequest(headers=FORM, body=body), now=NOW)


def test_braintree_key_is_sha1_of_the_private_key() -> None:
    payload = base64.encodebytes(b"<notification/>").decode()
    verifier = presets.braintree(public_key="pk", secret="private")
    fields = dict(urllib.parse.parse_qsl(verifier.signed_body(payload, NOW).decode()))
    key = hashlib.sha1(b"private").digest()
    expected = hmac.new(key, payload.encode(), hashlib.sha1).hexdigest()
    assert fields == {"bt_signature": f"pk|{expected}", "bt_payload": payload}


def test_braintree_refuses_what_is_not_its_form() -> None:
    verifier = presets.braintree(public_key="pk", secret="private")
    payload = base64.encodebytes(b"<notification/>").decode()
    good = WebhookRequest(headers=FORM, body=verifier.signed_body(payload, NOW))
    fields = dict(urllib.parse.parse_qsl(good.body.decode()))
    for changed in (
        {"bt_payload": payload + "<"},  # not base64, as the SDK refuses
        {"bt_signature": ""},
        {"bt_signature": "&".join(["x|0"] * 17)},
    ):
        body = urllib.parse.urlencode({**fields, **changed}).encode()
        with pytest.raises(VerificationError) as info:
            verifier.verify(good.replace(body=body))
        assert info.value.reason == "malformed_body"
    twice = good.body + b"&bt_payload=QQ%3D%3D"
    with pytest.raises(VerificationError):
        verifier.verify(good.replace(body=twice))
    with pytest.raises(VerificationError) as info:
        verifier.verify(good.replace(headers=JSON))
    assert info.value.reason == "malformed_header"


def test_braintree_needs_its_public_key() -> None:
    for bad in ("", " ", "a|b", "a&b", None):
        with pytest.raises(ConfigurationError, match=r"^presets\.braintree\(public_key=\.\.\.\)"):
            presets.braintree(public_key=bad, secret="private")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="secret is empty"):
        presets.braintree(public_key="pk", secret="")
    with pytest.raises(ConfigurationError, match=r"^presets\.braintree needs a secret"):
        presets.braintree(public_key="pk")


# -- Plivo -------------------------------------------------------------------------------

PLIVO_CASES = [
    ("POST", "https://hooks.example.test/cb", {}),
    ("POST", "https://hooks.example.test/cb?b=2&a=1&a=0&e=", {"To": "1", "Text": "h\u00e9 +&="}),
    ("POST", "https://hooks.example.test/cb;v=1/x", {"Z": "1", "A": "x y", "a": ""}),
    ("GET", "https://hooks.example.test/cb?z=1&y=%20a&y=b", {}),
    ("GET", "https://hooks.example.test:8443/cb", {}),
]


@pytest.mark.parametrize(("method", "url", "fields"), PLIVO_CASES)
def test_plivo_sdk_oracle(method: str, url: str, fields: dict[str, str]) -> None:
    from plivo.utils import validate_v3_signature

    verifier = presets.plivo(secret="AUTH_TOKEN")
    body = urllib.parse.urlencode(fields).encode() if method == "POST" else b""
    headers = verifier.sign(body, NOW, method=method, url=url, id="8123412341234")
    params = dict(fields) if method == "POST" else None
    assert validate_v3_signature(
        method, url, "8123412341234", "AUTH_TOKEN", headers["X-Plivo-Signature-V3"], params
    )
    request = WebhookRequest(method, url, headers, body, received_at=NOW)
    assert verifier.verify(request).delivery_id == "8123412341234"
    # the SDK's own check fails for another token, and so does ours
    assert not validate_v3_signature(
        method, url, "8123412341234", "OTHER", headers["X-Plivo-Signature-V3"], params
    )


def test_plivo_configured_url_and_repeated_fields() -> None:
    vector = next(v for v in VECTORS if v["id"] == "plivo-sdk-message-status")
    request = vector_request(vector, NOW).replace(url="http://internal:8000/plivo/status")
    with pytest.raises(VerificationError):
        presets.plivo(secret=vector["secret"]).verify(request)
    configured = presets.plivo(secret=vector["secret"], url=vector["url"])
    assert configured.verify(request).delivery_id == "05429567804466091622"
    with pytest.raises(VerificationError) as info:
        configured.verify(request.replace(body=request.body + b"&To=1"))
    assert info.value.reason == "malformed_body"
    with pytest.raises(ConfigurationError, match=r"^presets\.plivo\(url=\.\.\.\)"):
        presets.plivo(secret="t", url="/relative")


# -- Contentful --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://h.test", "/"),
        ("https://h.test/a/b", "/a/b"),
        ("https://h.test/a%20b", "/a%2520b"),
        ("https://h.test/x?q=1&w=2", "/x?q%253D1%2526w%253D2"),
        ("https://h.test/x?a=(b)!*'~", "/x?a%253D(b)!*'~"),
        ("https://h.test/x?", "/x"),
    ],
)
def test_contentful_canonical_path(url: str, path: str) -> None:
    # node-apps-toolkit getNormalizedEncodedURI: querystring.escape, then encodeURI
    assert canonical_path(url) == path


def test_contentful_signs_the_listed_headers() -> None:
    vector = next(v for v in VECTORS if v["id"] == "contentful-sdk-query-app-context")
    verifier = preset_for(vector)
    request = vector_request(vector, NOW)
    assert verifier.verify(request, now=vector["now"]).scheme == "contentful-hmac-sha256"
    for name in ("Authorization", "x-contentful-app-id", "x-contentful-crn"):
        headers = {**vector["headers"], name: vector["headers"][name] + "x"}
        with pytest.raises(VerificationError):
            verifier.verify(request.replace(headers=headers), now=vector["now"])
    # an unlisted header may change; a listed one may not be dropped
    extra = request.replace(headers={**vector["headers"], "X-Other": "1"})
    assert verifier.verify(extra, now=vector["now"]).key_id
    dropped = {k: v for k, v in vector["headers"].items() if k != "Authorization"}
    with pytest.raises(VerificationError) as info:
        verifier.verify(request.replace(headers=dropped), now=vector["now"])
    assert info.value.reason == "missing_header"
    # a list without the headers Contentful always signs, or naming an absent one
    listed = vector["headers"]["x-contentful-signed-headers"]
    names = listed.split(",")
    for changed in (
        ",".join(n for n in names if n != "x-contentful-timestamp"),
        ",".join(n for n in names if n != "x-contentful-signed-headers"),
        listed + ",",
        listed + ",x-not-sent",
    ):
        headers = {**vector["headers"], "x-contentful-signed-headers": changed}
        with pytest.raises(VerificationError) as info:
            verifier.verify(request.replace(headers=headers), now=vector["now"])
        assert info.value.reason in ("malformed_header", "missing_header"), changed
    # the method is signed
    with pytest.raises(VerificationError):
        verifier.verify(request.replace(method="PUT"), now=vector["now"])


def test_contentful_window_is_thirty_seconds() -> None:
    vector = next(v for v in VECTORS if v["id"] == "contentful-sdk-get")
    verifier = preset_for(vector)
    assert (verifier.tolerance, verifier.future_tolerance) == (30, 300)
    with pytest.raises(VerificationError) as info:
        verifier.verify(vector_request(vector, NOW), now=vector["now"] + 31)
    assert info.value.reason == "timestamp_too_old"


# -- Segment and Lob ---------------------------------------------------------------------


def test_segment_is_sha1_hex_of_the_body() -> None:
    body = b'{"type":"track","event":"x"}'
    expected = hmac.new(b"shared", body, hashlib.sha1).hexdigest()
    verifier = presets.segment(secret="shared")
    assert verifier.sign(body) == {"X-Signature": expected}
    assert verifier.verify(WebhookRequest(headers={"X-Signature": expected}, body=body)).key_id


def test_lob_signs_milliseconds_and_the_event_id() -> None:
    vector = next(v for v in VECTORS if v["id"] == "lob-algorithm-valid")
    stamp = vector["headers"]["Lob-Signature-Timestamp"]
    message = f"{stamp}.{vector['body']}".encode()
    expected = hmac.new(vector["secret"].encode(), message, hashlib.sha256).hexdigest()
    assert vector["headers"]["Lob-Signature"] == expected
    result = preset_for(vector).verify(vector_request(vector, NOW), now=vector["now"])
    assert (result.timestamp, result.delivery_id) == (int(stamp) / 1000, "evt_d95ff8ffd2b5cfb4")


# -- the contract ------------------------------------------------------------------------


class TestSegment(PresetContract):
    preset = "segment"


class TestLob(PresetContract):
    preset = "lob"
    signs_timestamp = True


class TestPlivo(PresetContract):
    preset = "plivo"
    body = b"From=14155550100&To=14155550101&Text=h%C3%A9llo+there"


class TestContentful(PresetContract):
    preset = "contentful"
    signs_timestamp = True
    tolerance = 30.0
    future_tolerance = 300.0


class TestBraintree(VerifierContract):
    """Braintree's signature travels in the form body with the payload."""

    def make(self, keys: list[Any]) -> Any:
        return presets.braintree(public_key="contract_public_key", secrets=keys)

    def signed(self, verifier: Any, body: bytes | None = None, now: float = NOW) -> WebhookRequest:
        payload = base64.encodebytes(self.body if body is None else body)
        raw = verifier.signed_body(payload, now)
        return WebhookRequest("POST", self.url, verifier.sign(raw, now), raw, received_at=NOW)

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ()  # nothing in a header is signed


class TestAdyen(VerifierContract):
    """Adyen signs eight fields of each item, carried in the body.

    The contract's body tests assume the whole body is signed, which is not
    Adyen's scheme: they are replaced by the same tests over the signed
    fields, plus one that states the limit.
    """

    def make(self, keys: list[Any]) -> Any:
        return presets.adyen(secrets=keys)

    def item(self, body: bytes) -> dict[str, Any]:
        return {
            "pspReference": "8816178952380553",
            "merchantAccountCode": "ContractMerchant",
            "merchantReference": body.hex(),
            "amount": {"value": 1000, "currency": "EUR"},
            "eventCode": "AUTHORISATION",
            "success": "true",
        }

    def signed(self, verifier: Any, body: bytes | None = None, now: float = NOW) -> WebhookRequest:
        raw = verifier.signed_body([self.item(self.body if body is None else body)], now)
        return WebhookRequest("POST", self.url, verifier.sign(raw, now), raw, received_at=NOW)

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ()  # nothing in a header is signed

    @pytest.mark.parametrize(
        "field", ["pspReference", "merchantAccountCode", "merchantReference", "eventCode"]
    )
    def test_altered_body_rejected(self, field: str) -> None:  # type: ignore[override]
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        document = json.loads(request.body)
        item = document["notificationItems"][0]["NotificationRequestItem"]
        value = item[field]
        for index in range(0, len(value), max(1, len(value) // 16)):
            item[field] = mutate(value, index)
            with pytest.raises(VerificationError):
                verifier.verify(request.replace(body=json.dumps(document).encode()), now=NOW)
        item[field] = value
        item["amount"]["value"] = 1001
        with pytest.raises(VerificationError):
            verifier.verify(request.replace(body=json.dumps(document).encode()), now=NOW)

    def test_unsigned_fields_are_not_proved(self) -> None:
        # Adyen's documented limit, stated so that nobody relies on more.
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        document = json.loads(request.body)
        document["live"] = "true"
        document["notificationItems"][0]["NotificationRequestItem"]["reason"] = "forged"
        assert verifier.verify(request.replace(body=json.dumps(document).encode()), now=NOW)
        assert verifier.replay_default == "content"


def test_adyen_replay_key_is_not_changed_by_repeating_or_reordering_items() -> None:
    # Only the items' eight fields are signed: a captured batch sent again with its
    # items reordered, or with a signed item repeated, is the same notification and
    # must not pass the replay guard as a new one.
    from webhookverify import Handler, HandlerRegistry, Receiver

    receiver = Receiver(HandlerRegistry([Handler("adyen", presets.adyen(secret=ADYEN_KEY))]))
    seen: list[object] = []
    receiver.bus.bind("webhook.received", seen.append)
    first, second = SDK_ITEMS[0], SDK_ITEMS[1]
    assert receiver.receive(adyen_request(first, second)).status == 200
    assert receiver.receive(adyen_request(second, first)).reason == "duplicate"
    assert receiver.receive(adyen_request(first)).status == 200
    assert receiver.receive(adyen_request(first, first)).status == 401
    assert len(seen) == 2
    with pytest.raises(VerificationError) as info:
        presets.adyen(secret=ADYEN_KEY).verify(adyen_request(second, first, second))
    assert info.value.reason == "malformed_body"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_plivo_configured_url_still_signs_the_request_query(method: str) -> None:
    # Behind a proxy, url= gives the public scheme, host and path; the query the
    # request arrives with is what Plivo signed (for a GET, Plivo's parameters):
    # it must be checked, not replaced by the configured URL's.
    from plivo.utils import validate_v3_signature

    public = "https://hooks.example.test/cb"
    query = "z=1&y=%20a&y=b"
    fields = {"To": "1"} if method == "POST" else {}
    body = urllib.parse.urlencode(fields).encode()
    signer = presets.plivo(secret="AUTH_TOKEN")
    headers = signer.sign(body, NOW, method=method, url=f"{public}?{query}", id="81234")
    params = dict(fields) if method == "POST" else None
    signature = headers["X-Plivo-Signature-V3"]
    assert validate_v3_signature(
        method, f"{public}?{query}", "81234", "AUTH_TOKEN", signature, params
    )
    configured = presets.plivo(secret="AUTH_TOKEN", url=public)
    internal = f"http://internal:8000/cb?{query}"
    request = WebhookRequest(method, internal, headers, body, received_at=NOW)
    assert configured.verify(request).delivery_id == "81234"
    with pytest.raises(VerificationError):
        configured.verify(request.replace(url="http://internal:8000/cb?z=2&y=%20a&y=b"))
    # a request signed without a query cannot be given one
    bare = signer.sign(body, NOW, method=method, url=public, id="81235")
    with pytest.raises(VerificationError):
        configured.verify(WebhookRequest(method, internal, bare, body, received_at=NOW))


@pytest.mark.parametrize(
    ("signed_url", "sent_url"),
    [
        ("https://h.test/x?q=1", "https://h.test/x?q=1?admin=1"),
        ("https://h.test/x", "https://h.test/x??admin=1"),
    ],
)
def test_contentful_refuses_a_query_past_a_second_question_mark(
    signed_url: str, sent_url: str
) -> None:
    # The canonical path ends at a second "?": what follows it is not signed, so
    # a request carrying it would hand the application an unsigned query.
    verifier = presets.contentful(secret="s" * 64)
    headers = verifier.sign(b"{}", NOW, method="POST", url=signed_url)
    request = WebhookRequest("POST", signed_url, headers, b"{}", received_at=NOW)
    assert verifier.verify(request).scheme == "contentful-hmac-sha256"
    with pytest.raises(VerificationError):
        verifier.verify(request.replace(url=sent_url))
