"""MemoryReplayStore: ownership of reservations, settings, and repeated commits."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from webhookverify import ConfigurationError
from webhookverify.replay import MemoryReplayStore, ReserveResult


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def in_thread(func: Any) -> Any:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(func()))
    thread.start()
    thread.join()
    return result[0]


def test_a_stale_worker_cannot_settle_a_newer_reservation(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    store = MemoryReplayStore(clock=clock)
    assert store.reserve("k", 600, 10) is ReserveResult.NEW  # this thread: the slow worker
    clock.now += 11  # its lease runs out
    assert in_thread(lambda: store.reserve("k", 600, 10)) is ReserveResult.NEW  # another worker
    store.release("k")  # the slow worker fails: must not free the other's reservation
    assert in_thread(lambda: store.reserve("k", 600, 10)) is ReserveResult.IN_FLIGHT
    store.commit("k")  # nor mark it done behind the other's back
    assert in_thread(lambda: store.reserve("k", 600, 10)) is ReserveResult.IN_FLIGHT
    assert "lease ended before its release" in caplog.text
    assert "lease ended before its commit" in caplog.text


def test_the_owner_settles_and_others_act_on_whatever_is_in_flight() -> None:
    store = MemoryReplayStore()
    assert in_thread(lambda: store.reserve("k", 600, 10)) is ReserveResult.NEW
    store.release("k")  # this code never reserved it: acts on the reservation in flight
    assert store.reserve("k", 600, 10) is ReserveResult.NEW
    store.commit("k")
    assert store.reserve("k", 600, 10) is ReserveResult.DONE


def test_a_late_commit_after_the_lease_marks_done_with_the_reserved_ttl() -> None:
    clock = Clock()
    store = MemoryReplayStore(clock=clock)
    store.reserve("k", 50, 10)
    clock.now += 20  # lease over, nobody took the key
    store.commit("k")
    assert store.reserve("k", 50, 10) is ReserveResult.DONE
    clock.now += 49
    assert store.reserve("k", 50, 10) is ReserveResult.DONE
    clock.now += 2
    assert store.reserve("k", 50, 10) is ReserveResult.NEW


def test_a_repeated_commit_changes_nothing() -> None:
    clock = Clock()
    store = MemoryReplayStore(clock=clock)
    store.reserve("k", 50, 10)
    store.commit("k")
    clock.now += 40
    store.commit("k")  # must not extend the memory of it
    clock.now += 11
    assert store.reserve("k", 50, 10) is ReserveResult.NEW


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
        assert store.reserve(key, 60, 5) is ReserveResult.NEW
    clock.now += 6  # every lease over
    assert store.reserve("d", 60, 5) is ReserveResult.NEW
    assert len(store) == 1
