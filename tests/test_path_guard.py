"""The middleware guards every spelling of its path that a router may send to
the view, and a view can refuse to run without a verified delivery.

Werkzeug merges repeated slashes, so ``//webhooks`` (and ``/%2Fwebhooks``,
which the server decodes to it) reaches Flask's ``/webhooks`` view; a mount
moves the front of the path into ``SCRIPT_NAME`` or ``root_path``. For each
framework, each spelling and each mount: an unsigned or wrongly signed
request never reaches the view (401), and a signed one reaches it with its
delivery wherever the framework's own router sends that spelling to the view
(the bare app, asked first, is the oracle).
"""

from __future__ import annotations

import hashlib
import json
import socket
import sys
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

import path_guard_apps as apps
from path_guard_apps import Run
from webhookverify import HmacVerifier, MissingDelivery, VerificationError, asgi, wsgi
from webhookverify._paths import PathSet, environ_paths, normalize_path, scope_paths
from webhookverify.testing import make_environ, make_scope, run_asgi, run_wsgi, sign_request

HOST = "http://h.test"

# Spellings of /webhooks that some router, server or proxy takes for it.
SPELLINGS = [
    "/webhooks",
    # repeated and trailing slashes
    "//webhooks",
    "///webhooks",
    "/webhooks/",
    "/webhooks//",
    # percent-encoded slashes and letters (the server decodes them once)
    "/%2Fwebhooks",
    "/%2fwebhooks",
    "/%2F%2Fwebhooks",
    "/%77ebhooks",
    "/%2577ebhooks",
    # dot segments, plain and encoded (RFC 3986 §5.2.4)
    "/./webhooks",
    "/x/../webhooks",
    "/webhooks/.",
    "/%2e/webhooks",
    "/x/%2E%2E/webhooks",
    "/../webhooks",
    # case
    "/WEBHOOKS",
    "/WebHooks",
    "/%57EBHOOKS",
]
# (mount point, the middleware's path=): not mounted; mounted, with the path
# within the app; mounted, with the whole path.
MOUNTS = [("", "/webhooks"), ("/app", "/webhooks"), ("/app", "/app/webhooks")]


class Framework(NamedTuple):
    name: str
    kind: str  # "wsgi" or "asgi"
    build: Callable[[list[Run]], Any]


FRAMEWORKS = [
    Framework("flask", "wsgi", apps.flask_app),
    Framework("django", "wsgi", apps.django_app),
    Framework("starlette", "asgi", apps.starlette_app),
    Framework("fastapi", "asgi", apps.fastapi_app),
]


def unique() -> bytes:
    return json.dumps({"id": uuid.uuid4().hex}).encode()


def signed(body: bytes) -> dict[str, str]:
    return dict(sign_request(apps.verifier(), body).headers.items())


def wrongly_signed(body: bytes) -> dict[str, str]:
    other = HmacVerifier(secret="not-the-secret-0123456789", header="X-Signature", prefix="sha256=")
    return dict(sign_request(other, body).headers.items())


def guard(framework: Framework, app: Any, path: str, **options: Any) -> Any:
    middleware = wsgi.WebhookMiddleware if framework.kind == "wsgi" else asgi.WebhookMiddleware
    return middleware(app, apps.receiver(), path=path, **options)


def send(
    framework: Framework,
    app: Any,
    path: str,
    *,
    mount: str = "",
    method: str = "POST",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """Send a request for ``mount + path`` as a server would: the path decoded
    once, the mount point in ``SCRIPT_NAME`` or ``root_path``."""
    url = HOST + mount + path
    pairs = {"Content-Type": "application/json", **(headers or {})}
    if framework.kind == "wsgi":
        environ = make_environ(method=method, url=url, headers=pairs, body=body, script_name=mount)
        response = run_wsgi(app, environ)
    else:
        scope = make_scope(method=method, url=url, headers=pairs, body=body, root_path=mount)
        answer = run_asgi(app, scope, body)
        assert answer is not None
        response = answer
    return response.status, response.body


# -- the normaliser ------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_normalises_to_the_path(spelling: str) -> None:
    # what the middleware sees: the path as the server decoded it
    assert normalize_path(urllib.parse.unquote(spelling)) == "/webhooks"
    assert normalize_path(spelling) == "/webhooks"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", "/"),
        ("/", "/"),
        ("//", "/"),
        ("/..", "/"),
        ("/webhooksx", "/webhooksx"),
        ("/webhooks/x", "/webhooks/x"),
        ("/webhooks/x/..", "/webhooks"),
        ("/web%20hooks", "/web hooks"),
        ("/a/b/../../webhooks", "/webhooks"),
        ("/a//../webhooks", "/webhooks"),  # slashes merged first, as posixpath.normpath does
        ("/%C3%89v%C3%A9nements", "/événements"),
        ("/hoo\u212aS", "/hooks"),  # the Kelvin sign folds to k, as re.IGNORECASE matches it
        ("/%25252541", "/%41"),  # three rounds of decoding, no more
    ],
)
def test_normalize_path_examples(path: str, expected: str) -> None:
    assert normalize_path(path) == expected


_SEGMENT = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789-_~", min_size=1, max_size=8)


@st.composite
def spelled(draw: st.DrawFn) -> tuple[str, str]:
    """A path, and a spelling of it that a router may take for it."""
    segments = draw(st.lists(_SEGMENT, min_size=1, max_size=5))
    path = "/" + "/".join(segments)
    parts: list[str] = []
    for segment in segments:
        parts.append("/" * draw(st.integers(1, 3)))
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(["./", "x/../", "%2e/", "y/%2E%2e/"])))
        parts.append(segment)
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(["/", "//", "/.", "/z/.."])))
    spelling = "".join(parts)
    chars = []
    for char in spelling:
        how = draw(st.sampled_from(["as is", "as is", "upper", "encoded", "encoded twice"]))
        if how == "upper":
            char = char.upper()
        elif how == "encoded":
            char = f"%{ord(char):02x}"
        elif how == "encoded twice":
            char = f"%25{ord(char):02X}"
        chars.append(char)
    return path, "".join(chars)


@given(spelled())
def test_any_spelling_a_router_folds_is_guarded(case: tuple[str, str]) -> None:
    path, spelling = case
    assert normalize_path(spelling) == normalize_path(path) == path.casefold()
    assert spelling in PathSet("WebhookMiddleware", path, None)


# -- under each framework ------------------------------------------------------------------


@pytest.mark.parametrize(("mount", "configured"), MOUNTS)
@pytest.mark.parametrize("framework", FRAMEWORKS, ids=lambda f: f.name)
def test_no_spelling_reaches_the_view_unverified(
    framework: Framework, mount: str, configured: str
) -> None:
    runs: list[Run] = []
    bare = framework.build(runs)
    guarded = guard(framework, bare, configured)
    routed = []
    for spelling in SPELLINGS:
        body = unique()
        # the oracle: does the framework's router send this spelling to the view?
        bare_status, _ = send(framework, bare, spelling, mount=mount, body=body)
        if runs:
            routed.append(spelling)
        runs.clear()
        for headers in ({}, wrongly_signed(body)):
            status, _ = send(framework, guarded, spelling, mount=mount, body=body, headers=headers)
            assert (status, runs) == (401, []), spelling
        status, answer = send(
            framework, guarded, spelling, mount=mount, body=body, headers=signed(body)
        )
        # Starlette's redirect_slashes answers 307 to the other trailing slash; a
        # sender would not follow it on a POST, so the ASGI middleware does
        followed = framework.kind == "asgi" and bare_status == 307
        if spelling in routed or followed:
            assert (status, answer) == (200, b"ran"), spelling
            [run] = runs
            assert run.body == body
            assert run.delivery is not None and run.delivery.request.body == body
        else:
            assert (status, runs) == (bare_status, []), spelling
        runs.clear()
    assert "/webhooks" in routed
    if framework.name == "flask":  # Werkzeug merges slashes: the bypass this guards against
        assert {"//webhooks", "///webhooks", "/%2Fwebhooks"} <= set(routed)


@pytest.mark.parametrize("framework", FRAMEWORKS, ids=lambda f: f.name)
def test_other_methods_on_any_spelling_are_refused_or_passed_through(
    framework: Framework,
) -> None:
    runs: list[Run] = []
    bare = framework.build(runs)
    strict = guard(framework, bare, "/webhooks")
    handshakes = guard(framework, bare, "/webhooks", passthrough_methods=["GET"])
    for spelling in SPELLINGS:
        assert send(framework, strict, spelling, method="GET")[0] == 405, spelling
        # passed through as documented: the app answers as it would without the middleware
        expected = send(framework, bare, spelling, method="GET")
        assert send(framework, handshakes, spelling, method="GET") == expected, spelling
    assert send(framework, handshakes, "/webhooks", method="GET") == (200, apps.HANDSHAKE)
    assert runs == []


def test_paths_elsewhere_are_not_guarded() -> None:
    framework = FRAMEWORKS[0]
    runs: list[Run] = []
    bare = apps.flask_app(runs)
    guarded = guard(framework, bare, "/webhooks")
    for path in ("/", "/webhooksx", "/webhooks/x", "/web/hooks", "/_runs"):
        for method in ("GET", "POST"):
            expected = send(framework, bare, path, method=method)
            assert send(framework, guarded, path, method=method) == expected, path


def test_werkzeug_dispatcher_mount_outside_the_middleware() -> None:
    """The middleware wraps a dispatcher that mounts Flask at /app: the
    dispatcher moves /app into SCRIPT_NAME and Flask merges the slashes."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.wrappers import Response

    framework = FRAMEWORKS[0]
    runs: list[Run] = []
    dispatcher = DispatcherMiddleware(Response(b"root", 404), {"/app": apps.flask_app(runs)})
    assert send(framework, dispatcher, "/app//webhooks")[0] == 200 and runs  # the oracle
    runs.clear()
    guarded = guard(framework, dispatcher, "/app/webhooks")
    for spelling in ("/app//webhooks", "/app/%2Fwebhooks", "//app/webhooks", "/APP/webhooks"):
        assert send(framework, guarded, spelling)[0] == 401, spelling
    assert runs == []
    body = unique()
    assert send(framework, guarded, "/app//webhooks", body=body, headers=signed(body)) == (
        200,
        b"ran",
    )
    assert runs[0].delivery is not None


def test_starlette_mount_inside_and_outside_the_middleware() -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    framework = FRAMEWORKS[2]
    runs: list[Run] = []
    inside = Starlette(
        routes=[Mount("/app", app=guard(framework, apps.starlette_app(runs), "/webhooks"))]
    )
    outside = guard(
        framework, Starlette(routes=[Mount("/app", app=apps.starlette_app(runs))]), "/app/webhooks"
    )
    for app in (inside, outside):
        for spelling in ("/app/webhooks", "/app//webhooks", "/app/WEBHOOKS", "/app/x/../webhooks"):
            assert send(framework, app, spelling)[0] == 401, spelling
        body = unique()
        assert send(framework, app, "/app/webhooks", body=body, headers=signed(body)) == (
            200,
            b"ran",
        )
    assert [run.delivery is not None for run in runs] == [True, True]


def test_paths_within_the_app_and_mount_points() -> None:
    # WSGI: PEP 3333 latin-1 strings read as UTF-8
    environ = make_environ(url=HOST + "/app/%C3%A9v%C3%A9nements", script_name="/app")
    assert environ_paths(environ) == ("/événements", "/app")
    assert environ_paths({}) == ("", "")
    # ASGI: path with root_path (the spec), without it (older servers), and a
    # root_path that is only a prefix of the first segment (not a mount)
    assert scope_paths({"path": "/app//webhooks", "root_path": "/app"}) == ("//webhooks", "/app")
    assert scope_paths({"path": "//webhooks", "root_path": "/app"}) == ("//webhooks", "/app")
    assert scope_paths({"path": "/apple", "root_path": "/app"}) == ("/apple", "/app")
    guarded = PathSet("WebhookMiddleware", None, ["/app/webhooks"])
    assert guarded.matches("//webhooks", "/app")
    assert guarded.matches("/../webhooks", "/app")  # dots in the path stay within the mount
    assert not guarded.matches("/webhooks", "")
    assert not guarded.matches("/apple/webhooks", "")


# -- require_delivery ----------------------------------------------------------------------


def test_require_delivery_returns_the_delivery_or_refuses() -> None:
    runs: list[Run] = []
    body = unique()
    flask = FRAMEWORKS[0]
    send(
        flask,
        guard(flask, apps.flask_app(runs), "/webhooks"),
        "/webhooks",
        body=body,
        headers=signed(body),
    )
    [run] = runs
    assert run.delivery is not None
    environ = make_environ(url=HOST + "/webhooks")
    with pytest.raises(MissingDelivery) as caught:
        wsgi.require_delivery(environ)
    assert isinstance(caught.value, VerificationError)
    assert caught.value.reason == "missing_delivery"
    assert "mount WebhookMiddleware with path=... matching this route" in str(caught.value)
    environ[wsgi.DELIVERY_KEY] = run.delivery
    assert wsgi.require_delivery(environ) is run.delivery

    for scope in (make_scope(url=HOST + "/webhooks"), make_scope(url=HOST + "/webhooks", state={})):
        with pytest.raises(MissingDelivery):
            asgi.require_delivery(scope)
    scope = make_scope(url=HOST + "/webhooks", state={asgi.DELIVERY_KEY: run.delivery})
    assert asgi.require_delivery(scope) is run.delivery


def test_a_view_using_require_delivery_does_not_run_on_an_unguarded_route() -> None:
    """Defence in depth: the middleware guards another path than the view's."""
    from flask import Flask, request

    done: list[bytes] = []
    app = Flask("unguarded")

    @app.post("/hooks")
    def hooks() -> bytes:
        delivery = wsgi.require_delivery(request.environ)
        done.append(delivery.request.body)
        return b"ran"

    flask = FRAMEWORKS[0]
    guarded = guard(flask, app, "/webhooks")  # not the view's route: a misconfiguration
    body = unique()
    assert send(flask, guarded, "/hooks", body=body, headers=signed(body))[0] == 500
    assert done == []


# -- under real servers --------------------------------------------------------------------


class Served(NamedTuple):
    name: str
    base: str


@pytest.fixture(scope="module", params=["gunicorn", "uvicorn"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    from test_servers import TESTS, free_port, running

    name: str = request.param
    port = free_port()
    bind = f"127.0.0.1:{port}"
    argv = {
        "gunicorn": ["gunicorn", "path_guard_apps:served_flask", "--bind", bind,
                     "--workers", "1", "--worker-class", "sync", "--log-level", "warning"],
        "uvicorn": ["uvicorn", "path_guard_apps:served_starlette", "--host", "127.0.0.1",
                    "--port", str(port), "--log-level", "warning", "--no-access-log"],
    }[name]  # fmt: skip
    with running(name, [sys.executable, "-m", *argv], port, cwd=TESTS):
        yield Served(name, f"http://127.0.0.1:{port}")


def _raw_post(served: Served, target: str, body: bytes, headers: dict[str, str]) -> int:
    """POST with the request target sent byte for byte (httpx would resolve it)."""
    port = int(served.base.rpartition(":")[2])
    lines = [f"POST {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in {**headers, "Content-Length": str(len(body))}.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


@pytest.mark.server
def test_encoded_and_repeated_slashes_under_real_servers(served: Served) -> None:
    """gunicorn decodes ``%2F`` into PATH_INFO and Flask merges the slashes,
    so these reach the view; uvicorn and Starlette answer 404 for them."""
    routed = served.name == "gunicorn"

    def seen(body: bytes) -> list[bool]:
        found = json.loads(httpx.get(f"{served.base}/_runs", timeout=10).content)
        digest = hashlib.sha256(body).hexdigest()
        return [r["verified"] for r in found if r["sha256"] == digest]

    for target in ("/%2Fwebhooks", "//webhooks", "/%2fwebhooks"):
        body = unique()
        assert _raw_post(served, target, body, {}) == 401, target
        assert _raw_post(served, target, body, wrongly_signed(body)) == 401, target
        assert seen(body) == []
        assert _raw_post(served, target, body, signed(body)) == (200 if routed else 404), target
        assert seen(body) == ([True] if routed else [])
    body = unique()
    assert _raw_post(served, "/webhooks", body, signed(body)) == 200
    assert seen(body) == [True]
