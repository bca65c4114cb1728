"""HttpMessageSignatureVerifier: RFC 9421 HTTP Message Signatures.

The RFC's own Appendix B request examples (tests/vectors/rfc9421/), then the
hostile cases, then the verifier contract.
"""

from __future__ import annotations

import base64
import functools
import json
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

import webhookverify
from webhookverify import (
    ConfigurationError,
    HttpMessageSignatureVerifier,
    Secret,
    VerificationError,
    WebhookRequest,
)
from webhookverify.httpsig._base import signature_base
from webhookverify.httpsig._sfv import (
    MAX_INNER_LIST,
    MAX_MEMBERS,
    InnerList,
    parse_dictionary,
)
from webhookverify.testing import sign_request

from contract import NOW, VerifierContract

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "rfc9421" / "appendix_b.json").read_text("utf-8")
)
EXAMPLES = {example["section"]: example for example in VECTORS["examples"]}
CREATED = 1618884473.0
SECRET = "a-shared-secret-of-at-least-32-bytes-0123456789"


def rfc_keys() -> dict[str, tuple[str, Any]]:
    keys: dict[str, tuple[str, Any]] = {}
    for key_id, key in VECTORS["keys"].items():
        material = key.get("public_key") or base64.b64decode(key["secret_base64"])
        keys[key_id] = (key["algorithm"], material)
    return keys


def rfc_request(example: dict[str, Any], **changes: Any) -> WebhookRequest:
    message = VECTORS["request"]
    headers = [tuple(h) for h in message["headers"]]
    headers += [("Signature-Input", example["signature_input"])]
    headers += [("Signature", example["signature"])]
    request = WebhookRequest(
        method=message["method"],
        url=message["url"],
        headers=headers,
        body=message["body"].encode("utf-8"),
        received_at=CREATED,
    )
    return request.replace(**changes) if changes else request


def with_header(request: WebhookRequest, name: str, value: str) -> WebhookRequest:
    headers = [(k, v) for k, v in request.headers.raw_items() if k.lower() != name.lower()]
    return request.replace(headers=[*headers, (name, value)])


def reason(verifier: Any, request: WebhookRequest, now: float = CREATED) -> str:
    with pytest.raises(VerificationError) as info:
        verifier.verify(request, now=now)
    return info.value.reason


# -- the RFC's examples --------------------------------------------------------------


@pytest.mark.parametrize("section", sorted(EXAMPLES))
def test_rfc_signature_base(section: str) -> None:
    example = EXAMPLES[section]
    covered = parse_dictionary(example["signature_input"])[example["label"]]
    assert isinstance(covered, InnerList)
    base = signature_base(rfc_request(example), covered)
    assert base.decode("ascii") == example["signature_base"]


@pytest.mark.parametrize("section", sorted(EXAMPLES))
def test_rfc_signature_verifies(section: str) -> None:
    example = EXAMPLES[section]
    verifier = HttpMessageSignatureVerifier(keys=rfc_keys(), required_components=())
    result = verifier.verify(rfc_request(example))
    assert result.key_id == example["keyid"]
    assert result.scheme == VECTORS["keys"][example["keyid"]]["algorithm"]
    assert result.timestamp == CREATED
    nonce = "b3k2pp5k7z-50gnwp.yemd" if section == "B.2.1" else None
    assert result.delivery_id == nonce
    # one bit of the RFC's signature changed: refused
    label, _, value = example["signature"].partition("=")
    raw = bytearray(base64.b64decode(value.strip(":")))
    raw[len(raw) // 2] ^= 0x01
    flipped = f"{label}=:{base64.b64encode(bytes(raw)).decode()}:"
    assert reason(verifier, with_header(rfc_request(example), "Signature", flipped)) == (
        "signature_mismatch"
    )


@pytest.mark.parametrize("section", ["B.2.5", "B.2.6"])
def test_sign_reproduces_the_deterministic_rfc_signatures(section: str) -> None:
    example = EXAMPLES[section]
    key = VECTORS["keys"][example["keyid"]]
    signing = {example["keyid"]: key["private_key"]} if "private_key" in key else None
    verifier = HttpMessageSignatureVerifier(keys=rfc_keys(), signing_keys=signing)
    covered = parse_dictionary(example["signature_input"])[example["label"]]
    assert isinstance(covered, InnerList)
    headers = verifier.sign(
        VECTORS["request"]["body"].encode(),
        CREATED,
        method="POST",
        url=VECTORS["request"]["url"],
        key_id=example["keyid"],
        label=example["label"],
        components=" ".join(str(item.value) for item in covered.items),
        field_date="Tue, 20 Apr 2021 02:07:55 GMT",
        field_content_type="application/json",
        field_content_length="18",
    )
    assert headers["Signature-Input"] == example["signature_input"]
    assert headers["Signature"] == example["signature"]


def test_rfc_content_digest_is_the_body_digest() -> None:
    verifier = HttpMessageSignatureVerifier(keys=rfc_keys())
    request = rfc_request(EXAMPLES["B.2.3"])
    assert verifier.verify(request).key_id == "test-key-rsa-pss"
    # the RFC's signature still verifies, but the body is not the one digested
    assert reason(verifier, request.replace(body=b'{"hello": "World"}')) == (
        "content_digest_mismatch"
    )


def test_tag_required() -> None:
    example = EXAMPLES["B.2.2"]
    keys = rfc_keys()
    tagged = HttpMessageSignatureVerifier(keys=keys, required_tag="header-example")
    assert tagged.verify(rfc_request(example)).key_id == "test-key-rsa-pss"
    other = HttpMessageSignatureVerifier(keys=keys, required_tag="another-app")
    assert reason(other, rfc_request(example)) == "unsupported_signature_version"


# -- hostile cases -------------------------------------------------------------------


def test_signature_that_covers_nothing_required_is_refused() -> None:
    # B.2.1 covers no component at all; B.2.5 covers no body
    keys = rfc_keys()
    default = HttpMessageSignatureVerifier(keys=keys)
    assert reason(default, rfc_request(EXAMPLES["B.2.1"])) == "uncovered_component"
    assert reason(default, rfc_request(EXAMPLES["B.2.5"])) == "uncovered_component"
    strict = HttpMessageSignatureVerifier(keys=keys, required_components=["@method", "@path"])
    assert reason(strict, rfc_request(EXAMPLES["B.2.2"])) == "uncovered_component"
    assert strict.verify(rfc_request(EXAMPLES["B.2.3"])).key_id == "test-key-rsa-pss"


def hmac_verifier(**options: Any) -> HttpMessageSignatureVerifier:
    return HttpMessageSignatureVerifier(keys={"k1": ("hmac-sha256", SECRET)}, **options)


def test_content_digest_that_does_not_match_the_body() -> None:
    verifier = hmac_verifier()
    request = sign_request(verifier, b'{"amount": 10}', now=NOW)
    assert reason(verifier, request.replace(body=b'{"amount": 99}'), NOW) == (
        "content_digest_mismatch"
    )
    # the header swapped for the new body's digest: the signature no longer matches
    forged = sign_request(verifier, b'{"amount": 99}', now=NOW).headers["Content-Digest"]
    swapped = with_header(request.replace(body=b'{"amount": 99}'), "Content-Digest", forged)
    assert reason(verifier, swapped, NOW) == "signature_mismatch"
    # a digest of an algorithm nobody should trust is not enough
    md5 = with_header(request, "Content-Digest", "md5=:AAAAAAAAAAAAAAAAAAAAAA==:")
    assert reason(verifier, md5, NOW) in {"signature_mismatch", "content_digest_mismatch"}


def test_alg_that_disagrees_with_the_key_is_refused() -> None:
    example = EXAMPLES["B.2.6"]
    verifier = HttpMessageSignatureVerifier(keys=rfc_keys(), required_components=())
    stated = example["signature_input"] + ';alg="hmac-sha256"'
    request = with_header(rfc_request(example), "Signature-Input", stated)
    assert reason(verifier, request) == "algorithm_mismatch"
    # the key's own algorithm, stated and signed, passes
    signer = hmac_verifier()
    signed = sign_request(signer, b"{}", now=NOW, alg="1")
    assert ';alg="hmac-sha256"' in signed.headers["Signature-Input"]
    assert signer.verify(signed, now=NOW).key_id == "k1"
    # the same secret configured as an Ed25519 key id: the message cannot switch
    as_ed25519 = HttpMessageSignatureVerifier(
        keys={"k1": ("ed25519", VECTORS["keys"]["test-key-ed25519"]["public_key"])}
    )
    assert reason(as_ed25519, signed, NOW) == "algorithm_mismatch"


def test_unknown_keyid() -> None:
    verifier = hmac_verifier()
    other = HttpMessageSignatureVerifier(keys={"k2": ("hmac-sha256", SECRET)})
    assert reason(verifier, sign_request(other, b"{}", now=NOW), NOW) == "unknown_key_id"


def test_created_and_expires() -> None:
    verifier = hmac_verifier()
    old = sign_request(verifier, b"{}", now=NOW - 301)
    assert reason(verifier, old, NOW) == "timestamp_too_old"
    ahead = sign_request(verifier, b"{}", now=NOW + 301)
    assert reason(verifier, ahead, NOW) == "timestamp_in_future"
    expired = sign_request(verifier, b"{}", now=NOW - 10, expires=str(int(NOW - 1)))
    assert reason(verifier, expired, NOW) == "signature_expired"
    fresh = sign_request(verifier, b"{}", now=NOW - 10, expires=str(int(NOW + 60)))
    assert verifier.verify(fresh, now=NOW).timestamp == NOW - 10
    # no created at all: refused unless the age check is off
    undated = with_header(
        fresh,
        "Signature-Input",
        fresh.headers["Signature-Input"].replace(f";created={int(NOW - 10)}", ""),
    )
    assert reason(verifier, undated, NOW) == "malformed_timestamp"


def test_nonce_is_the_delivery_id() -> None:
    verifier = hmac_verifier()
    assert verifier.replay_default == "id"
    with_nonce = sign_request(verifier, b"{}", now=NOW, nonce="evt-123")
    assert verifier.verify(with_nonce, now=NOW).delivery_id == "evt-123"
    assert verifier.verify(sign_request(verifier, b"{}", now=NOW), now=NOW).delivery_id is None


def test_through_a_receiver_replays_are_refused_by_nonce_and_by_content() -> None:
    from webhookverify import EventBus, Handler, HandlerRegistry, MemoryReplayStore, Receiver

    verifier = hmac_verifier()
    receiver = Receiver(
        HandlerRegistry([Handler("httpsig", verifier)]),
        EventBus(),
        replay_store=MemoryReplayStore(),
    )
    first = sign_request(verifier, b'{"n": 1}', now=NOW, nonce="evt-1")
    assert receiver.receive(first).status == 200
    assert receiver.receive(first).reason == "duplicate"
    # the same nonce signed again (another created): still the same delivery
    again = sign_request(verifier, b'{"n": 1}', now=NOW + 1, nonce="evt-1")
    assert receiver.receive(again).reason == "duplicate"
    plain = sign_request(verifier, b'{"n": 2}', now=NOW)
    assert receiver.receive(plain).status == 200
    assert receiver.receive(plain).reason == "duplicate"
    forged = plain.replace(body=b'{"n": 3}')
    assert receiver.receive(forged).status == 401


def test_status_and_unknown_components_are_refused() -> None:
    verifier = hmac_verifier(required_components=())
    request = sign_request(verifier, b"{}", now=NOW)
    for component in ('"@status"', '"@nonsense"', '"Content-Type"', '"content-type";sf'):
        text = request.headers["Signature-Input"].replace("(", f"({component} ", 1)
        assert reason(verifier, with_header(request, "Signature-Input", text), NOW) == (
            "malformed_header"
        )
    with pytest.raises(ConfigurationError):
        hmac_verifier(required_components=["@status"])


def test_limits_on_members_and_components() -> None:
    verifier = hmac_verifier(required_components=())
    request = sign_request(verifier, b"{}", now=NOW)
    many = ", ".join(f"s{i}=()" for i in range(MAX_MEMBERS + 1))
    assert reason(verifier, with_header(request, "Signature-Input", many), NOW) == (
        "malformed_header"
    )
    long_list = " ".join(f'"x-h{i}"' for i in range(MAX_INNER_LIST + 1))
    text = f'sig1=({long_list});created={int(NOW)};keyid="k1"'
    assert reason(verifier, with_header(request, "Signature-Input", text), NOW) == (
        "malformed_header"
    )


GARBAGE = [
    "sig1",
    "sig1=",
    "sig1=(",
    'sig1=("@method"',
    'sig1=("@method");created=',
    'sig1=("@method");created=1e9;keyid="k1"',
    'sig1=("@method");created=-1;keyid="k1"',
    "sig1=();keyid=k1",
    'sig1=();keyid="k1",',
    'sig1=(@method);keyid="k1"',
    'sig1=("a\\x");keyid="k1"',
    'Sig1=();keyid="k1"',
    'sig1=:AAAA:;keyid="k1"',
    'sig1=();created=9999999999999999;keyid="k1"',
    'sig1=();created=1700000000;keyid=""',
    'sig1=("@query-param");created=1700000000;keyid="k1"',
    'sig1=("@query-param";name="nope");created=1700000000;keyid="k1"',
    'sig1=("x-absent");created=1700000000;keyid="k1"',
    "sig1=(" + '"a" ' * 5000 + ")",
    "é=()",
    "sig1=() ;x",
]


def test_malformed_signature_input_gives_only_verification_errors() -> None:
    verifier = hmac_verifier(required_components=())
    request = sign_request(verifier, b"{}", now=NOW)
    for text in GARBAGE:
        with pytest.raises(VerificationError):
            verifier.verify(with_header(request, "Signature-Input", text), now=NOW)
    rng = random.Random(9421)
    alphabet = '()";=,:* ?-@abcdefgk019AZ\\\t'
    valid = request.headers["Signature-Input"]
    for _ in range(2000):
        chars = list(valid)
        for _ in range(rng.randrange(1, 4)):
            chars[rng.randrange(len(chars))] = rng.choice(alphabet)
        text = "".join(chars)
        try:
            verifier.verify(with_header(request, "Signature-Input", text), now=NOW)
        except VerificationError:
            continue
        assert text == valid  # only the untouched header may pass


def test_configuration_errors() -> None:
    for bad in (
        {},
        {"k": ("hmac-sha1", SECRET)},
        {"k": ("hmac-sha256", "short")},
        {"k": "hmac-sha256"},
        {"": ("hmac-sha256", SECRET)},
        {"k": ("ed25519", "not a key")},
        {"k": ("ecdsa-p384-sha384", VECTORS["keys"]["test-key-rsa-pss"]["public_key"])},
    ):
        with pytest.raises(ConfigurationError):
            HttpMessageSignatureVerifier(keys=bad)
    with pytest.raises(ConfigurationError):
        HttpMessageSignatureVerifier(
            keys=rfc_keys(),
            signing_keys={"test-key-ed25519": ed25519.Ed25519PrivateKey.generate()},
        )
    # sign() needs a key that can sign, and says which setting gives one
    public_only = HttpMessageSignatureVerifier(keys=rfc_keys())
    with pytest.raises(ConfigurationError, match="signing_keys"):
        public_only.sign(b"{}", NOW, key_id="test-key-ed25519")
    with pytest.raises(ConfigurationError, match="signing_keys"):
        HttpMessageSignatureVerifier(keys={"e": rfc_keys()["test-key-ed25519"]}).sign(b"{}", NOW)
    with pytest.raises(AttributeError):
        hmac_verifier().tolerance = None  # type: ignore[misc]


def test_hmac_only_stays_light() -> None:
    code = (
        "import sys\nfrom webhookverify import HttpMessageSignatureVerifier as V\n"
        "from webhookverify.testing import sign_request\n"
        f"v = V(keys={{'k': ('hmac-sha256', {SECRET!r})}})\n"
        "v.verify(sign_request(v, b'{}'))\nprint('cryptography' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["False"]


def test_exported() -> None:
    assert webhookverify.HttpMessageSignatureVerifier is HttpMessageSignatureVerifier
    assert webhookverify.httpsig.HttpMessageSignatureVerifier is HttpMessageSignatureVerifier


# -- the verifier contract -----------------------------------------------------------


class KeyIdContract(VerifierContract):
    """The contract, for a scheme whose signature names its key.

    A key id the configuration does not hold is ``unknown_key_id``
    (test_unknown_keyid); a wrong key is the right id with other material.
    """

    def test_wrong_key_rejected(self) -> None:
        signer = self.make([self.new_key(0)])
        other = self.new_key(1)
        renamed = (
            Secret(other.value, key_id="k0")
            if isinstance(other, Secret)
            else KeyPair(Secret(other.public.value, key_id="k0"), other.private)
        )
        verifier = self.make([renamed])
        with pytest.raises(VerificationError) as info:
            verifier.verify(self.signed(signer), now=NOW)
        assert info.value.reason == "signature_mismatch"
        assert reason(verifier, self.signed(self.make([other])), NOW) == "unknown_key_id"


class TestHmacContract(KeyIdContract):
    signs_timestamp = True

    def make(self, keys: list[Secret]) -> HttpMessageSignatureVerifier:
        return HttpMessageSignatureVerifier(keys={k.key_id: ("hmac-sha256", k) for k in keys})  # type: ignore[misc]

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ("Signature-Input", "Signature", "Content-Digest")


@functools.cache
def private_key(algorithm: str, index: int) -> Any:
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "ecdsa-p256-sha256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "ecdsa-p384-sha384":
        return ec.generate_private_key(ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class KeyPair:
    public: Secret
    private: Any


class PublicKeyContract(KeyIdContract):
    signs_timestamp = True
    random_bodies = 8
    algorithm = "ed25519"

    def new_key(self, index: int, **window: float) -> KeyPair:
        key = private_key(self.algorithm, index)
        pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return KeyPair(Secret(pem, key_id=f"k{index}", **window), key)

    def make(self, keys: list[KeyPair]) -> HttpMessageSignatureVerifier:
        return HttpMessageSignatureVerifier(
            keys={k.public.key_id: (self.algorithm, k.public) for k in keys},  # type: ignore[misc]
            signing_keys={k.public.key_id: k.private for k in keys},  # type: ignore[misc]
            required_components=("@method", "@target-uri", "content-digest"),
        )

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ("Signature-Input", "Content-Digest")


class TestEd25519Contract(PublicKeyContract):
    algorithm = "ed25519"


class TestEcdsaP256Contract(PublicKeyContract):
    algorithm = "ecdsa-p256-sha256"


class TestEcdsaP384Contract(PublicKeyContract):
    algorithm = "ecdsa-p384-sha384"


class TestRsaPssContract(PublicKeyContract):
    algorithm = "rsa-pss-sha512"


class TestRsaV15Contract(PublicKeyContract):
    algorithm = "rsa-v1_5-sha256"
