"""Fuzzing raw requests into the WSGI and ASGI adapters (seeded, bounded).

Each example builds what a server would hand the adapter (odd methods,
paths, header names and values, Content-Length, chunked and truncated bodies,
clients that leave) around a correctly signed request, or a mutation of it.
Whatever arrives: a well-formed answer (status 200..599, headers as pairs of
the right type, a bytes body), no exception out of the adapter and no
internal error logged, a 2xx only for a delivery whose signed meaning is the
sender's, and the wrapped app never runs on the guarded path without one.

Seed and size: ``WEBHOOKVERIFY_FUZZ_SEED`` and ``WEBHOOKVERIFY_FUZZ_EXAMPLES``.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from webhookverify import Handler, HandlerRegistry, Receiver, asgi, wsgi
from webhookverify.testing import make_environ, make_scope, run_asgi, sign_request

from fuzz_inputs import mutate_body, mutate_text
from fuzzing import EXAMPLES, SEED, Case, build_case, count, meaning, rng_for

# body schemes with and without a signed timestamp and id, and two that sign the URL
SIGNERS = [build_case(name) for name in ("github", "stripe", "svix", "slack", "twilio", "hubspot")]
GUARDED = "/webhooks"
BASE = "http://example.test"

METHODS = ["POST", "POST", "POST", "GET", "PUT", "post", "", "P\x00ST", "X" * 2000, "CONNECT"]
PATHS = [
    GUARDED,
    GUARDED,
    GUARDED,
    "//webhooks",
    "/webhooks/",
    "/%2Fwebhooks",
    "/webhooks%2F",
    "/./webhooks",
    "/x/../webhooks",
    "/WEBHOOKS",
    "/webhooks;x",
    "/webhooks\x00",
    "/%00",
    "/web%68ooks",
    "/" + "a" * 10_000,
    "",
    "*",
    "/\u00e9",
]
# Content-Length as clients send it, valid or not; AUTO is the body's own length
AUTO = "auto"
LENGTHS: list[Any] = [AUTO, AUTO, AUTO, None, -1, "+5", "0x10", "1e3", " 5", "5 ", "", "abc"]
LENGTHS += ["9" * 30, 0, "5, 6", "\u0665".encode().decode("latin-1")]  # an Arabic-Indic 5
# Extra header lines: controls, non-latin-1, empty and odd names, repeats
ODD_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-a", b"\x00\x01\x7f"),
    (b"x-b", "\u0101".encode()),
    (b"x-c", b"\xff\xfe"),
    (b"", b"empty-name"),
    (b"x y", b"space-in-name"),
    (b"X-Upper", b"v"),
    (b"content-length", b"3"),
    (b"transfer-encoding", b"chunked"),
    (b"content-type", b"multipart/form-data; boundary="),
    (b"x-hub-signature-256", b"sha256=" + b"0" * 64),
    (b"stripe-signature", b"t=1,v1=00"),
    (b"x-forwarded-host", b"evil.test"),
    (b"x-forwarded-proto", b"https"),
    (b"x-forwarded-for", b"10.0.0.1, 127.0.0.1"),
    (b"forwarded", b'for=1.2.3.4;host="example.test";proto=http'),
]


@dataclass
class Shot:
    """One raw request: the signed one, and how it is sent."""

    case: Case
    request: Any
    method: str = "POST"
    path: str = GUARDED
    length: Any = AUTO
    chunked: bool = False
    extra: list[tuple[bytes, bytes]] = field(default_factory=list)
    chunk_size: int | None = None
    disconnect_after: int | None = None
    mount: str = ""
    proxied: bool = False
    limit: int | None = None


def shoot(rng: random.Random) -> Shot:
    case = rng.choice(SIGNERS)
    original = case.request.body
    body = original if rng.random() < 0.7 else mutate_body(rng, original)
    content_type = {"Content-Type": case.request.headers["Content-Type"]}
    signed = sign_request(
        case.verifier, original, now=time.time(), url=BASE + GUARDED, headers=content_type
    )
    pairs = list(signed.headers.raw_items())
    if rng.random() < 0.1:  # not signed at all
        pairs = [(n, v) for n, v in pairs if n.lower() == "content-type"]
    elif rng.random() < 0.3 and pairs:  # a signature header altered
        index = rng.randrange(len(pairs))
        pairs[index] = (pairs[index][0], mutate_text(rng, pairs[index][1]))
    # a server hands header bytes over as latin-1 text: send UTF-8 as those bytes
    pairs = [(n, v.encode("utf-8", "surrogatepass").decode("latin-1")) for n, v in pairs]
    shot = Shot(case, (signed, body, pairs))
    if rng.random() < 0.3:
        shot.method = rng.choice(METHODS)
    if rng.random() < 0.4:
        shot.path = rng.choice(PATHS)
    if rng.random() < 0.4:
        shot.length = rng.choice([*LENGTHS, len(body) + rng.randint(1, 50), len(body) - 1])
    shot.chunked = rng.random() < 0.1
    if rng.random() < 0.4:
        count = rng.choice([1, 2, 5, 500, 2000])
        shot.extra = [rng.choice(ODD_HEADERS) for _ in range(count)]
    if rng.random() < 0.3:
        shot.chunk_size = rng.choice([1, 7, 100])
    if rng.random() < 0.1:
        shot.disconnect_after = rng.choice([0, 1, 2])
    if rng.random() < 0.1:
        shot.mount = rng.choice(["/app", "/webhooks", "/%2F", "/"])
    shot.proxied = rng.random() < 0.3
    if rng.random() < 0.1:  # a body limit the body is near: 413 paths, and reads that stop
        shot.limit = max(1, rng.choice([1, len(body) - 1, len(body), len(body) + 1]))
    return shot


class Recorder:
    """The wrapped app, or the bus listener of a WebhookApp: what ran, with what."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def wsgi_app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        delivery = wsgi.get_delivery(environ)
        self.calls.append((environ.get("PATH_INFO", ""), delivery))
        start_response("200 OK" if delivery else "404 Not Found", [("Content-Type", "text/plain")])
        return [b"app"]

    async def asgi_app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        delivery = asgi.get_delivery(scope)
        path, root = scope.get("path", ""), scope.get("root_path", "")
        self.calls.append((path[len(root) :] if path.startswith(root) else path, delivery))
        status = 200 if delivery else 404
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"app"})


def build(kind: str, proxied: bool = False, limit: int | None = None) -> tuple[Any, Recorder]:
    registry = HandlerRegistry([Handler(case.name, case.verifier) for case in SIGNERS])
    receiver = Receiver(registry)
    recorder = Recorder()
    # behind a proxy at the client's address: its forwarded headers are believed
    options: dict[str, Any] = {"trusted_proxies": ["127.0.0.1"]} if proxied else {}
    if limit is not None:
        options["max_body_size"] = limit
    if kind == "wsgi.WebhookApp":
        receiver.bus.bind("webhook.received", lambda d: recorder.calls.append((GUARDED, d)))
        return wsgi.WebhookApp(receiver, **options), recorder
    if kind == "asgi.WebhookApp":
        receiver.bus.bind("webhook.received", lambda d: recorder.calls.append((GUARDED, d)))
        return asgi.WebhookApp(receiver, **options), recorder
    if kind == "wsgi.WebhookMiddleware":
        app = wsgi.WebhookMiddleware(recorder.wsgi_app, receiver, path=GUARDED, **options)
        return app, recorder
    app = asgi.WebhookMiddleware(recorder.asgi_app, receiver, path=GUARDED, **options)
    return app, recorder


def send_wsgi(app: Any, shot: Shot) -> tuple[int, list[Any], bytes]:
    signed, body, pairs = shot.request
    environ = make_environ(
        method="POST",
        url=BASE + GUARDED,
        headers=pairs,
        body=body,
        content_length=len(body) if shot.length == AUTO else shot.length,
        chunked=shot.chunked,
    )
    environ["REQUEST_METHOD"] = shot.method
    environ["PATH_INFO"] = shot.path
    environ["SCRIPT_NAME"] = shot.mount
    for name, value in shot.extra:  # as a server folds repeated lines
        key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            key = key[5:]
        text = value.decode("latin-1") if value.isascii() else value.decode("utf-8", "replace")
        environ[key] = f"{environ[key]}, {text}" if key in environ else text
    started: list[Any] = []

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return None

    result = app(environ, start_response)
    chunks = list(result)
    if hasattr(result, "close"):
        result.close()
    assert started, "no start_response"
    status_line, headers = started
    assert isinstance(status_line, str), status_line
    assert all(isinstance(n, str) and isinstance(v, str) for n, v in headers), headers
    assert all(isinstance(c, bytes) for c in chunks), chunks
    return int(status_line.split(" ", 1)[0]), headers, b"".join(chunks)


def send_asgi(app: Any, shot: Shot) -> tuple[int, list[Any], bytes] | None:
    signed, body, pairs = shot.request
    scope = make_scope(
        method="POST",
        url=BASE + GUARDED,
        headers=pairs,
        body=body,
        content_length=len(body) if shot.length == AUTO else shot.length,
        chunked=shot.chunked,
    )
    scope["method"] = shot.method
    scope["path"] = shot.mount + shot.path
    scope["raw_path"] = scope["path"].encode("utf-8")
    scope["root_path"] = shot.mount
    scope["headers"] += [(name.lower(), value) for name, value in shot.extra]
    response = run_asgi(
        app, scope, body, chunk_size=shot.chunk_size, disconnect_after=shot.disconnect_after
    )
    if response is None:
        assert shot.disconnect_after is not None, "no response to a client still there"
        return None
    start = response.messages[0]
    headers = list(start.get("headers", []))
    assert all(isinstance(n, bytes) and isinstance(v, bytes) for n, v in headers), headers
    assert all(isinstance(m.get("body", b""), bytes) for m in response.messages[1:])
    return response.status, headers, response.body


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


KINDS = ["wsgi.WebhookApp", "wsgi.WebhookMiddleware", "asgi.WebhookApp", "asgi.WebhookMiddleware"]


@pytest.mark.parametrize("kind", KINDS)
def test_raw_requests_get_well_formed_answers_and_no_unverified_dispatch(kind: str) -> None:
    rng = rng_for(f"adapter:{kind}")
    errors = _Errors()
    logger = logging.getLogger("webhookverify")
    logger.addHandler(errors)
    statuses: dict[int, int] = {}
    try:
        for _ in range(EXAMPLES):
            shot = shoot(rng)
            app, recorder = build(kind, shot.proxied, shot.limit)
            where = f"{kind} (seed {SEED}): {shot!r:.800}"
            try:
                sent = send_wsgi(app, shot) if kind.startswith("wsgi") else send_asgi(app, shot)
            except Exception as exc:  # noqa: BLE001 - nothing may escape an adapter
                pytest.fail(f"{type(exc).__name__}: {exc} escaped {where}")
            count()
            for path, delivery in recorder.calls:
                assert path != GUARDED or delivery is not None, f"unverified app call: {where}"
            if sent is None:
                continue
            status, _headers, _body = sent
            statuses[status] = statuses.get(status, 0) + 1
            assert 200 <= status <= 599, where
            if 200 <= status < 300:
                deliveries = [d for _, d in recorder.calls if d is not None]
                assert len(deliveries) == 1, f"a {status} without one delivery: {where}"
                check_delivery(shot, deliveries[0], where)
    finally:
        logger.removeHandler(errors)
    assert not errors.records, [r.getMessage() for r in errors.records[:3]]
    # the fuzzer must reach both outcomes, or it is not testing the adapter
    assert any(200 <= s < 300 for s in statuses), statuses
    assert any(s >= 400 for s in statuses), statuses


def check_delivery(shot: Shot, delivery: Any, where: str) -> None:
    """A dispatched delivery carries what its sender signed, by the scheme's model."""
    signed = shot.request[0]
    case = shot.case
    assert delivery.handler.name == case.name, where
    expected = meaning(case, signed, case.verifier.verify(signed, now=signed.received_at))
    got = meaning(case, delivery.request, delivery.verification)
    assert got == expected, f"forgery through {where}"


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
@pytest.mark.parametrize("spelling", ["//webhooks", "/webhooks/", "/./webhooks"])
def test_a_router_spelling_of_the_guarded_path_is_guarded(kind: str, spelling: str) -> None:
    """A router that folds ``spelling`` onto the guarded path must not run unverified."""
    app, recorder = build(f"{kind}.WebhookMiddleware")
    shot = Shot(SIGNERS[0], (None, b"{}", [("Content-Type", "application/json")]))
    shot.path = spelling
    sent = send_wsgi(app, shot) if kind == "wsgi" else send_asgi(app, shot)
    assert sent is not None
    normalised = [
        (p.replace("/./", "/").replace("//", "/").rstrip("/"), d) for p, d in recorder.calls
    ]
    assert all(d is not None for p, d in normalised if p == GUARDED), recorder.calls
