"""Public-key signatures: Ed25519, ECDSA P-256, RSA PKCS#1 v1.5 and RSA-PSS.

Discord (Ed25519), SendGrid (ECDSA P-256) and Standard Webhooks ``v1a``
(Ed25519) sign with a private key that never leaves the sender; a receiver
holds only the public key, so a leaked receiver configuration cannot forge
deliveries.

This is the only module of webhookverify that imports ``cryptography``;
``webhookverify`` loads it the first time a :class:`PublicKeyVerifier` is
used, so an application that verifies only HMAC never pays for it.
"""

from __future__ import annotations

import binascii
import hashlib
import re
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Literal, NamedTuple, TypeAlias

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

from ..errors import (
    ConfigurationError,
    MalformedHeader,
    MalformedSignature,
    NoValidKey,
    SignatureMismatch,
    UnsupportedSignatureVersion,
)
from ..keys import Secret
from ..request import WebhookRequest
from ._base import (
    DEFAULT_TOLERANCE,
    MAX_SIGNATURES,
    Encoding,
    MessageBuilder,
    MessageTemplate,
    ReplayMode,
    TimestampFormat,
    Verification,
    check_encoding,
    check_freshness,
    check_tolerance,
    decode_signature,
    encode_signature,
    format_timestamp,
    parse_timestamp,
    single_header,
)

__all__ = [
    "ALGORITHMS",
    "MIN_RSA_BITS",
    "PublicKeyVerifier",
    "load_private_key",
    "load_public_key",
]

Algorithm = Literal["ed25519", "ecdsa-p256-sha256", "rsa-pkcs1v15-sha256", "rsa-pss-sha256"]
SignatureFormat = Literal["der", "raw"]
PublicKeyObject: TypeAlias = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
PrivateKeyObject: TypeAlias = (
    ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
)
KeyMaterial: TypeAlias = str | bytes | bytearray | Secret | PublicKeyObject
PublicKeyInput: TypeAlias = KeyMaterial | tuple[str, KeyMaterial]
PrivateKeyInput: TypeAlias = str | bytes | bytearray | Secret | PrivateKeyObject

# The algorithms a configuration may name; a request never chooses one.
ALGORITHMS: tuple[Algorithm, ...] = (
    "ed25519",
    "ecdsa-p256-sha256",
    "rsa-pkcs1v15-sha256",
    "rsa-pss-sha256",
)
# NIST SP 800-131A Rev. 2 has disallowed RSA signatures with keys under 2048
# bits since 2013; a smaller key is a configuration mistake, not a choice.
MIN_RSA_BITS = 2048
# RFC 8032 §5.1.5-§5.1.6: an Ed25519 public key or seed is 32 bytes, a
# signature 64.
_ED25519_KEY_BYTES = 32
_ED25519_SIGNATURE_BYTES = 64
# P-256 scalars are 32 bytes, so a raw (IEEE P1363) r‖s signature is 64 and a
# DER one at most 72: SEQUENCE header (2) + two INTEGERs of 2 + 33 bytes.
_P256_SCALAR_BYTES = 32
_MAX_DER_P256_SIGNATURE = 72
# RSA-PSS salt: the digest length (RFC 8017 §9.1 note 4), what OpenSSL,
# Java and Go use when signing with SHA-256 unless told otherwise.
DEFAULT_PSS_SALT_LENGTH = 32
_SHA256_BYTES = 32
# A PEM or base64 key longer than this is not a key we could load (an RSA-8192
# SPKI is ~1.4 kB in base64); refuse before handing it to a parser.
_MAX_KEY_TEXT = 16_384

_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


class _PublicKey(NamedTuple):
    key: PublicKeyObject
    key_id: str
    not_before: float | None
    not_after: float | None
    spki: bytes  # DER SubjectPublicKeyInfo, to match a private key to it

    def valid_at(self, now: float) -> bool:
        if self.not_before is not None and now < self.not_before:
            return False
        return self.not_after is None or now < self.not_after


# -- key loading -------------------------------------------------------------------


def _b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, padding optional; ValueError otherwise."""
    padded = text + "=" * (-len(text) % 4)
    if "-" in text or "_" in text:
        padded = padded.replace("-", "+").replace("_", "/")
    return binascii.a2b_base64(padded, strict_mode=True)


def _material(value: object, what: str, owner: str) -> bytes | str:
    """Split key material into raw bytes or text, refusing anything else."""
    if isinstance(value, Secret):
        value = value.value
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
        if len(raw) > _MAX_KEY_TEXT:
            raise ConfigurationError(f"{owner}({what}=...) is too long to be a key")
        return raw
    if isinstance(value, str):
        if len(value) > _MAX_KEY_TEXT:
            raise ConfigurationError(f"{owner}({what}=...) is too long to be a key")
        return value
    raise ConfigurationError(
        f"{owner}({what}=...) must be PEM or base64/hex text, bytes, a Secret or a "
        f"cryptography key, not {type(value).__name__}"
    )


def _check_public(key: object, algorithm: Algorithm, what: str, owner: str) -> PublicKeyObject:
    if algorithm == "ed25519":
        if isinstance(key, ed25519.Ed25519PublicKey):
            return key
        expected = "an Ed25519 key"
    elif algorithm == "ecdsa-p256-sha256":
        if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            return key
        expected = "an EC key on P-256 (secp256r1)"
    else:
        if isinstance(key, rsa.RSAPublicKey):
            if key.key_size < MIN_RSA_BITS:
                raise ConfigurationError(
                    f"{owner}({what}=...) is a {key.key_size}-bit RSA key; at least "
                    f"{MIN_RSA_BITS} bits are required"
                )
            return key
        expected = "an RSA key"
    raise ConfigurationError(
        f"{owner}({what}=...) is not {expected}, which algorithm={algorithm!r} needs"
    )


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
    if isinstance(value, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        return _check_public(value, algorithm, what, owner)
    material = _material(value, what, owner)
    try:
        if isinstance(material, bytes):
            if algorithm == "ed25519" and len(material) == _ED25519_KEY_BYTES:
                return ed25519.Ed25519PublicKey.from_public_bytes(material)
            if material[:1] == b"\x30":  # a DER SEQUENCE
                key = serialization.load_der_public_key(material)
                return _check_public(key, algorithm, what, owner)
            material = material.decode("ascii")
        text = material.strip()
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("ascii"))
        elif text.startswith("whpk_"):
            decoded = _b64decode(text[len("whpk_") :])
            if len(decoded) != _ED25519_KEY_BYTES:
                raise ValueError("whpk_ keys hold 32 bytes")
            key = ed25519.Ed25519PublicKey.from_public_bytes(decoded)
        else:
            decoded = bytes.fromhex(text) if _HEX.fullmatch(text) else _b64decode(text)
            if algorithm == "ed25519" and len(decoded) == _ED25519_KEY_BYTES:
                key = ed25519.Ed25519PublicKey.from_public_bytes(decoded)
            else:
                key = serialization.load_der_public_key(decoded)
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm, binascii.Error):
        raise ConfigurationError(
            f"{owner}({what}=...) could not be read as a public key; give PEM "
            "(-----BEGIN PUBLIC KEY-----), base64 or hex DER, or for Ed25519 the raw "
            "32-byte key in hex or base64"
        ) from None
    return _check_public(key, algorithm, what, owner)


def _check_private(key: object, algorithm: Algorithm, owner: str) -> PrivateKeyObject:
    public = getattr(key, "public_key", None)
    if not isinstance(
        key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    ) or not callable(public):
        raise ConfigurationError(f"{owner}(private_key=...) is not a private key")
    _check_public(key.public_key(), algorithm, "private_key", owner)
    return key


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

    Raises:
        ConfigurationError: unreadable, encrypted, or unsuited to ``algorithm``.
    """
    if isinstance(
        value, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    ):
        return _check_private(value, algorithm, owner)
    if isinstance(value, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise ConfigurationError(
            f"{owner}(private_key=...) is a public key, not a private key; give the key "
            "pair's private half (or leave private_key unset to only verify)"
        )
    material = _material(value, "private_key", owner)
    key: object
    try:
        if isinstance(material, bytes):
            if algorithm == "ed25519" and len(material) == _ED25519_KEY_BYTES:
                return ed25519.Ed25519PrivateKey.from_private_bytes(material)
            if material[:1] == b"\x30":  # a DER SEQUENCE
                key = serialization.load_der_private_key(material, password=None)
                return _check_private(key, algorithm, owner)
            material = material.decode("ascii")
        text = material.strip()
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        elif text.startswith("whsk_"):
            decoded = _b64decode(text[len("whsk_") :])
            if len(decoded) != 2 * _ED25519_KEY_BYTES:
                raise ValueError("whsk_ keys hold a 32-byte seed and a 32-byte public key")
            key = ed25519.Ed25519PrivateKey.from_private_bytes(decoded[:_ED25519_KEY_BYTES])
            if key.public_key().public_bytes_raw() != decoded[_ED25519_KEY_BYTES:]:
                raise ValueError("the whsk_ public half does not match its seed")
        else:
            decoded = bytes.fromhex(text) if _HEX.fullmatch(text) else _b64decode(text)
            if algorithm == "ed25519" and len(decoded) == _ED25519_KEY_BYTES:
                key = ed25519.Ed25519PrivateKey.from_private_bytes(decoded)
            else:
                key = serialization.load_der_private_key(decoded, password=None)
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm, binascii.Error):
        raise ConfigurationError(
            f"{owner}(private_key=...) could not be read as an unencrypted private key; "
            "give PEM, base64 or hex PKCS#8 DER, or for Ed25519 the 32-byte seed or a "
            "whsk_ key"
        ) from None
    return _check_private(key, algorithm, owner)


def _spki(key: PublicKeyObject) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _public_keys(
    public_key: PublicKeyInput | None,
    public_keys: Iterable[PublicKeyInput] | None,
    algorithm: Algorithm,
    owner: str,
) -> list[_PublicKey]:
    if public_key is not None and public_keys is not None:
        raise ConfigurationError(f"{owner} takes public_key= or public_keys=, not both")
    items: list[PublicKeyInput]
    if public_key is not None:
        items = [public_key]
    elif public_keys is None:
        items = []
    elif isinstance(public_keys, str | bytes | bytearray | Secret | tuple):
        raise ConfigurationError(f"{owner}(public_keys=...) takes a list; use public_key= for one")
    else:
        items = list(public_keys)
    out: list[_PublicKey] = []
    for index, item in enumerate(items):
        key_id: str | None = None
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[0], str) or not item[0]:
                raise ConfigurationError(
                    f"{owner}: a public key given as a pair must be (key_id, key)"
                )
            key_id, item = item
        what = "public_key" if public_key is not None else f"public_keys[{index}]"
        key = load_public_key(item, algorithm, what=what, owner=owner)
        window = item if isinstance(item, Secret) else None
        if key_id is None and window is not None:
            key_id = window.key_id
        out.append(
            _PublicKey(
                key=key,
                key_id=key_id or f"key[{index}]",
                not_before=window.not_before if window is not None else None,
                not_after=window.not_after if window is not None else None,
                spki=_spki(key),
            )
        )
    return out


# -- helpers shared with HmacVerifier in spirit (candidates to move to _base) ------


def _check_message(
    message: MessageBuilder, timestamp_header: str | None, id_header: str | None, owner: str
) -> None:
    if not callable(message) or not isinstance(getattr(message, "signs", None), frozenset):
        raise ConfigurationError(
            f"{owner}(template=...) must be a template string or a MessageBuilder"
        )
    if "timestamp" in message.signs and timestamp_header is None:
        raise ConfigurationError(
            f"{owner}: the template signs {{timestamp}}; set timestamp_header=..."
        )
    if timestamp_header is not None and "timestamp" not in message.signs:
        raise ConfigurationError(
            f"{owner}: a timestamp is read but the template does not sign it, so it "
            "proves nothing; add {timestamp} to template=..."
        )
    if "id" in message.signs and id_header is None:
        raise ConfigurationError(f"{owner}: the template signs {{id}}; set id_header=...")


def _split_signatures(raw: str, header: str, delimiter: str | None) -> list[str]:
    candidates = raw.split(delimiter) if delimiter is not None else [raw]
    if len(candidates) > MAX_SIGNATURES:
        raise MalformedHeader(f"the {header} header has too many signatures", header=header)
    return candidates


# -- the verifier ------------------------------------------------------------------


class PublicKeyVerifier:
    """Verify a public-key signature over the raw body or a signed-message template.

    Args:
        algorithm: ``ed25519``, ``ecdsa-p256-sha256``, ``rsa-pkcs1v15-sha256``
            or ``rsa-pss-sha256``; pinned here, never taken from the request.
        public_key: one key (see :func:`load_public_key` for the forms read).
        public_keys: several keys, oldest first, for rotation. Give a key an
            id as a ``(key_id, key)`` pair, or wrap it in
            :class:`~webhookverify.Secret` (``Secret(pem, key_id="2025",
            not_after=...)``) for an id and a validity window. Keys without an
            id are reported as ``key[N]``, their position.
        private_key: the sender's key, only for :meth:`sign` (tests, the CLI).
            It must belong to one of the public keys; with no public key given,
            its own public half is the one verified.
        header: the header that carries the signature.
        encoding: how the signature is written: ``base64`` (default), ``hex``,
            ``hex_lower`` or ``base64url``.
        prefix: text before each signature, such as ``v1a,``.
        delimiter: the header carries several signatures separated by this.
        template: the signed message (see :class:`MessageTemplate`), or a
            :class:`MessageBuilder`. Defaults to the raw body.
        timestamp_header / id_header: where ``{timestamp}`` and ``{id}`` come from.
        timestamp_format: ``unix`` seconds (default), ``unix_ms`` or ``rfc3339``.
        tolerance: how old a signed timestamp may be, in seconds (default 300);
            ``None`` turns the check off.
        future_tolerance: how far ahead it may be (default: same as tolerance).
        signature_format: ECDSA only: ``der`` (default, as OpenSSL, Java and
            SendGrid write it) or ``raw`` (r‖s, 64 bytes, IEEE P1363, as JOSE
            and WebCrypto write it).
        salt_length: RSA-PSS only: the salt length the sender uses, in bytes
            (default 32, the SHA-256 digest length), or ``"auto"`` to accept
            any salt length (signing then uses 32).
        scheme: the name reported in :attr:`Verification.scheme`.

    What is accepted: exactly what ``cryptography`` (OpenSSL) accepts for the
    pinned algorithm. In Project Wycheproof's terms, every ``valid`` case,
    no ``invalid`` case, and none of the ``acceptable`` ones: BER instead of
    DER for ECDSA, and RSA PKCS#1 v1.5 DigestInfo without its NULL parameter,
    are refused; RSA keys under 2048 bits are refused at construction.

    Large bodies: ECDSA and RSA hash the message parts one by one and verify
    the digest (``Prehashed``), so no body-sized copy is made. Ed25519 signs
    the whole message (RFC 8032 hashes it twice), so ``cryptography`` needs
    it as one buffer: a body-only template passes the body itself; a template
    with text around the body (``{timestamp}{body}``) builds the message
    once, one copy of the body per request.

    Raises:
        ConfigurationError: for any inconsistent setting or unusable key, at
            construction.
    """

    __slots__ = (
        "_args",
        "_args_prehashed",
        "_has_windows",
        "_keys",
        "_lengths",
        "_message",
        "_private",
        "_signing_key",
        "algorithm",
        "delimiter",
        "encoding",
        "future_tolerance",
        "header",
        "id_header",
        "prefix",
        "salt_length",
        "scheme",
        "signature_format",
        "timestamp_format",
        "timestamp_header",
        "tolerance",
    )

    algorithm: Algorithm
    header: str
    encoding: Encoding
    prefix: str
    delimiter: str | None
    timestamp_header: str | None
    id_header: str | None
    timestamp_format: TimestampFormat
    tolerance: float | None
    future_tolerance: float | None
    signature_format: SignatureFormat | None
    salt_length: int | Literal["auto"] | None
    scheme: str
    _keys: tuple[_PublicKey, ...]
    _private: PrivateKeyObject | None
    _signing_key: _PublicKey | None
    _message: MessageBuilder
    _has_windows: bool
    _lengths: frozenset[int] | None
    _args: tuple[object, ...]
    _args_prehashed: tuple[object, ...]

    def __init__(
        self,
        *,
        algorithm: Algorithm,
        public_key: PublicKeyInput | None = None,
        public_keys: Iterable[PublicKeyInput] | None = None,
        private_key: PrivateKeyInput | None = None,
        header: str,
        encoding: Encoding = "base64",
        prefix: str = "",
        delimiter: str | None = None,
        template: str | MessageBuilder = "{body}",
        timestamp_header: str | None = None,
        id_header: str | None = None,
        timestamp_format: TimestampFormat = "unix",
        tolerance: float | None = DEFAULT_TOLERANCE,
        future_tolerance: float | None = None,
        signature_format: SignatureFormat | None = None,
        salt_length: int | Literal["auto"] | None = None,
        scheme: str | None = None,
    ) -> None:
        owner = "PublicKeyVerifier"
        set_ = object.__setattr__
        if algorithm not in ALGORITHMS:
            raise ConfigurationError(
                f"{owner}(algorithm={algorithm!r}) is not supported; use one of "
                f"{', '.join(ALGORITHMS)}"
            )
        if not isinstance(header, str) or not header:
            raise ConfigurationError(f"{owner}(header=...) must name the signature header")
        if not isinstance(prefix, str):
            raise ConfigurationError(f"{owner}(prefix=...) must be a str")
        if delimiter is not None and (not isinstance(delimiter, str) or not delimiter):
            raise ConfigurationError(f"{owner}(delimiter=...) must be a non-empty str or None")
        if timestamp_format not in ("unix", "unix_ms", "rfc3339"):
            raise ConfigurationError(
                f"{owner}(timestamp_format=...) must be 'unix', 'unix_ms' or 'rfc3339'"
            )
        if algorithm == "ecdsa-p256-sha256":
            signature_format = "der" if signature_format is None else signature_format
            if signature_format not in ("der", "raw"):
                raise ConfigurationError(f"{owner}(signature_format=...) must be 'der' or 'raw'")
        elif signature_format is not None:
            raise ConfigurationError(f"{owner}(signature_format=...) applies to ECDSA only")
        if algorithm == "rsa-pss-sha256":
            salt_length = DEFAULT_PSS_SALT_LENGTH if salt_length is None else salt_length
            if salt_length != "auto" and (
                isinstance(salt_length, bool) or not isinstance(salt_length, int) or salt_length < 0
            ):
                raise ConfigurationError(
                    f"{owner}(salt_length=...) must be a number of bytes (>= 0) or 'auto'"
                )
        elif salt_length is not None:
            raise ConfigurationError(f"{owner}(salt_length=...) applies to rsa-pss-sha256 only")
        message: MessageBuilder = (
            MessageTemplate(template) if isinstance(template, str) else template
        )
        _check_message(message, timestamp_header, id_header, owner)

        keys = _public_keys(public_key, public_keys, algorithm, owner)
        private = (
            None if private_key is None else load_private_key(private_key, algorithm, owner=owner)
        )
        signing_key: _PublicKey | None = None
        if private is not None:
            own = _spki(private.public_key())
            if not keys:
                keys = [_PublicKey(private.public_key(), "key[0]", None, None, own)]
            matches = [k for k in keys if k.spki == own]
            if not matches:
                raise ConfigurationError(
                    f"{owner}(private_key=...) does not belong to any of the public keys; "
                    "check that both come from the same key pair"
                )
            signing_key = matches[-1]
        if not keys:
            raise ConfigurationError(
                f"{owner} needs a public key; set it with public_key= or public_keys="
            )
        if isinstance(salt_length, int):
            # RFC 8017 §9.1.1 step 3: emLen >= hLen + sLen + 2, emLen the modulus
            # bytes (one fewer when its bit length is a multiple of 8, plus one).
            room = min((k.key.key_size - 1 + 7) // 8 for k in keys) - _SHA256_BYTES - 2  # type: ignore[union-attr]
            if salt_length > room:
                raise ConfigurationError(
                    f"{owner}(salt_length=...) is larger than these RSA keys allow "
                    f"({room} bytes at most)"
                )

        set_(self, "algorithm", algorithm)
        set_(self, "header", header)
        set_(self, "encoding", check_encoding(encoding, owner))
        set_(self, "prefix", prefix)
        set_(self, "delimiter", delimiter)
        set_(self, "_message", message)
        set_(self, "timestamp_header", timestamp_header)
        set_(self, "id_header", id_header)
        set_(self, "timestamp_format", timestamp_format)
        tolerance = check_tolerance(tolerance, "tolerance", owner)
        set_(self, "tolerance", tolerance)
        future = check_tolerance(future_tolerance, "future_tolerance", owner)
        set_(self, "future_tolerance", tolerance if future is None else future)
        set_(self, "signature_format", signature_format)
        set_(self, "salt_length", salt_length)
        set_(self, "scheme", scheme or algorithm)
        set_(self, "_keys", tuple(keys))
        set_(self, "_private", private)
        set_(self, "_signing_key", signing_key)
        set_(
            self,
            "_has_windows",
            any(k.not_before is not None or k.not_after is not None for k in keys),
        )
        set_(self, "_lengths", self._signature_lengths())
        args, prehashed = self._verify_args()
        set_(self, "_args", args)
        set_(self, "_args_prehashed", prehashed)

    def _signature_lengths(self) -> frozenset[int] | None:
        """Signature lengths worth a verification; ``None``: a range (DER)."""
        if self.algorithm == "ed25519":
            return frozenset({_ED25519_SIGNATURE_BYTES})
        if self.algorithm == "ecdsa-p256-sha256":
            return frozenset({2 * _P256_SCALAR_BYTES}) if self.signature_format == "raw" else None
        return frozenset(
            (k.key.key_size + 7) // 8 for k in self._keys if isinstance(k.key, rsa.RSAPublicKey)
        )

    def _verify_args(self) -> tuple[tuple[object, ...], tuple[object, ...]]:
        """The extra arguments of ``key.verify``, for a whole message and a digest."""
        sha256, digest = hashes.SHA256(), Prehashed(hashes.SHA256())
        if self.algorithm == "ed25519":
            return (), ()
        if self.algorithm == "ecdsa-p256-sha256":
            return (ec.ECDSA(sha256),), (ec.ECDSA(digest),)
        if self.algorithm == "rsa-pkcs1v15-sha256":
            return (padding.PKCS1v15(), sha256), (padding.PKCS1v15(), digest)
        salt = padding.PSS.AUTO if self.salt_length == "auto" else self.salt_length
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt)  # type: ignore[arg-type]
        return (pss, sha256), (pss, digest)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("PublicKeyVerifier is immutable; build a new one")

    # -- what the registry and the receiver read -----------------------------------

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The configured keys' ids (or ``key[N]``), oldest first."""
        return tuple(k.key_id for k in self._keys)

    @property
    def can_sign(self) -> bool:
        """True when a ``private_key`` was configured, so :meth:`sign` works."""
        return self._private is not None

    @property
    def required_headers(self) -> tuple[str, ...]:
        names = [self.header]
        for extra in (self.timestamp_header, self.id_header):
            if extra is not None and extra not in names:
                names.append(extra)
        names.extend(h for h in getattr(self._message, "headers", ()) if h not in names)
        return tuple(names)

    @property
    def replay_default(self) -> ReplayMode:
        return "id" if "id" in self._message.signs else "content"

    @property
    def replay_window(self) -> float | None:
        """Seconds a replayed delivery could still pass the timestamp check, if signed."""
        if self.timestamp_header is None or self.tolerance is None:
            return None
        return self.tolerance + (self.future_tolerance or 0.0)

    # -- verification --------------------------------------------------------------

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify ``request``; return what was proved or raise a ``VerificationError``.

        Args:
            request: the request as received.
            now: unix seconds to judge the timestamp by (default: when the
                request was received).

        Returns:
            The :class:`Verification`: scheme, matching key id, signed
            timestamp and delivery id (when the message signs them).

        Raises:
            MissingHeader, DuplicateHeader, MalformedHeader: a header is absent,
                repeated or empty. MalformedSignature: no signature decodes to a
                plausible one for the algorithm. UnsupportedSignatureVersion: no
                signature carries ``prefix``. MalformedTimestamp,
                TimestampTooOld, TimestampInFuture: the signed timestamp.
                NoValidKey: no key is valid at ``now``. SignatureMismatch: no key
                verifies any signature.
        """
        if now is None:
            now = request.received_at
        raw = single_header(request, self.header)
        candidates = _split_signatures(raw, self.header, self.delimiter)
        values: dict[str, str] = {}
        timestamp: float | None = None
        if self.timestamp_header is not None:
            values["timestamp"] = single_header(request, self.timestamp_header)
            timestamp = parse_timestamp(
                values["timestamp"], self.timestamp_format, self.timestamp_header
            )
            check_freshness(
                timestamp, now, self.tolerance, self.future_tolerance, self.timestamp_header
            )
        if self.id_header is not None:
            values["id"] = single_header(request, self.id_header)

        signatures = self._decode(candidates)
        parts = self._message(request, values)
        if self.algorithm == "ed25519":
            data: bytes = parts[0] if len(parts) == 1 else b"".join(parts)
            args = self._args
        elif len(parts) == 1:
            data, args = parts[0], self._args
        else:
            digest = hashlib.sha256()
            for part in parts:
                digest.update(part)
            data, args = digest.digest(), self._args_prehashed
        any_valid = not self._has_windows
        for entry in self._keys:
            if self._has_windows:
                if not entry.valid_at(now):
                    continue
                any_valid = True
            for signature in signatures:
                try:
                    entry.key.verify(signature, data, *args)  # type: ignore[arg-type]
                except (InvalidSignature, ValueError, TypeError):
                    continue
                return Verification(
                    scheme=self.scheme,
                    key_id=entry.key_id,
                    timestamp=timestamp,
                    delivery_id=values.get("id") if "id" in self._message.signs else None,
                    signed=tuple(parts),
                )
        if not any_valid:
            raise NoValidKey()
        raise SignatureMismatch(
            f"the signature in {self.header} does not match", header=self.header
        )

    def _decode(self, candidates: Sequence[str]) -> list[bytes]:
        prefix = self.prefix
        raw_ecdsa = self.signature_format == "raw"
        signatures: list[bytes] = []
        malformed = 0
        for text in candidates:
            if self.delimiter is not None:
                text = text.strip()
            if prefix:
                if not text.startswith(prefix):
                    continue
                text = text[len(prefix) :]
            try:
                decoded = decode_signature(text, self.encoding, self.header)
            except MalformedSignature:
                malformed += 1
                continue
            if (self._lengths is not None and len(decoded) not in self._lengths) or (
                self._lengths is None and not 0 < len(decoded) <= _MAX_DER_P256_SIGNATURE
            ):
                malformed += 1  # cannot be a signature of this algorithm: skip the math
                continue
            if raw_ecdsa:
                # IEEE P1363 r‖s, each a 32-byte big-endian scalar; OpenSSL
                # checks 0 < r, s < n when it verifies the DER form.
                r = int.from_bytes(decoded[:_P256_SCALAR_BYTES], "big")
                s = int.from_bytes(decoded[_P256_SCALAR_BYTES:], "big")
                decoded = encode_dss_signature(r, s)
            signatures.append(decoded)
        if not signatures:
            if malformed:
                raise MalformedSignature(
                    f"the signature in {self.header} is not a valid {self.encoding} "
                    f"{self.algorithm} signature (check encoding= and algorithm=)",
                    header=self.header,
                )
            raise UnsupportedSignatureVersion(
                f"the {self.header} header has no signature"
                + (f" starting with {prefix!r} (check prefix=)" if prefix else ""),
                header=self.header,
            )
        return signatures

    # -- the sender's side ---------------------------------------------------------

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Sign ``body`` as the sender would; return the headers to send.

        Args:
            body: the raw body.
            now: unix seconds for the timestamp (default: the clock).
            parts: ``timestamp=``, ``id=``, ``method=`` and ``url=`` to use
                instead of the defaults; any other name is sent as a header of
                that name (for templates with ``{header:Name}``).

        Raises:
            ConfigurationError: no ``private_key`` was configured.
            NoValidKey: the signing key's validity window excludes ``now``.
        """
        if self._private is None or self._signing_key is None:
            raise ConfigurationError(
                "PublicKeyVerifier.sign() needs the sender's private key; set private_key=... "
                "(a receiver only needs the public key)"
            )
        if now is None:
            now = time.time()
        if not self._signing_key.valid_at(now):
            raise NoValidKey()
        headers: dict[str, str] = {}
        values: dict[str, str] = {}
        if self.timestamp_header is not None:
            values["timestamp"] = parts.pop("timestamp", "") or format_timestamp(
                now, self.timestamp_format
            )
            headers[self.timestamp_header] = values["timestamp"]
        if self.id_header is not None:
            values["id"] = parts.pop("id", "") or f"msg_{uuid.uuid4().hex}"
            headers[self.id_header] = values["id"]
        method = parts.pop("method", "POST")
        url = parts.pop("url", "")
        headers.update(parts)
        request = WebhookRequest(
            method=method, url=url, headers=headers, body=body, received_at=now
        )
        message = b"".join(self._message(request, values))
        signature = self._sign(message)
        headers[self.header] = self.prefix + encode_signature(signature, self.encoding)
        return headers

    def _sign(self, message: bytes) -> bytes:
        key = self._private
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(message)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            der = key.sign(message, ec.ECDSA(hashes.SHA256()))
            if self.signature_format == "der":
                return der
            r, s = decode_dss_signature(der)
            return r.to_bytes(_P256_SCALAR_BYTES, "big") + s.to_bytes(_P256_SCALAR_BYTES, "big")
        if not isinstance(key, rsa.RSAPrivateKey):  # unreachable: checked at construction
            raise ConfigurationError("PublicKeyVerifier.sign() needs a private key")
        if self.algorithm == "rsa-pkcs1v15-sha256":
            return key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        salt = self.salt_length if isinstance(self.salt_length, int) else DEFAULT_PSS_SALT_LENGTH
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt)
        return key.sign(message, pss, hashes.SHA256())

    def __repr__(self) -> str:
        return (
            f"PublicKeyVerifier(algorithm={self.algorithm!r}, header={self.header!r}, "
            f"encoding={self.encoding!r}, public_keys={list(self.key_ids)!r}, "
            f"private_key={'<hidden>' if self._private is not None else None})"
        )
