"""The ``x5c`` certificate chain of an App Store signed payload, on ``cryptography``.

Apple signs App Store Server Notifications (v2) as a JWS whose header carries
the signing certificate and its issuers (RFC 7515 §4.1.6): leaf,
intermediate (Apple Worldwide Developer Relations), root. The chain is
validated as Apple's own library does it (app-store-server-library-python,
``signed_data_verifier._ChainVerifier``): exactly three certificates; the leaf
and the intermediate path-validated to a *configured* root (the root the
message carries is never trusted, only its place in the list is checked);
validity judged at the payload's ``signedDate``; the leaf marked with Apple's
OID 1.2.840.113635.100.6.11.1 and the intermediate with 1.2.840.113635.100.6.2.1.

Path validation is RFC 5280's, done by ``cryptography.x509.verification``
(signatures, names, validity, ``basicConstraints``, path length) with the
extension profile relaxed to what Apple's certificates carry: Apple's test
chains have no key identifiers or key usage, which the Web PKI profile
requires. Revocation (OCSP) is not checked: see the preset's docstring.

This module loads ``cryptography``; :mod:`._apple` imports it only when an
``apple_app_store`` verifier is built.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509 import verification as x509v

from .._checks import check_list
from ..errors import ConfigurationError, MalformedSignature, SignatureMismatch
from ..keys import Secret

__all__ = [
    "APPLE_ROOT_CA_G3",
    "APPLE_ROOT_CA_G3_SHA256",
    "INTERMEDIATE_OID",
    "LEAF_OID",
    "MAX_CERTIFICATE_CHARS",
    "SCALAR_BYTES",
    "Root",
    "ValidChain",
    "es256_verify",
    "load_roots",
    "verify_chain",
]

# Apple Root CA - G3, DER in base64, as published at
# https://www.apple.com/certificateauthority/AppleRootCA-G3.cer (Apple PKI,
# https://www.apple.com/certificateauthority/). Valid 2014-04-30 to 2039-04-30.
APPLE_ROOT_CA_G3 = (
    "MIICQzCCAcmgAwIBAgIILcX8iNLFS5UwCgYIKoZIzj0EAwMwZzEbMBkGA1UEAwwSQXBwbGUgUm9vdCBDQSAtIEcz"
    "MSYwJAYDVQQLDB1BcHBsZSBDZXJ0aWZpY2F0aW9uIEF1dGhvcml0eTETMBEGA1UECgwKQXBwbGUgSW5jLjELMAkG"
    "A1UEBhMCVVMwHhcNMTQwNDMwMTgxOTA2WhcNMzkwNDMwMTgxOTA2WjBnMRswGQYDVQQDDBJBcHBsZSBSb290IENB"
    "IC0gRzMxJjAkBgNVBAsMHUFwcGxlIENlcnRpZmljYXRpb24gQXV0aG9yaXR5MRMwEQYDVQQKDApBcHBsZSBJbmMu"
    "MQswCQYDVQQGEwJVUzB2MBAGByqGSM49AgEGBSuBBAAiA2IABJjpLz1AcqTtkyJygRMc3RCV8cWjTnHcFBbZDuWm"
    "BSp3ZHtfTjjTuxxEtX/1H7YyYl3J6YRbTzBPEVoA/VhYDKX1DyxNB0cTddqXl5dvMVztK517IDvYuVTZXpmkOlEK"
    "MaNCMEAwHQYDVR0OBBYEFLuw3qFYM4iapIqZ3r6966/ayySrMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQD"
    "AgEGMAoGCCqGSM49BAMDA2gAMGUCMQCD6cHEFl4aXTQY2e3v9GwOAEZLuN+yRhHFD/3meoyhpmvOwgPUnPWTxnS4"
    "at+qIxUCMG1mihDK1A3UT82NQz60imOlM27jbdoXt2QfyFMm+YhidDkLF1vLUagM6BgD56KyKA=="
)
# Its SHA-256 fingerprint, as Apple's PKI page lists it; checked on import of
# this module so that a damaged constant can never become the trust anchor.
APPLE_ROOT_CA_G3_SHA256 = "63343abfb89a6a03ebb57e9b3f5fa7be7c4f5c756f3017b3a8c488c3653e9179"
# Apple's marker extensions (checked by _ChainVerifier.check_oid): the
# leaf signs App Store data; the intermediate is Apple WWDR.
LEAF_OID = x509.ObjectIdentifier("1.2.840.113635.100.6.11.1")
INTERMEDIATE_OID = x509.ObjectIdentifier("1.2.840.113635.100.6.2.1")
# Apple's certificates are under 1.5 KiB of DER (2 KiB of base64); a
# certificate of 8 KiB of base64 in a webhook is not Apple's.
MAX_CERTIFICATE_CHARS = 8192
# x5c is leaf, intermediate, root (Apple: INVALID_CHAIN_LENGTH otherwise).
CHAIN_LENGTH = 3
# ES256 (RFC 7518 §3.4): r‖s, 32 bytes each.
SCALAR_BYTES = 32

if hashlib.sha256(base64.b64decode(APPLE_ROOT_CA_G3)).hexdigest() != APPLE_ROOT_CA_G3_SHA256:
    raise ImportError("the pinned Apple Root CA - G3 does not match its SHA-256 fingerprint")


class Root(NamedTuple):
    """One trusted root: its certificate, its name in ``Verification.key_id``, its window."""

    certificate: x509.Certificate
    key_id: str
    window: Secret | None

    def valid_at(self, now: float) -> bool:
        """True when this root may anchor a chain at ``now`` (its ``Secret`` window)."""
        return self.window is None or self.window.is_valid_at(now)


def _certificate(material: object, what: str) -> x509.Certificate:
    if isinstance(material, x509.Certificate):
        return material
    raw = material.encode("ascii") if isinstance(material, str) else material
    if not isinstance(raw, bytes | bytearray):
        raise ConfigurationError(f"{what} must be a certificate: DER or PEM bytes, or PEM text")
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(bytes(raw))
        return x509.load_der_x509_certificate(bytes(raw))
    except ValueError:
        raise ConfigurationError(f"{what} could not be read as a DER or PEM certificate") from None


def load_roots(roots: Iterable[object] | None, owner: str) -> tuple[Root, ...]:
    """The trusted roots: Apple Root CA - G3 unless ``roots`` names others.

    Args:
        roots: certificates (DER or PEM, a ``cryptography`` certificate, or a
            :class:`~webhookverify.Secret` holding one, for a ``key_id`` and a
            validity window), or ``None`` for Apple's root.
        owner: how errors name the setting's owner.

    Raises:
        ConfigurationError: an empty list or a value that is not a certificate.
    """
    if roots is None:
        pinned = x509.load_der_x509_certificate(base64.b64decode(APPLE_ROOT_CA_G3))
        return (Root(pinned, "apple-root-ca-g3", None),)
    loaded: list[Root] = []
    for index, item in enumerate(check_list(roots, "root_certificates", owner)):
        what = f"{owner}(root_certificates[{index}])"
        window = item if isinstance(item, Secret) else None
        certificate = _certificate(window.value if window else item, what)
        key_id = (window.key_id if window else None) or f"root[{index}]"
        loaded.append(Root(certificate, key_id, window))
    if not loaded:
        raise ConfigurationError(
            f"{owner}(root_certificates=...) is empty; leave it out for Apple's"
        )
    return tuple(loaded)


def _decode(x5c: object) -> list[x509.Certificate]:
    """RFC 7515 §4.1.6: a JSON array of base64 (not base64url) DER certificates."""
    if not isinstance(x5c, list) or len(x5c) != CHAIN_LENGTH:
        count = len(x5c) if isinstance(x5c, list) else 0
        raise MalformedSignature(
            f"the JWS x5c header holds {count} certificates; Apple sends {CHAIN_LENGTH} "
            "(leaf, intermediate, root)",
            header="signedPayload",
        )
    chain: list[x509.Certificate] = []
    for item in x5c:
        if not isinstance(item, str) or not 0 < len(item) <= MAX_CERTIFICATE_CHARS:
            raise MalformedSignature(
                "an x5c certificate is not base64 text", header="signedPayload"
            )
        try:
            chain.append(
                x509.load_der_x509_certificate(binascii.a2b_base64(item, strict_mode=True))
            )
        except (binascii.Error, ValueError):
            raise MalformedSignature(
                "an x5c entry is not a base64 DER certificate", header="signedPayload"
            ) from None
    return chain


def _has(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> bool:
    return any(extension.oid == oid for extension in certificate.extensions)


class ValidChain(NamedTuple):
    """What a validated chain proves: the leaf's key, the root's name, and the
    span in which every certificate of the path is valid (unix seconds)."""

    key: ec.EllipticCurvePublicKey
    root_id: str
    not_before: float
    not_after: float


def verify_chain(x5c: object, roots: Sequence[Root], at: float, now: float) -> ValidChain:
    """Validate ``x5c`` to one of ``roots`` valid at ``now``, at the signing time ``at``.

    Path validation depends on the time only through the certificates'
    validity, so the result holds at any moment of ``ValidChain``'s span.

    Returns:
        The leaf's P-256 public key, the ``key_id`` of the root it leads to,
        and the path's span of validity.

    Raises:
        MalformedSignature: not three base64 DER certificates.
        SignatureMismatch: no path to a configured root valid at ``at``, a
            missing Apple OID, or a leaf key that is not P-256.
    """
    leaf, intermediate, _root = _decode(x5c)
    # Apple's chain is EC throughout (P-256 leaf, P-384 WWDR G6, P-384 root);
    # an RSA key with a huge modulus or exponent would only cost us time.
    keys = []
    for certificate in (leaf, intermediate):
        try:
            key = certificate.public_key()
        except (ValueError, UnsupportedAlgorithm):  # a point off its curve, say
            raise MalformedSignature(
                "an x5c certificate holds an unusable key", header="signedPayload"
            ) from None
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise SignatureMismatch(
                "an x5c certificate holds no EC key (Apple's chain is EC)", header="signedPayload"
            )
        keys.append(key)
    when = datetime.datetime.fromtimestamp(at, tz=datetime.UTC)
    # RFC 5280 §4.2.1.9: a CA must say it is one; the rest of the profile as
    # Apple's certificates are issued (see the module docstring).
    ca_policy = x509v.ExtensionPolicy.permit_all().require_present(
        x509.BasicConstraints, x509v.Criticality.AGNOSTIC, None
    )
    for root in roots:
        if not root.valid_at(now):
            continue
        builder = (
            x509v.PolicyBuilder()
            .store(x509v.Store([root.certificate]))
            .time(when)
            .max_chain_depth(1)
            .extension_policies(ca_policy=ca_policy, ee_policy=x509v.ExtensionPolicy.permit_all())
        )
        try:
            path = builder.build_client_verifier().verify(leaf, [intermediate]).chain
        except (x509v.VerificationError, ValueError):
            continue
        if len(path) != CHAIN_LENGTH or path[1] != intermediate:
            continue
        if not (_has(leaf, LEAF_OID) and _has(intermediate, INTERMEDIATE_OID)):
            raise SignatureMismatch(
                "the x5c chain lacks Apple's App Store OIDs (leaf 1.2.840.113635.100.6.11.1, "
                "intermediate 1.2.840.113635.100.6.2.1)",
                header="signedPayload",
            )
        if keys[0].curve.name != "secp256r1":
            raise SignatureMismatch(
                "the x5c leaf is not a P-256 key (ES256)", header="signedPayload"
            )
        return ValidChain(
            keys[0],
            root.key_id,
            max(c.not_valid_before_utc for c in path).timestamp(),
            min(c.not_valid_after_utc for c in path).timestamp(),
        )
    raise SignatureMismatch(
        "the x5c chain does not lead to a configured root valid at the payload's signedDate "
        "(root_certificates=...)",
        header="signedPayload",
    )


def es256_verify(key: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` (r‖s, RFC 7518 §3.4) is ``key``'s ES256 signature of ``message``."""
    if len(signature) != 2 * SCALAR_BYTES:
        return False
    der = encode_dss_signature(
        int.from_bytes(signature[:SCALAR_BYTES], "big"),
        int.from_bytes(signature[SCALAR_BYTES:], "big"),
    )
    try:
        key.verify(der, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
