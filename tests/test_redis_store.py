"""The replay stores: one state machine, kept by the memory store and by Redis.

The shared tests run over both stores and over both faces of each (the sync
methods and the async ones); Redis tests use a real server (see ``_redis``).
Time moves by an injected clock for the memory store and by real (short)
waits for Redis.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import pickle
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from webhookverify import ConfigurationError, ReplayStoreUnavailable
from webhookverify.replay import (
    AsyncReplayStore,
    MemoryReplayStore,
    ReplayStore,
    Reservation,
    ReserveResult,
)

from _redis import closed_port, hammer

IN_FLIGHT, DONE = ReserveResult.IN_FLIGHT, ReserveResult.DONE
NEW = "new"  # what answer_kind() makes of a Reservation, to compare answers at a glance
# Long enough that nothing expires during a test that does not wait for it.
TTL, LEASE = 600.0, 300.0
# Short expiries for the tests that wait for them (really, with Redis): a
# wait is SHORT plus a margin that a loaded machine cannot eat.
SHORT = 0.2
PAST_SHORT = 0.3
PASSWORD = "hunter2-not-for-logs"


def redis_store_class() -> Any:
    from webhookverify.redis_store import RedisReplayStore

    return RedisReplayStore


def answer_kind(answer: Reservation | ReserveResult) -> str | ReserveResult:
    """``NEW`` for a reservation, else the answer itself."""
    return NEW if isinstance(answer, Reservation) else answer


def reserved(answer: Reservation | ReserveResult) -> Reservation:
    assert isinstance(answer, Reservation), answer
    return answer


# -- the harness: one store backend, its workers, its clock, its sync or async face -----


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Face:
    """A worker using a store through its sync or its async methods, always awaited.

    It keeps the newest reservation it got for each key and settles with it,
    as a receiver does; ``reserve`` answers ``NEW`` for a reservation.
    """

    def __init__(self, store: Any, mode: str) -> None:
        self.store, self.mode = store, mode
        self.held: dict[str, Reservation] = {}

    async def reserve(
        self, key: str, ttl: float = TTL, lease: float = LEASE
    ) -> str | ReserveResult:
        if self.mode == "sync":
            answer = self.store.reserve(key, ttl, lease)
        else:
            answer = await self.store.areserve(key, ttl, lease)
        if isinstance(answer, Reservation):
            assert (answer.key, answer.ttl) == (key, ttl)
            self.held[key] = answer
        return answer_kind(answer)

    async def commit(self, key: str) -> None:
        if self.mode == "sync":
            self.store.commit(self.held[key])
        else:
            await self.store.acommit(self.held[key])

    async def release(self, key: str) -> None:
        if self.mode == "sync":
            self.store.release(self.held[key])
        else:
            await self.store.arelease(self.held[key])


class Backend:
    """Where keys live. ``worker()`` is another worker's store on the same keys:
    the same object for the memory store (it serves one process), a new store
    object (as another process would build) for Redis."""

    def __init__(self, kind: str, mode: str, request: pytest.FixtureRequest) -> None:
        self.kind, self.mode = kind, mode
        self.stores: list[Any] = []
        if kind == "memory":
            self.clock = Clock()
            self.stores.append(MemoryReplayStore(clock=self.clock))
        else:
            self.url = request.getfixturevalue("redis_url")
            self.prefix = request.getfixturevalue("redis_prefix")
            self.client = request.getfixturevalue("redis_client")

    def worker(self) -> Face:
        """Another worker: it holds the reservations it made, and only those."""
        if self.kind == "memory":
            return Face(self.stores[0], self.mode)
        store = redis_store_class()(self.url, prefix=self.prefix)
        self.stores.append(store)
        return Face(store, self.mode)

    async def wait(self, seconds: float) -> None:
        if self.kind == "memory":
            self.clock.now += seconds
        else:
            await asyncio.sleep(seconds)

    def run(self, scenario: Callable[[], Awaitable[None]]) -> None:
        async def main() -> None:
            try:
                await scenario()
            finally:
                for store in self.stores:
                    if hasattr(store, "aclose"):
                        await store.aclose()

        asyncio.run(main())


STORES = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.fixture(params=STORES)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["sync", "async"])
def backend(kind: str, request: pytest.FixtureRequest) -> Backend:
    return Backend(kind, request.param, request)


# -- the state machine, for every store and both faces ----------------------------------


def test_new_then_in_flight_then_done(backend: Backend) -> None:
    async def scenario() -> None:
        store, other = backend.worker(), backend.worker()
        assert await store.reserve("k") is NEW
        assert await store.reserve("k") is IN_FLIGHT
        assert await other.reserve("k") is IN_FLIGHT
        await store.commit("k")
        assert await store.reserve("k") is DONE
        assert await other.reserve("k") is DONE

    backend.run(scenario)


def test_release_makes_the_key_new_again(backend: Backend) -> None:
    async def scenario() -> None:
        store, other = backend.worker(), backend.worker()
        assert await store.reserve("k") is NEW
        await store.release("k")
        assert await other.reserve("k") is NEW
        assert await store.reserve("k") is IN_FLIGHT

    backend.run(scenario)


def test_release_never_forgets_a_done_key(backend: Backend) -> None:
    async def scenario() -> None:
        store = backend.worker()
        assert await store.reserve("k") is NEW
        await store.commit("k")
        await store.release("k")
        assert await store.reserve("k") is DONE

    backend.run(scenario)


def test_commit_of_a_done_key_keeps_it_done(backend: Backend) -> None:
    async def scenario() -> None:
        store = backend.worker()
        assert await store.reserve("k") is NEW
        await store.commit("k")
        await store.commit("k")
        assert await store.reserve("k") is DONE

    backend.run(scenario)


def test_keys_are_independent(backend: Backend) -> None:
    async def scenario() -> None:
        store = backend.worker()
        assert await store.reserve("a") is NEW
        assert await store.reserve("b") is NEW
        await store.commit("a")
        await store.release("b")
        assert [await store.reserve(k) for k in ("a", "b", "c")] == [DONE, NEW, NEW]

    backend.run(scenario)


def test_an_in_flight_key_expires_after_its_lease(backend: Backend) -> None:
    async def scenario() -> None:
        store, other = backend.worker(), backend.worker()
        assert await store.reserve("k", lease=SHORT) is NEW
        assert await other.reserve("k", lease=SHORT) is IN_FLIGHT
        await backend.wait(PAST_SHORT)
        assert await other.reserve("k") is NEW

    backend.run(scenario)


def test_a_done_key_lives_for_its_ttl_not_its_lease(backend: Backend) -> None:
    async def scenario() -> None:
        store = backend.worker()
        assert await store.reserve("k", ttl=2 * PAST_SHORT, lease=SHORT) is NEW
        await store.commit("k")
        await backend.wait(PAST_SHORT)  # past the lease
        assert await store.reserve("k") is DONE
        await backend.wait(PAST_SHORT + 0.05)  # past the ttl
        assert await store.reserve("k") is NEW

    backend.run(scenario)


def test_commit_after_the_lease_ended_marks_the_key_done_for_its_ttl(backend: Backend) -> None:
    async def scenario() -> None:
        store = backend.worker()
        assert await store.reserve("k", ttl=2 * PAST_SHORT, lease=SHORT) is NEW
        await backend.wait(PAST_SHORT)
        await store.commit("k")  # the delivery was processed, if slowly
        assert await store.reserve("k") is DONE
        await backend.wait(2 * PAST_SHORT + 0.05)  # the ttl given at reserve time
        assert await store.reserve("k") is NEW

    backend.run(scenario)


def test_concurrent_async_reserves_of_one_key_give_one_new(backend: Backend) -> None:
    async def scenario() -> None:
        stores = [backend.worker() for _ in range(4)]
        answers = await asyncio.gather(*(stores[i % 4].reserve("k") for i in range(64)))
        assert Counter(answers) == {NEW: 1, IN_FLIGHT: 63}

    backend.run(scenario)


def test_sixteen_threads_reserving_the_same_keys_get_one_new_each(kind: str, request: Any) -> None:
    backend = Backend(kind, "sync", request)
    store = backend.worker().store  # one store object shared by the threads
    keys = [f"k{i}" for i in range(50)]
    start = threading.Barrier(16)
    answers: list[list[str | ReserveResult]] = [[] for _ in range(16)]

    def work(n: int) -> None:
        start.wait()
        answers[n] = [answer_kind(store.reserve(key, TTL, LEASE)) for key in keys]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index in range(len(keys)):
        per_key = Counter(answers[n][index] for n in range(16))
        assert per_key == {NEW: 1, IN_FLIGHT: 15}
    if hasattr(store, "close"):
        store.close()


def test_the_stores_keep_the_protocols(kind: str, request: Any) -> None:
    store = Backend(kind, "sync", request).worker().store
    assert isinstance(store, ReplayStore)
    assert isinstance(store, AsyncReplayStore)


# -- a model of the state machine, checked against each store by Hypothesis ------------

OPS = st.lists(
    st.tuples(
        st.sampled_from(["reserve", "commit", "release"]),
        st.integers(0, 1),  # which worker
        st.integers(0, 1),  # which key
    ),
    max_size=40,
)


def check_against_model(stores: list[Any], ops: list[tuple[str, int, int]]) -> None:
    """Run ``ops`` on ``stores`` and on a model of the protocol; they must agree.

    The model: a key is absent, in flight for one reservation, or done. Each
    worker settles with the newest reservation it got for the key (none: the
    step is skipped), also after it settled it once or another worker took
    the key. Commit marks the key done unless another reservation holds it;
    release drops the worker's own reservation only; neither touches a done
    key. (The workers may share one store object, as the threads of one
    process share the memory store.)
    """
    state: dict[str, str] = {}  # key -> the token in flight, or "done"
    held: list[dict[str, Reservation]] = [{} for _ in stores]
    for number, (action, who, k) in enumerate(ops):
        key, store, current = f"k{k}", stores[who], state.get(f"k{k}")
        if action == "reserve":
            expected = NEW if current is None else DONE if current == "done" else IN_FLIGHT
            answer = store.reserve(key, TTL, LEASE)
            assert answer_kind(answer) == expected, (number, action, who, key)
            if isinstance(answer, Reservation):
                state[key], held[who][key] = answer.token, answer
            continue
        mine = held[who].get(key)
        if mine is None:
            continue
        if action == "commit":
            store.commit(mine)
            if current in (None, mine.token):
                state[key] = "done"
        else:
            store.release(mine)
            if current == mine.token:
                del state[key]


@settings(max_examples=60, deadline=None)
@given(ops=OPS)
def test_the_memory_store_follows_the_model(ops: list[tuple[str, int, int]]) -> None:
    store = MemoryReplayStore()
    check_against_model([store, store], ops)


@pytest.mark.redis
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
# a worker that released its reservation, then settles it again after another reserved
@example(ops=[("reserve", 0, 0), ("release", 0, 0), ("reserve", 1, 0), ("commit", 0, 0)] * 2)
def test_redis_stores_follow_the_model(
    redis_url: str, redis_prefix: str, ops: list[tuple[str, int, int]]
) -> None:
    cls, prefix = redis_store_class(), f"{redis_prefix}{next(EXAMPLES)}:"
    with cls(redis_url, prefix=prefix) as one, cls(redis_url, prefix=prefix) as two:
        check_against_model([one, two], ops)


EXAMPLES = itertools.count()  # a fresh key space for each example


# -- Redis: ownership of a reservation ---------------------------------------------------


@pytest.mark.redis
def test_a_stale_worker_leaves_the_newer_reservation_alone(
    redis_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    cls = redis_store_class()
    with cls(redis_url, prefix=redis_prefix) as stale, cls(redis_url, prefix=redis_prefix) as fresh:
        old = reserved(stale.reserve("k", TTL, SHORT))
        time.sleep(PAST_SHORT)
        new = reserved(fresh.reserve("k", TTL, LEASE))
        with caplog.at_level(logging.WARNING, logger="webhookverify"):
            stale.release(old)
            assert fresh.reserve("k", TTL, LEASE) is IN_FLIGHT
            stale.commit(old)
            assert fresh.reserve("k", TTL, LEASE) is IN_FLIGHT
        assert sum("lease ended" in r.getMessage() for r in caplog.records) == 2
        fresh.commit(new)
        assert stale.reserve("k", TTL, LEASE) is DONE


@pytest.mark.redis
def test_a_stale_reservation_settled_from_another_thread_is_still_refused(
    redis_url: str, redis_prefix: str
) -> None:
    # The token travels with the reservation: which thread settles it does
    # not matter (the old per-context ownership acted on whatever was in
    # flight when the settling thread had not reserved the key itself).
    store = redis_store_class()(redis_url, prefix=redis_prefix)
    stale = reserved(store.reserve("k", TTL, SHORT))
    time.sleep(PAST_SHORT)
    fresh = reserved(store.reserve("k", TTL, LEASE))
    thread = threading.Thread(target=store.release, args=(stale,))
    thread.start()
    thread.join()
    assert store.reserve("k", TTL, LEASE) is IN_FLIGHT
    store.release(fresh)
    assert answer_kind(store.reserve("k", TTL, LEASE)) is NEW
    store.close()


@pytest.mark.redis
def test_a_task_started_later_settles_the_reservation_it_is_given(
    redis_url: str, redis_prefix: str
) -> None:
    # The receiver commits from a task of its own when listeners outlive its
    # time budget; it hands that task the reservation.
    cls = redis_store_class()

    async def scenario() -> None:
        async with (
            cls(redis_url, prefix=redis_prefix) as store,
            cls(redis_url, prefix=redis_prefix) as other,
        ):
            late = reserved(await store.areserve("late", TTL, SHORT))
            ok = reserved(await store.areserve("ok", TTL, LEASE))
            await asyncio.sleep(PAST_SHORT)
            reserved(await other.areserve("late", TTL, LEASE))
            await asyncio.create_task(store.acommit(late))
            await asyncio.create_task(store.acommit(ok))
            assert await other.areserve("late", TTL, LEASE) is IN_FLIGHT
            assert await other.areserve("ok", TTL, LEASE) is DONE

    asyncio.run(scenario())


@pytest.mark.redis
def test_concurrent_tasks_sharing_a_store_own_their_reservations(
    redis_url: str, redis_prefix: str
) -> None:
    cls = redis_store_class()

    async def scenario() -> None:
        async with cls(redis_url, prefix=redis_prefix) as store:
            reserved_, taken, released = asyncio.Event(), asyncio.Event(), asyncio.Event()

            async def stale() -> None:
                mine = reserved(await store.areserve("k", TTL, SHORT))
                reserved_.set()
                await taken.wait()
                await store.arelease(mine)  # its lease is over: the key is the other task's
                released.set()

            async def fresh() -> None:
                await reserved_.wait()
                await asyncio.sleep(PAST_SHORT)
                mine = reserved(await store.areserve("k", TTL, LEASE))
                taken.set()
                await released.wait()
                assert await store.areserve("k", TTL, LEASE) is IN_FLIGHT
                await store.acommit(mine)

            await asyncio.gather(stale(), fresh())
            assert await store.areserve("k", TTL, LEASE) is DONE

    asyncio.run(scenario())


@pytest.mark.redis
def test_a_reservation_is_settled_by_another_process_that_has_it(
    redis_url: str, redis_prefix: str, redis_client: Any
) -> None:
    cls = redis_store_class()
    with cls(redis_url, prefix=redis_prefix) as web, cls(redis_url, prefix=redis_prefix) as job:
        # reserved by one process, committed by another (a job queue) that got
        # the reservation through a pickle
        reservation = reserved(web.reserve("a", 5.0, LEASE))
        job.commit(pickle.loads(pickle.dumps(reservation)))
        assert web.reserve("a", TTL, LEASE) is DONE
        assert 4000 < redis_client.pttl(redis_prefix + "a") <= 5000  # the ttl given to reserve
        # a reservation with another token (a forged or mixed-up one) settles nothing
        real = reserved(web.reserve("b", TTL, LEASE))
        job.release(Reservation("b", "0123456789abcdef", TTL))
        job.commit(Reservation("b", "0123456789abcdef", TTL))
        assert job.reserve("b", TTL, LEASE) is IN_FLIGHT
        job.release(real)
        assert answer_kind(job.reserve("b", TTL, LEASE)) is NEW


# -- Redis: what is written, and how ---------------------------------------------------


@pytest.mark.redis
def test_seconds_become_milliseconds_of_at_least_one(
    redis_url: str, redis_prefix: str, redis_client: Any
) -> None:
    with redis_store_class()(redis_url, prefix=redis_prefix) as store:
        reserved(store.reserve("tiny", 0.0001, 0.0001))
        assert 0 <= redis_client.pttl(redis_prefix + "tiny") <= 1 or not redis_client.exists(
            redis_prefix + "tiny"
        )
        reservation = reserved(store.reserve("k", 12.5, 1.5))
        assert 1400 < redis_client.pttl(redis_prefix + "k") <= 1500
        store.commit(reservation)
        assert redis_client.get(redis_prefix + "k") == b"d"
        assert 12_400 < redis_client.pttl(redis_prefix + "k") <= 12_500
        time.sleep(0.1)
        store.commit(reservation)  # a done key keeps its expiry
        assert redis_client.pttl(redis_prefix + "k") <= 12_400


@pytest.mark.redis
def test_the_prefix_separates_applications(
    redis_url: str, redis_prefix: str, redis_client: Any
) -> None:
    cls = redis_store_class()
    with (
        cls(redis_url, prefix=redis_prefix + "a:") as a,
        cls(redis_url, prefix=redis_prefix + "b:") as b,
    ):
        mine = reserved(a.reserve("k", TTL, LEASE))
        reserved(b.reserve("k", TTL, LEASE))
        a.commit(mine)
        assert b.reserve("k", TTL, LEASE) is IN_FLIGHT
        assert redis_client.get(redis_prefix + "a:k") == b"d"
        assert redis_client.get(redis_prefix + "b:k").startswith(b"f|")


@pytest.mark.redis
def test_a_server_that_forgot_its_scripts_still_answers(
    redis_url: str, redis_prefix: str, redis_client: Any
) -> None:
    cls = redis_store_class()
    with cls(redis_url, prefix=redis_prefix) as store:
        redis_client.script_flush()
        reservation = reserved(store.reserve("k", TTL, LEASE))
        redis_client.script_flush()
        store.release(reservation)
        redis_client.script_flush()

        async def scenario() -> None:
            reservation = reserved(await store.areserve("k", TTL, LEASE))
            redis_client.script_flush()
            await store.acommit(reservation)
            await store.aclose()

        asyncio.run(scenario())
        assert store.reserve("k", TTL, LEASE) is DONE


@pytest.mark.redis
def test_a_retried_reserve_recognises_its_own_reservation(
    redis_url: str, redis_prefix: str, redis_client: Any
) -> None:
    # A call retried after its answer was lost must not find itself "in flight".
    from webhookverify.redis_store import _RESERVE

    key, value = redis_prefix + "k", "f|0123456789abcdef"
    assert redis_client.eval(_RESERVE, 1, key, value, 30_000) == 0
    assert redis_client.eval(_RESERVE, 1, key, value, 30_000) == 0
    assert redis_client.eval(_RESERVE, 1, key, "f|fedcba9876543210", 30_000) == 1


@pytest.mark.redis
def test_a_redis_error_is_store_unavailable(
    redis_url: str, redis_prefix: str, redis_client: Any
) -> None:
    redis_client.rpush(redis_prefix + "k", "not a string key")
    reservation = Reservation("k", "0123456789abcdef", TTL)
    with redis_store_class()(redis_url, prefix=redis_prefix) as store:
        for call in (
            lambda: store.reserve("k", TTL, LEASE),
            lambda: store.commit(reservation),
            lambda: store.release(reservation),
        ):
            with pytest.raises(ReplayStoreUnavailable, match=r"WRONGTYPE.*url="):
                call()


@pytest.mark.redis
def test_given_clients_are_used_and_left_open(redis_url: str, redis_prefix: str) -> None:
    import redis
    import redis.asyncio

    cls = redis_store_class()
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    with cls(client=client, prefix=redis_prefix) as store:
        reserved(store.reserve("k", TTL, LEASE))
        assert "client=" in repr(store)
        with pytest.raises(ConfigurationError, match="async_client= or url="):
            asyncio.run(store.areserve("k", TTL, LEASE))
    assert client.ping()  # still usable: its owner closes it
    client.close()

    async def scenario() -> None:
        aclient = redis.asyncio.Redis.from_url(redis_url)
        async with cls(async_client=aclient, prefix=redis_prefix) as store:
            assert await store.areserve("k", TTL, LEASE) is IN_FLIGHT
            await store.acommit(reserved(await store.areserve("j", TTL, LEASE)))
            assert await store.areserve("j", TTL, LEASE) is DONE
            with pytest.raises(ConfigurationError, match="client= or url="):
                store.reserve("k", TTL, LEASE)
        assert await aclient.ping()
        await aclient.aclose()

    asyncio.run(scenario())


@pytest.mark.redis
def test_one_store_serves_several_event_loops_and_reconnects_after_close(
    redis_url: str, redis_prefix: str
) -> None:
    store = redis_store_class()(redis_url, prefix=redis_prefix)

    async def reserve(key: str) -> Reservation | ReserveResult:
        return await store.areserve(key, TTL, LEASE)

    first = reserved(asyncio.run(reserve("a")))  # this loop's client is left behind, loop closed
    assert asyncio.run(reserve("a")) is IN_FLIGHT
    assert store.reserve("a", TTL, LEASE) is IN_FLIGHT
    store.close()
    reserved(store.reserve("b", TTL, LEASE))

    async def finish() -> None:
        await store.acommit(first)
        await store.aclose()

    asyncio.run(finish())
    assert store.reserve("a", TTL, LEASE) is DONE
    store.close()


@pytest.mark.redis
def test_processes_hammering_the_same_keys_get_each_key_new_once(
    redis_url: str, redis_prefix: str, redis_client: Any
) -> None:
    processes, keys = 3, [f"k{i}" for i in range(400)]
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(target=hammer, args=(redis_url, redis_prefix, keys, n, start, results))
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
        assert worker.exitcode == 0
    assert len({pid for pid, _, _ in reports}) == processes
    won = Counter(key for _, new, _ in reports for key in new)
    assert set(won) == set(keys)
    assert set(won.values()) == {1}
    for _, new, answers in reports:
        assert sum(answers.values()) == len(keys)
        assert answers["new"] == len(new)
    assert {redis_client.get(redis_prefix + key) for key in keys} == {b"d"}


# -- Redis unreachable: fail closed, quickly, without the password ----------------------


def unreachable_calls(store: Any) -> list[Callable[[], Any]]:
    reservation = Reservation("k", "0123456789abcdef", TTL)
    return [
        lambda: store.reserve("k", TTL, LEASE),
        lambda: store.commit(reservation),
        lambda: store.release(reservation),
        lambda: asyncio.run(store.areserve("k", TTL, LEASE)),
        lambda: asyncio.run(store.acommit(reservation)),
        lambda: asyncio.run(store.arelease(reservation)),
    ]


def test_an_unreachable_redis_is_store_unavailable_without_the_password() -> None:
    url = f"redis://webhooks:{PASSWORD}@127.0.0.1:{closed_port()}/3"
    store = redis_store_class()(url, socket_timeout=0.5, connect_timeout=0.5)
    assert PASSWORD not in repr(store)
    for call in unreachable_calls(store):
        started = time.monotonic()
        with pytest.raises(ReplayStoreUnavailable) as caught:
            call()
        assert time.monotonic() - started < 3  # refused at once; no long retry loop
        message = str(caught.value)
        assert "\n" not in message
        assert "url=" in message
        assert f"127.0.0.1:{url.rsplit(':', 1)[1]}" in message
        assert PASSWORD not in message
        assert PASSWORD not in repr(caught.value)
        assert PASSWORD not in str(caught.value.__cause__)


def test_a_redis_that_never_answers_times_out_as_store_unavailable() -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        store = redis_store_class()(
            f"redis://:{PASSWORD}@127.0.0.1:{port}/0", socket_timeout=0.2, retries=0
        )
        for call in unreachable_calls(store)[::3]:  # one sync, one async
            started = time.monotonic()
            with pytest.raises(ReplayStoreUnavailable, match="Timeout") as caught:
                call()
            assert time.monotonic() - started < 3
            assert PASSWORD not in str(caught.value)


# -- RedisReplayStore configuration (no server needed) ----------------------------------


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({}, "url="),
        ({"url": f"http://user:{PASSWORD}@example.test/"}, "url="),
        ({"url": f"redis://user:{PASSWORD}@host:notaport/0"}, "url="),
        ({"url": f"redis://:{PASSWORD}@host/0?socket_timeout=soon"}, "url="),
        ({"url": 6379}, "url="),
        ({"url": "redis://localhost", "socket_timeout": -1}, "socket_timeout="),
        ({"url": "redis://localhost", "socket_timeout": 0}, "socket_timeout="),
        ({"url": "redis://localhost", "socket_timeout": float("nan")}, "socket_timeout="),
        ({"url": "redis://localhost", "connect_timeout": -0.5}, "connect_timeout="),
        ({"url": "redis://localhost", "connect_timeout": float("inf")}, "connect_timeout="),
        ({"url": "redis://localhost", "retries": -1}, "retries="),
        ({"url": "redis://localhost", "retries": True}, "retries="),
        ({"url": "redis://localhost", "prefix": b"x:"}, "prefix="),
    ],
)
def test_a_wrong_setting_is_a_configuration_error(options: dict[str, Any], setting: str) -> None:
    with pytest.raises(ConfigurationError, match=setting) as caught:
        redis_store_class()(**options)
    assert PASSWORD not in str(caught.value)
    assert caught.value.__cause__ is None


@pytest.mark.parametrize("answer", [b"OK", None, 7, "0"])
def test_an_answer_no_redis_gives_is_store_unavailable(
    answer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server that speaks the protocol but is not Redis, or a proxy that
    # mangles script replies: fail closed, never dispatch on a guess.
    import redis

    client = redis.Redis()
    monkeypatch.setattr(client, "eval", lambda *args: answer)
    store = redis_store_class()(client=client)
    with pytest.raises(ReplayStoreUnavailable, match=r"unexpected answer.*client="):
        store.reserve("k", TTL, LEASE)


def test_clients_must_be_passed_for_their_side() -> None:
    import redis
    import redis.asyncio

    cls = redis_store_class()
    aclient = redis.asyncio.Redis()
    with pytest.raises(ConfigurationError, match="async_client="):
        cls(client=aclient)
    with pytest.raises(ConfigurationError, match="client="):
        cls(async_client=redis.Redis())


@pytest.mark.parametrize(
    ("ttl", "lease", "setting"),
    [
        (-1, LEASE, "ttl="),
        (TTL, float("nan"), "lease="),
        (float("inf"), LEASE, "ttl="),
        (TTL, "60", "lease="),
        (11 * 365 * 24 * 3600.0, LEASE, "ttl="),
    ],
)
def test_a_wrong_ttl_or_lease_is_refused_before_any_round_trip(
    ttl: Any, lease: Any, setting: str
) -> None:
    store = redis_store_class()(f"redis://127.0.0.1:{closed_port()}/0")
    with pytest.raises(ConfigurationError, match=setting):
        store.reserve("k", ttl, lease)
    with pytest.raises(ConfigurationError, match=setting):
        asyncio.run(store.areserve("k", ttl, lease))


def test_the_url_is_shown_without_credentials() -> None:
    cls = redis_store_class()
    store = cls(f"rediss://admin:{PASSWORD}@cache.internal:6380/2?password={PASSWORD}")
    assert repr(store) == "RedisReplayStore('rediss://***@cache.internal:6380/2', prefix='')"
    store = cls(f"unix://:{PASSWORD}@/run/redis.sock?db=4&password={PASSWORD}")
    assert repr(store) == "RedisReplayStore('unix://***@/run/redis.sock?db=4', prefix='')"
    assert "[::1]:7000" in repr(cls("redis://[::1]:7000"))


@settings(max_examples=300, deadline=None)
@given(
    user=st.sampled_from(["", "admin"]),
    password=st.text(alphabet="ab12:/?#@%[] ", min_size=1, max_size=8),
    where=st.sampled_from(["redis://{}@cache.internal:6380/2", "unix://{}@/run/redis.sock"]),
)
@example(user="", password="12?34", where="redis://{}@cache.internal:6380/2")
@example(user="", password="12#34", where="unix://{}@/run/redis.sock")
def test_any_password_is_refused_or_hidden(user: str, password: str, where: str) -> None:
    # A "/", "?" or "#" in the password ends the authority early (RFC 3986
    # §3.2): the credentials' "@" lands after the host, and the text before
    # the "?" or "#" was shown as the host ("redis://:12" for "12?34").
    url = where.format(f"{user}:{password}")
    try:
        shown = repr(redis_store_class()(url))
    except ConfigurationError as refused:
        shown = str(refused)
    # accepted and shown redacted, or refused by a message that quotes no URL
    redacted = f"RedisReplayStore({where.format('***')!r}, prefix='')"
    refusals = ("RedisReplayStore(url=...) must be a valid", "RedisReplayStore(url=...) has an '@'")
    assert shown == redacted or (shown.startswith(refusals) and "cache.internal" not in shown)


def test_an_at_sign_in_a_socket_path_is_refused_with_its_spelling() -> None:
    # "unix:///:pw@/run/redis.sock" (one slash too many) cannot be told from a
    # socket path holding an "@": refused, naming %40, which redis decodes.
    cls = redis_store_class()
    for url in (f"unix:///:{PASSWORD}@/run/redis.sock", "unix:///run/redis@main/redis.sock"):
        with pytest.raises(ConfigurationError, match="%40") as refused:
            cls(url)
        assert PASSWORD not in str(refused.value)
    store = cls(f"unix://:{PASSWORD}@/run/redis%40main/redis.sock")
    assert repr(store) == "RedisReplayStore('unix://***@/run/redis%40main/redis.sock', prefix='')"


def test_redis_is_imported_only_when_a_store_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    code = (
        "import sys, webhookverify, webhookverify.replay\n"
        "assert 'redis' not in sys.modules, 'redis imported too early'\n"
        "from webhookverify.replay import RedisReplayStore\n"
        "assert 'redis' not in sys.modules, 'redis imported by the name alone'\n"
        "RedisReplayStore('redis://localhost')\n"
        "assert 'redis' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    monkeypatch.setitem(sys.modules, "redis", None)  # as if it were not installed
    with pytest.raises(ConfigurationError, match=r"pip install 'webhookverify\[redis\]'"):
        redis_store_class()("redis://localhost")


def test_the_replay_module_exports_the_redis_store() -> None:
    import webhookverify.replay
    from webhookverify.redis_store import RedisReplayStore

    assert webhookverify.replay.RedisReplayStore is RedisReplayStore
    with pytest.raises(AttributeError):
        webhookverify.replay.NoSuchStore  # noqa: B018


# -- the memory store: bounded, thread-safe ---------------------------------------------


def flood(store: MemoryReplayStore, keys: Iterator[str] | range, *, check_every: int = 1) -> None:
    for n, key in enumerate(keys):
        name = f"id-{key}"
        store.commit(reserved(store.reserve(name, TTL, LEASE)))
        if n % check_every == 0:
            assert len(store) <= store.max_keys


def test_a_flood_of_ids_never_grows_the_memory_store_past_max_keys(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryReplayStore(max_keys=1000, clock=Clock())
    with caplog.at_level(logging.WARNING, logger="webhookverify"):
        flood(store, range(100_000), check_every=97)
    assert len(store) == 1000
    assert any("memory replay store is full" in r.getMessage() for r in caplog.records)
    # the newest are remembered; the oldest were dropped first
    assert store.reserve("id-99999", TTL, LEASE) is DONE
    assert store.reserve("id-99000", TTL, LEASE) is DONE
    assert answer_kind(store.reserve("id-98999", TTL, LEASE)) is NEW
    assert answer_kind(store.reserve("id-0", TTL, LEASE)) is NEW


def test_a_full_memory_store_never_drops_an_in_flight_key() -> None:
    store = MemoryReplayStore(max_keys=100, clock=Clock())
    for n in range(10):
        reserved(store.reserve(f"busy-{n}", TTL, LEASE))
    flood(store, range(5000))
    assert [store.reserve(f"busy-{n}", TTL, LEASE) for n in range(10)] == [IN_FLIGHT] * 10
    assert len(store) == 100


def test_a_memory_store_full_of_in_flight_keys_is_unavailable_until_one_settles() -> None:
    clock = Clock()
    store = MemoryReplayStore(max_keys=50, clock=clock)
    busy = [reserved(store.reserve(f"busy-{n}", TTL, SHORT)) for n in range(50)]
    with pytest.raises(ReplayStoreUnavailable, match="max_keys="):
        store.reserve("one-more", TTL, LEASE)
    store.commit(busy[0])  # a done key may be dropped to make room
    reserved(store.reserve("one-more", TTL, LEASE))
    with pytest.raises(ReplayStoreUnavailable):
        store.reserve("two-more", TTL, LEASE)
    store.release(busy[1])
    reserved(store.reserve("two-more", TTL, LEASE))
    clock.now += PAST_SHORT  # the short leases have ended: their slots are free again
    reserved(store.reserve("three-more", TTL, LEASE))
    assert len(store) <= 50


def run_threads(count: int, work: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_sixteen_threads_get_each_key_of_the_memory_store_new_once() -> None:
    store = MemoryReplayStore()
    shared = [f"shared-{n}" for n in range(500)]
    start = threading.Barrier(16)
    won: list[list[str]] = [[] for _ in range(16)]

    def work(n: int) -> None:
        order = list(shared)
        random.Random(n).shuffle(order)
        start.wait()
        for key in order:
            answer = store.reserve(key, TTL, LEASE)
            if isinstance(answer, Reservation):
                won[n].append(key)
                store.commit(answer) if len(won[n]) % 2 else store.release(answer)

    run_threads(16, work)
    # a released key may be won again, a committed one never
    wins = Counter(key for keys in won for key in keys)
    assert set(wins) == set(shared)
    answers = Counter(answer_kind(store.reserve(key, TTL, LEASE)) for key in shared)
    assert answers[IN_FLIGHT] == 0
    assert answers[DONE] + answers[NEW] == len(shared)
    assert answers[DONE] >= len(shared) // 3


def test_sixteen_threads_flooding_the_memory_store_keep_it_bounded() -> None:
    store = MemoryReplayStore(max_keys=256)
    start = threading.Barrier(16)
    sizes: list[list[int]] = [[] for _ in range(16)]

    def work(n: int) -> None:
        start.wait()
        for i in range(2000):
            key = f"id-{n}-{i}"
            mine = reserved(store.reserve(key, TTL, LEASE))  # never all 256 in flight
            store.commit(mine) if i % 4 else store.release(mine)
            sizes[n].append(len(store))

    run_threads(16, work)
    assert max(max(each) for each in sizes) <= 256
    assert len(store) == 256


@pytest.mark.parametrize("max_keys", [0, -1, True, 1.5, "10"])
def test_the_memory_store_bound_must_be_a_positive_int(max_keys: Any) -> None:
    with pytest.raises(ConfigurationError, match="max_keys="):
        MemoryReplayStore(max_keys=max_keys)
