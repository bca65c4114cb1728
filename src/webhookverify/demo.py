"""``webhookverify demo``: a real receiver on loopback, and deliveries to it.

The demo starts a WSGI server on 127.0.0.1 (a free port) with three handlers
(GitHub, Stripe, Standard Webhooks), then sends what a receiver meets in
production: signed deliveries, a tampered body, a wrong secret, a stale
timestamp, a replay, a retry after our own listener failed, an oversized
body, a wrong method, and a request while access is switched off. Each row
shows the status the receiver answered, whether the application saw the
delivery, and why. The command exits non-zero if any row differs from what
the library promises.
"""

from __future__ import annotations

import http.client
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .events import EventBus
from .receiver import Delivery, Receiver, Rejection
from .registry import Handler, HandlerRegistry
from .replay import MemoryReplayStore

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

__all__ = ["make_wsgi_server", "run_demo"]

# Small enough to show a 413 without sending much.
_DEMO_MAX_BODY = 64 * 1024


@dataclass
class _Row:
    label: str
    expected: int
    dispatched_expected: bool
    status: int = 0
    dispatched: bool = False
    why: str = ""

    @property
    def ok(self) -> bool:
        return self.status == self.expected and self.dispatched == self.dispatched_expected


class _Demo:
    def __init__(self) -> None:
        from . import presets

        self.github_secret = secrets.token_hex(16)
        self.stripe_secret = "whsec_" + secrets.token_hex(16)
        self.standard_secret = "whsec_" + secrets.token_urlsafe(24)
        self.handlers = [
            Handler("github", presets.github(secret=self.github_secret), user="ci-bot"),
            Handler("stripe", presets.stripe(secret=self.stripe_secret), user="billing"),
            Handler(
                "orders",
                presets.standard_webhooks(secret=self.standard_secret),
                user="fulfilment",
            ),
        ]
        self.registry = HandlerRegistry(self.handlers)
        self.bus = EventBus()
        self.seen: list[Delivery] = []
        self.rejections: list[Rejection] = []
        self.fail_next = False
        self.bus.bind("webhook.received", self._listener)
        self.bus.bind("webhook.rejected", self.rejections.append)
        self.receiver = Receiver(self.registry, self.bus, replay_store=MemoryReplayStore())

    def _listener(self, delivery: Delivery) -> None:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the application's database is briefly unavailable")
        self.seen.append(delivery)


def _post(
    port: int, headers: dict[str, str], body: bytes, method: str = "POST"
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, "/webhooks", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def make_wsgi_server(app: Any, host: str, port: int) -> WSGIServer:
    """A standard-library WSGI server whose access log goes to logging, not stderr."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Handler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            logging.getLogger("webhookverify.serve").info(format, *args)

    return make_server(host, port, app, handler_class=Handler)


def run_demo(*, quiet: bool = False, verbose: bool = False) -> int:
    """Run the demo; return 0 when every delivery got the promised answer.

    Args:
        quiet: print only the summary line.
        verbose: also show the library's log records (refusals, the failing
            listener's traceback) as they happen.
    """
    from .wsgi import WebhookApp

    demo = _Demo()
    app = WebhookApp(demo.receiver, max_body_size=_DEMO_MAX_BODY)
    library_log = logging.getLogger("webhookverify")
    level = library_log.level
    if not verbose:
        # the table shows each refusal's reasons; the records would repeat them
        library_log.setLevel(logging.CRITICAL)
    server = make_wsgi_server(app, "127.0.0.1", 0)
    port = int(server.server_port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rows: list[_Row] = []

    def send(row: _Row, headers: dict[str, str], body: bytes, method: str = "POST") -> None:
        before_seen, before_rejected = len(demo.seen), len(demo.rejections)
        row.status, _ = _post(port, {"Content-Type": "application/json", **headers}, body, method)
        row.dispatched = len(demo.seen) > before_seen
        if len(demo.rejections) > before_rejected:
            rejection = demo.rejections[-1]
            reasons = ", ".join(f"{name}: {reason}" for name, reason in rejection.attempts)
            row.why = rejection.reason + (f" ({reasons})" if reasons else "")
        elif row.dispatched:
            delivery = demo.seen[-1]
            row.why = f"verified by {delivery.handler.name}, acting as {delivery.user}"
        rows.append(row)

    github, stripe, orders = (h.verifier for h in demo.handlers)
    try:
        push = json.dumps({"ref": "refs/heads/main", "commits": 3}).encode()
        signed = github.sign(push)
        send(_Row("GitHub push, signed", 200, True), signed, push)
        send(_Row("the same push replayed", 200, False, why="duplicate"), signed, push)
        send(_Row("body tampered in transit", 401, False), signed, push.replace(b"3", b"4"))
        from . import presets

        forged = presets.github(secret=secrets.token_hex(8)).sign(push)
        send(_Row("signed with a guessed secret", 401, False), forged, push)

        event = json.dumps({"id": "evt_1", "type": "invoice.paid"}).encode()
        stale = stripe.sign(event, time.time() - 600)
        send(_Row("Stripe event, 10 minutes old", 401, False), stale, event)
        send(_Row("Stripe event, fresh", 200, True), stripe.sign(event), event)

        order = json.dumps({"order": 42, "status": "paid"}).encode()
        order_headers = orders.sign(order, id="msg_order_42")
        demo.fail_next = True
        send(
            _Row("order: our listener fails", 500, False, why="listener_failed"),
            order_headers,
            order,
        )
        send(_Row("order: sender retries", 200, True), order_headers, order)
        send(_Row("order: replayed later", 200, False, why="duplicate"), order_headers, order)

        big = b'{"pad":"' + b"x" * _DEMO_MAX_BODY + b'"}'
        send(
            _Row("body over max_body_size", 413, False, why="body_too_large"), github.sign(big), big
        )
        send(_Row("GET instead of POST", 405, False, why="method_not_allowed"), signed, b"", "GET")

        demo.registry.enabled = False
        fresh = json.dumps({"ref": "refs/heads/dev"}).encode()
        send(_Row("access switched off", 403, False), github.sign(fresh), fresh)
    finally:
        server.shutdown()
        server.server_close()
        library_log.setLevel(level)

    failures = [row for row in rows if not row.ok]
    if not quiet:
        print(f"webhookverify demo: a receiver on http://127.0.0.1:{port}/webhooks\n")
        width = max(len(row.label) for row in rows)
        print(f"  {'delivery':<{width}}  status  app saw it  why")
        for row in rows:
            mark = "" if row.ok else f"   <-- expected {row.expected}"
            seen = "yes" if row.dispatched else "no"
            print(f"  {row.label:<{width}}  {row.status:>6}  {seen:>10}  {row.why}{mark}")
        print()
    print(
        f"{len(rows) - len(failures)} of {len(rows)} deliveries answered as promised; "
        f"the application saw {len(demo.seen)} deliveries, each exactly once."
    )
    return 1 if failures else 0
