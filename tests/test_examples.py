"""The examples receive a signed delivery end to end: Flask through its test
client, FastAPI through httpx's ASGI transport, Django under a real gunicorn,
aiohttp through its test client and under its own server, the Lambda handler
on API Gateway and function URL events with a real Redis."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from test_servers import free_port, running
from webhookverify import HmacVerifier
from webhookverify.testing import sign_request

EXAMPLES = Path(__file__).parent.parent / "examples"
SECRET = "example-test-secret"
PAYLOAD = b'{"action": "opened", "number": 7}'
GITHUB = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "f6b1c1e0"}
EXPECTED = {"event": "pull_request", "user": "ci-bot", "action": "opened"}


def load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import an example file afresh, with the test secret in its environment."""
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", SECRET)
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["flask_app", "fastapi_app", "aiohttp_app", "aws_lambda_handler"])
def test_an_example_without_its_secret_stops_and_says_how_to_set_it(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No default secret to fall back on: a known secret would verify forged deliveries."""
    monkeypatch.delenv("GITHUB_WEBHOOK_SECRET", raising=False)
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    with pytest.raises(SystemExit) as info:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    message = str(info.value.code)
    assert message.startswith("GITHUB_WEBHOOK_SECRET is not set: export GITHUB_WEBHOOK_SECRET=")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("unset", "fix"),
    [
        ("GITHUB_WEBHOOK_SECRET", "export GITHUB_WEBHOOK_SECRET='...'"),
        ("DJANGO_SECRET_KEY", "export DJANGO_SECRET_KEY=\"$(python3 -c 'import secrets;"),
    ],
)
def test_the_django_example_without_a_secret_is_improperly_configured(unset: str, fix: str) -> None:
    env = {
        **os.environ,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "DJANGO_SECRET_KEY": "a-django-key-for-this-test-only",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    del env[unset]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=EXAMPLES / "django_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"django.core.exceptions.ImproperlyConfigured: {unset} is not set: {fix}"
    )


def github_verifier() -> HmacVerifier:
    """What GitHub does on its side, configured independently of the examples."""
    return HmacVerifier(
        secret=SECRET, header="X-Hub-Signature-256", prefix="sha256=", encoding="hex_lower"
    )


def github_headers(body: bytes) -> dict[str, str]:
    request = sign_request(github_verifier(), body, headers=GITHUB)
    headers = dict(request.headers.items())
    assert headers["X-Hub-Signature-256"].startswith("sha256=")
    return headers


def test_flask_example(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load("flask_app", monkeypatch)
    client = module.app.test_client()
    headers = github_headers(PAYLOAD)
    response = client.post("/webhooks/github", data=PAYLOAD, headers=headers)
    assert response.status_code == 200
    assert response.get_json() == EXPECTED
    duplicate = client.post("/webhooks/github", data=PAYLOAD, headers=headers)
    assert (duplicate.status_code, duplicate.data) == (200, b"")
    tampered = client.post("/webhooks/github", data=PAYLOAD + b" ", headers=headers)
    assert tampered.status_code == 401
    assert client.get("/webhooks/github").status_code == 405


def test_fastapi_example(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load("fastapi_app", monkeypatch)

    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=module.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = github_headers(PAYLOAD)
            return [
                await client.post("/webhooks/github", content=PAYLOAD, headers=headers),
                await client.post("/webhooks/github", content=PAYLOAD, headers=headers),
                await client.post("/webhooks/github", content=b"{}", headers=headers),
                await client.get("/webhooks/github"),
            ]

    first, duplicate, tampered, get = asyncio.run(main())
    assert first.status_code == 200
    assert first.json() == EXPECTED
    assert (duplicate.status_code, duplicate.content) == (200, b"")
    assert tampered.status_code == 401
    assert get.status_code == 405


def test_example_views_are_refused_unsigned_deliveries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The view decorator and the dependency stand between the route and any
    request: without a signature, nothing reaches the example's code."""
    flask_module = load("flask_app", monkeypatch)
    flask_module.app.testing = True  # a view that ran would raise here, not answer 500
    response = flask_module.app.test_client().post("/webhooks/github", data=PAYLOAD)
    assert (response.status_code, response.data) == (
        401,
        b"webhook signature verification failed\n",
    )

    fastapi_module = load("fastapi_app", monkeypatch)

    async def main() -> httpx.Response:
        transport = httpx.ASGITransport(app=fastapi_module.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/webhooks/github", content=PAYLOAD)

    answer = asyncio.run(main())
    assert (answer.status_code, answer.content) == (401, b"webhook signature verification failed\n")


DJANGO_SERVERS = {
    "gunicorn": ["-m", "gunicorn", "hooksite.wsgi:application", "--workers", "1",
                 "--log-level", "warning", "--bind"],
    "uvicorn": ["-m", "uvicorn", "hooksite.asgi:application", "--log-level", "warning",
                "--port"],
}  # fmt: skip


@pytest.fixture(scope="module", params=sorted(DJANGO_SERVERS))
def django_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """The Django example under WSGI (gunicorn) and ASGI (uvicorn)."""
    port = free_port()
    project = EXAMPLES / "django_project"
    address = f"127.0.0.1:{port}" if request.param == "gunicorn" else str(port)
    argv = [sys.executable, *DJANGO_SERVERS[request.param], address]
    env = {
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "DJANGO_SECRET_KEY": "a-django-key-for-this-test-only",
        "DJANGO_SETTINGS_MODULE": "hooksite.settings",
    }
    with running(f"django under {request.param}", argv, port, cwd=project, env=env):
        yield f"http://127.0.0.1:{port}"


@pytest.mark.server
def test_django_example_under_a_server(django_server: str) -> None:
    with httpx.Client(base_url=django_server, timeout=10) as client:
        headers = github_headers(PAYLOAD)
        response = client.post("/webhooks/github", content=PAYLOAD, headers=headers)
        assert response.status_code == 200, response.text
        assert json.loads(response.content) == EXPECTED
        duplicate = client.post("/webhooks/github", content=PAYLOAD, headers=headers)
        assert (duplicate.status_code, duplicate.content) == (200, b"")
        tampered = client.post("/webhooks/github", content=b'{"action": "closed"}', headers=headers)
        assert tampered.status_code == 401
        # other routes are Django's as usual
        assert client.get("/elsewhere").status_code == 404
        # the view verifies whatever spelling of its path routed to it
        assert client.post("/webhooks/%67ithub", content=b"{}", headers=headers).status_code == 401
        assert client.get("/webhooks/github").status_code == 405


def test_django_example_with_djangos_test_client() -> None:
    """Django's own test client never passes through a WSGI wrapper: the view verifies."""
    code = f"""
import json, django
django.setup()
from django.test import Client
client = Client(enforce_csrf_checks=True)
headers = json.loads({json.dumps(json.dumps(github_headers(PAYLOAD)))})
post = lambda body: client.post("/webhooks/github", body, content_type="application/json",
                                headers=headers)
first, again, tampered = post({PAYLOAD!r}), post({PAYLOAD!r}), post(b"{{}}")
print(json.dumps([first.status_code, first.json(), again.status_code, again.content.decode(),
                  tampered.status_code]))
"""
    project = EXAMPLES / "django_project"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(project), *sys.path]),
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "DJANGO_SECRET_KEY": "a-django-key-for-this-test-only",
        "DJANGO_SETTINGS_MODULE": "hooksite.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=project, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == [200, EXPECTED, 200, "", 401]


def test_aiohttp_example(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    module = load("aiohttp_app", monkeypatch)

    async def main() -> list[tuple[int, bytes]]:
        async with TestClient(TestServer(module.create_app())) as client:
            headers = github_headers(PAYLOAD)
            answers = []
            for body in (PAYLOAD, PAYLOAD, b"{}"):
                response = await client.post("/webhooks/github", data=body, headers=headers)
                answers.append((response.status, await response.read()))
            response = await client.get("/webhooks/github")
            answers.append((response.status, b""))
            return answers

    first, duplicate, tampered, get = asyncio.run(main())
    assert (first[0], json.loads(first[1])) == (200, EXPECTED)
    assert duplicate == (200, b"")
    assert tampered[0] == 401
    assert get[0] == 405


@pytest.mark.server
def test_aiohttp_example_under_its_own_server() -> None:
    """``python -m aiohttp.web``, as the example's docstring starts it."""
    port = free_port()
    argv = [sys.executable, "-m", "aiohttp.web", "-H", "127.0.0.1", "-P", str(port),
            "aiohttp_app:init_func"]  # fmt: skip
    env = {"GITHUB_WEBHOOK_SECRET": SECRET}
    with (
        running("aiohttp", argv, port, cwd=EXAMPLES, env=env),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
    ):
        headers = github_headers(PAYLOAD)
        response = client.post("/webhooks/github", content=PAYLOAD, headers=headers)
        assert (response.status_code, response.json()) == (200, EXPECTED)
        duplicate = client.post("/webhooks/github", content=PAYLOAD, headers=headers)
        assert (duplicate.status_code, duplicate.content) == (200, b"")
        assert client.post("/webhooks/github", content=b"{}", headers=headers).status_code == 401


@pytest.mark.redis
@pytest.mark.parametrize("kind", ["v1", "v2", "url"])
def test_aws_lambda_example(monkeypatch: pytest.MonkeyPatch, redis_url: str, kind: str) -> None:
    from webhookverify.lambda_events import make_lambda_event

    monkeypatch.setenv("WEBHOOKVERIFY_REDIS_URL", redis_url)
    module = load("aws_lambda_handler", monkeypatch)
    # a body of its own: the example's keys live in the shared Redis for a day
    body = json.dumps({"action": "opened", "run": str(uuid.uuid4())}).encode()
    request = sign_request(github_verifier(), body, headers=GITHUB)
    event = make_lambda_event(request, kind)  # type: ignore[arg-type]
    first = module.handler(event, None)
    assert (first["statusCode"], json.loads(first["body"])) == (200, EXPECTED)
    duplicate = module.handler(event, None)
    assert (duplicate["statusCode"], duplicate["body"]) == (200, "")
    tampered = make_lambda_event(request.replace(body=b"{}"), kind)  # type: ignore[arg-type]
    assert module.handler(tampered, None)["statusCode"] == 401


def test_the_aws_lambda_example_without_redis_says_which_variable_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WEBHOOKVERIFY_REDIS_URL", raising=False)
    from webhookverify import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"^WEBHOOKVERIFY_REDIS_URL is not set: set it"):
        load("aws_lambda_handler", monkeypatch)
