"""PublicKeyVerifier: the contract, Project Wycheproof, key loading, configuration.

Wycheproof decisions (asserted below): every ``valid`` case verifies and every
``invalid`` one raises a ``VerificationError`` (never another exception). The
only ``acceptable`` case in these files, RSA PKCS#1 v1.5 with the DigestInfo's
NULL parameter missing (``MissingNull``), is *refused*: no sender emits it, and
accepting legacy encodings only widens what a forger may try. RSA keys under
2048 bits (Wycheproof's "acceptable" small keys elsewhere) are refused at
construction. With ``salt_length="auto"`` RSA-PSS accepts any salt length, so
exactly the six "s_len changed" cases become valid; the default (32) refuses
them.
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from typing import Any

import nacl.signing
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from webhookverify import (
    ConfigurationError,
    MalformedSignature,
    Secret,
    VerificationError,
    WebhookRequest,
)
from webhookverify.testing import sign_request
from webhookverify.verifiers.asymmetric import (
    MIN_RSA_BITS,
    PublicKeyVerifier,
    load_private_key,
    load_public_key,
)

from _vectors import wycheproof
from contract import NOW, VerifierContract

# -- keys, made once per test session -----------------------------------------------


@functools.cache
def private_key(algorithm: str, index: int) -> Any:
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "ecdsa-p256-sha256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: Any) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def der(key: Any) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class KeyPair:
    public: Secret  # the public key's PEM, with the contract's key id and window
    private: Any


class PublicKeyContract(VerifierContract):
    algorithm = "ed25519"
    options: dict[str, Any] = {}  # noqa: RUF012

    def new_key(self, index: int, **window: float) -> KeyPair:
        key = private_key(self.algorithm, index)
        return KeyPair(Secret(pem(key.public_key()), key_id=f"k{index}", **window), key)

    def make(self, keys: list[KeyPair]) -> PublicKeyVerifier:
        return PublicKeyVerifier(
            algorithm=self.algorithm,  # type: ignore[arg-type]
            public_keys=[k.public for k in keys],
            private_key=keys[-1].private,
            **self.options,
        )


class TestEd25519BodyContract(PublicKeyContract):
    options = {"header": "X-Signature"}  # noqa: RUF012


class TestEd25519DiscordStyleContract(PublicKeyContract):
    signs_timestamp = True
    options = {  # noqa: RUF012
        "header": "X-Signature-Ed25519",
        "encoding": "hex",
        "template": "{timestamp}{body}",
        "timestamp_header": "X-Signature-Timestamp",
    }

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return verifier.required_headers  # type: ignore[no-any-return]


class TestEcdsaDerContract(PublicKeyContract):
    algorithm = "ecdsa-p256-sha256"
    signs_timestamp = True
    options = {  # noqa: RUF012
        "header": "X-Sig",
        "template": "{timestamp}{body}",
        "timestamp_header": "X-Ts",
    }


class TestEcdsaRawIdContract(PublicKeyContract):
    algorithm = "ecdsa-p256-sha256"
    signs_timestamp = True
    options = {  # noqa: RUF012
        "header": "X-Sig",
        "encoding": "base64url",
        "signature_format": "raw",
        "template": "{id}.{timestamp}.{body}",
        "timestamp_header": "X-Ts",
        "id_header": "X-Id",
    }

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return verifier.required_headers  # type: ignore[no-any-return]

    def test_delivery_id_is_signed(self) -> None:
        verifier = self.make([self.new_key(0)])
        request = sign_request(verifier, b"{}", now=NOW, id="evt-42")
        assert verifier.verify(request, now=NOW).delivery_id == "evt-42"
        assert verifier.replay_default == "id"


class TestRsaPkcs1Contract(PublicKeyContract):
    algorithm = "rsa-pkcs1v15-sha256"
    options = {"header": "X-Sig"}  # noqa: RUF012


class TestRsaPssPrefixedListContract(PublicKeyContract):
    algorithm = "rsa-pss-sha256"
    signs_timestamp = True
    options = {  # noqa: RUF012
        "header": "X-Sig",
        "prefix": "v1=",
        "delimiter": ",",
        "template": "{timestamp}.{body}",
        "timestamp_header": "X-Ts",
        "timestamp_format": "unix_ms",
    }


# -- Project Wycheproof -----------------------------------------------------------------


class SplitBuilder:
    """A message builder that hands the body over in two parts (the prehash path)."""

    signs = frozenset[str]()

    def __call__(self, request: WebhookRequest, values: Any) -> tuple[bytes, ...]:
        half = len(request.body) // 2
        return (request.body[:half], request.body[half:])


_KEY_FORMS = ("pem", "der-bytes", "der-base64", "der-hex", "object")


@functools.cache
def wycheproof_verifier(
    name: str, group_index: int, split: bool = False, **options: Any
) -> PublicKeyVerifier:
    groups = list({id(g): g for g, _ in wycheproof(name)}.values())
    group = groups[group_index]
    algorithm = {
        "ed25519_test.json": "ed25519",
        "ecdsa_secp256r1_sha256_test.json": "ecdsa-p256-sha256",
        "ecdsa_secp256r1_sha256_p1363_test.json": "ecdsa-p256-sha256",
        "rsa_signature_2048_sha256_test.json": "rsa-pkcs1v15-sha256",
        "rsa_pss_2048_sha256_mgf1_32_test.json": "rsa-pss-sha256",
    }[name]
    if "p1363" in name:
        options["signature_format"] = "raw"
    # Every way a key can be given, spread over the groups.
    form = _KEY_FORMS[group_index % len(_KEY_FORMS)]
    der_key = bytes.fromhex(group["publicKeyDer"])
    key: Any = {
        "pem": group["publicKeyPem"],
        "der-bytes": der_key,
        "der-base64": base64.b64encode(der_key).decode(),
        "der-hex": der_key.hex(),
        "object": serialization.load_der_public_key(der_key),
    }[form]
    if algorithm == "ed25519" and group_index % 2:
        key = group["publicKey"]["pk"]  # the raw 32-byte key, in hex
    return PublicKeyVerifier(
        algorithm=algorithm,  # type: ignore[arg-type]
        public_key=key,
        header="Sig",
        encoding="hex",
        template=SplitBuilder() if split else "{body}",
        **options,
    )


def _cases(name: str) -> list[tuple[int, dict[str, Any]]]:
    groups: dict[int, int] = {}
    out = []
    for group, test in wycheproof(name):
        index = groups.setdefault(id(group), len(groups))
        out.append((index, test))
    return out


def _check(verifier: PublicKeyVerifier, test: dict[str, Any]) -> None:
    request = WebhookRequest(headers={"Sig": test["sig"]}, body=bytes.fromhex(test["msg"]))
    if test["result"] == "valid":
        result = verifier.verify(request)
        assert result.scheme == verifier.algorithm
        assert result.key_id == "key[0]"
        return
    try:
        verifier.verify(request)
    except VerificationError:
        return
    pytest.fail(f"Wycheproof tc{test['tcId']} ({test['result']}, {test['flags']}) was accepted")


WYCHEPROOF_FILES = [
    "ed25519_test.json",
    "ecdsa_secp256r1_sha256_test.json",
    "ecdsa_secp256r1_sha256_p1363_test.json",
    "rsa_signature_2048_sha256_test.json",
    "rsa_pss_2048_sha256_mgf1_32_test.json",
]


@pytest.mark.parametrize("name", WYCHEPROOF_FILES)
def test_wycheproof(name: str) -> None:
    counts = {"valid": 0, "invalid": 0, "acceptable": 0}
    for group_index, test in _cases(name):
        _check(wycheproof_verifier(name, group_index), test)
        counts[test["result"]] += 1
    assert counts["valid"] > 0 and counts["invalid"] > 0


@pytest.mark.parametrize("name", [n for n in WYCHEPROOF_FILES if "ed25519" not in n])
def test_wycheproof_through_the_prehashed_path(name: str) -> None:
    # ECDSA and RSA hash a multi-part message themselves and verify the digest.
    for group_index, test in _cases(name):
        _check(wycheproof_verifier(name, group_index, split=True), test)


def test_wycheproof_acceptable_missing_null_is_refused() -> None:
    name = "rsa_signature_2048_sha256_test.json"
    acceptable = [(g, t) for g, t in _cases(name) if t["result"] == "acceptable"]
    assert [t["flags"] for _, t in acceptable] == [["MissingNull"]]
    for group_index, test in acceptable:
        request = WebhookRequest(headers={"Sig": test["sig"]}, body=bytes.fromhex(test["msg"]))
        with pytest.raises(VerificationError) as info:
            wycheproof_verifier(name, group_index).verify(request)
        assert info.value.reason == "signature_mismatch"


def test_wycheproof_pss_auto_salt_accepts_exactly_other_salt_lengths() -> None:
    name = "rsa_pss_2048_sha256_mgf1_32_test.json"
    accepted = []
    for group_index, test in _cases(name):
        verifier = wycheproof_verifier(name, group_index, salt_length="auto")
        request = WebhookRequest(headers={"Sig": test["sig"]}, body=bytes.fromhex(test["msg"]))
        try:
            verifier.verify(request)
        except VerificationError:
            assert test["result"] == "invalid"
        else:
            if test["result"] == "invalid":
                accepted.append(test["comment"])
    assert sorted(accepted) == sorted(f"s_len changed to {n}" for n in (0, 1, 20, 31, 33, 222))


# -- behaviour ------------------------------------------------------------------------


def ed_verifier(**options: Any) -> PublicKeyVerifier:
    key = private_key("ed25519", 0)
    return PublicKeyVerifier(
        algorithm="ed25519", private_key=key, header=options.pop("header", "S"), **options
    )


def test_pynacl_signature_verifies_and_ours_verifies_in_pynacl() -> None:
    signing = nacl.signing.SigningKey.generate()
    verifier = PublicKeyVerifier(
        algorithm="ed25519",
        public_key=bytes(signing.verify_key),
        private_key=bytes(signing),
        header="S",
        template="{timestamp}:{body}",
        timestamp_header="T",
    )
    body = b'{"hello": "world"}'
    signature = signing.sign(b"1700000000:" + body).signature
    request = WebhookRequest(
        headers={"S": base64.b64encode(signature).decode(), "T": "1700000000"}, body=body
    )
    assert verifier.verify(request, now=NOW).timestamp == NOW
    ours = verifier.sign(body, now=NOW)
    signing.verify_key.verify(b"1700000000:" + body, base64.b64decode(ours["S"]))


@pytest.mark.parametrize(
    "algorithm", ["ed25519", "ecdsa-p256-sha256", "rsa-pkcs1v15-sha256", "rsa-pss-sha256"]
)
def test_one_mebibyte_body_verified_without_copying_it(algorithm: str) -> None:
    body = bytes(range(256)) * 4096
    assert len(body) == 1 << 20
    verifier = PublicKeyVerifier(
        algorithm=algorithm,  # type: ignore[arg-type]
        private_key=private_key(algorithm, 0),
        header="S",
        template="{timestamp}.{body}",
        timestamp_header="T",
    )
    request = sign_request(verifier, body, now=NOW)
    result = verifier.verify(request, now=NOW)
    assert result.signed[-1] is request.body
    altered = bytearray(body)
    altered[-1] ^= 1
    with pytest.raises(VerificationError):
        verifier.verify(request.replace(body=bytes(altered)), now=NOW)


def test_signatures_from_cryptography_directly() -> None:
    message = b"1700000000" + b'{"event":"x"}'
    ec_key = private_key("ecdsa-p256-sha256", 0)
    rsa_key = private_key("rsa-pkcs1v15-sha256", 0)
    signed = {
        "ecdsa-p256-sha256": ec_key.sign(message, ec.ECDSA(hashes.SHA256())),
        "rsa-pkcs1v15-sha256": rsa_key.sign(message, padding.PKCS1v15(), hashes.SHA256()),
        "rsa-pss-sha256": rsa_key.sign(
            message, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256()
        ),
    }
    for algorithm, signature in signed.items():
        key = ec_key if algorithm.startswith("ecdsa") else rsa_key
        verifier = PublicKeyVerifier(
            algorithm=algorithm,  # type: ignore[arg-type]
            public_key=pem(key.public_key()),
            header="S",
            template="{timestamp}{body}",
            timestamp_header="T",
        )
        request = WebhookRequest(
            headers={"S": base64.b64encode(signature).decode(), "T": "1700000000"},
            body=b'{"event":"x"}',
        )
        assert verifier.verify(request, now=NOW).scheme == algorithm


def test_pss_salt_length_is_pinned_unless_auto() -> None:
    key = private_key("rsa-pss-sha256", 0)
    body = b"salted"
    signature = key.sign(body, padding.PSS(padding.MGF1(hashes.SHA256()), 20), hashes.SHA256())
    request = WebhookRequest(headers={"S": base64.b64encode(signature).decode()}, body=body)
    public = pem(key.public_key())

    def verifier(**options: Any) -> PublicKeyVerifier:
        return PublicKeyVerifier(
            algorithm="rsa-pss-sha256", public_key=public, header="S", **options
        )

    with pytest.raises(VerificationError):
        verifier().verify(request)
    verifier(salt_length=20).verify(request)
    verifier(salt_length="auto").verify(request)


def test_ecdsa_der_and_raw_are_not_interchangeable() -> None:
    key = private_key("ecdsa-p256-sha256", 0)
    der_verifier = PublicKeyVerifier(algorithm="ecdsa-p256-sha256", private_key=key, header="S")
    raw_verifier = PublicKeyVerifier(
        algorithm="ecdsa-p256-sha256", private_key=key, header="S", signature_format="raw"
    )
    assert len(base64.b64decode(raw_verifier.sign(b"x")["S"])) == 64
    der_request = sign_request(der_verifier, b"x")
    raw_request = sign_request(raw_verifier, b"x")
    der_verifier.verify(der_request)
    raw_verifier.verify(raw_request)
    with pytest.raises(VerificationError):
        raw_verifier.verify(der_request)
    with pytest.raises(VerificationError):
        der_verifier.verify(raw_request)


def test_ecdsa_raw_signature_with_zero_or_overflowing_scalars_is_refused() -> None:
    verifier = PublicKeyVerifier(
        algorithm="ecdsa-p256-sha256",
        private_key=private_key("ecdsa-p256-sha256", 0),
        header="S",
        signature_format="raw",
    )
    for signature in (b"\0" * 64, b"\xff" * 64, b"\0" * 32 + b"\x01" * 32):
        request = WebhookRequest(headers={"S": base64.b64encode(signature).decode()}, body=b"x")
        with pytest.raises(VerificationError) as info:
            verifier.verify(request)
        assert info.value.reason == "signature_mismatch"


def test_signature_of_wrong_length_is_malformed_before_any_math() -> None:
    verifier = ed_verifier()
    for length in (1, 32, 63, 65, 128):
        request = WebhookRequest(headers={"S": base64.b64encode(b"\1" * length).decode()})
        with pytest.raises(VerificationError) as info:
            verifier.verify(request)
        assert info.value.reason == "malformed_signature"


def test_prefix_delimiter_and_unknown_entries() -> None:
    verifier = ed_verifier(prefix="v1a,", delimiter=" ")
    good = "v1a," + verifier.sign(b"b")["S"].removeprefix("v1a,")
    for value in (good, f"v1,abc {good}", f"v1a,AAAA {good}", f"{good}  v2,x"):
        verifier.verify(WebhookRequest(headers={"S": value}, body=b"b"))
    with pytest.raises(VerificationError) as info:
        verifier.verify(WebhookRequest(headers={"S": "v1,abc v2,def"}, body=b"b"))
    assert info.value.reason == "unsupported_signature_version"
    with pytest.raises(VerificationError) as info:
        verifier.verify(WebhookRequest(headers={"S": " ".join([good] * 17)}, body=b"b"))
    assert info.value.reason == "malformed_header"


def test_rotation_with_key_ids_and_windows() -> None:
    old, new = private_key("ed25519", 0), private_key("ed25519", 1)
    verifier = PublicKeyVerifier(
        algorithm="ed25519",
        public_keys=[("2024", pem(old.public_key())), Secret(pem(new.public_key()), key_id="2025")],
        header="S",
    )
    assert verifier.key_ids == ("2024", "2025")
    for key, key_id in ((old, "2024"), (new, "2025")):
        signer = PublicKeyVerifier(algorithm="ed25519", private_key=key, header="S")
        assert verifier.verify(sign_request(signer, b"x")).key_id == key_id
    unnamed = PublicKeyVerifier(
        algorithm="ed25519", public_keys=[old.public_key(), new.public_key()], header="S"
    )
    assert unnamed.key_ids == ("key[0]", "key[1]")
    expired = PublicKeyVerifier(
        algorithm="ed25519",
        public_key=Secret(pem(old.public_key()), not_after=NOW - 1),
        private_key=old,
        header="S",
    )
    request = sign_request(ed_verifier(), b"x", now=NOW - 10)
    with pytest.raises(VerificationError) as info:
        expired.verify(request, now=NOW)
    assert info.value.reason == "no_valid_key"
    with pytest.raises(VerificationError) as info:
        expired.sign(b"x", now=NOW)
    assert info.value.reason == "no_valid_key"


def test_sign_without_private_key_is_a_configuration_error() -> None:
    verifier = PublicKeyVerifier(
        algorithm="ed25519", public_key=private_key("ed25519", 0).public_key(), header="S"
    )
    assert not verifier.can_sign
    with pytest.raises(ConfigurationError, match="private_key"):
        verifier.sign(b"x")


def test_repr_and_errors_hold_no_key_material() -> None:
    key = private_key("ed25519", 0)
    seed = key.private_bytes_raw()
    verifier = PublicKeyVerifier(algorithm="ed25519", private_key=seed, header="S")
    text = repr(verifier) + str(verifier)
    assert seed.hex() not in text and base64.b64encode(seed).decode() not in text
    assert "<hidden>" in text
    with pytest.raises(VerificationError) as info:
        verifier.verify(WebhookRequest(headers={"S": "A" * 86 + "=="}, body=b"x"))
    assert seed.hex() not in repr(info.value)


def test_immutable() -> None:
    verifier = ed_verifier()
    with pytest.raises(AttributeError):
        verifier.header = "T"  # type: ignore[misc]


# -- key loading -------------------------------------------------------------------


def test_ed25519_public_key_forms() -> None:
    key = private_key("ed25519", 0).public_key()
    raw = key.public_bytes_raw()
    forms: list[Any] = [
        key,
        pem(key),
        pem(key).encode(),
        der(key),
        base64.b64encode(der(key)).decode(),
        der(key).hex(),
        raw,
        raw.hex(),
        raw.hex().upper(),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "whpk_" + base64.b64encode(raw).decode(),
        Secret(raw),
        Secret(pem(key)),
        f"  {raw.hex()}\n",
    ]
    for form in forms:
        loaded = load_public_key(form, "ed25519")
        assert isinstance(loaded, ed25519.Ed25519PublicKey)
        assert loaded.public_bytes_raw() == raw


def test_private_key_forms() -> None:
    key = private_key("ed25519", 0)
    seed = key.private_bytes_raw()
    public = key.public_key().public_bytes_raw()
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    for form in (
        key,
        seed,
        seed.hex(),
        base64.b64encode(seed).decode(),
        "whsk_" + base64.b64encode(seed + public).decode(),
        pkcs8,
        base64.b64encode(pkcs8).decode(),
        Secret(seed),
    ):
        loaded = load_private_key(form, "ed25519")  # type: ignore[arg-type]
        assert loaded.public_key().public_bytes_raw() == public  # type: ignore[union-attr]
    ec_key = private_key("ecdsa-p256-sha256", 0)
    for encoding, fmt in (
        (serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8),
        (serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL),
    ):
        text = ec_key.private_bytes(encoding, fmt, serialization.NoEncryption()).decode()
        assert isinstance(load_private_key(text, "ecdsa-p256-sha256"), ec.EllipticCurvePrivateKey)


@functools.cache
def small_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


@pytest.mark.parametrize(
    ("algorithm", "key", "match"),
    [
        ("ed25519", "", "could not be read"),
        ("ed25519", "not a key", "could not be read"),
        ("ed25519", b"\x00" * 31, "could not be read"),
        ("ed25519", b"\xff" * 40, "could not be read"),
        ("ed25519", "whpk_AAAA", "could not be read"),
        (
            "ed25519",
            "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----",
            "could not be read",
        ),
        ("ed25519", "é" * 44, "could not be read"),
        ("ed25519", "A" * 20_000, "too long"),
        ("ed25519", 12345, "must be PEM"),
        ("ecdsa-p256-sha256", "00" * 32, "could not be read"),
        ("ecdsa-p256-sha256", "ed25519-key", "EC key on P-256"),
        ("ecdsa-p256-sha256", "p384-key", "EC key on P-256"),
        ("rsa-pkcs1v15-sha256", "ec-key", "RSA key"),
        ("rsa-pss-sha256", "rsa-1024", f"at least {MIN_RSA_BITS} bits"),
        ("ed25519", "rsa-key", "Ed25519 key"),
    ],
)
def test_bad_public_keys_are_configuration_errors(algorithm: str, key: Any, match: str) -> None:
    named = {
        "ed25519-key": lambda: pem(private_key("ed25519", 0).public_key()),
        "p384-key": lambda: pem(ec.generate_private_key(ec.SECP384R1()).public_key()),
        "ec-key": lambda: pem(private_key("ecdsa-p256-sha256", 0).public_key()),
        "rsa-key": lambda: pem(private_key("rsa-pkcs1v15-sha256", 0).public_key()),
        "rsa-1024": lambda: pem(small_rsa_key().public_key()),
    }
    if isinstance(key, str) and key in named:
        key = named[key]()
    with pytest.raises(ConfigurationError, match=match):
        PublicKeyVerifier(algorithm=algorithm, public_key=key, header="S")  # type: ignore[arg-type]


def test_bad_private_keys_are_configuration_errors() -> None:
    key = private_key("ed25519", 0)
    seed, public = key.private_bytes_raw(), key.public_key().public_bytes_raw()
    other = private_key("ed25519", 1)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    ).decode()
    for bad, match in (
        ("whsk_" + base64.b64encode(seed + b"\0" * 32).decode(), "could not be read"),
        ("whsk_" + base64.b64encode(seed).decode(), "could not be read"),
        (encrypted, "could not be read"),
        ("garbage", "could not be read"),
        (other.public_key(), "not a private key"),
        (private_key("ecdsa-p256-sha256", 0), "Ed25519"),
    ):
        with pytest.raises(ConfigurationError, match=match):
            PublicKeyVerifier(algorithm="ed25519", private_key=bad, header="S")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="does not belong"):
        PublicKeyVerifier(algorithm="ed25519", public_key=public, private_key=other, header="S")
    with pytest.raises(ConfigurationError, match="RSA"):
        PublicKeyVerifier(algorithm="rsa-pss-sha256", private_key=small_rsa_key(), header="S")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"algorithm": "ed448"}, "not supported"),
        ({"algorithm": "ECDSA-P256-SHA256"}, "not supported"),
        ({"header": ""}, "header"),
        ({"encoding": "base32"}, "encoding"),
        ({"prefix": None}, "prefix"),
        ({"delimiter": ""}, "delimiter"),
        ({"template": "{nope}{body}"}, "unknown"),
        ({"template": 7}, "template"),
        ({"template": "{timestamp}{body}"}, "timestamp_header"),
        ({"timestamp_header": "T"}, "does not sign it"),
        ({"template": "{id}{body}"}, "id_header"),
        ({"timestamp_format": "iso"}, "timestamp_format"),
        ({"tolerance": -1}, "negative"),
        ({"future_tolerance": float("nan")}, "number"),
        ({"signature_format": "raw"}, "ECDSA only"),
        ({"salt_length": 32}, "rsa-pss-sha256 only"),
        ({"algorithm": "ecdsa-p256-sha256", "signature_format": "p1363"}, "'der' or 'raw'"),
        ({"algorithm": "rsa-pss-sha256", "salt_length": -1}, "salt_length"),
        ({"algorithm": "rsa-pss-sha256", "salt_length": True}, "salt_length"),
        ({"algorithm": "rsa-pss-sha256", "salt_length": "max"}, "salt_length"),
        ({"algorithm": "rsa-pss-sha256", "salt_length": 223}, "222 bytes at most"),
        ({"public_key": None}, "needs a public key"),
        ({"public_keys": ["x"]}, "not both"),
        ({"public_key": None, "public_keys": "abc"}, "takes a list"),
        ({"public_key": None, "public_keys": []}, "needs a public key"),
        ({"public_key": ("", "abc")}, "(key_id, key)"),
    ],
)
def test_configuration_errors_at_construction(options: dict[str, Any], match: str) -> None:
    algorithm = options.get("algorithm", "ed25519")
    key = private_key(
        algorithm if algorithm in ("ecdsa-p256-sha256", "rsa-pss-sha256") else "ed25519", 0
    )
    kwargs: dict[str, Any] = {
        "algorithm": "ed25519",
        "public_key": pem(key.public_key()),
        "header": "S",
        **options,
    }
    with pytest.raises(ConfigurationError, match=match):
        PublicKeyVerifier(**kwargs)


# -- properties ---------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    value=st.text(
        alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
        max_size=200,
    ),
    stamp=st.text(alphabet="0123456789+- .e", max_size=16),
)
def test_property_any_header_value_gives_verification_error(value: str, stamp: str) -> None:
    for verifier in property_verifiers():
        request = WebhookRequest(headers={"S": value, "T": stamp}, body=b"x")
        with pytest.raises(VerificationError):
            verifier.verify(request, now=NOW)


@functools.cache
def property_verifiers() -> tuple[PublicKeyVerifier, ...]:
    out = []
    for algorithm in ("ed25519", "ecdsa-p256-sha256", "rsa-pss-sha256"):
        for fmt in ("der", "raw") if algorithm.startswith("ecdsa") else (None,):
            out.append(
                PublicKeyVerifier(
                    algorithm=algorithm,  # type: ignore[arg-type]
                    public_key=private_key(algorithm, 0).public_key(),
                    header="S",
                    prefix="v1,",
                    delimiter=" ",
                    template="{timestamp}.{body}",
                    timestamp_header="T",
                    signature_format=fmt,  # type: ignore[arg-type]
                )
            )
    return tuple(out)


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=4096), stamp=st.integers(min_value=0, max_value=10**10))
def test_property_matches_cryptography_ed25519(body: bytes, stamp: int) -> None:
    key = private_key("ed25519", 0)
    verifier = PublicKeyVerifier(
        algorithm="ed25519",
        public_key=key.public_key(),
        header="S",
        template="{timestamp}.{body}",
        timestamp_header="T",
        tolerance=None,
    )
    signature = key.sign(str(stamp).encode() + b"." + body)
    request = WebhookRequest(
        headers={"S": base64.b64encode(signature).decode(), "T": str(stamp)}, body=body
    )
    assert verifier.verify(request, now=NOW).timestamp == stamp
    with pytest.raises(MalformedSignature):
        verifier.verify(request.replace(headers={"S": signature.hex(), "T": str(stamp)}), now=NOW)
