"""The receive pipeline over a real Redis shared by several processes."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest

from webhookverify import EventBus, Handler, HandlerRegistry, HmacVerifier, Receiver
from webhookverify.replay import RedisReplayStore
from webhookverify.testing import sign_request

from _redis import closed_port

pytestmark = pytest.mark.redis

SECRET = "shared-secret-for-the-workers"
DELIVERIES = 200


def _verifier() -> HmacVerifier:
    return HmacVerifier(
        secret=SECRET,
        header="Webhook-Signature",
        template="{id}.{timestamp}.{body}",
        id_header="Webhook-Id",
        timestamp_header="Webhook-Timestamp",
        tolerance=None,
    )


def _requests() -> list[Any]:
    verifier = _verifier()
    return [
        sign_request(verifier, f'{{"n":{i}}}'.encode(), now=1_700_000_000, id=f"msg_{i}")
        for i in range(DELIVERIES)
    ]


def _worker(url: str, prefix: str, start: Any, results: Any) -> None:
    """One receiver process: receive every delivery once, record what it dispatched."""
    dispatched: list[str | None] = []
    bus = EventBus()
    bus.bind("webhook.received", lambda delivery: dispatched.append(delivery.delivery_id))
    store = RedisReplayStore(url, prefix=prefix)
    receiver = Receiver(HandlerRegistry([Handler("svc", _verifier())]), bus, replay_store=store)
    statuses: dict[int, int] = {}
    requests = _requests()
    start.wait()
    for request in requests:
        status = receiver.receive(request).status
        statuses[status] = statuses.get(status, 0) + 1
    store.close()
    results.put((dispatched, statuses))


def test_two_processes_share_one_redis_and_dispatch_each_delivery_once(
    redis_url: str,
    redis_prefix: str,
) -> None:
    context = multiprocessing.get_context("spawn")
    processes = 3
    start = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(target=_worker, args=(redis_url, redis_prefix, start, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    collected = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    dispatched = [delivery_id for ids, _ in collected for delivery_id in ids]
    assert sorted(dispatched) == sorted(f"msg_{i}" for i in range(DELIVERIES))
    statuses: dict[int, int] = {}
    for _, counts in collected:
        for status, count in counts.items():
            statuses[status] = statuses.get(status, 0) + count
    # every copy got an answer a sender understands: 200 (processed or duplicate)
    # or 409 (in flight elsewhere: retry later); nothing else
    assert set(statuses) <= {200, 409}
    assert sum(statuses.values()) == processes * DELIVERIES


def test_redis_down_answers_503_and_dispatches_nothing() -> None:
    dispatched: list[Any] = []
    bus = EventBus()
    bus.bind("webhook.received", dispatched.append)
    store = RedisReplayStore(f"redis://127.0.0.1:{closed_port()}/0", socket_timeout=0.5)
    receiver = Receiver(HandlerRegistry([Handler("svc", _verifier())]), bus, replay_store=store)
    outcome = receiver.receive(_requests()[0])
    assert outcome.status == 503
    assert ("Retry-After", str(receiver.retry_after)) in outcome.headers
    assert dispatched == []


def test_areceive_over_redis(redis_url: str, redis_prefix: str) -> None:
    import asyncio

    dispatched: list[Any] = []

    async def listener(delivery: Any) -> None:
        dispatched.append(delivery.delivery_id)

    bus = EventBus()
    bus.bind("webhook.received", listener)
    store = RedisReplayStore(redis_url, prefix=redis_prefix)
    receiver = Receiver(HandlerRegistry([Handler("svc", _verifier())]), bus, replay_store=store)
    request = _requests()[0]

    async def main() -> list[int]:
        try:
            return [(await receiver.areceive(request)).status for _ in range(3)]
        finally:
            await store.aclose()

    assert asyncio.run(main()) == [200, 200, 200]
    assert dispatched == ["msg_0"]
