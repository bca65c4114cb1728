"""Fixtures for tests that need a real Redis server.

``tests/conftest.py`` imports the fixtures for every module. ``REDIS_URL``
names the server (default ``redis://127.0.0.1:6379/0``). When it cannot be
reached, a test that needs it is skipped with a message, or fails when the
``CI`` environment variable is set, so that CI never passes by skipping the
Redis tests.
"""

from __future__ import annotations

import os
import random
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Long enough for a loaded CI machine, short enough that a missing server
# costs one second, once per session.
PING_TIMEOUT = 1.0


@pytest.fixture(scope="session")
def _redis_server() -> str:
    url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    import redis

    client = redis.Redis.from_url(
        url, socket_timeout=PING_TIMEOUT, socket_connect_timeout=PING_TIMEOUT
    )
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        message = (
            f"no Redis server answers at REDIS_URL (default {DEFAULT_REDIS_URL}): "
            f"{type(exc).__name__}; start one, e.g. redis-server --port 6399 --save '', and set "
            "REDIS_URL=redis://127.0.0.1:6399/0"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    finally:
        client.close()
    return url


@pytest.fixture
def redis_url(_redis_server: str) -> str:
    """The URL of a Redis server that answered a ping."""
    return _redis_server


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Any]:
    """A plain ``redis.Redis`` client on the test server, to look at keys directly."""
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_client: Any) -> Iterator[str]:
    """A key prefix unique to the test; every key under it is deleted afterwards."""
    prefix = f"webhookverify-test:{uuid.uuid4().hex}:"
    yield prefix
    for batch in _batches(redis_client.scan_iter(match=prefix + "*", count=1000)):
        redis_client.delete(*batch)


def _batches(keys: Iterator[Any], size: int = 500) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for key in keys:
        batch.append(key)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hammer(url: str, prefix: str, keys: list[str], seed: int, start: Any, results: Any) -> None:
    """Run in a separate process: reserve every key (in a shuffled order), commit
    the ones this process got, and report ``(pid, new keys, answers by kind)``.

    ``start`` is a multiprocessing barrier, so that every process begins at
    the same moment and they really contend for the keys.
    """
    from webhookverify.replay import RedisReplayStore, Reservation

    order = list(keys)
    random.Random(seed).shuffle(order)
    new: list[str] = []
    answers = {"new": 0, "in_flight": 0, "done": 0}
    with RedisReplayStore(url, prefix=prefix) as store:
        store.reserve("warm-up", 1, 1)  # connect before the race starts
        start.wait()
        for key in order:
            answer = store.reserve(key, 60, 30)
            if isinstance(answer, Reservation):
                answers["new"] += 1
                new.append(key)
                store.commit(answer)
            else:
                answers[answer.value] += 1
    results.put((os.getpid(), new, answers))
