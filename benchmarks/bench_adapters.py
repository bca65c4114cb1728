"""Throughput of the WSGI and ASGI adapters under saturated real servers, as
ratios to a hand-written minimal receiver and to the framework route users
write today, measured side by side in one run.

Run from the repository root (needs wrk and taskset; about four minutes):

    .venv/bin/python benchmarks/bench_adapters.py                 # both, 3 rounds x 4 s
    .venv/bin/python benchmarks/bench_adapters.py --only asgi     # uvicorn only
    .venv/bin/python benchmarks/bench_adapters.py --only wsgi     # gunicorn only
    .venv/bin/python benchmarks/bench_adapters.py --rounds 5 --duration 5
    .venv/bin/python benchmarks/bench_adapters.py --inprocess     # per-request cost, no server

Every request is a distinct, freshly signed 1 KiB Standard Webhooks delivery
(its own ``webhook-id``, signed within the tolerance window), so the replay
guard records each one and none is taken for a duplicate. wrk cannot sign, so
the deliveries are signed before each run and replayed from a file by a Lua
script, each at most once; a run that would need more than were signed fails.
Each server is started afresh for every run, so its replay memory starts empty.

The apps, each pair under identical server settings:

- ``bare``: reads the body and answers 200; the server's own limit.
- ``minimal``: a correct receiver written by hand for this one scheme: the
  three headers, the time window, HMAC-SHA256 over ``id.timestamp.body`` with
  a constant-time compare, and a set of seen ids.
- ``webhook``: ``WebhookApp`` with ``presets.standard_webhooks``, the defaults
  on (the memory replay store) and one listener that does nothing.
- ``guarded``: what ``webhook`` guarantees by default, written by hand for
  this one scheme (``benchmarks/_guarded.py``): the limits and checks on the
  request head, the body read to its length, a leased, bounded replay store
  committed only after the listener succeeded, a listener. It has no target:
  ``webhook / guarded`` is what the library adds, ``guarded / minimal`` what
  the guarantees cost in any Python receiver.
- ``framework``: the route users write today with the ``standardwebhooks``
  package and no replay guard: a Starlette route (ASGI) or a Flask view (WSGI).

ASGI runs under uvicorn (one worker, uvloop, httptools, no access log) with
32 connections; WSGI under gunicorn (one sync worker) with 8. The server is
pinned to CPU 0 and wrk (one thread) to CPU 1; the apps run in turn, the order
reversed every round. Reported: median requests per second, the server's CPU
time per request (read from /proc; other load on the machine disturbs it much
less than throughput), and the ratios against ``minimal`` and ``framework``.
Targets: ASGI at least 0.80x minimal and 2.0x framework; WSGI at least 0.95x
minimal and 1.5x framework. The exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import base64
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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KEY = b"bench-secret-0123456789abcdef012"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
# exactly 1 KiB of JSON: '{"type":"bench","data":"xx...x"}'
BODY = json.dumps({"type": "bench", "data": "x" * 998}, separators=(",", ":")).encode()
assert len(BODY) == 1024
PATH = "/webhooks"
TOLERANCE = 300
# deliveries sent to warm a server up
WARM_UP = 20_000
# requests per second no Python server here reaches on one core: the timed
# run is given this many signed deliveries per second, so none is sent twice
CEILING = 100_000
SERVER_CPU = "0"
CLIENT_CPU = "1"
CONNECTIONS = {"asgi": 32, "wsgi": 8}
# (app, baseline) -> the least ratio of throughput wanted
TARGETS = {
    "asgi": {"minimal": 0.80, "framework": 2.0},
    "wsgi": {"minimal": 0.95, "framework": 1.5},
}
_EMPTY = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"0")]
_EMPTY_WSGI = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "0")]


def signed_headers(delivery_id: str, timestamp: int) -> dict[str, str]:
    """The Standard Webhooks headers of ``BODY`` (spec §Signature scheme)."""
    message = f"{delivery_id}.{timestamp}.".encode() + BODY
    signature = base64.b64encode(hmac.new(KEY, message, hashlib.sha256).digest()).decode()
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{signature}",
    }


# -- the apps the servers load (as factories) --------------------------------------------


def _receiver(listener: Any) -> Any:
    from webhookverify import EventBus, Handler, HandlerRegistry, Receiver, presets

    bus = EventBus()
    bus.bind("webhook.received", listener)
    registry = HandlerRegistry([Handler("bench", presets.standard_webhooks(secret=SECRET))])
    return Receiver(registry, bus)


def webhook_asgi() -> Any:
    from webhookverify.asgi import WebhookApp

    async def nothing(delivery: Any) -> None:
        return None

    return WebhookApp(_receiver(nothing))


def webhook_wsgi() -> Any:
    from webhookverify.wsgi import WebhookApp

    def nothing(delivery: Any) -> None:
        return None

    return WebhookApp(_receiver(nothing))


def guarded_asgi() -> Any:
    """The guarantees of ``webhook`` written by hand (see ``benchmarks/_guarded.py``)."""
    from benchmarks._guarded import guarded_asgi

    async def nothing(delivery: Any) -> None:
        return None

    return guarded_asgi(KEY, nothing)


def guarded_wsgi() -> Any:
    from benchmarks._guarded import guarded_wsgi

    def nothing(delivery: Any) -> None:
        return None

    return guarded_wsgi(KEY, nothing)


def bare_asgi() -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": _EMPTY})
        await send({"type": "http.response.body", "body": b""})

    return app


def bare_wsgi() -> Any:
    def app(environ: Any, start_response: Any) -> Iterable[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", _EMPTY_WSGI)
        return [b""]

    return app


def _minimal_check(seen: set[bytes], headers: dict[bytes, bytes], body: bytes) -> bool:
    """Standard Webhooks by hand: window, HMAC, constant-time compare, seen ids."""
    delivery_id = headers.get(b"webhook-id", b"")
    stamp = headers.get(b"webhook-timestamp", b"")
    if not delivery_id or not stamp.isdigit() or abs(time.time() - int(stamp)) > TOLERANCE:
        return False
    digest = hmac.new(KEY, delivery_id + b"." + stamp + b"." + body, hashlib.sha256).digest()
    expected = b"v1," + base64.b64encode(digest)
    signatures = headers.get(b"webhook-signature", b"").split(b" ")
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        return False
    if delivery_id not in seen:  # a replay is acknowledged, not processed again
        seen.add(delivery_id)
    return True


def minimal_asgi() -> Any:
    seen: set[bytes] = set()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        ok = _minimal_check(seen, dict(scope["headers"]), body)
        await send({"type": "http.response.start", "status": 200 if ok else 401, "headers": _EMPTY})
        await send({"type": "http.response.body", "body": b""})

    return app


def minimal_wsgi() -> Any:
    seen: set[bytes] = set()

    def app(environ: Any, start_response: Any) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {
            name.encode(): environ.get("HTTP_" + name.upper().replace("-", "_"), "").encode()
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        }
        ok = _minimal_check(seen, headers, body)
        start_response("200 OK" if ok else "401 Unauthorized", _EMPTY_WSGI)
        return [b""]

    return app


def framework_asgi() -> Any:
    """A Starlette route calling the ``standardwebhooks`` package."""
    from standardwebhooks import Webhook, WebhookVerificationError
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    webhook = Webhook(SECRET)

    async def receive_webhook(request: Request) -> Response:
        body = await request.body()
        try:
            webhook.verify(body, dict(request.headers))
        except WebhookVerificationError:
            return Response(status_code=401)
        return Response(status_code=200)

    return Starlette(routes=[Route(PATH, receive_webhook, methods=["POST"])])


def framework_wsgi() -> Any:
    """A Flask view calling the ``standardwebhooks`` package."""
    from flask import Flask, request
    from standardwebhooks import Webhook, WebhookVerificationError

    webhook = Webhook(SECRET)
    app = Flask("bench")

    @app.post(PATH)
    def receive_webhook() -> tuple[str, int]:
        try:
            webhook.verify(request.get_data(), dict(request.headers))
        except WebhookVerificationError:
            return "", 401
        return "", 200

    return app


# -- servers, signed deliveries and wrk --------------------------------------------------


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


# Each request is sent at most once: when the list runs out, wrk's thread
# stops (and the run is refused as too short). Only the three signed headers
# differ between requests; the file holds them one delivery a line.
_LUA = r"""
local ids, stamps, signatures, count, next = {}, {}, {}, 0, 0
local head = "POST PATH HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
  .. "Content-Length: LENGTH\r\n"
local body = [==[BODY]==]
function init(args)
  for line in io.lines(args[1]) do
    local id, stamp, signature = string.match(line, "^(%S+) (%S+) (%S+)$")
    count = count + 1
    ids[count], stamps[count], signatures[count] = id, stamp, signature
  end
end
function request()
  next = next + 1
  if next > count then
    wrk.thread:stop()
    next = count
  end
  return head .. "webhook-id: " .. ids[next] .. "\r\nwebhook-timestamp: " .. stamps[next]
    .. "\r\nwebhook-signature: " .. signatures[next] .. "\r\n\r\n" .. body
end
"""


def _lua() -> str:
    return (
        _LUA.replace("PATH", PATH).replace("LENGTH", str(len(BODY))).replace("BODY", BODY.decode())
    )


def _deliveries(directory: str, count: int, tag: str) -> str:
    """Write the signed headers of ``count`` distinct deliveries; return the file's path."""
    now = int(time.time())
    path = os.path.join(directory, f"requests-{tag}.txt")
    with open(path, "w") as handle:
        for n in range(count):
            headers = signed_headers(f"msg_{tag}_{n:08d}", now)
            handle.write(" ".join(headers.values()) + "\n")
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


def _wrk(
    port: int, script: str, requests: str, duration: int, connections: int
) -> tuple[int, float]:
    """Run wrk; return how many requests it completed (all of them 2xx) and their rate."""
    argv = [
        "taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{connections}", f"-d{duration}s",
        "-s", script, f"http://127.0.0.1:{port}{PATH}", "--", requests,
    ]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if refused:
        raise RuntimeError(f"{refused.group(1)} requests were not accepted:\n{out}")
    total = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not total or not rate:
        raise RuntimeError(f"no request count in wrk's output:\n{out}")
    return int(total.group(1)), float(rate.group(1))


def _run(
    kind: str, app: str, script: str, files: tuple[str, str], duration: int
) -> tuple[float, float]:
    """One timed run of a fresh server; return requests/s and CPU µs per request."""
    warm, timed = files
    connections = CONNECTIONS[kind]
    with _server(kind, f"{app}_{kind}") as (port, group):
        _wrk(port, script, warm, 1, connections)
        before_cpu = _cpu_seconds(group)
        total, rate = _wrk(port, script, timed, duration, connections)
        cpu = (_cpu_seconds(group) - before_cpu) / total * 1e6
    if total >= CEILING * duration - connections:
        raise RuntimeError(f"{app} used every signed delivery ({total}); none may be reused")
    return rate, cpu


def measure(kind: str, rounds: int, duration: int) -> bool:
    """Alternate the apps' runs; print the medians and ratios; True when on target."""
    apps = ["bare", "minimal", "guarded", "webhook", "framework"]
    rates: dict[str, list[float]] = {app: [] for app in apps}
    cpu: dict[str, list[float]] = {app: [] for app in apps}
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "deliveries.lua")
        Path(script).write_text(_lua())
        for round_no in range(rounds):
            # signed afresh each round, inside the tolerance window; every
            # run starts a new server, whose replay memory is empty
            files = (
                _deliveries(tmp, WARM_UP, f"warm{round_no}"),
                _deliveries(tmp, CEILING * duration, f"run{round_no}"),
            )
            for app in apps if round_no % 2 == 0 else reversed(apps):
                rate, per_request = _run(kind, app, script, files, duration)
                rates[app].append(rate)
                cpu[app].append(per_request)
    server = "uvicorn (uvloop, httptools)" if kind == "asgi" else "gunicorn (1 sync worker)"
    print(
        f"\n{kind.upper()} under {server}, {rounds} x {duration} s, "
        f"{CONNECTIONS[kind]} connections, distinct signed deliveries"
    )
    for app in apps:
        runs = ", ".join(f"{r:,.0f}" for r in rates[app])
        print(
            f"  {app:<9} median {statistics.median(rates[app]):9,.0f} req/s "
            f"{statistics.median(cpu[app]):7.1f} us CPU/req   ({runs})"
        )
    ok = True
    for baseline, target in TARGETS[kind].items():
        ratios = [a / b for a, b in zip(rates["webhook"], rates[baseline], strict=True)]
        ratio = statistics.median(ratios)
        by_cpu = statistics.median(cpu[baseline]) / statistics.median(cpu["webhook"])
        verdict = "ok" if ratio >= target else "BELOW TARGET"
        ok &= ratio >= target
        print(
            f"  webhook / {baseline:<9} {ratio:.3f}x throughput, {by_cpu:.3f}x by CPU per "
            f"request (target {target:.2f}x: {verdict}; rounds "
            f"{', '.join(f'{r:.2f}' for r in ratios)})"
        )
    # no target: what the library adds to its guarantees, and what they cost
    for app, baseline in (("webhook", "guarded"), ("guarded", "minimal")):
        ratios = [a / b for a, b in zip(rates[app], rates[baseline], strict=True)]
        by_cpu = statistics.median(cpu[baseline]) / statistics.median(cpu[app])
        print(
            f"  {app} / {baseline:<9} {statistics.median(ratios):.3f}x throughput, "
            f"{by_cpu:.3f}x by CPU per request (rounds {', '.join(f'{r:.2f}' for r in ratios)})"
        )
    return ok


# -- in process: the cost per request without a server ------------------------------------


def _result(coroutine: Any) -> Any:
    """Run a coroutine whose awaits never wait, without an event loop; return its value."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("the coroutine waited for something: run it under an event loop")


def inprocess() -> None:
    """Time per request of each ASGI and WSGI app called directly, distinct deliveries."""
    from itertools import count

    from webhookverify.testing import make_environ, make_scope

    from benchmarks._harness import compare

    numbers = count()
    url = f"http://127.0.0.1:8000{PATH}"

    def fresh() -> dict[str, str]:
        headers = signed_headers(f"msg_{next(numbers)}", int(time.time()))
        return {"Content-Type": "application/json", **headers}

    message = {"type": "http.request", "body": BODY, "more_body": False}

    async def receive() -> dict[str, Any]:
        return message

    async def send(message: dict[str, Any]) -> None:
        if message.get("status", 200) != 200:
            raise RuntimeError(f"refused: {message}")

    def asgi_call(app: Any) -> Any:
        return lambda: _result(app(make_scope(url=url, headers=fresh(), body=BODY), receive, send))

    apps = {name: globals()[f"{name}_asgi"]() for name in ("bare", "minimal", "guarded", "webhook")}
    candidates = {name: asgi_call(app) for name, app in apps.items()}
    candidates["scope only"] = lambda: make_scope(url=url, headers=fresh(), body=BODY)
    _net("ASGI", compare(_warmed(candidates)), "scope only")

    def start_response(status: str, headers: Any) -> None:
        if not status.startswith("200"):
            raise RuntimeError(f"refused: {status}")

    def wsgi_call(app: Any) -> Any:
        return lambda: app(make_environ(url=url, headers=fresh(), body=BODY), start_response)

    wsgi_apps = {
        name: globals()[f"{name}_wsgi"]() for name in ("bare", "minimal", "guarded", "webhook")
    }
    candidates = {name: wsgi_call(app) for name, app in wsgi_apps.items()}
    candidates["environ only"] = lambda: make_environ(url=url, headers=fresh(), body=BODY)
    _net("WSGI", compare(_warmed(candidates)), "environ only")


def _warmed(candidates: dict[str, Any]) -> dict[str, Any]:
    """The candidates, each called once first: a first call that imports
    something (asyncio on the first async dispatch) would otherwise make the
    harness time one call per round, cold."""
    for call in candidates.values():
        call()
    return candidates


def _net(kind: str, results: dict[str, float], building: str) -> None:
    """Print each app's time per request less the cost of building its input."""
    from benchmarks._harness import report

    cost = results.pop(building)
    print(f"\n({building}, signing included: {cost * 1e6:.2f} us, taken off each figure)")
    report(
        f"{kind} app per request, in process, distinct deliveries (lower is better)",
        {name: value - cost for name, value in results.items()},
        "minimal",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["asgi", "wsgi"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=4, help="seconds per run")
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
            ok &= measure(kind, args.rounds, args.duration)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
