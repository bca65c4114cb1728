"""What every verifier shares: the helpers for configuration checks, headers,
signatures and timestamps. The result type and the protocol are public in
:mod:`webhookverify.types` and re-exported here for the presets.

Constant-time comparison lives in :func:`constant_time_equal` and nowhere else.
"""

from __future__ import annotations

import binascii
import datetime
import hmac
import math
import re
import time
from typing import Any, Literal

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
from ..types import ReplayMode, Verification, Verifier

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
    "check_timestamp_width",
    "check_tolerance",
    "constant_time_equal",
    "decode_signature",
    "encode_signature",
    "format_timestamp",
    "parse_timestamp",
    "replay_window",
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


# Compare two byte strings (or two ASCII texts) in time that does not depend on
# where they differ. Every secret comparison goes through this name; it is the
# stdlib function itself, not a wrapper, so a comparison costs no Python call.
constant_time_equal = hmac.compare_digest


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
    try:
        (value,) = request.headers.by_name[name.lower()]
    except KeyError:
        raise MissingHeader(f"the {name} header is missing", header=name) from None
    except ValueError:  # more than one (Headers files a name only with a value)
        raise DuplicateHeader(f"the {name} header appears more than once", header=name) from None
    if not value:
        raise MalformedHeader(f"the {name} header is empty", header=name)
    return value


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
        if encoding in ("hex", "hex_lower"):
            # hex_lower: what senders such as GitHub emit, compared byte-exact as their SDKs do
            if encoding == "hex_lower" and text != text.lower():
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
    """Encode a signature canonically, the way :func:`decode_signature` reads it:
    lower-case hex; base64 with its padding; base64url without."""
    if encoding in ("hex", "hex_lower"):
        return raw.hex()
    text = binascii.b2a_base64(raw, newline=False).decode("ascii")
    return text.translate(_STD_TO_URLSAFE) if encoding == "base64url" else text


# -- timestamps --------------------------------------------------------------------

# RFC 3339 §5.6 date-time, with the 'T' separator, seconds required, and an
# optional fraction of up to nine digits (Twitch sends nanoseconds).
# Day 0 of unix time, as datetime.date counts days (proleptic Gregorian).
_EPOCH_DAY = datetime.date(1970, 1, 1).toordinal()
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


def _rfc3339_seconds(groups: tuple[Any, ...]) -> float | None:
    """Unix seconds of the groups of an ``_RFC3339`` match, or ``None`` when a
    field is out of range (a 31st of April, hour 24, offset +24:00)."""
    year, month, day, hour, minute, second = map(int, groups[:6])
    frac, _z, sign, off_h, off_m = groups[6:]
    if hour > 23 or minute > 59 or second > 60:
        return None
    offset = 0
    if sign is not None:
        if int(off_h) > 23 or int(off_m) > 59:
            return None
        offset = int(off_h) * 3600 + int(off_m) * 60
    try:
        # date() holds month and day to the calendar, and refuses year 0000
        # (valid RFC 3339 text, but before datetime.MINYEAR)
        days = datetime.date(year, month, day).toordinal() - _EPOCH_DAY
    except ValueError:
        return None
    value = days * 86400 + hour * 3600 + minute * 60 + min(second, 59)
    value += -offset if sign == "+" else offset
    return value + (int(frac) / 10 ** len(frac) if frac else 0.0)


def parse_timestamp(text: str, fmt: TimestampFormat, header: str) -> float:
    """Parse a signed timestamp strictly into unix seconds.

    ``unix`` and ``unix_ms`` take ASCII digits only: no sign, no space, no
    fraction. ``rfc3339`` takes an RFC 3339 date-time with an offset.

    Raises:
        MalformedTimestamp: anything else.
    """
    if fmt == "rfc3339":
        match = _RFC3339.fullmatch(text)
        seconds = None if match is None else _rfc3339_seconds(match.groups())
        if seconds is not None:
            return seconds
        raise MalformedTimestamp(
            f"the timestamp in {header} is not an RFC 3339 date-time", header=header
        )
    if not (0 < len(text) <= MAX_TIMESTAMP_DIGITS and text.isascii() and text.isdigit()):
        raise MalformedTimestamp(
            f"the timestamp in {header} is not a whole number of "
            f"{'milliseconds' if fmt == 'unix_ms' else 'seconds'}",
            header=header,
        )
    # float() of at most 14 ASCII digits is exact (below 2**53), and cheaper than int()
    return float(text) / 1000.0 if fmt == "unix_ms" else float(text)


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
    # written so that a nan (a ``now`` no clock gives) fails both tests: refused
    if tolerance is not None and not timestamp >= now - tolerance:
        raise TimestampTooOld(
            f"the timestamp in {header} is older than the tolerance (tolerance=...)",
            header=header,
            timestamp=timestamp,
            now=now,
            tolerance=tolerance,
        )
    if future_tolerance is not None and not timestamp <= now + future_tolerance:
        raise TimestampInFuture(
            f"the timestamp in {header} is ahead of this clock by more than the tolerance "
            "(future_tolerance=...); check both clocks",
            header=header,
            timestamp=timestamp,
            now=now,
            tolerance=future_tolerance,
        )


def check_timestamp_width(text: str, now: float, fmt: TimestampFormat, header: str) -> None:
    """Hold a unix timestamp that runs into the next signed part to this clock's width.

    In ``{timestamp}{id}`` or ``{timestamp}{body}`` nothing but the number of
    digits marks where the timestamp ends: with a wide window (or none),
    digits moved between it and its neighbour keep the signature and change
    both, the neighbour perhaps being the replay key. A sender writes the
    time it signs, so its width is this clock's (ten digits of seconds from
    2001 to 2286). RFC 3339 text marks its own end and is not checked.

    Raises:
        MalformedTimestamp: ``text`` is not as many digits as ``now`` in ``fmt``.
    """
    if fmt == "rfc3339":
        return
    width = len(format_timestamp(now, fmt))
    if len(text) != width:
        raise MalformedTimestamp(
            f"the timestamp in {header} has {len(text)} digits, not the {width} of this "
            "clock's: nothing else marks where it ends in the signed message",
            header=header,
        )
