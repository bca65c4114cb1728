"""Headers: linear construction, the adapters' header limits (431), equality
that agrees with hashing, and a ``repr`` that never shows a signature or a
credential."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webhookverify import (
    ConfigurationError,
    EventBus,
    Handler,
    HandlerRegistry,
    Headers,
    Receiver,
    WebhookRequest,
    asgi,
    presets,
    wsgi,
)
from webhookverify.replay import MemoryReplayStore
from webhookverify.testing import make_environ, make_scope, run_asgi, run_wsgi, sign_request

from _fetched_cases import FETCHED, fetched_request, fetched_verifier

NOW = 1_700_000_000
URL = "https://hooks.example.test/webhooks"

# -- linear construction -------------------------------------------------------------


def test_many_repeats_of_one_name_keep_every_value() -> None:
    """Repeats group their values once each (benchmarks/bench_headers.py shows
    the cost growing linearly: 25 times the fields, about 25 times the time)."""
    pairs = [("X-A", str(i % 10)) for i in range(50_000)]
    headers = Headers(pairs)
    assert headers.get_all("x-a") == tuple(str(i % 10) for i in range(50_000))
    assert len(headers) == 1


def test_repeated_names_keep_every_value_in_order() -> None:
    pairs = [("X-A" if i % 2 else "x-a", str(i)) for i in range(1000)] + [("Host", "h")]
    headers = Headers(pairs)
    assert headers.get_all("X-A") == tuple(str(i) for i in range(1000))
    assert headers.by_name["host"] == ("h",)
    assert headers.raw_items() == tuple(pairs)
    assert list(headers) == ["x-a", "Host"]


# -- equality and hashing --------------------------------------------------------------


def test_equal_headers_hash_alike_whatever_the_name_case() -> None:
    upper, lower = Headers([("X-A", "1"), ("Host", "h")]), Headers([("x-a", "1"), ("host", "h")])
    assert upper == lower
    assert hash(upper) == hash(lower)
    assert len({upper, lower}) == 1
    assert Headers([("X-A", "1"), ("X-A", "2")]) != Headers([("X-A", "2"), ("X-A", "1")])


@given(
    st.lists(
        st.tuples(st.sampled_from(["X-A", "x-a", "X-B", "host", "HOST"]), st.sampled_from("12")),
        max_size=6,
    ),
    st.lists(
        st.tuples(st.sampled_from(["X-A", "x-a", "X-B", "host", "HOST"]), st.sampled_from("12")),
        max_size=6,
    ),
)
def test_property_equal_means_same_hash(
    first: list[tuple[str, str]], second: list[tuple[str, str]]
) -> None:
    a, b = Headers(first), Headers(second)
    if a == b:
        assert hash(a) == hash(b)
    expected = {n.lower() for n, _ in first} == {n.lower() for n, _ in second} and all(
        a.get_all(n) == b.get_all(n) for n, _ in first
    )
    assert (a == b) == expected


# -- the adapters' header limits -------------------------------------------------------

SECRET = "a-shared-secret-for-the-tests-0123"


def _receiver() -> Receiver:
    registry = HandlerRegistry([Handler("github", presets.github(secret=SECRET))])
    return Receiver(registry, EventBus(), replay_store=MemoryReplayStore())


def _signed(extra: list[tuple[str, str]]) -> tuple[WebhookRequest, list[tuple[str, str]]]:
    request = sign_request(presets.github(secret=SECRET), b'{"n":1}', url=URL)
    return request, [*request.headers.raw_items(), *extra]


def _environ(request: WebhookRequest, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    environ = make_environ(request, headers=[])
    for name, value in pairs:
        key = "HTTP_" + name.upper().replace("-", "_")
        environ["CONTENT_TYPE" if key == "HTTP_CONTENT_TYPE" else key] = value
    return environ


def _wsgi_fields(request: WebhookRequest, pairs: list[tuple[str, str]]) -> int:
    environ = _environ(request, pairs)
    return sum(
        1 for k, v in environ.items() if k.startswith("HTTP_") or (k.startswith("CONTENT_") and v)
    )


def _wsgi_status(app: Any, request: WebhookRequest, pairs: list[tuple[str, str]]) -> int:
    return run_wsgi(app, _environ(request, pairs)).status


def _asgi_fields(request: WebhookRequest, pairs: list[tuple[str, str]]) -> int:
    return len(make_scope(request, headers=pairs)["headers"])


def _asgi_status(app: Any, request: WebhookRequest, pairs: list[tuple[str, str]]) -> int:
    return run_asgi(app, make_scope(request, headers=pairs), request.body).status


ADAPTERS = [
    pytest.param(wsgi.WebhookApp, _wsgi_status, _wsgi_fields, id="wsgi"),
    pytest.param(asgi.WebhookApp, _asgi_status, _asgi_fields, id="asgi"),
]


@pytest.mark.parametrize(("adapter", "status_of", "fields_of"), ADAPTERS)
def test_too_many_header_fields_answer_431(adapter: Any, status_of: Any, fields_of: Any) -> None:
    app = adapter(_receiver())
    limit = 100  # the default: gunicorn's
    for extra, status in ((0, 200), (1, 431), (1000, 431)):
        request, pairs = _signed([])
        room = limit - fields_of(request, pairs) + extra
        pairs += [(f"X-Extra-{i}", "1") for i in range(room)]
        assert fields_of(request, pairs) == limit + extra
        assert status_of(app, request, pairs) == status


@pytest.mark.parametrize(("adapter", "status_of", "fields_of"), ADAPTERS)
def test_header_bytes_past_the_limit_answer_431(
    adapter: Any, status_of: Any, fields_of: Any
) -> None:
    app = adapter(_receiver(), max_header_bytes=4096)
    request, pairs = _signed([("X-Pad", "p" * 2000)])
    assert status_of(app, request, pairs) == 200
    request, pairs = _signed([("X-Pad", "p" * 2000), ("X-More", "m" * 2000)])
    assert status_of(app, request, pairs) == 431


@pytest.mark.parametrize(("adapter", "status_of", "fields_of"), ADAPTERS)
def test_the_count_is_checked_before_any_field(
    adapter: Any, status_of: Any, fields_of: Any
) -> None:
    """Past the count, even a field HTTP does not allow is not looked at: 431, not 400."""
    app = adapter(_receiver(), max_header_count=10)
    request, pairs = _signed([("X-Bad", "nul\x00")])
    assert status_of(app, request, pairs) == 400  # within the count: checked, refused
    request, pairs = _signed([("X-Bad", "nul\x00")] + [(f"X-{i}", "1") for i in range(10)])
    assert status_of(app, request, pairs) == 431


def test_431_names_its_reason_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    app = asgi.WebhookApp(_receiver(), max_header_count=5, max_header_bytes=1024)
    request, pairs = _signed([(f"X-{i}", "1") for i in range(10)])
    with caplog.at_level(logging.INFO, logger="webhookverify"):
        response = run_asgi(app, make_scope(request, headers=pairs), request.body)
    assert (response.status, response.body) == (431, b"request header fields too large\n")
    request, pairs = _signed([("X-Pad", "p" * 1024)])
    with caplog.at_level(logging.INFO, logger="webhookverify"):
        assert _asgi_status(app, request, pairs) == 431
    reasons = [r.webhookverify["reason"] for r in caplog.records if hasattr(r, "webhookverify")]
    assert reasons == ["too_many_headers", "headers_too_large"]


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_100000_repeated_fields_are_refused_before_any_is_read(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What stalled a worker for seconds is now one length check: no field is
    looked at, no Headers is built, before the 431."""
    request, pairs = _signed([("X-A", "1")] * 100_000)

    build = Headers.__init__

    def no_headers(self: Headers, headers: Any = None) -> None:
        if headers is not None and len(headers) > 1000:
            raise AssertionError("Headers built for a request past max_header_count")
        build(self, headers)  # the test helpers' own, for the reply

    monkeypatch.setattr(Headers, "__init__", no_headers)
    if kind == "asgi":
        assert _asgi_status(asgi.WebhookApp(_receiver()), request, pairs) == 431
    else:
        environ = make_environ(request, headers=[("X-Pad", "1")])
        environ.update({f"HTTP_X_{i}": "1" for i in range(100_000)})
        assert run_wsgi(wsgi.WebhookApp(_receiver()), environ).status == 431


@pytest.mark.parametrize(
    "adapter", [wsgi.WebhookApp, asgi.WebhookApp, wsgi.WebhookMiddleware, asgi.WebhookMiddleware]
)
@pytest.mark.parametrize("setting", ["max_header_count", "max_header_bytes"])
@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "100", None])
def test_header_limits_are_checked_at_construction(adapter: Any, setting: str, bad: Any) -> None:
    args: tuple[Any, ...] = (_receiver(),)
    if adapter in (wsgi.WebhookMiddleware, asgi.WebhookMiddleware):
        args = (lambda *call: None, *args)
    with pytest.raises(ConfigurationError, match=rf"\({setting}=\.\.\.\) must be a positive int"):
        adapter(*args, **{setting: bad})


# -- repr and logs never show a signature or a credential ------------------------------


def _mac(key: str, message: bytes) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _case(name: str, secret: str) -> tuple[Any, WebhookRequest]:
    """The preset ``name`` with ``secret``, and a request it signed."""
    factory = getattr(presets, name)
    body = b'{"event":"ping","n":1}'
    url = URL
    if name in FETCHED:
        verifier = fetched_verifier(name, secret)
        request = fetched_request(
            name,
            verifier,
            body,
            now=NOW,
            url=url,
            headers={"X-Request-Id": "req-1", "User-Agent": "ua"},
        )
        return verifier, request
    if name == "apple_app_store":
        from _apple import PAYLOAD, apple_verifier

        verifier = apple_verifier(secret)
        body = verifier.signed_body(PAYLOAD, NOW)
    elif name in ("discord", "sendgrid", "telnyx"):
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519

        key: Any = (
            ed25519.Ed25519PrivateKey.generate()
            if name != "sendgrid"
            else ec.generate_private_key(ec.SECP256R1())
        )
        verifier = factory(public_key=key.public_key(), private_key=key)
    elif name in ("clerk", "replicate", "resend", "svix", "standard_webhooks", "stripe"):
        import base64

        encoded = base64.b64encode(secret.encode()).decode()
        verifier = factory(secret=f"whsec_{encoded}")
    elif name == "airtable":
        import base64

        # the macSecretBase64 Airtable returns: base64 text of the key
        verifier = factory(secret=base64.b64encode(secret.encode()).decode())
    elif name in ("squarespace", "close", "adyen"):
        # a hex secret, hex-decoded into the key
        verifier = factory(secret=secret.encode().hex())
    elif name == "braintree":
        verifier = factory(secret=secret, public_key="public_key")
    elif name == "trello":
        verifier = factory(secret=secret, callback_url=URL)
    elif name in ("mandrill", "monday"):
        verifier = factory(secret=secret, url=URL)
    else:
        verifier = factory(secret=secret)
    if name in ("mandrill", "twilio"):
        body = b"mandrill_events=%5B%5D&a=1"
    elif name == "linear":
        body = b'{"action":"create","webhookTimestamp":%d}' % (NOW * 1000)
    elif name == "mailgun":
        token = "t" * 50
        fields = {"token": token, "timestamp": str(NOW)}
        fields["signature"] = _mac(secret, (str(NOW) + token).encode())
        return verifier, WebhookRequest(
            "POST", url, {"Content-Type": "application/json"},
            json.dumps({"signature": fields, "event-data": {}}).encode(), NOW,
        )  # fmt: skip
    elif name == "dropbox_sign":
        body = verifier.signed_body({"signature_request": {}}, NOW)
    elif name == "adyen":
        body = verifier.signed_body([{"pspReference": "PSP1", "eventCode": "REFUND"}], NOW)
    elif name == "braintree":
        body = verifier.signed_body("PG5vdGlmaWNhdGlvbi8+\n", NOW)
    elif name == "plivo":
        body = b"From=1&To=2"
    return verifier, sign_request(
        verifier, body, now=NOW, url=url, headers={"X-Request-Id": "req-1", "User-Agent": "ua"}
    )


def _sensitive(verifier: Any, request: WebhookRequest, secret: str) -> list[str]:
    """The secret, and every long token in the values of the headers that sign."""
    found = [secret]
    for name, value in request.headers.raw_items():
        if name.lower() in ("content-type", "x-request-id", "user-agent") or name.lower().endswith(
            ("-id", "-nonce", "-signed-headers", "-cert-url")
        ):
            # what the test added, delivery ids, nonces, lists of header names
            # and a sender's public certificate URL (logged as the key id):
            # none is a secret
            continue
        found += re.findall(r"[A-Za-z0-9+/=_.-]{16,}", value)
    if request.body.startswith(b'{"signature"'):  # Mailgun signs in the body
        found.append(json.loads(request.body)["signature"]["signature"])
    if request.body.startswith(b'{"live"'):  # so does Adyen, in each item
        for entry in json.loads(request.body)["notificationItems"]:
            found.append(entry["NotificationRequestItem"]["additionalData"]["hmacSignature"])
    if request.body.startswith(b"bt_signature="):  # and Braintree, in a form field
        found.append(dict(request.form())["bt_signature"].partition("|")[2])
    return found


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(logging.Formatter().format(record) + repr(vars(record)))


@pytest.mark.parametrize("name", presets.PRESETS)
def test_no_repr_or_log_shows_a_signature_or_secret(name: str) -> None:
    secret = f"secret-of-{name}-0123456789"
    verifier, request = _case(name, secret)
    _, forged = _case(name, f"another-key-{name}-987654321")
    handler = Handler(name, verifier)
    seen: list[Any] = []
    bus = EventBus()
    bus.bind("webhook.rejected", seen.append)
    bus.bind("webhook.received", seen.append)
    receiver = Receiver(HandlerRegistry([handler]), bus, replay_store=MemoryReplayStore())
    capture = _Everything()
    logger = logging.getLogger("webhookverify")
    level = logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    try:
        accepted = receiver.receive(request, now=NOW)
        refused = receiver.receive(forged, now=NOW)
        again = receiver.receive(request, now=NOW)
    finally:
        logger.removeHandler(capture)
        logger.setLevel(level)
    assert refused.status == 401, refused
    assert accepted.status in (200, 202, 204) and accepted.delivery is not None, accepted
    assert refused.rejection is not None
    texts = [
        repr(request.headers),
        str(request.headers),
        repr(request),
        repr(forged.headers),
        repr(forged),
        repr(accepted),
        repr(accepted.delivery),
        repr(refused),
        repr(refused.rejection),
        repr(again),
        *map(repr, seen),
        *capture.texts,
    ]
    assert len(seen) >= 2  # a delivery and a rejection (token schemes dispatch a copy again)
    text = "\n".join(texts)
    for value in _sensitive(verifier, request, secret) + _sensitive(verifier, forged, secret):
        assert value not in text, f"{value[:12]}... shown"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Authorization", "Bearer s3cr3t"),
        ("Proxy-Authorization", "Basic czNjcjN0"),
        ("Cookie", "session=s3cr3t"),
        ("Set-Cookie", "session=s3cr3t"),
        ("X-Api-Key", "s3cr3t"),
        ("X-Gitlab-Token", "s3cr3t"),
        ("X-Okta-Verification-Challenge", "s3cr3t"),
        ("X-Trello-Webhook", "s3cr3t"),
        ("X-Custom-Shared", "s3cr3t"),  # a TokenVerifier(header=...) of the user's own
        ("X-Signature-Timestamp", "s3cr3t"),  # a signature word wins over the suffix
        ("X-Webhook-Secret-Id", "s3cr3t"),
    ],
)
def test_repr_hides_credentials_by_default(name: str, value: str) -> None:
    headers = Headers([(name, value), ("X-GitHub-Event", "push"), ("Content-Length", "2")])
    text = repr(headers)
    assert "s3cr3t" not in text and "czNjcjN0" not in text
    assert f"('{name}', '<hidden>')" in text
    assert "('X-GitHub-Event', 'push')" in text and "('Content-Length', '2')" in text
    assert headers[name] == value  # hidden from repr only
