"""Replay protection: the store protocol, replay keys, and the memory store.

A delivery key is *reserved* before the delivery is dispatched, *committed*
when every listener succeeded, and *released* when one failed, so that:

- a replay of a processed delivery finds ``done`` and is acknowledged, not
  dispatched again;
- a concurrent copy finds ``in_flight`` and is told to retry later (409);
- the sender's retry after our failure finds nothing and is processed;
- a worker that crashed mid-delivery blocks retries only until its lease ends.

Keys come from signed material only (see :func:`replay_key`).
"""

from __future__ import annotations

import enum
import functools
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .errors import ConfigurationError, ReplayStoreUnavailable
from .verifiers._base import ReplayMode, Verification

if TYPE_CHECKING:
    from .redis_store import RedisReplayStore

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_MAX_KEYS",
    "NO_TIMESTAMP_TTL",
    "AsyncReplayStore",
    "MemoryReplayStore",
    "RedisReplayStore",
    "ReplayStore",
    "ReserveResult",
    "replay_key",
]

logger = logging.getLogger("webhookverify")

# An in-flight reservation expires after this many seconds, so a worker that
# died mid-delivery blocks the sender's retries for a minute at most. Senders
# wait longer than that before their first retry (GitHub does not retry by
# itself; Stripe waits about an hour, Svix five seconds then minutes).
DEFAULT_LEASE = 60.0
# Schemes that sign no timestamp can be replayed at any time; remember their
# deliveries for a day, longer than any sender's documented retry schedule for
# a single attempt and short enough to bound the store.
NO_TIMESTAMP_TTL = 24 * 3600.0
# The memory store's bound: at ~200 bytes a key, 100k keys is ~20 MB.
DEFAULT_MAX_KEYS = 100_000


class ReserveResult(enum.Enum):
    """What :meth:`ReplayStore.reserve` found."""

    NEW = "new"
    """Nobody has this key: it is now reserved for the caller (in flight)."""
    IN_FLIGHT = "in_flight"
    """Another worker holds the key and has not finished."""
    DONE = "done"
    """The delivery was processed: acknowledge, do not dispatch again."""


@runtime_checkable
class ReplayStore(Protocol):
    """Where delivery keys live. Implementations must be atomic per key.

    ``reserve`` returns :attr:`ReserveResult.NEW` to exactly one caller for a
    key that is neither in flight nor done. A reserved key expires after
    ``lease`` seconds unless committed; a committed key expires ``ttl``
    seconds after the commit. Any method may raise
    :class:`~webhookverify.ReplayStoreUnavailable`.
    """

    def reserve(self, key: str, ttl: float, lease: float) -> ReserveResult: ...

    def commit(self, key: str) -> None: ...

    def release(self, key: str) -> None: ...


@runtime_checkable
class AsyncReplayStore(Protocol):
    """The async face of a replay store (used by ``Receiver.areceive``)."""

    async def areserve(self, key: str, ttl: float, lease: float) -> ReserveResult: ...

    async def acommit(self, key: str) -> None: ...

    async def arelease(self, key: str) -> None: ...


@functools.lru_cache(maxsize=1024)
def _namespace(handler: str) -> str:
    # handler names may hold any character; the key holds a fixed-size tag
    return hashlib.sha256(handler.encode("utf-8")).hexdigest()[:16]


def replay_key(handler: str, verification: Verification, mode: ReplayMode) -> str | None:
    """The replay key of a verified delivery, namespaced by handler.

    ``id`` uses the signed delivery id (falling back to the signed content
    when the scheme signed none); ``content`` hashes the signed message;
    ``off`` gives ``None``. Never reads an unsigned header.
    """
    if mode == "off":
        return None
    name = _namespace(handler)
    if mode == "id" and verification.delivery_id is not None:
        ident = hashlib.sha256(verification.delivery_id.encode("utf-8")).hexdigest()
        return f"webhookverify:{name}:id:{ident}"
    if not verification.signed:
        return None
    return f"webhookverify:{name}:content:{verification.content_digest().hex()}"


class MemoryReplayStore:
    """A bounded, thread-safe replay store for one process.

    Args:
        max_keys: the most keys held at once. When full, the oldest *done*
            keys are dropped first (with a warning, since a replay of them
            would be dispatched again); an in-flight key is never dropped. If
            every slot is in flight, ``reserve`` raises
            :class:`ReplayStoreUnavailable` (the receiver answers 503).
        clock: a monotonic clock, injectable for tests.

    It also offers the async methods, which do not block: every operation is
    a dictionary update under a lock.
    """

    def __init__(
        self, max_keys: int = DEFAULT_MAX_KEYS, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 1:
            raise ConfigurationError("MemoryReplayStore(max_keys=...) must be a positive int")
        self.max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        # done: key -> expiry, in commit order (oldest first)
        self._done: OrderedDict[str, float] = OrderedDict()
        # in flight: key -> (lease expiry, ttl to keep it for once committed)
        self._in_flight: dict[str, tuple[float, float]] = {}
        self._warned_at: float | None = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._done) + len(self._in_flight)

    def _expire(self, now: float) -> None:
        while self._done:
            key, expires = next(iter(self._done.items()))
            if expires > now:
                break
            del self._done[key]

    def reserve(self, key: str, ttl: float, lease: float) -> ReserveResult:
        now = self._clock()
        with self._lock:
            expires = self._done.get(key)
            if expires is not None:
                if expires > now:
                    return ReserveResult.DONE
                del self._done[key]
            held = self._in_flight.get(key)
            if held is not None:
                if held[0] > now:
                    return ReserveResult.IN_FLIGHT
                del self._in_flight[key]
            if len(self._done) + len(self._in_flight) >= self.max_keys:
                self._make_room(now)
            self._in_flight[key] = (now + lease, ttl)
            return ReserveResult.NEW

    def _make_room(self, now: float) -> None:
        self._expire(now)
        for key in [k for k, (until, _) in self._in_flight.items() if until <= now]:
            del self._in_flight[key]
        dropped = 0
        while self._done and len(self._done) + len(self._in_flight) >= self.max_keys:
            self._done.popitem(last=False)
            dropped += 1
        if len(self._done) + len(self._in_flight) >= self.max_keys:
            raise ReplayStoreUnavailable(
                "every slot of the memory replay store is in flight (raise max_keys=...)"
            )
        if dropped and (self._warned_at is None or now - self._warned_at > 60):
            self._warned_at = now
            logger.warning(
                "memory replay store is full: dropped the oldest processed delivery keys; "
                "a replay of those would be dispatched again (raise max_keys= or use Redis)",
                extra={"webhookverify": {"dropped": dropped, "max_keys": self.max_keys}},
            )

    def commit(self, key: str) -> None:
        now = self._clock()
        with self._lock:
            held = self._in_flight.pop(key, None)
            ttl = held[1] if held is not None else NO_TIMESTAMP_TTL
            self._done.pop(key, None)
            # Done keys stay in commit order. With one ttl per store that is
            # expiry order too; with several, a key that expired behind a
            # younger one lingers until it is looked up or room is needed,
            # and both of those check its expiry.
            self._done[key] = now + ttl

    def release(self, key: str) -> None:
        with self._lock:
            self._in_flight.pop(key, None)

    async def areserve(self, key: str, ttl: float, lease: float) -> ReserveResult:
        return self.reserve(key, ttl, lease)

    async def acommit(self, key: str) -> None:
        self.commit(key)

    async def arelease(self, key: str) -> None:
        self.release(key)


def __getattr__(name: str) -> Any:
    # RedisReplayStore lives in its own module so that importing this one
    # never imports redis.
    if name == "RedisReplayStore":
        from .redis_store import RedisReplayStore

        return RedisReplayStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
