"""Reading published keys (JWK, RFC 7517 / 7518; X.509 PEM certificates) and
checking signatures with them, on ``cryptography``.

Loaded the first time a key is read, never at import of ``webhookverify``.
The algorithm is always the configuration's: a key is used only for an
algorithm its type serves, and a JWK that states another ``alg`` is refused.
"""

from __future__ import annotations

import binascii
import json
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ..errors import KeyUnavailable
from .sources import FetchedKey

__all__ = [
    "certificate_set",
    "jwk_key",
    "jwk_set",
    "load_certificate",
    "load_public",
    "suits",
    "verify",
]

# NIST SP 800-131A Rev. 2: RSA signatures need 2048-bit keys at least.
MIN_RSA_BITS: Final = 2048
# RFC 7518 §3.4: an ES256 signature is R || S, 32 bytes each.
_ES256_BYTES: Final = 64
# A key set holds a handful of keys (Google 2-3, Microsoft ~10); more is not one.
MAX_JWKS_KEYS: Final = 100

_PKCS1: Final = padding.PKCS1v15()
_SHA256: Final = hashes.SHA256()
_SHA1: Final = hashes.SHA1()  # noqa: S303 - AWS SNS SignatureVersion 1 is RSA-SHA1
_ECDSA_SHA256: Final = ec.ECDSA(_SHA256)
_BAD_KEY: Final = (ValueError, TypeError, KeyError, UnsupportedAlgorithm, binascii.Error)


def suits(algorithm: str, key: Any) -> bool:
    """True when ``key`` is of the type ``algorithm`` signs with."""
    if algorithm in ("RS256", "rsa-sha1", "rsa-sha256"):
        return isinstance(key, rsa.RSAPublicKey) and key.key_size >= MIN_RSA_BITS
    if algorithm == "ES256":
        return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
    if algorithm == "EdDSA":
        return isinstance(key, ed25519.Ed25519PublicKey)
    return False


def verify(algorithm: str, key: Any, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is ``key``'s ``algorithm`` signature of ``message``.

    ``algorithm`` is the configuration's: ``RS256`` / ``rsa-sha256`` (RSA
    PKCS#1 v1.5 with SHA-256), ``rsa-sha1``, ``ES256`` (P-256, R || S),
    ``EdDSA`` (Ed25519).
    """
    try:
        if algorithm in ("RS256", "rsa-sha256"):
            key.verify(signature, message, _PKCS1, _SHA256)
        elif algorithm == "rsa-sha1":
            key.verify(signature, message, _PKCS1, _SHA1)
        elif algorithm == "ES256":
            if len(signature) != _ES256_BYTES:
                return False
            r = int.from_bytes(signature[:32], "big")
            s = int.from_bytes(signature[32:], "big")
            key.verify(encode_dss_signature(r, s), message, _ECDSA_SHA256)
        elif algorithm == "EdDSA":
            key.verify(signature, message)
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _b64url_int(value: object) -> int:
    if not isinstance(value, str) or not value.isascii():
        raise ValueError("not base64url")
    raw = binascii.a2b_base64(
        value.translate(str.maketrans("-_", "+/")) + "=" * (-len(value) % 4), strict_mode=True
    )
    return int.from_bytes(raw, "big")


def jwk_key(jwk: dict[str, Any]) -> Any:
    """The public key of one JWK (RFC 7518 §6: RSA ``n``/``e``, EC P-256
    ``x``/``y``; RFC 8037 OKP Ed25519), or ``None`` for a key of another kind.

    Raises:
        ValueError: a key of a known kind whose numbers do not make a key.
    """
    kty = jwk.get("kty")
    if kty == "RSA":
        return rsa.RSAPublicNumbers(_b64url_int(jwk["e"]), _b64url_int(jwk["n"])).public_key()
    if kty == "EC" and jwk.get("crv") == "P-256":
        numbers = ec.EllipticCurvePublicNumbers(
            _b64url_int(jwk["x"]), _b64url_int(jwk["y"]), ec.SECP256R1()
        )
        return numbers.public_key()
    if kty == "OKP" and jwk.get("crv") == "Ed25519":
        return ed25519.Ed25519PublicKey.from_public_bytes(_b64url_int(jwk["x"]).to_bytes(32, "big"))
    return None


def jwk_set(body: bytes) -> dict[str, FetchedKey]:
    """The signing keys of a JWK Set document (RFC 7517 §5), by ``kid``.

    Keys without a ``kid``, of another kind, or marked for encryption
    (``use: enc``) are left out.

    Raises:
        KeyUnavailable: the document is not a key set (the provider's fault:
            the sender should retry).
    """
    try:
        document = json.loads(body)
        entries = document["keys"]
        if not isinstance(entries, list) or len(entries) > MAX_JWKS_KEYS:
            raise ValueError("keys is not a list of keys")
        found: dict[str, FetchedKey] = {}
        for jwk in entries:
            if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
                continue
            kid = jwk.get("kid")
            key = jwk_key(jwk) if isinstance(kid, str) and kid else None
            if key is not None:
                alg = jwk.get("alg")
                found[str(kid)] = FetchedKey(str(kid), key, alg if isinstance(alg, str) else None)
    except (*_BAD_KEY, RecursionError):
        raise KeyUnavailable("the published key set is not a JWK Set") from None
    return found


def load_public(material: Any) -> Any:
    """A public key from a ``cryptography`` key, PEM (key or certificate) or DER.

    Raises:
        ValueError: none of those.
    """
    if isinstance(material, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return material
    if isinstance(material, ed25519.Ed25519PublicKey):
        return material
    data = material.encode("ascii") if isinstance(material, str) else bytes(material)
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return x509.load_pem_x509_certificate(data).public_key()
        if data.lstrip().startswith(b"-----"):
            return serialization.load_pem_public_key(data)
        return serialization.load_der_public_key(data)
    except _BAD_KEY as exc:
        raise ValueError(str(exc)) from None


def load_certificate(body: bytes, ref: str, now: float) -> FetchedKey:
    """The public key of the PEM certificate ``body``, valid at ``now``.

    Raises:
        KeyUnavailable: not a PEM certificate, or not valid at ``now``.
    """
    try:
        certificate = x509.load_pem_x509_certificate(body)
        key = certificate.public_key()
    except _BAD_KEY:
        raise KeyUnavailable("the certificate URL did not answer a PEM certificate") from None
    not_before = certificate.not_valid_before_utc.timestamp()
    not_after = certificate.not_valid_after_utc.timestamp()
    if not not_before <= now <= not_after:
        raise KeyUnavailable("the published certificate is not valid at this time")
    return FetchedKey(ref, key, None, not_before, not_after)


def certificate_set(body: bytes, now: float) -> dict[str, FetchedKey]:
    """The keys of a JSON object of PEM certificates by key id (Google's
    service-account metadata, ``.../service_accounts/v1/metadata/x509/<account>``),
    each bounded by its certificate's validity.

    A certificate already expired at ``now`` is left out (it can never verify
    again, and would otherwise cut the document's cache lifetime to the floor);
    one not yet valid is kept, and refused when it verifies.

    Raises:
        KeyUnavailable: the document is not such an object, or a value is not
            a PEM certificate (the provider's fault: the sender should retry).
    """
    try:
        document = json.loads(body)
        if not isinstance(document, dict) or len(document) > MAX_JWKS_KEYS:
            raise ValueError("not an object of a few certificates")
        found: dict[str, FetchedKey] = {}
        for kid, pem in document.items():
            if not kid or not isinstance(pem, str) or "-----BEGIN CERTIFICATE-----" not in pem:
                raise ValueError("not a PEM certificate")
            certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
            not_after = certificate.not_valid_after_utc.timestamp()
            if not_after < now:
                continue
            not_before = certificate.not_valid_before_utc.timestamp()
            found[kid] = FetchedKey(kid, certificate.public_key(), None, not_before, not_after)
    except (*_BAD_KEY, RecursionError, UnicodeError):
        raise KeyUnavailable(
            "the published certificates are not a JSON object of PEM certificates"
        ) from None
    return found
