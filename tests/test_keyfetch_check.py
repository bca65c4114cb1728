"""check_key_signature: the certificate check shared by the presets whose
sender names its certificate's URL (SNS, PayPal)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from webhookverify import SignatureMismatch
from webhookverify.keyfetch import FetchedKey, check_key_signature

MESSAGE = b"name\nvalue\n"
NOW = 1_700_000_000.0


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _check(key: FetchedKey, algorithm: str, signature: bytes, header: str | None = None) -> None:
    check_key_signature(
        key, algorithm, signature, MESSAGE, NOW, unfit="unfit", mismatch="mismatch", header=header
    )


@pytest.mark.parametrize(
    ("algorithm", "digest"), [("rsa-sha256", hashes.SHA256()), ("rsa-sha1", hashes.SHA1())]
)
def test_a_valid_signature_passes(
    rsa_key: rsa.RSAPrivateKey, algorithm: str, digest: hashes.HashAlgorithm
) -> None:
    signature = rsa_key.sign(MESSAGE, padding.PKCS1v15(), digest)
    _check(FetchedKey("https://certs/a.pem", rsa_key.public_key()), algorithm, signature)


def test_another_message_is_a_mismatch_naming_the_header(rsa_key: rsa.RSAPrivateKey) -> None:
    signature = rsa_key.sign(b"other", padding.PKCS1v15(), hashes.SHA256())
    key = FetchedKey("https://certs/a.pem", rsa_key.public_key())
    with pytest.raises(SignatureMismatch, match=r"^mismatch$") as caught:
        _check(key, "rsa-sha256", signature, header="X-Sig")
    assert caught.value.header == "X-Sig"


def test_the_other_digest_is_a_mismatch(rsa_key: rsa.RSAPrivateKey) -> None:
    signature = rsa_key.sign(MESSAGE, padding.PKCS1v15(), hashes.SHA1())
    key = FetchedKey("https://certs/a.pem", rsa_key.public_key())
    with pytest.raises(SignatureMismatch, match=r"^mismatch$"):
        _check(key, "rsa-sha256", signature)


@pytest.mark.parametrize(
    ("not_before", "not_after"), [(NOW + 1, None), (None, NOW - 1)], ids=["early", "expired"]
)
def test_a_key_outside_its_validity_is_unfit(
    rsa_key: rsa.RSAPrivateKey, not_before: float | None, not_after: float | None
) -> None:
    signature = rsa_key.sign(MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    key = FetchedKey("https://certs/a.pem", rsa_key.public_key(), None, not_before, not_after)
    with pytest.raises(SignatureMismatch, match=r"^unfit$") as caught:
        _check(key, "rsa-sha256", signature, header="X-Sig")
    assert caught.value.header is None


def test_a_key_of_another_type_is_unfit() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    signature = private.sign(MESSAGE, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(SignatureMismatch, match=r"^unfit$"):
        _check(FetchedKey("https://certs/a.pem", private.public_key()), "rsa-sha256", signature)
