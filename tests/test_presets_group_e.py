"""Help Scout, Discourse, Squarespace, Close and Xendit: their vectors, their
documented algorithms as oracles, and the verifier contract.

The vectors are in tests/vectors/providers_more_e.json, each with its source.
None of these senders publishes a complete vector, and Xendit signs nothing,
so each is built from the provider's documentation or signing code and
labelled so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from webhookverify import ConfigurationError, Secret, VerificationError, WebhookRequest, presets

from _vectors import check_sources, check_vector, provider_file, vector_request
from contract import NOW
from preset_contracts import PresetContract, UnsignedBodyContract

FILE = "providers_more_e.json"
# provider in the file -> (preset, number of vectors)
PROVIDERS: dict[str, tuple[str, int]] = {
    "help_scout": ("help_scout", 2),
    "discourse": ("discourse", 2),
    "squarespace": ("squarespace", 2),
    "close": ("close", 2),
    "xendit": ("xendit", 2),
}
VECTORS = provider_file(FILE)
VALID = [v for v in VECTORS if v["expected"] == "valid"]
TOKENS = ("xendit",)  # nothing is signed: the body is not covered
HEX_KEYED = ("squarespace", "close")
# another key of the same kind: hex text for the presets that hex-decode theirs
OTHER_KEY = {"squarespace": "ab" * 32, "close": "cd" * 32}


def preset_for(vector: dict[str, Any], **override: Any) -> Any:
    """The preset for a vector's sender, built from the vector's data only."""
    name = PROVIDERS[vector["provider"]][0]
    return getattr(presets, name)(secret=override.get("secret", vector["secret"]))


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
    other = OTHER_KEY.get(vector["provider"], "another-secret-of-the-same-kind")
    with pytest.raises(VerificationError) as info:
        preset_for(vector, secret=other).verify(request_for(vector), now=vector.get("now"))
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


# -- the documented algorithms as oracles --------------------------------------------------

BODY = b'{"event":"created","data":{"id":1}}'


def test_help_scout_is_sha1_in_base64() -> None:
    verifier = presets.help_scout(secret="oracle-secret")
    expected = base64.b64encode(hmac.new(b"oracle-secret", BODY, hashlib.sha1).digest()).decode()
    assert verifier.sign(BODY) == {"X-HelpScout-Signature": expected}
    request = WebhookRequest(headers={"X-HelpScout-Signature": expected}, body=BODY)
    assert verifier.verify(request).scheme == "help-scout-hmac-sha1"


def test_discourse_prefixes_sha256() -> None:
    verifier = presets.discourse(secret="oracle-secret")
    digest = hmac.new(b"oracle-secret", BODY, hashlib.sha256).hexdigest()
    assert verifier.sign(BODY) == {"X-Discourse-Event-Signature": f"sha256={digest}"}
    # upper-case hex is not what Discourse sends
    request = WebhookRequest(
        headers={"X-Discourse-Event-Signature": f"sha256={digest.upper()}"}, body=BODY
    )
    with pytest.raises(VerificationError):
        verifier.verify(request)


@pytest.mark.parametrize("name", HEX_KEYED)
def test_hex_secrets_are_decoded_into_the_key(name: str) -> None:
    text = "0f" * 32
    factory = getattr(presets, name)
    decoded = factory(secret=Secret(bytes.fromhex(text)))
    assert factory(secret=text).sign(BODY, timestamp="1765000000") == decoded.sign(
        BODY, timestamp="1765000000"
    )
    rotated = factory(secrets=["aa" * 32, text.upper()])
    headers = decoded.sign(BODY, timestamp=str(int(NOW)))
    assert rotated.verify(WebhookRequest(headers=headers, body=BODY), now=NOW).key_id
    with pytest.raises(ConfigurationError, match=rf"^presets\.{name} secret is not hex"):
        factory(secret="not hex!")
    with pytest.raises(ConfigurationError, match=rf"^presets\.{name} secret is not hex"):
        factory(secrets=[text, "zz"])


def test_squarespace_reads_hex_of_either_case() -> None:
    (vector,) = [v for v in VECTORS if v["id"] == "squarespace-algorithm-valid"]
    key = bytes.fromhex(vector["secret"])
    digest = hmac.new(key, vector["body"].encode(), hashlib.sha256).hexdigest()
    assert vector["headers"]["Squarespace-Signature"] == digest
    request = request_for(vector)
    upper = request.replace(headers={"Squarespace-Signature": digest.upper()})
    assert preset_for(vector).verify(upper).scheme == "squarespace-hmac-sha256"


def test_close_signs_the_timestamp_then_the_body() -> None:
    (vector,) = [v for v in VECTORS if v["id"] == "close-algorithm-valid"]
    stamp = vector["headers"]["close-sig-timestamp"]
    message = f"{stamp}{vector['body']}".encode()
    expected = hmac.new(bytes.fromhex(vector["secret"]), message, hashlib.sha256).hexdigest()
    assert vector["headers"]["close-sig-hash"] == expected
    verifier = presets.close(secret=vector["secret"])
    assert verifier.sign(vector["body"].encode(), timestamp=stamp) == {
        "close-sig-hash": expected,
        "close-sig-timestamp": stamp,
    }
    result = verifier.verify(request_for(vector), now=vector["now"])
    assert result.timestamp == float(stamp)
    # another timestamp with the same signature: refused
    moved = request_for(vector).replace(
        headers={**vector["headers"], "close-sig-timestamp": str(int(stamp) + 1)}
    )
    with pytest.raises(VerificationError):
        verifier.verify(moved, now=vector["now"])


def test_token_header() -> None:
    xendit = presets.xendit(secret="token")
    assert xendit.required_headers == ("x-callback-token",)
    request = WebhookRequest(headers={"X-CALLBACK-TOKEN": "token"})
    assert xendit.verify(request).scheme == "xendit-token"
    assert xendit.replay_default == "off"


# -- what each preset pins -----------------------------------------------------------------


def test_documented_windows_and_replay_ids() -> None:
    close = presets.close(secret="00" * 32)
    assert (close.tolerance, close.future_tolerance, close.id_field) == (300, 300, None)
    for name, encoding in (
        ("help_scout", "base64"),
        ("discourse", "hex_lower"),
        ("squarespace", "hex"),
    ):
        verifier = getattr(presets, name)(secret="00" * 32)
        # no timestamp is read, so no window applies; no id is signed
        assert (verifier.timestamp_header, verifier.id_field, verifier.encoding) == (
            None,
            None,
            encoding,
        ), name


# -- the contract ---------------------------------------------------------------------------


class TestHelpScout(PresetContract):
    preset = "help_scout"


class TestDiscourse(PresetContract):
    preset = "discourse"


class TestSquarespace(PresetContract):
    preset = "squarespace"


class TestClose(PresetContract):
    preset = "close"
    signs_timestamp = True

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ("close-sig-hash", "close-sig-timestamp")


class TestXendit(UnsignedBodyContract):
    preset = "xendit"
