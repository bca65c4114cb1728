"""Presets of the Standard Webhooks family and of the public-key senders.

Every providers.json vector of these providers goes through its preset.
Vectors without a ``now`` (Discord, SendGrid) are verified at their own
signed timestamp. providers.json lacks the valid Discord PING vector that
``discord-interaction-tampered-timestamp`` derives from; it is rebuilt here
from the RFC 8032 §7.1 TEST 1 key and must reproduce the vector's signature.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import string
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nacl.signing
import pytest
import svix
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhookverify import ConfigurationError, Secret, VerificationError, WebhookRequest, presets
from webhookverify.testing import sign_request

from _vectors import providers
from contract import NOW, VerifierContract

# RFC 8032 §7.1 TEST 1
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"

PRESET_OF = {
    "standard-webhooks": presets.standard_webhooks,
    "svix": presets.svix,
    "resend": presets.resend,
    "gitlab": presets.gitlab_signing,
    "discord": presets.discord,
    "sendgrid": presets.sendgrid,
}


def _vectors() -> list[dict[str, Any]]:
    out = []
    for provider in PRESET_OF:
        for vector in providers(provider):
            if provider == "gitlab" and vector["id"] != "gitlab-signing-token-standard-webhooks":
                continue  # the X-Gitlab-Token vectors belong to the token preset
            out.append(vector)
    return out


def discord_ping_vector() -> dict[str, Any]:
    (tampered,) = providers("discord")
    return {
        **tampered,
        "id": "discord-interaction-ping-ed25519 (rebuilt)",
        "headers": {**tampered["headers"], "X-Signature-Timestamp": "1700000000"},
        "expected": "valid",
    }


VECTORS = [*_vectors(), discord_ping_vector()]


def signed_stamp(vector: dict[str, Any]) -> str | None:
    headers = vector["headers"]
    return next((v for k, v in headers.items() if k.lower().endswith("timestamp")), None)


def request_of(vector: dict[str, Any]) -> tuple[WebhookRequest, float]:
    headers = vector["headers"]
    stamp = signed_stamp(vector)
    now = vector.get("now")
    if now is None:
        now = float(stamp) if stamp is not None and stamp.isdigit() else NOW
    request = WebhookRequest(
        method=vector.get("method", "POST"), headers=headers, body=vector["body"].encode("utf-8")
    )
    return request, float(now)


def preset_for(vector: dict[str, Any]) -> Any:
    make = PRESET_OF[vector["provider"]]
    if "public_key" in vector:
        return make(public_key=vector["public_key"])
    return make(secret=vector["secret"])


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["id"])
def test_provider_vectors(vector: dict[str, Any]) -> None:
    verifier = preset_for(vector)
    request, now = request_of(vector)
    if vector["expected"] == "valid":
        result = verifier.verify(request, now=now)
        stamp = signed_stamp(vector)
        assert stamp is not None and result.timestamp == float(stamp)
        # the preset's window applies to the same request
        with pytest.raises(VerificationError) as info:
            verifier.verify(request, now=float(stamp) + 301)
        assert info.value.reason == "timestamp_too_old"
    else:
        with pytest.raises(VerificationError):
            verifier.verify(request, now=now)


def test_every_provider_has_vectors() -> None:
    assert {v["provider"] for v in VECTORS} == set(PRESET_OF)
    assert any(v["expected"] == "invalid" for v in VECTORS)


def test_rebuilt_discord_vector_matches_the_published_signature() -> None:
    vector = discord_ping_vector()
    key = ed25519.Ed25519PrivateKey.from_private_bytes(RFC8032_SEED)
    assert key.public_key().public_bytes_raw().hex() == RFC8032_PUBLIC == vector["public_key"]
    signed = presets.discord(private_key=RFC8032_SEED).sign(
        vector["body"].encode(), timestamp="1700000000"
    )
    assert signed["X-Signature-Ed25519"] == vector["headers"]["X-Signature-Ed25519"]


def test_sendgrid_crlf_body_is_signed() -> None:
    (valid,) = [v for v in providers("sendgrid") if v["expected"] == "valid"]
    assert valid["body"].endswith("\r\n")
    verifier = presets.sendgrid(public_key=valid["public_key"])
    request, now = request_of(valid)
    assert verifier.verify(request, now=now).scheme == "sendgrid-ecdsa"
    stripped = request.replace(body=request.body.rstrip(b"\r\n"))
    with pytest.raises(VerificationError) as info:
        verifier.verify(stripped, now=now)
    assert info.value.reason == "signature_mismatch"


# -- the contract, for every preset ------------------------------------------------------


class PresetContract(VerifierContract):
    signs_timestamp = True

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return verifier.required_headers  # type: ignore[no-any-return]


class TestStandardWebhooksContract(PresetContract):
    def make(self, keys: list[Any]) -> Any:
        return presets.standard_webhooks(secrets=keys)


class TestSvixContract(PresetContract):
    def make(self, keys: list[Any]) -> Any:
        return presets.svix(secrets=keys)


class TestClerkContract(PresetContract):
    def make(self, keys: list[Any]) -> Any:
        return presets.clerk(secrets=keys)


class TestResendContract(PresetContract):
    def make(self, keys: list[Any]) -> Any:
        return presets.resend(secrets=keys)


class TestGitLabSigningContract(PresetContract):
    def make(self, keys: list[Any]) -> Any:
        return presets.gitlab_signing(secrets=keys)


@dataclass(frozen=True)
class KeyPair:
    public: Secret
    private: Any


@functools.cache
def ed25519_seed(index: int) -> bytes:
    return hashlib.sha256(f"preset-ed25519-{index}".encode()).digest()


@functools.cache
def p256_key(index: int) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


class TestStandardWebhooksV1aContract(PresetContract):
    def new_key(self, index: int, **window: float) -> KeyPair:
        seed = ed25519_seed(index)
        public = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        whpk = "whpk_" + base64.b64encode(public).decode()
        return KeyPair(Secret(whpk, key_id=f"k{index}", **window), seed)

    def make(self, keys: list[KeyPair]) -> Any:
        return presets.standard_webhooks(
            public_keys=[k.public for k in keys], private_key=keys[-1].private
        )


class TestDiscordContract(PresetContract):
    def new_key(self, index: int, **window: float) -> KeyPair:
        seed = ed25519_seed(index)
        public = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        return KeyPair(Secret(public.hex(), key_id=f"k{index}", **window), seed)

    def make(self, keys: list[KeyPair]) -> Any:
        return presets.discord(public_keys=[k.public for k in keys], private_key=keys[-1].private)


class TestSendGridContract(PresetContract):
    def new_key(self, index: int, **window: float) -> KeyPair:
        key = p256_key(index)
        spki = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # as the SendGrid UI shows it: base64 DER, no PEM armour
        return KeyPair(Secret(base64.b64encode(spki).decode(), key_id=f"k{index}", **window), key)

    def make(self, keys: list[KeyPair]) -> Any:
        return presets.sendgrid(public_keys=[k.public for k in keys], private_key=keys[-1].private)


# -- what each preset pins ----------------------------------------------------------


SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.mark.parametrize(
    ("make", "prefix", "scheme"),
    [
        (presets.standard_webhooks, "webhook-", "standard-webhooks-v1"),
        (presets.svix, "svix-", "svix-v1"),
        (presets.clerk, "svix-", "clerk-v1"),
        (presets.resend, "svix-", "resend-v1"),
        (presets.gitlab_signing, "webhook-", "gitlab-signing-v1"),
    ],
)
def test_standard_family_headers_and_windows(make: Any, prefix: str, scheme: str) -> None:
    verifier = make(secret=SECRET)
    assert verifier.required_headers == (f"{prefix}signature", f"{prefix}timestamp", f"{prefix}id")
    assert (verifier.tolerance, verifier.future_tolerance) == (300, 300)
    assert verifier.replay_default == "id"
    request = sign_request(verifier, b"{}", now=NOW, id="msg_1")
    result = verifier.verify(request, now=NOW)
    assert (result.scheme, result.delivery_id) == (scheme, "msg_1")


@pytest.mark.parametrize(
    "make",
    [
        presets.standard_webhooks,
        presets.svix,
        presets.clerk,
        presets.resend,
        presets.gitlab_signing,
    ],
)
def test_turning_the_past_off_by_name_keeps_the_future_bounded(make: Any) -> None:
    verifier = make(secret=SECRET, tolerance=None)
    verifier.verify(sign_request(verifier, b"{}", now=NOW - 86_400 * 30), now=NOW)
    with pytest.raises(VerificationError) as info:
        verifier.verify(sign_request(verifier, b"{}", now=NOW + 301), now=NOW)
    assert info.value.reason == "timestamp_in_future"


@pytest.mark.parametrize("make", [presets.discord, presets.sendgrid])
def test_public_key_presets_windows_and_replay(make: Any) -> None:
    key = ed25519_seed(0) if make is presets.discord else p256_key(0)
    verifier = make(private_key=key)
    assert (verifier.tolerance, verifier.future_tolerance) == (300, 300)
    # Discord signs the interaction's id in the body; SendGrid's batch has none
    assert verifier.replay_default == ("id" if make is presets.discord else "content")
    assert verifier.replay_window == 600
    off = make(private_key=key, tolerance=None)
    off.verify(sign_request(off, b"[]", now=NOW - 86_400), now=NOW)
    with pytest.raises(VerificationError):
        off.verify(sign_request(off, b"[]", now=NOW + 301), now=NOW)


def test_svix_unbranded_headers_option() -> None:
    verifier = presets.svix(secret=SECRET, header_prefix="webhook-")
    assert verifier.required_headers[0] == "webhook-signature"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: presets.standard_webhooks(), "needs a key"),
        (lambda: presets.svix(secret="whsec_%%%"), "base64"),
        (lambda: presets.clerk(secrets=[]), "needs a secret"),
        (lambda: presets.resend(secret=SECRET, tolerance=-1), "negative"),
        (lambda: presets.gitlab_signing(secret=""), "empty"),
        (lambda: presets.discord(), "needs a public key"),
        (lambda: presets.discord(public_key="zz" * 32), "could not be read"),
        (lambda: presets.discord(public_key=p256_key(0).public_key()), "Ed25519"),
        (lambda: presets.sendgrid(), "needs a public key"),
        (lambda: presets.sendgrid(public_key=RFC8032_PUBLIC), "could not be read"),
        (
            lambda: presets.sendgrid(
                public_key=ec.generate_private_key(ec.SECP384R1()).public_key()
            ),
            "P-256",
        ),
        (lambda: presets.sendgrid(public_key=p256_key(0).public_key()).sign(b"[]"), "private_key"),
    ],
)
def test_preset_configuration_errors(call: Any, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        call()


# -- the SDKs as oracles -----------------------------------------------------------

ORACLE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MSG_IDS = st.text(alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=32)
SECRETS = st.binary(min_size=24, max_size=64).map(
    lambda raw: "whsec_" + base64.b64encode(raw).decode()
)


@ORACLE
@given(
    secret=SECRETS,
    msg_id=MSG_IDS,
    text=st.text(max_size=1000),
    make=st.sampled_from([presets.svix, presets.clerk, presets.resend]),
)
def test_property_svix_sdk_and_svix_presets_agree(
    secret: str, msg_id: str, text: str, make: Any
) -> None:
    body = text.encode("utf-8")
    now = time.time()
    sdk = svix.Webhook(secret)
    verifier = make(secret=secret)
    signed = verifier.sign(body, now=now, id=msg_id)
    sdk.verify(body, signed)
    stamp = int(now)
    header = sdk.sign(msg_id, datetime.fromtimestamp(stamp, tz=UTC), text)
    request = WebhookRequest(
        headers={"svix-id": msg_id, "svix-timestamp": str(stamp), "svix-signature": header},
        body=body,
    )
    assert verifier.verify(request, now=now).delivery_id == msg_id


@ORACLE
@given(body=st.binary(max_size=2000), stamp=st.integers(int(NOW) - 300, int(NOW) + 300))
def test_property_discord_agrees_with_pynacl(body: bytes, stamp: int) -> None:
    signing = nacl.signing.SigningKey(RFC8032_SEED)
    verifier = presets.discord(public_key=RFC8032_PUBLIC, private_key=RFC8032_SEED)
    signature = signing.sign(str(stamp).encode() + body).signature.hex()
    request = WebhookRequest(
        headers={"X-Signature-Ed25519": signature, "X-Signature-Timestamp": str(stamp)}, body=body
    )
    assert verifier.verify(request, now=NOW).timestamp == stamp
    ours = verifier.sign(body, now=stamp)
    signing.verify_key.verify(
        str(stamp).encode() + body, bytes.fromhex(ours["X-Signature-Ed25519"])
    )


@ORACLE
@given(body=st.binary(max_size=2000), stamp=st.integers(int(NOW) - 300, int(NOW) + 300))
def test_property_sendgrid_agrees_with_cryptography(body: bytes, stamp: int) -> None:
    key = p256_key(0)
    signature = key.sign(str(stamp).encode() + body, ec.ECDSA(hashes.SHA256()))
    verifier = presets.sendgrid(public_key=key.public_key(), private_key=key)
    request = WebhookRequest(
        headers={
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": str(stamp),
        },
        body=body,
    )
    assert verifier.verify(request, now=NOW).timestamp == stamp
    ours = verifier.sign(body, now=stamp)
    key.public_key().verify(
        base64.b64decode(ours["X-Twilio-Email-Event-Webhook-Signature"]),
        str(stamp).encode() + body,
        ec.ECDSA(hashes.SHA256()),
    )
