"""HMAC signatures: Tiki's "hmac" and "base64 hmac", GitHub, Shopify, Slack,
Stripe-style ``t=...,v1=...`` headers, and most of the field.
"""

from __future__ import annotations

import hashlib
import hmac as _hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..errors import ConfigurationError, MalformedHeader, MissingHeader
from ..keys import Secret, to_secrets
from ._base import (
    DEFAULT_TOLERANCE,
    MAX_SIGNATURES,
    Encoding,
    MessageBuilder,
    TimestampFormat,
)
from ._keyring import KeyEntry, newest_valid, valid_keys
from ._scheme import SignatureScheme, split_signatures

__all__ = ["ALGORITHMS", "HmacVerifier", "KeyValueHeader"]

_TRANS_36 = bytes(x ^ 0x36 for x in range(256))
_TRANS_5C = bytes(x ^ 0x5C for x in range(256))


class _PreparedKey:
    """An HMAC key with its inner and outer pads already hashed (RFC 2104 §2).

    Copying the two prepared hash states per message skips the two key
    blocks that ``hmac.new`` hashes on every call: on a 1 KiB body that is a
    third of the work. The result is byte-for-byte HMAC (checked against the
    standard library and the Wycheproof vectors in the tests).
    """

    __slots__ = ("inner", "outer")

    def __init__(self, key: bytes, algorithm: str) -> None:
        constructor = getattr(hashlib, algorithm)
        block = constructor().block_size
        if len(key) > block:
            key = constructor(key).digest()
        key = key.ljust(block, b"\0")
        self.inner = constructor(key.translate(_TRANS_36))
        self.outer = constructor(key.translate(_TRANS_5C))

    def mac(self, parts: Sequence[bytes]) -> bytes:
        inner = self.inner.copy()
        for part in parts:
            inner.update(part)
        outer = self.outer.copy()
        outer.update(inner.digest())
        digest: bytes = outer.digest()
        return digest


# The algorithms a configuration may name. SHA-1 is here because some senders
# still require it (Twilio, Trello, GitHub's legacy header); it is never a
# default and never chosen by a request.
ALGORITHMS = frozenset({"sha1", "sha224", "sha256", "sha384", "sha512"})


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyValueHeader:
    """A signature header made of ``key=value`` pairs, as Stripe and Paddle send.

    Stripe: ``t=1492774577,v1=5257a8...,v1=...`` is
    ``KeyValueHeader(signature_key="v1", timestamp_key="t", separator=",")``;
    Paddle: ``ts=1671552777;h1=eb4d...`` is
    ``KeyValueHeader(signature_key="h1", timestamp_key="ts", separator=";")``.
    Pairs with other keys (Stripe's ``v0``, a future ``v2``) are ignored.
    """

    signature_key: str = "v1"
    timestamp_key: str | None = "t"
    separator: str = ","

    def __post_init__(self) -> None:
        if not self.signature_key or not self.separator or "=" in self.separator:
            raise ConfigurationError(
                "KeyValueHeader needs a signature_key and a separator other than '='"
            )

    def parse(self, value: str, header: str) -> tuple[list[str], str | None]:
        """Split a header value into its signatures and its one timestamp."""
        signatures: list[str] = []
        timestamp: str | None = None
        pairs = value.split(self.separator)
        if len(pairs) > MAX_SIGNATURES + 4:
            raise MalformedHeader(f"the {header} header has too many entries", header=header)
        for pair in pairs:
            key, eq, item = pair.strip().partition("=")
            if not eq:
                raise MalformedHeader(
                    f"the {header} header has an entry without '='", header=header
                )
            if key == self.signature_key:
                signatures.append(item)
            elif key == self.timestamp_key:
                if timestamp is not None:
                    raise MalformedHeader(
                        f"the {header} header has more than one timestamp", header=header
                    )
                timestamp = item
        return signatures, timestamp

    def render(self, signature: str, timestamp: str | None) -> str:
        pairs = [] if self.timestamp_key is None else [f"{self.timestamp_key}={timestamp}"]
        pairs.append(f"{self.signature_key}={signature}")
        return self.separator.join(pairs)


class HmacVerifier(SignatureScheme[_PreparedKey]):
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
        timestamp_header / id_header: where ``{timestamp}`` and ``{id}`` come from.
        timestamp_format: ``unix`` seconds (default), ``unix_ms`` or ``rfc3339``.
        tolerance: how old a signed timestamp may be, in seconds (default 300);
            ``None`` turns the check off.
        future_tolerance: how far ahead it may be (default: same as tolerance).
        scheme: the name reported in :attr:`Verification.scheme`.

    Raises:
        ConfigurationError: for any inconsistent setting, at construction.
    """

    __slots__ = ("header_format", "secrets")

    _kind = "digest"

    secrets: tuple[Secret, ...]
    header_format: KeyValueHeader | None

    def __init__(
        self,
        *,
        secret: Secret | str | bytes | None = None,
        secrets: Iterable[Secret | str | bytes] | None = None,
        header: str,
        algorithm: str = "sha256",
        encoding: Encoding = "hex",
        prefix: str = "",
        delimiter: str | None = None,
        header_format: KeyValueHeader | None = None,
        template: str | MessageBuilder = "{body}",
        timestamp_header: str | None = None,
        id_header: str | None = None,
        timestamp_format: TimestampFormat = "unix",
        tolerance: float | None = DEFAULT_TOLERANCE,
        future_tolerance: float | None = None,
        scheme: str | None = None,
    ) -> None:
        owner = "HmacVerifier"
        keys = to_secrets(secret, secrets, owner=owner)
        if algorithm not in ALGORITHMS:
            raise ConfigurationError(
                f"{owner}(algorithm={algorithm!r}) is not supported; use one of "
                f"{', '.join(sorted(ALGORITHMS))}"
            )
        if delimiter is not None and header_format is not None:
            raise ConfigurationError(
                f"{owner}(delimiter=...) cannot be combined with header_format; the "
                "KeyValueHeader says how the header splits"
            )
        timestamp_source = timestamp_header
        if header_format is not None and header_format.timestamp_key is not None:
            if timestamp_header is not None:
                raise ConfigurationError(
                    f"{owner}: the timestamp comes from header_format; drop timestamp_header"
                )
            timestamp_source = header
        self._configure(
            owner,
            header=header,
            encoding=encoding,
            prefix=prefix,
            delimiter=delimiter,
            template=template,
            timestamp_header=timestamp_header,
            id_header=id_header,
            timestamp_format=timestamp_format,
            tolerance=tolerance,
            future_tolerance=future_tolerance,
            scheme=scheme or f"hmac-{algorithm}",
            timestamp_source=timestamp_source,
            plain_header=header_format is None,
        )
        object.__setattr__(self, "algorithm", algorithm)
        object.__setattr__(self, "header_format", header_format)
        object.__setattr__(self, "secrets", keys)
        self._set_keys(
            [
                KeyEntry(_PreparedKey(s.value, algorithm), s.key_id or f"secret[{i}]", s)
                for i, s in enumerate(keys)
            ],
            frozenset({hashlib.new(algorithm).digest_size}),
        )

    # -- verification --------------------------------------------------------------

    def _parse_header(self, raw: str, values: dict[str, str]) -> Sequence[str]:
        header_format, header = self.header_format, self.header
        if header_format is None:  # not called then: the header is a plain list
            return split_signatures(raw, header, self.delimiter)
        candidates, stamp = header_format.parse(raw, header)
        if stamp is not None:
            values["timestamp"] = stamp
        elif self._timestamp_source == header:
            raise MissingHeader(f"the {header} header has no timestamp entry", header=header)
        if len(candidates) > MAX_SIGNATURES:
            raise MalformedHeader(f"the {header} header has too many signatures", header=header)
        return candidates

    def _match(self, now: float, candidates: Sequence[str], parts: tuple[bytes, ...]) -> str:
        signatures = self._decode(candidates)
        compare = _hmac.compare_digest
        # self._keys_at(now), inlined: this is the hot path
        for key, key_id, _ in valid_keys(self._keys, now) if self._has_windows else self._keys:
            expected = key.mac(parts)
            for signature in signatures:
                if compare(expected, signature):
                    return key_id
        raise self._mismatch()

    # -- the sender's side ---------------------------------------------------------

    def _signer(self, now: float) -> Callable[[Sequence[bytes]], bytes]:
        return newest_valid(self._keys, now).key.mac

    def _render(self, signature: str, values: dict[str, str]) -> str:
        if self.header_format is None:
            return signature
        return self.header_format.render(signature, values.get("timestamp"))

    def __repr__(self) -> str:
        return (
            f"HmacVerifier(header={self.header!r}, algorithm={self.algorithm!r}, "
            f"encoding={self.encoding!r}, secrets=<{len(self.secrets)} hidden>)"
        )
