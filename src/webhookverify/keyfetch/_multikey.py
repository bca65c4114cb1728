"""``Multikey`` public keys (W3C Controlled Identifiers 1.0 §2.2.2), as
ActivityPub actors publish them under FEP-521a: ``publicKeyMultibase`` is the
multibase text of a multicodec header and the raw key.

Only what FEP-521a requires and an inbox can use is read: base58btc
multibase (the ``z`` prefix, Bitcoin alphabet) and the ``ed25519-pub``
multicodec (``0xed 0x01``) followed by the 32 bytes of the key (RFC 8032).
"""

from __future__ import annotations

import datetime
from typing import Any, Final

__all__ = ["MultikeyError", "b58decode", "expiry_of", "read_ed25519_multikey"]

# The Bitcoin base58 alphabet (draft-msporny-base58-03 §2), which multibase's
# base58btc ("z") uses.
B58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_VALUES: Final = {char: value for value, char in enumerate(B58_ALPHABET)}
# The multicodec table (github.com/multiformats/multicodec): ed25519-pub is
# 0xed, an unsigned varint, so the two bytes 0xed 0x01.
ED25519_PUB_HEADER: Final = b"\xed\x01"
ED25519_KEY_BYTES: Final = 32
# An Ed25519 Multikey is 48 characters (z + 34 bytes in base58); 128 holds
# any key an actor publishes (a P-384 key is 51), and bounds the big-number
# arithmetic a hostile document can ask for.
MAX_MULTIBASE_LENGTH: Final = 128


class MultikeyError(ValueError):
    """A ``publicKeyMultibase`` that is not an Ed25519 key in base58btc; the
    message says which part is wrong."""


def b58decode(text: str) -> bytes:
    """The bytes of base58 ``text`` (Bitcoin alphabet; each leading ``1`` is a zero byte).

    Raises:
        MultikeyError: a character outside the alphabet, or too long.
    """
    if len(text) > MAX_MULTIBASE_LENGTH:
        raise MultikeyError("publicKeyMultibase is too long to be a public key")
    number = 0
    for char in text:
        value = _B58_VALUES.get(char)
        if value is None:
            raise MultikeyError(
                "publicKeyMultibase is not base58btc (a character outside the alphabet)"
            )
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    return b"\x00" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def read_ed25519_multikey(value: object) -> Any:
    """The Ed25519 public key of a ``publicKeyMultibase`` value.

    Raises:
        MultikeyError: not a string, not base58btc (``z``), malformed base58,
            another multicodec than ``ed25519-pub``, or not 32 key bytes.
    """
    from cryptography.hazmat.primitives.asymmetric import ed25519

    if not isinstance(value, str) or not value:
        raise MultikeyError("publicKeyMultibase is not a string")
    if value[0] != "z":  # FEP-521a: "Implementations MUST use the base-58-btc alphabet"
        raise MultikeyError(
            f"publicKeyMultibase is multibase {value[0]!r}, "
            "not base58btc ('z') as FEP-521a requires"
        )
    raw = b58decode(value[1:])
    if len(raw) < len(ED25519_PUB_HEADER):
        raise MultikeyError("publicKeyMultibase holds no multicodec header and key")
    if raw[:2] != ED25519_PUB_HEADER:
        raise MultikeyError(
            f"publicKeyMultibase has multicodec header 0x{raw[:2].hex()}, "
            "not ed25519-pub (0xed01): only Ed25519 Multikeys are read"
        )
    if len(raw) != len(ED25519_PUB_HEADER) + ED25519_KEY_BYTES:
        raise MultikeyError(
            f"publicKeyMultibase holds {len(raw) - 2} key bytes; an Ed25519 key has 32"
        )
    return ed25519.Ed25519PublicKey.from_public_bytes(raw[2:])


def expiry_of(value: object, name: str = "expires") -> float | None:
    """A Multikey's ``expires`` or ``revoked`` (an XML Schema dateTime,
    FEP-521a / Controlled Identifiers §2.2) in unix seconds; ``None`` when absent.

    Raises:
        MultikeyError: present but not a dateTime with a time zone.
    """
    if value is None:
        return None
    if isinstance(value, str) and value.isascii():
        try:
            moment = datetime.datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None and "T" in value.upper():
            return moment.timestamp()
    raise MultikeyError(f"the Multikey's {name} is not a dateTime with a time zone")
