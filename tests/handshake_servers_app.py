"""The apps ``test_handshakes_servers.py`` serves with real servers (uvicorn,
gunicorn): for each handshake case of ``handshake_cases.py``, a
``WebhookApp`` at ``/hooks/<case>/app`` and a middleware at
``/hooks/<case>/mw``, each with its own receiver; ``GET /_records`` answers
what each one's bus saw, as JSON.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from webhookverify import asgi as _asgi
from webhookverify import wsgi as _wsgi

from handshake_cases import CASES

# the servers outlive the window a case opens at import: long enough for the module's tests
ASANA_WINDOW = 600

_lock = threading.Lock()
_records: dict[str, dict[str, int]] = {}


def _count(route: str, event: str) -> Any:
    def listen(payload: Any) -> None:
        with _lock:
            _records.setdefault(route, {"handshake": 0, "received": 0})[event] += 1

    return listen


def _receivers() -> dict[str, Any]:
    found = {}
    for name, build in CASES.items():
        for kind in ("app", "mw"):
            case = build()
            if name == "asana":
                case.handler.verifier.open_registration(ASANA_WINDOW)
            receiver = case.receiver()
            route = f"/hooks/{name}/{kind}"
            for event in ("handshake", "received"):
                receiver.bus.bind(f"webhook.{event}", _count(route, event))
            found[route] = receiver
    return found


RECEIVERS = _receivers()


def _records_json() -> bytes:
    with _lock:
        return json.dumps(_records).encode()


def _inner_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ.get("PATH_INFO") == "/_records":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [_records_json()]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]


async def _inner_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    found = scope.get("path") == "/_records"
    body = _records_json() if found else b"not found\n"
    await send({"type": "http.response.start", "status": 200 if found else 404, "headers": []})
    await send({"type": "http.response.body", "body": body})


WSGI_ROUTES = {
    route: _wsgi.WebhookApp(receiver)
    if route.endswith("/app")
    else _wsgi.WebhookMiddleware(_inner_wsgi, receiver, path=route)
    for route, receiver in RECEIVERS.items()
}
ASGI_ROUTES = {
    route: _asgi.WebhookApp(receiver)
    if route.endswith("/app")
    else _asgi.WebhookMiddleware(_inner_asgi, receiver, path=route)
    for route, receiver in RECEIVERS.items()
}


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
    app = WSGI_ROUTES.get(environ.get("PATH_INFO", ""), _inner_wsgi)
    return app(environ, start_response)


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    app = (
        ASGI_ROUTES.get(scope.get("path", ""), _inner_asgi)
        if scope["type"] == "http"
        else _inner_asgi
    )
    await app(scope, receive, send)
