"""SNS subscription confirmations, answered by the endpoint (``presets.aws_sns``).

A local HTTPS server with a test CA stands in for ``sns.us-east-1.amazonaws.com``
over loopback (``tests/_keyserver.py``): it serves the signing certificate and
counts the confirmation GETs of ``SubscribeURL``. A verified
``SubscriptionConfirmation`` from an allowed topic is confirmed exactly once
on every surface, never dispatched; anything else is never visited.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from webhookverify import (
    ConfigurationError,
    Handler,
    HandlerRegistry,
    Receiver,
    WebhookRequest,
    asgi,
    presets,
    wsgi,
)
from webhookverify.handshake import HandshakeEvent
from webhookverify.keyfetch import Fetcher, FixedKeys
from webhookverify.presets._aws_sns_testing import sign_message
from webhookverify.testing import make_environ, make_scope, run_asgi, run_wsgi, sign_request

from _keyserver import KeyServer, Route, certificate, pem_public, private_key

TOPIC = "arn:aws:sns:us-east-1:123456789012:MyTopic"
OTHER_TOPIC = "arn:aws:sns:us-east-1:123456789012:Other"
SNS_HOST = "sns.us-east-1.amazonaws.com"
SNS_CERT = f"https://{SNS_HOST}/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"
CONFIRM = f"{SNS_HOST}/"  # the server counts a hit by host and path (query left out)
URL = "https://hooks.example.test/sns"
# SNS's answer to ConfirmSubscription (AWS SNS API Reference, ConfirmSubscription)
CONFIRMED = (
    b'<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
    b"<ConfirmSubscriptionResult><SubscriptionArn>" + TOPIC.encode() + b":1</SubscriptionArn>"
    b"</ConfirmSubscriptionResult></ConfirmSubscriptionResponse>"
)


@pytest.fixture
def fresh(server: KeyServer) -> KeyServer:
    """The server with the SNS certificate and the confirmation endpoint up."""
    server.routes.clear()
    server.hits.clear()
    now = time.time()
    pem = certificate(private_key("rsa", 0), now - 86400, now + 86400)
    server.routes[(SNS_HOST, SNS_CERT.split(SNS_HOST, 1)[1])] = Route(pem)
    server.routes[(SNS_HOST, "/")] = Route(CONFIRMED, headers={"Content-Type": "text/xml"})
    return server


class Endpoint:
    """A receiver with one aws_sns handler, and what its bus saw."""

    def __init__(self, verifier: Any) -> None:
        self.verifier = verifier
        self.receiver = Receiver(HandlerRegistry([Handler("sns", verifier)]))
        self.received: list[Any] = []
        self.handshakes: list[HandshakeEvent] = []
        self.rejected: list[Any] = []
        self.receiver.bus.bind("webhook.received", self.received.append)
        self.receiver.bus.bind("webhook.handshake", self.handshakes.append)
        self.receiver.bus.bind("webhook.rejected", self.rejected.append)

    def request(self, type: str = "SubscriptionConfirmation", **options: Any) -> WebhookRequest:
        body = self.verifier.message("You have chosen to subscribe", type=type, **options)
        return sign_request(self.verifier, body, now=time.time(), url=URL)


def endpoint(server: KeyServer, *, fetcher: Fetcher | None = None, **options: Any) -> Endpoint:
    return Endpoint(
        presets.aws_sns(
            topics=options.pop("topics", [TOPIC]),
            fetcher=fetcher or server.fetcher(),
            private_key=private_key("rsa", 0),
            signing_cert_url=SNS_CERT,
            **options,
        )
    )


# -- the surfaces -----------------------------------------------------------------------

Answer = tuple[int, dict[str, str], bytes]


def _headers(pairs: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in pairs}


def via_receiver(receiver: Receiver, request: WebhookRequest) -> Answer:
    outcome = receiver.receive(request)
    return outcome.status, _headers(outcome.headers), outcome.body


def via_areceive(receiver: Receiver, request: WebhookRequest) -> Answer:
    outcome = asyncio.run(receiver.areceive(request))
    return outcome.status, _headers(outcome.headers), outcome.body


def _parts(request: WebhookRequest) -> dict[str, Any]:
    return {
        "method": request.method,
        "url": request.url,
        "headers": dict(request.headers.items()),
        "body": request.body,
    }


def via_wsgi_app(receiver: Receiver, request: WebhookRequest) -> Answer:
    response = run_wsgi(wsgi.WebhookApp(receiver), make_environ(**_parts(request)))
    return response.status, _headers(response.headers.raw_items()), response.body


def via_asgi_app(receiver: Receiver, request: WebhookRequest) -> Answer:
    response = run_asgi(asgi.WebhookApp(receiver), make_scope(**_parts(request)), request.body)
    assert response is not None
    return response.status, _headers(response.headers.raw_items()), response.body


def _inner_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise AssertionError("a handshake reached the wrapped app")


async def _inner_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    raise AssertionError("a handshake reached the wrapped app")


def via_wsgi_middleware(receiver: Receiver, request: WebhookRequest) -> Answer:
    app = wsgi.WebhookMiddleware(_inner_wsgi, receiver, path="/sns")
    response = run_wsgi(app, make_environ(**_parts(request)))
    return response.status, _headers(response.headers.raw_items()), response.body


def via_asgi_middleware(receiver: Receiver, request: WebhookRequest) -> Answer:
    app = asgi.WebhookMiddleware(_inner_asgi, receiver, path="/sns")
    response = run_asgi(app, make_scope(**_parts(request)), request.body)
    assert response is not None
    return response.status, _headers(response.headers.raw_items()), response.body


SURFACES: dict[str, Callable[[Receiver, WebhookRequest], Answer]] = {
    "receive": via_receiver,
    "areceive": via_areceive,
    "wsgi-app": via_wsgi_app,
    "asgi-app": via_asgi_app,
    "wsgi-middleware": via_wsgi_middleware,
    "asgi-middleware": via_asgi_middleware,
}


def confirmations(server: KeyServer) -> int:
    """The GETs of a SubscribeURL on any host the server stands in for."""
    return sum(n for hit, n in server.hits.items() if hit.endswith("/"))


# -- confirmed ----------------------------------------------------------------------------


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_an_allowed_subscription_is_confirmed_once_and_not_dispatched(
    fresh: KeyServer, surface: str
) -> None:
    sns = endpoint(fresh)
    request = sns.request()
    status, headers, body = SURFACES[surface](sns.receiver, request)
    assert (status, body) == (200, b"")
    assert headers["x-content-type-options"] == "nosniff"
    assert fresh.hits[CONFIRM] == 1 == confirmations(fresh)
    assert sns.received == [] and sns.rejected == []
    [event] = sns.handshakes
    assert (event.kind, event.detail, event.signed) == (
        "aws_sns.subscription_confirmation",
        TOPIC,
        True,
    )
    assert event.confirm_url is None  # confirmed already: nothing left to visit
    token = json.loads(request.body)["Token"]
    assert token not in repr(event)


def test_a_notification_is_still_dispatched_and_nothing_visited(fresh: KeyServer) -> None:
    sns = endpoint(fresh)
    for surface in (via_receiver, via_areceive):
        assert surface(sns.receiver, sns.request("Notification"))[0] == 200
    assert len(sns.received) == 2 and sns.handshakes == []
    assert confirmations(fresh) == 0


def test_the_async_confirmation_does_not_block_the_event_loop(fresh: KeyServer) -> None:
    fresh.routes[(SNS_HOST, "/")] = Route(CONFIRMED, delay=0.4)
    sns = endpoint(fresh)
    request = sns.request()
    sns.verifier.verify(request)  # the certificate cached: only the GET is slow now

    async def main() -> tuple[int, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.ensure_future(tick())
        outcome = await sns.receiver.areceive(request)
        ticker.cancel()
        return outcome.status, ticks

    status, ticks = asyncio.run(main())
    assert status == 200 and fresh.hits[CONFIRM] == 1
    assert ticks >= 10  # the loop ran while the GET waited 0.4 s


# -- never visited -------------------------------------------------------------------------


@pytest.mark.parametrize("surface", ["receive", "areceive"])
def test_a_topic_not_allowed_is_refused_and_never_confirmed(fresh: KeyServer, surface: str) -> None:
    sns = endpoint(fresh, topics=[OTHER_TOPIC])
    status, _, _ = SURFACES[surface](sns.receiver, sns.request(topic=TOPIC))
    assert status == 401
    assert confirmations(fresh) == 0
    assert sns.received == [] and sns.handshakes == []


@pytest.mark.parametrize(
    "subscribe_url",
    [
        f"https://{SNS_HOST}.evil.example/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=t",
        f"http://{SNS_HOST}/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=t",
        f"https://{SNS_HOST}@other.example.test/?Action=ConfirmSubscription&Token=t",
        f"https://{SNS_HOST}:8443/?Action=ConfirmSubscription&Token=t",
        "https://other.example.test/?Action=ConfirmSubscription&Token=t",
    ],
)
@pytest.mark.parametrize("surface", ["receive", "areceive"])
def test_a_subscribe_url_off_the_sns_hosts_is_refused_unvisited(
    fresh: KeyServer, surface: str, subscribe_url: str
) -> None:
    # signed with the certificate's key (as a compromised or confused signer
    # would): the signature passes, the URL does not
    for host in (f"{SNS_HOST}.evil.example", "other.example.test"):
        fresh.routes[(host, "/")] = Route(CONFIRMED)
    sns = endpoint(fresh)
    message = json.loads(sns.request().body)
    message["SubscribeURL"] = subscribe_url
    del message["Signature"], message["SigningCertURL"]
    body = sign_message(private_key("rsa", 0), SNS_CERT, message)
    request = sign_request(sns.verifier, body, now=time.time(), url=URL)
    status, _, _ = SURFACES[surface](sns.receiver, request)
    assert status == 401
    assert confirmations(fresh) == 0
    assert sns.received == [] and sns.handshakes == []
    assert sns.rejected[0].reason == "no_handler_matched"
    assert sns.rejected[0].attempts == (("sns", "key_url_refused"),)


@pytest.mark.parametrize("surface", ["receive", "areceive"])
def test_a_redirect_off_the_sns_hosts_is_not_followed(fresh: KeyServer, surface: str) -> None:
    fresh.routes[(SNS_HOST, "/")] = Route(
        b"", 302, headers={"Location": "https://other.example.test/?Action=ConfirmSubscription"}
    )
    fresh.routes[("other.example.test", "/")] = Route(CONFIRMED)
    sns = endpoint(fresh)
    status, headers, _ = SURFACES[surface](sns.receiver, sns.request())
    assert status == 503 and "retry-after" in headers
    assert fresh.hits[CONFIRM] == 1 and fresh.hits["other.example.test/"] == 0
    assert sns.received == [] and sns.handshakes == []


# -- AWS unreachable: 503 so SNS retries -------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_aws_answering_an_error_is_503_with_retry_after(fresh: KeyServer, surface: str) -> None:
    fresh.routes[(SNS_HOST, "/")] = Route(b"<Error/>", 500)
    sns = endpoint(fresh)
    request = sns.request()
    status, headers, _ = SURFACES[surface](sns.receiver, request)
    assert status == 503 and headers["retry-after"] == "30"
    assert fresh.hits[CONFIRM] == 1
    assert sns.received == [] and sns.handshakes == []
    if surface in ("receive", "areceive"):
        [rejection] = sns.rejected
        assert (rejection.status, rejection.reason) == (503, "handshake_unavailable")
    # SNS sends the confirmation again once AWS answers: confirmed then
    fresh.routes[(SNS_HOST, "/")] = Route(CONFIRMED)
    assert SURFACES[surface](sns.receiver, request)[0] == 200
    assert fresh.hits[CONFIRM] == 2 and len(sns.handshakes) == 1


@pytest.mark.parametrize("surface", ["receive", "areceive"])
def test_aws_unreachable_is_503_and_logged(
    server: KeyServer, surface: str, caplog: pytest.LogCaptureFixture
) -> None:
    # the certificate given, the SNS host connected to a port nobody listens on
    key = private_key("rsa", 0)
    down = Fetcher(ca=server.client_context(), connect_to={SNS_HOST: ("127.0.0.1", closed_port())})
    verifier = presets.aws_sns(
        topics=[TOPIC],
        keys=FixedKeys({SNS_CERT: pem_public(key)}),
        fetcher=down,
        private_key=key,
        signing_cert_url=SNS_CERT,
    )
    sns = Endpoint(verifier)
    request = sns.request()
    with caplog.at_level(logging.ERROR, logger="webhookverify"):
        status, headers, _ = SURFACES[surface](sns.receiver, request)
    assert status == 503 and "retry-after" in headers
    assert sns.received == [] and sns.handshakes == []
    assert any("could not confirm the SNS subscription" in r.getMessage() for r in caplog.records)
    token = json.loads(request.body)["Token"]
    assert all(token not in r.getMessage() for r in caplog.records)


# -- the application confirms ----------------------------------------------------------


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_confirm_subscriptions_off_hands_the_url_to_the_application(
    fresh: KeyServer, surface: str
) -> None:
    sns = endpoint(fresh, confirm_subscriptions=False)
    request = sns.request()
    status, _, _ = SURFACES[surface](sns.receiver, request)
    assert status == 200
    assert confirmations(fresh) == 0
    assert sns.received == []
    [event] = sns.handshakes
    url = json.loads(request.body)["SubscribeURL"]
    assert (event.kind, event.detail, event.confirm_url) == (
        "aws_sns.subscription_confirmation",
        TOPIC,
        url,
    )
    assert url not in repr(event)
    assert sns.verifier.subscribe_url(request) == url


def test_confirm_subscriptions_must_be_a_bool() -> None:
    with pytest.raises(ConfigurationError, match="confirm_subscriptions"):
        presets.aws_sns(topics=[TOPIC], confirm_subscriptions="no")  # type: ignore[arg-type]


# -- unsubscribed --------------------------------------------------------------------------


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_an_unsubscribe_confirmation_is_answered_not_dispatched_not_visited(
    fresh: KeyServer, surface: str
) -> None:
    sns = endpoint(fresh)
    status, _, body = SURFACES[surface](sns.receiver, sns.request("UnsubscribeConfirmation"))
    assert (status, body) == (200, b"")
    assert confirmations(fresh) == 0
    assert sns.received == []
    [event] = sns.handshakes
    assert (event.kind, event.detail) == ("aws_sns.unsubscribe_confirmation", TOPIC)


def test_only_what_the_sns_verifier_proved_is_confirmed(fresh: KeyServer) -> None:
    # the handshake on its own, asked about a request another scheme verified
    # (or none did): never visited, not a handshake
    from webhookverify.types import Verification

    sns = endpoint(fresh)
    request = sns.request()
    handshake = sns.verifier.handshake
    assert handshake.answer(request, None) is None
    assert handshake.answer(request, Verification("github-sha256", "secret[0]")) is None
    assert asyncio.run(handshake.aanswer(request, Verification("hmac", "k"))) is None
    assert confirmations(fresh) == 0
    assert handshake.answer(request, sns.verifier.verify(request)).status == 200
    assert confirmations(fresh) == 1
