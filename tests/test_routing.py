"""Event types and routing: ``Delivery.event_type`` per preset, and listeners
of ``webhook.received.<handler>`` and ``webhook.received.<handler>.<type>``
through the same bus, with the same failure semantics."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from webhookverify import (
    ConfigurationError,
    Delivery,
    EventBus,
    Handler,
    HandlerRegistry,
    Receiver,
    WebhookRequest,
    presets,
)
from webhookverify.routing import EventType, body_event_type, header_event_type, route_names
from webhookverify.testing import sign_request

URL = "https://hooks.example.test/hooks"
WHSEC = "whsec_" + "QUJD" * 8


def github_request(event: str, action: str | None, secret: str = "gh") -> WebhookRequest:
    body = json.dumps({"action": action, "n": 1} if action else {"ref": "main"}).encode()
    return sign_request(
        presets.github(secret=secret), body, url=URL, headers={"X-GitHub-Event": event}
    )


def receiver_with(*handlers: Handler) -> tuple[Receiver, list[tuple[str, str | None]]]:
    receiver = Receiver(HandlerRegistry(handlers), EventBus())
    calls: list[tuple[str, str | None]] = []
    return receiver, calls


def recorder(calls: list[tuple[str, str | None]], label: str) -> Any:
    def listen(delivery: Delivery) -> None:
        calls.append((label, delivery.event_type))

    return listen


def test_a_type_listener_runs_only_for_its_type_exactly_once() -> None:
    receiver, calls = receiver_with(
        Handler("gh", presets.github(secret="gh")), Handler("gh2", presets.github(secret="other"))
    )
    bus = receiver.bus
    general = recorder(calls, "all")
    bus.bind("webhook.received", general)
    bus.bind("webhook.received.gh", recorder(calls, "gh"))
    bus.bind("webhook.received.gh.pull_request.opened", recorder(calls, "opened"))
    bus.bind("webhook.received.gh.pull_request.opened", general)  # bound twice: runs once
    assert receiver.receive(github_request("pull_request", "opened")).status == 200
    assert calls == [
        ("all", "pull_request.opened"),
        ("gh", "pull_request.opened"),
        ("opened", "pull_request.opened"),
    ]
    calls.clear()
    assert receiver.receive(github_request("pull_request", "closed")).status == 200
    assert receiver.receive(github_request("push", None)).status == 200
    assert receiver.receive(github_request("pull_request", "opened", "other")).status == 200
    assert calls == [
        ("all", "pull_request.closed"),
        ("gh", "pull_request.closed"),
        ("all", "push"),
        ("gh", "push"),
        ("all", "pull_request.opened"),  # gh2's: not gh's listeners
    ]


def test_priorities_order_the_listeners_across_the_routes() -> None:
    receiver, calls = receiver_with(Handler("gh", presets.github(secret="gh")))
    bus = receiver.bus
    bus.bind("webhook.received", recorder(calls, "general-0"))
    bus.bind("webhook.received.gh.push", recorder(calls, "push-10"), priority=10)
    bus.bind("webhook.received.gh", recorder(calls, "gh-5"), priority=5)
    bus.bind("webhook.received", recorder(calls, "general-5"), priority=5)
    receiver.receive(github_request("push", None))
    assert [label for label, _ in calls] == ["push-10", "gh-5", "general-5", "general-0"]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_failing_type_listener_answers_500_and_releases_the_key(mode: str) -> None:
    receiver, calls = receiver_with(Handler("gh", presets.github(secret="gh")))
    fails = [True]

    def flaky(delivery: Delivery) -> None:
        calls.append(("flaky", delivery.event_type))
        if fails.pop(0) if fails else False:
            raise RuntimeError("the database is down")

    receiver.bus.bind("webhook.received", recorder(calls, "all"))
    receiver.bus.bind("webhook.received.gh.pull_request.opened", flaky)
    request = github_request("pull_request", "opened")

    def run(request: WebhookRequest) -> Any:
        if mode == "sync":
            return receiver.receive(request)
        return asyncio.run(receiver.areceive(request))

    first = run(request)
    assert (first.status, first.reason) == (500, "listener_failed")
    # the sender's retry is processed, not taken for a replay
    second = run(request)
    assert (second.status, second.reason) == (200, "accepted")
    assert run(request).reason == "duplicate"
    assert calls == [("all", "pull_request.opened"), ("flaky", "pull_request.opened")] * 2


def test_async_type_listeners_run_through_areceive() -> None:
    receiver, calls = receiver_with(Handler("gh", presets.github(secret="gh")))

    async def on_push(delivery: Delivery) -> None:
        await asyncio.sleep(0)
        calls.append(("push", delivery.event_type))

    receiver.bus.bind("webhook.received.gh.push", on_push)
    outcome = asyncio.run(receiver.areceive(github_request("push", None)))
    assert outcome.status == 200 and calls == [("push", "push")]


def test_the_event_type_is_read_only_when_a_type_listener_is_bound() -> None:
    reads: list[int] = []

    def reader(request: WebhookRequest, verification: Any) -> EventType:
        reads.append(1)
        return EventType("thing.done", True)

    handler = Handler("gh", presets.github(secret="gh"), read_event_type=reader)
    receiver, calls = receiver_with(handler)
    receiver.bus.bind("webhook.received", lambda d: None)
    receiver.receive(github_request("push", None))
    assert reads == []  # no listener below webhook.received: no route, no read
    receiver.bus.bind("webhook.received.gh", lambda d: None)
    receiver.receive(github_request("push", "x"))
    assert reads == []  # a handler listener needs no type
    receiver.bus.bind("webhook.received.gh.thing.done", recorder(calls, "done"))
    receiver.receive(github_request("push", "y"))
    assert reads == [1, 1]  # once to route, once by the listener reading delivery.event_type
    assert calls == [("done", "thing.done")]


def test_chained_routes_reach_their_targets_once() -> None:
    receiver, calls = receiver_with(Handler("gh", presets.github(secret="gh")))
    bus = receiver.bus
    audit = recorder(calls, "audit")
    bus.bind("audit", audit)
    bus.bind("webhook.received.gh", "audit")
    bus.bind("webhook.received", "audit")
    receiver.receive(github_request("push", None))
    assert calls == [("audit", "push")]


def test_has_below_follows_binding_and_unbinding() -> None:
    bus = EventBus()
    assert not bus.has_below("webhook.received")
    listener = print
    bus.bind("webhook.received.gh.push", listener)
    assert bus.has_below("webhook.received") and bus.has_below("webhook.received.gh")
    assert not bus.has_below("webhook.received.gh.push")
    bus.unbind("webhook.received.gh.push", listener)
    assert not bus.has_below("webhook.received")


def test_route_names() -> None:
    assert route_names("gh", None) == ("webhook.received", "webhook.received.gh")
    assert route_names("gh", "push") == (
        "webhook.received",
        "webhook.received.gh",
        "webhook.received.gh.push",
    )


# -- each preset's event type --------------------------------------------------------


def _delivery(verifier: Any, body: bytes, headers: dict[str, str] | None = None) -> Delivery:
    request = sign_request(verifier, body, url=URL, headers=headers)
    handler = Handler("h", verifier)
    return Delivery(handler, request, verifier.verify(request))


CASES: list[tuple[str, Any, bytes, dict[str, str] | None, str | None, bool]] = [
    (
        "github",
        presets.github(secret="k"),
        b'{"action": "opened"}',
        {"X-GitHub-Event": "pull_request"},
        "pull_request.opened",
        False,
    ),
    (
        "github-no-action",
        presets.github(secret="k"),
        b'{"ref": "main"}',
        {"X-GitHub-Event": "push"},
        "push",
        False,
    ),
    (
        "stripe",
        presets.stripe(secret="whsec_k"),
        b'{"id": "evt_1", "type": "invoice.paid"}',
        None,
        "invoice.paid",
        True,
    ),
    (
        "slack",
        presets.slack(secret="k"),
        b'{"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_mention"}}',
        None,
        "event_callback.app_mention",
        True,
    ),
    ("slack-form", presets.slack(secret="k"), b"command=%2Fweather&text=94070", None, None, False),
    (
        "standard",
        presets.standard_webhooks(secret=WHSEC),
        b'{"type": "user.created", "data": {}}',
        None,
        "user.created",
        True,
    ),
    ("svix", presets.svix(secret=WHSEC), b'{"type": "invoice.paid"}', None, "invoice.paid", True),
    (
        "shopify",
        presets.shopify(secret="k"),
        b'{"id": 1}',
        {"X-Shopify-Topic": "orders/create"},
        "orders/create",
        False,
    ),
    (
        "x",
        presets.x(secret="k"),
        b'{"for_user_id": "1", "tweet_create_events": []}',
        None,
        "tweet_create_events",
        True,
    ),
    (
        "nylas",
        presets.nylas(secret="k"),
        b'{"type": "message.created", "data": {}}',
        None,
        "message.created",
        True,
    ),
    (
        "zoom",
        presets.zoom(secret="k"),
        b'{"event": "meeting.started", "payload": {}}',
        None,
        "meeting.started",
        True,
    ),
    (
        "twitch",
        presets.twitch(secret="k-twitch-0123"),
        b'{"subscription": {"type": "channel.follow"}, "event": {}}',
        None,
        "channel.follow",
        True,
    ),
    ("meta", presets.meta(secret="k"), b'{"object": "page", "entry": []}', None, "page", True),
    (
        "paddle",
        presets.paddle(secret="pdl_ntfset_k"),
        b'{"event_id": "evt_1", "event_type": "transaction.completed"}',
        None,
        "transaction.completed",
        True,
    ),
    (
        "calendly",
        presets.calendly(secret="k"),
        b'{"event": "invitee.created", "payload": {}}',
        None,
        "invitee.created",
        True,
    ),
    (
        "typeform",
        presets.typeform(secret="k"),
        b'{"event_id": "e1", "event_type": "form_response"}',
        None,
        "form_response",
        True,
    ),
    (
        "coinbase",
        presets.coinbase_commerce(secret="k"),
        b'{"event": {"id": "1", "type": "charge:confirmed"}}',
        None,
        "charge:confirmed",
        True,
    ),
    (
        "razorpay",
        presets.razorpay(secret="k"),
        b'{"event": "payment.captured"}',
        None,
        "payment.captured",
        True,
    ),
    (
        "intercom",
        presets.intercom(secret="k"),
        b'{"id": "notif_1", "topic": "conversation.user.created"}',
        None,
        "conversation.user.created",
        True,
    ),
    (
        "bitbucket",
        presets.bitbucket(secret="k"),
        b"{}",
        {"X-Event-Key": "repo:push"},
        "repo:push",
        False,
    ),
    (
        "jira",
        presets.jira(secret="k"),
        b'{"webhookEvent": "jira:issue_created"}',
        None,
        "jira:issue_created",
        True,
    ),
    ("not-json", presets.stripe(secret="whsec_k"), b"\xff\xfe not json", None, None, False),
    (
        "type-not-a-name",
        presets.stripe(secret="whsec_k"),
        b'{"type": "has space"}',
        None,
        None,
        False,
    ),
    (
        "type-too-long",
        presets.stripe(secret="whsec_k"),
        json.dumps({"type": "t" * 201}).encode(),
        None,
        None,
        False,
    ),
    ("no-reader", presets.tiki(secret="k"), b'{"type": "x"}', None, None, False),
]


@pytest.mark.parametrize(
    ("name", "verifier", "body", "headers", "expected", "signed"), CASES, ids=[c[0] for c in CASES]
)
def test_each_preset_reads_its_event_type(
    name: str,
    verifier: Any,
    body: bytes,
    headers: dict[str, str] | None,
    expected: str | None,
    signed: bool,
) -> None:
    delivery = _delivery(verifier, body, headers)
    assert delivery.event_type == expected
    assert delivery.event_type_signed is signed


def test_an_unsigned_event_type_can_be_changed_by_whoever_replays_the_body() -> None:
    # What "unsigned" means: GitHub's signature covers the body, not X-GitHub-Event
    verifier = presets.github(secret="k")
    request = sign_request(
        verifier, b'{"action": "opened"}', url=URL, headers={"X-GitHub-Event": "issues"}
    )
    headers = {**dict(request.headers.raw_items()), "X-GitHub-Event": "pull_request"}
    replayed = request.replace(headers=headers)
    delivery = Delivery(Handler("h", verifier), replayed, verifier.verify(replayed))
    assert (delivery.event_type, delivery.event_type_signed) == ("pull_request.opened", False)


def test_readers_never_fail_a_delivery() -> None:
    def broken(request: WebhookRequest, verification: Any) -> EventType:
        raise ValueError("a bug in a reader")

    verifier = presets.github(secret="k")
    receiver = Receiver(HandlerRegistry([Handler("gh", verifier, read_event_type=broken)]))
    seen: list[Any] = []
    receiver.bus.bind("webhook.received.gh", seen.append)
    receiver.bus.bind("webhook.received.gh.anything", seen.append)
    outcome = receiver.receive(sign_request(verifier, b"{}", url=URL))
    assert outcome.status == 200 and len(seen) == 1 and seen[0].event_type is None


def test_reader_factories() -> None:
    request = WebhookRequest("POST", URL, {"X-Event": "a.b"}, b'{"k": {"t": "c.d"}}')
    assert header_event_type("X-Event")(request, None) == EventType("a.b", False)  # type: ignore[arg-type]
    assert header_event_type("X-Event", signed=True)(request, None) == EventType("a.b", True)  # type: ignore[arg-type]
    assert body_event_type("k", "t")(request, None) == EventType("c.d", True)  # type: ignore[arg-type]
    assert body_event_type("k", "missing")(request, None) is None  # type: ignore[arg-type]


def test_a_handler_name_with_a_dot_is_refused() -> None:
    # Handler "a" with event type "b" fires webhook.received.a.b: with dotted
    # names allowed, that is also every event of a handler named "a.b", whose
    # listeners would get deliveries another handler's key verified.
    with pytest.raises(ConfigurationError, match=r"must not contain '\.'"):
        Handler("a.b", presets.github(secret="s3cret"))
    assert Handler("a-b", presets.github(secret="s3cret")).name == "a-b"
