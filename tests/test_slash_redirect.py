"""A webhook route whose trailing slash differs from the URL the sender was
given, under a ``WebhookMiddleware`` and real servers over loopback.

Starlette's and FastAPI's routers answer such a request with a 307 to the
other spelling (``redirect_slashes``), Flask's with a 308 (Werkzeug's
``strict_slashes``). Senders do not follow a redirect on a
POST: they record a failure and retry the same URL, which redirects again,
until they give up. The middleware holds the verified body, so it follows
that redirect itself and the route runs once.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator

import httpx
import pytest

import slash_served_app
from test_servers import TESTS, free_port, running
from webhookverify.testing import sign_request

pytestmark = pytest.mark.server


@pytest.fixture(scope="module", params=["uvicorn", "hypercorn", "gunicorn"])
def base(request: pytest.FixtureRequest) -> Iterator[str]:
    port = free_port()
    target = "slash_served_app:" + ("flask_app" if request.param == "gunicorn" else "app")
    argv = {
        "uvicorn": [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1",
                    "--port", str(port), "--log-level", "warning", "--no-access-log"],
        "hypercorn": [sys.executable, "-m", "hypercorn", target,
                      "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        "gunicorn": [sys.executable, "-m", "gunicorn", target, "--bind", f"127.0.0.1:{port}",
                     "--workers", "1", "--log-level", "warning"],
    }[request.param]  # fmt: skip
    with running(request.param, argv, port, cwd=TESTS):
        yield f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("path", ["/webhooks", "/api/hooks"])
def test_a_redirect_to_the_other_trailing_slash_is_followed(base: str, path: str) -> None:
    body = json.dumps({"path": path, "base": base}).encode()
    headers = dict(sign_request(slash_served_app.verifier(), body).headers.items())
    with httpx.Client(base_url=base, timeout=10, follow_redirects=False) as client:
        first = client.post(path, content=body, headers=headers)
        again = client.post(path, content=body, headers=headers)
        forged = client.post(path, content=b'{"forged": 1}', headers=headers)
        recorded = client.get("/_deliveries").json()
    assert (first.status_code, first.text) == (200, "recorded")
    assert again.status_code == 200  # a duplicate now, not a redirect again
    assert forged.status_code == 401
    assert recorded.count(hashlib.sha256(body).hexdigest()) == 1
