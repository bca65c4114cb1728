"""webhookverify.fastapi end to end through FastAPI's and Starlette's TestClient
(and FastAPI under uvicorn): the route runs once per verified, new delivery;
refusals and duplicates never reach it; a route that fails or answers non-2xx
has the sender's retry run it again.

No ``from __future__ import annotations`` here: FastAPI reads the routes'
annotations at runtime, and they name dependencies local to the test."""

import asyncio
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Response
from fastapi.responses import JSONResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient

from test_servers import free_port, running
from webhookverify import Delivery, Handler, HandlerRegistry, Receiver, WebhookRequest, presets
from webhookverify.fastapi import WebhookDelivery, WebhookRoute, install, webhook_endpoint
from webhookverify.replay import MemoryReplayStore
from webhookverify.testing import make_scope, sign_request

SECRET = "fastapi-test-secret"
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


class Script:
    """What the route does on each call (200 by default), and what it saw."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, Any]] = []
        self.answers: list[str] = []

    def next(self, delivery: Delivery) -> str:
        self.calls.append((delivery.handler.name, delivery.user, delivery.json()))
        return self.answers.pop(0) if self.answers else "ok"


def fastapi_app() -> tuple[FastAPI, Script]:
    script = Script()
    verified = WebhookDelivery(new_receiver())
    app = FastAPI()
    install(app)
    router = APIRouter(route_class=WebhookRoute)

    @app.post("/hooks")
    async def hook(
        response: Response,
        payload: Annotated[dict[str, Any], Body()],
        delivery: Annotated[Delivery, Depends(verified)],
    ) -> dict[str, Any]:
        answer = script.next(delivery)
        if answer == "raise":
            raise RuntimeError("the database is down")
        if answer == "http-400":
            raise HTTPException(400, "bad payload")
        if answer == "status-400":
            response.status_code = 400
        return {"ok": answer == "ok", "payload": payload}

    @router.post("/routed")
    def routed(delivery: Annotated[Delivery, Depends(verified)]) -> Any:
        if script.next(delivery) == "return-400":
            return JSONResponse({"ok": False}, status_code=400)
        return {"ok": True, "payload": delivery.json()}

    app.include_router(router)
    return app, script


def starlette_app() -> tuple[Starlette, Script]:
    script = Script()

    @webhook_endpoint(new_receiver())
    async def hook(request: Request, delivery: Delivery) -> Response:
        answer = script.next(delivery)
        if answer == "raise":
            raise RuntimeError("the database is down")
        if answer == "http-400":
            raise HTTPException(400, "bad payload")
        if answer == "status-400":
            return JSONResponse({"ok": False}, status_code=400)
        return JSONResponse({"ok": True, "payload": await request.json()})

    return Starlette(routes=[Route("/hooks", hook, methods=["POST"])]), script


APPS = {
    "fastapi": (fastapi_app, "/hooks"),
    "fastapi-route": (fastapi_app, "/routed"),
    "starlette": (starlette_app, "/hooks"),
}


@pytest.fixture(params=sorted(APPS))
def setup(request: pytest.FixtureRequest) -> tuple[TestClient, Script, str]:
    build, path = APPS[request.param]
    app, script = build()
    return TestClient(app, raise_server_exceptions=False), script, path


def test_valid_delivery_runs_the_route_once_with_handler_and_user(
    setup: tuple[TestClient, Script, str],
) -> None:
    client, script, path = setup
    response = client.post(path, content=BODY, headers=signed())
    assert response.status_code == 200
    assert response.json() == {"ok": True, "payload": {"action": "opened"}}
    assert script.calls == [("github", "ci-bot", {"action": "opened"})]


def test_tampered_delivery_is_refused_and_nothing_runs(
    setup: tuple[TestClient, Script, str],
) -> None:
    client, script, path = setup
    response = client.post(path, content=b'{"action": "closed"}', headers=signed())
    assert response.status_code == 401
    assert response.content == b"webhook signature verification failed\n"
    assert script.calls == []


def test_replay_answers_200_without_running_the_route(
    setup: tuple[TestClient, Script, str],
) -> None:
    client, script, path = setup
    headers = signed()
    assert client.post(path, content=BODY, headers=headers).status_code == 200
    replay = client.post(path, content=BODY, headers=headers)
    assert (replay.status_code, replay.content) == (200, b"")
    assert len(script.calls) == 1


FAILURES = {
    "/hooks": [("raise", 500), ("http-400", 400), ("status-400", 400)],
    "/routed": [("return-400", 400)],
}


def test_a_route_that_fails_is_run_again_by_the_retry(
    setup: tuple[TestClient, Script, str],
) -> None:
    client, script, path = setup
    for answer, status in FAILURES[path]:
        script.answers.append(answer)
        body = f'{{"answer": "{answer}"}}'.encode()  # the replay key is the signed body's
        headers = signed(body)
        assert client.post(path, content=body, headers=headers).status_code == status
        runs = len(script.calls)
        retry = client.post(path, content=body, headers=headers)
        assert retry.status_code == 200
        assert retry.json()["ok"] is True
        assert len(script.calls) == runs + 1
        again = client.post(path, content=body, headers=headers)
        assert (again.status_code, again.content, len(script.calls)) == (200, b"", runs + 1)


def test_a_body_over_the_limit_is_413_and_nothing_runs() -> None:
    app = FastAPI()
    install(app)
    calls: list[Delivery] = []

    verified = WebhookDelivery(new_receiver(), max_body_size=8)

    @app.post("/hooks")
    async def hook(delivery: Annotated[Delivery, Depends(verified)]) -> None:
        calls.append(delivery)

    response = TestClient(app).post("/hooks", content=BODY, headers=signed())
    assert (response.status_code, response.content) == (413, b"request body too large\n")
    assert calls == []


def test_without_install_fastapi_still_answers_the_refusal_status() -> None:
    app = FastAPI()

    verified = WebhookDelivery(new_receiver())

    @app.post("/hooks")
    async def hook(delivery: Annotated[Delivery, Depends(verified)]) -> None:
        raise AssertionError("must not run")

    response = TestClient(app).post("/hooks", content=b"{}", headers=signed())
    assert response.status_code == 401
    assert response.json() == {"detail": "webhook signature verification failed"}


SERVED_APP = """
import os
from typing import Annotated
from fastapi import Depends, FastAPI
from webhookverify import Delivery, Handler, HandlerRegistry, Receiver, WebhookRequest, presets
from webhookverify.fastapi import WebhookDelivery, install

secret = os.environ["HOOK_SECRET"]
receiver = Receiver(HandlerRegistry([Handler("github", presets.github(secret=secret), user="ci-bot")]))
app = FastAPI()
install(app)
runs = []


@app.post("/hooks")
async def hook(delivery: Annotated[Delivery, Depends(WebhookDelivery(receiver))]):
    runs.append(delivery.body)
    if delivery.json().get("fail") and runs.count(delivery.body) == 1:
        raise RuntimeError("first attempt fails")
    return {"user": delivery.user, "handler": delivery.handler.name, "runs": len(runs)}
"""


def test_under_uvicorn_over_loopback(tmp_path: Path) -> None:
    (tmp_path / "served_app.py").write_text(textwrap.dedent(SERVED_APP), encoding="utf-8")
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "served_app:app", "--port", str(port)]
    argv += ["--host", "127.0.0.1", "--log-level", "warning"]
    with running("uvicorn", argv, port, cwd=tmp_path, env={"HOOK_SECRET": SECRET}):
        url = f"http://127.0.0.1:{port}/hooks"
        headers = signed()
        first = httpx.post(url, content=BODY, headers=headers)
        assert first.json() == {"user": "ci-bot", "handler": "github", "runs": 1}
        assert httpx.post(url, content=BODY, headers=headers).content == b""
        assert httpx.post(url, content=b"{}", headers=headers).status_code == 401
        failing = b'{"fail": true}'
        headers = signed(failing)
        assert httpx.post(url, content=failing, headers=headers).status_code == 500
        retry = httpx.post(url, content=failing, headers=headers)
        assert (retry.status_code, retry.json()["runs"]) == (200, 3)


class GatedStore(MemoryReplayStore):
    """A store whose reservations wait for a gate: a request can be
    cancelled while the receiver is still reserving its key."""

    blocking = True  # the receiver awaits areserve

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def areserve(self, key: str, ttl: float, lease: float) -> Any:
        await self.gate.wait()
        return self.reserve(key, ttl, lease)


def starlette_request(webhook_request: WebhookRequest) -> Request:
    messages = [{"type": "http.request", "body": webhook_request.body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    return Request(make_scope(webhook_request), receive)


@pytest.mark.parametrize("when", ["reserving", "in the route"])
def test_a_cancelled_request_releases_the_key_for_the_retry(when: str) -> None:
    store = GatedStore()
    registry = HandlerRegistry([Handler("github", presets.github(secret=SECRET), user="ci-bot")])
    verified = WebhookDelivery(Receiver(registry, replay_store=store))
    signed_request = sign_request(presets.github(secret=SECRET), BODY, url="http://test/hooks")

    async def main() -> Delivery:
        first = verified(starlette_request(signed_request), Response())
        if when == "reserving":
            entering = asyncio.ensure_future(anext(first))
            await asyncio.sleep(0.01)  # the receiver waits on the gate
            entering.cancel()
            store.gate.set()
            with pytest.raises(asyncio.CancelledError):
                await entering
        else:
            store.gate.set()
            await anext(first)
            with pytest.raises(asyncio.CancelledError):
                await first.athrow(asyncio.CancelledError())
        await asyncio.sleep(0.01)  # the key is released in the background
        retry = verified(starlette_request(signed_request), Response())
        delivery = await anext(retry)  # not refused as in flight (409)
        with pytest.raises(StopAsyncIteration):
            await anext(retry)
        return delivery

    assert asyncio.run(main()).user == "ci-bot"
