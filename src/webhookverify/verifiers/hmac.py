"""HMAC signatures: Tiki's "hmac" and "base64 hmac", GitHub, Shopify, Slack,
Stripe-style ``t=...,v1=...`` headers, and most of the field.
"""

from __future__ import annotations

import hashlib
import hmac as _hmac
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..errors import (
    ConfigurationError,
    MalformedHeader,
    MalformedSignature,
    MissingHeader,
    NoValidKey,
    SignatureMismatch,
    UnsupportedSignatureVersion,
)
from ..keys import Secret, to_secrets
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


class HmacVerifier:
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

    __slots__ = (
        "_body_only",
        "_digest_size",
        "_has_windows",
        "_key_ids",
        "_keys",
        "_message",
        "_signs_id",
        "_timestamp_source",
        "algorithm",
        "delimiter",
        "encoding",
        "future_tolerance",
        "header",
        "header_format",
        "id_header",
        "prefix",
        "scheme",
        "secrets",
        "timestamp_format",
        "timestamp_header",
        "tolerance",
    )

    secrets: tuple[Secret, ...]
    header: str
    algorithm: str
    encoding: Encoding
    prefix: str
    delimiter: str | None
    header_format: KeyValueHeader | None
    timestamp_header: str | None
    id_header: str | None
    timestamp_format: TimestampFormat
    tolerance: float | None
    future_tolerance: float | None
    scheme: str
    _message: MessageBuilder
    _signs_id: bool
    _body_only: bool
    _timestamp_source: str | None
    _digest_size: int
    _has_windows: bool
    _key_ids: tuple[str, ...]
    _keys: tuple[_PreparedKey, ...]

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
        set_ = object.__setattr__
        set_(self, "secrets", to_secrets(secret, secrets, owner=owner))
        if not isinstance(header, str) or not header:
            raise ConfigurationError(f"{owner}(header=...) must name the signature header")
        if algorithm not in ALGORITHMS:
            raise ConfigurationError(
                f"{owner}(algorithm={algorithm!r}) is not supported; use one of "
                f"{', '.join(sorted(ALGORITHMS))}"
            )
        if timestamp_format not in ("unix", "unix_ms", "rfc3339"):
            raise ConfigurationError(
                f"{owner}(timestamp_format=...) must be 'unix', 'unix_ms' or 'rfc3339'"
            )
        if delimiter is not None and (not delimiter or header_format is not None):
            raise ConfigurationError(
                f"{owner}(delimiter=...) must be non-empty and cannot be combined with "
                "header_format"
            )
        message: MessageBuilder = (
            MessageTemplate(template) if isinstance(template, str) else template
        )
        if not callable(message) or not isinstance(getattr(message, "signs", None), frozenset):
            raise ConfigurationError(
                f"{owner}(template=...) must be a template string or a MessageBuilder"
            )
        timestamp_source: str | None = timestamp_header
        if header_format is not None and header_format.timestamp_key is not None:
            if timestamp_header is not None:
                raise ConfigurationError(
                    f"{owner}: the timestamp comes from header_format; drop timestamp_header"
                )
            timestamp_source = header
        if "timestamp" in message.signs and timestamp_source is None:
            raise ConfigurationError(
                f"{owner}: the template signs {{timestamp}}; set timestamp_header=..."
            )
        if timestamp_source is not None and "timestamp" not in message.signs:
            raise ConfigurationError(
                f"{owner}: a timestamp is read but the template does not sign it, so it "
                "proves nothing; add {timestamp} to template=..."
            )
        if "id" in message.signs and id_header is None:
            raise ConfigurationError(f"{owner}: the template signs {{id}}; set id_header=...")
        set_(self, "header", header)
        set_(self, "algorithm", algorithm)
        set_(self, "encoding", check_encoding(encoding, owner))
        set_(self, "prefix", prefix)
        set_(self, "delimiter", delimiter)
        set_(self, "header_format", header_format)
        set_(self, "_message", message)
        set_(self, "_signs_id", "id" in message.signs)
        set_(
            self, "_body_only", isinstance(message, MessageTemplate) and message.source == "{body}"
        )
        set_(self, "timestamp_header", timestamp_header)
        set_(self, "_timestamp_source", timestamp_source)
        set_(self, "id_header", id_header)
        set_(self, "timestamp_format", timestamp_format)
        tolerance = check_tolerance(tolerance, "tolerance", owner)
        set_(self, "tolerance", tolerance)
        future = check_tolerance(future_tolerance, "future_tolerance", owner)
        set_(self, "future_tolerance", tolerance if future is None else future)
        set_(self, "scheme", scheme or f"hmac-{algorithm}")
        set_(self, "_digest_size", hashlib.new(algorithm).digest_size)
        set_(self, "_keys", tuple(_PreparedKey(s.value, algorithm) for s in self.secrets))
        set_(
            self,
            "_has_windows",
            any(s.not_before is not None or s.not_after is not None for s in self.secrets),
        )
        set_(
            self, "_key_ids", tuple(s.key_id or f"secret[{i}]" for i, s in enumerate(self.secrets))
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("HmacVerifier is immutable; build a new one")

    # -- what the registry and the receiver read -----------------------------------

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
        if self._timestamp_source is None or self.tolerance is None:
            return None
        return self.tolerance + (self.future_tolerance or 0.0)

    # -- verification --------------------------------------------------------------

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify ``request``; return what was proved or raise a ``VerificationError``."""
        if now is None:
            now = request.received_at
        header = self.header
        raw = single_header(request, header)
        values: dict[str, str] = {}
        candidates: Sequence[str]
        if self.header_format is not None:
            candidates, stamp = self.header_format.parse(raw, header)
            if stamp is not None:
                values["timestamp"] = stamp
            elif self._timestamp_source == header:
                raise MissingHeader(f"the {header} header has no timestamp entry", header=header)
        elif self.delimiter is not None:
            candidates = [text.strip() for text in raw.split(self.delimiter)]
        else:
            candidates = (raw,)
        if len(candidates) > MAX_SIGNATURES:
            raise MalformedHeader(f"the {header} header has too many signatures", header=header)
        timestamp: float | None = None
        source = self._timestamp_source
        if source is not None:
            if self.timestamp_header is not None:
                values["timestamp"] = single_header(request, self.timestamp_header)
            timestamp = parse_timestamp(values["timestamp"], self.timestamp_format, source)
            check_freshness(timestamp, now, self.tolerance, self.future_tolerance, source)
        if self.id_header is not None:
            values["id"] = single_header(request, self.id_header)

        signatures = self._decode(candidates)
        parts = (request.body,) if self._body_only else tuple(self._message(request, values))
        has_windows = self._has_windows
        for index, key in enumerate(self._keys):
            if has_windows and not self.secrets[index].is_valid_at(now):
                continue
            expected = key.mac(parts)
            for signature in signatures:
                if _hmac.compare_digest(expected, signature):
                    return Verification(
                        self.scheme,
                        self._key_ids[index],
                        timestamp,
                        values.get("id") if self._signs_id else None,
                        parts,
                    )
        if has_windows and not any(s.is_valid_at(now) for s in self.secrets):
            raise NoValidKey()
        raise SignatureMismatch(f"the signature in {header} does not match", header=header)

    def _decode(self, candidates: Sequence[str]) -> list[bytes]:
        prefix = self.prefix
        size = self._digest_size
        signatures: list[bytes] = []
        malformed = 0
        for text in candidates:
            if prefix:
                if not text.startswith(prefix):
                    continue
                text = text[len(prefix) :]
            try:
                decoded = decode_signature(text, self.encoding, self.header)
            except MalformedSignature:
                malformed += 1
                continue
            if len(decoded) == size:
                signatures.append(decoded)
            else:
                malformed += 1  # a truncated or padded tag never verifies
        if not signatures:
            if malformed:
                raise MalformedSignature(
                    f"the signature in {self.header} is not a valid {self.encoding} "
                    f"{self.algorithm} digest (check encoding= and algorithm=)",
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
        """Sign ``body`` as a sender would; return the headers to send.

        Args:
            body: the raw body.
            now: unix seconds for the timestamp (default: the clock).
            parts: ``timestamp=``, ``id=``, ``method=`` and ``url=`` to use
                instead of the defaults; any other name is sent as a header of
                that name (for templates with ``{header:Name}``).

        Raises:
            NoValidKey: no secret is valid at ``now``.
        """
        if now is None:
            now = time.time()
        headers: dict[str, str] = {}
        values: dict[str, str] = {}
        if self._timestamp_source is not None:
            values["timestamp"] = parts.pop("timestamp", "") or format_timestamp(
                now, self.timestamp_format
            )
            if self.timestamp_header is not None:
                headers[self.timestamp_header] = values["timestamp"]
        if self.id_header is not None:
            values["id"] = parts.pop("id", "") or f"msg_{uuid.uuid4().hex}"
            headers[self.id_header] = values["id"]
        method = parts.pop("method", "POST")
        url = parts.pop("url", "")
        extra = dict(parts)
        headers.update(extra)
        request = WebhookRequest(
            method=method, url=url, headers=headers, body=body, received_at=now
        )
        valid = [i for i, s in enumerate(self.secrets) if s.is_valid_at(now)]
        if not valid:
            raise NoValidKey()
        mac = self._keys[valid[-1]].mac(self._message(request, values))
        signature = self.prefix + encode_signature(mac, self.encoding)
        if self.header_format is not None:
            headers[self.header] = self.header_format.render(signature, values.get("timestamp"))
        else:
            headers[self.header] = signature
        return headers

    def __repr__(self) -> str:
        return (
            f"HmacVerifier(header={self.header!r}, algorithm={self.algorithm!r}, "
            f"encoding={self.encoding!r}, secrets=<{len(self.secrets)} hidden>)"
        )
