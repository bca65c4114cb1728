"""The WSGI adapters without a server: every branch of reading, answering and
handing on a delivery, driven by ``webhookverify.testing`` builders."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
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
    Headers,
    HmacVerifier,
    InvalidRequest,
    Receiver,
    TokenVerifier,
    WebhookRequest,
)
from webhookverify._adapter import read_headers
from webhookverify._body import parse_content_length
from webhookverify._options import DEFAULT_MAX_BODY_SIZE, AdapterOptions
from webhookverify._replies import Refused
from webhookverify.replay import MemoryReplayStore, Reservation
from webhookverify.testing import make_environ, run_wsgi, sign_request
from webhookverify.wsgi import WebhookApp, WebhookMiddleware, get_delivery

SECRET = "wsgi-test-secret"
PUBLIC = "https://hooks.example.test/webhooks/in?source=test&n=1"


def hmac_verifier() -> HmacVerifier:
    return HmacVerifier(secret=SECRET, header="X-Signature", encoding="base64")


def url_verifier() -> HmacVerifier:
    """Signs the URL too, as Twilio, Square and HubSpot do."""
    return HmacVerifier(secret=SECRET, header="X-Url-Signature", template="{url}\n{body}")


def token_verifier() -> TokenVerifier:
    """Signs nothing: a cut body would verify, so only the adapter stops it."""
    return TokenVerifier(secret="token-0123456789", header="X-Token")


class Recorder:
    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.fail_next = 0
        self.lock = threading.Lock()

    def __call__(self, delivery: Delivery) -> None:
        with self.lock:
            if self.fail_next:
                self.fail_next -= 1
                raise RuntimeError("listener failed")
            self.deliveries.append(delivery)

    @property
    def bodies(self) -> list[bytes]:
        return [d.request.body for d in self.deliveries]


def build(**receiver_options: Any) -> tuple[Receiver, Recorder]:
    handlers = [
        Handler("hmac", hmac_verifier(), user="bot"),
        Handler("url", url_verifier()),
        Handler("token", token_verifier(), replay="off"),
    ]
    bus = EventBus()
    recorder = Recorder()
    bus.bind("webhook.received", recorder)
    return Receiver(HandlerRegistry(handlers), bus, **receiver_options), recorder


@pytest.fixture
def endpoint() -> tuple[WebhookApp, Recorder]:
    receiver, recorder = build()
    return WebhookApp(receiver, max_body_size=1024), recorder


def signed(body: bytes = b'{"event":"ping"}', **kwargs: Any) -> WebhookRequest:
    return sign_request(hmac_verifier(), body, url=PUBLIC, **kwargs)


def token_request(body: bytes) -> WebhookRequest:
    return WebhookRequest("POST", PUBLIC, {"X-Token": "token-0123456789"}, body)


class Stream:
    """A wsgi.input that hands out at most ``step`` bytes a read and records reads."""

    def __init__(self, data: bytes, step: int = 1 << 30, fail_after: int | None = None) -> None:
        self.data = data
        self.step = step
        self.position = 0
        self.reads: list[int] = []
        self.fail_after = fail_after

    def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        if self.fail_after is not None and self.position >= self.fail_after:
            raise OSError("connection reset by peer")
        size = len(self.data) if size < 0 else size
        chunk = self.data[self.position : self.position + min(size, self.step)]
        self.position += len(chunk)
        return chunk


# -- the endpoint ----------------------------------------------------------------------


def test_valid_delivery_is_dispatched_with_everything_the_request_had(
    endpoint: tuple[WebhookApp, Recorder],
) -> None:
    app, recorder = endpoint
    request = signed()
    before = time.time()
    response = run_wsgi(app, make_environ(request, remote_addr="203.0.113.9"))
    assert response.status == 200
    assert response.headers["Content-Length"] == str(len(response.body))
    [delivery] = recorder.deliveries
    assert delivery.user == "bot"
    assert delivery.request.body == request.body
    assert delivery.request.method == "POST"
    assert delivery.request.url == PUBLIC
    assert delivery.request.remote_addr == "203.0.113.9"
    assert delivery.request.headers["X-Signature"] == request.headers["X-Signature"]
    assert delivery.request.headers["Content-Type"] == "application/json"
    assert before <= delivery.received_at <= time.time()


def test_environ_keys_that_are_not_str_are_not_headers(
    endpoint: tuple[WebhookApp, Recorder],
) -> None:
    # PEP 3333 keys are native strings; a middleware that breaks that must not
    # cost the delivery (it was answered 500 for a bytes key, a retry every time)
    app, recorder = endpoint
    request = signed()
    environ: dict[Any, Any] = make_environ(request)
    environ[b"HTTP_X_BYTES"] = "b"
    environ[7] = "number"
    response = run_wsgi(app, environ)
    assert response.status == 200
    [delivery] = recorder.deliveries
    assert delivery.request.headers["X-Signature"] == request.headers["X-Signature"]
    assert "X-Bytes" not in delivery.request.headers


def test_tampered_body_is_refused_and_not_dispatched(
    endpoint: tuple[WebhookApp, Recorder],
) -> None:
    app, recorder = endpoint
    request = signed(b'{"amount": 100}')
    response = run_wsgi(app, make_environ(request, body=b'{"amount": 900}'))
    assert response.status == 401
    assert response.body == b"webhook signature verification failed\n"
    assert recorder.deliveries == []


def test_duplicate_is_acknowledged_once_dispatched(endpoint: tuple[WebhookApp, Recorder]) -> None:
    app, recorder = endpoint
    request = signed()
    statuses = [run_wsgi(app, make_environ(request)).status for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert len(recorder.deliveries) == 1


def test_in_flight_delivery_answers_409_with_retry_after() -> None:
    store = MemoryReplayStore()
    receiver, recorder = build(replay_store=store, retry_after=11)
    request = signed()
    key, ttl = receiver._key(receiver.registry.verify(request))
    assert key is not None
    assert isinstance(store.reserve(key, ttl, 60), Reservation)  # another worker holds it
    response = run_wsgi(WebhookApp(receiver), make_environ(request))
    assert response.status == 409
    assert response.headers["Retry-After"] == "11"
    assert recorder.deliveries == []


def test_listener_failure_answers_500_and_the_retry_is_processed(
    endpoint: tuple[WebhookApp, Recorder],
) -> None:
    app, recorder = endpoint
    recorder.fail_next = 1
    request = signed()
    assert run_wsgi(app, make_environ(request)).status == 500
    assert run_wsgi(app, make_environ(request)).status == 200
    assert len(recorder.deliveries) == 1


def test_oversize_content_length_is_refused_before_reading(
    endpoint: tuple[WebhookApp, Recorder],
) -> None:
    app, recorder = endpoint
    stream = Stream(b"x" * 2000)
    environ = make_environ(signed(b"x" * 2000), **{"wsgi.input": stream})
    response = run_wsgi(app, environ)
    assert response.status == 413
    assert response.body == b"request body too large\n"
    assert stream.reads == []
    assert recorder.deliveries == []


def test_body_at_the_limit_is_accepted() -> None:
    receiver, recorder = build()
    body = b"y" * 1024
    response = run_wsgi(WebhookApp(receiver, max_body_size=1024), make_environ(signed(body)))
    assert response.status == 200
    assert recorder.bodies == [body]


def test_chunked_body_is_read_to_the_limit_when_input_is_terminated(
    endpoint: tuple[WebhookApp, Recorder],
) -> None:
    app, recorder = endpoint
    big = signed(b"z" * 5000)
    stream = Stream(big.body, step=100)
    environ = make_environ(big, chunked=True, input_terminated=True, **{"wsgi.input": stream})
    response = run_wsgi(app, environ)
    assert response.status == 413
    assert stream.position <= 1024 + 100  # never read much past the limit
    small = signed(b"z" * 500)
    environ = make_environ(small, chunked=True, **{"wsgi.input": Stream(small.body, step=7)})
    assert environ["wsgi.input_terminated"] is True
    assert run_wsgi(app, environ).status == 200
    assert recorder.bodies == [small.body]


def test_chunked_body_without_input_terminated_is_411(
    endpoint: tuple[WebhookApp, Recorder],
) -> None:
    app, recorder = endpoint
    response = run_wsgi(app, make_environ(signed(), chunked=True, input_terminated=False))
    assert response.status == 411
    assert recorder.deliveries == []


def test_no_length_and_no_transfer_encoding_means_an_empty_body(
    endpoint: tuple[WebhookApp, Recorder],
) -> None:
    app, recorder = endpoint
    empty = signed(b"")
    response = run_wsgi(app, make_environ(empty, content_length=None, input_terminated=False))
    assert response.status == 200
    assert recorder.bodies == [b""]


def test_a_content_length_of_zero_is_an_empty_body_read_without_touching_the_input(
    endpoint: tuple[WebhookApp, Recorder],
) -> None:
    app, recorder = endpoint
    stream = Stream(b"never read")
    environ = make_environ(signed(b""), content_length=0)
    environ["wsgi.input"] = stream
    response = run_wsgi(app, environ)
    assert response.status == 200
    assert recorder.bodies == [b""]
    assert stream.reads == []


@pytest.mark.parametrize(
    "value", ["abc", "-1", "+5", "1, 2", "0x10", "1.0", "\uff11", "5 5", ",", "1e3"]
)
def test_invalid_content_length_is_400(endpoint: tuple[WebhookApp, Recorder], value: str) -> None:
    app, recorder = endpoint
    response = run_wsgi(app, make_environ(token_request(b"hello"), content_length=value))
    assert response.status == 400
    assert response.body == b"malformed request\n"
    assert recorder.deliveries == []


@pytest.mark.parametrize("value", ["5", "005", "5, 5", " 5 "])
def test_equivalent_content_lengths_are_one(
    endpoint: tuple[WebhookApp, Recorder], value: str
) -> None:
    app, recorder = endpoint
    assert run_wsgi(app, make_environ(token_request(b"hello"), content_length=value)).status == 200
    assert recorder.bodies == [b"hello"]


def test_absurd_content_length_is_413_not_a_crash(endpoint: tuple[WebhookApp, Recorder]) -> None:
    app, _ = endpoint
    for value in ("9" * 19, "1" + "0" * 5000):
        assert run_wsgi(app, make_environ(token_request(b"x"), content_length=value)).status == 413


def test_truncated_body_is_400_and_never_dispatched(
    endpoint: tuple[WebhookApp, Recorder],
) -> None:
    app, recorder = endpoint
    # the token verifies whatever the body: only the length check stops the cut body
    response = run_wsgi(app, make_environ(token_request(b"cut short"), content_length=100))
    assert response.status == 400
    assert recorder.deliveries == []
    # a body longer than announced is cut by the server; what we read is all we use
    assert run_wsgi(app, make_environ(token_request(b"whole"), content_length=5)).status == 200
    assert recorder.bodies == [b"whole"]


def test_stream_failing_mid_body_is_400_and_never_dispatched(
    endpoint: tuple[WebhookApp, Recorder],
) -> None:
    app, recorder = endpoint
    request = token_request(b"a" * 600)
    stream = Stream(request.body, step=100, fail_after=300)
    response = run_wsgi(app, make_environ(request, **{"wsgi.input": stream}))
    assert response.status == 400
    assert recorder.deliveries == []


def test_wrong_method_is_405_with_allow(endpoint: tuple[WebhookApp, Recorder]) -> None:
    app, recorder = endpoint
    for method in ("GET", "PUT", "HEAD", "DELETE"):
        response = run_wsgi(app, make_environ(signed(), method=method))
        assert response.status == 405
        assert response.headers["Allow"] == "POST"
    assert recorder.deliveries == []
    receiver, recorder = build()
    both = WebhookApp(receiver, methods=("post", "PUT"))
    assert run_wsgi(both, make_environ(signed(), method="DELETE")).headers["Allow"] == "POST, PUT"
    put = sign_request(hmac_verifier(), b"{}", method="PUT", url=PUBLIC)
    assert run_wsgi(both, make_environ(put)).status == 200


@pytest.mark.parametrize(
    "extra",
    [
        {"HTTP_X_NOTE": "line\r\nInjected: 1"},
        {"HTTP_X_NOTE": "nul\x00"},
        {"HTTP_X_NOTE": "\x7f"},
        {"HTTP_HOST": "evil.example/path"},
        {"HTTP_HOST": "a.example, b.example"},
        {"HTTP_HOST": "user@a.example"},
    ],
)
def test_malformed_header_or_host_is_400(
    endpoint: tuple[WebhookApp, Recorder], extra: dict[str, str]
) -> None:
    app, recorder = endpoint
    response = run_wsgi(app, make_environ(signed(), **extra))
    assert response.status == 400
    assert recorder.deliveries == []


def test_a_bug_inside_answers_500_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Receiver):
        def receive(self, request: WebhookRequest, now: float | None = None) -> Any:
            raise KeyError("a bug")

    app = WebhookApp(Broken(HandlerRegistry()))
    with caplog.at_level(logging.ERROR, logger="webhookverify"):
        response = run_wsgi(app, make_environ(signed()))
    assert response.status == 500
    assert b"KeyError" not in response.body
    assert b"Traceback" not in response.body
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)


def test_repeated_headers_folded_by_the_server_reach_the_verifier(
    endpoint: tuple[WebhookApp, Recorder],
) -> None:
    app, recorder = endpoint
    request = signed()
    headers = [*request.headers.raw_items(), ("X-Trace", "a"), ("X-Trace", "b")]
    assert run_wsgi(app, make_environ(request, headers=headers)).status == 200
    assert recorder.deliveries[0].request.headers.get_all("X-Trace") == ("a, b",)


# -- URLs: the request's own, public_url, trusted proxies ------------------------------


def url_signed(url: str = PUBLIC) -> WebhookRequest:
    return sign_request(url_verifier(), b'{"n": 1}', url=url)


def internal(request: WebhookRequest, **extra: Any) -> dict[str, Any]:
    """The request as it reaches an app behind a proxy: plain HTTP, internal host."""
    environ = make_environ(request, url="http://app.internal:8000/webhooks/in?source=test&n=1")
    environ.update(extra)
    return environ


def test_url_is_rebuilt_from_the_request() -> None:
    receiver, recorder = build()
    app = WebhookApp(receiver)
    for url in (
        PUBLIC,
        "http://hooks.example.test:8080/webhooks/in",
        "https://hooks.example.test/caf%C3%A9/a%20b;p=1/@x",
        "http://[2001:db8::1]:8080/w?q=%2F",
    ):
        assert run_wsgi(app, make_environ(url_signed(url))).status == 200, url
    assert [d.request.url for d in recorder.deliveries][:2] == [
        PUBLIC,
        "http://hooks.example.test:8080/webhooks/in",
    ]


def test_url_without_host_header_uses_server_name_and_port() -> None:
    receiver, recorder = build()
    request = url_signed("http://hooks.example.test:8080/webhooks/in")
    environ = make_environ(request)
    del environ["HTTP_HOST"]
    assert run_wsgi(WebhookApp(receiver), environ).status == 200
    environ = make_environ(url_signed("https://hooks.example.test/webhooks/in"))
    del environ["HTTP_HOST"]
    assert run_wsgi(WebhookApp(receiver), environ).status == 200  # :443 left out
    assert recorder.deliveries[1].request.url == "https://hooks.example.test/webhooks/in"


def test_script_name_is_part_of_the_url() -> None:
    receiver, recorder = build()
    request = url_signed("https://hooks.example.test/app/webhooks/in")
    environ = make_environ(request, script_name="/app")
    assert environ["PATH_INFO"] == "/webhooks/in"
    assert run_wsgi(WebhookApp(receiver), environ).status == 200


def test_raw_uri_keeps_escapes_that_requoting_would_change() -> None:
    receiver, recorder = build()
    # %7E is "~": decoded into PATH_INFO, re-quoting gives "~", not what was signed
    request = url_signed("https://hooks.example.test/webhooks/%7Euser")
    app = WebhookApp(receiver)
    assert run_wsgi(app, make_environ(request)).status == 401
    environ = make_environ(request, RAW_URI="/webhooks/%7Euser")
    assert run_wsgi(app, environ).status == 200
    # a raw URI that disagrees with PATH_INFO (rewritten by a middleware) is not used
    environ = make_environ(request, RAW_URI="/elsewhere")
    assert run_wsgi(app, environ).status == 401


def test_public_url_is_a_base_the_path_and_query_are_appended_to() -> None:
    receiver, recorder = build()
    request = url_signed()
    assert run_wsgi(WebhookApp(receiver), internal(request)).status == 401
    app = WebhookApp(receiver, public_url="https://hooks.example.test/")
    assert run_wsgi(app, internal(request)).status == 200
    assert recorder.deliveries[0].request.url == PUBLIC
    # a proxy that strips a prefix: the prefix goes in the base
    prefixed = url_signed("https://hooks.example.test/api/webhooks/in?source=test&n=1")
    app = WebhookApp(receiver, public_url="https://hooks.example.test/api")
    assert run_wsgi(app, internal(prefixed)).status == 200


def test_forwarded_headers_are_ignored_by_default_and_from_untrusted_peers() -> None:
    receiver, recorder = build()
    request = url_signed()
    forwarded = {
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_HOST": "hooks.example.test",
        "HTTP_X_FORWARDED_FOR": "198.51.100.7",
    }
    assert run_wsgi(WebhookApp(receiver), internal(request, **forwarded)).status == 401
    app = WebhookApp(receiver, trusted_proxies=["10.0.0.0/8"])
    untrusted = internal(request, REMOTE_ADDR="192.0.2.1", **forwarded)
    assert run_wsgi(app, untrusted).status == 401
    trusted = internal(request, REMOTE_ADDR="10.1.2.3", **forwarded)
    assert run_wsgi(app, trusted).status == 200
    assert recorder.deliveries[0].request.url == PUBLIC
    assert recorder.deliveries[0].request.remote_addr == "198.51.100.7"


def test_client_is_found_from_the_right_skipping_trusted_hops() -> None:
    receiver, recorder = build(replay_store=MemoryReplayStore())
    app = WebhookApp(receiver, trusted_proxies=["10.0.0.0/8", "127.0.0.1", "::1"])

    def client(xff: str, peer: str = "10.0.0.2") -> str | None:
        request = signed(body=xff.encode() + peer.encode())
        environ = make_environ(request, REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=xff)
        assert run_wsgi(app, environ).status == 200
        return recorder.deliveries[-1].request.remote_addr

    # a client may prepend anything; only what trusted hops appended counts
    assert client("6.6.6.6, 198.51.100.7, 10.0.0.9") == "198.51.100.7"
    assert client("198.51.100.7:4711") == "198.51.100.7"
    assert client("[2001:db8::7]:4711, 10.0.0.1") == "2001:db8::7"
    assert client("unknown, 10.0.0.1") == "unknown"
    assert client("10.0.0.3, 10.0.0.1") == "10.0.0.3"  # every hop trusted: the leftmost
    assert client("198.51.100.7", peer="::ffff:127.0.0.1") == "198.51.100.7"
    assert client("198.51.100.7", peer="192.0.2.50") == "192.0.2.50"  # untrusted peer


def test_appended_proto_and_host_lists_use_the_outermost_trusted_hop() -> None:
    receiver, recorder = build()
    app = WebhookApp(receiver, trusted_proxies=["10.0.0.0/8"])
    request = url_signed()
    # the client forged "http"/"evil" first; the edge proxy (10.0.0.5) appended its view,
    # the inner proxy appended "http" (its hop to us)
    environ = internal(
        request,
        REMOTE_ADDR="10.0.0.6",
        HTTP_X_FORWARDED_FOR="198.51.100.7, 10.0.0.5",
        HTTP_X_FORWARDED_PROTO="http, https, http",
        HTTP_X_FORWARDED_HOST="evil.example, hooks.example.test, app.internal:8000",
    )
    assert run_wsgi(app, environ).status == 200
    # a proxy that overwrites instead: one value, used whatever the hop count
    environ = internal(
        url_signed(PUBLIC + "&again=1"),
        REMOTE_ADDR="10.0.0.6",
        QUERY_STRING="source=test&n=1&again=1",
        HTTP_X_FORWARDED_FOR="198.51.100.7, 10.0.0.5",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="hooks.example.test",
    )
    assert run_wsgi(app, environ).status == 200
    # invalid values from a trusted proxy are ignored, not used
    environ = internal(
        request,
        REMOTE_ADDR="10.0.0.6",
        HTTP_X_FORWARDED_PROTO="javascript",
        HTTP_X_FORWARDED_HOST="a b",
    )
    assert run_wsgi(app, environ).status == 401


def test_rfc7239_forwarded_header() -> None:
    receiver, recorder = build(replay_store=MemoryReplayStore())
    app = WebhookApp(receiver, trusted_proxies=["10.0.0.0/8"], proxy_headers="forwarded")
    request = url_signed()
    header = 'for=6.6.6.6;proto=http;host=evil.example, for="198.51.100.7:99";proto=https;host=hooks.example.test, for=10.0.0.5'
    environ = internal(request, REMOTE_ADDR="10.0.0.6", HTTP_FORWARDED=header)
    assert run_wsgi(app, environ).status == 200
    assert recorder.deliveries[-1].request.remote_addr == "198.51.100.7"
    # X-Forwarded-* is not read in this mode, so a client cannot smuggle it in
    xff = internal(
        url_signed(PUBLIC + "&x=1"),
        QUERY_STRING="source=test&n=1&x=1",
        REMOTE_ADDR="10.0.0.6",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="hooks.example.test",
    )
    assert run_wsgi(app, xff).status == 401
    # IPv6 in quotes, and a trusted hop that does not say who connected stops the walk
    v6 = internal(
        url_signed(PUBLIC + "&v6=1"),
        QUERY_STRING="source=test&n=1&v6=1",
        REMOTE_ADDR="10.0.0.6",
        HTTP_FORWARDED='for="[2001:db8::9]";proto=https;host="hooks.example.test"',
    )
    assert run_wsgi(app, v6).status == 200
    assert recorder.deliveries[-1].request.remote_addr == "2001:db8::9"
    # a malformed element written by the trusted proxy: the header is not used
    broken = internal(request, REMOTE_ADDR="10.0.0.6", HTTP_FORWARDED='for="unterminated')
    assert run_wsgi(app, broken).status == 401


def test_unix_socket_proxy_can_be_trusted() -> None:
    receiver, recorder = build()
    request = url_signed()
    forwarded = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "hooks.example.test"}
    environ = internal(request, **forwarded)
    del environ["REMOTE_ADDR"]
    assert run_wsgi(WebhookApp(receiver, trusted_proxies=["127.0.0.1"]), environ).status == 401
    environ = internal(request, **forwarded)
    del environ["REMOTE_ADDR"]
    assert run_wsgi(WebhookApp(receiver, trusted_proxies=["unix"]), environ).status == 200


# -- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "names"),
    [
        ({"max_body_size": 0}, "max_body_size"),
        ({"max_body_size": -5}, "max_body_size"),
        ({"max_body_size": True}, "max_body_size"),
        ({"max_body_size": "1024"}, "max_body_size"),
        ({"methods": "POST"}, "methods"),
        ({"methods": []}, "methods"),
        ({"methods": ["P OST"]}, "methods"),
        ({"public_url": "ftp://hooks.example.test"}, "public_url"),
        ({"public_url": "https://hooks.example.test/?a=1"}, "public_url"),
        ({"public_url": "hooks.example.test"}, "public_url"),
        ({"public_url": "https://a b"}, "public_url"),
        ({"public_url": "https://[::1"}, "public_url"),  # urlsplit: "Invalid IPv6 URL"
        ({"public_url": 5}, "public_url"),
        ({"trusted_proxies": "10.0.0.0/8"}, "trusted_proxies"),
        ({"trusted_proxies": ["localhost"]}, "trusted_proxies"),
        ({"trusted_proxies": ["10.0.0.1/8"]}, "trusted_proxies"),
        ({"trusted_proxies": [42]}, "trusted_proxies"),
        ({"proxy_headers": "x-real-ip"}, "proxy_headers"),
    ],
)
def test_configuration_is_checked_at_construction(options: dict[str, Any], names: str) -> None:
    receiver, _ = build()
    with pytest.raises(ConfigurationError, match=names):
        WebhookApp(receiver, **options)
    with pytest.raises(ConfigurationError, match=names):
        WebhookMiddleware(lambda e, s: [], receiver, **options)


def test_middleware_configuration_is_checked() -> None:
    receiver, _ = build()

    def app(environ: Any, start_response: Any) -> list[bytes]:
        return []

    for kwargs in (
        {"path": "webhooks"},
        {"path": "/a", "paths": ["/b"]},
        {"paths": []},
        {"paths": "/webhooks"},
        {"path": "/a?b"},
        {"passthrough_methods": ["POST"]},
    ):
        with pytest.raises(ConfigurationError):
            WebhookMiddleware(app, receiver, **kwargs)
    with pytest.raises(ConfigurationError):
        WebhookMiddleware(object(), receiver)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        WebhookApp(object())  # type: ignore[arg-type]
    assert WebhookApp(receiver).options.max_body_size == DEFAULT_MAX_BODY_SIZE == 1 << 20
    mw = WebhookMiddleware(app, receiver, paths=["/a", "/b"], trusted_proxies=["::1", "unix"])
    assert "/a" in mw.paths
    assert "paths=['/a', '/b']" in repr(mw)


# -- the middleware ----------------------------------------------------------------------


class Inner:
    """A WSGI app that records what it was given and answers as told."""

    def __init__(self, status: str = "201 Created", body: bytes = b"handled\n") -> None:
        self.calls: list[dict[str, Any]] = []
        self.status = status
        self.body = body
        self.raise_next = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH")
        body = environ["wsgi.input"].read(int(length)) if length else b""
        self.calls.append(
            {
                "environ": environ,
                "body": body,
                "rest": environ["wsgi.input"].read(),
                "length": length,
                "delivery": get_delivery(environ),
            }
        )
        if self.raise_next:
            self.raise_next -= 1
            raise RuntimeError("the app failed")
        start_response(self.status, [("Content-Type", "text/plain"), ("X-App", "yes")])
        return [self.body[:3], self.body[3:]]


def wrapped(
    inner: Inner | None = None, **options: Any
) -> tuple[WebhookMiddleware, Inner, Recorder]:
    receiver, recorder = build()
    inner = inner or Inner()
    return WebhookMiddleware(inner, receiver, **options), inner, recorder


def test_middleware_hands_the_exact_body_and_the_delivery_to_the_app() -> None:
    middleware, inner, recorder = wrapped(path="/webhooks/in")
    request = signed(b'{"x": "\xc3\xa9\x00\xff"}')
    response = run_wsgi(middleware, make_environ(request))
    assert (response.status, response.body) == (201, b"handled\n")
    assert response.headers["X-App"] == "yes"
    [call] = inner.calls
    assert call["body"] == request.body
    assert call["rest"] == b""
    assert call["length"] == str(len(request.body))
    assert call["delivery"].request.body == request.body
    assert recorder.deliveries == []  # the app is the dispatch, not the bus's listeners


def test_middleware_replays_a_chunked_body_with_a_correct_length() -> None:
    middleware, inner, _ = wrapped(path="/webhooks/in")
    request = signed(b"[" + b"1," * 300 + b"1]")
    environ = make_environ(request, chunked=True, **{"wsgi.input": Stream(request.body, step=64)})
    assert run_wsgi(middleware, environ).status == 201
    assert inner.calls[0]["body"] == request.body
    assert inner.calls[0]["length"] == str(len(request.body))


def test_middleware_passes_other_paths_through_untouched() -> None:
    middleware, inner, recorder = wrapped(path="/webhooks/in")
    environ = make_environ(url="http://app.test/other", body=b"not a webhook")
    stream = environ["wsgi.input"]
    response = run_wsgi(middleware, environ)
    assert response.status == 201
    [call] = inner.calls
    assert call["environ"] is environ
    assert call["environ"]["wsgi.input"] is stream
    assert call["body"] == b"not a webhook"
    assert call["delivery"] is None
    assert recorder.deliveries == []


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (lambda: signed(b'{"a": 1}').replace(body=b'{"a": 2}'), 401),
        (lambda: signed(method="GET"), 405),
        (lambda: signed(b"x" * 5000), 413),
    ],
)
def test_middleware_answers_refusals_itself(
    make: Callable[[], WebhookRequest], status: int
) -> None:
    middleware, inner, recorder = wrapped(path="/webhooks/in", max_body_size=4096)
    response = run_wsgi(middleware, make_environ(make()))
    assert response.status == status
    assert inner.calls == []
    assert recorder.deliveries == []


def test_middleware_duplicate_is_acknowledged_without_calling_the_app() -> None:
    middleware, inner, _ = wrapped(path="/webhooks/in")
    request = signed()
    first = run_wsgi(middleware, make_environ(request))
    again = run_wsgi(middleware, make_environ(request))
    assert (first.status, again.status) == (201, 200)
    assert again.body == b""
    assert len(inner.calls) == 1


def test_app_failure_is_500_and_the_retry_reaches_the_app() -> None:
    middleware, inner, recorder = wrapped(path="/webhooks/in")
    inner.raise_next = 1
    request = signed()
    failed = run_wsgi(middleware, make_environ(request))
    assert failed.status == 500
    assert b"the app failed" not in failed.body
    retried = run_wsgi(middleware, make_environ(request))
    assert retried.status == 201
    assert len(inner.calls) == 2
    replayed = run_wsgi(middleware, make_environ(request))
    assert replayed.status == 200
    assert len(inner.calls) == 2


def test_app_5xx_releases_the_key_and_the_sender_gets_it() -> None:
    inner = Inner(status="503 Service Unavailable", body=b"busy\n")
    middleware, inner, _ = wrapped(inner, path="/webhooks/in")
    request = signed()
    response = run_wsgi(middleware, make_environ(request))
    assert (response.status, response.body) == (503, b"busy\n")
    inner.status, inner.body = "200 OK", b"ok"
    assert run_wsgi(middleware, make_environ(request)).status == 200
    assert len(inner.calls) == 2


def test_app_4xx_releases_the_key_and_the_retry_reaches_the_app() -> None:
    inner = Inner(status="422 Unprocessable Entity", body=b"no\n")
    middleware, inner, _ = wrapped(inner, path="/webhooks/in")
    request = signed()
    assert run_wsgi(middleware, make_environ(request)).status == 422
    inner.status = "200 OK"
    assert run_wsgi(middleware, make_environ(request)).status == 200  # the retry ran the app
    assert run_wsgi(middleware, make_environ(request)).body == b""  # a duplicate now
    assert len(inner.calls) == 2


def test_the_app_is_the_dispatch_and_bus_listeners_are_not_called() -> None:
    middleware, inner, recorder = wrapped(path="/webhooks/in")
    recorder.fail_next = 1
    request = signed()
    assert run_wsgi(middleware, make_environ(request)).status == 201
    assert run_wsgi(middleware, make_environ(request)).status == 200  # a duplicate
    assert len(inner.calls) == 1
    assert recorder.deliveries == []


def test_passthrough_methods_reach_the_app_unverified_without_a_delivery() -> None:
    middleware, inner, _ = wrapped(path="/webhooks/in", passthrough_methods=["GET"])
    environ = make_environ(
        url="https://hooks.example.test/webhooks/in?hub.challenge=42", method="GET"
    )
    assert run_wsgi(middleware, environ).status == 201
    assert inner.calls[0]["delivery"] is None
    assert run_wsgi(middleware, make_environ(signed(method="PUT"))).status == 405


def test_middleware_paths_and_the_same_receiver_for_two_middlewares() -> None:
    receiver, recorder = build()
    second = Inner()
    app = WebhookMiddleware(
        WebhookMiddleware(second, receiver, paths=["/b"]), receiver, paths=["/a", "/a2"]
    )
    # the outer middleware wraps the inner one: /a and /a2 are the outer's,
    # /b the inner's, and each runs its own app only
    request_b = sign_request(hmac_verifier(), b"b", url="https://h.example.test/b")
    assert run_wsgi(app, make_environ(request_b)).status == 201
    assert [c["body"] for c in second.calls] == [b"b"]
    assert second.calls[0]["delivery"].request.body == b"b"
    request_a = sign_request(hmac_verifier(), b"a", url="https://h.example.test/a2")
    response = run_wsgi(app, make_environ(request_a))
    # /a2 is the outer's: it hands the delivery to its app, the inner middleware,
    # which passes the path through to `second`
    assert response.status == 201
    assert [c["body"] for c in second.calls] == [b"b", b"a"]
    assert second.calls[1]["delivery"].request.body == b"a"
    assert recorder.bodies == []


def test_endpoint_and_middleware_share_a_receiver() -> None:
    receiver, recorder = build()
    inner = Inner()
    middleware = WebhookMiddleware(inner, receiver, path="/webhooks/in")
    endpoint = WebhookApp(receiver)
    assert run_wsgi(endpoint, make_environ(signed(b"1"))).status == 200
    assert inner.calls == []  # the endpoint's deliveries go to the bus only
    assert run_wsgi(middleware, make_environ(signed(b"2"))).status == 201
    assert recorder.bodies == [b"1"]  # the middleware's go to its app only


def test_app_that_never_starts_a_response_is_a_failure() -> None:
    receiver, _ = build()

    def silent(environ: Any, start_response: Any) -> list[bytes]:
        return []

    middleware = WebhookMiddleware(silent, receiver, path="/webhooks/in")
    assert run_wsgi(middleware, make_environ(signed())).status == 500


# -- properties --------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.binary(max_size=3000), step=st.integers(min_value=1, max_value=4096))
def test_property_any_body_any_read_size_reaches_the_app_exactly(body: bytes, step: int) -> None:
    middleware, inner, recorder = wrapped(path="/webhooks/in", max_body_size=4096)
    request = sign_request(hmac_verifier(), body, url=PUBLIC)
    environ = make_environ(request, **{"wsgi.input": Stream(body, step=step)})
    response = run_wsgi(middleware, environ)
    assert response.status == 201
    assert inner.calls[0]["body"] == body
    assert inner.calls[0]["delivery"].request.body == body


def rfc9110_content_length(values: list[str], limit: int) -> int | str | None:
    """The reference: RFC 9110 §8.6 read plainly (an int, None when absent, or a status)."""
    if len(values) == 1 and "," not in values[0] and not values[0].strip(" \t"):
        return None
    items = [item.strip(" \t") for value in values for item in value.split(",")]
    if not all(re.fullmatch(r"[0-9]+", item) for item in items):
        return "400"
    if len({int(item) for item in items}) != 1:
        return "400"
    return "413" if int(items[0]) > limit else int(items[0])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet="0123456789 ,\t+-x\u0661", max_size=8),
            # around the 18 digits read without stripping leading zeros
            st.sampled_from(["0" * 25 + "7", "9" * 18, "0" + "9" * 18, "1" + "0" * 18]),
        ),
        min_size=1,
        max_size=3,
    ),
    st.integers(min_value=1, max_value=10**6),
)
def test_property_content_length_parsing_follows_rfc9110(values: list[str], limit: int) -> None:
    expected = rfc9110_content_length(values, limit)
    if isinstance(expected, str):
        with pytest.raises(Refused) as info:
            parse_content_length(values, limit)
        assert str(info.value.reply.status) == expected
    else:
        assert parse_content_length(values, limit) == expected


# Valid fields (realistic names with repeats and case variants, any token,
# any latin-1 value), then at most one character that HTTP does not allow.
_names = st.one_of(
    st.sampled_from(["Host", "X-Signature", "x-signature", "Content-Type", "A", "X-Trace"]),
    st.text(alphabet="abcXYZ019-_!~#$%&'*+.^`|", min_size=1, max_size=5),
)
_values = st.text(
    alphabet=st.one_of(st.just("\t"), st.characters(min_codepoint=0x20, max_codepoint=0xFF)),
    max_size=10,
).map(lambda v: v.replace("\x7f", "~"))
_bad = st.sampled_from(["\x00", "\x7f", "\r", "\n", "\x1f", "\u0100", " ", ":", "\xe9", ","])


def corrupt(pairs: list[tuple[str, str]], where: tuple[int, bool, str, int] | None) -> Any:
    if where is None or not pairs:
        return pairs
    index, in_name, char, position = where
    name, value = pairs[index % len(pairs)]
    if in_name:
        name = name[: position % (len(name) + 1)] + char + name[position % (len(name) + 1) :]
    else:
        value = value[: position % (len(value) + 1)] + char + value[position % (len(value) + 1) :]
    changed = list(pairs)
    changed[index % len(pairs)] = (name, value)
    return changed


def parse_headers(raw: Any) -> Headers:
    return read_headers(AdapterOptions.build("test"), raw)


def refusal(raw: Any) -> int | None:
    """The status parse_headers refuses ``raw`` with, or None if it takes it."""
    try:
        parse_headers(raw)
    except Refused as refused:
        return refused.reply.status
    return None


@settings(max_examples=300, deadline=None)
@given(
    pairs=st.lists(st.tuples(_names, _values), max_size=6),
    where=st.none() | st.tuples(st.integers(0, 5), st.booleans(), _bad, st.integers(0, 12)),
    as_bytes=st.booleans(),
)
def test_property_adapter_headers_are_what_headers_builds(
    pairs: list[tuple[str, str]], where: tuple[int, bool, str, int] | None, as_bytes: bool
) -> None:
    """The adapters build exactly what Headers(...) builds, or refuse with 400."""
    raw: list[Any] = corrupt(pairs, where)
    if as_bytes:
        try:
            raw = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in raw]
        except UnicodeEncodeError:
            raw = [(n.encode(), v.encode()) for n, v in raw]
    try:
        expected: Headers | None = Headers(raw)
    except InvalidRequest:
        expected = None
    if expected is None:
        assert refusal(raw) == 400
    else:
        got = parse_headers(raw)
        assert got.raw_items() == expected.raw_items()
        assert got == expected
        assert list(got) == list(expected)
        for name, _ in expected.raw_items():
            assert got.get_all(name) == expected.get_all(name)
            assert got[name.upper()] == expected[name]


# -- headers and URLs from the environ ---------------------------------------------------


environ_headers = st.dictionaries(
    st.sampled_from(
        [
            *("HTTP_HOST", "HTTP_X_A", "HTTP_X_B_C", "CONTENT_TYPE", "CONTENT_LENGTH"),
            "HTTP_USER_AGENT",
            # keys next to the HTTP_ prefix in sort order
            *("HTTP", "HTTP^X", "HTTP`X", "HTTPS", "http_x", "HTTP_"),
        ]
    ),
    st.text(alphabet="ab 1/", max_size=4),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(first=environ_headers, second=environ_headers, extra=st.booleans())
def test_property_headers_are_the_environs(
    first: dict[str, str], second: dict[str, str], extra: bool
) -> None:
    """Every HTTP_* key is a header, and an empty CONTENT_TYPE or CONTENT_LENGTH is absent."""
    from webhookverify import _wsgi_io

    def expected(environ: dict[str, Any]) -> list[tuple[str, str]]:
        found = []
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                found.append((key[5:].replace("_", "-").title(), value))
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                found.append((key.replace("_", "-").title(), environ[key]))
        return found

    for values in (first, {key: second.get(key, "x") for key in first}):
        environ: dict[str, Any] = {"REQUEST_METHOD": "POST", **values}
        if extra:
            environ["wsgi.url_scheme"] = "http"
        assert tuple(_wsgi_io.header_pairs(environ)) == tuple(expected(environ))


def test_paths_and_urls_are_built_from_the_environ() -> None:
    from webhookverify import _wsgi_io

    receiver, recorder = build()
    app = WebhookApp(receiver)
    for attempt in range(2):
        request = signed(b"%d" % attempt)
        assert run_wsgi(app, make_environ(request)).status == 200
        assert run_wsgi(app, make_environ(request, HTTP_X_NOTE="nul\x00")).status == 400
        broken = make_environ(request)
        broken["HTTP_X_NOTE"] = b"\x00"  # not a PEP 3333 native string, nor a valid value
        assert run_wsgi(app, broken).status == 400
    long_path = "/" + "p" * 300
    assert _wsgi_io.path({"PATH_INFO": long_path}) == long_path
    # not latin-1 (no PEP 3333 server sends it): quoted from UTF-8, never a crash
    assert _wsgi_io.path({"PATH_INFO": "/caf\u20ac"}) == "/caf%E2%82%AC"
    assert len(recorder.deliveries) == 2
    # the same Host and path under another SCRIPT_NAME, query or scheme: other URLs
    base = url_signed("https://hooks.example.test/webhooks/in?n=1")
    for url, extra in (
        ("https://hooks.example.test/webhooks/in?n=1", {}),
        ("https://hooks.example.test/webhooks/in?n=2", {}),
        ("http://hooks.example.test/webhooks/in?n=1", {}),
        ("https://hooks.example.test/api/webhooks/in?n=1", {"SCRIPT_NAME": "/api"}),
    ):
        request = url_signed(url)
        environ = make_environ(request, **extra)
        if extra:
            environ["PATH_INFO"] = "/webhooks/in"
            environ["RAW_URI"] = "/api/webhooks/in?n=1"
        assert run_wsgi(app, environ).status == 200, url
        assert recorder.deliveries[-1].request.url == url
    assert base.url == recorder.deliveries[-4].request.url


@pytest.mark.parametrize("step", [1, 7, 1024, 1 << 30])
def test_a_body_read_in_one_piece_or_many_is_the_same(step: int) -> None:
    receiver, recorder = build()
    body = bytes(range(256)) * 4
    request = signed(body)
    environ = make_environ(request)
    environ["wsgi.input"] = Stream(body, step=step)
    assert run_wsgi(WebhookApp(receiver), environ).status == 200
    assert recorder.deliveries[0].request.body == body
    assert type(recorder.deliveries[0].request.body) is bytes


def test_an_environ_without_any_header_is_read_as_no_headers() -> None:
    """An HTTP/1.0 request may carry no header at all, not even Host."""
    from webhookverify import _wsgi_io

    assert _wsgi_io.header_pairs({"REQUEST_METHOD": "POST", "SERVER_NAME": "a.test"}) == []
    receiver, recorder = build()
    environ = make_environ(signed())
    for key in [k for k in environ if k.startswith(("HTTP_", "CONTENT_"))]:
        del environ[key]
    response = run_wsgi(WebhookApp(receiver), environ)
    assert response.status == 401  # nothing to verify it with: refused, not a crash
    assert recorder.deliveries == []


# -- the URL is built only for a scheme that signs it ------------------------------------


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_the_url_is_built_only_when_a_verifier_reads_it(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webhookverify import _adapter, asgi
    from webhookverify.testing import make_scope, run_asgi

    built: list[str] = []
    plain_url = _adapter.request_url

    def counted(*args: Any) -> str:
        built.append(url := plain_url(*args))
        return url

    monkeypatch.setattr(_adapter, "request_url", counted)
    receiver, recorder = build()
    app: Any = WebhookApp(receiver) if kind == "wsgi" else asgi.WebhookApp(receiver)

    def status(request: WebhookRequest, host: str | None = None) -> int:
        if kind == "wsgi":
            environ = make_environ(request)
            if host is not None:
                environ["HTTP_HOST"] = host
            return run_wsgi(app, environ).status
        scope = make_scope(request)
        if host is not None:
            scope["headers"] = [h for h in scope["headers"] if h[0] != b"host"]
            scope["headers"].append((b"host", host.encode("latin-1")))
        response = run_asgi(app, scope, request.body)
        assert response is not None
        return response.status

    assert status(signed()) == 200  # an HMAC over the body only: no URL built
    assert built == []
    signed_url = url_signed()
    assert status(signed_url) == 200  # a scheme that signs the URL: built once, as sent
    assert built == [signed_url.url] == [recorder.deliveries[-1].request.url]
    # a malformed Host is refused before any handler, whichever would verify it
    assert status(url_signed("https://hooks.example.test/webhooks/in?n=2"), "a b") == 400
    assert status(signed(b"other"), "evil.example/path") == 400
    assert len(recorder.deliveries) == 2
