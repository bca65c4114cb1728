"""The pytest plugin, loaded as users load it: through the package's pytest11
entry point, in a pytest run of its own (pytester), its fixture sending signed
deliveries through every framework's test client."""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

import pytest

from webhookverify import ConfigurationError, Handler, HandlerRegistry, Receiver, presets
from webhookverify.testing import SignedDelivery, WebhookSigner

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def install_plugin(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A distribution's metadata declaring the project's pytest11 entry points, on
    the path of the pytest runs started from here: pytest finds the plugin as it
    finds it in an installed webhookverify."""
    points = PROJECT["project"]["entry-points"]["pytest11"]
    info = site / "webhookverify_plugin_check-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: webhookverify-plugin-check\nVersion: 1.0\n"
    )
    lines = "".join(f"{name} = {target}\n" for name, target in points.items())
    (info / "entry_points.txt").write_text(f"[pytest11]\n{lines}")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), *sys.path]))
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    install_plugin(tmp_path / "site", monkeypatch)
    return tmp_path / "site"


def test_the_entry_point_names_the_plugin_module() -> None:
    assert PROJECT["project"]["entry-points"]["pytest11"] == {
        "webhookverify": "webhookverify.pytest_plugin"
    }


USERS_TESTS = """
import asyncio, json
import pytest

from webhookverify import Delivery, Handler, HandlerRegistry, Receiver, presets

SECRET = "users-secret"
CONFIG = {"handlers": [{"name": "shop", "preset": "stripe", "secret": "env:SHOP_SECRET",
                        "user": "shop-bot"}]}
ran = []


def receiver():
    return Receiver(HandlerRegistry([Handler("github", presets.github(secret=SECRET),
                                             user="ci-bot")]))


def record(delivery):
    ran.append((delivery.handler.name, delivery.user, delivery.json()))


def test_flask(webhook_signer):
    from flask import Flask
    from webhookverify.flask import webhook_view

    app = Flask(__name__)
    app.post("/webhooks")(webhook_view(receiver())(lambda d: (record(d), ("", 204))[1]))
    client = app.test_client()
    signed = webhook_signer.sign("github", b'{"via": "flask"}', secret=SECRET)
    assert signed.send_flask(client).status_code == 204
    assert signed.send_flask(client).status_code == 200  # a replay: not run again
    assert signed.tampered().send_flask(client).status_code == 401


def test_django(webhook_signer):
    from django.conf import settings
    settings.configure(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"], SECRET_KEY="k")
    import django
    django.setup()
    from django.http import HttpResponse
    from django.test import Client
    from django.urls import path
    from webhookverify.django import webhook_view

    @webhook_view(receiver())
    def hook(request, delivery):
        record(delivery)
        return HttpResponse(status=204)

    globals()["urlpatterns"] = [path("webhooks", hook)]
    client = Client(enforce_csrf_checks=True)
    signed = webhook_signer.sign("github", b'{"via": "django"}', secret=SECRET)
    assert signed.send_django(client).status_code == 204
    assert signed.tampered().send_django(client).status_code == 401


def test_fastapi(webhook_signer):
    from typing import Annotated
    from fastapi import Depends, FastAPI
    from fastapi.testclient import TestClient
    from webhookverify.fastapi import WebhookDelivery

    app = FastAPI()
    verified = WebhookDelivery(receiver())

    @app.post("/webhooks")
    def hook(delivery: Annotated[Delivery, Depends(verified)]):
        record(delivery)
        return {"ok": True}

    client = TestClient(app)
    signed = webhook_signer.sign("github", b'{"via": "fastapi"}', secret=SECRET)
    assert signed.send_fastapi(client).json() == {"ok": True}
    assert signed.tampered().send_starlette(client).status_code == 401


def test_aiohttp(webhook_signer):
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer
    from webhookverify.aiohttp import webhook_handler

    async def hook(request, delivery):
        record(delivery)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/webhooks", webhook_handler(receiver(), hook))
    signed = webhook_signer.sign("github", b'{"via": "aiohttp"}', secret=SECRET)

    async def main():
        async with TestClient(TestServer(app)) as client:
            return [(await signed.send_aiohttp(client)).status,
                    (await signed.tampered().send_aiohttp(client)).status]

    assert asyncio.run(main()) == [204, 401]


@pytest.mark.parametrize("kind", ["v1", "v2", "url"])
def test_lambda(webhook_signer, kind):
    from webhookverify.aws_lambda import webhook_handler

    handler = webhook_handler(receiver())(lambda event, context, d: record(d))
    signed = webhook_signer.sign("github", json.dumps({"via": kind}), secret=SECRET)
    assert signed.send_lambda(handler, kind)["statusCode"] == 200
    assert handler(signed.tampered().lambda_event(kind), None)["statusCode"] == 401


def test_a_configured_handler(webhook_signer, monkeypatch):
    monkeypatch.setenv("SHOP_SECRET", "whsec_c2hvcC1zZWNyZXQ=")
    from webhookverify.config import load_registry
    from webhookverify.testing import run_wsgi
    from webhookverify.wsgi import WebhookApp

    configured = Receiver(load_registry(CONFIG))
    configured.bus.bind("webhook.received", record)
    body = json.dumps({"id": "evt_1", "type": "charge.succeeded"})
    signed = webhook_signer.sign(CONFIG, body, handler="shop")
    assert run_wsgi(WebhookApp(configured), signed.environ()).status == 200


def test_the_code_ran_once_per_delivery_with_its_handler_and_user():
    assert sorted(ran, key=repr) == sorted(
        [("github", "ci-bot", {"via": v}) for v in
         ("flask", "django", "fastapi", "aiohttp", "v1", "v2", "url")]
        + [("shop", "shop-bot", {"id": "evt_1", "type": "charge.succeeded"})], key=repr
    )
"""


def test_the_fixtures_drive_every_framework_as_a_user_suite_would(
    pytester: pytest.Pytester, installed: Path
) -> None:
    pytester.makepyfile(test_users=USERS_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=9)


def test_without_plugin_autoloading_the_fixture_is_unknown(
    pytester: pytest.Pytester, installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above gets the fixture from an entry point, nowhere else."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_users="def test_it(webhook_signer):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'webhook_signer' not found*"])


def test_the_plugin_can_be_turned_off(pytester: pytest.Pytester, installed: Path) -> None:
    pytester.makepyfile(test_users="def test_it(webhook_signer):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:webhookverify")
    result.assert_outcomes(errors=1)


def test_a_preset_or_handler_that_does_not_exist_names_the_nearest() -> None:
    signer = WebhookSigner()
    with pytest.raises(ConfigurationError, match=r"'githib'.*did you mean 'github'"):
        signer.sign("githib", secret="s")
    with pytest.raises(ConfigurationError, match=r"needs secret="):
        signer.sign("github")
    receiver = Receiver(HandlerRegistry([Handler("github", presets.github(secret="s"))]))
    with pytest.raises(ConfigurationError, match="no such handler; the handlers are github"):
        signer.sign(receiver, handler="gitlab")
    with pytest.raises(ConfigurationError, match=r"takes a preset name with secret="):
        signer.sign(42)


def test_a_signed_delivery_verifies_and_its_tampered_copy_does_not() -> None:
    verifier = presets.github(secret="s")
    signed = WebhookSigner().sign(verifier, b'{"a": 1}', path="/hooks?x=1")
    assert isinstance(signed, SignedDelivery)
    assert signed.path == "/hooks?x=1"
    assert signed.request.url == "http://testserver/hooks?x=1"
    verifier.verify(signed.request)
    tampered = signed.tampered()
    assert tampered.headers == signed.headers
    assert tampered.body != signed.body
    with pytest.raises(Exception, match="signature"):
        verifier.verify(tampered.request)
