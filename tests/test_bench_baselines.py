"""The hand-written receivers the benchmarks compare against are correct.

``benchmarks/bench_adapters.py`` measures ``WebhookApp`` against a minimal
receiver and against ``guarded`` (``benchmarks/_guarded.py``: the library's
default guarantees written by hand). A baseline that accepted a forgery, or
skipped a check the library makes, would flatter itself; here ``guarded``
must answer every request as ``WebhookApp`` does, and ``minimal`` must at
least refuse what is not signed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from webhookverify.testing import make_environ, make_scope, run_asgi, run_wsgi

from benchmarks import bench_adapters as bench

URL = "http://127.0.0.1:8000" + bench.PATH
NOW = int(time.time())
SIGNED = {"Content-Type": "application/json", **bench.signed_headers("msg_1", NOW)}
# one more than a header may list (verifiers.MAX_SIGNATURES), the good one last
SEVENTEEN = " ".join(["v1,AAAA"] * 16 + [SIGNED["webhook-signature"]])

# (what is sent, keywords of make_scope/make_environ): each answered alike by guarded and webhook
CASES: list[tuple[str, dict[str, Any]]] = [
    ("signed", {"headers": SIGNED}),
    ("signed again (a duplicate)", {"headers": SIGNED}),
    ("tampered body", {"headers": SIGNED, "body": bench.BODY[:-1] + b"!"}),
    ("wrong signature", {"headers": {**SIGNED, "webhook-signature": "v1,AAAA"}}),
    ("stale", {"headers": bench.signed_headers("msg_2", NOW - 1_000)}),
    ("from the future", {"headers": bench.signed_headers("msg_3", NOW + 1_000)}),
    ("no signature", {"headers": {"webhook-id": "msg_4", "webhook-timestamp": str(NOW)}}),
    ("GET", {"headers": SIGNED, "method": "GET"}),
    ("a control character in a value", {"headers": {**SIGNED, "X-Bad": "a\x01b"}}),
    ("a space in a name", {"headers": {**SIGNED, "Bad Name": "x"}}),
    ("too many fields", {"headers": {**SIGNED, **{f"X-{n}": "v" for n in range(120)}}}),
    ("too many header bytes", {"headers": {**SIGNED, "X-Big": "v" * 70_000}}),
    ("a body over 1 MiB announced", {"headers": SIGNED, "content_length": str(2 << 20)}),
    ("a malformed Content-Length", {"headers": SIGNED, "content_length": "12a"}),
    ("a malformed Host", {"headers": {**SIGNED, "Host": "a b"}}),
    ("17 signatures", {"headers": {**SIGNED, "webhook-signature": SEVENTEEN}}),
    ("a second delivery", {"headers": {**SIGNED, **bench.signed_headers("msg_5", NOW)}}),
]


def _asgi(app: Any) -> Callable[[dict[str, Any]], int]:
    def send(case: dict[str, Any]) -> int:
        body = case.pop("body", bench.BODY)
        response = run_asgi(app, make_scope(url=URL, body=body, **case), body)
        assert response is not None
        return response.status

    return send


def _wsgi(app: Any) -> Callable[[dict[str, Any]], int]:
    def send(case: dict[str, Any]) -> int:
        body = case.pop("body", bench.BODY)
        return run_wsgi(app, make_environ(url=URL, body=body, **case)).status

    return send


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_guarded_answers_every_request_as_webhook_app_does(kind: str) -> None:
    wrap = _asgi if kind == "asgi" else _wsgi
    guarded = wrap(getattr(bench, f"guarded_{kind}")())
    webhook = wrap(getattr(bench, f"webhook_{kind}")())
    answers = [(what, guarded(dict(case)), webhook(dict(case))) for what, case in CASES]
    assert [(what, g) for what, g, _ in answers] == [(what, w) for what, _, w in answers]
    assert {status for _, status, _ in answers} == {200, 400, 401, 405, 413, 431}


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_minimal_refuses_what_is_not_signed(kind: str) -> None:
    wrap = _asgi if kind == "asgi" else _wsgi
    minimal = wrap(getattr(bench, f"minimal_{kind}")())
    statuses = {what: minimal(dict(case)) for what, case in CASES[:7]}
    assert statuses == {
        "signed": 200,
        "signed again (a duplicate)": 200,
        "tampered body": 401,
        "wrong signature": 401,
        "stale": 401,
        "from the future": 401,
        "no signature": 401,
    }


def test_guarded_holds_a_delivery_in_flight_and_releases_it_on_failure() -> None:
    from benchmarks._guarded import guarded_wsgi

    calls: list[bytes] = []
    inner: list[int] = []

    def listener(delivery: dict[str, Any]) -> None:
        calls.append(delivery["id"])
        if len(calls) == 1:
            raise RuntimeError("the first attempt fails")
        if len(calls) == 2:  # a copy arriving while this one runs
            inner.append(send({"headers": SIGNED}))

    send = _wsgi(guarded_wsgi(bench.KEY, listener))
    assert send({"headers": SIGNED}) == 500  # released: the retry is processed
    assert send({"headers": SIGNED}) == 200
    assert inner == [409]
    assert send({"headers": SIGNED}) == 200  # done: a duplicate, not run again
    assert calls == [b"msg_1", b"msg_1"]
