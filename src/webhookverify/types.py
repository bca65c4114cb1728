"""The contract between a verifier and the rest of webhookverify.

A verifier is any object with the members of :class:`Verifier`: the built-in
ones (:class:`~webhookverify.HmacVerifier`, the presets) and your own. The
registry and the receiver call ``verify`` and read ``required_headers``;
``replay_default`` and ``replay_window`` are read when present, with the
defaults :data:`DEFAULT_REPLAY_MODE` and :data:`DEFAULT_REPLAY_WINDOW`, so a
verifier without them still works; so are ``handshake`` (see
:mod:`webhookverify.handshake`) and ``read_event_type`` (see
:mod:`webhookverify.routing`), which a preset sets when its sender checks
the endpoint or names its events. ``docs/verifiers.md`` shows how to write
one, and :class:`webhookverify.testing.VerifierContract` tests it.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Literal, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .request import WebhookRequest

__all__ = [
    "DEFAULT_REPLAY_MODE",
    "DEFAULT_REPLAY_WINDOW",
    "ReplayMode",
    "Verification",
    "Verifier",
]

ReplayMode = Literal["id", "content", "off"]
"""How the replay guard keys a delivery: its signed ``id``, a hash of its
signed ``content``, or ``off`` (no guard)."""

# What a verifier without ``replay_default`` gets: the content hash, which
# refuses a byte-identical replay whatever the scheme signs.
DEFAULT_REPLAY_MODE: ReplayMode = "content"
# What a verifier without ``replay_window`` gets: no signed timestamp, so a
# replay never ages out and is remembered for the default replay TTL.
DEFAULT_REPLAY_WINDOW: float | None = None


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
    :class:`~webhookverify.VerificationError`; it never returns a bool and
    never raises anything else for a request. ``sign`` is the sender's side,
    for tests and the CLI.

    ``replay_default`` and ``replay_window`` are optional at run time: code
    that reads them uses :data:`DEFAULT_REPLAY_MODE` and
    :data:`DEFAULT_REPLAY_WINDOW` when a verifier has no such attribute.
    """

    @property
    def required_headers(self) -> tuple[str, ...]:
        """Headers every request this verifier accepts carries (any case).

        The registry tries a verifier only on requests that carry them all.
        """

    @property
    def replay_default(self) -> ReplayMode:
        """The replay mode a handler uses unless it sets one (default ``"content"``)."""

    @property
    def replay_window(self) -> float | None:
        """Seconds a replay could still pass the timestamp check; ``None`` (the
        default) when no timestamp is signed or its age is not checked."""

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify ``request`` at ``now`` (default: ``request.received_at``).

        Raises:
            VerificationError: the request is not proven; never a bare bool.
        """

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """The headers a sender adds to sign ``body`` at ``now``."""
