from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhookverify import (
    ConfigurationError,
    HmacVerifier,
    InvalidRequest,
    KeyValueHeader,
    MalformedSignature,
    MessageTemplate,
    Secret,
    TimestampInFuture,
    TimestampOutsideTolerance,
    TimestampTooOld,
    VerificationError,
    WebhookRequest,
    presets,
)
from webhookverify.testing import sign_request

from contract import NOW, VerifierContract


def mac(key: bytes, message: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(key, message, algorithm).digest()


# -- the contract, over the shapes of scheme the field uses -----------------------------


class TestTikiHexContract(VerifierContract):
    def make(self, keys: list[Any]) -> HmacVerifier:
        return HmacVerifier(secrets=keys, header="Webhook-Signature")


class TestTikiBase64Contract(VerifierContract):
    def make(self, keys: list[Any]) -> HmacVerifier:
        return HmacVerifier(secrets=keys, header="Webhook-Signature", encoding="base64")


class TestBase64UrlSha512Contract(VerifierContract):
    def make(self, keys: list[Any]) -> HmacVerifier:
        return HmacVerifier(secrets=keys, header="X-Sig", algorithm="sha512", encoding="base64url")


class TestGitHubStyleContract(VerifierContract):
    def make(self, keys: list[Any]) -> HmacVerifier:
        return HmacVerifier(secrets=keys, header="X-Hub-Signature-256", prefix="sha256=")


class TestSlackStyleContract(VerifierContract):
    signs_timestamp = True

    def make(self, keys: list[Any]) -> HmacVerifier:
        return HmacVerifier(
            secrets=keys,
            header="X-Slack-Signature",
            prefix="v0=",
            template="v0:{timestamp}:{body}",
            timestamp_header="X-Slack-Request-Timestamp",
        )

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ("X-Slack-Signature", "X-Slack-Request-Timestamp")


class TestStripeStyleContract(VerifierContract):
    signs_timestamp = True

    def make(self, keys: list[Any]) -> HmacVerifier:
        return HmacVerifier(
            secrets=keys,
            header="Stripe-Signature",
            header_format=KeyValueHeader(signature_key="v1", timestamp_key="t"),
            template="{timestamp}.{body}",
        )


class TestTwitchStyleContract(VerifierContract):
    signs_timestamp = True

    def make(self, keys: list[Any]) -> HmacVerifier:
        return HmacVerifier(
            secrets=keys,
            header="Twitch-Eventsub-Message-Signature",
            prefix="sha256=",
            template="{id}{timestamp}{body}",
            id_header="Twitch-Eventsub-Message-Id",
            timestamp_header="Twitch-Eventsub-Message-Timestamp",
            timestamp_format="rfc3339",
        )

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return verifier.required_headers  # type: ignore[no-any-return]

    def test_delivery_id_is_signed(self) -> None:
        verifier = self.make([self.new_key(0)])
        request = sign_request(verifier, b"{}", now=NOW, id="abc-123")
        assert verifier.verify(request, now=NOW).delivery_id == "abc-123"
        assert verifier.replay_default == "id"


class TestMethodUrlHeaderTemplateContract(VerifierContract):
    def make(self, keys: list[Any]) -> HmacVerifier:
        return HmacVerifier(
            secrets=keys,
            header="X-Sig",
            encoding="base64",
            template="{method}\n{url}\n{header:X-Account}\n{body}",
        )

    sign_parts = {"X-Account": "acct_1"}  # noqa: RUF012

    def test_url_and_method_are_signed(self) -> None:
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        verifier.verify(request, now=NOW)
        for changed in (request.replace(url=request.url + "&x=1"), request.replace(method="PUT")):
            with pytest.raises(VerificationError):
                verifier.verify(changed, now=NOW)


# -- behaviour -------------------------------------------------------------------


def test_github_documentation_vector() -> None:
    verifier = HmacVerifier(
        secret="It's a Secret to Everybody", header="X-Hub-Signature-256", prefix="sha256="
    )
    sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    request = WebhookRequest(headers={"x-hub-signature-256": sig}, body=b"Hello, World!")
    result = verifier.verify(request)
    assert result.scheme == "hmac-sha256"
    assert result.key_id == "secret[0]"
    assert result.delivery_id is None
    assert verifier.replay_default == "content"
    assert verifier.sign(b"Hello, World!") == {"X-Hub-Signature-256": sig}


def test_hex_either_case_unless_pinned_lower() -> None:
    body = b"payload"
    digest = mac(b"k", body).hex()
    either = HmacVerifier(secret="k", header="S")
    lower = HmacVerifier(secret="k", header="S", encoding="hex_lower")
    upper = WebhookRequest(headers={"S": digest.upper()}, body=body)
    either.verify(upper)
    with pytest.raises(MalformedSignature):
        lower.verify(upper)
    lower.verify(upper.replace(headers={"S": digest}))


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("hex", "ab cd"),
        ("hex", "abc"),
        ("hex", " " + "00" * 32),
        ("base64", "AAAA AAAA"),
        ("base64", "AAAA"),  # decodes, but to the wrong length
        ("base64", "AB=="),  # non-zero trailing bits
        ("base64", "AAA"),  # padding missing
        ("base64url", "+/8="),
        ("base64", "-_8="),
    ],
)
def test_strict_decoding(encoding: Any, text: str) -> None:
    verifier = HmacVerifier(secret="k", header="S", encoding=encoding)
    with pytest.raises(MalformedSignature):
        verifier.verify(WebhookRequest(headers={"S": text}, body=b""))


def test_truncated_signature_never_verifies() -> None:
    body = b"body"
    full = mac(b"k", body)
    verifier = HmacVerifier(secret="k", header="S", encoding="base64")
    for length in range(len(full)):
        text = base64.b64encode(full[:length]).decode()
        with pytest.raises(VerificationError):
            verifier.verify(WebhookRequest(headers={"S": text}, body=body))


def test_several_signatures_with_delimiter_and_unknown_versions() -> None:
    body = b"{}"
    good = "v1," + base64.b64encode(mac(b"k", body)).decode()
    verifier = HmacVerifier(secret="k", header="S", encoding="base64", prefix="v1,", delimiter=" ")
    for value in (good, f"v2,abc {good}", f"v1,AAAA {good}", f"{good} v1,{'A' * 43}="):
        verifier.verify(WebhookRequest(headers={"S": value}, body=body))
    with pytest.raises(VerificationError, match="has no signature starting with 'v1,'"):
        verifier.verify(WebhookRequest(headers={"S": "v2,abc v3,def"}, body=body))
    with pytest.raises(VerificationError, match="too many"):
        verifier.verify(WebhookRequest(headers={"S": " ".join([good] * 17)}, body=body))


def test_stripe_header_with_several_v1_and_v0() -> None:
    secret = "whsec_test_secret"
    body = b'{"id":"evt_1"}'
    ts = "1700000000"
    sig = mac(secret.encode(), ts.encode() + b"." + body).hex()
    verifier = HmacVerifier(
        secret=secret,
        header="Stripe-Signature",
        header_format=KeyValueHeader(),
        template="{timestamp}.{body}",
    )
    header = f"t={ts},v1={'0' * 64},v0=abcdef,v1={sig}"
    result = verifier.verify(
        WebhookRequest(headers={"Stripe-Signature": header}, body=body), now=NOW
    )
    assert result.timestamp == NOW
    with pytest.raises(VerificationError) as info:
        verifier.verify(
            WebhookRequest(headers={"Stripe-Signature": f"v1={sig}"}, body=body), now=NOW
        )
    assert info.value.reason == "missing_header"
    with pytest.raises(VerificationError) as info:
        verifier.verify(
            WebhookRequest(headers={"Stripe-Signature": f"t={ts},t={ts},v1={sig}"}, body=body),
            now=NOW,
        )
    assert info.value.reason == "malformed_header"


@pytest.mark.parametrize(
    "stamp", ["+1700000000", " 1700000000", "1700000000.5", "-1", "१७", "", "1e9"]
)
def test_timestamp_parsing_is_strict(stamp: str) -> None:
    verifier = HmacVerifier(
        secret="k", header="S", template="{timestamp}.{body}", timestamp_header="T", tolerance=None
    )
    body = b"x"
    sig = mac(b"k", stamp.encode("utf-8") + b"." + body).hex()
    try:
        request = WebhookRequest(headers={"S": sig, "T": stamp}, body=body)
    except InvalidRequest:  # non-latin-1 digits cannot even be sent
        return
    with pytest.raises(VerificationError) as info:
        verifier.verify(request, now=NOW)
    assert info.value.reason in ("malformed_timestamp", "malformed_header")


def test_separate_past_and_future_tolerance_and_off_by_name() -> None:
    verifier = HmacVerifier(
        secret="k",
        header="S",
        template="{timestamp}{body}",
        timestamp_header="T",
        tolerance=10,
        future_tolerance=0,
    )
    verifier.verify(sign_request(verifier, now=NOW - 10), now=NOW)
    with pytest.raises(VerificationError, match="older"):
        verifier.verify(sign_request(verifier, now=NOW - 11), now=NOW)
    with pytest.raises(VerificationError, match="ahead"):
        verifier.verify(sign_request(verifier, now=NOW + 1), now=NOW)
    off = HmacVerifier(
        secret="k", header="S", template="{timestamp}{body}", timestamp_header="T", tolerance=None
    )
    off.verify(sign_request(off, now=NOW - 10**8), now=NOW)  # three years late
    # but of the clock's width: in "{timestamp}{body}" nothing else marks its end
    with pytest.raises(VerificationError, match="digits, not the 10"):
        off.verify(sign_request(off, now=1), now=NOW)
    assert off.replay_window is None
    assert verifier.replay_window == 10


def test_rfc3339_timestamps() -> None:
    verifier = HmacVerifier(
        secret="k",
        header="S",
        template="{timestamp}{body}",
        timestamp_header="T",
        timestamp_format="rfc3339",
    )
    for stamp in (
        "2023-11-14T22:13:20Z",
        "2023-11-14T22:13:20.123456789Z",
        "2023-11-14T23:13:20+01:00",
    ):
        request = sign_request(verifier, now=NOW, timestamp=stamp)
        assert abs(verifier.verify(request, now=NOW).timestamp - NOW) < 1  # type: ignore[operator]
    for stamp in (
        "2023-11-14 22:13:20Z",
        "2023-02-30T00:00:00Z",
        "2023-11-14T22:13:20",
        "yesterday",
    ):
        with pytest.raises(VerificationError) as info:
            verifier.verify(sign_request(verifier, now=NOW, timestamp=stamp), now=NOW)
        assert info.value.reason == "malformed_timestamp"


def test_unix_ms_timestamps() -> None:
    verifier = HmacVerifier(
        secret="k",
        header="S",
        template="{timestamp}{body}",
        timestamp_header="T",
        timestamp_format="unix_ms",
    )
    request = sign_request(verifier, now=NOW)
    assert request.headers["T"] == "1700000000000"
    assert verifier.verify(request, now=NOW).timestamp == NOW


def test_duplicate_signature_header_refused() -> None:
    verifier = HmacVerifier(secret="k", header="S")
    good = verifier.sign(b"x")["S"]
    with pytest.raises(VerificationError) as info:
        verifier.verify(WebhookRequest(headers=[("S", good), ("s", good)], body=b"x"))
    assert info.value.reason == "duplicate_header"


def test_no_valid_key() -> None:
    verifier = HmacVerifier(secret=Secret("k", not_after=NOW - 1), header="S")
    request = WebhookRequest(headers={"S": "00" * 32}, body=b"", received_at=NOW)
    with pytest.raises(VerificationError) as info:
        verifier.verify(request)
    assert info.value.reason == "no_valid_key"
    with pytest.raises(VerificationError):
        verifier.sign(b"", now=NOW)


def test_errors_never_carry_secrets_or_expected_signatures() -> None:
    secret = "super-secret-value-123"
    body = b"b"
    expected = mac(secret.encode(), body).hex()
    verifier = HmacVerifier(secret=secret, header="S")
    with pytest.raises(VerificationError) as info:
        verifier.verify(WebhookRequest(headers={"S": "00" * 32}, body=body))
    text = str(info.value) + repr(info.value) + repr(verifier)
    assert secret not in text and expected not in text


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"algorithm": "md5"}, "not supported"),
        ({"algorithm": "SHA256"}, "not supported"),
        ({"encoding": "base32"}, "encoding"),
        ({"template": "{nope}{body}"}, "unknown"),
        ({"template": "{body"}, "unbalanced"),
        ({"template": ""}, "non-empty"),
        ({"template": "{timestamp}{body}"}, "timestamp_header"),
        ({"timestamp_header": "T"}, "does not sign it"),
        ({"template": "{id}{body}"}, "id_header"),
        ({"tolerance": -1}, "negative"),
        ({"tolerance": float("inf")}, "number"),
        ({"future_tolerance": "5"}, "number"),
        ({"delimiter": ""}, "delimiter"),
        ({"delimiter": ",", "header_format": KeyValueHeader()}, "delimiter"),
        ({"header": ""}, "header"),
        ({"secret": ""}, "empty"),
        ({"secret": None}, "needs a secret"),
        ({"timestamp_format": "iso"}, "timestamp_format"),
        ({"template": 5}, "template"),
    ],
)
def test_configuration_errors_at_construction(options: dict[str, Any], match: str) -> None:
    kwargs: dict[str, Any] = {"secret": "k", "header": "S", **options}
    with pytest.raises(ConfigurationError, match=match):
        HmacVerifier(**kwargs)


def test_immutable() -> None:
    verifier = HmacVerifier(secret="k", header="S")
    with pytest.raises(AttributeError):
        verifier.header = "T"  # type: ignore[misc]


def test_template_literal_braces_and_repr() -> None:
    template = MessageTemplate("{{{timestamp}}}:{body}")
    assert template.signs == frozenset({"timestamp"})
    request = WebhookRequest(body=b"B")
    assert b"".join(template(request, {"timestamp": "5"})) == b"{5}:B"
    assert "timestamp" in repr(template)


def test_custom_message_builder() -> None:
    class FormBuilder:
        signs = frozenset[str]()

        def __call__(self, request: WebhookRequest, values: Any) -> list[bytes]:
            return [
                request.url.encode()
                + b"".join(k.encode() + v.encode() for k, v in sorted(request.form()))
            ]

    verifier = HmacVerifier(
        secret="k", header="S", template=FormBuilder(), algorithm="sha1", encoding="base64"
    )
    request = sign_request(verifier, b"b=2&a=1", url="https://x.test/hook")
    verifier.verify(request)
    with pytest.raises(VerificationError):
        verifier.verify(request.replace(url="https://x.test/other"))


@settings(max_examples=200, deadline=None)
@given(
    body=st.binary(max_size=4096),
    key=st.binary(min_size=1, max_size=200),
    algorithm=st.sampled_from(["sha1", "sha224", "sha256", "sha384", "sha512"]),
    encoding=st.sampled_from(["hex", "base64", "base64url"]),
)
def test_property_matches_stdlib(body: bytes, key: bytes, algorithm: str, encoding: Any) -> None:
    verifier = HmacVerifier(secret=key, header="S", algorithm=algorithm, encoding=encoding)
    digest = mac(key, body, algorithm)
    text = {
        "hex": digest.hex(),
        "base64": base64.b64encode(digest).decode(),
        "base64url": base64.urlsafe_b64encode(digest).decode().rstrip("="),
    }[encoding]
    assert verifier.sign(body) == {"S": text}
    verifier.verify(WebhookRequest(headers={"S": text}, body=body))


@settings(max_examples=200, deadline=None)
@given(
    value=st.text(
        alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
        max_size=300,
    )
)
def test_property_any_header_value_gives_verification_error(value: str) -> None:
    for verifier in (
        HmacVerifier(secret="k", header="S"),
        HmacVerifier(secret="k", header="S", encoding="base64", prefix="v1,", delimiter=" "),
        HmacVerifier(
            secret="k", header="S", header_format=KeyValueHeader(), template="{timestamp}.{body}"
        ),
    ):
        with pytest.raises(VerificationError):
            verifier.verify(WebhookRequest(headers={"S": value}, body=b"x"), now=NOW)


def test_huge_body_streams_without_copy() -> None:
    body = b"a" * (1 << 20)
    verifier = HmacVerifier(
        secret="k", header="S", template="{timestamp}.{body}", timestamp_header="T"
    )
    request = sign_request(verifier, body, now=NOW)
    result = verifier.verify(request, now=NOW)
    assert result.signed[-1] is request.body
    assert result.content_digest() == result.content_digest()
    assert len(hashlib.sha256(body).digest()) == len(result.content_digest())


@pytest.mark.parametrize(
    ("judged_at", "error", "tolerance"),
    [(NOW + 301, TimestampTooOld, 300.0), (NOW - 61, TimestampInFuture, 60.0)],
)
def test_a_timestamp_refusal_carries_its_numbers(
    judged_at: float, error: type[TimestampOutsideTolerance], tolerance: float
) -> None:
    """Not secret, and what a person needs to see why: signed at, judged at, allowed."""
    verifier = presets.slack(secret="a-slack-signing-secret", future_tolerance=60)
    request = sign_request(verifier, b"{}", now=NOW)
    with pytest.raises(error) as info:
        verifier.verify(request, now=judged_at)
    assert (info.value.timestamp, info.value.now, info.value.tolerance) == (
        NOW,
        judged_at,
        tolerance,
    )
