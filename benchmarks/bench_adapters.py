"""Throughput of the WSGI and ASGI adapters under real servers, as ratios to a
bare endpoint served the same way in the same run.

Run from the repository root (needs wrk and taskset; about two minutes):

    .venv/bin/python benchmarks/bench_adapters.py                 # both, 5 rounds x 5 s
    .venv/bin/python benchmarks/bench_adapters.py --only asgi     # uvicorn only
    .venv/bin/python benchmarks/bench_adapters.py --only wsgi     # gunicorn only
    .venv/bin/python benchmarks/bench_adapters.py --rounds 3 --duration 3
    .venv/bin/python benchmarks/bench_adapters.py --reference     # also a hand-written endpoint
    .venv/bin/python benchmarks/bench_adapters.py --inprocess     # adapter overhead, no server

What is compared, each pair under identical server settings:

- ASGI: ``asgi.WebhookApp`` with one async listener that does nothing, against
  a bare ASGI app that reads the body and answers 200 with the same headers;
  uvicorn, one worker, ``--loop uvloop --http httptools``, no access log.
  Target: at least 0.75x the bare throughput.
- WSGI: ``wsgi.WebhookApp`` with one sync listener that does nothing, against
  a bare WSGI app that reads the body and answers 200; gunicorn, one sync
  worker. Target: at least 0.90x.

With ``--reference``, a third app runs in the same rotation: a hand-written
endpoint that checks the same HMAC and nothing else (no Content-Length or
Host checks, no URL, no registry, no replay guard, no event), the floor any
verifying endpoint stands on.

The request is the same for every run: a 1 KiB JSON body signed with
HMAC-SHA256 (``X-Signature: sha256=<hex>``). wrk replays one fixed request
and cannot sign a fresh one per request, so the handler runs with
``replay="off"``: every request is verified and dispatched, none is taken for
a duplicate. (With the default memory replay store each request would add a
reserve and a commit, a dictionary update each.) Any non-2xx answer makes the
run fail: a ratio over refused requests would measure nothing.

Fairness on a two-core machine: both servers run pinned to CPU 0 and wrk to
CPU 1 (``taskset``), with 1 wrk thread and 2 connections; runs alternate
bare/adapter and swap order every round, after a 1 s warm-up of each. The
ratio reported is the median over rounds of adapter/bare requests per second.
Also printed is the server's CPU time per request (read from /proc for the
server's process group), which other load on the machine disturbs much less
than throughput; bare/adapter CPU per request estimates the throughput ratio
of a saturated server. The exit status is 1 when a target is missed.

``--inprocess`` needs no server: it calls each app directly (an ASGI app's
coroutine is stepped without an event loop, since nothing in it waits) and
then times the pieces of the adapter's path one by one, to show where the
microseconds of a request go. A server run costs each of them more than the
in-process figure, as the server's own work shares the CPU caches.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-0123456789abcdef"
# exactly 1 KiB of JSON: '{"event":"bench","data":"xx...x"}'
BODY = json.dumps({"event": "bench", "data": "x" * 997}, separators=(",", ":")).encode()
assert len(BODY) == 1024
SIGNATURE = "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
PATH = "/webhooks"
SERVER_CPU = "0"
CLIENT_CPU = "1"
TARGETS = {"asgi": 0.75, "wsgi": 0.90}
_HEADERS = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"0")]


# -- the apps the servers load (as factories) --------------------------------------------


def _receiver(listener: Any) -> Any:
    from webhookverify import EventBus, Handler, HandlerRegistry, HmacVerifier, Receiver

    verifier = HmacVerifier(secret=SECRET, header="X-Signature", prefix="sha256=")
    bus = EventBus()
    bus.bind("webhook.received", listener)
    return Receiver(HandlerRegistry([Handler("bench", verifier, replay="off")]), bus)


def webhook_asgi() -> Any:
    from webhookverify.asgi import WebhookApp

    async def nothing(delivery: Any) -> None:
        return None

    return WebhookApp(_receiver(nothing))


def bare_asgi() -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        await send({"type": "http.response.body", "body": b""})

    return app


def minimal_asgi() -> Any:
    """The same HMAC check written by hand for this one request shape."""
    key = SECRET.encode()
    refused = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"0")]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        message = await receive()
        signature = b""
        for name, value in scope["headers"]:
            if name == b"x-signature":
                signature = value
        digest = hmac.new(key, message.get("body", b""), hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(signature, b"sha256=" + digest.encode())
        await send(
            {"type": "http.response.start", "status": 200 if ok else 401, "headers": refused}
        )
        await send({"type": "http.response.body", "body": b""})

    return app


def minimal_wsgi() -> Any:
    """The same HMAC check written by hand for this one request shape."""
    key = SECRET.encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "0")]

    def app(environ: Any, start_response: Any) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        digest = hmac.new(key, body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(environ.get("HTTP_X_SIGNATURE", ""), "sha256=" + digest)
        start_response("200 OK" if ok else "401 Unauthorized", headers)
        return [b""]

    return app


def webhook_wsgi() -> Any:
    from webhookverify.wsgi import WebhookApp

    def nothing(delivery: Any) -> None:
        return None

    return WebhookApp(_receiver(nothing))


def bare_wsgi() -> Any:
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "0")]

    def app(environ: Any, start_response: Any) -> Iterable[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", headers)
        return [b""]

    return app


# -- running servers and wrk -------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_argv(kind: str, factory: str, port: int) -> list[str]:
    target = f"benchmarks.bench_adapters:{factory}"
    if kind == "asgi":
        return [
            sys.executable, "-m", "uvicorn", target, "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--workers", "1", "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--log-level", "warning", "--lifespan", "off",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "gunicorn", f"{target}()", "--bind", f"127.0.0.1:{port}",
        "--workers", "1", "--worker-class", "sync", "--log-level", "warning",
    ]  # fmt: skip


@contextlib.contextmanager
def _server(kind: str, factory: str) -> Iterator[tuple[int, int]]:
    """Start a server pinned to SERVER_CPU; yield its port and process group."""
    port = _free_port()
    argv = ["taskset", "-c", SERVER_CPU, *_server_argv(kind, factory, port)]
    process = subprocess.Popen(argv, cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{factory} did not start")
            time.sleep(0.05)
        yield port, process.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def _lua_script(directory: str) -> str:
    path = os.path.join(directory, "post.lua")
    with open(path, "w") as handle:
        handle.write(
            'wrk.method = "POST"\n'
            f"wrk.body = [==[{BODY.decode()}]==]\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["X-Signature"] = "{SIGNATURE}"\n'
        )
    return path


def _cpu_seconds(group: int) -> float:
    """CPU time used so far by every process of a process group (a server and its workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[2]) == group:  # pgrp
                ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _wrk(port: int, script: str, duration: int, connections: int) -> tuple[float, int]:
    argv = [
        "taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{connections}", f"-d{duration}s",
        "-s", script, f"http://127.0.0.1:{port}{PATH}",
    ]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if refused:
        raise RuntimeError(f"{refused.group(1)} requests were not accepted:\n{out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if not found or not total:
        raise RuntimeError(f"no throughput in wrk's output:\n{out}")
    return float(found.group(1)), int(total.group(1))


def measure(
    kind: str, rounds: int, duration: int, connections: int, reference: bool = False
) -> float:
    """Alternate the apps' runs; print and return the median throughput ratio.

    Also printed: the server's CPU time per request (from /proc), which other
    load on the machine disturbs much less than throughput does; its ratio
    estimates the throughput ratio of a saturated server.
    """
    names = {"bare": f"bare_{kind}", "adapter": f"webhook_{kind}"}
    if reference:
        names["minimal"] = f"minimal_{kind}"
    rates: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        servers = {name: stack.enter_context(_server(kind, app)) for name, app in names.items()}
        script = _lua_script(tmp)
        for port, _ in servers.values():
            _wrk(port, script, 1, connections)  # warm-up
        for round_no in range(rounds):
            order = list(names)
            if round_no % 2:
                order.reverse()
            for name in order:
                port, group = servers[name]
                before = _cpu_seconds(group)
                rate, total = _wrk(port, script, duration, connections)
                rates[name].append(rate)
                cpu[name].append((_cpu_seconds(group) - before) / total * 1e6)
    ratios = [a / b for a, b in zip(rates["adapter"], rates["bare"], strict=True)]
    ratio = statistics.median(ratios)
    bare_cpu = statistics.median(cpu["bare"])
    server = "uvicorn (uvloop, httptools)" if kind == "asgi" else "gunicorn (1 sync worker)"
    print(f"\n{kind.upper()} under {server}, {rounds} x {duration} s, {connections} connections")
    for name in names:
        runs = ", ".join(f"{r:,.0f}" for r in rates[name])
        print(
            f"  {name:<8} median {statistics.median(rates[name]):9,.0f} req/s "
            f"{statistics.median(cpu[name]):7.1f} us CPU/req   ({runs})"
        )
    verdict = "ok" if ratio >= TARGETS[kind] else "BELOW TARGET"
    print(f"  ratio    {ratio:.3f}x of bare throughput (target {TARGETS[kind]:.2f}x: {verdict})")
    print(f"  per round: {', '.join(f'{r:.3f}' for r in ratios)}")
    for name in names:
        if name != "bare":
            share = bare_cpu / statistics.median(cpu[name])
            print(f"  CPU per request: bare/{name} = {share:.3f}x")
    if reference:
        minimal = [a / b for a, b in zip(rates["minimal"], rates["bare"], strict=True)]
        print(f"  reference {statistics.median(minimal):.3f}x of bare throughput")
    return ratio


# -- in process: the adapter's own cost per request, without a server ---------------------


def _result(coroutine: Any) -> Any:
    """Run a coroutine whose awaits never wait, without an event loop; return its value."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("the coroutine waited for something: run it under an event loop")


def inprocess() -> None:
    """Per-request time of each app driven directly, then of the adapter's pieces."""
    from webhookverify import _http, asgi
    from webhookverify.testing import make_environ, make_scope

    from benchmarks._harness import compare, report

    headers = {"Content-Type": "application/json", "X-Signature": SIGNATURE}
    url = f"http://127.0.0.1:8000{PATH}"
    scope = make_scope(url=url, headers=headers, body=BODY)
    environ = make_environ(url=url, headers=headers, body=BODY)
    message = {"type": "http.request", "body": BODY, "more_body": False}

    async def receive() -> dict[str, Any]:
        return message

    async def send(message: dict[str, Any]) -> None:
        if message.get("status", 200) != 200:
            raise RuntimeError(f"refused: {message}")

    apps = {"bare": bare_asgi(), "minimal": minimal_asgi(), "webhook": webhook_asgi()}
    report(
        "ASGI app per request, in process (time per call; lower is better)",
        compare(
            {name: lambda app=app: _result(app(scope, receive, send)) for name, app in apps.items()}
        ),
        "bare",
    )

    # The pieces of the adapter's path, each on its own: reading the request
    # (headers included) plus areceive (the registry and verifier included)
    # come to about the webhook app's time less the bare app's.
    app = apps["webhook"]
    options, receiver = app.options, app.receiver
    request = _result(asgi._read_request(options, scope, receive, time.time()))
    verifier = receiver.registry.verify(request).handler.verifier
    pieces: dict[str, Callable[[], object]] = {
        "headers": lambda: _http.parse_headers(scope["headers"]),
        "read request": lambda: _result(asgi._read_request(options, scope, receive, 0.0)),
        "verifier": lambda: verifier.verify(request),
        "registry+verifier": lambda: receiver.registry.verify(request),
        "areceive": lambda: _result(receiver.areceive(request)),
    }
    print("\nThe ASGI adapter's pieces, in process (time per call)")
    for name, seconds in compare(pieces).items():
        print(f"  {name:<18} {seconds * 1e6:8.2f} us")

    def start_response(status: str, headers: Any) -> None:
        if not status.startswith("200"):
            raise RuntimeError(f"refused: {status}")

    wsgi_apps = {"bare": bare_wsgi(), "minimal": minimal_wsgi(), "webhook": webhook_wsgi()}

    def wsgi_call(app: Any) -> Any:
        def call() -> None:
            environ["wsgi.input"].seek(0)
            app(environ, start_response)

        return call

    report(
        "WSGI app per request, in process (time per call; lower is better)",
        compare({name: wsgi_call(app) for name, app in wsgi_apps.items()}),
        "bare",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["asgi", "wsgi"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5, help="seconds per run")
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument(
        "--reference", action="store_true", help="also run a hand-written HMAC endpoint"
    )
    parser.add_argument("--inprocess", action="store_true", help="no server: the app's own cost")
    args = parser.parse_args()
    if args.inprocess:
        inprocess()
        return 0
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"{tool} is needed for this benchmark", file=sys.stderr)
            return 2
    ok = True
    for kind in ("asgi", "wsgi"):
        if args.only in (None, kind):
            ratio = measure(kind, args.rounds, args.duration, args.connections, args.reference)
            ok &= ratio >= TARGETS[kind]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
