"""MemoryReplayStore: ownership of reservations, settings, and repeated commits."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from webhookverify import ConfigurationError
from webhookverify.replay import MemoryReplayStore, Reservation, ReserveResult


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def reserved(answer: Reservation | ReserveResult) -> Reservation:
    assert isinstance(answer, Reservation), answer
    return answer


def test_a_stale_worker_cannot_settle_a_newer_reservation(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    store = MemoryReplayStore(clock=clock)
    stale = reserved(store.reserve("k", 600, 10))  # the slow worker
    clock.now += 11  # its lease runs out
    fresh = reserved(store.reserve("k", 600, 10))  # another worker
    assert fresh.token != stale.token
    store.release(stale)  # the slow worker fails: must not free the other's reservation
    assert store.reserve("k", 600, 10) is ReserveResult.IN_FLIGHT
    store.commit(stale)  # nor mark it done behind the other's back
    assert store.reserve("k", 600, 10) is ReserveResult.IN_FLIGHT
    assert "lease ended before its release" in caplog.text
    assert "lease ended before its commit" in caplog.text
    store.commit(fresh)
    assert store.reserve("k", 600, 10) is ReserveResult.DONE


def test_a_reservation_is_settled_from_another_thread() -> None:
    # Ownership travels with the reservation, not with the code path: a
    # thread pool or a task settles it as well as the code that reserved.
    store = MemoryReplayStore()
    first = reserved(store.reserve("k", 600, 10))
    thread = threading.Thread(target=store.release, args=(first,))
    thread.start()
    thread.join()
    second = reserved(store.reserve("k", 600, 10))
    thread = threading.Thread(target=store.commit, args=(second,))
    thread.start()
    thread.join()
    assert store.reserve("k", 600, 10) is ReserveResult.DONE


def test_a_stale_reservation_commits_once_the_newer_one_lapsed_too() -> None:
    # As in Redis, where a lapsed reservation is simply gone: the delivery was
    # processed, so the key is remembered as done.
    clock = Clock()
    store = MemoryReplayStore(clock=clock)
    stale = reserved(store.reserve("k", 50, 10))
    clock.now += 11
    reserved(store.reserve("k", 50, 10))
    clock.now += 11  # the newer lease ran out too
    store.commit(stale)
    assert store.reserve("k", 50, 10) is ReserveResult.DONE


def test_a_reservation_of_another_store_settles_nothing() -> None:
    one, two = MemoryReplayStore(), MemoryReplayStore()
    mine = reserved(one.reserve("k", 600, 10))
    reserved(two.reserve("k", 600, 10))
    two.commit(mine)
    two.release(mine)
    assert two.reserve("k", 600, 10) is ReserveResult.IN_FLIGHT


def test_a_late_commit_after_the_lease_marks_done_with_the_reserved_ttl() -> None:
    clock = Clock()
    store = MemoryReplayStore(clock=clock)
    reservation = reserved(store.reserve("k", 50, 10))
    clock.now += 20  # lease over, nobody took the key
    store.commit(reservation)
    assert store.reserve("k", 50, 10) is ReserveResult.DONE
    clock.now += 49
    assert store.reserve("k", 50, 10) is ReserveResult.DONE
    clock.now += 2
    assert isinstance(store.reserve("k", 50, 10), Reservation)


def test_a_repeated_commit_changes_nothing() -> None:
    clock = Clock()
    store = MemoryReplayStore(clock=clock)
    reservation = reserved(store.reserve("k", 50, 10))
    store.commit(reservation)
    clock.now += 40
    store.commit(reservation)  # must not extend the memory of it
    clock.now += 11
    assert isinstance(store.reserve("k", 50, 10), Reservation)


def test_release_after_commit_keeps_the_key_done() -> None:
    store = MemoryReplayStore()
    reservation = reserved(store.reserve("k", 50, 10))
    store.commit(reservation)
    store.release(reservation)
    assert store.reserve("k", 50, 10) is ReserveResult.DONE


@pytest.mark.parametrize(
    ("ttl", "lease"),
    [
        (float("nan"), 10),
        (10, float("nan")),
        (0, 10),
        (10, -1),
        (float("inf"), 10),
        ("10", 10),
        (True, 10),
    ],
)
def test_bad_ttl_or_lease_refused(ttl: Any, lease: Any) -> None:
    with pytest.raises(
        ConfigurationError, match=r"MemoryReplayStore\.reserve\((ttl|lease)=\.\.\.\)"
    ):
        MemoryReplayStore().reserve("k", ttl, lease)


def test_a_full_store_drops_expired_reservations_before_refusing() -> None:
    clock = Clock()
    store = MemoryReplayStore(max_keys=3, clock=clock)
    for key in ("a", "b", "c"):
        reserved(store.reserve(key, 60, 5))
    clock.now += 6  # every lease over
    reserved(store.reserve("d", 60, 5))
    assert len(store) == 1
