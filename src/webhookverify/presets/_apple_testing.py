"""The sender's side of ``apple_app_store``, for tests: a chain shaped like
Apple's, made here, and a signed notification built with it.

Never for production: a receiver trusts Apple's root, and only tests give it
another (``root_certificates=``) together with the keys to sign
(``signing_keys=``).
"""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from .._checks import check_mapping
from ..errors import ConfigurationError
from ._apple_chain import INTERMEDIATE_OID, LEAF_OID, SCALAR_BYTES
from ._jwt import encode_segment

__all__ = ["AppleTestChain", "Signer", "es256_sign", "load_signers", "make_test_chain", "sign_jws"]

Signer = tuple[ec.EllipticCurvePrivateKey, list[str]]
"""A leaf's private key and the ``x5c`` list (base64 DER, leaf first) sent with it."""


def es256_sign(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """``key``'s ES256 signature of ``message``, as r‖s (RFC 7518 §3.4)."""
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(SCALAR_BYTES, "big") + s.to_bytes(SCALAR_BYTES, "big")


class AppleTestChain(NamedTuple):
    """A locally made chain shaped like Apple's: for tests, never for production."""

    root: bytes
    intermediate: bytes
    leaf: bytes
    leaf_key: ec.EllipticCurvePrivateKey

    @property
    def x5c(self) -> list[str]:
        """The chain as a JWS ``x5c`` header holds it: leaf first, base64 DER."""
        return [
            base64.b64encode(c).decode("ascii") for c in (self.leaf, self.intermediate, self.root)
        ]


def _issue(
    subject: str,
    key: Any,
    issuer: tuple[str, Any],
    span: tuple[float, float],
    ca: tuple[bool, int | None],
    oid: x509.ObjectIdentifier | None,
) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer[0])])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime.fromtimestamp(span[0], tz=datetime.UTC))
        .not_valid_after(datetime.datetime.fromtimestamp(span[1], tz=datetime.UTC))
        .add_extension(x509.BasicConstraints(ca=ca[0], path_length=ca[1]), critical=True)
    )
    if oid is not None:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(oid, b"\x05\x00"), critical=False
        )
    certificate = builder.sign(issuer[1], hashes.SHA256())
    return certificate.public_bytes(serialization.Encoding.DER)


def make_test_chain(
    *,
    not_before: float,
    not_after: float,
    leaf_oid: bool = True,
    intermediate_oid: bool = True,
    leaf_not_after: float | None = None,
    name: str = "Test",
) -> AppleTestChain:
    """A root, intermediate and leaf made here, with Apple's OIDs unless told not to.

    Args:
        not_before / not_after: the validity of all three (unix seconds).
        leaf_oid / intermediate_oid: set Apple's marker extensions.
        leaf_not_after: the leaf's own end of validity (to test an expired leaf).
        name: a prefix of the subject names.
    """
    root_key = ec.generate_private_key(ec.SECP384R1())
    middle_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    span = (not_before, not_after)
    root_name = f"{name} Root CA"
    root = _issue(root_name, root_key, (root_name, root_key), span, (True, None), None)
    middle_name = f"{name} Intermediate"
    middle = _issue(
        middle_name,
        middle_key,
        (root_name, root_key),
        span,
        (True, 0),
        INTERMEDIATE_OID if intermediate_oid else None,
    )
    leaf_span = (not_before, not_after if leaf_not_after is None else leaf_not_after)
    leaf = _issue(
        f"{name} Signing",
        leaf_key,
        (middle_name, middle_key),
        leaf_span,
        (False, None),
        LEAF_OID if leaf_oid else None,
    )
    return AppleTestChain(root, middle, leaf, leaf_key)


def load_signers(
    signing_keys: Mapping[str, tuple[Any, Iterable[Any]]], known: Iterable[str], owner: str
) -> dict[str, Signer]:
    """Check ``signing_keys`` (root key_id to leaf key and chain) once, at configuration.

    Raises:
        ConfigurationError: an unknown root, a key that is not EC, a chain
            that is not three certificates.
    """
    roots = set(known)
    signers: dict[str, Signer] = {}
    for key_id, pair in check_mapping(signing_keys, "signing_keys", owner).items():
        what = f"{owner}(signing_keys[{key_id!r}])"
        if key_id not in roots or not isinstance(pair, tuple) or len(pair) != 2:
            raise ConfigurationError(
                f"{what} maps a root's key_id to (leaf private key, [leaf, intermediate, root])"
            )
        key, chain = pair
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ConfigurationError(f"{what}: the leaf key is not an EC private key")
        der = [
            c if isinstance(c, bytes) else c.public_bytes(serialization.Encoding.DER) for c in chain
        ]
        if len(der) != 3:
            raise ConfigurationError(f"{what}: the chain is leaf, intermediate, root")
        signers[key_id] = (key, [base64.b64encode(c).decode("ascii") for c in der])
    return signers


def sign_jws(signer: Signer, claims: Mapping[str, Any]) -> str:
    """A compact ES256 JWS of ``claims`` with ``x5c``, as Apple signs (RFC 7515 §7.1)."""
    key, x5c = signer
    head = encode_segment({"alg": "ES256", "x5c": x5c})
    body = encode_segment(dict(claims))
    raw = es256_sign(key, f"{head}.{body}".encode("ascii"))
    signature = binascii.b2a_base64(raw, newline=False).decode("ascii")
    return f"{head}.{body}.{signature.translate(str.maketrans('+/', '-_')).rstrip('=')}"
