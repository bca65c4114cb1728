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
import itertools
import logging
import math
import threading
import time
import types
from collections import OrderedDict
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from .errors import ConfigurationError, ReplayStoreUnavailable
from .verifiers._base import ReplayMode, Verification

if TYPE_CHECKING:
    from .redis_store import RedisReplayStore

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_MAX_KEYS",
    "ID_TTL",
    "MAX_EXPIRY",
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
# A signed delivery id is not bounded by the timestamp window: senders sign
# each retry again with a new timestamp and the same id, for up to three days
# (Stripe and Paddle in live mode; Svix about 28 hours). An id key is
# remembered that long, so a late retry of a processed delivery is still
# recognised.
ID_TTL = 3 * 24 * 3600.0
# The memory store's bound: at ~200 bytes a key, 100k keys is ~20 MB.
DEFAULT_MAX_KEYS = 100_000
# No sender retries a delivery for years, and Redis refuses expiries that
# overflow its clock: a ttl or lease above ten years is a mistake.
MAX_EXPIRY = 10 * 365 * 24 * 3600.0


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
    :class:`~webhookverify.ReplayStoreUnavailable`. The receiver calls
    ``commit`` or ``release`` again when it raised (a few times, within the
    request), so both must be idempotent.
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


# -- which reservations the running code holds -------------------------------------

# (store id, key) -> (token, ttl) of the reservations the current code path made
# and has not settled. A contextvar follows that path: the same thread for sync
# code, the same task (and the tasks it starts) under asyncio. A worker whose
# lease ran out, and whose key another worker reserved since, thus cannot
# commit or release that newer reservation.
_HELD: ContextVar[Mapping[tuple[int, str], tuple[str, float]]] = ContextVar(
    "webhookverify_reservations", default=types.MappingProxyType({})
)
# Reservations one code path holds at once. A request holds one; more means
# commit/release was skipped, and the oldest are forgotten (their keys still
# expire after the lease).
_MAX_HELD = 1024
_store_ids = itertools.count()


def new_store_id() -> int:
    """A process-unique id for a store, to key its reservations in the context."""
    return next(_store_ids)


def hold(store: int, key: str, token: str, ttl: float) -> None:
    """Remember that the running code holds ``key`` in ``store`` under ``token``."""
    held = dict(_HELD.get())
    held.pop((store, key), None)  # a newer reservation goes last
    held[(store, key)] = (token, ttl)
    for old in list(held)[: len(held) - _MAX_HELD]:
        del held[old]
    _HELD.set(held)


def held_by_me(store: int, key: str) -> tuple[str, float] | None:
    """The ``(token, ttl)`` the running code holds ``key`` under, if any."""
    return _HELD.get().get((store, key))


def let_go(store: int, key: str) -> None:
    """Forget the running code's reservation of ``key`` (it was settled)."""
    held = _HELD.get()
    if (store, key) in held:
        _HELD.set({k: v for k, v in held.items() if k != (store, key)})


def warn_lost_lease(key: str, action: str) -> None:
    logger.warning(
        "a delivery key's lease ended before its %s and another worker has reserved it "
        "since; that reservation was left alone (raise the receiver's lease= above the "
        "longest a delivery takes)",
        action,
        extra={"webhookverify": {"key": key, "action": action}},
    )


def check_expiry(seconds: float, name: str, owner: str = "MemoryReplayStore") -> float:
    """Validate a ttl or lease: a finite number of seconds above zero.

    Raises:
        ConfigurationError: anything else (a NaN lease would make every
            reservation expire at once and switch replay protection off).
    """
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not math.isfinite(seconds)
        or not 0 < seconds <= MAX_EXPIRY
    ):
        raise ConfigurationError(
            f"{owner}.reserve({name}=...) must be a number of seconds above 0 and at most "
            f"{MAX_EXPIRY:.0f}"
        )
    return float(seconds)


class MemoryReplayStore:
    """A bounded, thread-safe replay store for one process.

    Args:
        max_keys: the most keys held at once. When full, the oldest *done*
            keys are dropped first (with a warning, since a replay of them
            would be dispatched again); an in-flight key is never dropped. If
            every slot is in flight, ``reserve`` raises
            :class:`ReplayStoreUnavailable` (the receiver answers 503).
        clock: a monotonic clock, injectable for tests.

    Ownership works as in :class:`RedisReplayStore`: a reservation carries a
    token that the reserving code path keeps (see :func:`hold`), so a worker
    whose lease ran out cannot commit or release another worker's newer
    reservation of the same key. It also offers the async methods, which do
    not block: every operation is a dictionary update under a lock.
    """

    def __init__(
        self, max_keys: int = DEFAULT_MAX_KEYS, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 1:
            raise ConfigurationError("MemoryReplayStore(max_keys=...) must be a positive int")
        self.max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._id = new_store_id()
        self._tokens = itertools.count()
        # done: key -> expiry, in commit order (oldest first)
        self._done: OrderedDict[str, float] = OrderedDict()
        # in flight: key -> (lease expiry, ttl once committed, token), in
        # reservation order, which is lease order when every lease is the same
        self._in_flight: OrderedDict[str, tuple[float, float, str]] = OrderedDict()
        self._warned_at: float | None = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._done) + len(self._in_flight)

    def reserve(self, key: str, ttl: float, lease: float) -> ReserveResult:
        ttl = check_expiry(ttl, "ttl")
        lease = check_expiry(lease, "lease")
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
            token = f"{self._id}:{next(self._tokens)}"
            self._in_flight[key] = (now + lease, ttl, token)
        hold(self._id, key, token, ttl)
        return ReserveResult.NEW

    def _make_room(self, now: float) -> None:
        _drop_expired(self._done, now, lambda expires: expires)
        _drop_expired(self._in_flight, now, lambda entry: entry[0])
        if len(self._done) + len(self._in_flight) >= self.max_keys:
            # leases of different lengths: an expired one may sit behind a live one
            for key in [k for k, entry in self._in_flight.items() if entry[0] <= now]:
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

    def _mine(self, key: str, action: str) -> tuple[tuple[str, float] | None, bool]:
        """Whose reservation is ``key``: ``(what I hold, may I act)``; under the lock."""
        mine = held_by_me(self._id, key)
        current = self._in_flight.get(key)
        if mine is not None and current is not None and current[2] != mine[0]:
            warn_lost_lease(key, action)
            return mine, False
        return mine, True

    def commit(self, key: str) -> None:
        now = self._clock()
        with self._lock:
            mine, allowed = self._mine(key, "commit")
            if not allowed:
                return
            current = self._in_flight.pop(key, None)
            if current is not None:
                ttl = current[1]
            elif key in self._done:
                let_go(self._id, key)
                return  # already done: a repeated commit changes nothing
            else:
                # the lease ran out and nobody reserved it since: the delivery
                # was processed, so remember it as done
                ttl = mine[1] if mine is not None else NO_TIMESTAMP_TTL
            # Done keys stay in commit order. With one ttl per store that is
            # expiry order too; with several, a key that expired behind a
            # younger one lingers until it is looked up or room is needed,
            # and both of those check its expiry.
            self._done[key] = now + ttl
        let_go(self._id, key)

    def release(self, key: str) -> None:
        with self._lock:
            _, allowed = self._mine(key, "release")
            if allowed:
                self._in_flight.pop(key, None)
        if allowed:
            let_go(self._id, key)

    async def areserve(self, key: str, ttl: float, lease: float) -> ReserveResult:
        return self.reserve(key, ttl, lease)

    async def acommit(self, key: str) -> None:
        self.commit(key)

    async def arelease(self, key: str) -> None:
        self.release(key)


_V = TypeVar("_V")


def _drop_expired(entries: OrderedDict[str, _V], now: float, expiry: Callable[[_V], float]) -> None:
    """Drop entries from the front while they have expired (they are kept oldest first)."""
    while entries:
        key, value = next(iter(entries.items()))
        if expiry(value) > now:
            return
        del entries[key]


def __getattr__(name: str) -> Any:
    # RedisReplayStore lives in its own module so that importing this one
    # never imports redis.
    if name == "RedisReplayStore":
        from .redis_store import RedisReplayStore

        return RedisReplayStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
