"""The URL the framework integrations verify is the one the sender signed.

Twilio, Square, Plivo, HubSpot v3 and others sign the URL they called,
exactly as configured: percent-escapes included. Each framework hands its
app a decoded or re-quoted URL instead: Werkzeug's ``request.url`` is an IRI
(``?q=%C3%A9`` becomes ``?q=é``, ``?next=%2Fa`` becomes ``?next=/a``),
Starlette's keeps the decoded path (``/caf%C3%A9`` becomes ``/café``) and
Django's ``build_absolute_uri`` escapes ``;`` and ``=`` in a path. Every
delivery to such a URL failed its signature, for every retry. The
integrations now build the URL from what was received, as the WSGI and
ASGI adapters do.

No ``from __future__ import annotations``: FastAPI reads the annotations.
"""

from typing import Annotated, Any

import pytest

pytest.importorskip("django")

from _django_config import configure_django

configure_django()

from django.core.handlers.wsgi import WSGIRequest  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from fastapi import Depends, FastAPI  # noqa: E402
from flask import Flask  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from webhookverify import Delivery, Handler, HandlerRegistry, Receiver, presets  # noqa: E402
from webhookverify.django import webhook_view as django_view  # noqa: E402
from webhookverify.fastapi import WebhookDelivery, install  # noqa: E402
from webhookverify.flask import webhook_view as flask_view  # noqa: E402
from webhookverify.testing import make_environ, sign_request  # noqa: E402

TWILIO = presets.twilio(secret="0123456789abcdef0123456789abcdef")
BODY = b"CallSid=CA1&From=%2B15551234567&CallStatus=completed"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

# As configured at the sender: each one was refused by at least one integration.
TARGETS = [
    "/twilio/status?next=%2Fcalls%2F1",
    "/twilio/status?callback=https%3A%2F%2Fexample.com%2Fdone",
    "/twilio/status?city=M%C3%BCnchen",
    "/twilio/caf%C3%A9",
    "/twilio/a%20b?x=a+b",
    "/twilio/s;v=1?x=1",
    "/twilio/status?x=1",
]


def receiver() -> Receiver:
    return Receiver(HandlerRegistry([Handler("twilio", TWILIO)]))


def signed(host: str, target: str) -> dict[str, str]:
    request = sign_request(TWILIO, BODY, url=f"http://{host}{target}", headers=FORM)
    return dict(request.headers.items())


@pytest.mark.parametrize("target", TARGETS)
def test_flask(target: str) -> None:
    app = Flask(__name__)
    ran: list[str] = []

    @app.post("/twilio/<path:rest>")
    @flask_view(receiver())
    def hook(delivery: Delivery, rest: str) -> tuple[str, int]:
        ran.append(delivery.request.url)
        return "", 204

    answer = app.test_client().post(target, data=BODY, headers=signed("localhost", target))
    assert answer.status_code == 204
    assert ran == [f"http://localhost{target}"]


@pytest.mark.parametrize("target", TARGETS)
def test_fastapi(target: str) -> None:
    verified = WebhookDelivery(receiver())
    app = FastAPI()
    install(app)
    ran: list[str] = []

    @app.post("/twilio/{rest:path}")
    async def hook(delivery: Annotated[Delivery, Depends(verified)]) -> dict[str, str]:
        ran.append(delivery.request.url)
        return {}

    with TestClient(app) as client:
        answer = client.post(target, content=BODY, headers=signed("testserver", target))
    assert answer.status_code == 200
    assert ran == [f"http://testserver{target}"]


@pytest.mark.parametrize("raw_uri", [True, False])
@pytest.mark.parametrize("target", TARGETS)
def test_django(target: str, raw_uri: bool) -> None:
    ran: list[str] = []

    @django_view(receiver())
    def hook(request: Any, delivery: Delivery) -> HttpResponse:
        ran.append(delivery.request.url)
        return HttpResponse(status=204)

    request = sign_request(TWILIO, BODY, url=f"http://localhost{target}", headers=FORM)
    environ = make_environ(request)
    if raw_uri:
        environ["RAW_URI"] = target  # gunicorn's request target, as sent
    elif "%2F" in target.partition("?")[0] or ";" in target.partition("?")[0]:
        pytest.skip("without the raw target, only the decoded path is known")
    assert hook(WSGIRequest(environ)).status_code == 204
    assert ran == [f"http://localhost{target}"]
