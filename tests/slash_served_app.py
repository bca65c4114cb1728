"""The apps ``test_slash_redirect.py`` serves: webhook routes declared with
the other trailing slash than the URL senders are given, behind a
``WebhookMiddleware`` guarding ``/webhooks`` and ``/api/hooks``.

- ``app`` (Starlette, under uvicorn and hypercorn): ``POST /webhooks/`` and
  ``POST /api/hooks/`` (``/hooks/`` in a ``Mount("/api")``).
- ``flask_app`` (Flask, under gunicorn): ``POST /webhooks/`` and
  ``POST /api/hooks/``.

Each route records the SHA-256 of the body it read and answers
``recorded``; ``GET /_deliveries`` lists what was recorded, as JSON.
"""

from __future__ import annotations

import hashlib

import flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route

from webhookverify import Handler, HandlerRegistry, HmacVerifier, Receiver, asgi, wsgi

SECRET = "slash-served-secret-0123456789"

_recorded: list[str] = []


def verifier() -> HmacVerifier:
    return HmacVerifier(secret=SECRET, header="X-Signature", prefix="sha256=")


async def hook(request: Request) -> PlainTextResponse:
    asgi.require_delivery(request.scope)
    _recorded.append(hashlib.sha256(await request.body()).hexdigest())
    return PlainTextResponse("recorded")


async def deliveries(request: Request) -> JSONResponse:
    return JSONResponse(_recorded)


app = Starlette(
    routes=[
        Route("/webhooks/", hook, methods=["POST"]),
        Mount("/api", routes=[Route("/hooks/", hook, methods=["POST"])]),
        Route("/_deliveries", deliveries),
    ]
)
PATHS = ["/webhooks", "/api/hooks"]
app.add_middleware(
    asgi.WebhookMiddleware,
    receiver=Receiver(HandlerRegistry([Handler("hmac", verifier())])),
    paths=PATHS,
)

flask_app = flask.Flask(__name__)


@flask_app.post("/webhooks/")
@flask_app.post("/api/hooks/")
def flask_hook() -> str:
    wsgi.require_delivery(flask.request.environ)
    _recorded.append(hashlib.sha256(flask.request.get_data()).hexdigest())
    return "recorded"


@flask_app.get("/_deliveries")
def flask_deliveries() -> flask.Response:
    return flask.jsonify(_recorded)


flask_app.wsgi_app = wsgi.WebhookMiddleware(  # type: ignore[method-assign]
    flask_app.wsgi_app, Receiver(HandlerRegistry([Handler("hmac", verifier())])), paths=PATHS
)
