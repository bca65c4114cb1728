"""webhookverify.aiohttp at the edges of aiohttp's own request handling, through
a real aiohttp server over loopback: a middleware on a sub-application
(``app.add_subapp``) guards its routes, and a body aiohttp decompresses
(``Content-Encoding``) is verified as it is handed over, not refused."""

from __future__ import annotations

import asyncio
import gzip
import uuid
import zlib
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from webhookverify import Delivery, Handler, HandlerRegistry, Receiver, presets
from webhookverify.aiohttp import WebhookMiddleware, get_delivery, webhook_handler
from webhookverify.testing import sign_request

SECRET = "aiohttp-edges-secret"
BODY = b'{"action": "opened", "number": 7}'


def signed(body: bytes = BODY) -> dict[str, str]:
    """GitHub's headers for ``body``, with a fresh delivery id."""
    request = sign_request(
        presets.github(secret=SECRET), body, headers={"X-GitHub-Delivery": str(uuid.uuid4())}
    )
    return dict(request.headers.items())


def new_receiver() -> Receiver:
    return Receiver(HandlerRegistry([Handler("github", presets.github(secret=SECRET))]))


async def call(app: web.Application, path: str, body: bytes, headers: dict[str, str]) -> Any:
    async with TestClient(TestServer(app)) as client:
        response = await client.post(path, data=body, headers=headers)
        return response.status


def nested_apps(ran: list[Delivery | None], depth: int) -> web.Application:
    """The webhook route and the middleware on a sub-application ``depth`` deep
    (``/api``, then ``/v1``), as aiohttp's docs structure an app."""

    async def hooks(request: web.Request) -> web.Response:
        ran.append(get_delivery(request))
        return web.Response(text="ran")

    inner = web.Application(middlewares=[WebhookMiddleware(new_receiver(), path="/webhooks")])
    inner.router.add_post("/webhooks", hooks)
    for prefix in ("/v1", "/api")[-depth:] if depth else ():
        outer = web.Application()
        outer.add_subapp(prefix, inner)
        inner = outer
    return inner


@pytest.mark.parametrize(
    ("depth", "path"),
    [
        (0, "/webhooks"),
        (1, "/api/webhooks"),
        (1, "/api/%77ebhooks"),
        (2, "/api/v1/webhooks"),
    ],
)
def test_a_middleware_on_a_sub_application_guards_its_routes(depth: int, path: str) -> None:
    """A forged request to the sub-application's webhook route never runs it;
    a signed one runs it once, with the delivery."""
    ran: list[Delivery | None] = []
    app = nested_apps(ran, depth)
    forged = asyncio.run(call(app, path, b'{"action": "forged"}', {}))
    assert (forged, ran) == (401, [])

    app = nested_apps(ran, depth)
    assert asyncio.run(call(app, path, BODY, signed())) == 200
    assert len(ran) == 1 and ran[0] is not None and ran[0].request.body == BODY


def decoded_app(ran: list[bytes], max_body_size: int = 2**20) -> web.Application:
    async def hook(request: web.Request, delivery: Delivery) -> web.Response:
        ran.append(await request.read())
        return web.Response(status=204)

    app = web.Application()
    receiver = new_receiver()
    app.router.add_post("/hooks", webhook_handler(receiver, hook, max_body_size=max_body_size))
    return app


@pytest.mark.parametrize(
    ("encoding", "compress"), [("gzip", gzip.compress), ("deflate", zlib.compress)]
)
def test_a_compressed_delivery_is_verified_as_aiohttp_hands_it_over(
    encoding: str, compress: Any
) -> None:
    """aiohttp decompresses it; the signature over the decoded body passes and
    the handler runs once (before: 400, the delivery lost)."""
    ran: list[bytes] = []
    headers = {**signed(), "Content-Encoding": encoding}
    status = asyncio.run(call(decoded_app(ran), "/hooks", compress(BODY), headers))
    assert (status, ran) == (204, [BODY])


def test_a_compressed_body_past_the_limit_once_decoded_is_refused() -> None:
    """The limit holds against what aiohttp hands over, not the encoded length."""
    ran: list[bytes] = []
    body = b'{"pad": "' + b"a" * 5000 + b'"}'
    headers = {**signed(body), "Content-Encoding": "gzip"}
    packed = gzip.compress(body)
    assert len(packed) < 1000
    status = asyncio.run(call(decoded_app(ran, max_body_size=1000), "/hooks", packed, headers))
    assert (status, ran) == (413, [])


def test_a_compressed_body_cut_short_dispatches_nothing() -> None:
    """The client goes away mid-body: aiohttp's own length check fails the read."""
    ran: list[bytes] = []
    rejected: list[str] = []
    receiver = new_receiver()
    receiver.bus.bind("webhook.rejected", lambda rejection: rejected.append(rejection.reason))

    async def hook(request: web.Request, delivery: Delivery) -> web.Response:
        ran.append(delivery.request.body)
        return web.Response()

    app = web.Application()
    app.router.add_post("/hooks", webhook_handler(receiver, hook))
    packed = gzip.compress(BODY)

    async def main() -> None:
        runner = web.AppRunner(app, handler_cancellation=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            port = runner.addresses[0][1]
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            head = "".join(f"{name}: {value}\r\n" for name, value in signed().items())
            writer.write(
                f"POST /hooks HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
                f"Content-Length: {len(packed)}\r\n{head}\r\n".encode()
                + packed[:-8]
            )
            await writer.drain()
            await asyncio.sleep(0.1)
            writer.close()
            await writer.wait_closed()
            for _ in range(50):
                if rejected:
                    break
                await asyncio.sleep(0.02)
        finally:
            await runner.cleanup()

    asyncio.run(main())
    assert rejected == ["truncated_body"]
    assert ran == []
