"""What every verifier shares: the result type, the protocol, and the helpers
for headers, signatures, timestamps and signed-message templates.

Constant-time comparison lives in :func:`constant_time_equal` and nowhere else.
"""

from __future__ import annotations

import binascii
import calendar
import hashlib
import hmac
import math
import re
import time
from collections.abc import Mapping, Sequence
from typing import Literal, NamedTuple, Protocol, runtime_checkable

from ..errors import (
    ConfigurationError,
    DuplicateHeader,
    MalformedHeader,
    MalformedSignature,
    MalformedTimestamp,
    MissingHeader,
    TimestampInFuture,
    TimestampTooOld,
)
from ..request import WebhookRequest

__all__ = [
    "DEFAULT_TOLERANCE",
    "MAX_SIGNATURES",
    "MessageBuilder",
    "MessageTemplate",
    "ReplayMode",
    "TimestampFormat",
    "Verification",
    "Verifier",
    "check_freshness",
    "check_tolerance",
    "constant_time_equal",
    "decode_signature",
    "encode_signature",
    "format_timestamp",
    "parse_timestamp",
    "single_header",
]

# Most providers document five minutes (Stripe, Slack, Standard Webhooks);
# the same bound applies to timestamps ahead of our clock.
DEFAULT_TOLERANCE = 300.0
# A header may carry several signatures while a sender rotates keys (Stripe
# sends one v1 per active secret, Standard Webhooks a list). Nobody sends
# more than a handful; a header with more is refused before any hashing.
MAX_SIGNATURES = 16
# Unix seconds fit in 11 digits until the year 5138; milliseconds in 14.
_MAX_TIMESTAMP_DIGITS = 14

Encoding = Literal["hex", "hex_lower", "base64", "base64url"]
TimestampFormat = Literal["unix", "unix_ms", "rfc3339"]
ReplayMode = Literal["id", "content", "off"]


def constant_time_equal(a: bytes, b: bytes) -> bool:
    """Compare two byte strings in time that does not depend on where they differ."""
    return hmac.compare_digest(a, b)


class Verification(NamedTuple):
    """What a verifier proved about a request (immutable).

    Attributes:
        scheme: the scheme that passed (``hmac-sha256``, ``ed25519``, ...).
        key_id: which configured key matched: its ``key_id``, or ``secret[N]``
            (its position, oldest first) when it has none.
        timestamp: the signed timestamp (unix seconds), when the scheme signs one.
        delivery_id: the delivery id, only when the signature covers it.
        signed: the signed message as the parts that were hashed (the body is
            the request's own bytes object, not a copy).

    It is a named tuple: building one is cheap on the hot path.
    """

    scheme: str
    key_id: str | None
    timestamp: float | None = None
    delivery_id: str | None = None
    signed: tuple[bytes, ...] = ()

    def content_digest(self) -> bytes:
        """SHA-256 over the signed message, framed so parts cannot run together.

        The replay guard keys on it when the scheme signs no delivery id.
        """
        digest = hashlib.sha256()
        for part in self.signed:
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
        return digest.digest()

    def __repr__(self) -> str:
        return (
            f"Verification(scheme={self.scheme!r}, key_id={self.key_id!r}, "
            f"timestamp={self.timestamp!r}, delivery_id={self.delivery_id!r})"
        )


@runtime_checkable
class Verifier(Protocol):
    """The shape of every verifier, ours or a user's own.

    ``verify`` returns a :class:`Verification` or raises a
    :class:`~webhookverify.VerificationError`; it never returns a bool.
    ``sign`` is the sender's side, for tests and the CLI.
    """

    @property
    def required_headers(self) -> tuple[str, ...]: ...

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification: ...

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]: ...


# -- configuration checks ----------------------------------------------------------


def check_tolerance(value: float | None, name: str, owner: str) -> float | None:
    """Validate a tolerance setting: ``None`` (off) or a finite number >= 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigurationError(f"{owner}({name}=...) must be a number of seconds or None")
    if value < 0:
        raise ConfigurationError(f"{owner}({name}=...) must not be negative")
    return float(value)


# -- headers -----------------------------------------------------------------------


def single_header(request: WebhookRequest, name: str) -> str:
    """Return the one value of ``name``.

    Raises:
        MissingHeader: absent. DuplicateHeader: sent more than once.
        MalformedHeader: empty.
    """
    values = request.headers._index.get(name.lower(), ())
    if len(values) != 1:
        if not values:
            raise MissingHeader(f"the {name} header is missing", header=name)
        raise DuplicateHeader(f"the {name} header appears more than once", header=name)
    value = values[0]
    if not value:
        raise MalformedHeader(f"the {name} header is empty", header=name)
    return value


# -- signatures --------------------------------------------------------------------

_URLSAFE_TO_STD = str.maketrans("-_", "+/")


def decode_signature(text: str, encoding: Encoding, header: str) -> bytes:
    """Decode one signature strictly: no whitespace, no stray characters.

    ``hex`` accepts either case, ``hex_lower`` only lower case; ``base64``
    needs canonical padding and zero trailing bits;
    ``base64url`` accepts it with or without padding.

    Raises:
        MalformedSignature: the text is not valid in that encoding.
    """
    try:
        if encoding == "hex":
            return binascii.unhexlify(text)
        if encoding == "hex_lower":
            # what senders such as GitHub emit, compared byte-exact as their SDKs do
            if not text.islower() and text.strip("0123456789"):
                raise ValueError
            return binascii.unhexlify(text)
        if encoding == "base64url":
            if "+" in text or "/" in text:
                raise ValueError
            text = text.translate(_URLSAFE_TO_STD)
            text += "=" * (-len(text) % 4)
        raw = binascii.a2b_base64(text, strict_mode=True)
        # Only the canonical encoding is accepted: unused trailing bits must be
        # zero (RFC 4648 §3.5), so one signature has exactly one spelling.
        if binascii.b2a_base64(raw, newline=False).decode("ascii") != text:
            raise ValueError
        return raw
    except (binascii.Error, ValueError):
        raise MalformedSignature(
            f"the signature in {header} is not valid {encoding}", header=header
        ) from None


def encode_signature(raw: bytes, encoding: Encoding) -> str:
    """Encode a signature the way :func:`decode_signature` reads it."""
    if encoding in ("hex", "hex_lower"):
        return raw.hex()
    text = binascii.b2a_base64(raw, newline=False).decode("ascii")
    if encoding == "base64url":
        return text.replace("+", "-").replace("/", "_").rstrip("=")
    return text


def check_encoding(encoding: str, owner: str) -> Encoding:
    if encoding not in ("hex", "hex_lower", "base64", "base64url"):
        raise ConfigurationError(
            f"{owner}(encoding={encoding!r}) is not supported; use 'hex', 'hex_lower', "
            "'base64' or 'base64url'"
        )
    return encoding  # type: ignore[return-value]


# -- timestamps --------------------------------------------------------------------

# RFC 3339 §5.6 date-time, with the 'T' separator, seconds required, and an
# optional fraction of up to nine digits (Twitch sends nanoseconds).
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


def parse_timestamp(text: str, fmt: TimestampFormat, header: str) -> float:
    """Parse a signed timestamp strictly into unix seconds.

    ``unix`` and ``unix_ms`` take ASCII digits only: no sign, no space, no
    fraction. ``rfc3339`` takes an RFC 3339 date-time with an offset.

    Raises:
        MalformedTimestamp: anything else.
    """
    if fmt == "rfc3339":
        match = _RFC3339.fullmatch(text)
        if match:
            year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
            frac, _z, sign, off_h, off_m = match.groups()[6:]
            try:
                if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
                    raise ValueError
                if hour > 23 or minute > 59 or second > 60:
                    raise ValueError
                if sign is not None and (int(off_h) > 23 or int(off_m) > 59):
                    raise ValueError
            except ValueError:
                pass
            else:
                value = calendar.timegm((year, month, day, hour, minute, min(second, 59)))
                if sign is not None:
                    offset = int(off_h) * 3600 + int(off_m) * 60
                    value += -offset if sign == "+" else offset
                return value + (int(frac) / 10 ** len(frac) if frac else 0.0)
        raise MalformedTimestamp(
            f"the timestamp in {header} is not an RFC 3339 date-time", header=header
        )
    if not (0 < len(text) <= _MAX_TIMESTAMP_DIGITS and text.isascii() and text.isdigit()):
        raise MalformedTimestamp(
            f"the timestamp in {header} is not a whole number of "
            f"{'milliseconds' if fmt == 'unix_ms' else 'seconds'}",
            header=header,
        )
    return int(text) / 1000.0 if fmt == "unix_ms" else float(int(text))


def format_timestamp(now: float, fmt: TimestampFormat) -> str:
    """Render ``now`` the way a sender of this format would."""
    if fmt == "unix_ms":
        return str(int(now * 1000))
    if fmt == "rfc3339":
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(now)))
    return str(int(now))


def check_freshness(
    timestamp: float,
    now: float,
    tolerance: float | None,
    future_tolerance: float | None,
    header: str,
) -> None:
    """Hold a signed timestamp to the tolerance window, in both directions.

    Raises:
        TimestampTooOld: older than ``tolerance`` seconds before ``now``.
        TimestampInFuture: more than ``future_tolerance`` seconds after ``now``.
    """
    if tolerance is not None and timestamp < now - tolerance:
        raise TimestampTooOld(
            f"the timestamp in {header} is older than the tolerance (tolerance=...)", header=header
        )
    if future_tolerance is not None and timestamp > now + future_tolerance:
        raise TimestampInFuture(
            f"the timestamp in {header} is ahead of this clock by more than the tolerance "
            "(future_tolerance=...); check both clocks",
            header=header,
        )


# -- signed messages ---------------------------------------------------------------

_PART_NAMES = frozenset({"id", "timestamp", "method", "url", "body"})
_TEMPLATE_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class MessageBuilder(Protocol):
    """Builds the signed message of a request, as parts to hash in order.

    ``signs`` names the values the message covers among ``id`` and
    ``timestamp``: a verifier only trusts a delivery id or a timestamp that
    the message really signs. ``values`` holds them as received (text).
    """

    @property
    def signs(self) -> frozenset[str]: ...

    def __call__(self, request: WebhookRequest, values: Mapping[str, str]) -> Sequence[bytes]: ...


class MessageTemplate:
    """A signed-message template such as ``"v0:{timestamp}:{body}"``.

    Fields: ``{body}`` (the raw body bytes), ``{timestamp}`` and ``{id}`` (the
    configured headers' text as received), ``{method}``, ``{url}``, and
    ``{header:Name}`` for any other header. ``{{`` and ``}}`` are literal
    braces. The body is never copied: it is hashed as its own part.

    Raises:
        ConfigurationError: an unknown field or an unbalanced brace.
    """

    __slots__ = ("_items", "_only_body", "headers", "signs", "source")

    def __init__(self, source: str) -> None:
        if not isinstance(source, str) or not source:
            raise ConfigurationError("a message template must be a non-empty str")
        items: list[tuple[str, str]] = []  # ("lit", text) | ("part", name) | ("header", name)
        headers: list[str] = []
        pos = 0
        for match in _TEMPLATE_FIELD.finditer(source):
            if match.start() > pos:
                items.append(("lit", source[pos : match.start()]))
            token = match.group(0)
            if token in ("{{", "}}"):
                items.append(("lit", token[0]))
            elif match.group(1) is None:
                raise ConfigurationError(
                    f"template {source!r} has an unbalanced brace; write {{{{ or }}}} for a "
                    "literal one"
                )
            else:
                name = match.group(1)
                if name.startswith("header:") and len(name) > len("header:"):
                    headers.append(name[len("header:") :])
                    items.append(("header", name[len("header:") :]))
                elif name in _PART_NAMES:
                    items.append(("part", name))
                else:
                    raise ConfigurationError(
                        f"template field {{{name}}} is unknown; use {{body}}, {{timestamp}}, "
                        "{id}, {method}, {url} or {header:Name}"
                    )
            pos = match.end()
        if pos < len(source):
            items.append(("lit", source[pos:]))
        self.source = source
        self._items = tuple(items)
        self._only_body = self._items == (("part", "body"),)
        self.headers = tuple(headers)
        self.signs = frozenset(n for k, n in items if k == "part" and n in ("id", "timestamp"))

    def __call__(self, request: WebhookRequest, values: Mapping[str, str]) -> Sequence[bytes]:
        if self._only_body:
            return (request.body,)
        out: list[bytes] = []
        buf: list[bytes] = []
        for kind, name in self._items:
            if kind == "lit":
                buf.append(name.encode("utf-8"))
            elif kind == "header":
                buf.append(single_header(request, name).encode("latin-1"))
            elif name == "body":
                if buf:
                    out.append(b"".join(buf))
                    buf = []
                out.append(request.body)
            elif name == "method":
                buf.append(request.method.encode("ascii", "replace"))
            elif name == "url":
                buf.append(request.url.encode("utf-8"))
            else:
                # Header text is latin-1 by HTTP's definition: these are the bytes sent.
                buf.append(values[name].encode("latin-1"))
        if buf:
            out.append(b"".join(buf))
        return tuple(out)

    def __repr__(self) -> str:
        return f"MessageTemplate({self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MessageTemplate) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)
