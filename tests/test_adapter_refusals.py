"""Requests the adapters refuse themselves fire ``webhook.rejected``, and the
ASGI adapters log a client gone before the answer for what it is."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from webhookverify import (
    EventBus,
    Handler,
    HandlerRegistry,
    HmacVerifier,
    Receiver,
    Rejection,
    asgi,
    wsgi,
)
from webhookverify.testing import (
    make_environ,
    make_scope,
    run_asgi,
    run_wsgi,
    sign_request,
)

SECRET = "refusal-test-secret"
URL = "https://hooks.example.test/webhooks/in"
LIMIT = 64


def verifier() -> HmacVerifier:
    return HmacVerifier(secret=SECRET, header="X-Signature", encoding="base64")


def build() -> tuple[Receiver, list[Rejection], list[Any]]:
    bus = EventBus()
    rejections: list[Rejection] = []
    seen: list[Any] = []
    bus.bind("webhook.rejected", rejections.append)
    bus.bind("webhook.received", seen.append)
    return Receiver(HandlerRegistry([Handler("svc", verifier())]), bus), rejections, seen


async def inner(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def wsgi_inner(environ: Any, start_response: Any) -> list[bytes]:
    start_response("204 No Content", [])
    return [b""]


# (what the request is, keyword arguments for the environ/scope builders,
#  the status, the reason code)
REFUSALS = [
    ("wrong method", {"method": "PUT"}, 405, "method_not_allowed"),
    ("too large", {"body": b"x" * (LIMIT + 1)}, 413, "body_too_large"),
    ("bad length", {"content_length": "12, 13"}, 400, "invalid_content_length"),
]


def _check(rejection: Rejection, status: int, reason: str, method: str, addr: str) -> None:
    assert rejection.request is None
    assert (rejection.status, rejection.reason) == (status, reason)
    assert (rejection.method, rejection.path, rejection.remote_addr) == (
        method,
        "/webhooks/in",
        addr,
    )
    assert rejection.attempts == ()
    assert rejection.error is not None


@pytest.mark.parametrize("kind", ["app", "middleware"])
@pytest.mark.parametrize(("label", "options", "status", "reason"), REFUSALS)
def test_wsgi_adapter_refusals_fire_webhook_rejected(
    kind: str, label: str, options: dict[str, Any], status: int, reason: str
) -> None:
    receiver, rejections, seen = build()
    app: Any = (
        wsgi.WebhookApp(receiver, max_body_size=LIMIT)
        if kind == "app"
        else wsgi.WebhookMiddleware(wsgi_inner, receiver, path="/webhooks/in", max_body_size=LIMIT)
    )
    environ = make_environ(url=URL, remote_addr="203.0.113.7", **{"method": "POST", **options})
    assert run_wsgi(app, environ).status == status
    [rejection] = rejections
    _check(rejection, status, reason, options.get("method", "POST"), "203.0.113.7")
    assert seen == []


def test_wsgi_411_fires_webhook_rejected() -> None:
    receiver, rejections, _ = build()
    environ = make_environ(url=URL, method="POST", body=b"{}", chunked=True, input_terminated=False)
    assert run_wsgi(wsgi.WebhookApp(receiver), environ).status == 411
    [rejection] = rejections
    _check(rejection, 411, "length_required", "POST", "127.0.0.1")


@pytest.mark.parametrize("kind", ["app", "middleware"])
@pytest.mark.parametrize(("label", "options", "status", "reason"), REFUSALS)
def test_asgi_adapter_refusals_fire_webhook_rejected(
    kind: str, label: str, options: dict[str, Any], status: int, reason: str
) -> None:
    receiver, rejections, seen = build()
    awaited: list[Rejection] = []

    async def async_listener(rejection: Rejection) -> None:
        await asyncio.sleep(0)
        awaited.append(rejection)

    receiver.bus.bind("webhook.rejected", async_listener)
    app: Any = (
        asgi.WebhookApp(receiver, max_body_size=LIMIT)
        if kind == "app"
        else asgi.WebhookMiddleware(inner, receiver, path="/webhooks/in", max_body_size=LIMIT)
    )
    options = dict(options)
    body = options.pop("body", b"{}")
    scope = make_scope(
        url=URL, client=("203.0.113.8", 4000), body=body, **{"method": "POST", **options}
    )
    response = run_asgi(app, scope, body)
    assert response is not None and response.status == status
    [rejection] = rejections
    _check(rejection, status, reason, options.get("method", "POST"), "203.0.113.8")
    assert awaited == [rejection]
    assert seen == []


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_a_failing_rejected_listener_is_logged_and_changes_nothing(
    server: str, caplog: pytest.LogCaptureFixture
) -> None:
    receiver, rejections, _ = build()

    def broken(rejection: Rejection) -> None:
        raise RuntimeError("the metrics backend is down")

    receiver.bus.bind("webhook.rejected", broken, priority=10)
    if server == "wsgi":
        response: Any = run_wsgi(wsgi.WebhookApp(receiver), make_environ(url=URL, method="GET"))
    else:
        response = run_asgi(asgi.WebhookApp(receiver), make_scope(url=URL, method="GET"))
    assert response.status == 405
    assert len(rejections) == 1  # the other listener still ran
    assert "a listener of webhook.rejected failed" in caplog.text


# -- a client gone before the answer -----------------------------------------------------


def _gone_after_dispatch(app: Any, request: Any) -> None:
    """Run ``app`` with a server whose ``send`` fails: the client has left."""
    scope = make_scope(request)
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": request.body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        raise OSError("the client disconnected")  # as ASGI HTTP 2.4 servers do

    asyncio.run(app(scope, receive, send))


@pytest.mark.parametrize("kind", ["app", "middleware"])
def test_asgi_client_gone_after_dispatch_is_not_logged_as_a_500(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="webhookverify")
    receiver, _, seen = build()
    app: Any = (
        asgi.WebhookApp(receiver)
        if kind == "app"
        else asgi.WebhookMiddleware(inner, receiver, path="/webhooks/in")
    )
    request = sign_request(verifier(), b'{"n": 1}', url=URL)
    _gone_after_dispatch(app, request)
    assert "answering 500" not in caplog.text
    [gone] = [r for r in caplog.records if "client went away" in r.getMessage()]
    assert gone.levelno == logging.WARNING
    assert "nothing was answered" in gone.getMessage()
    assert gone.webhookverify["outcome"] == "accepted"  # type: ignore[attr-defined]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # what the log says held: the delivery was processed, a copy is a duplicate
    again = run_asgi(app, make_scope(request), request.body)
    assert again is not None and (again.status, again.body) == (200, b"")
    if kind == "app":
        assert len(seen) == 1
