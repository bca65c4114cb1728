"""HMAC signatures: Tiki's "hmac" and "base64 hmac", GitHub, Shopify, Slack,
Stripe-style ``t=...,v1=...`` headers, and most of the field.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Unpack

from ..errors import NoValidKey
from ..keys import Secret, to_secrets
from ._base import (
    Verification,
    check_name,
    constant_time_equal,
    encode_signature,
)
from ._headers import KeyValueHeader, check_count
from ._keyring import keyring, newest_valid
from ._scheme import SchemeOptions, SignatureScheme

__all__ = ["ALGORITHMS", "HmacKey", "HmacVerifier", "KeyValueHeader", "hmac_digest", "hmac_key"]


# A key made ready by hmac_key: the two hashlib objects (their class is private to
# hashlib) that hashing the key's inner and outer pad blocks leaves.
HmacKey = tuple[Any, Any]


def hmac_key(secret: bytes, algorithm: str) -> HmacKey:
    """Hash ``secret``'s two pad blocks once, for :func:`hmac_digest` to start from."""
    size = hashlib.new(algorithm).block_size
    if len(secret) > size:
        secret = hashlib.new(algorithm, secret).digest()  # RFC 2104 §2: a long key is hashed
    padded = secret.ljust(size, b"\0")  # RFC 2104 §2: XOR ipad, XOR opad (stdlib's tables)
    inner = hashlib.new(algorithm, padded.translate(hmac.trans_36))
    return inner, hashlib.new(algorithm, padded.translate(hmac.trans_5C))


def hmac_digest(key: HmacKey, parts: Sequence[bytes]) -> bytes:
    """HMAC (RFC 2104 §2) of the message made of ``parts``: H(K^opad, H(K^ipad, text)).

    Args:
        key: from :func:`hmac_key`, copied, never updated: keyed once, it serves
            every message. Copying two ``hashlib`` states costs less than copying
            an ``hmac`` object (three states, behind Python methods): about
            6,000 of 48,000 instructions for a 1 KiB body. The tests check it
            against ``hmac.new`` for every algorithm and key length.
    """
    inner, outer = key[0].copy(), key[1].copy()
    for part in parts:
        inner.update(part)
    outer.update(inner.digest())
    digest: bytes = outer.digest()
    return digest


# The algorithms a configuration may name. SHA-1 is here because some senders
# still require it (Twilio, Trello, GitHub's legacy header); it is never a
# default and never chosen by a request.
ALGORITHMS = frozenset({"sha1", "sha224", "sha256", "sha384", "sha512"})


class HmacVerifier(SignatureScheme[HmacKey]):
    """Verify an HMAC signature over the raw body or a signed-message template.

    Args:
        secret: one key (``str`` is UTF-8 text; see :class:`~webhookverify.Secret`).
        secrets: several keys, oldest first, for rotation.
        header: the header that carries the signature.
        algorithm: ``sha256`` (default), ``sha1``, ``sha224``, ``sha384`` or
            ``sha512``; pinned here, never taken from the request.
        encoding: ``hex`` (either case), ``hex_lower`` (lower case only, for
            senders whose SDKs compare the text byte-exact), ``base64`` or
            ``base64url``.
        prefix: text before each signature, such as ``sha256=`` or ``v0=``.
        delimiter: the header carries several signatures separated by this.
        header_format: a :class:`KeyValueHeader` for ``t=...,v1=...`` headers.
        template: the signed message: a template string such as
            ``"v0:{timestamp}:{body}"`` (see :class:`MessageTemplate`), or a
            :class:`MessageBuilder` for schemes no template can express.
            Defaults to the raw body.
        timestamp_header: where ``{timestamp}`` comes from.
        id_header: where ``{id}`` comes from.
        id_field: a member of the JSON body, or a path such as ``("event", "id")``,
            that holds the sender's event id, for senders that sign it in the body
            and sign each retry again with a new timestamp. Read only after the
            signature has passed, it is :attr:`Verification.delivery_id` and the
            replay key; a body without it falls back to the content hash.
        timestamp_format: ``unix`` seconds (default), ``unix_ms`` or ``rfc3339``.
        tolerance: how old a signed timestamp may be, in seconds (default 300);
            ``None`` turns the check off. A unix timestamp run into another
            field (``{timestamp}{body}``) must still have as many digits as
            this clock's: nothing else marks where it ends.
        future_tolerance: how far ahead it may be (default: same as tolerance).
        scheme: the name reported in :attr:`Verification.scheme`
            (default ``hmac-<algorithm>``).
        owner: how configuration errors name this verifier (default
            ``HmacVerifier``); a preset passes its own name, such as
            ``presets.stripe``, so that a mistake names what the caller wrote.

    Raises:
        ConfigurationError: for any inconsistent setting, at construction.
    """

    __slots__ = ("secrets",)

    _kind = "digest"
    _algorithms = tuple(sorted(ALGORITHMS))

    secrets: tuple[Secret, ...]

    def __init__(
        self,
        *,
        secret: Secret | str | bytes | None = None,
        secrets: Iterable[Secret | str | bytes] | None = None,
        algorithm: str = "sha256",
        prefix: str = "",
        header_format: KeyValueHeader | None = None,
        scheme: str | None = None,
        owner: str = "HmacVerifier",
        **options: Unpack[SchemeOptions],
    ) -> None:
        check_name(owner, "owner", "HmacVerifier", optional=False, field=False)
        keys = to_secrets(secret, secrets, owner=owner)
        super().__init__(
            owner=owner,
            algorithm=algorithm,
            prefix=prefix,
            header_format=header_format,
            scheme=f"hmac-{algorithm}" if scheme is None else scheme,
            **options,
        )
        set_ = object.__setattr__
        set_(self, "secrets", keys)
        set_(self, "_keys", keyring(keys, lambda value: hmac_key(value, algorithm)))
        set_(self, "_lengths", frozenset({hashlib.new(algorithm).digest_size}))

    # -- verification --------------------------------------------------------------

    def verify_message(
        self,
        signatures: str | Sequence[str],
        parts: Sequence[bytes],
        now: float | None = None,
        *,
        timestamp: str | None = None,
        delivery_id: str | None = None,
    ) -> Verification:
        """Verify a signature over a message that is not a request's headers and body.

        For schemes that sign values found elsewhere (Mailgun signs two
        values it posts inside the body; a JWS signs its own first two
        segments): the caller finds the signature and builds the signed
        message, and this checks them as :meth:`verify` checks a request's,
        with this verifier's encoding, prefix, algorithm and keys, and with no
        request object built.

        Args:
            signatures: the signature as one entry of this verifier's header
                carries it (``prefix`` included), or several such entries.
            parts: the signed message, as parts hashed in order.
            now: unix seconds for the timestamp and the keys' validity
                windows (default: the clock).
            timestamp: the signed timestamp's text, required when the template
                signs one (and checked when given): parsed as
                ``timestamp_format`` and held to ``tolerance`` and
                ``future_tolerance`` before any hashing, as :meth:`verify`
                does (errors name ``timestamp_header``, else ``header``).
            delivery_id: the signed delivery id, required when the template
                signs one: it is the replay key.

        Returns:
            The :class:`Verification`, with the parsed ``timestamp``,
            ``delivery_id``, and the message parts as ``signed``.

        Raises:
            MalformedHeader: more than ``MAX_SIGNATURES`` signatures.
            MalformedTimestamp: ``timestamp`` is not one.
            TimestampTooOld: ``timestamp`` is older than the tolerance.
            TimestampInFuture: ``timestamp`` is further ahead than the tolerance.
            UnsupportedSignatureVersion: as :meth:`verify`.
            MalformedSignature: as :meth:`verify`.
            NoValidKey: as :meth:`verify`.
            SignatureMismatch: as :meth:`verify`.
            TypeError: a timestamp or delivery id the template signs is not
                given (a caller's mistake, whatever the message).
        """
        if self._timestamp_source is not None and timestamp is None:
            raise TypeError(f"{self.header}: this verifier signs a timestamp; pass timestamp=...")
        if self.signs_id and delivery_id is None:
            raise TypeError(f"{self.header}: this verifier signs an id; pass delivery_id=...")
        if now is None:
            now = time.time()
        candidates = [signatures] if isinstance(signatures, str) else list(signatures)
        check_count(candidates, self.header)
        stamp: float | None = None
        if timestamp is not None:
            stamp = self._checked_timestamp(timestamp, now)
        message = tuple(parts)
        key_id = self._match(candidates, message, now)
        return Verification(self.scheme, key_id, stamp, delivery_id, message)

    def _match(self, candidates: Sequence[str], parts: tuple[bytes, ...], now: float) -> str:
        # The texts are compared first: a received text equal to the canonical
        # encoding of a key's digest (encode_signature) is a valid encoding of
        # it. Only when none is equal are the candidates decoded strictly: to
        # tell a malformed signature from a wrong one, and to read the other
        # spellings decoding accepts (upper-case hex, base64url with padding).
        digests: list[tuple[str, bytes]] = []
        for key, key_id, window in self._keys:
            if window is None or window.is_valid_at(now):
                digest = hmac_digest(key, parts)
                expected = self.prefix + encode_signature(digest, self.encoding)
                for text in candidates:
                    # compare_digest takes str only when ASCII; nothing else is a signature
                    if text.isascii() and constant_time_equal(text, expected):
                        return key_id
                digests.append((key_id, digest))
        signatures = self._decode(candidates)
        if not digests:
            raise NoValidKey()
        for key_id, digest in digests:
            for signature in signatures:
                if constant_time_equal(digest, signature):
                    return key_id
        raise self._mismatch()

    # -- the sender's side ---------------------------------------------------------

    def _signer(self, now: float) -> Callable[[Sequence[bytes]], bytes]:
        key = newest_valid(self._keys, now).key
        return lambda parts: hmac_digest(key, parts)

    def __repr__(self) -> str:
        return (
            f"HmacVerifier(header={self.header!r}, algorithm={self.algorithm!r}, "
            f"encoding={self.encoding!r}, secrets=<{len(self.secrets)} hidden>)"
        )
