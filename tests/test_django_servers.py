"""webhookverify.django under real servers over loopback: gunicorn's sync
worker (WSGI, ``django.core.wsgi``) and uvicorn (ASGI,
``django.core.asgi.get_asgi_application()``), each in its own process with
the project of ``django_served_app.py``. The five delivery cases of
``served_hooks.py`` (valid, tampered, replay, the view answering 400 and the
view raising, each with the sender's retry) go to a sync ``webhook_view`` and
to an ``async def`` one under both servers: the sync view is the WSGI case,
the async view the ASGI one, and each also runs under the other handler
(Django adapts it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import pytest

from served_hooks import CASES, RAN, RUNS_ENV, SECRET, Served, unique
from test_servers import (
    TESTS,
    chunked,
    command,
    free_port,
    head_for,
    raw_request,
    running,
    status_of,
)
from webhookverify import presets
from webhookverify.testing import sign_request

pytest.importorskip("django")

pytestmark = pytest.mark.server

APPS = {"gunicorn": "django_served_app:wsgi", "uvicorn": "django_served_app:asgi"}


class Server(NamedTuple):
    base: str
    runs_file: Path


@pytest.fixture(scope="module", params=list(APPS))
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    name: str = request.param
    runs_file = tmp_path_factory.mktemp("django-runs") / "runs.jsonl"
    port = free_port()
    argv = command(name, port, app=APPS[name])
    with running(name, argv, port, cwd=TESTS, env={RUNS_ENV: str(runs_file)}):
        yield Server(f"http://127.0.0.1:{port}", runs_file)


@pytest.mark.parametrize("view", ["sync", "async"])
@pytest.mark.parametrize("case", list(CASES))
def test_the_delivery_semantics_over_loopback(server: Server, view: str, case: str) -> None:
    CASES[case](Served(f"{server.base}/hooks/{view}", server.runs_file))


@pytest.mark.parametrize("view", ["sync", "async"])
def test_a_chunked_delivery_runs_the_view(server: Server, view: str) -> None:
    # no Content-Length: Django's WSGIRequest would read an empty body, and
    # the signature of the real one would fail
    body = unique()
    headers = dict(sign_request(presets.github(secret=SECRET), body).headers.items())
    head = head_for(f"/hooks/{view}", headers, "Transfer-Encoding: chunked\n")
    port = SimpleNamespace(port=int(server.base.rsplit(":", 1)[1]))
    answer = raw_request(port, head, chunked(body))  # type: ignore[arg-type]
    assert status_of(answer) == 200, answer[:200]
    assert Served(f"{server.base}/hooks/{view}", server.runs_file).runs(body) == [RAN]
