"""webhookverify.aiohttp after a delivery is verified, through a real aiohttp
server over loopback: what the handler does with the request and its answer
must not lose the delivery.

- A form read with ``request.post()`` or ``request.multipart()`` takes a body
  that ``max_body_size`` accepted, even past the app's ``client_max_size``
  (aiohttp would answer 413 from inside the handler, to every retry).
- A handler that fails after its ``StreamResponse`` started sending does not
  get a second response written after the first (the sender would read a
  200 status line, then garbage), and its delivery reaches the handler
  again on the sender's retry."""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest
from aiohttp import BodyPartReader, web
from aiohttp.test_utils import TestClient, TestServer

from webhookverify import Handler, HandlerRegistry, Receiver, presets
from webhookverify.aiohttp import WebhookMiddleware
from webhookverify.testing import sign_request

SECRET = "aiohttp-streamed-secret"
BODY = b'{"action": "opened", "number": 8}'
# Long enough for a loaded machine to write a small answer over loopback.
READ_TIMEOUT = 5.0


def raw_post(port: int, body: bytes, headers: dict[str, str]) -> bytes:
    """Everything the server writes on the connection until it closes it
    (``Connection: close``), as a sender's socket would read it."""
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    message = (
        f"POST /webhooks HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode("latin-1") + body
    with socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT) as sock:
        sock.sendall(message)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def signed_headers(body: bytes, content_type: str) -> dict[str, str]:
    request = sign_request(
        presets.github(secret=SECRET),
        body,
        headers={"X-GitHub-Delivery": str(uuid.uuid4()), "Content-Type": content_type},
    )
    return dict(request.headers.items())


# A form field past aiohttp's client_max_size below, within max_body_size.
CLIENT_MAX_SIZE = 1024
FIELD = "v" * (4 * CLIENT_MAX_SIZE)
MULTIPART = (
    b'--XX\r\nContent-Disposition: form-data; name="note"\r\n\r\n'
    + FIELD.encode()
    + b"\r\n--XX--\r\n"
)


@pytest.mark.parametrize(
    ("reader", "body", "content_type"),
    [
        ("post", MULTIPART, "multipart/form-data; boundary=XX"),
        ("multipart", MULTIPART, "multipart/form-data; boundary=XX"),
        ("post", b"note=" + FIELD.encode(), "application/x-www-form-urlencoded"),
    ],
)
def test_a_form_max_body_size_accepted_is_read_past_client_max_size(
    reader: str, body: bytes, content_type: str
) -> None:
    fields: list[str] = []

    async def form(request: web.Request) -> web.Response:
        if reader == "post":
            fields.append(str((await request.post())["note"]))
        else:
            async for part in await request.multipart():
                assert isinstance(part, BodyPartReader)
                fields.append(await part.text())
        return web.Response(text="read")

    receiver = Receiver(HandlerRegistry([Handler("github", presets.github(secret=SECRET))]))
    app = web.Application(
        middlewares=[WebhookMiddleware(receiver, path="/webhooks", max_body_size=2**16)],
        client_max_size=CLIENT_MAX_SIZE,
    )
    app.router.add_post("/webhooks", form)

    async def send() -> tuple[int, str]:
        async with TestClient(TestServer(app)) as client:
            response = await client.post(
                "/webhooks", data=body, headers=signed_headers(body, content_type)
            )
            return response.status, await response.text()

    assert asyncio.run(send()) == (200, "read")
    assert fields == [FIELD]


def test_a_handler_failing_mid_stream_gets_no_second_response_and_runs_again() -> None:
    runs: list[bytes] = []

    async def streamed(request: web.Request) -> web.StreamResponse:
        runs.append(await request.read())
        response = web.StreamResponse(status=200)
        await response.prepare(request)
        await response.write(b"partial")
        if len(runs) == 1:
            raise RuntimeError("the handler failed after its answer started")
        await response.write_eof()
        return response

    receiver = Receiver(HandlerRegistry([Handler("github", presets.github(secret=SECRET))]))
    app = web.Application(middlewares=[WebhookMiddleware(receiver, path="/webhooks")])
    app.router.add_post("/webhooks", streamed)
    request = sign_request(
        presets.github(secret=SECRET), BODY, headers={"X-GitHub-Delivery": str(uuid.uuid4())}
    )
    headers = dict(request.headers.items())

    async def scenario() -> tuple[bytes, bytes]:
        server = TestServer(app)
        await server.start_server()
        try:
            port = server.port
            assert port is not None
            first = await asyncio.to_thread(raw_post, port, BODY, headers)
            retry = await asyncio.to_thread(raw_post, port, BODY, headers)
        finally:
            await server.close()
        return first, retry

    first, retry = asyncio.run(scenario())
    # one status line only: the failed stream is cut, never followed by a 500
    assert first.count(b"HTTP/1.1 ") == 1, first
    # chunked and never terminated: the sender sees a broken answer, not a whole one
    assert not first.endswith(b"0\r\n\r\n"), first
    # the key was released: the retry reaches the handler and completes
    assert retry.startswith(b"HTTP/1.1 200") and retry.endswith(b"0\r\n\r\n"), retry
    assert runs == [BODY, BODY]
