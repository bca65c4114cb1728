"""The shape of a verifier whose key is fetched: a sans-IO first half that
reads the request and names the key(s) it needs, then the check once the
keys are in hand.

:meth:`FetchedKeyVerifier.verify` gets the keys with the source's blocking
``key``; :meth:`FetchedKeyVerifier.averify` awaits its ``akey``, so an
async receiver never blocks its event loop on a fetch. Both run the same two
halves, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ..errors import SignatureMismatch
from ..request import WebhookRequest
from ..types import ReplayMode, Verification
from .sources import FetchedKey, KeySource

__all__ = ["FetchedKeyVerifier", "Pending", "check_key_signature"]


class Pending(NamedTuple):
    """A request read up to its keys: the references to look up, and the rest
    of the check, given the keys in the same order."""

    refs: tuple[str, ...]
    finish: Callable[[tuple[FetchedKey, ...]], Verification]


class FetchedKeyVerifier:
    """Base of the fetched-key verifiers: ``verify`` and ``averify`` over
    :meth:`prepare` (which a subclass defines) and a :class:`KeySource`.

    A subclass sets ``source``, ``required_headers``, ``replay_default`` and
    ``replay_window`` and defines ``prepare`` and ``sign``.
    """

    __slots__ = ()

    source: KeySource
    required_headers: tuple[str, ...]
    replay_default: ReplayMode
    replay_window: float | None

    def prepare(self, request: WebhookRequest, now: float) -> Pending:
        """Read ``request`` (no I/O) into the keys it needs and the check left."""
        raise NotImplementedError

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify ``request`` at ``now`` (default ``request.received_at``),
        fetching a key if it is not cached (blocking).

        Raises:
            VerificationError: not proven (401); KeyUnavailable when a key
                could not be fetched (503).
        """
        pending = self.prepare(request, request.received_at if now is None else now)
        return pending.finish(tuple(self.source.key(ref) for ref in pending.refs))

    async def averify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """:meth:`verify` for the event loop: a fetch is awaited, never blocking."""
        pending = self.prepare(request, request.received_at if now is None else now)
        keys = [await self.source.akey(ref) for ref in pending.refs]
        return pending.finish(tuple(keys))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; build a new one")

    def init_fields(self, **values: Any) -> None:
        """Set the fields of a new instance (they are read-only afterwards)."""
        for name, value in values.items():
            object.__setattr__(self, name, value)


def check_key_signature(
    key: FetchedKey,
    algorithm: str,
    signature: bytes,
    message: bytes,
    now: float,
    *,
    unfit: str,
    mismatch: str,
    header: str | None = None,
) -> None:
    """Check that ``signature`` is ``key``'s ``algorithm`` signature of ``message``.

    The check a sender's certificate (fetched from the URL its message names)
    gets: valid at ``now``, of the type the configured ``algorithm`` signs
    with, and verifying the signed text.

    Args:
        key: the fetched key (a certificate's public key and validity).
        algorithm: the configuration's algorithm (``rsa-sha1``, ``rsa-sha256``...).
        signature: the signature, as bytes.
        message: the text it signs.
        now: the time the key must be valid at.
        unfit: the error message for a key not valid at ``now`` or of another type.
        mismatch: the error message for a signature that does not verify.
        header: the header the signature came in, named on a mismatch.

    Raises:
        SignatureMismatch: ``unfit`` (the key is not valid at ``now`` or not
            of the algorithm's type), or ``mismatch``.
    """
    from . import _crypto

    if not key.valid_at(now) or not _crypto.suits(algorithm, key.key):
        raise SignatureMismatch(unfit)
    if not _crypto.verify(algorithm, key.key, signature, message):
        raise SignatureMismatch(mismatch, header=header)
