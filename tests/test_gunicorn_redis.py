"""The replay store under real concurrency: gunicorn with two sync worker
processes sharing one Redis, over loopback, receiving the same delivery at
once.

One worker runs the listener; the copy, in the other worker, gets 409 with
``Retry-After`` and runs nothing. When the first run fails, its 500 releases
the key and the sender's retry runs the listener again; once it succeeded, a
copy is acknowledged without running it.
"""

from __future__ import annotations

import concurrent.futures
import json
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import redis_served_app
from test_servers import TESTS, free_port, running
from webhookverify.testing import sign_request

pytestmark = [pytest.mark.server, pytest.mark.redis]


@pytest.fixture
def base(redis_url: str, redis_prefix: str) -> Iterator[str]:
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "redis_served_app:app",
            "--bind", f"127.0.0.1:{port}", "--workers", "2", "--worker-class", "sync",
            "--log-level", "warning"]  # fmt: skip
    env = {"REDIS_URL": redis_url, "REDIS_PREFIX": redis_prefix}
    with running("gunicorn", argv, port, cwd=TESTS, env=env):
        yield f"http://127.0.0.1:{port}"


def post_twice_at_once(base: str, body: bytes) -> list[httpx.Response]:
    """The same signed delivery sent twice at the same moment, on two connections."""
    headers = dict(sign_request(redis_served_app.verifier(), body).headers.items())

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=15) as client:
            return client.post("/webhooks", content=body, headers=headers)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        return sorted(pool.map(post, range(2)), key=lambda r: r.status_code)


def runs(redis_client: Any, prefix: str, body: bytes) -> int:
    """How many times the listener ran for ``body``, in any worker."""
    return int(redis_client.get(redis_served_app.runs_key(prefix, body)) or 0)


def test_a_copy_at_once_gets_409_then_a_duplicate_200(
    base: str, redis_client: Any, redis_prefix: str
) -> None:
    body = json.dumps({"id": uuid.uuid4().hex}).encode()
    first, copy = sorted(post_twice_at_once(base, body), key=lambda r: r.status_code)
    assert (first.status_code, copy.status_code) == (200, 409)
    assert int(copy.headers["Retry-After"]) > 0
    assert runs(redis_client, redis_prefix, body) == 1
    retry = post_twice_at_once(base, body)
    assert [r.status_code for r in retry] == [200, 200]
    assert runs(redis_client, redis_prefix, body) == 1


def test_a_failed_first_run_is_run_again_on_the_retry(
    base: str, redis_client: Any, redis_prefix: str
) -> None:
    body = json.dumps({"id": uuid.uuid4().hex, "fail_first": True}).encode()
    failed, copy = post_twice_at_once(base, body)[::-1]
    assert (copy.status_code, failed.status_code) == (409, 500)
    assert runs(redis_client, redis_prefix, body) == 1
    headers = dict(sign_request(redis_served_app.verifier(), body).headers.items())
    with httpx.Client(base_url=base, timeout=15) as client:
        retried = client.post("/webhooks", content=body, headers=headers)
        copy_after = client.post("/webhooks", content=body, headers=headers)
    assert retried.status_code == 200
    assert copy_after.status_code == 200
    assert runs(redis_client, redis_prefix, body) == 2
