"""webhookverify.django end to end with Django's own test client and RequestFactory."""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("django")

from _django_config import configure_django

configure_django()

from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.test import AsyncClient, Client, RequestFactory, override_settings  # noqa: E402
from django.urls import clear_url_caches, path  # noqa: E402

from webhookverify import (  # noqa: E402
    ConfigurationError,
    Delivery,
    Handler,
    HandlerRegistry,
    Receiver,
    presets,
)
from webhookverify.django import (  # noqa: E402
    WebhookView,
    connect_signals,
    settings_receiver,
    webhook_duplicate,
    webhook_received,
    webhook_rejected,
    webhook_view,
)
from webhookverify.testing import sign_request  # noqa: E402

SECRET = "django-test-secret"
GITHUB = presets.github(secret=SECRET)
URLS = "webhookverify_django_test_urls"
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]


def new_receiver() -> Receiver:
    return Receiver(HandlerRegistry([Handler("github", GITHUB, user="ci-bot")]))


def signed(body: bytes) -> dict[str, str]:
    request = sign_request(GITHUB, body)
    return {name: request.headers[name] for name in request.headers}


class Views:
    """Views whose every run is recorded; ``answers`` scripts what they do, in order."""

    def __init__(self) -> None:
        self.runs: list[Delivery] = []
        self.answers: list[int | Exception] = []

    def answer(self, delivery: Delivery) -> HttpResponse:
        self.runs.append(delivery)
        step = self.answers.pop(0) if self.answers else 200
        if isinstance(step, Exception):
            raise step
        return JsonResponse({"user": delivery.user, "handler": delivery.handler.name}, status=step)


@pytest.fixture
def views() -> Iterator[Views]:
    recorded = Views()
    receiver = new_receiver()

    @webhook_view(receiver)
    def sync_hook(request: Any, delivery: Delivery) -> HttpResponse:
        assert request.method == "POST"
        return recorded.answer(delivery)

    @webhook_view(new_receiver())
    async def async_hook(request: Any, delivery: Delivery) -> HttpResponse:
        await asyncio.sleep(0)
        return recorded.answer(delivery)

    @webhook_view
    def settings_hook(request: Any, delivery: Delivery) -> HttpResponse:
        return recorded.answer(delivery)

    class ClassHook(WebhookView):
        def handle(self, request: Any, delivery: Delivery) -> HttpResponse:
            return recorded.answer(delivery)

    class AsyncClassHook(WebhookView):
        async def handle(self, request: Any, delivery: Delivery) -> HttpResponse:
            return recorded.answer(delivery)

    urls = types.ModuleType(URLS)
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("hooks/sync", sync_hook),
        path("hooks/async", async_hook),
        path("hooks/settings", settings_hook),
        path("hooks/class", ClassHook.as_view(receiver=new_receiver())),
        path("hooks/async-class", AsyncClassHook.as_view(receiver=new_receiver())),
    ]
    sys.modules[URLS] = urls
    env = {"handlers": [{"name": "gh", "preset": "github", "secret": "env:DJANGO_TEST_SECRET"}]}
    with override_settings(ROOT_URLCONF=URLS, MIDDLEWARE=MIDDLEWARE, WEBHOOKVERIFY=env):
        clear_url_caches()
        yield recorded
    clear_url_caches()
    del sys.modules[URLS]


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_TEST_SECRET", SECRET)


def client() -> Client:
    return Client(enforce_csrf_checks=True)  # a CSRF check would refuse the sender


def post(target: str, body: bytes, headers: dict[str, str]) -> Any:
    return client().post(target, body, content_type="application/json", headers=headers)


@pytest.mark.parametrize("target", ["/hooks/sync", "/hooks/settings", "/hooks/class"])
def test_the_delivery_semantics(views: Views, target: str) -> None:
    body = b'{"action": "opened"}'
    headers = signed(body)
    valid = post(target, body, headers)
    assert valid.status_code == 200, valid.content
    assert len(views.runs) == 1
    expected_handler = "gh" if target == "/hooks/settings" else "github"
    assert views.runs[0].handler.name == expected_handler
    assert valid.json()["handler"] == expected_handler
    assert views.runs[0].body == body
    tampered = post(target, b'{"action": "closed"}', headers)
    assert tampered.status_code == 401
    assert tampered.content == b"webhook signature verification failed\n"
    replay = post(target, body, headers)
    assert (replay.status_code, replay.content) == (200, b"")
    assert len(views.runs) == 1


def test_the_view_answering_400_or_raising_lets_the_retry_run_it(views: Views) -> None:
    body = b'{"n": 1}'
    headers = signed(body)
    views.answers = [400, RuntimeError("the database is down")]
    declined = post("/hooks/sync", body, headers)
    assert declined.status_code == 400  # the view's own answer
    assert declined.json() == {"user": "ci-bot", "handler": "github"}
    raised = post("/hooks/sync", body, headers)
    assert raised.status_code == 500
    retried = post("/hooks/sync", body, headers)
    assert retried.status_code == 200
    assert len(views.runs) == 3
    assert post("/hooks/sync", body, headers).status_code == 200
    assert len(views.runs) == 3


def test_the_user_is_the_handlers(views: Views) -> None:
    body = b"{}"
    assert post("/hooks/sync", body, signed(body)).json() == {"user": "ci-bot", "handler": "github"}
    assert views.runs[0].user == "ci-bot"


@pytest.mark.parametrize("target", ["/hooks/async", "/hooks/async-class"])
def test_async_views_with_the_async_client(views: Views, target: str) -> None:
    body = b'{"action": "opened"}'
    headers = signed(body)

    async def run() -> list[int]:
        client = AsyncClient(enforce_csrf_checks=True)
        statuses = []
        views.answers = [400, RuntimeError("boom")]
        for sent in (body, body, body, body, b'{"x": 1}'):
            response = await client.post(
                target, sent, content_type="application/json", headers=headers
            )
            statuses.append(response.status_code)
        return statuses

    assert asyncio.run(run()) == [400, 500, 200, 200, 401]
    assert len(views.runs) == 3


def test_only_post_and_a_bounded_body(views: Views) -> None:
    response = client().get("/hooks/sync")
    assert (response.status_code, response["Allow"]) == (405, "POST")
    receiver = new_receiver()
    ran = []

    @webhook_view(receiver, max_body_size=8)
    def small(request: Any, delivery: Delivery) -> HttpResponse:
        ran.append(delivery)
        return HttpResponse()

    body = b'{"much": "too long"}'
    request = RequestFactory().post("/hooks", body, content_type="application/json")
    request.META.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed(body).items()})
    answered = small(request)
    assert answered.status_code == 413
    assert not request._read_started  # refused before the body was read
    assert ran == []


def test_request_factory_and_the_url_read_only_when_signed(views: Views) -> None:
    receiver = new_receiver()
    seen: list[Delivery] = []

    @webhook_view(receiver)
    def hook(request: Any, delivery: Delivery) -> HttpResponse:
        seen.append(delivery)
        return HttpResponse(status=204)

    body = b"{}"
    request = RequestFactory().post("/hooks?x=1", body, content_type="application/json")
    request.META.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed(body).items()})
    request.META["REMOTE_ADDR"] = "192.0.2.7"
    assert hook(request).status_code == 204
    assert seen[0].request.remote_addr == "192.0.2.7"
    assert seen[0].request.url == "http://testserver/hooks?x=1"
    assert getattr(hook, "csrf_exempt", False) is True


def test_signals_fire(views: Views) -> None:
    got: list[tuple[str, Any]] = []

    def on_duplicate(sender: Any, delivery: Delivery, **_: Any) -> None:
        got.append(("duplicate", delivery.handler.name))

    def on_rejected(sender: Any, rejection: Any, **_: Any) -> None:
        got.append(("rejected", rejection.status))

    def on_received(sender: Any, delivery: Delivery, **_: Any) -> None:
        got.append(("received", sender))

    webhook_duplicate.connect(on_duplicate)
    webhook_rejected.connect(on_rejected)
    webhook_received.connect(on_received)
    try:
        body = b'{"signal": 1}'
        headers = signed(body)
        post("/hooks/settings", body, headers)
        post("/hooks/settings", body, headers)
        post("/hooks/settings", b"{}", headers)
        # the view is the dispatch step: webhook.received fires without one
        receiver = connect_signals(new_receiver())
        assert connect_signals(receiver) is receiver  # once per receiver
        receiver.receive(sign_request(GITHUB, b"[]"))
    finally:
        for signal, listener in (
            (webhook_duplicate, on_duplicate),
            (webhook_rejected, on_rejected),
            (webhook_received, on_received),
        ):
            signal.disconnect(listener)
    assert got == [("duplicate", "gh"), ("rejected", 401), ("received", receiver)]


def test_a_class_view_without_handle_fires_webhook_received(views: Views) -> None:
    receiver = new_receiver()
    got: list[Delivery] = []
    receiver.bus.bind("webhook.received", got.append)
    view = WebhookView.as_view(receiver=receiver)
    body = b'{"class": 1}'
    request = RequestFactory().post("/hooks", body, content_type="application/json")
    request.META.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed(body).items()})
    assert view(request).status_code == 200
    assert [d.body for d in got] == [body]


def test_the_settings_receiver_is_built_once_and_again_when_the_setting_changes(
    views: Views,
) -> None:
    first = settings_receiver()
    assert settings_receiver() is first
    other = {
        "handlers": [{"name": "other", "preset": "github", "secret": "env:DJANGO_TEST_SECRET"}]
    }
    with override_settings(WEBHOOKVERIFY=other):
        assert [h.name for h in settings_receiver().registry] == ["other"]
    assert settings_receiver() is not first


def test_a_missing_or_bad_setting_is_one_clear_line(views: Views) -> None:
    with override_settings(WEBHOOKVERIFY=None), pytest.raises(ConfigurationError) as missing:
        settings_receiver()
    assert "WEBHOOKVERIFY setting" in str(missing.value)
    bad = {"handlers": [{"name": "x", "preset": "githib", "secret": "env:DJANGO_TEST_SECRET"}]}
    with override_settings(WEBHOOKVERIFY=bad), pytest.raises(ConfigurationError) as wrong:
        settings_receiver()
    assert str(wrong.value).startswith("settings.WEBHOOKVERIFY: ")
    with pytest.raises(ConfigurationError, match=r"must be a webhookverify\.Receiver"):
        webhook_view(object())  # type: ignore[arg-type]


def test_a_toml_setting_and_its_body_limit(views: Views, tmp_path: Any) -> None:
    config = tmp_path / "webhooks.toml"
    config.write_text(
        '[webhooks]\nmax_body_size = 16\n[[webhooks.handlers]]\nname = "toml"\n'
        'preset = "github"\nsecret = "env:DJANGO_TEST_SECRET"\nuser = "ops"\n'
    )
    with override_settings(WEBHOOKVERIFY=str(config)):
        small = b'{"a": 1}'
        response = post("/hooks/settings", small, signed(small))
        assert response.json() == {"user": "ops", "handler": "toml"}
        big = b'{"a": "more than sixteen bytes"}'
        assert post("/hooks/settings", big, signed(big)).status_code == 413
    assert len(views.runs) == 1
    config.write_text("[webhooks]\nmax_body_size = -1\nhandlers = []\n")
    with override_settings(WEBHOOKVERIFY=str(config)), pytest.raises(ConfigurationError) as bad:
        settings_receiver()
    assert str(bad.value).startswith("settings.WEBHOOKVERIFY: max_body_size")
