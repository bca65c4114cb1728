"""Request bodies for the adapters: the announced length, and bounded buffering.

Sans-IO: the adapters read from their server and hand the bytes here; a body
that breaks a limit or disagrees with its Content-Length raises
:class:`~webhookverify._replies.Refused` with the reply to send.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._replies import BAD_REQUEST, TOO_LARGE, Refused

__all__ = ["READ_CHUNK_SIZE", "BodyBuffer", "parse_content_length", "whole_body"]

# Bytes asked of a WSGI input per read: one socket buffer's worth, so a read
# without a Content-Length never holds more than this beyond the limit.
READ_CHUNK_SIZE = 64 * 1024
# A Content-Length of more than 18 significant digits (an exabyte) is over any
# limit; it is refused as too large without building the number (Python
# refuses int() on strings over 4300 digits).
_MAX_LENGTH_DIGITS = 18


def parse_content_length(values: Sequence[str], limit: int) -> int | None:
    """The body length a request announces, checked against ``limit``.

    ``values`` are the Content-Length field values as received (several when
    the header was repeated or the server folded repeats with commas). RFC 9110
    §8.6: the value is ``1*DIGIT``; a list of identical values may be taken as
    one, differing values make the request invalid.

    Returns:
        the length, or ``None`` when no value was sent (or the value is empty,
        which CGI and PEP 3333 use for "absent").

    Raises:
        Refused: 400 for an invalid or ambiguous value; 413 over ``limit``.
    """
    value = values[0] if len(values) == 1 else ""
    if value.isascii() and value.isdigit() and len(value) <= _MAX_LENGTH_DIGITS:
        length = int(value)  # one plain number: the usual case
        if length > limit:
            raise Refused(TOO_LARGE, "body_too_large")
        return length
    found: str | None = None
    for value in values:
        if not value.strip(" \t") and len(values) == 1:
            return None
        for item in value.split(","):
            digits = item.strip(" \t")
            number = digits.lstrip("0") or "0"
            # not 1*DIGIT, or a number other than the one before it
            if not (digits.isascii() and digits.isdigit()) or found not in (None, number):
                raise Refused(BAD_REQUEST, "invalid_content_length")
            found = number
    if found is None:
        return None
    if len(found) > _MAX_LENGTH_DIGITS or int(found) > limit:
        raise Refused(TOO_LARGE, "body_too_large")
    return int(found)


def whole_body(body: bytes, expected: int | None, limit: int) -> bytes:
    """Check a body that arrived in one piece, as :class:`BodyBuffer` would.

    Raises:
        Refused: 413 past the limit; 400 when it differs from the Content-Length.
    """
    if len(body) > limit:
        raise Refused(TOO_LARGE, "body_too_large")
    if expected is not None and len(body) != expected:
        reason = "truncated_body" if len(body) < expected else "body_longer_than_content_length"
        raise Refused(BAD_REQUEST, reason)
    return body


class BodyBuffer:
    """Collects body chunks and refuses the request as soon as it passes the limit.

    Args:
        limit: the most bytes accepted.
        expected: the announced Content-Length, or ``None``.
    """

    __slots__ = ("chunks", "expected", "limit", "size")

    def __init__(self, limit: int, expected: int | None) -> None:
        self.limit = limit
        self.expected = expected
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> None:
        """Append ``chunk``.

        Raises:
            Refused: 413 past the limit; 400 past the announced length.
        """
        self.size += len(chunk)
        if self.size > self.limit:
            raise Refused(TOO_LARGE, "body_too_large")
        if self.expected is not None and self.size > self.expected:
            raise Refused(BAD_REQUEST, "body_longer_than_content_length")
        if chunk:
            self.chunks.append(bytes(chunk))

    def finish(self) -> bytes:
        """The whole body.

        Raises:
            Refused: 400 when fewer bytes came than the Content-Length announced
                (the client went away mid-body): such a body is never dispatched.
        """
        return whole_body(b"".join(self.chunks), self.expected, self.limit)
