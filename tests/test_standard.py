"""StandardWebhooksVerifier: v1 (HMAC), v1a (Ed25519), both, and the SDKs as oracles.

No Python library verifies ``v1a`` today; it is checked here against the
Svix server's signature in providers.json and against signatures made with
``cryptography`` and PyNaCl directly.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import string
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nacl.signing
import pytest
import standardwebhooks
import svix
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhookverify import ConfigurationError, Secret, VerificationError, WebhookRequest
from webhookverify.testing import sign_request
from webhookverify.verifiers.standard import StandardWebhooksVerifier

from _vectors import providers
from contract import NOW, VerifierContract

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_BODY = b'{"test": 2432232314}'
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = "1614265330"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@functools.cache
def seed(index: int) -> bytes:
    return hashlib.sha256(f"standard-webhooks-test-key-{index}".encode()).digest()


def whsk(index: int) -> str:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed(index))
    return "whsk_" + b64(seed(index) + key.public_key().public_bytes_raw())


def whpk(index: int) -> str:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed(index))
    return "whpk_" + b64(key.public_key().public_bytes_raw())


def spec_request(signature: str, **changes: Any) -> WebhookRequest:
    headers = {"webhook-id": SPEC_ID, "webhook-timestamp": SPEC_TS, "webhook-signature": signature}
    headers.update(changes)
    return WebhookRequest(headers=headers, body=SPEC_BODY, received_at=float(SPEC_TS))


def spec_v1() -> str:
    return "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


# -- the contract -------------------------------------------------------------------


class StandardContract(VerifierContract):
    signs_timestamp = True

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return verifier.required_headers  # type: ignore[no-any-return]


class TestV1Contract(StandardContract):
    def make(self, keys: list[Any]) -> StandardWebhooksVerifier:
        return StandardWebhooksVerifier(secrets=keys)

    def test_delivery_id_and_replay_window(self) -> None:
        verifier = self.make([self.new_key(0)])
        request = sign_request(verifier, b"{}", now=NOW, id="msg_abc")
        result = verifier.verify(request, now=NOW)
        assert result.delivery_id == "msg_abc"
        assert result.scheme == "standard-webhooks-v1"
        assert verifier.replay_default == "id"
        assert verifier.replay_window == 600


@dataclass(frozen=True)
class V1aKey:
    public: Secret
    private: str


class TestV1aContract(StandardContract):
    def new_key(self, index: int, **window: float) -> V1aKey:
        return V1aKey(Secret(whpk(index), key_id=f"k{index}", **window), whsk(index))

    def make(self, keys: list[V1aKey]) -> StandardWebhooksVerifier:
        return StandardWebhooksVerifier(
            public_keys=[k.public for k in keys], private_key=keys[-1].private
        )


@dataclass(frozen=True)
class BothKeys:
    secret: Secret
    public: Secret
    private: str


class TestBothVersionsContract(StandardContract):
    def new_key(self, index: int, **window: float) -> BothKeys:
        return BothKeys(
            Secret(f"contract-secret-{index}-0123456789abcdef", key_id=f"k{index}", **window),
            Secret(whpk(index), key_id=f"k{index}", **window),
            whsk(index),
        )

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        # Each of the two entries verifies on its own, so one altered character
        # in the signature list leaves the other standing (see below); the id
        # and the timestamp are covered by both.
        return (verifier.timestamp_header, verifier.id_header)

    def make(self, keys: list[BothKeys]) -> StandardWebhooksVerifier:
        return StandardWebhooksVerifier(
            secrets=[k.secret for k in keys],
            public_keys=[k.public for k in keys],
            private_key=keys[-1].private,
        )

    def test_each_version_alone_suffices(self) -> None:
        both = self.make([self.new_key(0)])
        request = self.signed(both)
        v1, v1a = request.headers["webhook-signature"].split(" ")
        assert v1.startswith("v1,") and v1a.startswith("v1a,")
        garbage_v1 = "v1," + b64(b"\0" * 32)
        garbage_v1a = "v1a," + b64(b"\0" * 64)
        for value, scheme in (
            (v1, "standard-webhooks-v1"),
            (v1a, "standard-webhooks-v1a"),
            (f"{garbage_v1} {v1a}", "standard-webhooks-v1a"),
            (f"{v1} {garbage_v1a}", "standard-webhooks-v1"),
            (f"v2,abc {v1a}", "standard-webhooks-v1a"),
        ):
            headers = {**request.headers, "webhook-signature": value}
            assert both.verify(request.replace(headers=headers), now=NOW).scheme == scheme
        headers = {**request.headers, "webhook-signature": f"{garbage_v1} {garbage_v1a}"}
        with pytest.raises(VerificationError) as info:
            both.verify(request.replace(headers=headers), now=NOW)
        assert info.value.reason == "signature_mismatch"
        headers = {**request.headers, "webhook-signature": "v2,abc v1b,def"}
        with pytest.raises(VerificationError) as info:
            both.verify(request.replace(headers=headers), now=NOW)
        assert info.value.reason == "unsupported_signature_version"
        assert "v1 or v1a" in str(info.value)


class TestSvixPrefixContract(StandardContract):
    def make(self, keys: list[Any]) -> StandardWebhooksVerifier:
        return StandardWebhooksVerifier(secrets=keys, header_prefix="svix-")


# -- the specification's vectors ---------------------------------------------------------


@pytest.mark.parametrize("vector", providers("standard-webhooks"), ids=lambda v: v["id"])
def test_standard_webhooks_vectors(vector: dict[str, Any]) -> None:
    keys = (
        {"secret": vector["secret"]} if "secret" in vector else {"public_key": vector["public_key"]}
    )
    verifier = StandardWebhooksVerifier(**keys)
    request = WebhookRequest(headers=vector["headers"], body=vector["body"].encode("utf-8"))
    if vector["expected"] == "valid":
        result = verifier.verify(request, now=vector["now"])
        assert result.delivery_id == vector["headers"]["webhook-id"]
        assert result.timestamp == int(vector["headers"]["webhook-timestamp"])
    else:
        with pytest.raises(VerificationError):
            verifier.verify(request, now=vector["now"])


def test_v1a_svix_server_vector_signs_identically() -> None:
    (vector,) = [v for v in providers("standard-webhooks") if v["id"].endswith("svix-server")]
    verifier = StandardWebhooksVerifier(private_key=vector["private_key_for_reference"])
    headers = verifier.sign(
        vector["body"].encode(),
        id=vector["headers"]["webhook-id"],
        timestamp=vector["headers"]["webhook-timestamp"],
    )
    # Ed25519 is deterministic: the same key and message give the same signature.
    assert headers["webhook-signature"] == vector["headers"]["webhook-signature"]
    assert (
        verifier.verify(
            WebhookRequest(headers=headers, body=vector["body"].encode()), now=vector["now"]
        ).scheme
        == "standard-webhooks-v1a"
    )


def test_spec_secret_forms_are_equivalent() -> None:
    raw = base64.b64decode(SPEC_SECRET.removeprefix("whsec_"))
    for secret in (
        SPEC_SECRET,
        SPEC_SECRET.removeprefix("whsec_"),
        raw,
        Secret(raw),
        f" {SPEC_SECRET}\n",
    ):
        StandardWebhooksVerifier(secret=secret).verify(spec_request(spec_v1()))
    # a Secret of the whsec_ text is that text as a raw key, as Stripe uses its secrets
    with pytest.raises(VerificationError):
        StandardWebhooksVerifier(secret=Secret(SPEC_SECRET)).verify(spec_request(spec_v1()))


@pytest.mark.parametrize(
    "value",
    [
        spec_v1().replace(",", ""),
        spec_v1().replace("v1", "V1"),
        spec_v1().replace("v1,", "v1a,"),
        "v1=" + spec_v1()[3:],
    ],
)
def test_entries_of_other_versions_or_forms_are_skipped(value: str) -> None:
    with pytest.raises(VerificationError) as info:
        StandardWebhooksVerifier(secret=SPEC_SECRET).verify(spec_request(value))
    assert info.value.reason == "unsupported_signature_version"


def test_signature_list_spacing_and_bound() -> None:
    verifier = StandardWebhooksVerifier(secret=SPEC_SECRET)
    for value in (f"  {spec_v1()}  ", f"v2,x   {spec_v1()}", f"{spec_v1()} v1,{'A' * 43}="):
        verifier.verify(spec_request(value))
    with pytest.raises(VerificationError) as info:
        verifier.verify(spec_request(" ".join(["v2,x"] * 16 + [spec_v1()])))
    assert info.value.reason == "malformed_header"


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [
        ("1614264999", "timestamp_too_old"),
        ("1614265631", "timestamp_in_future"),
        ("+1614265330", "malformed_timestamp"),
        ("1614265330.0", "malformed_timestamp"),
        ("0x60378ab2", "malformed_timestamp"),
    ],
)
def test_timestamp_checked_before_signature(stamp: str, reason: str) -> None:
    verifier = StandardWebhooksVerifier(secret=SPEC_SECRET)
    with pytest.raises(VerificationError) as info:
        verifier.verify(spec_request(spec_v1(), **{"webhook-timestamp": stamp}))
    assert info.value.reason == reason


def test_tolerance_each_direction_and_off_by_name() -> None:
    verifier = StandardWebhooksVerifier(secret=SPEC_SECRET, tolerance=10, future_tolerance=0)
    request = spec_request(spec_v1())
    verifier.verify(request, now=float(SPEC_TS) + 10)
    with pytest.raises(VerificationError):
        verifier.verify(request, now=float(SPEC_TS) + 11)
    with pytest.raises(VerificationError):
        verifier.verify(request, now=float(SPEC_TS) - 1)
    off = StandardWebhooksVerifier(secret=SPEC_SECRET, tolerance=None)
    off.verify(request, now=float(SPEC_TS) + 10**8)
    assert off.replay_window is None


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({}, "needs a key"),
        ({"secret": ""}, "empty"),
        ({"secret": "whsec_!!!"}, "base64"),
        ({"secret": SPEC_SECRET, "secrets": [SPEC_SECRET]}, "not both"),
        ({"secrets": []}, "needs a secret"),
        ({"public_key": "whpk_AAAA"}, "could not be read"),
        ({"public_key": "not a key"}, "could not be read"),
        ({"private_key": "whsk_AAAA"}, "could not be read"),
        ({"public_key": "whpk_" + b64(b"\1" * 32), "private_key": "whsk_x"}, "could not be read"),
        ({"secret": SPEC_SECRET, "header_prefix": ""}, "header_prefix"),
        ({"secret": SPEC_SECRET, "header_prefix": "webhook "}, "header_prefix"),
        ({"secret": SPEC_SECRET, "tolerance": -5}, "negative"),
        ({"secret": SPEC_SECRET, "future_tolerance": "300"}, "number"),
        ({"secret": SPEC_SECRET, "scheme": ""}, "scheme"),
    ],
)
def test_configuration_errors_at_construction(options: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        StandardWebhooksVerifier(**options)


def test_private_key_must_match_a_public_key() -> None:
    with pytest.raises(ConfigurationError, match="does not belong"):
        StandardWebhooksVerifier(public_key=whpk(0), private_key=whsk(1))


def test_sign_with_only_public_keys_is_a_configuration_error() -> None:
    verifier = StandardWebhooksVerifier(public_key=whpk(0))
    with pytest.raises(ConfigurationError, match="whsk_"):
        verifier.sign(b"{}")


def test_sign_uses_one_id_and_timestamp_for_every_version() -> None:
    verifier = StandardWebhooksVerifier(secret=SPEC_SECRET, private_key=whsk(0))
    headers = verifier.sign(SPEC_BODY, now=float(SPEC_TS), id=SPEC_ID)
    assert headers["webhook-id"] == SPEC_ID
    assert headers["webhook-timestamp"] == SPEC_TS
    v1, v1a = headers["webhook-signature"].split(" ")
    assert v1 == spec_v1()
    assert v1a.startswith("v1a,")


def test_sign_skips_expired_secrets_and_fails_when_none_is_valid() -> None:
    expired = Secret(b"k" * 32, not_after=NOW - 1)
    verifier = StandardWebhooksVerifier(secret=expired, private_key=whsk(0))
    assert verifier.sign(b"{}", now=NOW)["webhook-signature"].startswith("v1a,")
    with pytest.raises(VerificationError) as info:
        StandardWebhooksVerifier(secret=expired).sign(b"{}", now=NOW)
    assert info.value.reason == "no_valid_key"


def test_one_mebibyte_body() -> None:
    body = b"[" + b'{"n":1},' * ((1 << 20) // 8 - 1) + b"{}]"
    verifier = StandardWebhooksVerifier(secret=SPEC_SECRET, private_key=whsk(0))
    request = sign_request(verifier, body, now=NOW)
    assert verifier.verify(request, now=NOW).signed[-1] is request.body
    with pytest.raises(VerificationError):
        verifier.verify(request.replace(body=body[:-1] + b" "), now=NOW)


def test_repr_hides_secrets() -> None:
    verifier = StandardWebhooksVerifier(secret=SPEC_SECRET, private_key=whsk(0))
    text = repr(verifier)
    assert SPEC_SECRET[6:] not in text and whsk(0)[5:20] not in text
    assert "v1a" in text and "hidden" in text
    with pytest.raises(AttributeError):
        verifier.tolerance = 5  # type: ignore[misc]


def test_hmac_only_use_never_imports_cryptography() -> None:
    code = (
        "import sys\n"
        "import webhookverify, webhookverify.presets\n"
        "from webhookverify.verifiers.standard import StandardWebhooksVerifier\n"
        "from webhookverify.testing import sign_request\n"
        f"v = webhookverify.presets.svix(secret={SPEC_SECRET!r})\n"
        "v.verify(sign_request(v, b'{}'))\n"
        "assert 'cryptography' not in sys.modules, 'cryptography was imported'\n"
        f"webhookverify.presets.standard_webhooks(public_key={whpk(0)!r})\n"
        "assert 'cryptography' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the SDKs as oracles -----------------------------------------------------------

MSG_IDS = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=40)
BODIES = st.text(max_size=2000)
SECRETS = st.binary(min_size=1, max_size=64).map(lambda raw: "whsec_" + b64(raw))
ORACLE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ORACLE
@given(secret=SECRETS, msg_id=MSG_IDS, text=BODIES, skew=st.integers(-299, 299))
def test_property_sdk_signs_we_verify(secret: str, msg_id: str, text: str, skew: int) -> None:
    stamp = int(NOW) + skew
    signature = standardwebhooks.Webhook(secret).sign(
        msg_id, datetime.fromtimestamp(stamp, tz=UTC), text
    )
    verifier = StandardWebhooksVerifier(secret=secret)
    request = WebhookRequest(
        headers={
            "webhook-id": msg_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signature,
        },
        body=text.encode("utf-8"),
    )
    result = verifier.verify(request, now=NOW)
    assert (result.delivery_id, result.timestamp) == (msg_id, stamp)


@ORACLE
@given(secret=SECRETS, msg_id=MSG_IDS, text=BODIES)
def test_property_we_sign_sdks_verify(secret: str, msg_id: str, text: str) -> None:
    body = text.encode("utf-8")
    headers = StandardWebhooksVerifier(secret=secret).sign(body, now=time.time(), id=msg_id)
    assert standardwebhooks.Webhook(secret).verify(body, headers, json_parse=False) is None
    branded = StandardWebhooksVerifier(secret=secret, header_prefix="svix-").sign(
        body, now=time.time(), id=msg_id
    )
    assert set(branded) == {"svix-id", "svix-timestamp", "svix-signature"}
    svix.Webhook(secret).verify(body, branded)


@ORACLE
@given(msg_id=MSG_IDS, body=st.binary(max_size=2000), index=st.integers(0, 3))
def test_property_v1a_signed_by_cryptography_and_pynacl(
    msg_id: str, body: bytes, index: int
) -> None:
    message = f"{msg_id}.{int(NOW)}.".encode() + body
    by_cryptography = ed25519.Ed25519PrivateKey.from_private_bytes(seed(index)).sign(message)
    by_nacl = nacl.signing.SigningKey(seed(index)).sign(message).signature
    assert by_cryptography == by_nacl  # RFC 8032 signatures are deterministic
    verifier = StandardWebhooksVerifier(public_keys=[whpk(i) for i in range(4)])
    request = WebhookRequest(
        headers={
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(NOW)),
            "webhook-signature": f"v1,{b64(b'x' * 32)} v1a,{b64(by_cryptography)}",
        },
        body=body,
    )
    assert verifier.verify(request, now=NOW).key_id == f"key[{index}]"


@settings(max_examples=150, deadline=None)
@given(
    value=st.text(
        alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
        max_size=300,
    )
)
def test_property_any_signature_header_gives_verification_error(value: str) -> None:
    verifier = both_verifier()
    with pytest.raises(VerificationError):
        verifier.verify(spec_request(value))


@functools.cache
def both_verifier() -> StandardWebhooksVerifier:
    return StandardWebhooksVerifier(secret=SPEC_SECRET, public_key=whpk(0))


def test_spec_hmac_matches_stdlib() -> None:
    key = base64.b64decode(SPEC_SECRET[6:])
    expected = hmac.new(key, f"{SPEC_ID}.{SPEC_TS}.".encode() + SPEC_BODY, "sha256").digest()
    assert spec_v1() == "v1," + b64(expected)
