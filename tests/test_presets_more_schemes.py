"""The presets that need their own verifier: Box, Linear, Mailgun, Mollie,
Mandrill and Netlify. Each runs the contract (adapted only where the
provider's scheme makes a contract test untrue, with the reason), then the
quirks of its scheme.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhookverify import (
    ConfigurationError,
    Secret,
    VerificationError,
    WebhookRequest,
    presets,
)
from webhookverify.presets._box import escape_body
from webhookverify.testing import sign_request

from contract import NOW, VerifierContract, mutate

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def mac(key: bytes, message: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(key, message, algorithm).digest()


# -- Box ---------------------------------------------------------------------------------


class TestBox(VerifierContract):
    signs_timestamp = True
    tolerance = 600.0
    future_tolerance = 300.0

    def make(self, keys: list[Any]) -> Any:
        return presets.box(secrets=keys)

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return verifier.required_headers  # type: ignore[no-any-return]


BOX_BODY = b'{"type":"webhook_event","trigger":"FILE.UPLOADED","source":{"name":"a.txt"}}'


def box_request(body: bytes, headers: dict[str, str]) -> WebhookRequest:
    return WebhookRequest(headers=headers, body=body, received_at=NOW)


def test_box_primary_and_secondary_keys() -> None:
    signer = presets.box(secret="primary-key", secondary_secret="secondary-key")
    headers = signer.sign(BOX_BODY, NOW)
    assert set(headers) >= {"box-signature-primary", "box-signature-secondary"}
    request = box_request(BOX_BODY, headers)
    assert signer.verify(request).key_id == "primary"
    # only the secondary key configured: the secondary signature verifies
    assert presets.box(secret="secondary-key").verify(request).key_id == "primary"
    broken = {**headers, "box-signature-primary": base64.b64encode(b"\0" * 32).decode()}
    verifier = presets.box(secret="other", secondary_secret="secondary-key")
    assert verifier.verify(box_request(BOX_BODY, broken)).key_id == "secondary"
    with pytest.raises(VerificationError) as info:
        presets.box(secret="primary-key").verify(
            box_request(BOX_BODY, {k: v for k, v in broken.items() if "secondary" not in k})
        )
    assert info.value.reason == "signature_mismatch"


@pytest.mark.parametrize(
    ("header", "value"),
    [("box-signature-version", "2"), ("box-signature-algorithm", "HmacSHA1")],
)
def test_box_pins_version_and_algorithm(header: str, value: str) -> None:
    verifier = presets.box(secret="k")
    headers = {**verifier.sign(BOX_BODY, NOW), header: value}
    with pytest.raises(VerificationError) as info:
        verifier.verify(box_request(BOX_BODY, headers))
    assert info.value.reason == "unsupported_signature_version"


def test_box_window_is_ten_minutes_past_and_configurable_future() -> None:
    verifier = presets.box(secret="k")
    verifier.verify(box_request(BOX_BODY, verifier.sign(BOX_BODY, NOW - 600)))
    with pytest.raises(VerificationError, match="older"):
        verifier.verify(box_request(BOX_BODY, verifier.sign(BOX_BODY, NOW - 601)))
    verifier.verify(box_request(BOX_BODY, verifier.sign(BOX_BODY, NOW + 60)))
    strict = presets.box(secret="k", future_tolerance=0)
    with pytest.raises(VerificationError, match="ahead"):
        strict.verify(box_request(BOX_BODY, strict.sign(BOX_BODY, NOW + 1)))


def test_box_rfc3339_offsets() -> None:
    verifier = presets.box(secret="k")
    stamp = "2023-11-14T15:13:20-07:00"  # == NOW
    headers = verifier.sign(BOX_BODY, NOW, timestamp=stamp)
    assert verifier.verify(box_request(BOX_BODY, headers)).timestamp == NOW


def sdk_escape(text: str) -> str:
    """Box's escape_unicode, restated from box-sdk-gen to pin our implementation."""
    out = []
    for index, char in enumerate(text):
        if char == "\\":
            out.append("\\" if text[index + 1 : index + 2] == "/" else "\\\\")
        elif char in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char])
        elif 0x20 <= ord(char) <= 0x7E:
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            code = ord(char) - 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
    return "".join(out)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain", None),
        ('{"name":"\\/"}', None),
        ('{"name":"a\\\\b"}', '{"name":"a\\\\\\\\b"}'),
        ("caf\u00e9", "caf\\u00e9"),
        ("\U0001f600", "\\ud83d\\ude00"),
        ("a\nb\tc\rd\x7f", "a\\nb\\tc\\rd\\u007f"),
        ("\\\\/", "\\\\\\/"),
    ],
)
def test_box_escape_body(text: str, escaped: str | None) -> None:
    result = escape_body(text.encode("utf-8"))
    assert result == (None if escaped is None else escaped.encode("ascii"))
    if escaped is not None:
        assert escaped == sdk_escape(text)


def test_box_escape_body_leaves_non_utf8_alone() -> None:
    assert escape_body(b"\xff\xfe") is None


@PROPERTY
@given(text=st.text(max_size=200))
def test_box_escape_matches_the_sdk_rule(text: str) -> None:
    result = escape_body(text.encode("utf-8"))
    expected = sdk_escape(text)
    assert (result or text.encode("utf-8")) == expected.encode("ascii")


def test_box_escaped_fallback_in_sdk_order() -> None:
    body = '{"source":{"name":"\U0001f600 \u00e9\\/"}}'.encode()
    stamp = "2023-11-14T22:13:20Z"
    escaped = escape_body(body)
    assert escaped is not None
    signature = base64.b64encode(mac(b"k", escaped + stamp.encode())).decode()
    headers = {
        "box-delivery-timestamp": stamp,
        "box-signature-version": "1",
        "box-signature-algorithm": "HmacSHA256",
        "box-signature-primary": signature,
    }
    verification = presets.box(secret="k").verify(box_request(body, headers))
    assert verification.signed[0] == escaped
    # and through the secondary header
    headers2 = {
        **headers,
        "box-signature-primary": "A" * 43 + "=",
        "box-signature-secondary": signature,
    }
    presets.box(secret="other", secondary_secret="k").verify(box_request(body, headers2))
    # the raw body is tried first: both forms sign different messages
    raw = base64.b64encode(mac(b"k", body + stamp.encode())).decode()
    assert raw != signature
    presets.box(secret="k").verify(box_request(body, {**headers, "box-signature-primary": raw}))


def test_box_configuration() -> None:
    with pytest.raises(ConfigurationError):
        presets.box(secrets=["a"], secondary_secret="b")
    with pytest.raises(ConfigurationError):
        presets.box(secondary_secret="b")
    keyed = presets.box(secret=Secret("p", key_id="mine"))
    request = box_request(BOX_BODY, keyed.sign(BOX_BODY, NOW))
    assert keyed.verify(request).key_id == "mine"


# -- Linear ------------------------------------------------------------------------------


class TestLinear(VerifierContract):
    signs_timestamp = True
    tolerance = 60.0

    def make(self, keys: list[Any]) -> Any:
        return presets.linear(secrets=keys)

    def signed(self, verifier: Any, body: bytes | None = None, now: float = NOW) -> WebhookRequest:
        # Linear's timestamp lives in the signed body: build one that carries it.
        payload = self.body if body is None else body
        document = {
            "action": "create",
            "data": base64.b64encode(payload).decode(),
            "webhookTimestamp": int(now * 1000),
            "webhookId": "wh_1",
        }
        raw = json.dumps(document).encode()
        return sign_request(verifier, raw, now=now, url=self.url, received_at=NOW)


def linear_request(body: bytes, secret: bytes = b"k") -> WebhookRequest:
    return WebhookRequest(headers={"Linear-Signature": mac(secret, body).hex()}, body=body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"action":"x","webhookTimestamp":1700000000000}',
        b'{"webhookTimestamp":1700000000000,"data":{"webhookTimestamp":1}}',
        b'{"data":{"webhookTimestamp":1},"webhookTimestamp":1700000000000}',
        b'{"webhookTimestamp":1,"x":[{"webhookTimestamp":2}],"webhookTimestamp":1700000000000}',
        b'{"a":"\\"webhookTimestamp\\":5","webhookTimestamp": 1700000000000 ,"b":null}',
        b'{"data":{"webhookTimestamp":1}, "webhook\\u0054imestamp":1700000000000}',
        b'{"webhookTimestamp":1700000000000,' + b'"pad":"' + b"x" * 70_000 + b'"}',
        b'\n{"webhookTimestamp":1700000000000}\n',
    ],
)
def test_linear_reads_the_top_level_timestamp(body: bytes) -> None:
    assert json.loads(body)["webhookTimestamp"] == 1_700_000_000_000
    assert presets.linear(secret="k").verify(linear_request(body), now=NOW).timestamp == NOW


@pytest.mark.parametrize(
    "body",
    [
        b'{"data":{"webhookTimestamp":1700000000000}}',
        b'{"x\\"webhookTimestamp":1700000000000}',
        b'[{"webhookTimestamp":1700000000000}]',
        b'{"webhookTimestamp":"1700000000000"}',
        b'{"webhookTimestamp":1700000000000.5}',
        b'{"webhookTimestamp":-1}',
        b'{"webhookTimestamp":true}',
        b'{"webhookTimestamp":1700000000000',
        b"\xff",
        b"[" * 100_000,
    ],
)
def test_linear_refuses_bodies_without_a_top_level_integer_timestamp(body: bytes) -> None:
    with pytest.raises(VerificationError) as info:
        presets.linear(secret="k").verify(linear_request(body), now=NOW)
    assert info.value.reason in ("malformed_body", "malformed_timestamp")


def test_linear_checks_the_signature_before_the_timestamp() -> None:
    body = b'{"webhookTimestamp":1}'  # stale, but the signature is wrong first
    with pytest.raises(VerificationError) as info:
        presets.linear(secret="k").verify(linear_request(body, b"other"), now=NOW)
    assert info.value.reason == "signature_mismatch"
    with pytest.raises(VerificationError) as info:
        presets.linear(secret="k").verify(linear_request(body), now=NOW)
    assert info.value.reason == "timestamp_too_old"
    assert presets.linear(secret="k", tolerance=None).verify(linear_request(body), now=NOW)


def test_linear_sign_refuses_a_body_it_could_not_verify() -> None:
    with pytest.raises(VerificationError):
        presets.linear(secret="k").sign(b'{"action":"create"}', NOW)


@PROPERTY
@given(
    members=st.dictionaries(
        st.text(max_size=8).filter(lambda k: k != "webhookTimestamp"),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(
                    st.sampled_from(["webhookTimestamp", "a", "\\"]), inner, max_size=3
                )
            ),
            max_leaves=8,
        ),
        max_size=5,
    ),
    position=st.integers(min_value=0, max_value=5),
    indent=st.sampled_from([None, 1]),
)
def test_linear_timestamp_agrees_with_json_loads(
    members: dict[str, Any], position: int, indent: int | None
) -> None:
    items = list(members.items())
    items.insert(min(position, len(items)), ("webhookTimestamp", 1_700_000_000_123))
    body = json.dumps(dict(items), indent=indent, ensure_ascii=position % 2 == 0).encode()
    verification = presets.linear(secret="k").verify(linear_request(body), now=NOW)
    assert verification.timestamp == json.loads(body)["webhookTimestamp"] / 1000


# -- Mailgun ------------------------------------------------------------------------------


class TestMailgun(VerifierContract):
    """Mailgun signs (timestamp, token), carried in the body; the event data is unsigned.

    The contract's body tests assume the whole body is signed, which is not
    Mailgun's scheme: they are replaced by the same tests over the signature
    object, plus one that states the limit.
    """

    signs_timestamp = True
    tolerance = 900.0

    def make(self, keys: list[Any]) -> Any:
        return presets.mailgun(secrets=keys)

    def signed(self, verifier: Any, body: bytes | None = None, now: float = NOW) -> WebhookRequest:
        event = {"event": "delivered", "raw": (self.body if body is None else body).hex()}
        raw = verifier.signed_body(event, now, token="t" * 50)
        return sign_request(verifier, raw, now=now, url=self.url, received_at=NOW)

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ()  # nothing in a header is signed

    @pytest.mark.parametrize("where", ["token", "timestamp", "signature"])
    def test_altered_body_rejected(self, where: str) -> None:  # type: ignore[override]
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        document = json.loads(request.body)
        value = str(document["signature"][where])
        for index in range(len(value)):
            document["signature"][where] = mutate(value, index)
            with pytest.raises(VerificationError):
                verifier.verify(request.replace(body=json.dumps(document).encode()), now=NOW)

    def test_event_data_is_not_signed(self) -> None:
        # Mailgun's documented limit, stated so that nobody relies on more.
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        document = json.loads(request.body)
        document["event-data"] = {"event": "forged"}
        verifier.verify(request.replace(body=json.dumps(document).encode()), now=NOW)

    def test_token_is_the_replay_key(self) -> None:
        verifier = self.make([self.new_key(0)])
        verification = verifier.verify(self.signed(verifier), now=NOW)
        assert verification.delivery_id == "t" * 50
        assert verifier.replay_default == "id"
        assert verifier.replay_window == 1800


MAILGUN_KEY = "mailgun-webhook-signing-key"


def mailgun_fields(
    token: str = "a" * 50, stamp: str = "1700000000", key: str = MAILGUN_KEY
) -> dict[str, str]:
    signature = mac(key.encode(), (stamp + token).encode()).hex()
    return {"token": token, "timestamp": stamp, "signature": signature}


def test_mailgun_json_signature_object_anywhere() -> None:
    fields = mailgun_fields()
    verifier = presets.mailgun(secret=MAILGUN_KEY)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    for document in (
        {"signature": fields, "event-data": {"event": "opened"}},
        {"event-data": {"event": "opened", "signature": "x"}, "signature": fields},
        {"signature": {**fields, "note": "}"}, "event-data": {}},
    ):
        body = json.dumps(document, indent=2).encode()
        assert verifier.verify(WebhookRequest(headers=headers, body=body), now=NOW).delivery_id
    as_int = {**fields, "timestamp": 1700000000}
    verifier.verify(
        WebhookRequest(headers=headers, body=json.dumps({"signature": as_int}).encode()), now=NOW
    )


def test_mailgun_form_bodies() -> None:
    fields = mailgun_fields()
    verifier = presets.mailgun(secret=MAILGUN_KEY)
    form = urllib.parse.urlencode({**fields, "event": "delivered", "recipient": "a@b.test"})
    urlencoded = {"Content-Type": "application/x-www-form-urlencoded"}
    verifier.verify(WebhookRequest(headers=urlencoded, body=form.encode()), now=NOW)
    boundary = "XyZ"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in {**fields, "body-plain": "hello"}.items()
    ]
    attachment = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachment-1"; '
        'filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
    )
    multipart = (
        "".join(parts).encode()
        + attachment.encode()
        + b"\x00\xff\r\n"
        + f"--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    assert verifier.verify(WebhookRequest(headers=headers, body=multipart), now=NOW).delivery_id
    twice = form + "&token=" + "b" * 50
    with pytest.raises(VerificationError) as info:
        verifier.verify(WebhookRequest(headers=urlencoded, body=twice.encode()), now=NOW)
    assert info.value.reason == "malformed_body"


def test_mailgun_parent_signature() -> None:
    parent = "parent-account-key"
    fields = mailgun_fields(key="subaccount-key")
    fields["parent-signature"] = mailgun_fields(key=parent)["signature"]
    body = json.dumps({"signature": fields}).encode()
    request = WebhookRequest(headers={"Content-Type": "application/json"}, body=body)
    presets.mailgun(secret=parent).verify(request, now=NOW)
    presets.mailgun(secret="subaccount-key").verify(request, now=NOW)
    with pytest.raises(VerificationError):
        presets.mailgun(secret="third").verify(request, now=NOW)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b"{}"),
        ("application/json", b"{}"),
        ("application/json", b'{"signature":"x"}'),
        ("application/json", b'{"signature":{"token":"a","timestamp":"1"}}'),
        ("application/json", b'{"signature":{"token":5,"timestamp":"1","signature":"00"}}'),
        ("application/json", b'{"signature":{"token":"a b","timestamp":"1","signature":"00"}}'),
        ("application/json", b'{"signature":{"token":"' + b"a" * 300 + b'","timestamp":"1"}}'),
        ("application/json", b'{"signature":{"token":"a","timestamp":true,"signature":"0"}}'),
        ("application/json", b'{"signature":{"token":"a","timestamp":"-1","signature":"0"}}'),
        ("application/json", b'{"signature":{' + b"[" * 3000 + b"}"),
        ("application/json", b"\xff\xfe"),
        ("application/x-www-form-urlencoded", b"token=%ZZ&&"),
        ("multipart/form-data; boundary=x", b"--x\r\n\r\n--x--"),
        ("multipart/form-data", b"garbage"),
    ],
)
def test_mailgun_malformed_bodies_give_verification_errors(content_type: str, body: bytes) -> None:
    with pytest.raises(VerificationError):
        presets.mailgun(secret=MAILGUN_KEY).verify(
            WebhookRequest(headers={"Content-Type": content_type}, body=body), now=NOW
        )


@PROPERTY
@given(body=st.binary(max_size=400), boundary=st.sampled_from(["x", "--", "a'b"]))
def test_mailgun_any_multipart_body_gives_only_verification_errors(
    body: bytes, boundary: str
) -> None:
    headers = {"Content-Type": f'multipart/form-data; boundary="{boundary}"'}
    with pytest.raises(VerificationError):
        presets.mailgun(secret=MAILGUN_KEY).verify(WebhookRequest(headers=headers, body=body))


def test_mailgun_sign_only_vouches_for_signed_bodies() -> None:
    verifier = presets.mailgun(secret=MAILGUN_KEY)
    body = verifier.signed_body({"event": "delivered"}, NOW)
    assert verifier.sign(body, NOW) == {"Content-Type": "application/json"}
    with pytest.raises(VerificationError):
        verifier.sign(b'{"event-data":{}}', NOW)


# -- Mollie -------------------------------------------------------------------------------


MOLLIE_BODY = b'{"resource":"event","id":"event_1","type":"payment-link.paid"}'


def mollie_request(*values: str) -> WebhookRequest:
    return WebhookRequest(headers=[("X-Mollie-Signature", v) for v in values], body=MOLLIE_BODY)


def test_mollie_prefix_optional_and_several_values() -> None:
    good = mac(b"k", MOLLIE_BODY).hex()
    verifier = presets.mollie(secret="k")
    for values in (
        ("sha256=" + good,),
        (good,),
        ("sha256=" + "0" * 64, "sha256=" + good),
        ("sha256=" + "0" * 64 + ", " + good,),
    ):
        verifier.verify(mollie_request(*values))
    assert verifier.sign(MOLLIE_BODY) == {"X-Mollie-Signature": "sha256=" + good}
    for values, reason in (
        (("sha256=" + good.upper(),), "malformed_signature"),
        (("sha1=" + good,), "malformed_signature"),
        ((",".join([good] * 17),), "malformed_header"),
        ((), "missing_header"),
    ):
        with pytest.raises(VerificationError) as info:
            verifier.verify(mollie_request(*values))
        assert info.value.reason == reason


def test_mollie_several_secrets_during_a_rotation() -> None:
    old, new = mac(b"old", MOLLIE_BODY).hex(), mac(b"new", MOLLIE_BODY).hex()
    verifier = presets.mollie(secrets=["old", "new"])
    assert verifier.verify(mollie_request(old)).key_id == "secret[0]"
    assert verifier.verify(mollie_request("sha256=" + new)).key_id == "secret[1]"


# -- Mandrill -----------------------------------------------------------------------------


MANDRILL_URL = "https://hooks.example.test/mandrill?source=contract"


class TestMandrill(VerifierContract):
    body = b"mandrill_events=%5B%7B%22event%22%3A%22send%22%2C%22ts%22%3A1365109999%7D%5D"
    url = MANDRILL_URL

    def make(self, keys: list[Any]) -> Any:
        return presets.mandrill(secrets=keys, url=MANDRILL_URL)

    @PROPERTY
    @given(
        fields=st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=40), max_size=5),
        flip=st.integers(min_value=0),
    )
    def test_property_round_trip_and_any_flip(  # type: ignore[override]
        self, fields: dict[str, str], flip: int
    ) -> None:
        # Mandrill signs the decoded fields, not the bytes (%2B and %2b verify
        # alike), so the property is over the fields: any change is refused.
        verifier = self.make([self.new_key(0)])
        body = urllib.parse.urlencode(fields).encode()
        request = self.signed(verifier, body=body)
        assert verifier.verify(request, now=NOW).key_id == "k0"
        if fields:
            name = sorted(fields)[flip % len(fields)]
            value = fields[name]
            changed = {**fields, name: mutate(value, flip % len(value)) if value else "x"}
            altered = urllib.parse.urlencode(changed).encode()
            with pytest.raises(VerificationError):
                verifier.verify(request.replace(body=altered), now=NOW)


def test_mandrill_message_is_url_then_sorted_fields() -> None:
    form = b"b=2&a=%C3%A9&c="
    expected = base64.b64encode(
        mac(b"k", MANDRILL_URL.encode() + "a\u00e9b2c".encode(), "sha1")
    ).decode()
    request = WebhookRequest(
        url="http://internal:8000/hook", headers={"X-Mandrill-Signature": expected}, body=form
    )
    presets.mandrill(secret="k", url=MANDRILL_URL).verify(request)
    with pytest.raises(VerificationError):  # the request's own URL differs
        presets.mandrill(secret="k").verify(request)
    presets.mandrill(secret="k").verify(request.replace(url=MANDRILL_URL))
    # the same fields, encoded differently, carry the same signature
    presets.mandrill(secret="k", url=MANDRILL_URL).verify(request.replace(body=b"c=&b=2&a=%c3%a9"))


def test_mandrill_refuses_repeated_fields() -> None:
    verifier = presets.mandrill(secret="k", url=MANDRILL_URL)
    with pytest.raises(VerificationError) as info:
        verifier.verify(
            WebhookRequest(headers={"X-Mandrill-Signature": "A" * 27 + "="}, body=b"a=1&a=2")
        )
    assert info.value.reason == "malformed_body"


# -- Netlify ------------------------------------------------------------------------------


class TestNetlify(VerifierContract):
    def make(self, keys: list[Any]) -> Any:
        return presets.netlify(secrets=keys)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jws(header: dict[str, Any], claims: dict[str, Any], key: bytes = b"k") -> str:
    head = b64url(json.dumps(header).encode())
    payload = b64url(json.dumps(claims).encode())
    signature = b64url(mac(key, f"{head}.{payload}".encode()))
    return f"{head}.{payload}.{signature}"


NETLIFY_BODY = b'{"id":"5ebc","state":"ready"}'
NETLIFY_CLAIMS = {"iss": "netlify", "sha256": hashlib.sha256(NETLIFY_BODY).hexdigest()}


def netlify_request(token: str, body: bytes = NETLIFY_BODY) -> WebhookRequest:
    return WebhookRequest(headers={"X-Webhook-Signature": token}, body=body, received_at=NOW)


def test_netlify_accepts_extra_claims_and_headers() -> None:
    token = jws({"alg": "HS256", "typ": "JWT", "kid": "x"}, {**NETLIFY_CLAIMS, "iat": 1})
    presets.netlify(secret="k").verify(netlify_request(token))
    token = jws({"alg": "HS256"}, {**NETLIFY_CLAIMS, "exp": NOW + 1})
    presets.netlify(secret="k").verify(netlify_request(token))


@pytest.mark.parametrize(
    ("header", "claims", "reason"),
    [
        ({"alg": "none"}, NETLIFY_CLAIMS, "unsupported_signature_version"),
        ({"alg": "HS512"}, NETLIFY_CLAIMS, "unsupported_signature_version"),
        ({"alg": "hs256"}, NETLIFY_CLAIMS, "unsupported_signature_version"),
        (
            {"alg": "HS256", "crit": ["b64"], "b64": False},
            NETLIFY_CLAIMS,
            "unsupported_signature_version",
        ),
        ({"typ": "JWT"}, NETLIFY_CLAIMS, "unsupported_signature_version"),
        ({"alg": "HS256"}, {**NETLIFY_CLAIMS, "iss": "other"}, "signature_mismatch"),
        ({"alg": "HS256"}, {"iss": "netlify"}, "signature_mismatch"),
        (
            {"alg": "HS256"},
            {**NETLIFY_CLAIMS, "sha256": NETLIFY_CLAIMS["sha256"].upper()},
            "signature_mismatch",
        ),
        ({"alg": "HS256"}, {**NETLIFY_CLAIMS, "sha256": 5}, "signature_mismatch"),
        ({"alg": "HS256"}, {**NETLIFY_CLAIMS, "exp": NOW}, "timestamp_too_old"),
        ({"alg": "HS256"}, {**NETLIFY_CLAIMS, "nbf": NOW + 301}, "timestamp_in_future"),
        ({"alg": "HS256"}, {**NETLIFY_CLAIMS, "exp": "soon"}, "malformed_header"),
    ],
)
def test_netlify_refusals(header: dict[str, Any], claims: dict[str, Any], reason: str) -> None:
    with pytest.raises(VerificationError) as info:
        presets.netlify(secret="k").verify(netlify_request(jws(header, claims)))
    assert info.value.reason == reason


def test_netlify_unsigned_token_is_refused() -> None:
    head = b64url(b'{"alg":"none"}')
    payload = b64url(json.dumps(NETLIFY_CLAIMS).encode())
    for token in (f"{head}.{payload}.", f"{head}.{payload}"):
        with pytest.raises(VerificationError) as info:
            presets.netlify(secret="k").verify(netlify_request(token))
        assert info.value.reason == "malformed_header"


@pytest.mark.parametrize(
    "token",
    [
        "a.b",
        "a.b.c.d",
        "..",
        "e30.e30.",
        "W10.e30." + "A" * 43,
        "e30=.e30.AAAA",
        "e30.e30+.AAAA",
        "e30.e30/.AAAA",
        "e30.e30 .AAAA",
        "x" * 5000,
    ],
)
def test_netlify_malformed_tokens(token: str) -> None:
    with pytest.raises(VerificationError) as info:
        presets.netlify(secret="k").verify(netlify_request(token))
    assert info.value.reason in ("malformed_header", "unsupported_signature_version")


def test_netlify_sign_produces_a_standard_jwt() -> None:
    header = presets.netlify(secret="k").sign(NETLIFY_BODY)["X-Webhook-Signature"]
    head, payload, signature = header.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    assert json.loads(base64.urlsafe_b64decode(pad(head))) == {"alg": "HS256", "typ": "JWT"}
    assert json.loads(base64.urlsafe_b64decode(pad(payload))) == NETLIFY_CLAIMS
    assert base64.urlsafe_b64decode(pad(signature)) == mac(b"k", f"{head}.{payload}".encode())
