"""What every verifier shares: the result type, the protocol, and the helpers
for configuration checks, headers, signatures and timestamps (signed-message
templates are in :mod:`._template`).

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
from collections.abc import Callable, Sequence
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
    VerificationError,
)
from ..request import WebhookRequest

__all__ = [
    "DEFAULT_TOLERANCE",
    "MAX_SIGNATURES",
    "MAX_TIMESTAMP_DIGITS",
    "ReplayMode",
    "TimestampFormat",
    "Verification",
    "Verifier",
    "check_freshness",
    "check_name",
    "check_tolerance",
    "constant_time_equal",
    "decode_signature",
    "encode_signature",
    "format_timestamp",
    "header_fault",
    "parse_timestamp",
    "replay_window",
    "signature_encoder",
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
MAX_TIMESTAMP_DIGITS = 14

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


# RFC 9110 §5.1: a field name is a token; Headers refuses any other name, so a
# verifier configured with one could never find its header.
_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def check_name(
    value: object, setting: str, owner: str, *, optional: bool = True, field: bool = True
) -> None:
    """Validate a header name (an RFC 9110 token) or, ``field=False``, a non-empty label.

    Raises:
        ConfigurationError: naming ``setting``.
    """
    if value is None and optional:
        return
    what = "a header name" if field else "a non-empty str"
    if not isinstance(value, str) or not value or (field and not _FIELD_NAME.fullmatch(value)):
        raise ConfigurationError(
            f"{owner}({setting}=...) must be {what}" + (" or None" if optional else "")
        )


def replay_window(tolerance: float | None, future_tolerance: float | None) -> float | None:
    """Seconds a replayed delivery could still pass a timestamp check.

    Args:
        tolerance: how old a signed timestamp may be; ``None``: not checked
            (or no timestamp is signed), so a replay never ages out.
        future_tolerance: how far ahead it may be; ``None`` adds nothing (a
            replay was signed in the past).
    """
    if tolerance is None:
        return None
    return tolerance + (future_tolerance or 0.0)


# -- headers -----------------------------------------------------------------------


def single_header(request: WebhookRequest, name: str) -> str:
    """Return the one value of ``name``.

    Raises:
        MissingHeader: absent. DuplicateHeader: sent more than once.
        MalformedHeader: empty.
    """
    values = request.headers._index.get(name.lower(), ())
    if len(values) != 1 or not values[0]:
        raise header_fault(name, values)
    return values[0]


def header_fault(name: str, values: Sequence[str]) -> VerificationError:
    """The error for a header whose values are not exactly one non-empty text.

    For callers that look a header up themselves (by its lower-cased name in
    ``request.headers._index``, as :func:`single_header` does) on a hot path.
    """
    if not values:
        return MissingHeader(f"the {name} header is missing", header=name)
    if len(values) > 1:
        return DuplicateHeader(f"the {name} header appears more than once", header=name)
    return MalformedHeader(f"the {name} header is empty", header=name)


# -- signatures --------------------------------------------------------------------

_URLSAFE_TO_STD = str.maketrans("-_", "+/")
_STD_TO_URLSAFE = str.maketrans({"+": "-", "/": "_", "=": None})


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


def _base64(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).decode("ascii")


def _base64url(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).decode("ascii").translate(_STD_TO_URLSAFE)


_ENCODERS: dict[str, Callable[[bytes], str]] = {
    "hex": bytes.hex,
    "hex_lower": bytes.hex,
    "base64": _base64,
    "base64url": _base64url,
}


def signature_encoder(encoding: Encoding) -> Callable[[bytes], str]:
    """The function that writes a signature in ``encoding``, canonically.

    Canonical: lower-case hex; base64 with its padding; base64url without.
    :func:`decode_signature` reads that text back to the same bytes, so a
    received text *equal* to the canonical text of a digest is a valid
    encoding of that digest: a verifier may compare texts first and decode
    only when they differ (``hex`` after lower-casing the received text, the
    one other spelling it accepts; base64url with padding is decoded).
    """
    return _ENCODERS[encoding]


def encode_signature(raw: bytes, encoding: Encoding) -> str:
    """Encode a signature the way :func:`decode_signature` reads it (canonically)."""
    return _ENCODERS[encoding](raw)


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
                # year 0000 is valid RFC 3339 text, but before datetime.MINYEAR:
                # calendar.timegm cannot count back to it
                if year < 1 or not (
                    1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]
                ):
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
    if not (0 < len(text) <= MAX_TIMESTAMP_DIGITS and text.isascii() and text.isdigit()):
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
