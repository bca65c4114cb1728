"""Handshakes through the Flask, FastAPI, Starlette and Django integrations:
each goes through ``Receiver.receive``/``areceive``, so each answers the
handshake itself and never runs the view for it."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest

from webhookverify import Delivery, Receiver

from handshake_cases import CASES, Case, Request

Answer = tuple[int, dict[str, str], bytes]
Surface = Callable[[Receiver, Request, list[Delivery]], Answer]


def _lower(pairs: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in pairs}


def via_flask(receiver: Receiver, request: Request, ran: list[Delivery]) -> Answer:
    flask = pytest.importorskip("flask")
    from webhookverify.flask import webhook_view

    app = flask.Flask(__name__)

    def view(delivery: Delivery) -> tuple[str, int]:
        ran.append(delivery)
        return "the view ran", 200

    app.route("/hooks", methods=["GET", "POST"])(webhook_view(receiver)(view))
    parts = urllib.parse.urlsplit(request.url)
    response = app.test_client().open(
        parts.path,
        method=request.method,
        query_string=parts.query,
        headers=request.headers,
        data=request.body,
        base_url=f"{parts.scheme}://{parts.netloc}",
    )
    return response.status_code, _lower(response.headers.items()), response.get_data()


def via_fastapi(receiver: Receiver, request: Request, ran: list[Delivery]) -> Answer:
    fastapi = pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from webhookverify.fastapi import WebhookDelivery, install

    verified = WebhookDelivery(receiver)
    app = fastapi.FastAPI()
    install(app)  # the receiver's exact answer, handshakes included

    @app.api_route("/hooks", methods=["GET", "POST"])
    async def hook(delivery: Delivery = fastapi.Depends(verified)) -> str:  # noqa: B008
        ran.append(delivery)
        return "the route ran"

    return _client_call(TestClient(app), request)


def via_starlette(receiver: Receiver, request: Request, ran: list[Delivery]) -> Answer:
    pytest.importorskip("starlette")
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from webhookverify.fastapi import webhook_endpoint

    @webhook_endpoint(receiver)
    async def hook(request: Any, delivery: Delivery) -> Any:
        ran.append(delivery)
        return PlainTextResponse("the endpoint ran")

    app = Starlette(routes=[Route("/hooks", hook, methods=["GET", "POST"])])
    return _client_call(TestClient(app), request)


def _client_call(client: Any, request: Request) -> Answer:
    parts = urllib.parse.urlsplit(request.url)
    client.base_url = f"{parts.scheme}://{parts.netloc}"
    response = client.request(
        request.method,
        f"{parts.path}?{parts.query}" if parts.query else parts.path,
        headers=request.headers,
        content=request.body,
    )
    return response.status_code, _lower(response.headers.items()), response.content


def via_django(receiver: Receiver, request: Request, ran: list[Delivery]) -> Answer:
    pytest.importorskip("django")
    from _django_config import configure_django

    configure_django()
    from django.http import HttpResponse
    from django.test import RequestFactory

    from webhookverify.django import webhook_view

    @webhook_view(receiver)
    def hook(http_request: Any, delivery: Delivery) -> Any:
        ran.append(delivery)
        return HttpResponse("the view ran")

    parts = urllib.parse.urlsplit(request.url)
    target = f"{parts.path}?{parts.query}" if parts.query else parts.path
    factory = RequestFactory(headers=request.headers)
    http = factory.generic(
        request.method,
        target,
        data=request.body,
        content_type=request.headers.get("Content-Type", "application/json"),
        secure=parts.scheme == "https",
        SERVER_NAME=parts.hostname,
    )
    response = hook(http)
    return response.status_code, _lower(response.items()), response.content


SURFACES: dict[str, Surface] = {
    "flask": via_flask,
    "fastapi": via_fastapi,
    "starlette": via_starlette,
    "django": via_django,
}


@pytest.mark.parametrize("surface", sorted(SURFACES))
@pytest.mark.parametrize("name", sorted(CASES))
def test_the_documented_handshake_is_answered_and_the_view_never_runs(
    name: str, surface: str
) -> None:
    case: Case = CASES[name]()
    receiver = case.receiver()
    seen = case.wire(receiver)
    ran: list[Delivery] = []
    status, headers, body = SURFACES[surface](receiver, case.good, ran)
    assert (status, body) == (case.status, case.answer)
    assert headers["content-type"] == case.content_type
    assert headers["x-content-type-options"] == "nosniff"
    for header, value in case.extra_headers.items():
        assert headers[header.lower()] == value
    assert ran == [] and seen["received"] == [] and len(seen["handshake"]) == 1


@pytest.mark.parametrize("surface", sorted(SURFACES))
@pytest.mark.parametrize("name", ["meta", "slack", "okta", "x"])
def test_a_wrong_token_or_signature_is_refused_and_never_echoed(name: str, surface: str) -> None:
    case: Case = CASES[name]()
    receiver = case.receiver()
    seen = case.wire(receiver)
    ran: list[Delivery] = []
    status, headers, body = SURFACES[surface](receiver, case.bad, ran)
    assert status == 401 and case.echoed.encode() not in body
    assert ran == [] and seen["handshake"] == []
