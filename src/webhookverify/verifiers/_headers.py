"""How a signature header carries its signatures: one, a delimited list, or
``key=value`` entries with a timestamp among them (Stripe, Paddle).

:meth:`SignatureScheme.verify <webhookverify.verifiers._scheme.SignatureScheme.verify>`
reads all three shapes with :func:`split_list` and :meth:`KeyValueHeader.parse`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigurationError, MalformedHeader, MissingHeader
from ._base import MAX_SIGNATURES, check_name

__all__ = ["MAX_ENTRIES", "KeyValueHeader", "check_count", "split_list"]

# A key=value header holds the signatures, one timestamp and, at Stripe, a
# legacy v0 entry or two; a handful more than MAX_SIGNATURES is generous, and
# a header with more entries is refused before any of them is looked at.
MAX_ENTRIES = MAX_SIGNATURES + 4


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyValueHeader:
    """A signature header made of ``key=value`` pairs, as Stripe and Paddle send.

    Stripe: ``t=1492774577,v1=5257a8...,v1=...`` is
    ``KeyValueHeader(signature_key="v1", timestamp_key="t", separator=",")``;
    Paddle: ``ts=1671552777;h1=eb4d...`` is
    ``KeyValueHeader(signature_key="h1", timestamp_key="ts", separator=";")``.

    A verifier splits the header at ``separator``, strips each entry of
    surrounding spaces and splits it at its first ``=``. The values of
    ``signature_key`` entries are the signatures; exactly one
    ``timestamp_key`` entry is required when ``timestamp_key`` is set. Entries
    with other keys (Stripe's ``v0``, a future ``v2``) are ignored; an entry
    without ``=``, a second timestamp, more than :data:`MAX_ENTRIES` entries
    or more than ``MAX_SIGNATURES`` signatures is a malformed header.

    Raises:
        ConfigurationError: no ``signature_key``, a ``separator`` that is
            empty or holds ``=``, or an empty ``timestamp_key``, naming it.
    """

    signature_key: str = "v1"
    timestamp_key: str | None = "t"
    separator: str = ","

    def __post_init__(self) -> None:
        owner = "KeyValueHeader"
        check_name(self.signature_key, "signature_key", owner, optional=False, field=False)
        check_name(self.timestamp_key, "timestamp_key", owner, field=False)
        check_name(self.separator, "separator", owner, optional=False, field=False)
        if "=" in self.separator:
            raise ConfigurationError("KeyValueHeader(separator=...) must not hold '='")

    def parse(self, value: str, header: str) -> tuple[list[str], str | None]:
        """The signatures and the timestamp in one value of ``header``.

        Raises:
            MalformedHeader: an entry without ``=``, a second timestamp, or
                too many entries or signatures.
            MissingHeader: no timestamp entry although ``timestamp_key`` is set.
        """
        entries = value.split(self.separator)
        if len(entries) > MAX_ENTRIES:
            raise MalformedHeader(f"the {header} header has too many entries", header=header)
        signatures: list[str] = []
        stamp: str | None = None
        for entry in entries:
            key, eq, text = entry.strip().partition("=")
            if not eq:
                raise MalformedHeader(
                    f"the {header} header has an entry without '='", header=header
                )
            if key == self.signature_key:
                signatures.append(text)
            elif key == self.timestamp_key:
                if stamp is not None:
                    raise MalformedHeader(
                        f"the {header} header has more than one timestamp", header=header
                    )
                stamp = text
        if stamp is None and self.timestamp_key is not None:
            raise MissingHeader(f"the {header} header has no timestamp entry", header=header)
        return check_count(signatures, header), stamp

    def render(self, signature: str, timestamp: str | None) -> str:
        """The header value a sender writes for one signature (and its timestamp)."""
        pairs = [] if self.timestamp_key is None else [f"{self.timestamp_key}={timestamp}"]
        pairs.append(f"{self.signature_key}={signature}")
        return self.separator.join(pairs)


def split_list(value: str, delimiter: str, header: str) -> list[str]:
    """The signatures of a header that lists them separated by ``delimiter``.

    Raises:
        MalformedHeader: more than ``MAX_SIGNATURES`` of them.
    """
    if delimiter not in value:
        return [value.strip()]  # the common case, one signature: no split, no map
    return check_count(list(map(str.strip, value.split(delimiter))), header)


def check_count(signatures: list[str], header: str) -> list[str]:
    """``signatures``, if there are at most ``MAX_SIGNATURES`` of them.

    Raises:
        MalformedHeader: more, refused before any of them is decoded or hashed.
    """
    if len(signatures) > MAX_SIGNATURES:
        raise MalformedHeader(f"the {header} header has too many signatures", header=header)
    return signatures
