"""MemoryReplayStore when it is full: a reservation then drops the oldest key.

A store holding delivery ids for three days (``replay.ID_TTL``) fills up on
any busy receiver and stays full: from then on, every new delivery drops the
oldest processed key. That must cost about what a reservation in an empty
store costs, not grow with the keys dropped before.

    python benchmarks/bench_memory_store.py

Baseline: reserve and commit in a store far from full. Against it: the same
in a store at ``max_keys`` (100,000), every reservation dropping one key.
Target: within 1.5x. (Before keys were kept in an ``OrderedDict``, finding
the oldest one scanned past every key dropped before it: 15x at 100,000.)
"""

from __future__ import annotations

import itertools
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webhookverify.replay import ID_TTL, MemoryReplayStore

from benchmarks._harness import compare, report

LEASE = 60.0
FULL = 100_000


def main() -> int:
    logging.disable(logging.WARNING)  # the "store is full" warning, once a minute
    numbers = itertools.count()
    empty = MemoryReplayStore(max_keys=1 << 30)
    full = MemoryReplayStore(max_keys=FULL)

    def key() -> str:
        return f"webhookverify:0123456789abcdef:id:{next(numbers):064x}"

    for _ in range(FULL):
        full.commit(full.reserve(key(), ID_TTL, LEASE))  # type: ignore[arg-type]

    def reserve_commit(store: MemoryReplayStore) -> None:
        store.commit(store.reserve(key(), ID_TTL, LEASE))  # type: ignore[arg-type]

    results = compare(
        {"empty store": lambda: reserve_commit(empty), "full store": lambda: reserve_commit(full)}
    )
    ratio = report(
        f"MemoryReplayStore reserve + commit, {FULL:,} keys when full", results, "empty store"
    )["full store"]
    print(f"\nfull / empty: {ratio:.2f}x (target <= 1.5x)")
    return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
