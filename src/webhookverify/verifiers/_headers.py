"""How a signature header carries its signatures: one, a delimited list, or
``key=value`` entries with a timestamp among them (Stripe, Paddle).

:meth:`SignatureScheme.verify <webhookverify.verifiers._scheme.SignatureScheme.verify>`
reads all three shapes; this module holds the configuration of the third.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigurationError
from ._base import MAX_SIGNATURES

__all__ = ["MAX_ENTRIES", "KeyValueHeader"]

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
            empty or holds ``=``, or an empty ``timestamp_key``.
    """

    signature_key: str = "v1"
    timestamp_key: str | None = "t"
    separator: str = ","

    def __post_init__(self) -> None:
        if (
            not isinstance(self.signature_key, str)
            or not self.signature_key
            or not isinstance(self.separator, str)
            or not self.separator
            or "=" in self.separator
        ):
            raise ConfigurationError(
                "KeyValueHeader needs a signature_key and a separator other than '='"
            )
        if self.timestamp_key is not None and (
            not isinstance(self.timestamp_key, str) or not self.timestamp_key
        ):
            raise ConfigurationError("KeyValueHeader(timestamp_key=...) must be a key or None")

    def render(self, signature: str, timestamp: str | None) -> str:
        """The header value a sender writes for one signature (and its timestamp)."""
        pairs = [] if self.timestamp_key is None else [f"{self.timestamp_key}={timestamp}"]
        pairs.append(f"{self.signature_key}={signature}")
        return self.separator.join(pairs)
