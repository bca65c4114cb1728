"""Loading public and private keys for :class:`PublicKeyVerifier`, once, at
configuration time.

Keys come as ``cryptography`` objects, PEM, DER (as bytes, base64 or hex),
raw Ed25519 bytes, or Standard Webhooks ``whpk_``/``whsk_`` text; whatever
the form, a key that cannot serve the pinned algorithm is a
:class:`~webhookverify.ConfigurationError` here, never a surprise at request
time.

With :mod:`.asymmetric` and :mod:`webhookverify.httpsig._crypto` (RFC 9421's algorithms),
this is the only module of webhookverify that imports ``cryptography``; all
three are loaded only when a public-key verifier is built. :mod:`.asymmetric`
re-exports the public names.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable, Iterable
from functools import partial
from typing import Literal, TypeAlias, get_args

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .._checks import check_list
from ..errors import ConfigurationError
from ..keys import Secret
from ._keyring import KeyEntry

# The public names (these loaders, ALGORITHMS, MIN_RSA_BITS and the key types)
# are exported by .asymmetric; load_keys serves it alone.
__all__ = ["load_keys", "load_private_key", "load_public_key"]

Algorithm = Literal["ed25519", "ecdsa-p256-sha256", "rsa-pkcs1v15-sha256", "rsa-pss-sha256"]
PublicKeyObject: TypeAlias = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
PrivateKeyObject: TypeAlias = (
    ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
)
KeyMaterial: TypeAlias = str | bytes | bytearray | Secret | PublicKeyObject
PublicKeyInput: TypeAlias = KeyMaterial | tuple[str, KeyMaterial]
PrivateKeyInput: TypeAlias = str | bytes | bytearray | Secret | PrivateKeyObject

# The algorithms a configuration may name; a request never chooses one.
ALGORITHMS: tuple[Algorithm, ...] = get_args(Algorithm)
# NIST SP 800-131A Rev. 2 has disallowed RSA signatures with keys under 2048
# bits since 2013; a smaller key is a configuration mistake, not a choice.
MIN_RSA_BITS = 2048
# RFC 8032 §5.1.5: an Ed25519 public key or seed is 32 bytes.
_ED25519_KEY_BYTES = 32
# A PEM or base64 key longer than this is not a key we could load (an RSA-8192
# SPKI is ~1.4 kB in base64); refuse before handing it to a parser.
_MAX_KEY_TEXT = 16_384

_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
# Everything a parser below raises for input that is not a key of that kind.
_UNREADABLE = (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm, binascii.Error)


def _b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, padding optional; ValueError otherwise."""
    padded = (text + "=" * (-len(text) % 4)).replace("-", "+").replace("_", "/")
    return binascii.a2b_base64(padded, strict_mode=True)


def _whsk(decoded: bytes) -> ed25519.Ed25519PrivateKey:
    """A Standard Webhooks ``whsk_`` key: the 32-byte seed, then the public key
    it makes (a missing or mismatched half is a ValueError)."""
    key = ed25519.Ed25519PrivateKey.from_private_bytes(decoded[:_ED25519_KEY_BYTES])
    if key.public_key().public_bytes_raw() != decoded[_ED25519_KEY_BYTES:]:
        raise ValueError("the whsk_ public half does not match its seed")
    return key


# How each kind of key is written: the raw Ed25519 bytes (the key, or its seed),
# DER, PEM, the Standard Webhooks prefix with the reader of the base64 after it,
# and what to give instead when nothing reads it.
_Reader: TypeAlias = Callable[[bytes], object]
_Forms: TypeAlias = tuple[_Reader, _Reader, _Reader, str, _Reader, str]
_PUBLIC_FORMS: _Forms = (
    ed25519.Ed25519PublicKey.from_public_bytes,
    serialization.load_der_public_key,
    serialization.load_pem_public_key,
    "whpk_",
    ed25519.Ed25519PublicKey.from_public_bytes,  # exactly 32 bytes, or ValueError
    "a public key; give PEM (-----BEGIN PUBLIC KEY-----), base64 or hex DER, or for "
    "Ed25519 the raw 32-byte key in hex or base64",
)
_PRIVATE_FORMS: _Forms = (
    ed25519.Ed25519PrivateKey.from_private_bytes,
    partial(serialization.load_der_private_key, password=None),
    partial(serialization.load_pem_private_key, password=None),
    "whsk_",
    _whsk,
    "an unencrypted private key; give PEM, base64 or hex PKCS#8 DER, or for Ed25519 "
    "the 32-byte seed or a whsk_ key",
)


def _parse(value: object, algorithm: Algorithm, forms: _Forms, what: str, owner: str) -> object:
    """Read key material in every form a key of one kind comes in.

    Args:
        value: the setting as given (text, bytes or a Secret holding either).
        algorithm: for Ed25519, 32 bytes are the raw key (or seed).
        forms: :data:`_PUBLIC_FORMS` or :data:`_PRIVATE_FORMS`.
        what / owner: name the setting in error messages.

    Returns:
        The key object, not yet checked against ``algorithm``.

    Raises:
        ConfigurationError: not text or bytes, too long, or no form reads it.
    """
    if isinstance(value, Secret):
        value = value.value
    if isinstance(value, bytes | bytearray):
        value = bytes(value)
    elif not isinstance(value, str):
        raise ConfigurationError(
            f"{owner}({what}=...) must be PEM or base64/hex text, bytes, a Secret or a "
            f"cryptography key, not {type(value).__name__}"
        )
    if len(value) > _MAX_KEY_TEXT:
        raise ConfigurationError(f"{owner}({what}=...) is too long to be a key")
    raw, der, pem, tag, tagged, expected = forms
    raw_size = _ED25519_KEY_BYTES if algorithm == "ed25519" else None
    try:
        # bytes are the raw key or DER (a SEQUENCE: 0x30) as they are; else text
        if isinstance(value, str) or (len(value) != raw_size and value[:1] != b"\x30"):
            text = (value if isinstance(value, str) else value.decode("ascii")).strip()
            if text.startswith("-----BEGIN"):
                return pem(text.encode("ascii"))
            if text.startswith(tag):
                return tagged(_b64decode(text[len(tag) :]))
            value = bytes.fromhex(text) if _HEX.fullmatch(text) else _b64decode(text)
        return raw(value) if len(value) == raw_size else der(value)
    except _UNREADABLE:
        raise ConfigurationError(f"{owner}({what}=...) could not be read as {expected}") from None


# The key each algorithm verifies with, and how an error names it.
_KEY_KINDS: dict[str, tuple[type, str]] = {
    "ed25519": (ed25519.Ed25519PublicKey, "an Ed25519 key"),
    "ecdsa-p256-sha256": (ec.EllipticCurvePublicKey, "an EC key on P-256 (secp256r1)"),
    "rsa-pkcs1v15-sha256": (rsa.RSAPublicKey, "an RSA key"),
    "rsa-pss-sha256": (rsa.RSAPublicKey, "an RSA key"),
}


def _check_public(key: object, algorithm: Algorithm, what: str, owner: str) -> PublicKeyObject:
    kind, expected = _KEY_KINDS[algorithm]
    if not isinstance(key, kind) or (
        isinstance(key, ec.EllipticCurvePublicKey) and not isinstance(key.curve, ec.SECP256R1)
    ):
        raise ConfigurationError(
            f"{owner}({what}=...) is not {expected}, which algorithm={algorithm!r} needs"
        )
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise ConfigurationError(
            f"{owner}({what}=...) is a {key.key_size}-bit RSA key; at least "
            f"{MIN_RSA_BITS} bits are required"
        )
    return key  # type: ignore[return-value]  # one of the kinds above


def load_public_key(
    value: KeyMaterial, algorithm: Algorithm, *, what: str = "public_key", owner: str = "PublicKey"
) -> PublicKeyObject:
    """Load one public key for ``algorithm``, once, at configuration time.

    Args:
        value: a ``cryptography`` public key; PEM (SubjectPublicKeyInfo); DER
            as bytes, base64 or hex; for Ed25519 also the raw 32-byte key as
            bytes, hex or base64, or a Standard Webhooks ``whpk_<base64>``
            key. A :class:`~webhookverify.Secret` holding any of these works
            too (its id and validity window are read by the verifier).
        algorithm: one of :data:`ALGORITHMS`.
        what / owner: name the setting in error messages.

    Returns:
        The key, checked to suit ``algorithm``.

    Raises:
        ConfigurationError: unreadable, of the wrong type or curve for
            ``algorithm``, or an RSA key under :data:`MIN_RSA_BITS` bits.
    """
    key: object = value
    if not isinstance(value, PublicKeyObject):
        key = _parse(value, algorithm, _PUBLIC_FORMS, what, owner)
    return _check_public(key, algorithm, what, owner)


def load_private_key(
    value: PrivateKeyInput, algorithm: Algorithm, *, owner: str = "PrivateKey"
) -> PrivateKeyObject:
    """Load a private key for signing (tests, the CLI, a sender).

    Args:
        value: a ``cryptography`` private key; unencrypted PEM (PKCS#8, or
            the traditional ``EC``/``RSA PRIVATE KEY`` forms); PKCS#8 DER as
            bytes, base64 or hex; for Ed25519 also the raw 32-byte seed as
            bytes, hex or base64, or a Standard Webhooks ``whsk_<base64>`` key
            (seed then public key).
        algorithm: one of :data:`ALGORITHMS`.
        owner: names the verifier in error messages.

    Returns:
        The key, checked to suit ``algorithm``.

    Raises:
        ConfigurationError: unreadable, encrypted, or unsuited to ``algorithm``.
    """
    if isinstance(value, PublicKeyObject):
        raise ConfigurationError(
            f"{owner}(private_key=...) is a public key, not a private key; give the key "
            "pair's private half (or leave private_key unset to only verify)"
        )
    key: object = value
    if not isinstance(value, PrivateKeyObject):
        key = _parse(value, algorithm, _PRIVATE_FORMS, "private_key", owner)
    if not isinstance(key, PrivateKeyObject):  # DER and PEM read other kinds too
        raise ConfigurationError(f"{owner}(private_key=...) is not a private key")
    _check_public(key.public_key(), algorithm, "private_key", owner)
    return key


def load_keys(
    public_key: PublicKeyInput | None,
    public_keys: Iterable[PublicKeyInput] | None,
    private_key: PrivateKeyInput | None,
    algorithm: Algorithm,
    *,
    owner: str,
) -> tuple[list[KeyEntry[PublicKeyObject]], KeyEntry[PrivateKeyObject] | None]:
    """Load a verifier's ``public_key=`` or ``public_keys=`` and ``private_key=``.

    A key given as a ``(key_id, key)`` pair takes that id; a key wrapped in a
    :class:`~webhookverify.Secret` takes its id and validity window; any
    other is ``key[N]``, its position. With a private key and no public key,
    the private key's public half is ``key[0]``.

    Returns:
        The public keys, oldest first; and the private key, or ``None``, with
        the id and validity window of the last public key that is its public
        half (signing is bound by that key's window).

    Raises:
        ConfigurationError: no public key at all, both settings, a single
            key given as the list, a malformed pair, a private key that is
            not the half of any public key, or any key the loaders refuse.
    """
    if public_key is not None and public_keys is not None:
        raise ConfigurationError(f"{owner} takes public_key= or public_keys=, not both")
    if public_key is not None:
        public_keys = [public_key]
    elif isinstance(public_keys, tuple):  # a (key_id, key) pair, or a list written as a tuple
        raise ConfigurationError(f"{owner}(public_keys=...) takes a list; use public_key= for one")
    hint = "; use public_key= for one"
    items = check_list([] if public_keys is None else public_keys, "public_keys", owner, hint=hint)
    keys: list[KeyEntry[PublicKeyObject]] = []
    for index, item in enumerate(items):
        key_id = None
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[0], str) or not item[0]:
                raise ConfigurationError(
                    f"{owner}: a public key given as a pair must be (key_id, key)"
                )
            key_id, item = item
        what = "public_key" if public_key is not None else f"public_keys[{index}]"
        window = item if isinstance(item, Secret) else None
        key_id = key_id or (window.key_id if window else None) or f"key[{index}]"
        keys.append(
            KeyEntry(load_public_key(item, algorithm, what=what, owner=owner), key_id, window)
        )
    if private_key is None:
        if not keys:
            raise ConfigurationError(
                f"{owner} needs a public key; set it with public_key= or public_keys="
            )
        return keys, None
    private = load_private_key(private_key, algorithm, owner=owner)
    own = private.public_key()  # cryptography keys compare by value
    if not keys:
        keys = [KeyEntry(own, "key[0]")]
    matches = [k for k in keys if k.key == own]
    if not matches:
        raise ConfigurationError(
            f"{owner}(private_key=...) does not belong to any of the public keys; "
            "check that both come from the same key pair"
        )
    return keys, KeyEntry(private, matches[-1].key_id, matches[-1].window)
