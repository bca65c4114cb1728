"""Handshakes through ``WebhookApp`` and the middleware under real servers over
loopback: uvicorn (ASGI) and gunicorn's sync worker (WSGI).

For each case of ``handshake_cases.py``: the documented handshake is
answered as the provider expects and nothing is dispatched; a wrong token or
signature is refused and never echoed.
"""

from __future__ import annotations

import json
import sys
import urllib.parse
from collections.abc import Iterator

import httpx
import pytest

from test_servers import TESTS, free_port, running

from handshake_cases import CASES, Request

pytestmark = pytest.mark.server


def command(name: str, port: int) -> list[str]:
    py = sys.executable
    return {
        "uvicorn": [py, "-m", "uvicorn", "handshake_servers_app:asgi_app", "--host", "127.0.0.1",
                    "--port", str(port), "--log-level", "warning", "--no-access-log"],
        "gunicorn": [py, "-m", "gunicorn", "handshake_servers_app:wsgi_app", "--bind",
                     f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "sync",
                     "--log-level", "warning"],
    }[name]  # fmt: skip


@pytest.fixture(scope="module", params=["uvicorn", "gunicorn"])
def base(request: pytest.FixtureRequest) -> Iterator[str]:
    port = free_port()
    with running(request.param, command(request.param, port), port, cwd=TESTS):
        yield f"http://127.0.0.1:{port}"


def send(base: str, route: str, request: Request) -> httpx.Response:
    query = urllib.parse.urlsplit(request.url).query
    url = f"{base}{route}" + (f"?{query}" if query else "")
    return httpx.request(
        request.method, url, headers=request.headers, content=request.body, timeout=10
    )


def counts(base: str, route: str) -> dict[str, int]:
    found = json.loads(httpx.get(f"{base}/_records", timeout=5).content)
    return found.get(route, {"handshake": 0, "received": 0})  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", ["app", "mw"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_the_handshake_is_answered_under_a_real_server(base: str, name: str, kind: str) -> None:
    case = CASES[name]()
    route = f"/hooks/{name}/{kind}"
    before = counts(base, route)
    response = send(base, route, case.good)
    assert (response.status_code, response.content) == (case.status, case.answer)
    assert response.headers["content-type"] == case.content_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    if name == "asana":
        assert response.headers["x-hook-secret"] == case.extra_headers["X-Hook-Secret"]
    bad = send(base, route, case.bad)
    assert bad.status_code == 401 and case.echoed.encode() not in bad.content
    after = counts(base, route)
    assert after["handshake"] == before["handshake"] + 1
    assert after["received"] == before["received"] == 0
