"""A replay store that fails while a delivery's key is settled.

The listeners ran; the store must now record the delivery as done (commit) or
forget it (release). A store that fails at that moment is retried within the
request, and an outcome that could still not be recorded says so.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest

from webhookverify import Delivery, EventBus, Handler, HandlerRegistry, HmacVerifier, Receiver
from webhookverify._settle import SETTLE_ATTEMPTS
from webhookverify.errors import ReplayStoreUnavailable
from webhookverify.replay import MemoryReplayStore, RedisReplayStore, Reservation, ReserveResult
from webhookverify.testing import sign_request

SECRET = "settle-test-secret"


def verifier() -> HmacVerifier:
    return HmacVerifier(
        secret=SECRET,
        header="Webhook-Signature",
        template="{id}.{timestamp}.{body}",
        id_header="Webhook-Id",
        timestamp_header="Webhook-Timestamp",
    )


class FlakyStore:
    """A memory store whose commit (or release) fails the next ``fail`` times."""

    def __init__(self, *, fail_commit: int = 0, fail_release: int = 0) -> None:
        self.inner = MemoryReplayStore()
        self.fail_commit = fail_commit
        self.fail_release = fail_release
        self.calls: list[str] = []

    def reserve(self, key: str, ttl: float, lease: float) -> Reservation | ReserveResult:
        return self.inner.reserve(key, ttl, lease)

    def commit(self, reservation: Reservation) -> None:
        self.calls.append("commit")
        if self.fail_commit:
            self.fail_commit -= 1
            raise ReplayStoreUnavailable("the store went away")
        self.inner.commit(reservation)

    def release(self, reservation: Reservation) -> None:
        self.calls.append("release")
        if self.fail_release:
            self.fail_release -= 1
            raise ReplayStoreUnavailable("the store went away")
        self.inner.release(reservation)


class AsyncFlakyStore(FlakyStore):
    """The same, with async methods (used by ``areceive`` instead of a thread)."""

    async def areserve(self, key: str, ttl: float, lease: float) -> Reservation | ReserveResult:
        return self.reserve(key, ttl, lease)

    async def acommit(self, reservation: Reservation) -> None:
        await asyncio.sleep(0)
        self.commit(reservation)

    async def arelease(self, reservation: Reservation) -> None:
        self.release(reservation)


def build(store: Any) -> tuple[Receiver, list[Delivery], list[int]]:
    """A receiver whose one listener records deliveries and fails while told to."""
    seen: list[Delivery] = []
    fail = [0]

    def listener(delivery: Delivery) -> None:
        if fail[0]:
            fail[0] -= 1
            raise RuntimeError("the listener failed")
        seen.append(delivery)

    bus = EventBus()
    bus.bind("webhook.received", listener)
    handler = Handler("svc", verifier())
    return Receiver(HandlerRegistry([handler]), bus, replay_store=store, lease=30), seen, fail


def delivery() -> Any:
    return sign_request(verifier(), b'{"n": 1}', id="msg_settle_1")


@pytest.mark.parametrize("failures", range(1, SETTLE_ATTEMPTS))
def test_a_commit_that_fails_then_succeeds_is_retried_before_answering(failures: int) -> None:
    store = FlakyStore(fail_commit=failures)
    receiver, seen, _ = build(store)
    request = delivery()
    outcome = receiver.receive(request)
    assert (outcome.status, outcome.reason) == (200, "accepted")
    assert store.calls == ["commit"] * (failures + 1)
    # the store holds the delivery as done: a copy is a duplicate, not a 409
    copy = receiver.receive(request)
    assert (copy.status, copy.reason) == (200, "duplicate")
    assert len(seen) == 1


@pytest.mark.parametrize("failures", range(1, SETTLE_ATTEMPTS))
def test_async_commit_retry_awaits_without_blocking_the_loop(failures: int) -> None:
    store = AsyncFlakyStore(fail_commit=failures)
    receiver, seen, _ = build(store)
    request = delivery()

    async def main() -> tuple[Any, Any, int]:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.005)

        task = asyncio.create_task(ticker())
        outcome = await receiver.areceive(request)
        stop.set()
        await task
        return outcome, await receiver.areceive(request), ticks

    outcome, copy, ticks = asyncio.run(main())
    assert (outcome.status, outcome.reason) == (200, "accepted")
    assert (copy.status, copy.reason) == (200, "duplicate")
    assert store.calls == ["commit"] * (failures + 1)
    assert len(seen) == 1
    assert ticks >= 3  # the loop ran other tasks through the pauses


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_commit_that_always_fails_is_reported_honestly(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="webhookverify")
    store = AsyncFlakyStore(fail_commit=10**6) if mode == "async" else FlakyStore(fail_commit=10**6)
    receiver, seen, _ = build(store)
    request = delivery()
    if mode == "async":
        outcome = asyncio.run(receiver.areceive(request))
    else:
        outcome = receiver.receive(request)
    # processed, so accepted (a 5xx would have the sender dispatch it again),
    # but the outcome says the store does not hold it as done
    assert (outcome.status, outcome.reason) == (200, "accepted_uncommitted")
    assert store.calls == ["commit"] * SETTLE_ATTEMPTS
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    message = errors[0].getMessage()
    assert "failed to commit" in message and "30 s" in message and "409" in message
    assert errors[0].webhookverify["reason"] == "accepted_uncommitted"  # type: ignore[attr-defined]
    retries = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(retries) == SETTLE_ATTEMPTS - 1
    # what the store holds: the key in flight until the lease ends
    assert receiver.receive(request).status == 409
    assert len(seen) == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_release_that_fails_once_is_retried_so_the_senders_retry_is_processed(
    mode: str,
) -> None:
    store = AsyncFlakyStore(fail_release=1)
    receiver, seen, fail = build(store)
    fail[0] = 1
    request = delivery()

    def receive() -> Any:
        if mode == "async":
            return asyncio.run(receiver.areceive(request))
        return receiver.receive(request)

    assert receive().status == 500
    assert store.calls == ["release", "release"]
    retried = receive()  # not 409: the key was released after all
    assert (retried.status, retried.reason) == (200, "accepted")
    assert len(seen) == 1


class SyncOnlyStore(MemoryReplayStore):
    """A memory store without async methods: ``areceive`` runs its sync ones in
    worker threads, as it does for any store of a user's that has only those."""

    blocking = True  # its sync methods go to worker threads, as a blocking store's
    areserve = None  # type: ignore[assignment]
    acommit = None  # type: ignore[assignment]
    arelease = None  # type: ignore[assignment]


def test_a_stale_release_from_a_worker_thread_leaves_the_newer_reservation_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A fails after its lease ran out and B took the key. A's release must not
    # free B's reservation, else a third copy C is dispatched while B still
    # runs. Ownership kept in a context variable was lost here: reserve and
    # release ran in worker threads, each in a copy of the task's context.
    clock = [1000.0]
    store = SyncOnlyStore(clock=lambda: clock[0])
    started = [asyncio.Event(), asyncio.Event()]
    finish = [asyncio.Event(), asyncio.Event()]
    calls: list[int] = []

    async def listener(delivery: Delivery) -> None:
        n = len(calls)
        calls.append(n)
        if n < 2:
            started[n].set()
            await finish[n].wait()
            if n == 0:
                raise RuntimeError("A failed")

    bus = EventBus()
    bus.bind("webhook.received", listener)
    receiver = Receiver(HandlerRegistry([Handler("svc", verifier())]), bus, replay_store=store)
    request = delivery()

    async def main() -> tuple[int, int, int]:
        a = asyncio.create_task(receiver.areceive(request))
        await started[0].wait()
        clock[0] += receiver.lease + 1  # A's lease runs out
        b = asyncio.create_task(receiver.areceive(request))
        await started[1].wait()
        finish[0].set()
        a_status = (await a).status  # A failed: 500, and it releases its reservation
        c_status = (await receiver.areceive(request)).status  # B still runs: 409
        finish[1].set()
        return a_status, c_status, (await b).status

    with caplog.at_level(logging.WARNING, logger="webhookverify"):
        assert asyncio.run(main()) == (500, 409, 200)
    assert calls == [0, 1]  # C was not dispatched
    assert "lease ended before its release" in caplog.text
    assert receiver.receive(request).reason == "duplicate"  # B's commit stands


# -- with the real Redis store -----------------------------------------------------------


def _flaky_redis(redis_url: str, *, asynchronous: bool, fail_calls: set[int]) -> Any:
    """A real redis client whose ``eval`` raises ConnectionError on the given
    calls (1 = the first): each reserve, commit or release of the store is one call."""
    import redis
    import redis.asyncio

    calls = 0

    def failing() -> bool:
        nonlocal calls
        calls += 1
        return calls in fail_calls

    if asynchronous:
        aclient = redis.asyncio.Redis.from_url(redis_url)
        real_aeval = aclient.eval

        async def aeval(*args: Any) -> Any:
            if failing():
                raise redis.ConnectionError("connection reset by peer")
            return await real_aeval(*args)  # type: ignore[misc]

        aclient.eval = aeval  # type: ignore[method-assign]
        return aclient
    client = redis.Redis.from_url(redis_url)
    real_eval = client.eval

    def eval_(*args: Any) -> Any:
        if failing():
            raise redis.ConnectionError("connection reset by peer")
        return real_eval(*args)

    client.eval = eval_  # type: ignore[method-assign]
    return client


@pytest.mark.redis
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_redis_commit_failing_once_is_retried_and_the_key_is_done(
    mode: str, redis_url: str, redis_prefix: str, redis_client: Any
) -> None:
    asynchronous = mode == "async"
    # call 1 reserves, call 2 is the first commit: it fails
    client = _flaky_redis(redis_url, asynchronous=asynchronous, fail_calls={2})
    if asynchronous:
        store = RedisReplayStore(async_client=client, prefix=redis_prefix)
    else:
        store = RedisReplayStore(client=client, prefix=redis_prefix)
    receiver, seen, _ = build(store)
    request = delivery()

    async def twice() -> tuple[Any, Any]:
        first = await receiver.areceive(request)
        copy = await receiver.areceive(request)
        await client.aclose()
        return first, copy

    if asynchronous:
        outcome, copy = asyncio.run(twice())
    else:
        outcome, copy = receiver.receive(request), receiver.receive(request)
        client.close()
    assert (outcome.status, outcome.reason) == (200, "accepted")
    assert outcome.delivery is not None and outcome.delivery.replay_key is not None
    assert redis_client.get(redis_prefix + outcome.delivery.replay_key) == b"d"
    assert (copy.status, copy.reason) == (200, "duplicate")
    assert len(seen) == 1


@pytest.mark.redis
def test_redis_commit_failing_every_time_leaves_the_key_in_flight(
    redis_url: str, redis_prefix: str, redis_client: Any
) -> None:
    client = _flaky_redis(redis_url, asynchronous=False, fail_calls={2, 3, 4})
    store = RedisReplayStore(client=client, prefix=redis_prefix)
    receiver, seen, _ = build(store)
    request = delivery()
    outcome = receiver.receive(request)
    assert (outcome.status, outcome.reason) == (200, "accepted_uncommitted")
    assert outcome.delivery is not None and outcome.delivery.replay_key is not None
    held = redis_client.get(redis_prefix + outcome.delivery.replay_key)
    assert held is not None and held.startswith(b"f|")  # in flight, as the outcome says
    assert 0 < redis_client.pttl(redis_prefix + outcome.delivery.replay_key) <= 30_000
    assert receiver.receive(request).status == 409
    client.close()
    assert len(seen) == 1


class NonBlockingFlakyStore(FlakyStore):
    """A store that says its sync methods never block: ``areceive`` calls them on
    the event loop's own thread, and has no async methods to call."""

    blocking = False

    def __init__(self, **fail: int) -> None:
        super().__init__(**fail)
        self.threads: set[int] = set()

    def reserve(self, key: str, ttl: float, lease: float) -> Reservation | ReserveResult:
        self.threads.add(threading.get_ident())
        return super().reserve(key, ttl, lease)

    def commit(self, reservation: Reservation) -> None:
        self.threads.add(threading.get_ident())
        super().commit(reservation)

    def release(self, reservation: Reservation) -> None:
        self.threads.add(threading.get_ident())
        super().release(reservation)


@pytest.mark.parametrize("step", ["commit", "release"])
def test_a_store_that_does_not_block_is_called_on_the_loop_and_retried_with_awaited_pauses(
    step: str,
) -> None:
    store = NonBlockingFlakyStore(**{f"fail_{step}": 1})
    receiver, seen, fail = build(store)
    fail[0] = 1 if step == "release" else 0
    request = delivery()

    async def main() -> tuple[list[Any], int, int]:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.005)

        task = asyncio.create_task(ticker())
        outcomes = [await receiver.areceive(request), await receiver.areceive(request)]
        stop.set()
        await task
        return outcomes, ticks, threading.get_ident()

    outcomes, ticks, loop_thread = asyncio.run(main())
    first, second = [(o.status, o.reason) for o in outcomes]
    if step == "commit":
        assert (first, second) == ((200, "accepted"), (200, "duplicate"))
    else:  # released after the failed listener: the retry is processed
        assert (first, second) == ((500, "listener_failed"), (200, "accepted"))
    assert store.calls == [step, step, *(["commit"] if step == "release" else [])]
    assert store.threads == {loop_thread}  # never in a worker thread
    assert ticks >= 2  # the pause before the retry was awaited, not slept
    assert len(seen) == 1
