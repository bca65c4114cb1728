"""Replay protection: the store protocol, replay keys, and the memory store.

A delivery key is *reserved* before the delivery is dispatched, *committed*
when every listener succeeded, and *released* when one failed, so that:

- a replay of a processed delivery finds ``done`` and is acknowledged, not
  dispatched again;
- a concurrent copy finds ``in_flight`` and is told to retry later (409);
- the sender's retry after our failure finds nothing and is processed;
- a worker that crashed mid-delivery blocks retries only until its lease ends.

``reserve`` hands the caller a :class:`Reservation`, and ``commit`` and
``release`` take it back: the reservation's token, not the key alone, says
whose reservation is settled, so a worker whose lease ran out cannot settle
the newer reservation of the worker that reserved the key after it.

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
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from ._checks import check_callable
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
    "Reservation",
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


# How often, at most, a full memory store warns that it drops keys (seconds).
FULL_WARNING_INTERVAL = 60.0
# Memory reservation tokens, unique in the process (so also across stores).
_TOKENS = itertools.count()


class Reservation(NamedTuple):
    """A reserved key, held by the caller that reserved it (immutable).

    Pass it back to the store's ``commit`` or ``release``; it may cross
    threads and tasks (the receiver settles from a task of its own after a
    202). Only the store that made it knows what its token means.
    """

    #: The delivery key, as given to ``reserve``.
    key: str
    #: Unique to this reservation: ``commit`` and ``release`` act on it only.
    token: str
    #: Seconds the key is remembered as done once committed.
    ttl: float


class ReserveResult(enum.Enum):
    """What :meth:`ReplayStore.reserve` found when it did not reserve the key."""

    #: Another worker holds the key and has not finished: answer 409.
    IN_FLIGHT = "in_flight"
    #: The delivery was processed: acknowledge, do not dispatch again.
    DONE = "done"


@runtime_checkable
class ReplayStore(Protocol):
    """Where delivery keys live. Implementations must be atomic per key.

    ``reserve`` returns a :class:`Reservation` to exactly one caller for a key
    that is neither in flight nor done; the key then expires after ``lease``
    seconds unless committed. ``commit`` marks the reservation's key done for
    the reservation's ``ttl`` (also when its lease already ran out and nobody
    reserved the key since: the delivery was processed); ``release`` forgets
    it; neither touches a done key, nor a newer reservation of the key made
    by someone else after this one's lease ran out (they may log a warning).
    Any method may raise :class:`~webhookverify.ReplayStoreUnavailable`. The
    receiver calls ``commit`` or ``release`` again when it raised (a few
    times, within the request), so both must be idempotent.

    A store may say that its sync methods never wait on I/O with a class
    attribute ``blocking = False`` (:class:`MemoryReplayStore` does):
    ``Receiver.areceive`` then calls them directly on the event loop. Without
    it (the default, ``True``), ``areceive`` awaits the :class:`AsyncReplayStore`
    methods, or runs the sync ones in a worker thread.
    """

    def reserve(self, key: str, ttl: float, lease: float) -> Reservation | ReserveResult: ...

    def commit(self, reservation: Reservation) -> None: ...

    def release(self, reservation: Reservation) -> None: ...


@runtime_checkable
class AsyncReplayStore(Protocol):
    """The async face of a replay store (used by ``Receiver.areceive``), same contract."""

    async def areserve(self, key: str, ttl: float, lease: float) -> Reservation | ReserveResult: ...

    async def acommit(self, reservation: Reservation) -> None: ...

    async def arelease(self, reservation: Reservation) -> None: ...


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


def warn_lost_lease(key: str, action: str) -> None:
    """Log that a commit or release left another worker's newer reservation alone."""
    logger.warning(
        "a delivery key's lease ended before its %s and another worker has reserved it "
        "since; that reservation was left alone (raise the receiver's lease= above the "
        "longest a delivery takes)",
        action,
        extra={"webhookverify": {"key": key, "action": action}},
    )


def check_seconds(seconds: float, setting: str) -> float:
    """Validate a ttl, lease or timeout: a number of seconds above 0 and at most
    :data:`MAX_EXPIRY`; ``setting`` names it in the error, e.g. ``"X.reserve(ttl=...)"``.

    Raises:
        ConfigurationError: anything else (a NaN lease would make every
            reservation expire at once and switch replay protection off).
    """
    number = isinstance(seconds, int | float) and not isinstance(seconds, bool)
    if not (number and 0 < seconds <= MAX_EXPIRY):  # False for NaN
        raise ConfigurationError(
            f"{setting} must be a number of seconds above 0 and at most {MAX_EXPIRY:.0f}"
        )
    return float(seconds)


class MemoryReplayStore:
    """A bounded, thread-safe replay store for one process.

    Two dictionaries under one lock: done keys (key -> expiry, oldest commit
    first) and in-flight keys (key -> lease expiry and token). Expired
    entries are dropped when they are looked up or when room is needed.
    The async methods do the same without blocking the event loop.

    Args:
        max_keys: the most keys held at once. When full, the oldest *done*
            keys are dropped first (with a warning, since a replay of them
            would be dispatched again); an in-flight key is never dropped
            before its lease ends. If every slot is in flight, ``reserve``
            raises :class:`ReplayStoreUnavailable` (the receiver answers 503).
        clock: a monotonic clock, injectable for tests.

    Raises:
        ConfigurationError: ``max_keys`` is not a positive int.
    """

    #: Its methods wait only on a lock held for microseconds, never on I/O:
    #: ``Receiver.areceive`` calls them on the event loop (see :class:`ReplayStore`).
    blocking = False

    def __init__(
        self, max_keys: int = DEFAULT_MAX_KEYS, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 1:
            raise ConfigurationError("MemoryReplayStore(max_keys=...) must be a positive int")
        self.max_keys = max_keys
        self._clock = check_callable(clock, "clock", "MemoryReplayStore")
        self._lock = threading.Lock()
        # Done keys in commit order. An OrderedDict, not a dict: a full store
        # drops its oldest key on every reservation, and a dict finds its first
        # key by scanning past every slot deleted before it (38 us a request
        # at 100,000 keys, against O(1) for popitem(last=False)).
        self._done: OrderedDict[str, float] = OrderedDict()
        self._in_flight: dict[str, tuple[float, str]] = {}
        self._warned_at = -math.inf

    def __len__(self) -> int:
        with self._lock:
            return len(self._done) + len(self._in_flight)

    def reserve(self, key: str, ttl: float, lease: float) -> Reservation | ReserveResult:
        """Reserve ``key`` unless it is done or in flight (see :class:`ReplayStore`).

        Raises:
            ConfigurationError: ``ttl`` or ``lease`` is not a number of
                seconds above 0 and at most :data:`MAX_EXPIRY`.
            ReplayStoreUnavailable: every slot is in flight.
        """
        if not (type(ttl) is float and 0 < ttl <= MAX_EXPIRY) or not (
            type(lease) is float and 0 < lease <= MAX_EXPIRY  # what the receiver passes
        ):
            ttl = check_seconds(ttl, "MemoryReplayStore.reserve(ttl=...)")
            lease = check_seconds(lease, "MemoryReplayStore.reserve(lease=...)")
        now, lock = self._clock(), self._lock
        lock.acquire()  # not `with`: it costs twice as much, on every request
        try:
            done, in_flight = self._done, self._in_flight
            if key in done:
                if done[key] > now:
                    return ReserveResult.DONE
                del done[key]  # expired
            if key in in_flight and in_flight[key][0] > now:
                return ReserveResult.IN_FLIGHT
            if len(done) + len(in_flight) >= self.max_keys:
                self._make_room(now)
            token = str(next(_TOKENS))
            in_flight[key] = (now + lease, token)
        finally:
            lock.release()
        return Reservation(key, token, ttl)

    def commit(self, reservation: Reservation) -> None:
        """Mark the reservation's key done for its ttl (see :class:`ReplayStore`)."""
        self._settle(reservation, "commit")

    def release(self, reservation: Reservation) -> None:
        """Forget the reservation's key, unless done or reserved again by another."""
        self._settle(reservation, "release")

    async def areserve(self, key: str, ttl: float, lease: float) -> Reservation | ReserveResult:
        """:meth:`reserve`; it never waits on anything but the lock."""
        return self.reserve(key, ttl, lease)

    async def acommit(self, reservation: Reservation) -> None:
        """:meth:`commit`."""
        self.commit(reservation)

    async def arelease(self, reservation: Reservation) -> None:
        """:meth:`release`."""
        self.release(reservation)

    def _settle(self, reservation: Reservation, action: str) -> None:
        """Commit or release (``action``) the reservation's key, unless a live
        reservation of someone else holds it (reserved after this one's lease ran out)."""
        key, now, lock = reservation.key, self._clock(), self._lock
        lock.acquire()  # not `with`: see reserve
        try:
            held = self._in_flight.get(key)
            if held is not None and held[1] != reservation.token and held[0] > now:
                warn_lost_lease(key, action)
                return
            self._in_flight.pop(key, None)
            if action == "release" or self._done.get(key, now) > now:
                return  # a repeated commit of a done key changes nothing
            # Done keys stay in commit order (an expired one moves to the end).
            # With one ttl per store that is expiry order too; with several, a
            # key that expired behind a younger one lingers until it is looked
            # up or room is needed.
            self._done.pop(key, None)
            self._done[key] = now + reservation.ttl
        finally:
            lock.release()

    def _make_room(self, now: float) -> None:
        """Drop lapsed leases, then done keys oldest first, until a slot is free."""
        done, in_flight = self._done, self._in_flight
        for key in [key for key, (expires, _) in in_flight.items() if expires <= now]:
            del in_flight[key]
        dropped = 0  # keys still live, whose replay would now be dispatched again
        while done and len(done) + len(in_flight) >= self.max_keys:
            dropped += done.popitem(last=False)[1] > now  # the oldest commit
        if len(done) + len(in_flight) >= self.max_keys:
            raise ReplayStoreUnavailable(
                "every slot of the memory replay store is in flight (raise max_keys=...)"
            )
        if dropped and now - self._warned_at > FULL_WARNING_INTERVAL:
            self._warned_at = now
            logger.warning(
                "memory replay store is full: dropped the oldest processed delivery keys; "
                "a replay of those would be dispatched again (raise max_keys= or use Redis)",
                extra={"webhookverify": {"dropped": dropped, "max_keys": self.max_keys}},
            )


def __getattr__(name: str) -> Any:
    # RedisReplayStore lives in its own module so that importing this one
    # never imports redis.
    if name == "RedisReplayStore":
        from .redis_store import RedisReplayStore

        return RedisReplayStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
