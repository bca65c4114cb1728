"""FastAPI routes that take form fields (``Form()``) beside the verified delivery.

Slack's slash commands and interactivity, Twilio, Mailgun and Plivo post
``application/x-www-form-urlencoded`` bodies, and a FastAPI route naturally
declares the fields it reads as ``Form()`` parameters. FastAPI parses the
form from the request stream *before* it runs any dependency, so
``WebhookDelivery`` then found the stream consumed: every such delivery
was answered 500 with a ``RuntimeError`` traceback, forever.

``WebhookRoute`` now reads the body (within the dependency's
``max_body_size``) before FastAPI parses the form, so both see the same
bytes; a plain route whose body was consumed first gets one clear error
line naming the fix.

No ``from __future__ import annotations``: FastAPI reads the annotations.
"""

import logging
import time
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, Form
from starlette.testclient import TestClient

from webhookverify import Delivery, Handler, HandlerRegistry, Receiver, presets
from webhookverify.fastapi import WebhookDelivery, WebhookRoute, install
from webhookverify.testing import sign_request

pytest.importorskip("python_multipart")  # FastAPI's Form() needs it

SLACK = presets.slack(secret="fastapi-forms-secret")
FORM = "application/x-www-form-urlencoded"
COMMAND = b"token=abc&command=%2Fweather&text=94070&trigger_id=1.2.3"


def app_with(route_class: type | None, max_body_size: int = 1024 * 1024) -> tuple[FastAPI, list]:
    """An app with ``POST /slack/commands`` taking the delivery and two form
    fields; the list records each run of the route."""
    ran: list[tuple[str, str, bytes]] = []
    verified = WebhookDelivery(
        Receiver(HandlerRegistry([Handler("slack", SLACK)])), max_body_size=max_body_size
    )
    app = FastAPI()
    install(app)
    router = APIRouter() if route_class is None else APIRouter(route_class=route_class)

    @router.post("/slack/commands")
    async def command(
        delivery: Annotated[Delivery, Depends(verified)],
        command: Annotated[str, Form()],
        text: Annotated[str, Form()] = "",
    ) -> dict[str, str]:
        ran.append((command, text, delivery.body))
        return {"text": f"{command} {text}"}

    app.include_router(router)
    return app, ran


def post(
    app: FastAPI, body: bytes, signed_for: bytes | None = None, now: float | None = None
) -> object:
    signed = sign_request(SLACK, body if signed_for is None else signed_for, now=now)
    headers = dict(signed.headers.items())
    headers["Content-Type"] = FORM
    with TestClient(app, raise_server_exceptions=False) as client:
        return client.post("/slack/commands", content=body, headers=headers)


def test_a_form_route_with_webhook_route_runs_once_with_the_fields_and_the_raw_body() -> None:
    app, ran = app_with(WebhookRoute)
    now = time.time()  # Slack signs the second: both posts carry the same signature
    answer = post(app, COMMAND, now=now)
    assert (answer.status_code, answer.json()) == (200, {"text": "/weather 94070"})
    assert ran == [("/weather", "94070", COMMAND)]
    again = post(app, COMMAND, now=now)  # the same signed request: a replay
    assert again.status_code == 200
    assert len(ran) == 1


def test_a_tampered_form_is_refused_before_the_route() -> None:
    app, ran = app_with(WebhookRoute)
    answer = post(app, COMMAND.replace(b"94070", b"10001"), signed_for=COMMAND)
    assert answer.status_code == 401
    assert ran == []


def test_a_form_past_the_dependency_limit_is_413_before_fastapi_parses_it() -> None:
    app, ran = app_with(WebhookRoute, max_body_size=32)
    answer = post(app, COMMAND)
    assert answer.status_code == 413
    assert ran == []


def test_a_plain_route_whose_body_fastapi_consumed_says_how_to_fix_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, ran = app_with(None)
    with caplog.at_level(logging.ERROR, logger="webhookverify"):
        answer = post(app, COMMAND)
    assert answer.status_code == 500  # a server-side fault: the sender retries
    assert answer.content == b"the delivery could not be processed; retry later\n"
    assert ran == []
    [record] = [r for r in caplog.records if "WebhookRoute" in r.getMessage()]
    assert "Form()" in record.getMessage()
    assert record.exc_info is None  # one clear line, not a traceback
