"""The ASGI adapters without a server: every branch of reading, answering and
handing on a delivery, driven by ``webhookverify.testing`` builders."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhookverify import (
    ConfigurationError,
    Delivery,
    EventBus,
    Handler,
    HandlerRegistry,
    HmacVerifier,
    Receiver,
    TokenVerifier,
    WebhookRequest,
)
from webhookverify._replies import Refused
from webhookverify.asgi import WebhookApp, WebhookMiddleware, get_delivery
from webhookverify.replay import MemoryReplayStore, Reservation
from webhookverify.testing import call_asgi, make_scope, run_asgi, sign_request

SECRET = "asgi-test-secret"
PUBLIC = "https://hooks.example.test/webhooks/in?source=test&n=1"


def hmac_verifier() -> HmacVerifier:
    return HmacVerifier(secret=SECRET, header="X-Signature", encoding="base64")


def url_verifier() -> HmacVerifier:
    return HmacVerifier(secret=SECRET, header="X-Url-Signature", template="{url}\n{body}")


def token_verifier() -> TokenVerifier:
    """Signs nothing: a cut body would verify, so only the adapter stops it."""
    return TokenVerifier(secret="token-0123456789", header="X-Token")


class Recorder:
    """A listener: async by default (awaited on the loop), or sync (run in a thread)."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.threads: list[int] = []
        self.fail_next = 0

    def record(self, delivery: Delivery) -> None:
        self.threads.append(threading.get_ident())
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("listener failed")
        self.deliveries.append(delivery)

    async def __call__(self, delivery: Delivery) -> None:
        self.record(delivery)

    @property
    def bodies(self) -> list[bytes]:
        return [d.request.body for d in self.deliveries]


def build(*, sync: bool = False, **receiver_options: Any) -> tuple[Receiver, Recorder]:
    handlers = [
        Handler("hmac", hmac_verifier(), user="bot"),
        Handler("url", url_verifier()),
        Handler("token", token_verifier(), replay="off"),
    ]
    bus = EventBus()
    recorder = Recorder()
    bus.bind("webhook.received", recorder.record if sync else recorder)
    return Receiver(HandlerRegistry(handlers), bus, **receiver_options), recorder


@pytest.fixture
def endpoint() -> tuple[WebhookApp, Recorder]:
    receiver, recorder = build()
    return WebhookApp(receiver, max_body_size=1024), recorder


def signed(body: bytes = b'{"event":"ping"}', **kwargs: Any) -> WebhookRequest:
    return sign_request(hmac_verifier(), body, url=PUBLIC, **kwargs)


def token_request(body: bytes) -> WebhookRequest:
    return WebhookRequest("POST", PUBLIC, {"X-Token": "token-0123456789"}, body)


def send(app: Any, request: WebhookRequest, **scope_options: Any) -> Any:
    return run_asgi(app, make_scope(request, **scope_options), request.body)


# -- the endpoint ----------------------------------------------------------------------


def test_valid_delivery_is_awaited_with_everything_the_request_had(
    endpoint: tuple[WebhookApp, Recorder],
) -> None:
    app, recorder = endpoint
    request = signed()
    before = time.time()
    response = run_asgi(
        app, make_scope(request, client=("203.0.113.9", 1234)), request.body, chunk_size=5
    )
    assert response is not None
    assert response.status == 200
    assert response.headers["content-length"] == str(len(response.body))
    [delivery] = recorder.deliveries
    assert delivery.user == "bot"
    assert delivery.request.body == request.body
    assert delivery.request.url == PUBLIC
    assert delivery.request.remote_addr == "203.0.113.9"
    assert delivery.request.headers["X-Signature"] == request.headers["X-Signature"]
    assert before <= delivery.received_at <= time.time()


def test_sync_listeners_run_off_the_event_loop() -> None:
    receiver, recorder = build(sync=True)
    loop_thread = threading.get_ident()
    response = send(WebhookApp(receiver), signed())
    assert response.status == 200
    assert recorder.threads and recorder.threads[0] != loop_thread


def test_tampered_duplicate_and_failing_listener(endpoint: tuple[WebhookApp, Recorder]) -> None:
    app, recorder = endpoint
    request = signed(b'{"amount": 100}')
    assert send(app, request.replace(body=b'{"amount": 900}')).status == 401
    recorder.fail_next = 1
    assert send(app, request).status == 500
    assert send(app, request).status == 200  # the retry is processed
    duplicate = send(app, request)
    assert (duplicate.status, duplicate.body) == (200, b"")
    assert recorder.bodies == [b'{"amount": 100}']


def test_in_flight_delivery_answers_409() -> None:
    store = MemoryReplayStore()
    receiver, recorder = build(replay_store=store, retry_after=9)
    request = signed()
    key, ttl = receiver._key(receiver.registry.verify(request))
    assert key is not None
    assert isinstance(store.reserve(key, ttl, 60), Reservation)
    response = send(WebhookApp(receiver), request)
    assert response.status == 409
    assert response.headers["retry-after"] == "9"
    assert recorder.deliveries == []


def test_oversize_content_length_is_refused_before_reading(
    endpoint: tuple[WebhookApp, Recorder],
) -> None:
    app, recorder = endpoint
    request = signed(b"x" * 2000)
    received: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        received.append({})
        return {"type": "http.request", "body": request.body, "more_body": False}

    sent: list[dict[str, Any]] = []

    async def capture(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(make_scope(request), receive, capture))
    assert sent[0]["status"] == 413
    assert sent[1]["body"] == b"request body too large\n"
    assert received == []
    assert recorder.deliveries == []


def test_streamed_body_without_length_is_read_to_the_limit(
    endpoint: tuple[WebhookApp, Recorder],
) -> None:
    app, recorder = endpoint
    big = signed(b"z" * 5000)
    scope = make_scope(big, chunked=True)
    assert run_asgi(app, scope, big.body, chunk_size=100).status == 413
    small = signed(b"z" * 1000)
    assert run_asgi(app, make_scope(small, chunked=True), small.body, chunk_size=7).status == 200
    assert recorder.bodies == [small.body]


def test_invalid_content_length_is_400(endpoint: tuple[WebhookApp, Recorder]) -> None:
    app, recorder = endpoint
    request = token_request(b"hello")
    for value in ("abc", "-1", "1, 2", "\xb2"):
        assert send(app, request, content_length=value).status == 400
    scope = make_scope(request)
    scope["headers"] += [(b"content-length", b"6")]  # two differing fields
    assert run_asgi(app, scope, request.body).status == 400
    scope = make_scope(request)
    scope["headers"] += [(b"content-length", b"5")]  # two identical fields: one value
    assert run_asgi(app, scope, request.body).status == 200
    assert recorder.bodies == [b"hello"]


def test_body_that_does_not_match_its_length_is_400_and_never_dispatched(
    endpoint: tuple[WebhookApp, Recorder],
) -> None:
    app, recorder = endpoint
    request = token_request(b"cut short")
    assert send(app, request, content_length=100).status == 400
    assert send(app, request, content_length=3).status == 400
    assert recorder.deliveries == []


def test_disconnect_mid_body_dispatches_nothing_and_sends_nothing(
    endpoint: tuple[WebhookApp, Recorder], caplog: pytest.LogCaptureFixture
) -> None:
    app, recorder = endpoint
    request = token_request(b"a" * 600)
    with caplog.at_level(logging.INFO, logger="webhookverify"):
        for after in (0, 1, 5):
            response = run_asgi(
                app, make_scope(request), request.body, chunk_size=100, disconnect_after=after
            )
            assert response is None
    assert recorder.deliveries == []
    assert "disconnected" in caplog.text


def test_wrong_method_is_405_with_allow(endpoint: tuple[WebhookApp, Recorder]) -> None:
    app, recorder = endpoint
    response = send(app, signed(), method="GET")
    assert response.status == 405
    assert response.headers["allow"] == "POST"
    receiver, _ = build()
    both = WebhookApp(receiver, methods=["POST", "PATCH"])
    assert send(both, signed(), method="PUT").headers["allow"] == "POST, PATCH"
    assert recorder.deliveries == []


@pytest.mark.parametrize(
    "header",
    [
        (b"x-note", b"line\r\nInjected: 1"),
        (b"x-note", b"\x00"),
        (b"bad name", b"x"),
        (b"host", b"second.example"),
    ],
)
def test_malformed_header_is_400(
    endpoint: tuple[WebhookApp, Recorder], header: tuple[bytes, bytes]
) -> None:
    app, recorder = endpoint
    request = signed()
    scope = make_scope(request)
    scope["headers"].append(header)
    response = run_asgi(app, scope, request.body)
    assert response.status == 400
    assert response.body == b"malformed request\n"
    assert recorder.deliveries == []


def test_a_bug_inside_answers_500_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Receiver):
        async def areceive(self, request: WebhookRequest, now: float | None = None) -> Any:
            raise KeyError("a bug")

    with caplog.at_level(logging.ERROR, logger="webhookverify"):
        response = send(WebhookApp(Broken(HandlerRegistry())), signed())
    assert response.status == 500
    assert b"KeyError" not in response.body
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)


def test_a_failing_send_is_not_answered_twice() -> None:
    receiver, _ = build()
    app = WebhookApp(receiver)
    request = signed()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": request.body, "more_body": False}

    async def broken_send(message: dict[str, Any]) -> None:
        sent.append(message)
        raise OSError("client gone")

    asyncio.run(app(make_scope(request), receive, broken_send))
    assert [m["type"] for m in sent] == ["http.response.start"]


def test_time_budget_answers_202_and_finishes_in_the_background() -> None:
    bus = EventBus()
    done: list[bytes] = []

    async def slow(delivery: Delivery) -> None:
        await asyncio.sleep(0.2)
        done.append(delivery.request.body)

    bus.bind("webhook.received", slow)
    handler = Handler("hmac", hmac_verifier())
    receiver = Receiver(HandlerRegistry([handler]), bus, time_budget=0.02)
    app = WebhookApp(receiver)
    request = signed()

    async def main() -> list[int]:
        first = await call_asgi(app, make_scope(request), request.body)
        during = await call_asgi(app, make_scope(request), request.body)
        for _ in range(100):
            if done:
                break
            await asyncio.sleep(0.02)
        after = await call_asgi(app, make_scope(request), request.body)
        assert first is not None and during is not None and after is not None
        assert first.body == b"accepted\n"
        return [first.status, during.status, after.status]

    assert asyncio.run(main()) == [202, 409, 200]
    assert done == [request.body]


def test_lifespan_and_websocket_on_the_endpoint() -> None:
    receiver, _ = build()
    app = WebhookApp(receiver)
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def capture(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan"}, receive, capture))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    inbox[:] = [{"type": "websocket.connect"}]
    sent.clear()
    asyncio.run(app(make_scope(scope_type="websocket"), receive, capture))
    assert sent == [{"type": "websocket.close", "code": 1008}]


# -- URLs ------------------------------------------------------------------------------


def url_signed(url: str = PUBLIC) -> WebhookRequest:
    return sign_request(url_verifier(), b'{"n": 1}', url=url)


def test_url_from_scope_raw_path_root_path_and_server() -> None:
    receiver, recorder = build()
    app = WebhookApp(receiver)
    # raw_path keeps escapes as sent; without it, path is re-quoted
    escaped = url_signed("https://hooks.example.test/webhooks/%7Euser?q=%2F")
    assert send(app, escaped).status == 200
    # without raw_path, "%7E" comes back as "~": not the URL that was signed
    assert send(app, escaped, raw_path=False).status == 401
    plain = url_signed("https://hooks.example.test/caf%C3%A9/a%20b")
    assert send(app, plain, raw_path=False).status == 200
    # mounted under a root path, as uvicorn sends it (path includes root_path)
    mounted = url_signed("https://hooks.example.test/api/webhooks/in")
    scope = make_scope(mounted, root_path="/api", raw_path=False)
    assert run_asgi(app, scope, mounted.body).status == 200
    # a server that leaves root_path out of path
    scope["path"] = "/webhooks/in"
    other = url_signed("https://hooks.example.test/api/webhooks/in?again=1")
    scope["query_string"] = b"again=1"
    scope["headers"] = make_scope(other)["headers"]
    assert run_asgi(app, scope, other.body).status == 200
    # no Host header: the server's name and port
    no_host = url_signed("http://hooks.example.test:8080/webhooks/in")
    scope = make_scope(no_host)
    scope["headers"] = [h for h in scope["headers"] if h[0] != b"host"]
    assert run_asgi(app, scope, no_host.body).status == 200
    assert recorder.deliveries[-1].request.url == "http://hooks.example.test:8080/webhooks/in"
    # no Host and a server on a Unix socket: the path is no host name
    unix = url_signed("http://localhost/webhooks/in")
    scope = make_scope(unix, client=None)
    scope["headers"] = [h for h in scope["headers"] if h[0] != b"host"]
    scope["server"] = ("/run/app.sock", None)
    assert run_asgi(app, scope, unix.body).status == 200
    assert recorder.deliveries[-1].request.remote_addr is None


def test_public_url_and_trusted_proxies() -> None:
    receiver, recorder = build()
    request = url_signed()

    def internal(**options: Any) -> Any:
        scope = make_scope(request, url="http://app.internal:8000/webhooks/in?source=test&n=1")
        scope.update(options)
        return scope

    assert run_asgi(WebhookApp(receiver), internal(), request.body).status == 401
    pinned = WebhookApp(receiver, public_url="https://hooks.example.test")
    assert run_asgi(pinned, internal(), request.body).status == 200
    proxied = WebhookApp(receiver, trusted_proxies=["127.0.0.0/8"])
    forwarded = [
        (b"x-forwarded-proto", b"https"),
        (b"x-forwarded-host", b"hooks.example.test"),
        (b"x-forwarded-for", b"6.6.6.6"),
        (b"x-forwarded-for", b"198.51.100.7"),
    ]
    scope = internal(client=("192.0.2.1", 5000))
    scope["headers"] += forwarded
    assert run_asgi(proxied, scope, request.body).status == 401  # untrusted peer
    scope = internal(client=("127.0.0.1", 5000))
    scope["headers"] += forwarded
    fresh = url_signed(PUBLIC + "&fresh=1")
    scope["query_string"] += b"&fresh=1"
    scope["headers"] = [h for h in scope["headers"] if h[0] != b"x-url-signature"] + [
        (b"x-url-signature", fresh.headers["X-Url-Signature"].encode())
    ]
    assert run_asgi(proxied, scope, fresh.body).status == 200
    assert recorder.deliveries[-1].request.url == PUBLIC + "&fresh=1"
    assert recorder.deliveries[-1].request.remote_addr == "198.51.100.7"


def test_urls_and_hosts_are_built_and_checked_per_request() -> None:
    """Each request's URL is built from its own scheme, Host, path and query;
    a malformed Host is refused whichever handler would verify the request."""
    receiver, recorder = build()
    app = WebhookApp(receiver)
    for attempt in range(2):

        def signed_for(url: str, attempt: int = attempt) -> WebhookRequest:
            return sign_request(url_verifier(), b'{"attempt": %d}' % attempt, url=url)

        escaped = signed_for("https://hooks.example.test/webhooks/%7Euser?attempt=1")
        assert send(app, escaped).status == 200
        assert recorder.deliveries[-1].request.url == escaped.url
        # the same Host and path, but the scheme or the query differ: other URLs
        for other in (
            "http://hooks.example.test/webhooks/%7Euser?attempt=1",
            "https://hooks.example.test/webhooks/%7Euser?attempt=2",
        ):
            assert send(app, signed_for(other)).status == 200
            assert recorder.deliveries[-1].request.url == other
        # without raw_path, the path is re-quoted: "%7E" is sent as "~"
        requoted = signed_for("https://hooks.example.test/webhooks/%7Euser?attempt=3")
        assert send(app, requoted, raw_path=False).status == 401
        bad_host = make_scope(escaped)
        bad_host["headers"] = [h for h in bad_host["headers"] if h[0] != b"host"]
        bad_host["headers"].append((b"host", b"evil.example/path"))
        assert run_asgi(app, bad_host, escaped.body).status == 400
        # public_url: the configured base wins whatever Host was sent
        pinned = WebhookApp(receiver, public_url="https://hooks.example.test")
        internal = signed_for("https://hooks.example.test/webhooks/in?pinned=1")
        scope = make_scope(internal, url="http://app.internal:8000/webhooks/in?pinned=1")
        assert run_asgi(pinned, scope, internal.body).status == 200
        assert recorder.deliveries[-1].request.url == internal.url
    long_host = "h" * 300 + ".example"
    request = url_signed(f"https://{long_host}/" + "p" * 300)
    assert send(app, request).status == 200
    assert recorder.deliveries[-1].request.url == request.url
    after = url_signed("https://after.example/the/flood/%7E")
    assert send(app, after).status == 200
    assert recorder.deliveries[-1].request.url == after.url
    bad_host["headers"][-1] = (b"host", b"a b")
    assert run_asgi(app, bad_host, escaped.body).status == 400


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (iter([(b"host", b"x.test"), (b"x-a", b"1")]), None),  # any iterable, as ASGI allows
        (iter([]), None),
        ([], None),
        ([(b"host", b"x.test", b"extra")], 400),
        ([(b"host",)], 400),
        ([(b"host", "x.test")], None),  # bytes and str mixed: each taken as Headers takes it
        ([(b"x-a", b"1"), (b"host", b"x.test", b"extra")], 400),
        (5, 400),
    ],
)
def test_header_pairs_the_adapter_takes_and_refuses(headers: Any, status: int | None) -> None:
    from webhookverify._adapter import read_headers
    from webhookverify._options import AdapterOptions

    options = AdapterOptions.build("test")
    if status is None:
        read_headers(options, headers)
    else:
        with pytest.raises(Refused) as info:
            read_headers(options, headers)
        assert info.value.reply.status == status


# -- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("adapter", "typo", "hint"),
    [
        ("asgi.WebhookApp", "max_body", "did you mean 'max_body_size'?"),
        ("asgi.WebhookMiddleware", "pathz", "did you mean 'path'?"),
        ("wsgi.WebhookApp", "public_uri", "did you mean 'public_url'?"),
        ("wsgi.WebhookMiddleware", "passthrough_method", "did you mean 'passthrough_methods'?"),
        ("aiohttp.webhook_handler", "trusted_proxy", "did you mean 'trusted_proxies'?"),
        ("aiohttp.WebhookMiddleware", "method", "did you mean 'methods'?"),
        ("aws_lambda.webhook_handler", "max_body", "did you mean 'max_body_size'?"),
        ("wsgi.WebhookApp", "colour", "it takes max_body_size, methods, "),
    ],
)
def test_a_misspelt_setting_is_named_with_the_nearest_one(
    adapter: str, typo: str, hint: str
) -> None:
    # A TypeError about an internal AdapterOptions.build() named nothing the
    # user wrote: the error names the adapter, the setting and the fix.
    import importlib

    module_name, name = adapter.split(".")
    module = importlib.import_module(f"webhookverify.{module_name}")
    receiver, _ = build()

    async def handler(request: Any, delivery: Any) -> None:
        return None

    positional: dict[str, tuple[Any, ...]] = {
        "WebhookApp": (receiver,),
        "WebhookMiddleware": (receiver,) if module_name == "aiohttp" else (handler, receiver),
        "webhook_handler": (receiver, handler) if module_name == "aiohttp" else (receiver,),
    }
    with pytest.raises(ConfigurationError) as info:
        getattr(module, name)(*positional[name], **{typo: 1})
    message = str(info.value)
    assert f"unknown setting {typo!r}" in message and hint in message
    assert "AdapterOptions" not in message


def test_configuration_is_checked_at_construction() -> None:
    receiver, _ = build()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    for kwargs in (
        {"max_body_size": 0},
        {"methods": "POST"},
        {"public_url": "https://h.example/?q"},
        {"public_url": "https://h.example/" + chr(0xDC80)},
        {"trusted_proxies": ["proxy.internal"]},
        {"proxy_headers": "both"},
    ):
        with pytest.raises(ConfigurationError):
            WebhookApp(receiver, **kwargs)
        with pytest.raises(ConfigurationError):
            WebhookMiddleware(app, receiver, **kwargs)
    for kwargs in (
        {"path": "x"},
        {"path": "/a", "paths": ["/b"]},
        {"passthrough_methods": ["post"]},
    ):
        with pytest.raises(ConfigurationError):
            WebhookMiddleware(app, receiver, **kwargs)
    with pytest.raises(ConfigurationError):
        WebhookApp(object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        WebhookMiddleware(None, receiver)  # type: ignore[arg-type]

    class NoBus:
        async def areceive(self, request: WebhookRequest) -> None:
            return None

    with pytest.raises(ConfigurationError, match="receiver"):
        WebhookMiddleware(app, NoBus())  # type: ignore[arg-type]


# -- the middleware ----------------------------------------------------------------------


class Inner:
    """An ASGI app that reads its body as an app would, records, and answers as told."""

    def __init__(self, status: int = 201, body: bytes = b"handled\n") -> None:
        self.calls: list[dict[str, Any]] = []
        self.status = status
        self.body = body
        self.raise_next = 0
        self.delay = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            self.calls.append({"scope": scope, "receive": receive, "send": send})
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.calls.append(
            {"scope": scope, "body": b"".join(chunks), "delivery": get_delivery(scope)}
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.raise_next:
            self.raise_next -= 1
            raise RuntimeError("the app failed")
        await send(
            {"type": "http.response.start", "status": self.status, "headers": [(b"x-app", b"yes")]}
        )
        await send({"type": "http.response.body", "body": self.body[:3], "more_body": True})
        await send({"type": "http.response.body", "body": self.body[3:]})


def wrapped(
    inner: Inner | None = None, **options: Any
) -> tuple[WebhookMiddleware, Inner, Recorder]:
    receiver, recorder = build(**options.pop("receiver_options", {}))
    inner = inner or Inner()
    return WebhookMiddleware(inner, receiver, **options), inner, recorder


def test_middleware_hands_the_exact_body_and_the_delivery_to_the_app() -> None:
    middleware, inner, recorder = wrapped(path="/webhooks/in")
    request = signed(b'{"x": "\xc3\xa9\x00\xff"}')
    caller_state = {"db": "pool"}
    scope = make_scope(request, state=caller_state)
    response = run_asgi(middleware, scope, request.body, chunk_size=4)
    assert (response.status, response.body) == (201, b"handled\n")
    assert response.headers["x-app"] == "yes"
    [call] = inner.calls
    assert call["body"] == request.body
    assert call["delivery"].request.body == request.body
    assert recorder.deliveries == []  # the app is the dispatch, not the bus's listeners
    assert call["scope"]["state"]["db"] == "pool"  # the lifespan state is kept
    # the caller's dicts are not changed in place
    assert caller_state == {"db": "pool"}
    assert "webhookverify.delivery" not in scope["state"]
    assert call["scope"] is not scope


def test_middleware_creates_state_when_the_server_gives_none() -> None:
    middleware, inner, _ = wrapped(path="/webhooks/in")
    request = signed()
    scope = make_scope(request)
    assert "state" not in scope
    assert run_asgi(middleware, scope, request.body).status == 201
    assert "state" not in scope
    assert inner.calls[0]["delivery"] is not None


def test_replayed_receive_gives_the_body_once_then_the_servers_messages() -> None:
    receiver, _ = build()
    seen: list[dict[str, Any]] = []

    async def reads_twice(scope: Any, receive: Any, send: Any) -> None:
        seen.append(await receive())
        seen.append(await receive())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = WebhookMiddleware(reads_twice, receiver, path="/webhooks/in")
    request = signed()
    inbox = [
        {"type": "http.request", "body": request.body[:4], "more_body": True},
        {"type": "http.request", "body": request.body[4:], "more_body": False},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def capture(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(middleware(make_scope(request), receive, capture))
    assert seen == [
        {"type": "http.request", "body": request.body, "more_body": False},
        {"type": "http.disconnect"},
    ]
    assert sent[0]["status"] == 204


def test_middleware_passes_other_paths_lifespan_and_websocket_through_untouched() -> None:
    middleware, inner, recorder = wrapped(path="/webhooks/in")

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: dict[str, Any]) -> None:
        return None

    for scope in (
        {"type": "lifespan", "asgi": {"version": "3.0"}},
        make_scope(url="ws://h.example.test/webhooks/in", scope_type="websocket"),
        make_scope(url="http://h.example.test/other", method="GET"),
    ):
        asyncio.run(middleware(scope, receive, send))
        call = inner.calls[-1]
        assert call["scope"] is scope
        if scope["type"] != "http":
            assert call["receive"] is receive
            assert call["send"] is send
    assert len(inner.calls) == 3
    assert recorder.deliveries == []


def test_middleware_matches_the_path_within_root_path() -> None:
    middleware, inner, _ = wrapped(path="/webhooks/in")
    request = sign_request(hmac_verifier(), b"{}", url="https://h.example.test/api/webhooks/in")
    assert run_asgi(middleware, make_scope(request, root_path="/api"), request.body).status == 201
    assert inner.calls[0]["delivery"] is not None


def test_middleware_answers_refusals_and_duplicates_itself() -> None:
    middleware, inner, recorder = wrapped(path="/webhooks/in", max_body_size=4096)
    good = signed()
    assert send(middleware, good.replace(body=b"{}")).status == 401
    assert send(middleware, good, method="PUT").status == 405
    assert send(middleware, signed(b"x" * 5000)).status == 413
    assert (
        run_asgi(middleware, make_scope(good), good.body, chunk_size=3, disconnect_after=2) is None
    )
    assert inner.calls == []
    assert send(middleware, good).status == 201
    duplicate = send(middleware, good)
    assert (duplicate.status, duplicate.body) == (200, b"")
    assert len(inner.calls) == 1
    assert recorder.deliveries == []


def test_app_failure_is_500_and_the_retry_reaches_the_app() -> None:
    middleware, inner, _ = wrapped(path="/webhooks/in")
    inner.raise_next = 1
    request = signed()
    failed = send(middleware, request)
    assert failed.status == 500
    assert b"the app failed" not in failed.body
    assert send(middleware, request).status == 201
    assert send(middleware, request).status == 200
    assert len(inner.calls) == 2


def test_app_5xx_and_4xx_are_sent_and_release_the_key_2xx_commits() -> None:
    middleware, inner, _ = wrapped(Inner(status=503, body=b"busy\n"), path="/webhooks/in")
    request = signed()
    response = send(middleware, request)
    assert (response.status, response.body) == (503, b"busy\n")
    inner.status = 400
    assert send(middleware, request).status == 400  # not processed: released
    inner.status = 201
    assert send(middleware, request).status == 201
    assert send(middleware, request).status == 200  # processed: a duplicate now
    assert len(inner.calls) == 3


def test_app_with_an_incomplete_response_is_a_failure() -> None:
    receiver, _ = build()

    async def half(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def pathsend(scope: Any, receive: Any, send: Any) -> None:
        assert "http.response.pathsend" not in scope.get("extensions", {})
        await send({"type": "http.response.pathsend", "path": "/etc/hostname"})

    request = signed()
    assert send(WebhookMiddleware(half, receiver, path="/webhooks/in"), request).status == 500
    scope = make_scope(request, extensions={"http.response.pathsend": {}, "other": {}})
    response = run_asgi(
        WebhookMiddleware(pathsend, receiver, path="/webhooks/in"), scope, request.body
    )
    assert response.status == 500


def test_middleware_time_budget_202_then_the_app_finishes() -> None:
    inner = Inner()
    inner.delay = 0.2
    middleware, inner, _ = wrapped(
        inner, path="/webhooks/in", receiver_options={"time_budget": 0.02}
    )
    request = signed()

    async def main() -> tuple[int, list[int]]:
        first = await call_asgi(middleware, make_scope(request), request.body)
        assert first is not None
        later: list[int] = []
        for _ in range(100):
            again = await call_asgi(middleware, make_scope(request), request.body)
            assert again is not None
            later.append(again.status)
            if again.status != 409:
                break
            await asyncio.sleep(0.02)
        return first.status, later

    first, later = asyncio.run(main())
    # 202 at the budget; 409 while the app still runs; 200 (a duplicate) once committed
    assert first == 202
    assert later[0] == 409
    assert later[-1] == 200
    assert len(inner.calls) == 1


def test_passthrough_methods_reach_the_app_unverified() -> None:
    middleware, inner, _ = wrapped(path="/webhooks/in", passthrough_methods=["GET"])
    scope = make_scope(url="https://h.example.test/webhooks/in?hub.challenge=1", method="GET")
    assert run_asgi(middleware, scope).status == 201
    assert inner.calls[0]["delivery"] is None


def test_starlette_style_add_middleware_signature() -> None:
    receiver, recorder = build()
    inner = Inner()
    # Starlette calls cls(app, **options)
    middleware = WebhookMiddleware(inner, receiver=receiver, paths=["/webhooks/in", "/b"])
    assert send(middleware, signed()).status == 201
    assert len(inner.calls) == 1 and recorder.deliveries == []


# -- properties --------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.binary(max_size=3000),
    chunk_size=st.integers(min_value=1, max_value=4096),
    declare_length=st.booleans(),
)
def test_property_any_body_any_chunking_reaches_the_app_exactly(
    body: bytes, chunk_size: int, declare_length: bool
) -> None:
    middleware, inner, recorder = wrapped(path="/webhooks/in", max_body_size=4096)
    request = sign_request(hmac_verifier(), body, url=PUBLIC)
    scope = make_scope(request, chunked=not declare_length)
    response = run_asgi(middleware, scope, body, chunk_size=chunk_size)
    assert response is not None and response.status == 201
    assert inner.calls[0]["body"] == body
    assert inner.calls[0]["delivery"].request.body == body


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.binary(min_size=1, max_size=2000),
    chunk_size=st.integers(min_value=1, max_value=500),
    data=st.data(),
)
def test_property_a_disconnect_anywhere_dispatches_nothing(
    body: bytes, chunk_size: int, data: st.DataObject
) -> None:
    receiver, recorder = build()
    app = WebhookApp(receiver)
    request = token_request(body)
    chunks = -(-len(body) // chunk_size)
    after = data.draw(st.integers(min_value=0, max_value=chunks))
    response = run_asgi(
        app, make_scope(request), body, chunk_size=chunk_size, disconnect_after=after
    )
    assert response is None
    assert recorder.deliveries == []
