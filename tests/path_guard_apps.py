"""Framework apps with a webhook view at ``/webhooks``, for ``test_path_guard.py``.

Each factory returns the bare app (Flask, Django, Starlette, FastAPI): the
tests wrap it in ``WebhookMiddleware`` themselves, and ask the bare app which
spellings of the path its router sends to the view. Every run of the view is
recorded in the list given, with the delivery it found (``None`` when it ran
unverified) and the body it read. ``GET /webhooks`` is a handshake that
records nothing, for ``passthrough_methods``.

``served_flask`` (gunicorn) and ``served_starlette`` (uvicorn) are the same
apps behind the middleware, with ``GET /_runs`` telling what the view saw.
"""

from __future__ import annotations

import hashlib
import json
import sys
import types
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from fastapi import FastAPI
from fastapi import Request as FastAPIRequest
from fastapi import Response as FastAPIResponse
from flask import Flask, request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webhookverify import Delivery, Handler, HandlerRegistry, HmacVerifier, Receiver
from webhookverify import asgi as _asgi
from webhookverify import wsgi as _wsgi

SECRET = "path-guard-secret-0123456789"
HANDSHAKE = b"handshake"


class Run(NamedTuple):
    """One run of the view."""

    delivery: Delivery | None
    body: bytes


def verifier() -> HmacVerifier:
    return HmacVerifier(secret=SECRET, header="X-Signature", prefix="sha256=")


def receiver() -> Receiver:
    return Receiver(HandlerRegistry([Handler("hmac", verifier(), user="bot")]))


def flask_app(runs: list[Run]) -> Any:
    app = Flask("path_guard")

    @app.route("/webhooks", methods=["GET", "POST"])
    def webhook() -> bytes:
        if request.method == "GET":
            return HANDSHAKE
        runs.append(Run(_wsgi.get_delivery(request.environ), request.get_data()))
        return b"ran"

    @app.get("/_runs")
    def runs_json() -> bytes:
        return _runs_json(runs)

    return app


_DJANGO_URLS = "path_guard_urls"


def django_app(runs: list[Run]) -> Callable[..., Iterable[bytes]]:
    """A Django project of one view; the URL conf is replaced on each call."""
    import django
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from django.http import HttpRequest, HttpResponse
    from django.urls import clear_url_caches, path

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="path-guard-tests-only",
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF=_DJANGO_URLS,
            MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
            USE_TZ=True,
        )
        django.setup()
    if settings.ROOT_URLCONF != _DJANGO_URLS:
        raise RuntimeError("Django was configured elsewhere in this process")

    def webhook(request: HttpRequest) -> HttpResponse:
        if request.method == "GET":
            return HttpResponse(HANDSHAKE)
        runs.append(Run(_wsgi.get_delivery(request.META), request.body))
        return HttpResponse(b"ran")

    urls = types.ModuleType(_DJANGO_URLS)
    urls.urlpatterns = [path("webhooks", webhook)]  # type: ignore[attr-defined]
    sys.modules[_DJANGO_URLS] = urls
    clear_url_caches()
    return get_wsgi_application()


def starlette_app(runs: list[Run]) -> Any:
    async def webhook(request: Request) -> Response:
        if request.method == "GET":
            return Response(HANDSHAKE)
        runs.append(Run(_asgi.get_delivery(request.scope), await request.body()))
        return Response(b"ran")

    async def runs_json(request: Request) -> Response:
        return Response(_runs_json(runs))

    return Starlette(
        routes=[
            Route("/webhooks", webhook, methods=["GET", "POST"]),
            Route("/_runs", runs_json),
        ]
    )


def fastapi_app(runs: list[Run]) -> Any:
    app = FastAPI()

    @app.api_route("/webhooks", methods=["GET", "POST"])
    async def webhook(request: FastAPIRequest) -> FastAPIResponse:
        if request.method == "GET":
            return FastAPIResponse(HANDSHAKE)
        runs.append(Run(_asgi.get_delivery(request.scope), await request.body()))
        return FastAPIResponse(b"ran")

    return app


def _runs_json(runs: list[Run]) -> bytes:
    return json.dumps(
        [
            {"verified": r.delivery is not None, "sha256": hashlib.sha256(r.body).hexdigest()}
            for r in runs
        ]
    ).encode()


# -- served by real servers ----------------------------------------------------------------

served_flask = _wsgi.WebhookMiddleware(flask_app([]), receiver(), path="/webhooks")
served_starlette = _asgi.WebhookMiddleware(starlette_app([]), receiver(), path="/webhooks")
