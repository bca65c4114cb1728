"""How :meth:`SignatureScheme.verify <._scheme.SignatureScheme.verify>` reads a
request, decided once per configuration.

``verify`` is the hot path of every HMAC and public-key scheme. Everything a
configuration decides (which header shape, where the timestamp comes from,
how the signed message is laid out, what checks the candidates) is settled
at construction into a :data:`Plan`, a plain tuple that ``verify`` unpacks
into local names on each call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

from ._base import MAX_TIMESTAMP_DIGITS, TimestampFormat, Verification
from ._headers import KeyValueHeader
from ._template import MessageBuilder, MessageTemplate

__all__ = ["Matcher", "Plan", "make_plan"]


class Matcher(Protocol):
    """Checks candidate signatures against a signed message with the keys valid at ``now``.

    Called as ``match(now, candidates, parts, timestamp, delivery_id)``:
    ``candidates`` are the signatures as received (text, prefix included),
    ``parts`` the signed message. Returns the :class:`Verification` (with
    ``timestamp`` and ``delivery_id`` as given) or raises
    UnsupportedSignatureVersion, MalformedSignature, NoValidKey or
    SignatureMismatch.
    """

    def __call__(
        self,
        now: float,
        candidates: Sequence[str],
        parts: tuple[bytes, ...],
        timestamp: float | None,
        delivery_id: str | None,
    ) -> Verification: ...


# How SignatureScheme.verify reads a request, decided at construction: a plain
# tuple, because verify unpacks it into local names on every call and the
# interpreter unpacks an exact tuple fastest. Each choice the configuration
# made is then a test of a local, each header one lookup. See make_plan().
Plan = tuple[
    str,  # header_key: the signature header, lower-cased as Headers indexes it
    str | None,  # separator: a KeyValueHeader's (key=value entries); None: not one
    str,  # signature_key: its signatures' key
    str | None,  # timestamp_key: its timestamp's key
    str | None,  # delimiter: else the header is a list split by this; None: one signature
    str | None,  # stamp_from: the signed timestamp's header, for errors; None: unsigned
    str | None,  # stamp_key: that header lower-cased; None: a KeyValueHeader entry
    int,  # stamp_digits: unix seconds of at most this many digits are read inline; 0: none
    float,  # past: tolerance, inf when off
    float,  # future: future_tolerance, inf when off
    str | None,  # id_key: the delivery id header, lower-cased
    bool,  # signs_id: the message signs the id, so it is the delivery id
    str | None,  # lead: the message is lead + {timestamp} + trail + {body}, the commonest
    str,  # trail: shape, its literals as latin-1 text; lead None: another shape
    str | None,  # head: else MessageTemplate._head ("": the body alone); None: the builder
    slice,  # head_values: MessageTemplate._head_values
    Matcher,  # match: checks the candidates (the subclass's, see _matcher)
]


def make_plan(
    *,
    header: str,
    header_format: KeyValueHeader | None,
    delimiter: str | None,
    timestamp_source: str | None,
    timestamp_header: str | None,
    timestamp_format: TimestampFormat,
    tolerance: float | None,
    future_tolerance: float | None,
    id_header: str | None,
    message: MessageBuilder,
    match: Matcher,
) -> Plan:
    """The plan of a scheme configured with these settings (already checked).

    Args:
        header / header_format / delimiter: where the signatures are and how
            the header lists them.
        timestamp_source: where the signed timestamp is read (its own header,
            or the signature header's ``key=value`` entry); ``None``: none.
        timestamp_header / timestamp_format / tolerance / future_tolerance:
            how it is read and held (``future_tolerance`` already defaulted).
        id_header: where the signed delivery id is read; ``None``: none.
        message: the signed message; a :class:`MessageTemplate` of the shape
            ``<head>{body}`` is built inline, anything else by calling it.
        match: what checks the candidates against the message.
    """
    lead: str | None = None
    trail = ""
    head: str | None = None
    head_values = slice(0, 0)
    if isinstance(message, MessageTemplate) and message._head is not None:
        head, head_values = message._head, message._head_values
        if head_values == slice(0, 1) and message._head_literals is not None:
            # the timestamp alone: two concatenations are cheaper than a format
            lead, trail = message._head_literals
    return (
        header.lower(),
        None if header_format is None else header_format.separator,
        "" if header_format is None else header_format.signature_key,
        None if header_format is None else header_format.timestamp_key,
        delimiter,
        timestamp_source,
        None if timestamp_header is None else timestamp_header.lower(),
        MAX_TIMESTAMP_DIGITS if timestamp_format == "unix" else 0,
        math.inf if tolerance is None else tolerance,
        math.inf if future_tolerance is None else future_tolerance,
        None if id_header is None else id_header.lower(),
        "id" in message.signs,
        lead,
        trail,
        head,
        head_values,
        match,
    )
