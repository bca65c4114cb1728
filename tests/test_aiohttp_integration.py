"""webhookverify.aiohttp end to end, through aiohttp's test client and under a
real aiohttp server over loopback: the handler runs once per verified, new
delivery; refusals and duplicates never reach it; a handler that fails or
answers non-2xx has the sender's retry run it again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from webhookverify import ConfigurationError, Delivery, Handler, HandlerRegistry, Receiver, presets
from webhookverify.aiohttp import (
    DELIVERY,
    WebhookMiddleware,
    get_delivery,
    require_delivery,
    webhook_handler,
)
from webhookverify.errors import MissingDelivery
from webhookverify.testing import sign_request

SECRET = "aiohttp-test-secret"
BODY = b'{"action": "opened"}'


def signed(body: bytes = BODY) -> dict[str, str]:
    """GitHub's headers for ``body``, with a fresh delivery id."""
    request = sign_request(
        presets.github(secret=SECRET), body, headers={"X-GitHub-Delivery": str(uuid.uuid4())}
    )
    return dict(request.headers.items())


def new_receiver() -> Receiver:
    return Receiver(
        HandlerRegistry([Handler("github", presets.github(secret=SECRET), user="ci-bot")])
    )


class Recorder:
    """The user's code: records each delivery and answers as told (a status, or a raise)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, Any, bytes]] = []
        self.answers: list[int | Exception] = []

    async def answer(self, request: web.Request, delivery: Delivery) -> web.Response:
        seen = await request.read()  # the exact bytes, though the adapter read them first
        self.calls.append((delivery.handler.name, delivery.user, delivery.json(), seen))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        return web.json_response({"ok": answer < 300}, status=answer)


def handler_app(recorder: Recorder, **options: Any) -> web.Application:
    app = web.Application()
    app.router.add_post("/hooks", webhook_handler(new_receiver(), recorder.answer, **options))
    return app


def middleware_app(recorder: Recorder, **options: Any) -> web.Application:
    async def hooks(request: web.Request) -> web.Response:
        return await recorder.answer(request, require_delivery(request))

    async def other(request: web.Request) -> web.Response:
        return web.Response(text=f"other {get_delivery(request)}")

    app = web.Application(middlewares=[WebhookMiddleware(new_receiver(), path="/hooks", **options)])
    app.router.add_post("/hooks", hooks)
    app.router.add_route("*", "/other", other)
    return app


APPS = {"handler": handler_app, "middleware": middleware_app}
Calls = Callable[[TestClient[Any, Any]], Awaitable[Any]]


def run(app: web.Application, calls: Calls) -> Any:
    """Run ``calls`` against ``app`` through aiohttp's test server and client."""

    async def main() -> Any:
        async with TestClient(TestServer(app)) as client:
            return await calls(client)

    return asyncio.run(main())


async def post(
    client: TestClient[Any, Any], headers: dict[str, str], body: bytes = BODY, path: str = "/hooks"
) -> tuple[int, bytes]:
    response = await client.post(path, data=body, headers=headers)
    return response.status, await response.read()


@pytest.fixture(params=sorted(APPS))
def make_app(request: pytest.FixtureRequest) -> Callable[..., web.Application]:
    return APPS[request.param]


def test_valid_delivery_runs_the_handler_once_with_handler_and_user(
    make_app: Callable[..., web.Application],
) -> None:
    recorder = Recorder()
    status, body = run(make_app(recorder), lambda client: post(client, signed()))
    assert (status, body) == (200, b'{"ok": true}')
    assert recorder.calls == [("github", "ci-bot", {"action": "opened"}, BODY)]


def test_tampered_delivery_is_refused_and_nothing_runs(
    make_app: Callable[..., web.Application],
) -> None:
    recorder = Recorder()
    headers = signed()
    status, body = run(make_app(recorder), lambda c: post(c, headers, b'{"action": "closed"}'))
    assert (status, body) == (401, b"webhook signature verification failed\n")
    assert recorder.calls == []


def test_replay_answers_200_without_running_the_handler(
    make_app: Callable[..., web.Application],
) -> None:
    recorder = Recorder()
    headers = signed()

    async def calls(client: TestClient[Any, Any]) -> list[tuple[int, bytes]]:
        return [await post(client, headers), await post(client, headers)]

    first, replay = run(make_app(recorder), calls)
    assert first[0] == 200
    assert replay == (200, b"")
    assert len(recorder.calls) == 1


@pytest.mark.parametrize(
    ("failure", "status"),
    [(lambda: 400, 400), (web.HTTPConflict, 409), (lambda: RuntimeError("db down"), 500)],
)
def test_a_handler_that_fails_is_run_again_by_the_retry(
    make_app: Callable[..., web.Application],
    failure: Callable[[], int | Exception],
    status: int,
) -> None:
    recorder = Recorder()
    recorder.answers.append(failure())
    headers = signed()

    async def calls(client: TestClient[Any, Any]) -> list[tuple[int, bytes]]:
        return [await post(client, headers) for _ in range(3)]

    first, retry, again = run(make_app(recorder), calls)
    assert first[0] == status
    assert retry == (200, b'{"ok": true}')
    assert again == (200, b"")
    assert len(recorder.calls) == 2


def test_limits_answer_as_the_other_adapters_do(make_app: Callable[..., web.Application]) -> None:
    recorder = Recorder()
    app = make_app(recorder, max_body_size=10, max_header_count=20)

    async def calls(client: TestClient[Any, Any]) -> list[int]:
        too_many = {**signed(), **{f"X-Extra-{i}": "1" for i in range(30)}}

        async def chunks() -> Any:
            yield BODY  # no Content-Length: read up to the limit and no further

        chunked = await client.post("/hooks", data=chunks(), headers=signed())
        get = await client.get("/hooks")
        return [
            (await post(client, signed()))[0],
            chunked.status,
            (await post(client, too_many))[0],
            get.status,
        ]

    assert run(app, calls) == [413, 413, 431, 405]
    assert recorder.calls == []


def test_a_chunked_body_within_the_limit_is_verified() -> None:
    recorder = Recorder()

    async def calls(client: TestClient[Any, Any]) -> int:
        async def chunks() -> Any:
            yield BODY[:5]
            yield BODY[5:]

        response = await client.post("/hooks", data=chunks(), headers=signed())
        return response.status

    assert run(handler_app(recorder), calls) == 200
    assert [call[3] for call in recorder.calls] == [BODY]


def test_the_middleware_leaves_other_paths_alone_and_guards_every_spelling() -> None:
    recorder = Recorder()
    headers = signed()

    async def calls(client: TestClient[Any, Any]) -> list[tuple[int, bytes]]:
        return [
            await post(client, {}, b"x", "/other"),
            await post(client, headers, BODY, "/hooks/"),
            await post(client, {}, BODY, "/%68ooks"),
            await post(client, {}, BODY, "/HOOKS/"),
        ]

    other, slash, escaped, upper = run(middleware_app(recorder), calls)
    assert other == (200, b"other None")
    # verified, then the router's 404: a spelling it does not route runs nothing
    assert slash[0] == 404
    assert escaped[0] == upper[0] == 401
    assert recorder.calls == []


def test_a_path_the_middleware_guards_but_no_route_takes_releases_the_key() -> None:
    """The router's 404 is the handler's answer: the delivery is not recorded."""
    app = web.Application(middlewares=[WebhookMiddleware(new_receiver(), path="/hooks")])
    headers = signed()

    async def calls(client: TestClient[Any, Any]) -> list[int]:
        return [(await post(client, headers))[0], (await post(client, headers))[0]]

    assert run(app, calls) == [404, 404]


def test_require_delivery_refuses_a_route_the_middleware_does_not_guard() -> None:
    seen: list[str] = []

    async def unguarded(request: web.Request) -> web.Response:
        try:
            require_delivery(request)
        except MissingDelivery as exc:
            seen.append(exc.reason)
            raise web.HTTPForbidden() from None
        return web.Response()

    app = web.Application(middlewares=[WebhookMiddleware(new_receiver(), path="/hooks")])
    app.router.add_post("/elsewhere", unguarded)
    status, _ = run(app, lambda c: post(c, signed(), BODY, "/elsewhere"))
    assert (status, seen) == (403, ["missing_delivery"])


def test_the_delivery_is_on_the_request_for_the_handler_factory_too() -> None:
    seen: list[bool] = []

    async def hook(request: web.Request, delivery: Delivery) -> web.Response:
        seen.append(request[DELIVERY] is delivery)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hooks", webhook_handler(new_receiver(), hook))
    assert run(app, lambda c: post(c, signed()))[0] == 204
    assert seen == [True]


def test_settings_are_checked_at_construction() -> None:
    def sync_handler(request: web.Request, delivery: Delivery) -> web.Response:
        return web.Response()

    with pytest.raises(ConfigurationError, match=r"^webhook_handler\(handler\) must be an async"):
        webhook_handler(new_receiver(), sync_handler)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"max_body_size=\.\.\.\) must be a positive"):
        WebhookMiddleware(new_receiver(), max_body_size=0)
    with pytest.raises(ConfigurationError, match="both verified"):
        WebhookMiddleware(new_receiver(), passthrough_methods=["POST"])
    with pytest.raises(ConfigurationError, match=r"receiver=\.\.\.\) must be a webhookverify"):
        WebhookMiddleware(object())  # type: ignore[arg-type]


@pytest.mark.server
def test_under_a_real_aiohttp_server_over_loopback() -> None:
    """The five delivery cases through aiohttp's own server (AppRunner, TCPSite)."""
    recorder = Recorder()
    recorder.answers.extend([200, 400, 200, RuntimeError("db down"), 200])
    app = handler_app(recorder)

    async def main() -> list[tuple[int, bytes]]:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        answers: list[tuple[int, bytes]] = []
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                # GitHub signs no delivery id: the replay key is the body's hash
                valid, declined, raising = (b'{"n": %d}' % n for n in range(3))
                for headers, body in [
                    (signed(valid), valid),  # valid: runs
                    (signed(valid), b'{"n": 9}'),  # tampered: 401
                    (signed(valid), valid),  # replay: 200, does not run
                    (signed(declined), declined),  # answers 400
                    (signed(declined), declined),  # its retry runs
                    (signed(raising), raising),  # raises: 500
                    (signed(raising), raising),  # its retry runs
                ]:
                    response = await client.post("/hooks", content=body, headers=headers)
                    answers.append((response.status_code, response.content))
        finally:
            await runner.cleanup()
        return answers

    answers = asyncio.run(main())
    statuses = [status for status, _ in answers]
    assert statuses == [200, 401, 200, 400, 200, 500, 200]
    assert len(recorder.calls) == 5
    assert {call[:2] for call in recorder.calls} == {("github", "ci-bot")}


@pytest.mark.parametrize("cancellation", [False, True])
def test_a_client_gone_mid_body_gets_nothing_dispatched(cancellation: bool) -> None:
    """Without handler cancellation (run_app's default) the read fails and the
    refusal is reported; with it, aiohttp cancels the read: nothing runs either way."""
    recorder = Recorder()
    rejected: list[str] = []
    receiver = new_receiver()
    receiver.bus.bind("webhook.rejected", lambda rejection: rejected.append(rejection.reason))
    app = web.Application()
    app.router.add_post("/hooks", webhook_handler(receiver, recorder.answer))

    async def main() -> None:
        runner = web.AppRunner(app, handler_cancellation=cancellation)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            port = runner.addresses[0][1]
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            head = "".join(f"{name}: {value}\r\n" for name, value in signed().items())
            writer.write(
                f"POST /hooks HTTP/1.1\r\nHost: x\r\nContent-Length: {len(BODY)}\r\n{head}\r\n"
                .encode() + BODY[:5]
            )  # fmt: skip
            await writer.drain()
            await asyncio.sleep(0.1)  # the handler is reading the body
            writer.close()
            await writer.wait_closed()
            for _ in range(50):  # the server notices the connection is gone
                if rejected:
                    break
                await asyncio.sleep(0.02)
        finally:
            await runner.cleanup()

    asyncio.run(main())
    assert rejected == ([] if cancellation else ["truncated_body"])
    assert recorder.calls == []


def test_a_get_handshake_is_answered_not_refused_405() -> None:
    # Dropbox checks the endpoint with a GET before it delivers anything: the
    # receiver answers it, here as through every other adapter.
    receiver = Receiver(HandlerRegistry([Handler("dropbox", presets.dropbox(secret=SECRET))]))
    app = web.Application(middlewares=[WebhookMiddleware(receiver, path="/hooks")])

    async def hooks(request: web.Request) -> web.Response:
        return web.Response(text="the handler ran")

    app.router.add_route("*", "/hooks", hooks)

    async def calls(client: TestClient[Any, Any]) -> list[tuple[int, bytes]]:
        answers = []
        for query in ("?challenge=abc123", "?other=1"):
            response = await client.get("/hooks" + query)
            answers.append((response.status, await response.read()))
        response = await client.put("/hooks?challenge=abc123")
        answers.append((response.status, await response.read()))
        return answers

    answered, unsigned, put = run(app, calls)
    assert answered == (200, b"abc123")
    assert unsigned[0] == 401
    assert put[0] == 405


MULTIPART = (
    b'--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ\r\n'
    b'Content-Disposition: form-data; name="b"\r\n\r\n2\r\n--XyZ--\r\n'
)


def test_the_handler_reads_the_verified_body_from_the_stream_too() -> None:
    # A multipart form (Mailgun's, SendGrid's) is read by post() from the
    # request's stream, not from read()'s cache: the stream must still hold the
    # body the receiver read and verified.
    seen: list[object] = []

    async def hooks(request: web.Request) -> web.Response:
        form = await request.post()
        seen.append({name: str(value) for name, value in form.items()})
        return web.Response(text="ok")

    async def raw(request: web.Request) -> web.Response:
        seen.append(await request.content.read())
        return web.Response(text="ok")

    app = web.Application(middlewares=[WebhookMiddleware(new_receiver(), paths=["/hooks", "/raw"])])
    app.router.add_post("/hooks", hooks)
    app.router.add_post("/raw", raw)
    headers = {**signed(MULTIPART), "Content-Type": "multipart/form-data; boundary=XyZ"}
    statuses = run(
        app,
        lambda c: asyncio.gather(
            post(c, headers, MULTIPART), post(c, signed(BODY), BODY, path="/raw")
        ),
    )
    assert [status for status, _ in statuses] == [200, 200]
    assert {"a": "1", "b": "2"} in seen and BODY in seen
