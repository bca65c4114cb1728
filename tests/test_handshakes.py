"""Handshakes answered by the endpoint: through the receiver (sync and async),
the WSGI and ASGI apps and middlewares, in process.

For each provider's documented handshake: the answer it expects, with
``nosniff`` and ``no-store``, ``webhook.handshake`` fired once, nothing
dispatched. For a wrong token or signature, or a value that may not be
echoed: refused (401), the value never in the answer, nothing dispatched.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhookverify import (
    EventBus,
    Handler,
    HandlerRegistry,
    Receiver,
    WebhookRequest,
    asgi,
    presets,
    wsgi,
)
from webhookverify.handshake import MAX_CHALLENGE, HandshakeEvent, handshake_answer
from webhookverify.testing import make_environ, make_scope, run_asgi, run_wsgi, sign_request

from handshake_cases import CASES, URL, Case, Request

Answer = tuple[int, dict[str, str], bytes]


def _headers(pairs: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in pairs}


def via_receiver(receiver: Receiver, request: Request) -> Answer:
    outcome = receiver.receive(request.webhook_request())
    return outcome.status, _headers(outcome.headers), outcome.body


def via_areceive(receiver: Receiver, request: Request) -> Answer:
    outcome = asyncio.run(receiver.areceive(request.webhook_request()))
    return outcome.status, _headers(outcome.headers), outcome.body


def _environ(request: Request) -> dict[str, Any]:
    return make_environ(
        method=request.method, url=request.url, headers=request.headers, body=request.body
    )


def _scope(request: Request) -> dict[str, Any]:
    return make_scope(
        method=request.method, url=request.url, headers=request.headers, body=request.body
    )


def via_wsgi_app(receiver: Receiver, request: Request) -> Answer:
    response = run_wsgi(wsgi.WebhookApp(receiver), _environ(request))
    return response.status, _headers(response.headers.raw_items()), response.body


def _inner_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"the wrapped app ran\n"]


async def _inner_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"the wrapped app ran\n"})


def via_wsgi_middleware(receiver: Receiver, request: Request) -> Answer:
    app = wsgi.WebhookMiddleware(_inner_wsgi, receiver, path="/hooks")
    response = run_wsgi(app, _environ(request))
    return response.status, _headers(response.headers.raw_items()), response.body


def via_asgi_app(receiver: Receiver, request: Request) -> Answer:
    response = run_asgi(asgi.WebhookApp(receiver), _scope(request), request.body)
    assert response is not None
    return response.status, _headers(response.headers.raw_items()), response.body


def via_asgi_middleware(receiver: Receiver, request: Request) -> Answer:
    app = asgi.WebhookMiddleware(_inner_asgi, receiver, path="/hooks")
    response = run_asgi(app, _scope(request), request.body)
    assert response is not None
    return response.status, _headers(response.headers.raw_items()), response.body


SURFACES: dict[str, Callable[[Receiver, Request], Answer]] = {
    "receiver": via_receiver,
    "areceive": via_areceive,
    "wsgi-app": via_wsgi_app,
    "wsgi-middleware": via_wsgi_middleware,
    "asgi-app": via_asgi_app,
    "asgi-middleware": via_asgi_middleware,
}


@pytest.mark.parametrize("surface", sorted(SURFACES))
@pytest.mark.parametrize("name", sorted(CASES))
def test_the_documented_handshake_is_answered_and_nothing_dispatched(
    name: str, surface: str
) -> None:
    case: Case = CASES[name]()
    receiver = case.receiver()
    seen = case.wire(receiver)
    status, headers, body = SURFACES[surface](receiver, case.good)
    assert (status, body) == (case.status, case.answer)
    assert headers["content-type"] == case.content_type
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    for header, value in case.extra_headers.items():
        assert headers[header.lower()] == value
    assert seen["received"] == []
    [event] = seen["handshake"]
    assert isinstance(event, HandshakeEvent)
    assert event.handler is case.handler
    assert event.kind.startswith(name + ".")


@pytest.mark.parametrize("surface", sorted(SURFACES))
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_wrong_token_or_signature_is_refused_and_never_echoed(name: str, surface: str) -> None:
    case: Case = CASES[name]()
    receiver = case.receiver()
    if name == "asana":  # the first handshake closes the window: the next is refused
        assert SURFACES[surface](receiver, case.good)[0] == 200
    seen = case.wire(receiver)
    status, headers, body = SURFACES[surface](receiver, case.bad)
    assert status == 401
    assert case.echoed.encode() not in body
    assert all(case.echoed not in value for value in headers.values())
    assert seen["received"] == [] and seen["handshake"] == []
    assert [r.status for r in seen["rejected"]] == [401]


def test_the_x_crc_answer_is_the_documented_example() -> None:
    case = CASES["x"]()
    status, _, body = via_receiver(case.receiver(), case.good)
    # X's published example: this consumer secret and crc_token give this token
    assert json.loads(body) == {
        "response_token": "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8="
    }


@pytest.mark.parametrize("surface", ["wsgi-app", "asgi-app"])
def test_a_get_is_405_for_handlers_without_a_get_handshake(surface: str) -> None:
    receiver = Receiver(HandlerRegistry([Handler("gh", presets.github(secret="k"))]))
    status, headers, _ = SURFACES[surface](receiver, Request("GET", URL + "?challenge=x", {}))
    assert status == 405 and headers["allow"] == "POST"
    # a handler whose handshake comes as a GET opens GET to the receiver
    receiver.registry.add(Handler("dropbox", presets.dropbox(secret="k")))
    assert SURFACES[surface](receiver, Request("GET", URL + "?challenge=x", {}))[0] == 200
    assert SURFACES[surface](receiver, Request("GET", URL, {}))[0] == 401
    # a disabled one does not
    receiver.registry.replace(Handler("dropbox", presets.dropbox(secret="k"), enabled=False))
    assert SURFACES[surface](receiver, Request("GET", URL + "?challenge=x", {}))[0] == 405


def test_a_delivery_of_a_handler_with_a_handshake_is_dispatched_as_usual() -> None:
    secret = "slack-signing-secret"
    receiver = Receiver(HandlerRegistry([Handler("slack", presets.slack(secret=secret))]))
    got: list[Any] = []
    receiver.bus.bind("webhook.received", got.append)
    body = b'{"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_mention"}}'
    outcome = receiver.receive(sign_request(presets.slack(secret=secret), body, url=URL))
    assert (outcome.status, outcome.reason, len(got)) == (200, "accepted", 1)


def test_a_handshake_is_not_replay_guarded_a_repeat_is_answered_again() -> None:
    # Slack and Zoom repeat their checks (Zoom every 72 hours); answering again
    # gives nothing the first answer did not, and stores nothing.
    case = CASES["slack"]()
    receiver = case.receiver()
    seen = case.wire(receiver)
    first = via_receiver(receiver, case.good)
    assert via_receiver(receiver, case.good) == first
    assert len(seen["handshake"]) == 2 and seen["received"] == []


def test_a_failing_handshake_listener_answers_500_and_nothing_is_echoed() -> None:
    case = CASES["asana"]()
    receiver = case.receiver()

    def store(event: HandshakeEvent) -> None:
        raise RuntimeError("the secret could not be stored")

    receiver.bus.bind("webhook.handshake", store)
    for run in (via_receiver, via_areceive):
        case.handler.verifier.open_registration(60)
        status, headers, body = run(receiver, case.good)
        assert status == 500 and "x-hook-secret" not in headers and b"b537" not in body


def test_asana_hands_the_secret_to_the_application_once_per_window() -> None:
    verifier = presets.asana()
    receiver = Receiver(HandlerRegistry([Handler("asana", verifier)]))
    secrets: list[str | None] = []
    receiver.bus.bind("webhook.handshake", lambda event: secrets.append(event.secret))
    handshake = Request("POST", URL, {"X-Hook-Secret": "s3cr3t"})
    assert via_receiver(receiver, handshake)[0] == 401  # no window open
    verifier.open_registration(30)
    assert via_receiver(receiver, handshake)[0] == 200
    assert via_receiver(receiver, handshake)[0] == 401  # closed by the first
    assert secrets == ["s3cr3t"]
    assert "s3cr3t" not in repr(
        HandshakeEvent(
            receiver.registry.get("asana"), "k", False, handshake.webhook_request(), "s3cr3t"
        )
    )  # type: ignore[arg-type]
    # the application builds the handler again with the secret: deliveries verify
    signed = presets.asana(secret="s3cr3t")
    receiver.registry.replace(Handler("asana", signed))
    body = b'{"events": []}'
    assert receiver.receive(sign_request(signed, body, url=URL)).status == 200
    # without a secret, a delivery is refused with a reason that says why
    outcome = Receiver(HandlerRegistry([Handler("a", presets.asana())])).receive(
        sign_request(signed, body, url=URL)
    )
    assert outcome.status == 401 and outcome.rejection is not None
    assert outcome.rejection.attempts == (("a", "no_valid_key"),)


def test_asana_window_is_bounded_and_checked() -> None:
    verifier = presets.asana()
    for seconds in (0, -1, 3601, True, "60"):
        with pytest.raises(Exception, match=r"open_registration\(seconds=\.\.\.\)"):
            verifier.open_registration(seconds)  # type: ignore[arg-type]
    verifier.open_registration(10, now=1000.0)
    request = WebhookRequest("POST", URL, {"X-Hook-Secret": "x"}, b"", received_at=1011.0)
    assert verifier.handshake.answer(request, None) is None  # received after the window


def test_meta_without_verify_token_answers_no_handshake() -> None:
    receiver = Receiver(HandlerRegistry([Handler("meta", presets.meta(secret="s"))]))
    query = "?hub.mode=subscribe&hub.challenge=c&hub.verify_token="
    assert via_receiver(receiver, Request("GET", URL + query, {}))[0] == 401


@pytest.mark.parametrize(
    "query",
    [
        "hub.mode=subscribe&hub.challenge=c&hub.verify_token=meta-verify-token-7d1c&hub.verify_token=x",
        "hub.mode=unsubscribe&hub.challenge=c&hub.verify_token=meta-verify-token-7d1c",
        "hub.mode=subscribe&hub.verify_token=meta-verify-token-7d1c",
        "hub.mode=subscribe&hub.challenge=&hub.verify_token=meta-verify-token-7d1c",
        "&".join(f"p{i}=1" for i in range(40)) + "&hub.mode=subscribe",
    ],
)
def test_meta_answers_only_a_well_formed_subscribe_with_the_token(query: str) -> None:
    case = CASES["meta"]()
    assert via_receiver(case.receiver(), Request("GET", URL + "?" + query, {}))[0] == 401


def test_every_echoed_value_is_bounded() -> None:
    receiver = CASES["dropbox"]().receiver()
    ok = "c" * MAX_CHALLENGE
    assert via_receiver(receiver, Request("GET", f"{URL}?challenge={ok}", {}))[2] == ok.encode()
    assert via_receiver(receiver, Request("GET", f"{URL}?challenge={ok}c", {}))[0] == 401


def test_a_signed_handshake_is_never_answered_unsigned() -> None:
    # Slack's url_verification without a signature: refused, not echoed
    case = CASES["slack"]()
    unsigned = Request("POST", URL, {"Content-Type": "application/json"}, case.good.body)
    status, _, body = via_receiver(case.receiver(), unsigned)
    assert status == 401 and case.echoed.encode() not in body


def test_xero_intent_to_receive_is_answered_by_the_normal_flow() -> None:
    # Xero posts signed and mis-signed payloads: 401 for each wrong one, 200
    # with an empty body for each good one.
    key = "xero-webhook-key"
    receiver = Receiver(HandlerRegistry([Handler("xero", presets.xero(secret=key))]), EventBus())
    body = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"ABC"}'
    good = sign_request(presets.xero(secret=key), body, url=URL)
    bad = sign_request(presets.xero(secret="not-the-key"), body, url=URL)
    for surface in (via_wsgi_app, via_asgi_app):
        request = Request("POST", URL, dict(good.headers.raw_items()), body)
        status, _, answer = surface(receiver, request)
        assert (status, answer) == (200, b"")
        request = Request("POST", URL, dict(bad.headers.raw_items()), body)
        assert surface(receiver, request)[0] == 401
        body = body.replace(b"ABC", b"ABCD")  # Xero's entropy differs per payload
        good = sign_request(presets.xero(secret=key), body, url=URL)


def test_graph_validation_needs_the_handler_to_name_it() -> None:
    receiver = Receiver(HandlerRegistry([Handler("gh", presets.github(secret="k"))]))
    request = Request("POST", URL + "?validationToken=abc", {})
    assert via_receiver(receiver, request)[0] == 401


def test_the_microsoft_graph_preset_answers_its_own_validation() -> None:
    # Subscribing, Graph posts ?validationToken= before any notification: the
    # preset built for Graph's notifications must answer it without help.
    token = "Validation: Testing client application reachability for subscription Request-Id: 1c1c"
    verifier = presets.microsoft_graph(client_state="a-long-random-client-state")
    receiver = Receiver(HandlerRegistry([Handler("graph", verifier)]))
    for surface in (via_receiver, via_areceive, via_wsgi_app, via_asgi_app):
        request = Request("POST", URL + "?validationToken=" + token.replace(" ", "%20"), {})
        status, headers, answer = surface(receiver, request)
        assert (status, answer) == (200, token.encode())
        assert headers["content-type"] == "text/plain; charset=utf-8"


def test_the_event_never_shows_the_secret_or_the_verify_token() -> None:
    case = CASES["meta"]()
    receiver = case.receiver()
    seen = case.wire(receiver)
    via_receiver(receiver, case.good)
    [event] = seen["handshake"]
    assert event.kind == "meta.hub_challenge" and not event.signed
    assert "meta-verify-token" not in repr(event)


HANDSHAKE_OBJECTS = {
    name: CASES[name]().handler.handshake for name in sorted(CASES) if name != "graph"
} | {"graph": presets.graph_validation()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST"]),
    query=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "challenge",
                    "crc_token",
                    "hub.mode",
                    "hub.challenge",
                    "hub.verify_token",
                    "validationToken",
                    "x",
                ]
            ),
            st.text(max_size=40),
        ),
        max_size=6,
    ),
    headers=st.dictionaries(
        st.sampled_from(
            ["X-Hook-Secret", "X-Okta-Verification-Challenge", "Twitch-Eventsub-Message-Type"]
        ),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
        max_size=3,
    ),
    body=st.one_of(
        st.binary(max_size=200),
        st.sampled_from(
            [
                b'{"type": "url_verification", "challenge": 1}',
                b'{"event": "endpoint.url_validation", "payload": []}',
                b'{"challenge": "\\u0000"}',
            ]
        ),
    ),
)
def test_no_handshake_raises_or_echoes_anything_unbounded(
    method: str, query: list[tuple[str, str]], headers: dict[str, str], body: bytes
) -> None:
    from urllib.parse import urlencode

    from webhookverify.types import Verification

    url = URL + ("?" + urlencode(query) if query else "")
    request = WebhookRequest(method, url, headers, body)
    for handshake in HANDSHAKE_OBJECTS.values():
        for verification in (None, Verification("s", "secret[0]")):
            answer = handshake.answer(request, verification)
            if answer is None:
                continue
            assert answer.status == 200 and len(answer.body) <= MAX_CHALLENGE + 200
            assert answer.body.decode("ascii").isprintable() or answer.body == b""
            assert ("X-Content-Type-Options", "nosniff") in answer.headers


def test_a_handshake_that_raises_is_not_answered() -> None:
    class Broken:
        kind, signed, methods = "broken.check", False, frozenset({"GET"})

        def answer(self, request: Any, verification: Any) -> Any:
            raise RuntimeError("a bug in a handshake of the user's own")

    handler = Handler("own", presets.github(secret="k"), handshake=Broken())
    receiver = Receiver(HandlerRegistry([handler]))
    assert via_receiver(receiver, Request("GET", URL, {}))[0] == 401


class _OwnSigned:
    """A signed handshake of the user's own: answers every verified request."""

    kind, signed, methods = "own.check", True, frozenset({"POST"})

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.calls: list[str] = []

    def answer(self, request: Any, verification: Any) -> Any:
        self.calls.append("answer")
        return handshake_answer("sync")._replace(status=self.status)


class _OwnAsync(_OwnSigned):
    async def aanswer(self, request: Any, verification: Any) -> Any:
        self.calls.append("aanswer")
        return handshake_answer("async")._replace(status=self.status)


def _own_receiver(handshake: Any, **options: Any) -> tuple[Receiver, dict[str, list[Any]]]:
    receiver = Receiver(
        HandlerRegistry([Handler("own", presets.github(secret="k"), handshake=handshake)]),
        **options,
    )
    seen: dict[str, list[Any]] = {"received": [], "handshake": [], "rejected": []}
    for name, got in seen.items():
        receiver.bus.bind(f"webhook.{name}", got.append)
    return receiver, seen


def test_a_handshake_with_aanswer_is_awaited_under_areceive_only() -> None:
    own = _OwnAsync()
    receiver, seen = _own_receiver(own)
    request = sign_request(presets.github(secret="k"), b"{}", url=URL)
    assert receiver.receive(request).body == b"sync"
    assert asyncio.run(receiver.areceive(request)).body == b"async"
    assert own.calls == ["answer", "aanswer"]
    assert len(seen["handshake"]) == 2 and seen["received"] == []
    # without aanswer, areceive asks answer
    plain = _OwnSigned()
    receiver, _ = _own_receiver(plain)
    assert asyncio.run(receiver.areceive(request)).body == b"sync"


@pytest.mark.parametrize("handshake", [_OwnSigned, _OwnAsync])
def test_a_handshake_that_cannot_complete_is_503_for_a_retry_without_the_event(
    handshake: type[_OwnSigned],
) -> None:
    receiver, seen = _own_receiver(handshake(status=503), retry_after=7)
    request = sign_request(presets.github(secret="k"), b"{}", url=URL)
    for outcome in (receiver.receive(request), asyncio.run(receiver.areceive(request))):
        assert (outcome.status, outcome.reason) == (503, "handshake_unavailable")
        assert ("Retry-After", "7") in outcome.headers
        assert b"sync" not in outcome.body and b"async" not in outcome.body
    assert seen["handshake"] == [] and seen["received"] == []
    assert [r.reason for r in seen["rejected"]] == ["handshake_unavailable"] * 2
    assert seen["rejected"][0].attempts == (("own", "handshake_unavailable"),)
