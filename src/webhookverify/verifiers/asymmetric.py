"""Public-key signatures: Ed25519, ECDSA P-256, RSA PKCS#1 v1.5 and RSA-PSS.

Discord (Ed25519), SendGrid (ECDSA P-256) and Standard Webhooks ``v1a``
(Ed25519) sign with a private key that never leaves the sender; a receiver
holds only the public key, so a leaked receiver configuration cannot forge
deliveries.

With :mod:`._pubkeys` (key loading, re-exported here) and
:mod:`webhookverify.httpsig._crypto` (RFC 9421's algorithms, loaded only when such a key is
configured), this is the only module of webhookverify that imports
``cryptography``; ``webhookverify``
loads it the first time a :class:`PublicKeyVerifier` is used, so an
application that verifies only HMAC never pays for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Literal, Unpack

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

from ..errors import ConfigurationError, NoValidKey
from ._base import check_name
from ._keyring import KeyEntry, valid_keys
from ._pubkeys import (
    ALGORITHMS,
    MIN_RSA_BITS,
    Algorithm,
    KeyMaterial,
    PrivateKeyInput,
    PrivateKeyObject,
    PublicKeyInput,
    PublicKeyObject,
    load_keys,
    load_private_key,
    load_public_key,
)
from ._scheme import SchemeOptions, SignatureScheme

# Key loading and its types are defined in _pubkeys and public from here.
__all__ = [
    "ALGORITHMS",
    "DEFAULT_PSS_SALT_LENGTH",
    "MIN_RSA_BITS",
    "Algorithm",
    "KeyMaterial",
    "PrivateKeyInput",
    "PrivateKeyObject",
    "PublicKeyInput",
    "PublicKeyObject",
    "PublicKeyVerifier",
    "SignatureFormat",
    "load_private_key",
    "load_public_key",
]

SignatureFormat = Literal["der", "raw"]

# RFC 8032 §5.1.6: an Ed25519 signature is 64 bytes.
_ED25519_SIGNATURE_BYTES = 64
# P-256 scalars are 32 bytes, so a raw (IEEE P1363) r‖s signature is 64 and a
# DER one at most 72: SEQUENCE header (2) + two INTEGERs of 2 + 33 bytes.
_P256_SCALAR_BYTES = 32
_MAX_DER_P256_SIGNATURE = 72
# RSA-PSS salt: the digest length (RFC 8017 §9.1 note 4), what OpenSSL,
# Java and Go use when signing with SHA-256 unless told otherwise.
DEFAULT_PSS_SALT_LENGTH = 32
_SHA256_BYTES = 32


class PublicKeyVerifier(SignatureScheme[PublicKeyObject]):
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
        timestamp_header: where ``{timestamp}`` comes from.
        id_header: where ``{id}`` comes from.
        id_field: a member of the JSON body, or a path such as ``("event", "id")``,
            that holds the sender's event id, for senders that sign it in the body
            and sign each retry again with a new timestamp. Read only after the
            signature has passed, it is :attr:`Verification.delivery_id` and the
            replay key; a body without it falls back to the content hash.
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
        scheme: the name reported in :attr:`Verification.scheme` (default:
            the algorithm).
        owner: how configuration errors name this verifier (default
            ``PublicKeyVerifier``); presets pass their own name.

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

    __slots__ = ("_args", "_private", "salt_length", "signature_format")

    _algorithms = ALGORITHMS

    algorithm: Algorithm
    signature_format: SignatureFormat | None
    salt_length: int | Literal["auto"] | None
    _private: KeyEntry[PrivateKeyObject] | None  # the key, with the window signing is bound by
    # the extra arguments of key.verify(), for a whole message and for a digest
    _args: tuple[tuple[object, ...], tuple[object, ...]]

    def __init__(
        self,
        *,
        algorithm: Algorithm,
        public_key: PublicKeyInput | None = None,
        public_keys: Iterable[PublicKeyInput] | None = None,
        private_key: PrivateKeyInput | None = None,
        prefix: str = "",
        signature_format: SignatureFormat | None = None,
        salt_length: int | Literal["auto"] | None = None,
        scheme: str | None = None,
        owner: str = "PublicKeyVerifier",
        **options: Unpack[SchemeOptions],
    ) -> None:
        check_name(owner, "owner", "PublicKeyVerifier", optional=False, field=False)
        set_ = object.__setattr__
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
        options.setdefault("encoding", "base64")
        SignatureScheme.__init__(
            self,
            owner=owner,
            algorithm=algorithm,
            prefix=prefix,
            scheme=algorithm if scheme is None else scheme,
            **options,
        )

        keys, private = load_keys(public_key, public_keys, private_key, algorithm, owner=owner)
        if isinstance(salt_length, int):
            # RFC 8017 §9.1.1 step 3: emLen >= hLen + sLen + 2, emLen the modulus
            # bytes (one fewer when its bit length is a multiple of 8, plus one).
            room = min((k.key.key_size - 1 + 7) // 8 for k in keys) - _SHA256_BYTES - 2  # type: ignore[union-attr]
            if salt_length > room:
                raise ConfigurationError(
                    f"{owner}(salt_length=...) is larger than these RSA keys allow "
                    f"({room} bytes at most)"
                )

        set_(self, "signature_format", signature_format)
        set_(self, "salt_length", salt_length)
        set_(self, "_private", private)
        lengths, args = self._verify_plan(keys)
        set_(self, "_keys", tuple(keys))
        set_(self, "_lengths", lengths)
        set_(self, "_args", args)

    def _verify_plan(
        self, keys: Sequence[KeyEntry[PublicKeyObject]]
    ) -> tuple[frozenset[int], tuple[tuple[object, ...], tuple[object, ...]]]:
        """The decoded lengths a signature of these keys can have, and the extra
        arguments of ``key.verify`` for a whole message and for a digest."""
        if self.algorithm == "ed25519":
            return frozenset({_ED25519_SIGNATURE_BYTES}), ((), ())
        sha256, digest = hashes.SHA256(), Prehashed(hashes.SHA256())
        if self.algorithm == "ecdsa-p256-sha256":
            raw = self.signature_format == "raw"
            lengths = {2 * _P256_SCALAR_BYTES} if raw else range(1, _MAX_DER_P256_SIGNATURE + 1)
            return frozenset(lengths), ((ec.ECDSA(sha256),), (ec.ECDSA(digest),))
        pad: padding.AsymmetricPadding = padding.PKCS1v15()
        if self.algorithm == "rsa-pss-sha256":
            salt = padding.PSS.AUTO if self.salt_length == "auto" else self.salt_length
            pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt)  # type: ignore[arg-type]
        sizes = {(k.key.key_size + 7) // 8 for k in keys}  # type: ignore[union-attr]  # RSA keys
        return frozenset(sizes), ((pad, sha256), (pad, digest))

    # -- what the registry and the receiver read -----------------------------------

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The configured keys' ids (or ``key[N]``), oldest first."""
        return tuple(k.key_id for k in self._keys)

    @property
    def can_sign(self) -> bool:
        """True when a ``private_key`` was configured, so :meth:`sign` works."""
        return self._private is not None

    # -- verification --------------------------------------------------------------

    def _match(self, candidates: Sequence[str], parts: tuple[bytes, ...], now: float) -> str:
        signatures = self._decode(candidates)
        if self.signature_format == "raw":
            # IEEE P1363 r‖s, each a 32-byte big-endian scalar, to the DER form
            # OpenSSL verifies (and there checks 0 < r, s < n).
            signatures = [
                encode_dss_signature(
                    int.from_bytes(raw[:_P256_SCALAR_BYTES], "big"),
                    int.from_bytes(raw[_P256_SCALAR_BYTES:], "big"),
                )
                for raw in signatures
            ]
        if self.algorithm == "ed25519" or len(parts) == 1:
            data, args = b"".join(parts) if len(parts) > 1 else parts[0], self._args[0]
        else:
            digest = hashlib.sha256()
            for part in parts:
                digest.update(part)
            data, args = digest.digest(), self._args[1]
        for entry in valid_keys(self._keys, now):
            for signature in signatures:
                try:
                    entry.key.verify(signature, data, *args)  # type: ignore[arg-type]
                except (InvalidSignature, ValueError, TypeError):
                    continue
                return entry.key_id
        raise self._mismatch()

    # -- the sender's side ---------------------------------------------------------

    def _signer(self, now: float) -> Callable[[Sequence[bytes]], bytes]:
        if self._private is None:
            raise ConfigurationError(
                "PublicKeyVerifier.sign() needs the sender's private key; set private_key=... "
                "(a receiver only needs the public key)"
            )
        if not self._private.valid_at(now):
            raise NoValidKey()
        return self._sign

    def _sign(self, parts: Sequence[bytes]) -> bytes:
        args = self._args[0]
        if self.salt_length == "auto":  # verifies any salt length, signs with the default
            pss = padding.PSS(padding.MGF1(hashes.SHA256()), DEFAULT_PSS_SALT_LENGTH)
            args = (pss, hashes.SHA256())
        signature: bytes = self._private.key.sign(b"".join(parts), *args)  # type: ignore[union-attr, arg-type]
        if self.signature_format != "raw":
            return signature
        r, s = decode_dss_signature(signature)
        return r.to_bytes(_P256_SCALAR_BYTES, "big") + s.to_bytes(_P256_SCALAR_BYTES, "big")

    def __repr__(self) -> str:
        return (
            f"PublicKeyVerifier(algorithm={self.algorithm!r}, header={self.header!r}, "
            f"encoding={self.encoding!r}, public_keys={list(self.key_ids)!r}, "
            f"private_key={'<hidden>' if self._private is not None else None})"
        )
