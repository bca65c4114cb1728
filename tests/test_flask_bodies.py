"""webhookverify.flask when something read the body before the webhook view.

Werkzeug parses ``request.form`` from the request stream and keeps no raw
bytes; a ``before_request`` hook or an extension that reads ``request.form``
(or ``request.values``) before the view leaves the view an empty stream.
Every form-encoded delivery (Slack's slash commands, Twilio, Mailgun) was
then answered 400 as a "truncated body": a fault of the sender's, which
senders do not retry, with nothing in the log naming the cause. It is the
server's fault: 500 (the sender retries once it is fixed) and one error
line that says what read the body and how to keep it.
"""

from __future__ import annotations

import logging

import pytest
from flask import Flask, request

from webhookverify import Delivery, Handler, HandlerRegistry, Receiver, presets
from webhookverify.flask import webhook_view
from webhookverify.testing import sign_request

SLACK = presets.slack(secret="flask-bodies-secret")
COMMAND = b"token=abc&command=%2Fweather&text=94070"


def app_with(hook: str) -> tuple[Flask, list[bytes]]:
    ran: list[bytes] = []
    app = Flask(__name__)

    @app.before_request
    def peek() -> None:
        if hook == "get_data":
            request.get_data()  # kept: the form and the view both read it
        request.form.get("command")

    @app.post("/slack")
    @webhook_view(Receiver(HandlerRegistry([Handler("slack", SLACK)])))
    def slack(delivery: Delivery) -> tuple[str, int]:
        ran.append(delivery.body)
        return "", 204

    return app, ran


def post(app: Flask, body: bytes) -> object:
    headers = dict(sign_request(SLACK, body).headers.items())
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return app.test_client().post("/slack", data=body, headers=headers)


def test_a_body_read_as_a_form_before_the_view_is_a_500_naming_the_cause(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, ran = app_with("form")
    with caplog.at_level(logging.ERROR, logger="webhookverify"):
        answer = post(app, COMMAND)
    assert answer.status_code == 500  # type: ignore[attr-defined]
    assert ran == []
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "request.form" in record.getMessage()
    assert "request.get_data()" in record.getMessage()


def test_a_body_kept_with_get_data_before_the_form_is_verified() -> None:
    app, ran = app_with("get_data")
    answer = post(app, COMMAND)
    assert answer.status_code == 204  # type: ignore[attr-defined]
    assert ran == [COMMAND]
