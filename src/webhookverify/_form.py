"""Bounded decoding of ``application/x-www-form-urlencoded`` bodies.

Twilio, Mandrill and Mailgun sign the *decoded* fields of a form, so the
signed message cannot exist before the form is decoded: this runs before any
signature is checked, on whatever an unauthenticated client sends. It
therefore refuses a body with more fields than a sender posts before
splitting it, and decodes percent-escapes with a few passes of the standard
library's C code per field instead of a Python step per escape
(``urllib.parse.unquote`` costs about 300 ns an escape: 90 ms for 1 MiB).

The result is what ``urllib.parse.parse_qsl(text, keep_blank_values=True,
strict_parsing=True, errors="strict")`` returns for the body decoded as
UTF-8 (WHATWG URL §5.1 "application/x-www-form-urlencoded parsing"), except
that a ``%`` not followed by two hex digits, which no sender produces and
``parse_qsl`` keeps as text, is refused here, and so is a raw line break in
a field that has percent-escapes.
"""

from __future__ import annotations

import binascii
from collections.abc import Collection
from typing import Final

from .errors import BodyOverLimit, MalformedBody

__all__ = ["MAX_FORM_FIELDS", "parse_form"]

# Django refuses a form of more than 1,000 fields (DATA_UPLOAD_MAX_NUMBER_FIELDS)
# and Werkzeug reads at most 1,000 parts (max_form_parts); the senders that
# post forms stay far below: Twilio about 40 parameters (with MediaUrl0-9),
# Mandrill one (mandrill_events), a Mailgun route about 20.
MAX_FORM_FIELDS: Final = 1000

# "%" read as "=", for quoted-printable decoding (see _unquote).
_PERCENT_AS_EQUALS: Final = bytes.maketrans(b"%", b"=")


def _unquote(raw: bytes) -> str:
    """``+`` to space, then ``%XX`` to its byte, then UTF-8; a few C passes.

    Quoted-printable decoding (``binascii.a2b_qp``, RFC 2045 §6.7) turns
    ``=XX`` into its byte and leaves any other ``=`` shorter by less than two
    bytes; so with every literal ``=`` written ``=3D`` and every ``%`` read
    as ``=``, it decodes exactly the percent-escapes (RFC 3986 §2.1), and the
    length of its result shows whether every one was an escape. A line break
    would make a soft line break of a ``%`` before it: a field holding both
    is refused (senders escape line breaks too).

    Raises:
        MalformedBody: a ``%`` that is not an escape of two hex digits.
        UnicodeDecodeError: the decoded bytes are not UTF-8.
    """
    data = raw.replace(b"+", b" ")
    if b"%" in data:
        if b"\r" in data or b"\n" in data:
            raise MalformedBody("the form body has a raw line break next to percent-escapes")
        if b"=" in data:
            data = data.replace(b"=", b"=3D").replace(b"%", b"=")
        else:
            data = data.translate(_PERCENT_AS_EQUALS)
        decoded = binascii.a2b_qp(data)
        if len(decoded) != len(data) - 2 * data.count(b"="):
            raise MalformedBody("the form body has a '%' that is not a percent-escape")
        data = decoded
    return data.decode("utf-8")


def parse_form(body: bytes, names: Collection[str] | None = None) -> list[tuple[str, str]]:
    """Decode a form body into its ``(name, value)`` pairs, in order.

    Args:
        body: the raw body.
        names: if given, only the fields of these names are returned (the
            values of the others are checked for nothing and never decoded).

    Returns:
        The pairs, values decoded; ``[]`` for an empty body.

    Raises:
        BodyOverLimit: more than ``MAX_FORM_FIELDS`` fields (counted before
            anything is decoded).
        MalformedBody: not UTF-8 form data (a field without ``=``, an empty
            field, a bad escape, bytes that are not UTF-8).
    """
    if not body:
        return []
    if body.count(b"&") >= MAX_FORM_FIELDS:
        raise BodyOverLimit(
            f"the form body has more than {MAX_FORM_FIELDS} fields (MAX_FORM_FIELDS)",
            limit="MAX_FORM_FIELDS",
        )
    fields = [field.partition(b"=") for field in body.split(b"&")]
    if not all(eq for _, eq, _ in fields):  # parse_qsl(strict_parsing=True): "bad query field"
        raise MalformedBody("the body is not valid UTF-8 form data")
    pairs: list[tuple[str, str]] = []
    try:
        if not body.isascii():
            body.decode("utf-8")  # the text is UTF-8 before any escape is decoded
        for name, _, value in fields:
            text = _unquote(name)
            if names is None or text in names:
                pairs.append((text, _unquote(value)))
    except (UnicodeDecodeError, binascii.Error):
        raise MalformedBody("the body is not valid UTF-8 form data") from None
    return pairs
