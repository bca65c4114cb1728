"""What the wrapped app answers decides what the replay store records.

Under a middleware, the app is the one that processes a delivery: only its
2xx records the delivery as done. Any other answer (a validation error,
Django's CSRF 403 or DisallowedHost 400, a redirect, a 5xx) or a raise
releases the key, so the sender's retry reaches the app again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import webhookverify
from webhookverify import EventBus, Handler, HandlerRegistry, HmacVerifier, Receiver, asgi, wsgi
from webhookverify.testing import (
    call_asgi,
    make_environ,
    make_scope,
    run_asgi,
    run_wsgi,
    sign_request,
)

SECRET = "middleware-answers-secret"
URL = "https://hooks.example.test/webhooks/in"
NOT_PROCESSED = [(400, "Bad Request"), (403, "Forbidden"), (302, "Found"), (500, "Server Error")]
# the webhookverify under test, for the Django subprocess
SRC = Path(webhookverify.__file__).resolve().parent.parent


def verifier() -> HmacVerifier:
    return HmacVerifier(secret=SECRET, header="X-Signature", encoding="base64")


def receiver() -> Receiver:
    return Receiver(HandlerRegistry([Handler("svc", verifier())]), EventBus())


class WsgiApp:
    def __init__(self, status: str) -> None:
        self.status = status
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.calls += 1
        assert wsgi.get_delivery(environ) is not None
        start_response(self.status, [("Content-Type", "text/plain"), ("X-App", "yes")])
        return [b"from the app\n"]


class AsgiApp:
    def __init__(self, status: int) -> None:
        self.status = status
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        assert asgi.get_delivery(scope) is not None
        await receive()
        await send(
            {"type": "http.response.start", "status": self.status, "headers": [(b"x-app", b"yes")]}
        )
        await send({"type": "http.response.body", "body": b"from the app\n"})


def signed() -> Any:
    return sign_request(verifier(), b'{"order": 7}', url=URL)


@pytest.mark.parametrize(("status", "phrase"), NOT_PROCESSED)
def test_wsgi_app_non_2xx_releases_the_key_and_the_retry_runs_the_app(
    status: int, phrase: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="webhookverify")
    app = WsgiApp(f"{status} {phrase}")
    middleware = wsgi.WebhookMiddleware(app, receiver(), path="/webhooks/in")
    request = signed()
    first = run_wsgi(middleware, make_environ(request))
    assert (first.status, first.body, first.headers.get("X-App")) == (
        status,
        b"from the app\n",
        "yes",
    )
    retried = run_wsgi(middleware, make_environ(request))
    assert (retried.status, retried.body) == (status, b"from the app\n")
    assert app.calls == 2
    declined = [r for r in caplog.records if "declined" in r.getMessage()]
    assert len(declined) == 2
    assert all(r.levelno == logging.WARNING and str(status) in r.getMessage() for r in declined)
    assert declined[0].webhookverify["status"] == status  # type: ignore[attr-defined]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # the app answers 2xx at last: processed, and a copy is a duplicate
    app.status = "200 OK"
    assert run_wsgi(middleware, make_environ(request)).body == b"from the app\n"
    duplicate = run_wsgi(middleware, make_environ(request))
    assert (duplicate.status, duplicate.body) == (200, b"")
    assert app.calls == 3


@pytest.mark.parametrize(("status", "phrase"), NOT_PROCESSED)
def test_asgi_app_non_2xx_releases_the_key_and_the_retry_runs_the_app(
    status: int, phrase: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="webhookverify")
    app = AsgiApp(status)
    middleware = asgi.WebhookMiddleware(app, receiver(), path="/webhooks/in")
    request = signed()
    for _ in range(2):
        response = run_asgi(middleware, make_scope(request), request.body)
        assert response is not None
        assert (response.status, response.body) == (status, b"from the app\n")
        assert response.headers.get("x-app") == "yes"
    assert app.calls == 2
    declined = [r for r in caplog.records if "declined" in r.getMessage()]
    assert len(declined) == 2
    assert all(r.levelno == logging.WARNING and str(status) in r.getMessage() for r in declined)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    app.status = 204
    processed = run_asgi(middleware, make_scope(request), request.body)
    assert processed is not None and processed.status == 204
    duplicate = run_asgi(middleware, make_scope(request), request.body)
    assert duplicate is not None and (duplicate.status, duplicate.body) == (200, b"")
    assert app.calls == 3


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_a_2xx_from_the_app_commits_and_the_copy_does_not_run_it(status: int) -> None:
    wsgi_app = WsgiApp(f"{status} Fine")
    asgi_app = AsgiApp(status)
    wsgi_middleware = wsgi.WebhookMiddleware(wsgi_app, receiver(), path="/webhooks/in")
    asgi_middleware = asgi.WebhookMiddleware(asgi_app, receiver(), path="/webhooks/in")
    request = signed()
    assert run_wsgi(wsgi_middleware, make_environ(request)).status == status
    assert run_wsgi(wsgi_middleware, make_environ(request)).body == b""
    first = run_asgi(asgi_middleware, make_scope(request), request.body)
    again = run_asgi(asgi_middleware, make_scope(request), request.body)
    assert first is not None and again is not None
    assert (first.status, again.status, again.body) == (status, 200, b"")
    assert (wsgi_app.calls, asgi_app.calls) == (1, 1)


def test_asgi_app_declining_after_the_202_releases_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="webhookverify")
    app = AsgiApp(422)
    slow = Receiver(HandlerRegistry([Handler("svc", verifier())]), EventBus(), time_budget=0.01)

    async def late(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(0.1)
        await app(scope, receive, send)

    middleware = asgi.WebhookMiddleware(late, slow, path="/webhooks/in")
    request = signed()

    async def main() -> list[int]:
        statuses: list[int] = []
        for _ in range(40):
            response = await call_asgi(middleware, make_scope(request), request.body)
            assert response is not None
            statuses.append(response.status)
            if len(statuses) > 1 and response.status != 409:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # let the second run finish
        return statuses

    statuses = asyncio.run(main())
    # 202 at the budget, 409 while the app runs, then a new run of the app
    # (202 again), never a duplicate's 200
    assert statuses[0] == 202 and statuses[-1] == 202
    assert set(statuses[1:-1]) == {409}
    assert app.calls == 2
    declined = [r for r in caplog.records if "declined" in r.getMessage()]
    assert len(declined) == 2 and all(r.levelno == logging.WARNING for r in declined)


def test_a_listener_may_decline_a_delivery_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from webhookverify import DeliveryDeclined

    caplog.set_level(logging.INFO, logger="webhookverify")
    bus = EventBus()
    calls: list[int] = []

    def later(delivery: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise DeliveryDeclined("the order system is in maintenance")

    bus.bind("webhook.received", later)
    receiver = Receiver(HandlerRegistry([Handler("svc", verifier())]), bus)
    request = signed()
    declined = receiver.receive(request)
    assert (declined.status, declined.reason) == (500, "declined")
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "maintenance" in record.getMessage()
    assert receiver.receive(request).reason == "accepted"
    assert len(calls) == 2


# -- through Django's own request handling -----------------------------------------------

DJANGO_SITE = """
import json, sys
import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="test-only",
    ALLOWED_HOSTS=["hooks.example.test"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[
        "django.middleware.common.CommonMiddleware",  # checks the host: DisallowedHost is 400
        "django.middleware.csrf.CsrfViewMiddleware",
    ],
)
django.setup()

from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

from webhookverify import EventBus, Handler, HandlerRegistry, HmacVerifier, Receiver
from webhookverify.testing import make_environ, run_wsgi, sign_request
from webhookverify.wsgi import WebhookMiddleware

views = []


def hook(request):  # not csrf_exempt: Django answers 403 before the view
    views.append(request.path)
    return HttpResponse("done")


urlpatterns = [path("webhooks/in", hook)]
django_app = get_wsgi_application()
calls = []


def counted(environ, start_response):
    calls.append(environ["HTTP_HOST"])
    return django_app(environ, start_response)


verifier = HmacVerifier(secret=SECRET, header="X-Signature", encoding="base64")
receiver = Receiver(HandlerRegistry([Handler("svc", verifier)]), EventBus())
app = WebhookMiddleware(counted, receiver, path="/webhooks/in")
statuses = {}
for host in ("hooks.example.test", "evil.example.test"):
    request = sign_request(verifier, b'{"n": 1}', url=f"https://{host}/webhooks/in")
    statuses[host] = [run_wsgi(app, make_environ(request)).status for _ in range(2)]
print(json.dumps({"statuses": statuses, "calls": calls, "views": views}))
"""


def test_django_csrf_403_and_disallowed_host_400_are_not_taken_as_processed() -> None:
    pytest.importorskip("django")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    script = f"SECRET = {SECRET!r}\n" + DJANGO_SITE
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    # CSRF: 403 both times (not an empty 200 the second time); DisallowedHost: 400 both times
    assert found["statuses"] == {
        "hooks.example.test": [403, 403],
        "evil.example.test": [400, 400],
    }
    assert found["calls"] == ["hooks.example.test"] * 2 + ["evil.example.test"] * 2
    assert found["views"] == []
