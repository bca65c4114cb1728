"""The adapters under real servers over loopback: uvicorn and hypercorn (ASGI),
gunicorn's sync worker and waitress (WSGI).

Each server is started once for the module in its own process group, with the
apps of ``servers_app.py``, and stopped at teardown. Requests go through
httpx, or raw sockets where a client must misbehave (a truncated body, a
chunked body, a disconnect mid-body).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import servers_app
from webhookverify.testing import sign_request

pytestmark = pytest.mark.server

TESTS = Path(__file__).parent
STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


@dataclass
class Server:
    name: str
    kind: str  # "asgi" or "wsgi"
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def command(name: str, port: int, app: str | None = None) -> list[str]:
    """The command line serving ``app`` (an import target; default: the
    ``servers_app`` app of the server's kind) with server ``name`` on ``port``."""
    py = sys.executable
    bind = f"127.0.0.1:{port}"
    asgi, wsgi = (app, app) if app else ("servers_app:asgi_app", "servers_app:wsgi_app")
    return {
        "uvicorn": [py, "-m", "uvicorn", asgi, "--host", "127.0.0.1",
                    "--port", str(port), "--log-level", "warning", "--no-access-log"],
        "hypercorn": [py, "-m", "hypercorn", asgi, "--bind", bind,
                      "--log-level", "warning"],
        "gunicorn": [py, "-m", "gunicorn", wsgi, "--bind", bind,
                     "--workers", "1", "--worker-class", "sync", "--log-level", "warning"],
        "waitress": [py, "-m", "waitress", f"--listen={bind}", wsgi],
    }[name]  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def running(
    name: str, argv: list[str], port: int, *, cwd: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server in its own process group, wait until it answers on
    ``port``, and stop it (the whole group) on exit."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(cwd), *sys.path]), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the workers stop with it
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                err = process.stderr.read().decode(errors="replace") if process.stderr else ""
                pytest.fail(f"{name} exited at startup:\n{err[-2000:]}")
            try:
                # any HTTP answer means the server is up
                httpx.get(f"http://127.0.0.1:{port}/_ready", timeout=1)
                break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer within {STARTUP_TIMEOUT} s")
            time.sleep(0.05)
        yield process
    finally:
        stop(process)
        if process.stderr:
            process.stderr.close()


@pytest.fixture(scope="module", params=["uvicorn", "hypercorn", "gunicorn", "waitress"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    name: str = request.param
    port = free_port()
    with running(name, command(name, port), port, cwd=TESTS) as process:
        kind = "asgi" if name in ("uvicorn", "hypercorn") else "wsgi"
        yield Server(name, kind, port, process)


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base, timeout=10) as http:
        yield http


def records(server: Server, body: bytes) -> list[dict[str, Any]]:
    digest = hashlib.sha256(body).hexdigest()
    found = json.loads(httpx.get(f"{server.base}/_deliveries", timeout=5).content)
    return [r for r in found if r["sha256"] == digest]


def unique(size: int = 0) -> bytes:
    """A body no other test sends: the server outlives each test."""
    head = json.dumps({"id": uuid.uuid4().hex, "pad": ""}).encode()
    return head[:-2] + b"x" * max(0, size - len(head)) + head[-2:]


def signed_headers(body: bytes) -> dict[str, str]:
    request = sign_request(servers_app.hmac_verifier(), body)
    return dict(request.headers.items())


TOKEN_HEADERS = {"X-Token": servers_app.TOKEN, "Content-Type": "application/json"}


def raw_request(
    server: Server,
    head: str,
    parts: list[bytes],
    *,
    then: str = "read",
    timeout: float = 5.0,
) -> bytes:
    """Send a request by hand; ``then`` is ``read`` (keep the socket, read the
    answer), ``half-close`` (no more bytes will come, read the answer) or
    ``reset`` (drop the connection at once).

    The body is sent from a thread while the answer is read: a server may
    answer (413) before the body is all sent, and close.
    """
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n")
        if then == "reset":
            for part in parts:
                sock.sendall(part)
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            return b""

        def send_body() -> None:
            with contextlib.suppress(OSError):  # the server answered and closed first
                for part in parts:
                    sock.sendall(part)
                if then == "half-close":
                    sock.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send_body)
        sender.start()
        answer = b""
        try:
            with contextlib.suppress(ConnectionResetError, TimeoutError, socket.timeout):
                while chunk := sock.recv(65536):
                    answer += chunk
                    if b"\r\n\r\n" in answer and _complete(answer):
                        break
        finally:
            sender.join(timeout)
        return answer


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def status_of(answer: bytes) -> int | None:
    if not answer.startswith(b"HTTP/"):
        return None
    return int(answer.split(b" ", 2)[1])


def head_for(path: str, headers: dict[str, str], extra: str) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return "\n".join(lines) + "\n" + extra


def never_recorded(server: Server, body: bytes, wait: float = 0.5) -> bool:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if records(server, body):
            return False
        time.sleep(0.05)
    return not records(server, body)


# -- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["/hooks/app", "/hooks/mw"])
def test_valid_delivery(server: Server, client: httpx.Client, route: str) -> None:
    body = unique()
    response = client.post(route, content=body, headers=signed_headers(body))
    assert response.status_code == (200 if route == "/hooks/app" else 201)
    [record] = records(server, body)
    assert record["route"] == route
    assert record["size"] == len(body)
    assert record["delivery_body_matches"] is True
    assert record["handler"] == "hmac"


@pytest.mark.parametrize("route", ["/hooks/app", "/hooks/mw"])
def test_tampered_delivery(server: Server, client: httpx.Client, route: str) -> None:
    body = unique()
    tampered = body.replace(b'"pad": ""', b'"pad": "!"')
    response = client.post(route, content=tampered, headers=signed_headers(body))
    assert response.status_code == 401
    assert response.text == "webhook signature verification failed\n"
    assert records(server, tampered) == []


@pytest.mark.parametrize("route", ["/hooks/app", "/hooks/mw"])
def test_duplicate_delivery(server: Server, client: httpx.Client, route: str) -> None:
    body = unique()
    headers = signed_headers(body)
    first = client.post(route, content=body, headers=headers)
    again = client.post(route, content=body, headers=headers)
    assert first.status_code == (200 if route == "/hooks/app" else 201)
    assert (again.status_code, again.content) == (200, b"")
    assert len(records(server, body)) == 1


def test_oversize_with_content_length(server: Server, client: httpx.Client) -> None:
    body = unique(2 * servers_app.MAX_BODY_SIZE)
    response = client.post("/hooks/app", content=body, headers=signed_headers(body))
    assert response.status_code == 413
    assert response.text == "request body too large\n"
    assert records(server, body) == []


def chunked(body: bytes, size: int = 1000) -> list[bytes]:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return [b"%x\r\n%s\r\n" % (len(p), p) for p in parts] + [b"0\r\n\r\n"]


@pytest.mark.parametrize("route", ["/hooks/app", "/hooks/mw"])
def test_chunked_body_within_the_limit(server: Server, route: str) -> None:
    body = unique(5000)
    head = head_for(route, signed_headers(body), "Transfer-Encoding: chunked\n")
    answer = raw_request(server, head, chunked(body))
    assert status_of(answer) == (200 if route == "/hooks/app" else 201)
    [record] = records(server, body)
    assert record["delivery_body_matches"] is True


def test_oversize_without_content_length(server: Server) -> None:
    body = unique(2 * servers_app.MAX_BODY_SIZE)
    head = head_for("/hooks/app", signed_headers(body), "Transfer-Encoding: chunked\n")
    answer = raw_request(server, head, chunked(body))
    assert status_of(answer) == 413
    assert never_recorded(server, body, wait=0.2)


def test_truncated_body(server: Server) -> None:
    body = unique(3000)
    # the token verifies whatever the body: only the adapter can refuse the cut one
    head = head_for("/hooks/app", TOKEN_HEADERS, f"Content-Length: {len(body) + 500}\n")
    answer = raw_request(server, head, [body], then="half-close")
    if server.name == "gunicorn":
        # the worker's read comes back short: the adapter answers 400
        assert status_of(answer) == 400
        assert answer.endswith(b"\r\n\r\nmalformed request\n")
    else:
        # the server saw the body end early and never called the app (waitress)
        # or told it (http.disconnect): the adapter answers nothing; the server
        # may close, or answer 400 itself (hypercorn's h11 does)
        assert status_of(answer) in (None, 400)
        assert b"malformed request" not in answer
    assert never_recorded(server, body)


def test_disconnect_mid_body(server: Server) -> None:
    body = unique(8000)
    for route in ("/hooks/app", "/hooks/mw"):
        head = head_for(route, TOKEN_HEADERS, f"Content-Length: {len(body)}\n")
        raw_request(server, head, [body[:3000]], then="reset")
    assert never_recorded(server, body)
    # the server is still fine afterwards
    assert httpx.get(f"{server.base}/_deliveries", timeout=5).status_code == 200


def test_wrong_method(client: httpx.Client) -> None:
    for route in ("/hooks/app", "/hooks/mw"):
        response = client.get(route)
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"


def test_other_paths_pass_through_the_middleware(client: httpx.Client) -> None:
    response = client.post("/elsewhere", content=b"{}")
    assert (response.status_code, response.content) == (404, b"not found\n")


def test_time_budget_answers_202_then_finishes(server: Server, client: httpx.Client) -> None:
    if server.kind != "asgi":
        pytest.skip("the time budget is an areceive (ASGI) feature")
    body = unique()
    started = time.monotonic()
    response = client.post("/hooks/slow", content=body, headers=signed_headers(body))
    assert response.status_code == 202
    # answered at the budget, while the listener still runs
    assert time.monotonic() - started < servers_app.SLOW_LISTENER
    assert records(server, body) == []
    deadline = time.monotonic() + 5
    while not records(server, body) and time.monotonic() < deadline:
        time.sleep(0.05)
    [record] = records(server, body)
    assert record["route"] == "/hooks/slow"


@pytest.mark.parametrize("fields", [200, 20])
def test_headers_past_the_limits_answer_431(server: Server, fields: int) -> None:
    """200 short fields (past the count) or 20 of 4,000 bytes (past 64 KiB):
    431 before any verification, from the adapter, or from the server where
    it bounds headers itself (gunicorn's 100 fields, h11's 16 KiB head)."""
    body = unique()
    size = 10 if fields == 200 else 4000
    extra = "".join(f"X-Pad-{i}: {'p' * size}\n" for i in range(fields))
    head = head_for("/hooks/app", signed_headers(body), extra + f"Content-Length: {len(body)}\n")
    answer = raw_request(server, head, [body])
    assert status_of(answer) == 431
    if server.name in ("uvicorn", "waitress"):  # no bound of their own that low
        assert answer.endswith(b"\r\n\r\nrequest header fields too large\n")
    assert never_recorded(server, body, wait=0.2)
