"""Never lose a real delivery: paths on which a correctly signed delivery was
acknowledged without the user's code having run to completion, answered
with a status senders do not retry, or had its key left in flight.

- A view returning a *streamed* response (Flask generator responses,
  Django ``StreamingHttpResponse``, Starlette ``StreamingResponse`` from a
  ``webhook_endpoint``) ran its generator after the key was committed: a
  generator that failed left the retry answered as a duplicate.
- Flask's ``MAX_CONTENT_LENGTH`` below a ``webhook_view``'s
  ``max_body_size`` answered 413 to deliveries the view takes.
- A listener written with ``yield`` ran none of its code, and the delivery
  was acknowledged.
- A framework view under a ``WebhookMiddleware`` on its path verified the
  request again, found the key the middleware holds in flight, and every
  attempt was answered 409.
- A dispatch cancelled as the server shut down (uvicorn's
  ``--timeout-graceful-shutdown``, then the loop's teardown) left its key in
  flight for the lease: the sender's retries were answered 409.

Each case makes the user's code fail (or the server stop) once, sends the
sender's retry, and checks that the retry ran the code.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

import lost_served_app
from test_servers import (
    TESTS,
    Server,
    command,
    free_port,
    head_for,
    raw_request,
    running,
    status_of,
)
from webhookverify import Delivery, Handler, HandlerRegistry, Receiver
from webhookverify.testing import sign_request

verifier = lost_served_app.verifier  # the served app's too


def receiver() -> Receiver:
    return Receiver(HandlerRegistry([Handler("svc", verifier())]))


def signed(body: bytes) -> dict[str, str]:
    return dict(sign_request(verifier(), body).headers.items())


class Work:
    """The user's code behind a streamed answer: fails on its first run, then
    records each run that reached its end."""

    def __init__(self) -> None:
        self.failures = 1
        self.done: list[bytes] = []

    def step(self, body: bytes) -> bytes:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the database went away mid-stream")
        self.done.append(body)
        return b"done\n"

    def chunks(self, body: bytes) -> Iterator[bytes]:
        yield b"working\n"
        yield self.step(body)

    async def achunks(self, body: bytes) -> AsyncIterator[bytes]:
        yield b"working\n"
        await asyncio.sleep(0)
        yield self.step(body)


BODY = b'{"event": "invoice.paid", "id": "evt_1"}'


# -- Flask ------------------------------------------------------------------------------


def flask_app(work: Work, **config: Any) -> Any:
    from flask import Flask, Response, stream_with_context

    from webhookverify.flask import webhook_view

    app = Flask(__name__)
    app.config.update(config)

    @app.post("/hooks")
    @webhook_view(receiver())
    def hook(delivery: Delivery) -> Any:
        return Response(stream_with_context(work.chunks(delivery.body)), 200)

    @app.post("/plain")
    @webhook_view(receiver())
    def plain(delivery: Delivery) -> Any:
        work.done.append(delivery.body)
        return "", 204

    return app


def test_flask_a_streamed_answer_that_fails_releases_the_key_and_the_retry_runs_it() -> None:
    work = Work()
    client = flask_app(work).test_client()
    first = client.post("/hooks", data=BODY, headers=signed(BODY))
    assert first.status_code == 500
    retry = client.post("/hooks", data=BODY, headers=signed(BODY))
    assert (retry.status_code, retry.data) == (200, b"working\ndone\n")
    assert work.done == [BODY]
    again = client.post("/hooks", data=BODY, headers=signed(BODY))
    assert (again.status_code, again.data, work.done) == (200, b"", [BODY])  # a duplicate now


def test_flask_max_content_length_below_max_body_size_does_not_refuse_a_delivery() -> None:
    work = Work()
    client = flask_app(work, MAX_CONTENT_LENGTH=1024).test_client()
    body = b'{"pad": "' + b"x" * 4000 + b'"}'
    answer = client.post("/plain", data=body, headers=signed(body))
    assert answer.status_code == 204
    assert work.done == [body]
    # max_body_size still holds, answered by the view's own refusal
    big = b"x" * (1024 * 1024 + 1)
    assert client.post("/plain", data=big, headers=signed(big)).status_code == 413
    assert work.done == [body]


# -- Django -----------------------------------------------------------------------------


@pytest.fixture
def rf() -> Any:
    from _django_config import configure_django

    configure_django()
    from django.test import RequestFactory

    return RequestFactory()


def django_post(rf: Any, body: bytes) -> Any:
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in signed(body).items()}
    return rf.post("/hooks", data=body, content_type="application/json", **meta)


def test_django_a_streamed_answer_that_fails_releases_the_key_and_the_retry_runs_it(
    rf: Any,
) -> None:
    from django.http import StreamingHttpResponse

    from webhookverify.django import webhook_view

    work = Work()

    @webhook_view(receiver())
    def hook(request: Any, delivery: Delivery) -> Any:
        return StreamingHttpResponse(work.chunks(delivery.body))

    assert hook(django_post(rf, BODY)).status_code == 500
    retry = hook(django_post(rf, BODY))
    assert (retry.status_code, b"".join(retry)) == (200, b"working\ndone\n")
    assert work.done == [BODY]


def test_django_async_view_streamed_answer_that_fails_releases_the_key(rf: Any) -> None:
    from django.http import StreamingHttpResponse

    from webhookverify.django import WebhookView, webhook_view

    work = Work()

    @webhook_view(receiver())
    async def hook(request: Any, delivery: Delivery) -> Any:
        return StreamingHttpResponse(work.achunks(delivery.body))

    class Hook(WebhookView):  # type: ignore[misc]
        def handle(self, request: Any, delivery: Delivery) -> Any:
            return StreamingHttpResponse(work.chunks(delivery.body))

    async def body_of(response: Any) -> bytes:
        return b"".join([part async for part in response])

    assert asyncio.run(hook(django_post(rf, BODY))).status_code == 500
    retry = asyncio.run(hook(django_post(rf, BODY)))
    assert (retry.status_code, asyncio.run(body_of(retry))) == (200, b"working\ndone\n")
    assert work.done == [BODY]

    view = Hook.as_view(receiver=receiver())
    work.failures = 1
    assert view(django_post(rf, BODY)).status_code == 500
    assert b"".join(view(django_post(rf, BODY))) == b"working\ndone\n"
    assert work.done == [BODY, BODY]


# -- Starlette --------------------------------------------------------------------------


def test_starlette_endpoint_streamed_answer_that_fails_releases_the_key() -> None:
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from webhookverify.fastapi import webhook_endpoint

    work = Work()

    @webhook_endpoint(receiver())
    async def hook(request: Any, delivery: Delivery) -> Any:
        return StreamingResponse(work.achunks(delivery.body), status_code=201)

    app = Starlette(routes=[Route("/hooks", hook, methods=["POST"])])
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/hooks", content=BODY, headers=signed(BODY)).status_code == 500
        retry = client.post("/hooks", content=BODY, headers=signed(BODY))
        assert (retry.status_code, retry.content) == (201, b"working\ndone\n")
    assert work.done == [BODY]


def test_fastapi_dependency_streamed_answer_that_fails_releases_the_key() -> None:
    """Held before: FastAPI exits the dependency after the answer was sent, so
    a failing stream reaches it and the key is released (the sender sees a
    cut answer and retries)."""
    from fastapi import Depends, FastAPI
    from fastapi.responses import StreamingResponse
    from fastapi.testclient import TestClient

    from webhookverify.fastapi import WebhookDelivery

    work = Work()
    verified = WebhookDelivery(receiver())
    app = FastAPI()

    @app.post("/hooks")
    async def hook(delivery: Delivery = Depends(verified)) -> Any:  # noqa: B008
        return StreamingResponse(work.achunks(delivery.body))

    with TestClient(app, raise_server_exceptions=False) as client:
        first = client.post("/hooks", content=BODY, headers=signed(BODY))
        assert first.content != b"working\ndone\n"  # started, then cut short
        retry = client.post("/hooks", content=BODY, headers=signed(BODY))
        assert (retry.status_code, retry.content) == (200, b"working\ndone\n")
    assert work.done == [BODY]


# -- Flask under gunicorn ---------------------------------------------------------------


@pytest.fixture(scope="module")
def gunicorn_flask(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    runs_file = str(tmp_path_factory.mktemp("lost-runs") / "runs.txt")
    port = free_port()
    argv = command("gunicorn", port, app="lost_served_app:create_app()")
    env = {lost_served_app.RUNS_ENV: runs_file}
    with running("gunicorn", argv, port, cwd=TESTS, env=env) as process:
        yield Server("gunicorn", "wsgi", port, process), runs_file


def unique_body(size: int) -> bytes:
    head = b'{"id": "%s", "pad": "' % uuid.uuid4().hex.encode()
    return head + b"x" * (size - len(head) - 2) + b'"}'


@pytest.mark.server
def test_gunicorn_flask_deliveries_over_max_content_length_are_taken(
    gunicorn_flask: tuple[Server, str],
) -> None:
    server, runs_file = gunicorn_flask
    body = unique_body(4 * lost_served_app.APP_LIMIT)
    answer = httpx.post(f"{server.base}/plain", content=body, headers=signed(body), timeout=10)
    assert answer.status_code == 204
    chunked = unique_body(4 * lost_served_app.APP_LIMIT)
    parts = [b"%x\r\n%s\r\n" % (len(piece), piece) for piece in (chunked[:1500], chunked[1500:])]
    head = head_for("/plain", signed(chunked), "Transfer-Encoding: chunked\n")
    assert status_of(raw_request(server, head, [*parts, b"0\r\n\r\n"])) == 204
    assert [lost_served_app.runs(runs_file, "done", b) for b in (body, chunked)] == [1, 1]


@pytest.mark.server
def test_gunicorn_flask_streamed_answer_that_fails_is_run_again_on_the_retry(
    gunicorn_flask: tuple[Server, str],
) -> None:
    server, runs_file = gunicorn_flask
    body = unique_body(200)
    with httpx.Client(base_url=server.base, timeout=10) as client:
        first = client.post("/stream", content=body, headers=signed(body))
        assert first.status_code == 500
        retry = client.post("/stream", content=body, headers=signed(body))
        assert (retry.status_code, retry.content) == (200, b"working\ndone\n")
    assert lost_served_app.runs(runs_file, "attempt", body) == 2
    assert lost_served_app.runs(runs_file, "done", body) == 1


# -- listeners that yield ---------------------------------------------------------------


def test_bind_refuses_a_listener_that_yields() -> None:
    from webhookverify import ConfigurationError, EventBus

    def on_delivery(delivery: Delivery) -> Iterator[None]:
        yield

    async def aon_delivery(delivery: Delivery) -> AsyncIterator[None]:
        yield

    class Listener:
        def __call__(self, delivery: Delivery) -> Iterator[None]:
            yield

    bus = EventBus()
    for listener in (on_delivery, aon_delivery, Listener()):
        with pytest.raises(ConfigurationError, match=r"yields.*return instead of yield"):
            bus.bind("webhook.received", listener)
    assert not bus.has_listeners("webhook.received")


@pytest.mark.parametrize("mode", ["receive", "areceive"])
@pytest.mark.parametrize("kind", ["generator", "async generator"])
def test_a_wrapped_listener_that_yields_fails_the_delivery_instead_of_acknowledging_it(
    mode: str, kind: str
) -> None:
    from webhookverify import EventBus

    ran: list[bytes] = []

    def gen(delivery: Delivery) -> Iterator[None]:
        ran.append(delivery.body)
        yield

    async def agen(delivery: Delivery) -> AsyncIterator[None]:
        ran.append(delivery.body)
        yield

    inner = gen if kind == "generator" else agen
    bus = EventBus()
    bus.bind("webhook.received", lambda delivery: inner(delivery))  # a wrapper hides the yield
    hub = Receiver(HandlerRegistry([Handler("svc", verifier())]), bus)
    request = sign_request(verifier(), BODY)

    def receive() -> Any:
        if mode == "receive":
            return hub.receive(request)
        return asyncio.run(hub.areceive(request))

    first = receive()
    assert (first.status, first.reason) == (500, "listener_failed")
    assert ran == []
    bus.unbind("webhook.received", next(iter(bus.listeners("webhook.received"))))
    bus.bind("webhook.received", lambda delivery: ran.append(delivery.body))
    assert receive().status == 200  # the key was released: the retry runs
    assert ran == [BODY]


# -- a webhook view under a WebhookMiddleware on its path -------------------------------
#
# The middleware reserves the delivery's key and settles it by the app's answer;
# a view verifying the request again found that key in flight and answered 409,
# which the middleware released: the delivery and every retry got 409, and the
# view never ran. A view under the middleware runs with its delivery instead.


class View:
    """The user's code: fails on the first call when told to, records the rest."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.ran: list[Delivery] = []

    def __call__(self, delivery: Delivery) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the database is down")
        self.ran.append(delivery)


def flask_guarded(view: View, hub: Receiver, view_hub: Receiver) -> Any:
    from flask import Flask

    from webhookverify.flask import webhook_view
    from webhookverify.wsgi import WebhookMiddleware

    app = Flask(__name__)

    @app.post("/webhooks")
    @webhook_view(view_hub)
    def hook(delivery: Delivery) -> Any:
        view(delivery)
        return "", 204

    guarded = WebhookMiddleware(app.wsgi_app, hub, path="/webhooks")
    app.wsgi_app = guarded  # type: ignore[method-assign]
    return app.test_client()


def test_flask_view_under_the_middleware_runs_once_with_its_delivery() -> None:
    hub, view = receiver(), View(failures=1)
    client = flask_guarded(view, hub, hub)
    assert client.post("/webhooks", data=BODY, headers=signed(BODY)).status_code == 500
    assert client.post("/webhooks", data=BODY, headers=signed(BODY)).status_code == 204
    assert client.post("/webhooks", data=BODY, headers=signed(BODY)).status_code == 200
    [delivery] = view.ran
    assert delivery.body == BODY
    assert delivery.handler is next(iter(hub.registry))


def test_flask_view_of_another_receiver_verifies_the_request_itself() -> None:
    hub, other, view = receiver(), receiver(), View()
    client = flask_guarded(view, hub, other)
    assert client.post("/webhooks", data=BODY, headers=signed(BODY)).status_code == 204
    [delivery] = view.ran
    assert delivery.handler is next(iter(other.registry))  # not the middleware's


def test_fastapi_route_and_starlette_endpoint_under_the_middleware_run_once() -> None:
    from fastapi import Depends, FastAPI
    from fastapi.testclient import TestClient
    from starlette.responses import Response

    from webhookverify.asgi import WebhookMiddleware
    from webhookverify.fastapi import WebhookDelivery, webhook_endpoint

    hub, view = receiver(), View(failures=1)
    verified = WebhookDelivery(hub)
    app = FastAPI()

    @app.post("/webhooks")
    async def hook(delivery: Delivery = Depends(verified)) -> dict[str, bool]:  # noqa: B008
        view(delivery)
        return {"ok": True}

    @webhook_endpoint(hub)
    async def endpoint(request: Any, delivery: Delivery) -> Response:
        view(delivery)
        return Response(status_code=204)

    app.add_route("/endpoint", endpoint, methods=["POST"])
    app.add_middleware(WebhookMiddleware, receiver=hub, paths=["/webhooks", "/endpoint"])
    with TestClient(app, raise_server_exceptions=False) as client:
        for path, ok in (("/webhooks", 200), ("/endpoint", 204)):
            body, view.failures = BODY + path.encode(), 1
            answers = [client.post(path, content=body, headers=signed(body)) for _ in range(3)]
            assert [a.status_code for a in answers] == [500, ok, 200]
            assert answers[2].content == b""  # the middleware's duplicate: not run again
    assert [d.body for d in view.ran] == [BODY + b"/webhooks", BODY + b"/endpoint"]


def test_django_view_under_the_wsgi_middleware_runs_once(rf: Any) -> None:
    import sys
    import types

    from django.core.handlers.wsgi import WSGIHandler
    from django.http import HttpResponse
    from django.test import override_settings
    from django.urls import clear_url_caches, path

    from webhookverify.django import WebhookView, webhook_view
    from webhookverify.testing import make_environ, run_wsgi
    from webhookverify.wsgi import WebhookMiddleware

    hub, view = receiver(), View(failures=1)

    @webhook_view(hub)
    def hook(request: Any, delivery: Delivery) -> Any:
        view(delivery)
        return HttpResponse(status=204)

    class Listened(WebhookView):  # type: ignore[misc]
        pass  # no handle: the receiver's webhook.received listeners

    hub.bus.bind("webhook.received", view)
    urls = types.ModuleType("round4_lost_urls")
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("webhooks", hook),
        path("listened", Listened.as_view(receiver=hub)),
    ]
    sys.modules[urls.__name__] = urls
    app = WebhookMiddleware(WSGIHandler(), hub, paths=["/webhooks", "/listened"])
    try:
        with override_settings(ROOT_URLCONF=urls.__name__):
            clear_url_caches()
            for target, ok in (("/webhooks", 204), ("/listened", 200)):
                body = BODY + target.encode()
                request = sign_request(verifier(), body, url=f"http://testserver{target}")
                statuses = [run_wsgi(app, make_environ(request)).status for _ in range(3)]
                assert statuses == [500, ok, 200] if target == "/webhooks" else [ok, 200, 200]
    finally:
        clear_url_caches()
        del sys.modules[urls.__name__]
    assert [d.body for d in view.ran] == [BODY + b"/webhooks", BODY + b"/listened"]


def test_aiohttp_handler_under_the_middleware_runs_once() -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from webhookverify.aiohttp import WebhookMiddleware, webhook_handler

    hub, view = receiver(), View(failures=1)

    async def handler(request: web.Request, delivery: Delivery) -> web.Response:
        view(delivery)
        return web.Response(status=204)

    app = web.Application(middlewares=[WebhookMiddleware(hub, path="/hooks")])
    app.router.add_post("/hooks", webhook_handler(hub, handler))

    async def main() -> list[int]:
        async with TestClient(TestServer(app)) as client:
            answers = [await client.post("/hooks", data=BODY, headers=signed(BODY)) for _ in "123"]
            return [answer.status for answer in answers]

    assert asyncio.run(main()) == [500, 204, 200]
    assert [d.body for d in view.ran] == [BODY]


# -- a dispatch cancelled as the server shuts down --------------------------------------
#
# uvicorn cancels the requests still running at --timeout-graceful-shutdown, then
# asyncio.run's teardown cancels them again and closes the loop. The release of
# the key was cut short: it stayed in flight for the lease (60 s), and the
# sender's retries were answered 409 until then.


def waiting_receiver(store: Any, *, wait: bool) -> tuple[Receiver, asyncio.Event, list[bytes]]:
    """A receiver whose listener records each delivery, after waiting until
    it is cancelled when ``wait`` is set."""
    from webhookverify import EventBus

    started, ran = asyncio.Event(), []
    bus = EventBus()

    async def on_delivery(delivery: Delivery) -> None:
        started.set()
        if wait:
            await asyncio.Event().wait()
        ran.append(delivery.body)

    bus.bind("webhook.received", on_delivery)
    hub = Receiver(HandlerRegistry([Handler("svc", verifier())]), bus, replay_store=store)
    return hub, started, ran


@pytest.mark.parametrize("spins", [0, 1, 5])
@pytest.mark.parametrize("backend", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
def test_a_dispatch_cancelled_as_the_loop_closes_releases_its_key(
    backend: str, spins: int, request: pytest.FixtureRequest
) -> None:
    from webhookverify import MemoryReplayStore
    from webhookverify.replay import RedisReplayStore

    if backend == "redis":
        url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
        store: Any = RedisReplayStore(url, prefix=prefix)
    else:
        store = MemoryReplayStore()
    delivery = sign_request(verifier(), BODY)

    async def shut_down() -> None:
        hub, started, _ = waiting_receiver(store, wait=True)
        task = asyncio.ensure_future(hub.areceive(delivery))
        await asyncio.wait_for(started.wait(), 10)
        task.cancel()  # the server gives up on it...
        for _ in range(spins):
            await asyncio.sleep(0)
        # ... and the loop closes with the task still unwinding

    asyncio.run(shut_down())

    async def retry() -> tuple[int, list[bytes]]:
        hub, _, ran = waiting_receiver(store, wait=False)
        outcome = await hub.areceive(delivery)
        return outcome.status, ran

    assert asyncio.run(retry()) == (200, [BODY])  # processed, not 409


@pytest.mark.server
@pytest.mark.redis
def test_uvicorn_shutting_down_mid_dispatch_releases_the_key(
    redis_url: str, redis_prefix: str, redis_client: Any
) -> None:
    import json
    import threading
    import time

    from test_servers import stop

    port = free_port()
    argv = [*command("uvicorn", port, app="lost_served_app:asgi_app"), "--factory"]
    argv += ["--timeout-graceful-shutdown", "1"]
    env = {"REDIS_URL": redis_url, lost_served_app.PREFIX_ENV: redis_prefix}
    body = json.dumps({"id": uuid.uuid4().hex, "wait": 3600}).encode()
    answers: list[object] = []
    with running("uvicorn", argv, port, cwd=TESTS, env=env) as process:

        def send() -> None:
            url = f"http://127.0.0.1:{port}/"
            try:
                answers.append(httpx.post(url, content=body, headers=signed(body), timeout=30))
            except httpx.TransportError as exc:  # the server stopped without answering
                answers.append(exc)

        sender = threading.Thread(target=send)
        sender.start()
        while not redis_client.llen(redis_prefix + "started"):  # the listener is waiting
            assert process.poll() is None and sender.is_alive()
            time.sleep(0.02)
        held = list(redis_client.scan_iter(match=redis_prefix + "webhookverify:*"))
        assert len(held) == 1 and redis_client.get(held[0]).startswith(b"f|")
        stop(process)  # SIGTERM: uvicorn cancels the request after 1 s, then closes the loop
        sender.join(30)
    assert isinstance(answers[0], httpx.TransportError)  # no answer: the sender retries
    assert redis_client.get(held[0]) is None  # released: the retry is processed, not 409


@pytest.mark.server
@pytest.mark.redis
def test_gunicorn_worker_timeout_mid_dispatch_releases_the_key(
    redis_url: str, redis_prefix: str, redis_client: Any
) -> None:
    """Held before: gunicorn aborts a worker past --timeout with SystemExit,
    which the receiver lets through after releasing the key; the sender gets
    500 and its retry is processed."""
    import json

    port = free_port()
    argv = [*command("gunicorn", port, app="lost_served_app:wsgi_app()"), "--timeout", "1"]
    env = {"REDIS_URL": redis_url, lost_served_app.PREFIX_ENV: redis_prefix}
    body = json.dumps({"id": uuid.uuid4().hex, "wait": 3600}).encode()
    with running("gunicorn", argv, port, cwd=TESTS, env=env):
        answer = httpx.post(
            f"http://127.0.0.1:{port}/", content=body, headers=signed(body), timeout=60
        )
        assert answer.status_code == 500
        assert redis_client.llen(redis_prefix + "started") == 1
    assert list(redis_client.scan_iter(match=redis_prefix + "webhookverify:*")) == []
