"""What the replay guard costs per delivery: reserve, then commit.

The baseline is the least any Redis replay guard can do: a bare ``redis``
client sending ``SET key value NX PX lease`` and then ``SET key done PX ttl``
(two round trips, no atomic check of what it overwrites) to the same server.
Against it: :class:`RedisReplayStore` (two scripts, same two round trips, the
reservation handed back and settled) and :class:`MemoryReplayStore` (no
network at all).

Run with a Redis server to spare (keys go under a unique prefix and are
deleted at the end)::

    REDIS_URL=redis://127.0.0.1:6379/0 python benchmarks/bench_replay_stores.py
"""

from __future__ import annotations

import itertools
import os
import sys
import uuid

try:
    from ._harness import compare, report
except ImportError:  # run as a script: benchmarks/ is on sys.path
    from _harness import compare, report  # type: ignore[no-redef]

from webhookverify.replay import MemoryReplayStore, RedisReplayStore, Reservation

# Expiries as the receiver uses them: a minute of lease, a day for done keys.
LEASE, TTL = 60.0, 24 * 3600.0
# Large enough that the memory store never fills during a run (a full store
# drops keys and warns, which is another benchmark).
MEMORY_KEYS = 1 << 23


def main() -> int:
    url = os.environ.get("REDIS_URL")
    if not url:
        print(
            "set REDIS_URL (e.g. redis://127.0.0.1:6379/0) to a Redis server to run this "
            "benchmark; its baseline is a bare redis client on that server",
            file=sys.stderr,
        )
        return 2
    import redis

    prefix = f"webhookverify-bench:{uuid.uuid4().hex}:"
    client = redis.Redis.from_url(url)
    store = RedisReplayStore(url, prefix=prefix)
    memory = MemoryReplayStore(max_keys=MEMORY_KEYS)
    lease_ms, ttl_ms = int(LEASE * 1000), int(TTL * 1000)
    numbers = itertools.count()

    def bare_set_nx() -> None:
        key = f"{prefix}bare:{next(numbers)}"
        client.set(key, "f", nx=True, px=lease_ms)
        client.set(key, "d", px=ttl_ms)

    def redis_store() -> None:
        reservation = store.reserve(f"store:{next(numbers)}", TTL, LEASE)
        assert isinstance(reservation, Reservation)
        store.commit(reservation)

    def memory_store() -> None:
        reservation = memory.reserve(f"memory:{next(numbers)}", TTL, LEASE)
        assert isinstance(reservation, Reservation)
        memory.commit(reservation)

    try:
        client.ping()
        results = compare(
            {
                "redis SET NX PX + SET (bare client)": bare_set_nx,
                "RedisReplayStore reserve + commit": redis_store,
                "MemoryReplayStore reserve + commit": memory_store,
            }
        )
        report(
            "replay guard, one delivery (reserve + commit)",
            results,
            baseline="redis SET NX PX + SET (bare client)",
        )
    finally:
        keys = client.scan_iter(match=prefix + "*", count=1000)
        while batch := list(itertools.islice(keys, 1000)):
            client.delete(*batch)
        store.close()
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
