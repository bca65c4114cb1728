"""The parts of a compact HS256 JWT (RFC 7515, RFC 7519) that the JWT presets share.

A token arrives in a header from whoever sends the request, so it is held to
a length and a character set before anything is decoded, and its algorithm
is pinned to HS256 before its signature is looked at (``alg: none`` and
every other algorithm are refused, RFC 8725 §3.1).
"""

from __future__ import annotations

import binascii
import json
from typing import Any, Final

from ..errors import (
    MalformedHeader,
    MalformedSignature,
    SignatureMismatch,
    UnsupportedSignatureVersion,
)
from ..keyfetch.jws import is_compact
from ..request import WebhookRequest
from ..types import Verification
from ..verifiers import HmacVerifier
from ..verifiers._base import encode_signature, single_header

__all__ = [
    "HS256_HEADER",
    "bearer_hs256",
    "compact_hs256",
    "encode_segment",
    "json_segment",
    "urlsafe_bytes",
]

# base64url to base64 (RFC 4648 §5), as a byte table: one C pass, no dict per call.
_FROM_URLSAFE: Final = bytes.maketrans(b"-_", b"+/")
HS256_HEADER: Final[dict[str, object]] = {"alg": "HS256", "typ": "JWT"}
"""The JOSE header of the tokens the presets' ``sign()`` makes."""


def urlsafe_bytes(segment: str) -> bytes:
    """The bytes of a base64url segment, padding optional (RFC 4648 §5).

    The caller holds ``segment`` to the base64url alphabet first (the
    compact-JWS pattern does): ``+`` and ``/`` would be read as base64's.

    Raises:
        ValueError: not ASCII, or not base64url (``binascii.Error``).
    """
    padded = segment.encode("ascii").translate(_FROM_URLSAFE) + b"=" * (-len(segment) % 4)
    return binascii.a2b_base64(padded, strict_mode=True)


def json_segment(segment: str, what: str, header: str) -> dict[str, Any]:
    """Decode one base64url segment to its JSON object (RFC 7515 §2, RFC 7519 §7.2).

    Raises:
        MalformedHeader: not base64url, not UTF-8 JSON, or not an object.
    """
    try:
        raw = urlsafe_bytes(segment)
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, RecursionError):
        raise MalformedHeader(
            f"the JWT {what} in {header} is not base64url JSON", header=header
        ) from None
    if not isinstance(value, dict):
        raise MalformedHeader(f"the JWT {what} in {header} is not a JSON object", header=header)
    return value


def compact_hs256(token: str, header: str, max_length: int, sender: str) -> list[str]:
    """The three segments of ``token``, once it is known to be a compact HS256 JWT.

    Args:
        token: the header's value, without any ``Bearer`` prefix.
        header: the header's name, for errors.
        max_length: the longest token the sender sends (refused above it).
        sender: the sender's name, for errors.

    Raises:
        MalformedHeader: too long, or not three base64url segments of JSON.
        UnsupportedSignatureVersion: ``alg`` is not HS256, or ``crit`` is set.
    """
    if len(token) > max_length or not is_compact(token):
        raise MalformedHeader(f"the {header} header is not a compact JWT", header=header)
    segments = token.split(".")
    jose = json_segment(segments[0], "header", header)
    if jose.get("alg") != "HS256" or "crit" in jose:
        raise UnsupportedSignatureVersion(
            f"the JWT in {header} is not HS256 without extensions, the only form {sender} sends",
            header=header,
        )
    return segments


def encode_segment(value: dict[str, object]) -> str:
    """The base64url segment of a JSON object, compact, as senders encode it."""
    return encode_signature(json.dumps(value, separators=(",", ":")).encode(), "base64url")


def bearer_hs256(
    request: WebhookRequest,
    key: HmacVerifier,
    now: float,
    *,
    header: str,
    max_length: int,
    sender: str,
    key_name: str,
) -> tuple[Verification, dict[str, Any], str]:
    """Verify the HS256 JWT in ``header`` (``Bearer`` optional) with ``key``'s
    secrets; return what the signature proved, the token's claims, and its
    signature segment (unique to the token).

    Args:
        key: an ``HmacVerifier`` over the JWS signing input, base64url, no prefix.
        max_length / sender: for :func:`compact_hs256`.
        key_name: what the sender calls the secret, for the mismatch message.

    Raises:
        MissingHeader, DuplicateHeader, MalformedHeader: the header.
        UnsupportedSignatureVersion: an algorithm other than HS256.
        MalformedSignature, SignatureMismatch, NoValidKey: the signature.
    """
    token = single_header(request, header).strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].lstrip()
    segments = compact_hs256(token, header, max_length, sender)
    signing_input = f"{segments[0]}.{segments[1]}".encode("ascii")
    try:
        verification = key.verify_message(segments[2], (signing_input,), now)
    except MalformedSignature:
        raise MalformedSignature(
            f"the JWT signature in {header} is not base64url HMAC-SHA256", header=header
        ) from None
    except SignatureMismatch:
        raise SignatureMismatch(
            f"the JWT in {header} is not signed with a configured {key_name}", header=header
        ) from None
    return verification, json_segment(segments[1], "payload", header), segments[2]
