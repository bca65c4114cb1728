"""Mux, Sanity, Persona, Replicate, Telnyx, Telegram and Postmark: their
vectors, their providers' own algorithms as oracles, and the verifier contract.

The vectors are in tests/vectors/providers_more_b.json, each with its source:
Mux's and Sanity's come from their SDKs' test suites; Replicate's is signed by
the ``standardwebhooks`` library, Telnyx's by its SDK test's signer (PyNaCl,
a fixed seed); Persona publishes no vector and no SDK, and Telegram and
Postmark sign nothing, so theirs are built from the documentation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import nacl.encoding
import nacl.exceptions
import nacl.signing
import pytest
import standardwebhooks
from cryptography.hazmat.primitives.asymmetric import ed25519

from webhookverify import Secret, VerificationError, WebhookRequest, presets
from webhookverify.testing import sign_request

from _vectors import check_sources, check_vector, provider_file, vector_request
from contract import NOW, VerifierContract
from preset_contracts import UnsignedBodyContract

FILE = "providers_more_b.json"
# provider in the file -> (preset, number of vectors)
PROVIDERS: dict[str, tuple[str, int]] = {
    "mux": ("mux", 6),
    "sanity": ("sanity", 6),
    "persona": ("persona", 4),
    "replicate": ("replicate", 2),
    "telnyx": ("telnyx", 3),
    "telegram": ("telegram", 2),
    "postmark": ("postmark", 2),
}
VECTORS = provider_file(FILE)
VALID = [v for v in VECTORS if v["expected"] == "valid"]
TOKENS = ("telegram", "postmark")  # nothing is signed: the body is not covered


def preset_for(vector: dict[str, Any], **override: Any) -> Any:
    """The preset for a vector's sender, built from the vector's data only."""
    name = PROVIDERS[vector["provider"]][0]
    if name == "telnyx":
        return presets.telnyx(public_key=override.get("public_key", vector["public_key"]))
    keys = {"secret": override.get("secret", vector["secret"])}
    if name == "postmark":
        return presets.postmark(username=vector["scheme_params"]["username"], **keys)
    return getattr(presets, name)(**keys)


def request_for(vector: dict[str, Any]) -> WebhookRequest:
    request: WebhookRequest = vector_request(vector, NOW)
    return request


def test_every_provider_has_its_vectors_with_a_source() -> None:
    check_sources(FILE, {provider: count for provider, (_, count) in PROVIDERS.items()})


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["id"])
def test_vector(vector: dict[str, Any]) -> None:
    check_vector(preset_for(vector), vector, NOW, skew=1)


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v["id"])
def test_vector_with_another_key_is_refused(vector: dict[str, Any]) -> None:
    other = ed25519.Ed25519PrivateKey.generate().public_key()
    verifier = preset_for(vector, secret="whsec_" + "QUJD" * 8, public_key=other)
    with pytest.raises(VerificationError) as info:
        verifier.verify(request_for(vector), now=vector.get("now"))
    assert info.value.reason == "signature_mismatch"


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v["id"])
def test_vector_with_one_more_body_byte_is_refused(vector: dict[str, Any]) -> None:
    request = request_for(vector)
    longer = request.replace(body=request.body + b" ")
    if vector["provider"] in TOKENS:
        # the documented limit of a token: it does not cover the body
        assert preset_for(vector).verify(longer).key_id is not None
        return
    with pytest.raises(VerificationError):
        preset_for(vector).verify(longer, now=vector.get("now"))


# -- the providers' own algorithms as oracles ----------------------------------------------


def test_mux_signs_as_its_sdk_test_expects() -> None:
    (vector,) = [v for v in VECTORS if v["id"] == "mux-sdk-valid"]
    headers = presets.mux(secret=vector["secret"]).sign(
        vector["body"].encode(), timestamp=str(vector["now"])
    )
    assert headers["Mux-Signature"] == vector["headers"]["Mux-Signature"]


def test_sanity_signature_is_unpadded_base64url_over_milliseconds() -> None:
    (vector,) = [v for v in VECTORS if v["id"] == "sanity-sdk-encode"]
    header = vector["headers"]["sanity-webhook-signature"]
    stamp, sent = header[2:].split(",v1=")
    message = f"{stamp}.{vector['body']}".encode()
    digest = hmac.new(vector["secret"].encode(), message, hashlib.sha256).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == sent
    verifier = presets.sanity(secret=vector["secret"])
    assert verifier.timestamp_format == "unix_ms" and verifier.encoding == "base64url"
    # t is read as milliseconds: a clock showing the same number in seconds
    # is some 50 000 years later
    with pytest.raises(VerificationError) as info:
        verifier.verify(request_for(vector), now=float(stamp))
    assert info.value.reason == "timestamp_too_old"


def test_sanity_accepts_the_space_its_toolkit_allows() -> None:
    # webhook-toolkit's regex takes "t=...,v1=..." with spaces after the comma
    (vector,) = [v for v in VECTORS if v["id"] == "sanity-sdk-valid"]
    spaced = vector["headers"]["sanity-webhook-signature"].replace(",", ", ")
    request = request_for(vector).replace(headers={"sanity-webhook-signature": spaced})
    presets.sanity(secret=vector["secret"]).verify(request, now=vector["now"])


def test_persona_checks_each_set_against_its_own_timestamp() -> None:
    secret, body = "wbhsec_k", b'{"data":{"id":"evt_1"}}'
    verifier = presets.persona(secret=secret)
    own = verifier.sign(body, NOW)["Persona-Signature"]
    other = presets.persona(secret="wbhsec_other").sign(body, NOW - 1)["Persona-Signature"]
    for header in (f"{other} {own}", f"{own} {other}", f"{other}  {own}"):
        request = WebhookRequest(headers={"Persona-Signature": header}, body=body)
        result = verifier.verify(request, now=NOW)
        assert (result.delivery_id, result.scheme) == ("evt_1", "persona-hmac-sha256")
    # a stale set with a valid signature does not pass because another set is fresh
    stale = verifier.sign(body, NOW - 400)["Persona-Signature"]
    request = WebhookRequest(headers={"Persona-Signature": f"{stale} {other}"}, body=body)
    with pytest.raises(VerificationError) as info:
        verifier.verify(request, now=NOW)
    assert info.value.reason == "timestamp_too_old"
    many = " ".join([other] * 5)
    with pytest.raises(VerificationError) as info:
        verifier.verify(WebhookRequest(headers={"Persona-Signature": many}, body=body), now=NOW)
    assert info.value.reason == "malformed_header"


def test_replicate_agrees_with_the_standardwebhooks_library_both_ways() -> None:
    secret = "whsec_" + base64.b64encode(b"replicate-oracle-key-0123456789ab").decode()
    verifier = presets.replicate(secret=secret)
    body = b'{"id":"p1","status":"succeeded"}'
    request = sign_request(verifier, body, now=NOW, id="msg_oracle")
    oracle = standardwebhooks.Webhook(secret)
    oracle_now = datetime.fromtimestamp(NOW, tz=UTC)
    # the library checks against its own clock: give it the signed moment
    headers = dict(request.headers.raw_items())
    signed = oracle.sign("msg_oracle", oracle_now, body.decode())
    assert headers["webhook-signature"] == signed
    fresh = WebhookRequest(
        headers={
            "webhook-id": "msg_2",
            "webhook-timestamp": str(int(NOW)),
            "webhook-signature": oracle.sign("msg_2", oracle_now, body.decode()),
        },
        body=body,
    )
    result = verifier.verify(fresh, now=NOW)
    assert result.delivery_id == "msg_2" and result.scheme == "replicate-v1"


def _telnyx_sdk_verify(public_key: str, body: bytes, signature: str, timestamp: str) -> None:
    """telnyx-python's WebhookSignature.verify, without its clock check."""
    key = nacl.signing.VerifyKey(public_key.encode(), encoder=nacl.encoding.Base64Encoder)
    key.verify(timestamp.encode() + b"|" + body, signature=base64.b64decode(signature))


def test_telnyx_agrees_with_its_sdk_algorithm_both_ways() -> None:
    (vector,) = [v for v in VECTORS if v["id"] == "telnyx-sdk-signer-valid"]
    headers = vector["headers"]
    body = vector["body"].encode()
    _telnyx_sdk_verify(
        vector["public_key"], body, headers["telnyx-signature-ed25519"], headers["telnyx-timestamp"]
    )
    seed = bytes.fromhex(vector["private_seed_hex"])
    signer = presets.telnyx(public_key=vector["public_key"], private_key=seed)
    made = signer.sign(b'{"data":{"id":"e1"}}', timestamp="1700000123")
    _telnyx_sdk_verify(
        vector["public_key"],
        b'{"data":{"id":"e1"}}',
        made["telnyx-signature-ed25519"],
        made["telnyx-timestamp"],
    )
    with pytest.raises(nacl.exceptions.BadSignatureError):
        _telnyx_sdk_verify(
            vector["public_key"], b"{}", made["telnyx-signature-ed25519"], "1700000123"
        )


def test_telegram_and_postmark_headers() -> None:
    assert presets.telegram(secret="t").required_headers == ("X-Telegram-Bot-Api-Secret-Token",)
    verifier = presets.postmark(secret="pw", username="hooks")
    assert verifier.required_headers == ("Authorization",)
    good = "Basic " + base64.b64encode(b"hooks:pw").decode()
    assert verifier.verify(WebhookRequest(headers={"Authorization": good})).scheme == (
        "postmark-basic"
    )
    with pytest.raises(VerificationError):
        verifier.verify(WebhookRequest(headers={"Authorization": "Bearer pw"}))


# -- what each preset pins -----------------------------------------------------------------


def test_documented_windows_and_replay_ids() -> None:
    mux = presets.mux(secret="k")
    assert (mux.tolerance, mux.future_tolerance, mux.id_field) == (300, 300, ("id",))
    telnyx = presets.telnyx(public_key=ed25519.Ed25519PrivateKey.generate().public_key())
    assert (telnyx.tolerance, telnyx.future_tolerance) == (300, 300)
    assert telnyx.id_field == ("data", "id")
    persona = presets.persona(secret="k")
    assert (persona.tolerance, persona.future_tolerance, persona.replay_default) == (300, 300, "id")
    sanity = presets.sanity(secret="k")
    assert (sanity.tolerance, sanity.future_tolerance, sanity.id_field) == (300, 300, None)
    assert presets.replicate(secret="whsec_" + "QUJD" * 8).tolerance == 300
    for name in TOKENS:
        assert getattr(presets, name)(secret="t").replay_default == "off"


def test_mux_and_telnyx_key_a_retry_by_the_signed_event_id() -> None:
    mux = presets.mux(secret="k")
    first = sign_request(mux, b'{"id":"evt-1","attempts":[]}', now=NOW)
    retry = sign_request(mux, b'{"id":"evt-1","attempts":[{"n":1}]}', now=NOW + 60)
    assert mux.verify(first, now=NOW).delivery_id == "evt-1"
    assert mux.verify(retry, now=NOW + 60).delivery_id == "evt-1"
    seed = hashlib.sha256(b"telnyx-retry").digest()
    telnyx = presets.telnyx(private_key=seed)
    request = sign_request(telnyx, b'{"data":{"id":"ev-9"},"meta":{"attempt":2}}', now=NOW)
    assert telnyx.verify(request, now=NOW).delivery_id == "ev-9"


# -- the contract ---------------------------------------------------------------------------


class TestMux(VerifierContract):
    signs_timestamp = True
    future_tolerance = 300.0

    def make(self, keys: list[Any]) -> Any:
        return presets.mux(secrets=keys)


class TestSanity(VerifierContract):
    signs_timestamp = True

    def make(self, keys: list[Any]) -> Any:
        return presets.sanity(secrets=keys)


class TestPersona(VerifierContract):
    signs_timestamp = True

    def make(self, keys: list[Any]) -> Any:
        return presets.persona(secrets=keys)


class TestReplicate(VerifierContract):
    signs_timestamp = True

    def make(self, keys: list[Any]) -> Any:
        return presets.replicate(secrets=keys)

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return verifier.required_headers  # type: ignore[no-any-return]


@dataclass(frozen=True)
class KeyPair:
    public: Secret
    private: bytes


class TestTelnyx(VerifierContract):
    signs_timestamp = True

    def new_key(self, index: int, **window: float) -> KeyPair:
        seed = hashlib.sha256(f"telnyx-contract-{index}".encode()).digest()
        public = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        # as the Telnyx portal shows it: the raw key in base64
        return KeyPair(
            Secret(base64.b64encode(public).decode(), key_id=f"k{index}", **window), seed
        )

    def make(self, keys: list[KeyPair]) -> Any:
        return presets.telnyx(public_keys=[k.public for k in keys], private_key=keys[-1].private)

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return verifier.required_headers  # type: ignore[no-any-return]


class TestTelegram(UnsignedBodyContract):
    preset = "telegram"


class TestPostmark(UnsignedBodyContract):
    preset = "postmark"
    options: ClassVar[dict[str, Any]] = {"username": "postmark-hooks"}
