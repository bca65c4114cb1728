"""The public-key algorithms of RFC 9421 §3.3, on ``cryptography``.

Loaded only when an HTTP Message Signature key of one of these algorithms is
configured (an ``hmac-sha256``-only configuration never imports it). Keys are
read by :func:`~webhookverify.verifiers.asymmetric.load_public_key` and
:func:`~webhookverify.verifiers.asymmetric.load_private_key`, which check the
type, the curve and the RSA size once, at configuration time; P-384, which
those loaders do not serve, is read here with the same forms (PEM, DER).
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ..errors import ConfigurationError
from ..keys import Secret
from ..verifiers.asymmetric import Algorithm, load_private_key, load_public_key

__all__ = ["load_signing_key", "load_verify_key", "same_key", "sign", "verify"]

# RFC 9421 §3.3.4/§3.3.5: ECDSA signatures are r‖s, each scalar big-endian
# and as long as the curve's order: 32 bytes on P-256, 48 on P-384.
_SCALAR_BYTES = {"ecdsa-p256-sha256": 32, "ecdsa-p384-sha384": 48}
# RFC 9421 §3.3.1: RSASSA-PSS with SHA-512, MGF1 SHA-512 and a 64-byte salt.
_PSS_SALT_BYTES = 64
# How each RFC 9421 algorithm's key is checked by the shared loaders.
_LOADER_ALGORITHM: dict[str, Algorithm] = {
    "ed25519": "ed25519",
    "ecdsa-p256-sha256": "ecdsa-p256-sha256",
    "rsa-pss-sha512": "rsa-pss-sha256",
    "rsa-v1_5-sha256": "rsa-pkcs1v15-sha256",
}


def _p384(key: object, what: str, owner: str) -> ec.EllipticCurvePublicKey:
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP384R1):
        return key
    raise ConfigurationError(
        f"{owner}({what}=...) is not an EC key on P-384 (secp384r1), which ecdsa-p384-sha384 needs"
    )


def _read(material: object, what: str, owner: str, private: bool) -> object:
    if isinstance(material, Secret):
        material = material.value
    try:
        if isinstance(material, str):
            material = material.strip().encode("ascii")
        if not isinstance(material, bytes | bytearray):
            raise ValueError
        raw = bytes(material)
        if private:
            if raw.startswith(b"-----BEGIN"):
                return serialization.load_pem_private_key(raw, password=None)
            return serialization.load_der_private_key(raw, password=None)
        if raw.startswith(b"-----BEGIN"):
            return serialization.load_pem_public_key(raw)
        return serialization.load_der_public_key(raw)
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm):
        raise ConfigurationError(
            f"{owner}({what}=...) could not be read as a P-384 key; give PEM or DER"
        ) from None


def load_verify_key(algorithm: str, material: object, *, what: str, owner: str) -> object:
    """Load the public key ``material`` for ``algorithm``.

    Raises:
        ConfigurationError: unreadable, or not a key of that algorithm.
    """
    if algorithm == "ecdsa-p384-sha384":
        if isinstance(material, ec.EllipticCurvePublicKey):
            return _p384(material, what, owner)
        return _p384(_read(material, what, owner, private=False), what, owner)
    return load_public_key(
        material,  # type: ignore[arg-type]
        _LOADER_ALGORITHM[algorithm],
        what=what,
        owner=owner,
    )


def load_signing_key(algorithm: str, material: object, *, owner: str) -> object:
    """Load the private key ``material`` for ``algorithm`` (signing: tests, senders).

    Raises:
        ConfigurationError: unreadable, or not a key of that algorithm.
    """
    if algorithm == "ecdsa-p384-sha384":
        key = (
            material
            if isinstance(material, ec.EllipticCurvePrivateKey)
            else _read(material, "signing_keys", owner, private=True)
        )
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ConfigurationError(f"{owner}(signing_keys=...) is not an EC private key")
        _p384(key.public_key(), "signing_keys", owner)
        return key
    return load_private_key(material, _LOADER_ALGORITHM[algorithm], owner=owner)  # type: ignore[arg-type]


def _pss() -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=_PSS_SALT_BYTES)


def verify(algorithm: str, key: object, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is ``key``'s signature of ``message`` under ``algorithm``."""
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            size = _SCALAR_BYTES[algorithm]
            if len(signature) != 2 * size:
                return False
            der = encode_dss_signature(
                int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
            )
            digest = hashes.SHA256() if size == 32 else hashes.SHA384()
            key.verify(der, message, ec.ECDSA(digest))
        elif isinstance(key, rsa.RSAPublicKey):
            if len(signature) != (key.key_size + 7) // 8:
                return False
            if algorithm == "rsa-pss-sha512":
                key.verify(signature, message, _pss(), hashes.SHA512())
            else:
                key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def sign(algorithm: str, key: object, message: bytes) -> bytes:
    """``key``'s signature of ``message`` under ``algorithm``, as RFC 9421 §3.3 writes it."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = _SCALAR_BYTES[algorithm]
        digest = hashes.SHA256() if size == 32 else hashes.SHA384()
        r, s = decode_dss_signature(key.sign(message, ec.ECDSA(digest)))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if isinstance(key, rsa.RSAPrivateKey):
        if algorithm == "rsa-pss-sha512":
            return key.sign(message, _pss(), hashes.SHA512())
        return key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    raise ConfigurationError(f"no private key for {algorithm}")


def same_key(private: object, public: object) -> bool:
    """True when ``private`` is the private half of ``public``."""
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    half = private.public_key()  # type: ignore[attr-defined]
    return bool(half.public_bytes(*spki) == public.public_bytes(*spki))  # type: ignore[attr-defined]
