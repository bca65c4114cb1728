"""The cache every key source keeps, shared by its sync and async paths.

A plain dictionary under a lock (no I/O is ever done while holding it):
documents by reference (a key set's URL, a key id, a certificate URL) with
their expiry, and the time each was last fetched, so that a flood of
requests naming keys that do not exist costs at most one fetch per
reference per :data:`MIN_REFETCH_INTERVAL`, and at most :data:`FETCH_BURST`
fetches per source in that interval whatever the references.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final

__all__ = ["FETCH_BURST", "MAX_ENTRIES", "MIN_REFETCH_INTERVAL", "KeyCache"]

# One fetch of a document per 30 s at most: a forged key id can make us ask
# the provider again that often, never more (Google and Microsoft publish a
# new key days before they sign with it, so a real new key id is found on
# the first refetch).
MIN_REFETCH_INTERVAL: Final = 30.0
# Sources whose documents are many (a certificate per URL, a key per id)
# fetch at most this many distinct documents per interval: a provider has a
# handful of live keys, so more is a flood.
FETCH_BURST: Final = 4
# Entries kept per source: a provider has a few live keys or certificates at
# a time; the bound keeps forged references from growing the cache.
MAX_ENTRIES: Final = 64


class KeyCache:
    """Documents by reference, with expiry and the fetch rate limit (thread-safe).

    Args:
        clock: the wall clock in unix seconds (tests pass their own).
        refetch_interval: seconds between two fetches of one reference.
        burst: distinct fetches a source may make per ``refetch_interval``.
        max_entries: documents kept at most (a source with many, such as
            one per ActivityPub actor, keeps more than a provider's few).
    """

    __slots__ = (
        "_attempts",
        "_entries",
        "_lock",
        "_recent",
        "burst",
        "clock",
        "max_entries",
        "refetch_interval",
    )

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        refetch_interval: float = MIN_REFETCH_INTERVAL,
        burst: int = FETCH_BURST,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.clock = clock
        self.max_entries = int(max_entries)
        self.refetch_interval = float(refetch_interval)
        self.burst = int(burst)
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[Any, float]] = {}
        self._attempts: dict[str, float] = {}
        self._recent: deque[float] = deque()

    def fresh(self, ref: str) -> Any | None:
        """The document cached under ``ref``, or ``None`` when absent or expired."""
        entry = self._entries.get(ref)
        if entry is None or entry[1] <= self.clock():
            return None
        return entry[0]

    def store(self, ref: str, value: Any, lifetime: float) -> None:
        """Keep ``value`` under ``ref`` for ``lifetime`` seconds."""
        with self._lock:
            if ref not in self._entries and len(self._entries) >= self.max_entries:
                # drop the entry that expires first: the least useful
                oldest = min(self._entries, key=lambda k: self._entries[k][1])
                del self._entries[oldest]
            self._entries[ref] = (value, self.clock() + lifetime)

    def claim_fetch(self, ref: str) -> bool:
        """Whether ``ref`` may be fetched now; if so, the fetch is counted.

        False when ``ref`` was fetched (or tried) less than
        ``refetch_interval`` ago, or the source made ``burst`` fetches in
        that time. Counting happens before the fetch, so concurrent callers
        cannot both pass.
        """
        now = self.clock()
        with self._lock:
            last = self._attempts.get(ref)
            if last is not None and now - last < self.refetch_interval:
                return False
            while self._recent and now - self._recent[0] >= self.refetch_interval:
                self._recent.popleft()
            if len(self._recent) >= self.burst:
                return False
            self._recent.append(now)
            self._attempts[ref] = now
            if len(self._attempts) > 4 * self.max_entries:
                cutoff = now - self.refetch_interval
                self._attempts = {k: t for k, t in self._attempts.items() if t >= cutoff}
            return True
