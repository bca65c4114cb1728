"""Dropbox Sign, monday.com, Vonage, Sinch, Airtable, Frame.io, Bandwidth and
SparkPost: their vectors, their documented algorithms as oracles, and the
verifier contract.

The vectors are in tests/vectors/providers_more_c.json, each with its source.
Dropbox Sign's come from its SDKs' tests and example; monday.com's tokens are
signed by PyJWT, which also checks ours; Vonage's SDK verifies with PyJWT,
the oracle here, and its test token is one vector; Sinch's comes from its
.NET SDK's test suite. The others publish no
test vector and no SDK that verifies their webhooks, so their valid vectors
are built from the provider's documentation (``self-generated``) and the
oracles below recompute them with ``hmac`` alone; Bandwidth and SparkPost sign
nothing (HTTP Basic credentials).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any, ClassVar

import jwt
import pytest

from webhookverify import ConfigurationError, Secret, VerificationError, WebhookRequest, presets

from _vectors import check_sources, check_vector, provider_file, vector_request
from contract import NOW, VerifierContract, mutate
from preset_contracts import UnsignedBodyContract

FILE = "providers_more_c.json"
# provider in the file -> (preset, number of vectors)
PROVIDERS: dict[str, tuple[str, int]] = {
    "dropbox_sign": ("dropbox_sign", 9),
    "monday": ("monday", 5),
    "vonage": ("vonage", 5),
    "sinch": ("sinch", 3),
    "airtable": ("airtable", 3),
    "frame_io": ("frame_io", 3),
    "bandwidth": ("bandwidth", 2),
    "sparkpost": ("sparkpost", 2),
}
VECTORS = provider_file(FILE)
VALID = [v for v in VECTORS if v["expected"] == "valid"]
BASIC = ("bandwidth", "sparkpost")  # nothing is signed: the body is not covered
# Dropbox Sign signs two fields of the body; monday.com's token covers none of it
UNSIGNED_BODY = (*BASIC, "dropbox_sign", "monday")


def preset_for(vector: dict[str, Any], **override: Any) -> Any:
    """The preset for a vector's sender, built from the vector's data only."""
    name = PROVIDERS[vector["provider"]][0]
    keys = {"secret": override.get("secret", vector["secret"])}
    if name in BASIC:
        return getattr(presets, name)(username=vector["scheme_params"]["username"], **keys)
    if name == "monday":
        return presets.monday(url=vector["scheme_params"]["url"], **keys)
    return getattr(presets, name)(**keys)


def request_for(vector: dict[str, Any]) -> WebhookRequest:
    request: WebhookRequest = vector_request(vector, NOW)
    return request


def test_every_provider_has_its_vectors_with_a_source() -> None:
    check_sources(FILE, {provider: count for provider, (_, count) in PROVIDERS.items()})


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["id"])
def test_vector(vector: dict[str, Any]) -> None:
    check_vector(preset_for(vector), vector, NOW, skew=60)


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v["id"])
def test_vector_with_another_key_is_refused(vector: dict[str, Any]) -> None:
    other = base64.b64encode(b"another key, 32 bytes long......").decode()
    with pytest.raises(VerificationError) as info:
        preset_for(vector, secret=other).verify(request_for(vector), now=vector.get("now"))
    assert info.value.reason == "signature_mismatch"


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v["id"])
def test_vector_with_one_more_body_byte_is_refused(vector: dict[str, Any]) -> None:
    request = request_for(vector)
    longer = request.replace(body=request.body + b" ")
    if vector["provider"] in UNSIGNED_BODY:
        # the documented limit: Basic credentials do not cover the body, nor
        # does Dropbox Sign's event_hash (here: a byte after the close delimiter)
        verification = preset_for(vector).verify(longer, now=vector.get("now"))
        assert verification.scheme.startswith(vector["provider"].replace("_", "-") + "-")
        return
    with pytest.raises(VerificationError):
        preset_for(vector).verify(longer, now=vector.get("now"))


# -- the documented algorithms as oracles ---------------------------------------------------


def test_dropbox_sign_hashes_event_time_and_type_with_the_api_key() -> None:
    sdk = [v for v in VECTORS if v["provider"] == "dropbox_sign" and v["expected"] == "valid"]
    assert len(sdk) == 5
    for vector in sdk:
        field = vector["body"].split("\r\n\r\n", 1)[1].rsplit("\r\n--", 1)[0]
        event = json.loads(field)["event"]
        message = (event["event_time"] + event["event_type"]).encode()
        expected = hmac.new(vector["secret"].encode(), message, hashlib.sha256).hexdigest()
        assert event["event_hash"] == expected, vector["id"]


def test_dropbox_sign_signed_body_round_trip_and_what_it_signs() -> None:
    verifier = presets.dropbox_sign(secret="api-key")
    body = verifier.signed_body({"signature_request": {"id": "sr1"}}, NOW, event_type="x_y")
    headers = verifier.sign(body, NOW)
    request = WebhookRequest(headers=headers, body=body, received_at=NOW)
    result = verifier.verify(request)
    assert (result.scheme, result.timestamp, result.delivery_id) == (
        "dropbox-sign-hmac-sha256",
        int(NOW),
        None,
    )
    # the event data beside the event is not signed (the documented limit) ...
    forged = body.replace(b'"sr1"', b'"sr2"')
    assert verifier.verify(request.replace(body=forged)).scheme == "dropbox-sign-hmac-sha256"
    # ... but every character of the signed values is
    text = body.decode()
    for name in ("event_time", "event_type", "event_hash"):
        start = text.index(f'"{name}":"') + len(name) + 4
        for index in range(start, text.index('"', start)):
            with pytest.raises(VerificationError):
                verifier.verify(request.replace(body=mutate(text, index).encode()))


def test_dropbox_sign_reads_no_more_than_its_bound_before_the_signature() -> None:
    verifier = presets.dropbox_sign(secret="api-key")
    body = presets.dropbox_sign(secret="another-key").signed_body({}, NOW).decode()
    # a wrong hash before a megabyte that is not JSON: refused for the hash,
    # so the rest of the field was never parsed
    huge = body.replace("}}\r\n--", "}, " + "[" * (1 << 20) + "\r\n--")
    request = WebhookRequest(headers=verifier.sign(verifier.signed_body({}, NOW), NOW), body=b"")
    request = request.replace(body=huge.encode())
    with pytest.raises(VerificationError) as info:
        verifier.verify(request, now=NOW)
    assert info.value.reason == "signature_mismatch"
    # an event after MAX_EVENT_HEAD bytes is not looked for
    padded = body.replace('{"event"', '{"pad":"' + "x" * 8192 + '","event"')
    with pytest.raises(VerificationError) as info:
        verifier.verify(request.replace(body=padded.encode()), now=NOW)
    assert info.value.reason == "malformed_body" and "MAX_EVENT_HEAD" in str(info.value)


@pytest.mark.parametrize(
    ("content_type", "reason"),
    [("application/json", "malformed_header"), ("multipart/form-data", "malformed_body")],
)
def test_dropbox_sign_wants_its_multipart_json_field(content_type: str, reason: str) -> None:
    verifier = presets.dropbox_sign(secret="api-key")
    body = verifier.signed_body({}, NOW)
    request = WebhookRequest(headers={"Content-Type": content_type}, body=body)
    with pytest.raises(VerificationError) as info:
        verifier.verify(request, now=NOW)
    assert info.value.reason == reason


def test_monday_agrees_with_pyjwt_both_ways() -> None:
    url = "https://hooks.example.test/monday"
    secret = "monday-signing-secret-0123456789abcdef"
    verifier = presets.monday(secret=secret, url=url)
    ours = verifier.sign(b"{}", NOW)["Authorization"]
    claims = jwt.decode(
        ours, secret, algorithms=["HS256"], audience=url, options={"verify_exp": False}
    )
    assert (claims["aud"], claims["iat"], claims["exp"]) == (url, int(NOW), int(NOW) + 300)
    theirs = jwt.encode(
        {"aud": [url, "https://other.test/"], "exp": int(NOW) + 60, "iat": int(NOW), "uid": 7},
        secret,
        algorithm="HS256",
    )
    for value in (theirs, f"Bearer {theirs}"):
        request = WebhookRequest(headers={"Authorization": value}, body=b"{}")
        result = verifier.verify(request, now=NOW)
        assert (result.scheme, result.timestamp) == ("monday-jwt-hs256", NOW)
        assert result.delivery_id == theirs.rsplit(".", 1)[1]


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "https://hooks.example.test/monday"}, "timestamp_too_old"),  # no exp
        ({"aud": "https://hooks.example.test/monday", "exp": "soon"}, "malformed_header"),
        ({"exp": int(NOW) + 60}, "signature_mismatch"),  # no aud
        ({"aud": "https://hooks.example.test/monday", "exp": NOW + 90, "nbf": NOW + 60}, None),
    ],
)
def test_monday_claims(claims: dict[str, Any], reason: str | None) -> None:
    verifier = presets.monday(secret="s" * 32, url="https://hooks.example.test/monday")
    token = jwt.encode(claims, "s" * 32, algorithm="HS256")
    request = WebhookRequest(headers={"Authorization": token})
    with pytest.raises(VerificationError) as info:
        verifier.verify(request, now=NOW)
    assert info.value.reason == (reason or "timestamp_in_future")


def test_monday_needs_its_url() -> None:
    with pytest.raises(ConfigurationError, match=r"^presets\.monday\(url=\.\.\.\)"):
        presets.monday(secret="k", url="/relative")


def _vonage_sdk_verify_signature(token: str, signature_secret: str) -> bool:
    # Vonage/vonage-python-sdk jwt/src/vonage_jwt/verify_jwt.py, verify_signature
    try:
        jwt.decode(token, signature_secret, algorithms="HS256", options={"verify_aud": False})
        return True
    except jwt.InvalidSignatureError:
        return False


# the SDK's own test token is keyed with four bytes, which PyJWT warns about
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_vonage_agrees_with_its_sdk_both_ways() -> None:
    (vector,) = [v for v in VECTORS if v["id"] == "vonage-doc-inbound-sms"]
    token = vector["headers"]["Authorization"].split(" ", 1)[1]
    assert _vonage_sdk_verify_signature(token, vector["secret"])
    claims = jwt.decode(token, vector["secret"], algorithms=["HS256"])
    assert claims["payload_hash"] == hashlib.sha256(vector["body"].encode()).hexdigest()
    verifier = presets.vonage(secret=vector["secret"])
    result = verifier.verify(request_for(vector), now=vector["now"])
    assert (result.delivery_id, result.timestamp) == (claims["jti"], claims["iat"])
    # ours, read by the SDK
    body = b'{"message_uuid":"m-1"}'
    ours = verifier.sign(body, NOW, id="jti-1", api_key="k")["Authorization"]
    assert ours.startswith("Bearer ")
    assert _vonage_sdk_verify_signature(ours[7:], vector["secret"])
    assert not _vonage_sdk_verify_signature(ours[7:], "asdf")
    mine = jwt.decode(ours[7:], vector["secret"], algorithms=["HS256"])
    assert (mine["jti"], mine["iat"], mine["api_key"]) == ("jti-1", int(NOW), "k")
    assert mine["payload_hash"] == hashlib.sha256(body).hexdigest()


def test_vonage_sdk_test_token_passes_the_signature_and_lacks_the_claims() -> None:
    # The SDK's own test token (jwt/tests/test_verify_jwt.py) is signed with its
    # valid secret but is not a webhook's: no jti, no payload_hash.
    (vector,) = [v for v in VECTORS if v["id"] == "vonage-sdk-test-token-wrong-secret"]
    token = vector["headers"]["Authorization"].split(" ", 1)[1]
    secret = "qwertyuiopasdfghjklzxcvbnm123456"
    assert _vonage_sdk_verify_signature(token, secret)
    with pytest.raises(VerificationError) as info:
        presets.vonage(secret=secret).verify(request_for(vector), now=vector["now"])
    assert info.value.reason == "malformed_header" and "jti" in str(info.value)
    with pytest.raises(VerificationError) as info:
        presets.vonage(secret="asdf").verify(request_for(vector), now=vector["now"])
    assert info.value.reason == "signature_mismatch"


def test_airtable_keys_the_hmac_with_the_decoded_mac_secret() -> None:
    (vector,) = [v for v in VECTORS if v["id"] == "airtable-doc-notification"]
    key = base64.b64decode(vector["secret"])
    body = vector["body"].encode()
    expected = "hmac-sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    assert vector["headers"]["X-Airtable-Content-MAC"] == expected
    # the text Airtable returns, the decoded bytes and a Secret all name one key
    for secret in (vector["secret"], key, Secret(key)):
        headers = presets.airtable(secret=secret).sign(body)
        assert headers == {"X-Airtable-Content-MAC": expected}
    rotated = presets.airtable(secrets=["QUJD", vector["secret"]])
    assert rotated.verify(request_for(vector)).scheme == "airtable-hmac-sha256"


def test_airtable_refuses_a_secret_that_is_not_base64_by_name() -> None:
    with pytest.raises(ConfigurationError, match=r"^presets\.airtable .*macSecretBase64"):
        presets.airtable(secret="not base64!")
    with pytest.raises(ConfigurationError, match=r"^presets\.airtable .*macSecretBase64"):
        presets.airtable(secrets=["QUJD", "%%%"])


def test_frame_io_signs_v0_colon_timestamp_colon_body() -> None:
    (vector,) = [v for v in VECTORS if v["id"] == "frame-io-doc-asset-created"]
    stamp = vector["headers"]["X-Frameio-Request-Timestamp"]
    message = f"v0:{stamp}:{vector['body']}".encode()
    digest = hmac.new(vector["secret"].encode(), message, hashlib.sha256).hexdigest()
    assert vector["headers"]["X-Frameio-Signature"] == "v0=" + digest
    headers = presets.frame_io(secret=vector["secret"]).sign(
        vector["body"].encode(), timestamp=stamp
    )
    assert headers == vector["headers"]


def test_sinch_signs_body_nonce_timestamp_and_keys_a_retry_by_the_nonce() -> None:
    (vector,) = [v for v in VECTORS if v["id"] == "sinch-sdk-contact-create"]
    headers = vector["headers"]
    nonce = headers["x-sinch-webhook-signature-nonce"]
    stamp = headers["x-sinch-webhook-signature-timestamp"]
    message = f"{vector['body']}.{nonce}.{stamp}".encode()
    digest = hmac.new(vector["secret"].encode(), message, hashlib.sha256).digest()
    assert base64.b64encode(digest).decode() == headers["x-sinch-webhook-signature"]
    verifier = presets.sinch(secret=vector["secret"])
    signed = verifier.sign(vector["body"].encode(), timestamp=stamp, id=nonce)
    assert signed["x-sinch-webhook-signature"] == headers["x-sinch-webhook-signature"]
    result = verifier.verify(request_for(vector), now=vector["now"])
    assert (result.delivery_id, verifier.replay_default) == (nonce, "id")


@pytest.mark.parametrize("name", BASIC)
def test_basic_presets_read_authorization(name: str) -> None:
    verifier = getattr(presets, name)(secret="pw", username="hooks")
    assert verifier.required_headers == ("Authorization",)
    good = "Basic " + base64.b64encode(b"hooks:pw").decode()
    assert verifier.verify(WebhookRequest(headers={"Authorization": good})).scheme == (
        f"{name}-basic"
    )
    for wrong in ("Bearer pw", "Basic " + base64.b64encode(b"hooks:pw2").decode()):
        with pytest.raises(VerificationError):
            verifier.verify(WebhookRequest(headers={"Authorization": wrong}))


# -- what each preset pins -----------------------------------------------------------------


def test_documented_windows_and_replay_defaults() -> None:
    dropbox_sign = presets.dropbox_sign(secret="k")
    assert (dropbox_sign.tolerance, dropbox_sign.future_tolerance) == (300, 300)
    assert dropbox_sign.required_headers == ("Content-Type",)
    frame_io = presets.frame_io(secret="k")
    assert (frame_io.tolerance, frame_io.future_tolerance) == (300, 300)
    assert frame_io.timestamp_header == "X-Frameio-Request-Timestamp"
    assert presets.airtable(secret="QUJD").timestamp_header is None
    for name in BASIC:
        assert getattr(presets, name)(secret="pw").replay_default == "off"


# -- the contract ---------------------------------------------------------------------------


class TestDropboxSign(VerifierContract):
    """Dropbox Sign signs (event_time, event_type), carried in the body.

    The contract's body tests assume the whole body is signed, which is not
    Dropbox Sign's scheme: they are replaced by tests over the signed values
    (``test_dropbox_sign_signed_body_round_trip_and_what_it_signs``).
    """

    signs_timestamp = True

    def make(self, keys: list[Any]) -> Any:
        return presets.dropbox_sign(secrets=keys)

    def signed(self, verifier: Any, body: bytes | None = None, now: float = NOW) -> WebhookRequest:
        document = {"signature_request": {"raw": (self.body if body is None else body).hex()}}
        raw = verifier.signed_body(document, now)
        return WebhookRequest("POST", self.url, verifier.sign(raw, now), raw, received_at=NOW)

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ()  # nothing in a header is signed

    @pytest.mark.parametrize("where", ["event_time", "event_type", "event_hash"])
    def test_altered_body_rejected(self, where: str) -> None:
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        text = request.body.decode()
        start = text.index(f'"{where}":"') + len(where) + 4
        for index in range(start, text.index('"', start)):
            with pytest.raises(VerificationError):
                verifier.verify(request.replace(body=mutate(text, index).encode()), now=NOW)

    def test_property_round_trip_and_any_flip(self) -> None:
        verifier = self.make([self.new_key(0)])
        assert verifier.verify(self.signed(verifier, body=b"\x00\xff"), now=NOW).key_id == "k0"


class TestMonday(VerifierContract):
    """The token covers no body: the body tests become "the token alone decides"."""

    signs_timestamp = True
    tolerance = 330.0  # exp (iat + 300) and the leeway
    future_tolerance = 30.0  # iat ahead of this clock: the leeway

    def make(self, keys: list[Any]) -> Any:
        return presets.monday(secrets=keys, url=self.url)

    @pytest.mark.parametrize("where", ["anything", ""])
    def test_altered_body_rejected(self, where: str) -> None:
        verifier = self.make([self.new_key(0)])
        verifier.verify(self.signed(verifier).replace(body=where.encode()), now=NOW)

    def test_property_round_trip_and_any_flip(self) -> None:
        verifier = self.make([self.new_key(0)])
        assert verifier.verify(self.signed(verifier, body=b"\x00\xff"), now=NOW).key_id == "k0"

    def test_garbage_body_gives_only_verification_errors(self) -> None:
        verifier = self.make([self.new_key(0)])
        verifier.verify(self.signed(verifier).replace(body=b"\xff"), now=NOW)


class TestVonage(VerifierContract):
    signs_timestamp = True

    def make(self, keys: list[Any]) -> Any:
        return presets.vonage(secrets=keys)


class TestSinch(VerifierContract):
    signs_timestamp = True

    def make(self, keys: list[Any]) -> Any:
        return presets.sinch(secrets=keys)

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return verifier.required_headers  # type: ignore[no-any-return]


class TestAirtable(VerifierContract):
    def make(self, keys: list[Any]) -> Any:
        return presets.airtable(secrets=keys)


class TestFrameIo(VerifierContract):
    signs_timestamp = True

    def make(self, keys: list[Any]) -> Any:
        return presets.frame_io(secrets=keys)

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return verifier.required_headers  # type: ignore[no-any-return]


class TestBandwidth(UnsignedBodyContract):
    preset = "bandwidth"
    options: ClassVar[dict[str, Any]] = {"username": "bandwidth-hooks"}


class TestSparkpost(UnsignedBodyContract):
    preset = "sparkpost"
    options: ClassVar[dict[str, Any]] = {"username": "sparkpost-hooks"}
