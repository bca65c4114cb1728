"""Instructions per request of the adapters, counted by callgrind: the same
apps and deliveries as ``bench_adapters.py``, measured without a clock.

The other benchmarks time what they measure, and on a shared machine time is
noisy: two runs of ``bench_adapters.py`` can differ by a fifth. The number
of instructions a request executes does not depend on what else the machine
is doing, so a change to the request path can be judged here to within a
fraction of a percent, run after run. It is not the whole story (a request
that touches more memory misses the cache more often and costs more time per
instruction: compare with ``bench_adapters.py`` before deciding), but it
tells what the code asks of the processor.

    python benchmarks/bench_instructions.py            # ASGI and WSGI apps, in process
    python benchmarks/bench_instructions.py --server   # also under uvicorn, over loopback
    python benchmarks/bench_instructions.py --only webhook --requests 500

Needs valgrind (Debian's ``valgrind``). Each app runs in a child Python under
``valgrind --tool=callgrind`` twice, with the same deliveries prepared
(distinct, freshly signed 1 KiB Standard Webhooks deliveries, as in
``bench_adapters.py``) and a different number of requests sent; the
difference of the two totals, divided by the difference in requests, is the
cost of one request, with start-up and preparation taken out. ``--server``
does the same to a uvicorn server (uvloop, httptools) that a client in
another process sends requests to, one at a time on one connection.

Reported: instructions per request of each app, and the ratios of
``minimal`` to ``webhook`` and of ``framework`` to ``webhook`` (what the
throughput targets of ``bench_adapters.py`` compare, by instructions), and
of ``guarded`` (``webhook``'s guarantees written by hand, see
``benchmarks/_guarded.py``) to ``webhook`` and of ``minimal`` to ``guarded``:
what the library adds, and what the guarantees themselves cost.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("bare", "minimal", "guarded", "webhook", "framework")
# Requests prepared in every child whatever the count sent, so that the two
# runs of an app differ only by the requests they send.
PREPARED = 3_000
WARM = 100  # sent before counting starts in both runs: first-call imports and caches

# The child: prepare the deliveries, then send ``count`` of them to one app.
_CHILD = r"""
import sys, time
sys.path[:0] = [{root!r}, {src!r}]
from benchmarks import bench_adapters as b
from webhookverify.testing import make_environ, make_scope

kind, app_name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = "http://127.0.0.1:8000" + b.PATH
now = int(time.time())
headers = [
    {{"Content-Type": "application/json", **b.signed_headers(f"msg_{{n}}", now)}}
    for n in range({prepared})
]
app = getattr(b, f"{{app_name}}_{{kind}}")()
if kind == "asgi":
    message = {{"type": "http.request", "body": b.BODY, "more_body": False}}

    async def receive():
        return message

    async def send(message):
        if message.get("status", 200) != 200:
            raise SystemExit(f"refused: {{message}}")

    scopes = [make_scope(url=url, headers=h, body=b.BODY) for h in headers]
    for scope in scopes[:count]:
        b._result(app(scope, receive, send))
else:
    def start_response(status, headers, exc_info=None):
        if not status.startswith("200"):
            raise SystemExit(f"refused: {{status}}")

    environs = [make_environ(url=url, headers=h, body=b.BODY) for h in headers]
    for environ in environs[:count]:
        for _ in app(environ, start_response):
            pass
"""

# The server mode's client: ``count`` deliveries, one at a time, one connection.
_CLIENT = r"""
import socket, sys, time
sys.path[:0] = [{root!r}, {src!r}]
from benchmarks import bench_adapters as b

port, count, tag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
now = int(time.time())
connection = socket.create_connection(("127.0.0.1", port))
for n in range(count):
    fields = {{"Host": "127.0.0.1", "Content-Type": "application/json",
              "Content-Length": str(len(b.BODY)), **b.signed_headers(f"msg_{{tag}}_{{n}}", now)}}
    head = f"POST {{b.PATH}} HTTP/1.1\r\n" + "".join(f"{{k}}: {{v}}\r\n" for k, v in fields.items())
    connection.sendall(head.encode() + b"\r\n" + b.BODY)
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += connection.recv(65536)
    start, _, rest = answer.partition(b"\r\n\r\n")
    if not start.startswith(b"HTTP/1.1 200"):
        raise SystemExit(start.decode())
    length = int(re.search(rb"(?i)content-length: *(\d+)", start).group(1))
    while len(rest) < length:
        rest += connection.recv(65536)
"""


def _total(output: str) -> int:
    """The instruction count callgrind printed ("Collected : N")."""
    found = re.search(r"Collected : (\d+)", output)
    if not found:
        raise RuntimeError(f"no instruction count in callgrind's output:\n{output[-2000:]}")
    return int(found.group(1))


def _callgrind(argv: list[str]) -> list[str]:
    return ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv]


def in_process(kind: str, app: str, requests: int) -> float:
    """Instructions per request of ``app`` called in process."""
    child = _CHILD.format(root=str(ROOT), src=str(ROOT / "src"), prepared=PREPARED)
    totals = []
    for count in (WARM, WARM + requests):
        argv = _callgrind([sys.executable, "-c", child, kind, app, str(count)])
        done = subprocess.run(argv, capture_output=True, text=True, check=True)
        totals.append(_total(done.stderr))
    return (totals[1] - totals[0]) / requests


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def under_uvicorn(app: str, requests: int) -> float:
    """Instructions per request of the uvicorn server process serving ``app``."""
    client = "import re\n" + _CLIENT.format(root=str(ROOT), src=str(ROOT / "src"))
    totals = []
    for count in (WARM, WARM + requests):
        port = _free_port()
        argv = [
            sys.executable, "-m", "uvicorn", f"benchmarks.bench_adapters:{app}_asgi",
            "--factory", "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop",
            "--http", "httptools", "--no-access-log", "--log-level", "warning",
            "--lifespan", "off",
        ]  # fmt: skip
        server = subprocess.Popen(_callgrind(argv), cwd=ROOT, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120  # a Python under callgrind starts slowly
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), 1).close()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"{app} did not start under callgrind") from None
                    time.sleep(0.3)
            tag = f"{count}-{time.monotonic_ns()}"
            subprocess.run([sys.executable, "-c", client, str(port), str(count), tag], check=True)
        finally:
            server.send_signal(2)  # SIGINT: uvicorn shuts down, callgrind writes its total
            _, errors = server.communicate(timeout=120)
        totals.append(_total(errors))
    return (totals[1] - totals[0]) / requests


def report(title: str, counts: dict[str, float]) -> None:
    print(f"\n{title}")
    for app, count in counts.items():
        print(f"  {app:<10} {count:12,.0f} instructions/request")
    for app, baseline in (("webhook", "minimal"), ("webhook", "framework"), ("webhook", "guarded"),
                          ("guarded", "minimal")):  # fmt: skip
        if app in counts and baseline in counts:
            print(f"  {baseline} / {app}: {counts[baseline] / counts[app]:.3f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=APPS, action="append", help="apps to count")
    parser.add_argument("--requests", type=int, default=1_000, help="requests counted per app")
    parser.add_argument("--server", action="store_true", help="also under uvicorn")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is needed (apt-get install valgrind)", file=sys.stderr)
        return 2
    if not 0 < args.requests <= PREPARED - WARM:
        print(f"--requests must be between 1 and {PREPARED - WARM}", file=sys.stderr)
        return 2
    apps = args.only or list(APPS)
    os.chdir(ROOT)
    for kind in ("asgi", "wsgi"):
        counts = {app: in_process(kind, app, args.requests) for app in apps}
        report(f"{kind.upper()} app in process, distinct signed deliveries", counts)
    if args.server:
        counts = {app: under_uvicorn(app, args.requests) for app in apps}
        report("ASGI app under uvicorn (uvloop, httptools), one connection", counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
