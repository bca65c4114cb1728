"""Compact JWS / JWT (RFC 7515, RFC 7519) signed with a published key.

The algorithm is the configuration's: a token whose header names another
(``none``, ``HS256`` with the public key as the secret, RS256 where ES256 is
configured) is refused before any key is looked up (RFC 8725 §2.1, §3.1),
and so is a key of the wrong type. Claims are checked after the signature.
"""

from __future__ import annotations

import binascii
import json
import math
from collections.abc import Iterable
from typing import Any, Final, NamedTuple

from ..errors import (
    MalformedHeader,
    SignatureMismatch,
    TimestampInFuture,
    TimestampTooOld,
    UnsupportedSignatureVersion,
)
from ._errors import ClaimMismatch
from .sources import FetchedKey

__all__ = [
    "JWS_ALGORITHMS",
    "Token",
    "check_claims",
    "check_signature",
    "encode",
    "is_compact",
    "numeric_date",
    "read_token",
]

JWS_ALGORITHMS: Final = ("RS256", "ES256", "EdDSA")
# RFC 4648 §5: the base64url alphabet, as bytes to delete (see is_compact).
_BASE64URL: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Google's ID tokens are ~1 KiB, Microsoft's ~1.5-2.5 KiB; 16 KiB bounds a hostile one.
MAX_TOKEN_LENGTH: Final = 16_384


class Token(NamedTuple):
    """A compact JWS, split and decoded, not yet verified."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes
    kid: str | None


def _b64(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).translate(_TO_URLSAFE).rstrip(b"=").decode()


_TO_URLSAFE: Final = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE: Final = bytes.maketrans(b"-_", b"+/")
# RFC 4648 §3.5: the last character of an unpadded base64 text whose length is
# 2 or 3 (mod 4) leaves 4 or 2 bits unused; canonical text has them zero, so
# it ends in one of these.
_CANONICAL_LAST: Final = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}


def is_compact(token: str) -> bool:
    """True when ``token`` is three non-empty base64url segments and two dots
    (RFC 7515 §7.1), the shape ``[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+``.

    Deleting the alphabet in one C pass leaves exactly the two dots; that is
    three times faster than the regular expression on a 2 KiB token (an
    App Store JWS carries its certificate chain).
    """
    return (
        token.isascii()
        and token.encode("ascii").translate(None, _BASE64URL) == b".."
        and not token.startswith(".")
        and not token.endswith(".")
        and ".." not in token
    )


def _segment(segment: str) -> bytes:
    """base64url without padding, in its one canonical spelling (RFC 7515 §2):
    a segment whose unused low bits are set is another text for the same
    bytes, and is refused so that every character of a token matters."""
    rest = len(segment) % 4
    if rest == 1 or (rest and segment[-1] not in _CANONICAL_LAST[rest]):
        raise binascii.Error("not canonical base64url")
    padded = segment.encode("ascii").translate(_FROM_URLSAFE) + b"=" * (-rest % 4)
    return binascii.a2b_base64(padded, strict_mode=True)


def _json(segment: str, what: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(_segment(segment).decode("utf-8"))
    except (binascii.Error, ValueError, RecursionError):
        raise MalformedHeader(f"the JWT {what} in {where} is not base64url JSON") from None
    if not isinstance(value, dict):
        raise MalformedHeader(f"the JWT {what} in {where} is not a JSON object")
    return value


def read_token(token: str, algorithm: str, where: str) -> Token:
    """Split ``token`` and hold its header to the configured ``algorithm``.

    Raises:
        MalformedHeader: not a compact JWS of JSON segments, or too long.
        UnsupportedSignatureVersion: ``alg`` is not ``algorithm``, or ``crit`` is set.
    """
    if len(token) > MAX_TOKEN_LENGTH or not is_compact(token):
        raise MalformedHeader(f"{where} does not hold a compact JWT", header=where)
    head, body, signature = token.split(".")
    header = _json(head, "header", where)
    if header.get("alg") != algorithm or "crit" in header:
        raise UnsupportedSignatureVersion(
            f"the JWT in {where} is not signed with {algorithm}, the configured algorithm",
            header=where,
        )
    claims = _json(body, "payload", where)
    try:
        raw_signature = _segment(signature)
    except binascii.Error:
        raise MalformedHeader(f"the JWT signature in {where} is not base64url") from None
    kid = header.get("kid")
    return Token(
        header,
        claims,
        f"{head}.{body}".encode("ascii"),
        raw_signature,
        kid if isinstance(kid, str) else None,
    )


def check_signature(token: Token, key: FetchedKey, algorithm: str, now: float, where: str) -> None:
    """Check ``token``'s signature with ``key`` under the configured ``algorithm``.

    Raises:
        UnsupportedSignatureVersion: the key is of another type, or its
            publisher states another ``alg``.
        NoValidKey-like SignatureMismatch: not valid at ``now``, or no match.
    """
    from . import _crypto

    if (key.algorithm is not None and key.algorithm != algorithm) or not _crypto.suits(
        algorithm, key.key
    ):
        raise UnsupportedSignatureVersion(
            f"the key the JWT in {where} names is not a {algorithm} key", header=where
        )
    if not key.valid_at(now):
        raise SignatureMismatch(f"the key the JWT in {where} names is not valid at this time")
    if not _crypto.verify(algorithm, key.key, token.signature, token.signing_input):
        raise SignatureMismatch(
            f"the JWT in {where} is not signed by the sender's published key", header=where
        )


def numeric_date(claims: dict[str, Any], name: str, where: str) -> float | None:
    """A NumericDate claim (RFC 7519 §2) as unix seconds, or ``None`` if absent.

    Python's JSON reader takes ``NaN``, ``Infinity`` and integers of any size,
    none of which is a date (RFC 8259 §6 has no such numbers): a NaN ``exp``
    would never compare as passed, and a huge one overflows a float.

    Raises:
        MalformedHeader: present but not a finite number.
    """
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedHeader(
            f"the {name} claim of the JWT in {where} is not a number", header=where
        )
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise MalformedHeader(
            f"the {name} claim of the JWT in {where} is not a finite number", header=where
        )
    return number


def check_claims(
    claims: dict[str, Any],
    now: float,
    *,
    where: str,
    issuers: Iterable[str] | None,
    audiences: Iterable[str] | None,
    leeway: float,
    max_age: float | None = None,
) -> float | None:
    """Hold the registered claims (RFC 7519 §4.1) to the configuration.

    ``exp`` is required and must not have passed (``leeway`` seconds of
    clock skew allowed); ``nbf`` and ``iat`` must not lie ahead by more than
    ``leeway``; with ``max_age``, ``iat`` is required and at most that old.

    Returns:
        ``iat``, if present.

    Raises:
        ClaimMismatch: the issuer or audience is not one configured.
        TimestampTooOld: expired, or issued longer ago than ``max_age``.
        TimestampInFuture: not yet valid, or issued ahead of the clock.
        MalformedHeader: a time claim that is not a number.
    """
    if issuers is not None and claims.get("iss") not in tuple(issuers):
        raise ClaimMismatch(f"the JWT in {where} is from another issuer (issuer=...)")
    if audiences is not None:
        allowed = tuple(audiences)
        aud = claims.get("aud")
        names = aud if isinstance(aud, list) else [aud]
        if not any(isinstance(n, str) and n in allowed for n in names):
            raise ClaimMismatch(f"the JWT in {where} is for another audience (audience=...)")
    expires = numeric_date(claims, "exp", where)
    issued = numeric_date(claims, "iat", where)
    not_before = numeric_date(claims, "nbf", where)
    if expires is None and max_age is None:
        raise ClaimMismatch(f"the JWT in {where} has no exp claim")
    if expires is not None and now > expires + leeway:
        raise TimestampTooOld(f"the JWT in {where} has expired", timestamp=expires, now=now)
    for value in (issued, not_before):
        if value is not None and value > now + leeway:
            raise TimestampInFuture(
                f"the JWT in {where} is not valid yet (check both clocks)",
                timestamp=value,
                now=now,
                tolerance=leeway,
            )
    if max_age is not None:
        if issued is None:
            raise ClaimMismatch(f"the JWT in {where} has no iat claim")
        if issued < now - max_age:
            raise TimestampTooOld(
                f"the JWT in {where} was issued too long ago (tolerance=...)",
                timestamp=issued,
                now=now,
                tolerance=max_age,
            )
    return issued


def encode(header: dict[str, Any], claims: dict[str, Any], private_key: Any, algorithm: str) -> str:
    """A compact JWS of ``claims`` signed with ``private_key`` (the sender's
    side, for tests and the CLI)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    def dumps(value: dict[str, Any]) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    signing_input = f"{_b64(dumps({**header, 'alg': algorithm}))}.{_b64(dumps(claims))}"
    message = signing_input.encode("ascii")
    if algorithm == "RS256":
        signature = private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    elif algorithm == "ES256":
        r, s = decode_dss_signature(private_key.sign(message, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = private_key.sign(message)
    return f"{signing_input}.{_b64(signature)}"
