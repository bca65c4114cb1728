"""Replay ids: a sender that signs each retry again is still recognised by its event id.

Stripe, Slack, Paddle and Box sign every attempt with a new timestamp, so two
attempts of one event never share a signed message; the event id inside the
signed body is what they share. Where a preset names such an id, the replay
key is that id, read only after the signature has passed, and never an
unsigned header.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import stripe as stripe_sdk
from slack_sdk.signature import SignatureVerifier

from webhookverify import (
    Delivery,
    EventBus,
    Handler,
    HandlerRegistry,
    HmacVerifier,
    Receiver,
    WebhookRequest,
    presets,
)
from webhookverify.errors import ConfigurationError
from webhookverify.replay import MemoryReplayStore
from webhookverify.testing import sign_request

from contract import NOW

STRIPE_SECRET = "whsec_test_secret"
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


class Clock:
    """The replay store's clock, moved by the test (the store keeps its own time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(
    verifier: Any,
    requests: Sequence[WebhookRequest],
    *,
    path: str,
    advance: Sequence[float] = (),
) -> tuple[list[str], list[str | None]]:
    """Send ``requests`` in order through one receiver, sync or async.

    Returns:
        the outcome reasons, and the delivery id of every dispatch.
    """
    clock = Clock()
    bus = EventBus()
    dispatched: list[str | None] = []
    bus.bind("webhook.received", lambda delivery: dispatched.append(delivery.delivery_id))
    receiver = Receiver(
        HandlerRegistry([Handler("sender", verifier)]),
        bus,
        replay_store=MemoryReplayStore(clock=clock),
    )
    reasons: list[str] = []
    for i, request in enumerate(requests):
        clock.now += advance[i] if i < len(advance) else 0.0
        if path == "sync":
            reasons.append(receiver.receive(request).reason)
        else:
            reasons.append(asyncio.run(receiver.areceive(request)).reason)
    return reasons, dispatched


paths = pytest.mark.parametrize("path", ["sync", "async"])


# -- Stripe: signed by stripe-python, re-signed later with a new t ----------------------


def stripe_request(body: str, at: float) -> WebhookRequest:
    header = stripe_sdk.WebhookSignature.generate_signature_header(
        body, STRIPE_SECRET, timestamp=int(at)
    )
    return WebhookRequest(
        headers={"Stripe-Signature": header}, body=body.encode("utf-8"), received_at=at
    )


def stripe_event(event_id: str) -> str:
    return json.dumps(
        {"id": event_id, "object": "event", "type": "invoice.paid", "data": {"object": {}}}
    )


@paths
def test_stripe_retry_signed_again_later_is_a_duplicate(path: str) -> None:
    event = stripe_event("evt_1NG8Du2eZvKYlo2CUI79vXWy")
    # the first attempt, Stripe's retry a minute later, and one an hour later
    attempts = [stripe_request(event, NOW), stripe_request(event, NOW + 60)]
    attempts.append(stripe_request(event, NOW + 3600))
    reasons, dispatched = run(
        presets.stripe(secret=STRIPE_SECRET), attempts, path=path, advance=(0, 60, 3540)
    )
    assert reasons == ["accepted", "duplicate", "duplicate"]
    assert dispatched == ["evt_1NG8Du2eZvKYlo2CUI79vXWy"]


@paths
def test_stripe_different_events_of_one_shape_are_each_dispatched(path: str) -> None:
    requests = [
        stripe_request(stripe_event("evt_1"), NOW),
        stripe_request(stripe_event("evt_2"), NOW),
        stripe_request(stripe_event("evt_1"), NOW + 5),
    ]
    reasons, dispatched = run(presets.stripe(secret=STRIPE_SECRET), requests, path=path)
    assert reasons == ["accepted", "accepted", "duplicate"]
    assert dispatched == ["evt_1", "evt_2"]


def test_an_id_key_outlives_the_timestamp_window_until_id_ttl() -> None:
    from webhookverify.replay import ID_TTL

    event = stripe_event("evt_late")
    verifier = presets.stripe(secret=STRIPE_SECRET)
    first, late = stripe_request(event, NOW), stripe_request(event, NOW + ID_TTL + 60)
    reasons, _ = run(verifier, [first, late], path="sync", advance=(0, ID_TTL - 60))
    assert reasons == ["accepted", "duplicate"]
    reasons, _ = run(verifier, [first, late], path="sync", advance=(0, ID_TTL + 60))
    assert reasons == ["accepted", "accepted"]


def test_a_forged_request_with_a_real_event_id_reserves_nothing() -> None:
    event = stripe_event("evt_target")
    forged = stripe_request(event, NOW)
    forged = forged.replace(headers={"Stripe-Signature": f"t={int(NOW)},v1={'0' * 64}"})
    genuine = stripe_request(event, NOW + 1)
    reasons, dispatched = run(presets.stripe(secret=STRIPE_SECRET), [forged, genuine], path="sync")
    assert reasons == ["no_handler_matched", "accepted"]
    assert dispatched == ["evt_target"]


def test_the_body_id_is_read_only_after_the_signature_passed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[object] = []
    parse = json.loads

    def spy(text: Any, **options: Any) -> Any:
        reads.append(text)
        return parse(text, **options)

    monkeypatch.setattr(json, "loads", spy)
    verifier = presets.stripe(secret=STRIPE_SECRET)
    request = stripe_request(stripe_event("evt_1"), NOW)
    with pytest.raises(Exception, match="does not match"):
        verifier.verify(request.replace(body=request.body + b" "))
    assert reads == []
    assert verifier.verify(request).delivery_id == "evt_1"
    assert reads == [request.body.decode()]


# -- Slack: signed by slack_sdk; retries carry X-Slack-Retry-Num and a new timestamp ---------


def slack_request(body: str, at: float, retry: int = 0) -> WebhookRequest:
    stamp = str(int(at))
    signature = SignatureVerifier(SLACK_SECRET).generate_signature(timestamp=stamp, body=body)
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": str(signature)}
    if retry:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return WebhookRequest(headers=headers, body=body.encode("utf-8"), received_at=at)


def slack_event(event_id: str) -> str:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T123ABC456",
            "event": {"type": "app_mention", "text": "hi", "ts": "1515449522.000016"},
            "event_id": event_id,
            "event_time": 1515449522,
        }
    )


@paths
def test_slack_retries_signed_again_are_duplicates(path: str) -> None:
    event = slack_event("Ev08MFMKH6")
    # Slack retries at once, after a minute, and after five minutes
    attempts = [slack_request(event, NOW)]
    attempts += [slack_request(event, NOW + delay, retry) for retry, delay in ((1, 4), (2, 64))]
    attempts.append(slack_request(event, NOW + 364, 3))
    reasons, dispatched = run(
        presets.slack(secret=SLACK_SECRET), attempts, path=path, advance=(0, 4, 60, 300)
    )
    assert reasons == ["accepted", "duplicate", "duplicate", "duplicate"]
    assert dispatched == ["Ev08MFMKH6"]


@paths
def test_slack_events_are_not_conflated_and_forms_fall_back_to_content(path: str) -> None:
    command = "token=x&team_id=T1&command=%2Fdeploy&text=now"
    requests = [
        slack_request(slack_event("Ev1"), NOW),
        slack_request(slack_event("Ev2"), NOW),
        # a slash command has no event id: the content hash, so the very same
        # request is a duplicate, and the same form signed again is not
        slack_request(command, NOW),
        slack_request(command, NOW),
        slack_request(command, NOW + 1),
        # url_verification is a handshake: answered, never dispatched nor keyed
        slack_request('{"type":"url_verification","challenge":"c"}', NOW),
    ]
    reasons, dispatched = run(presets.slack(secret=SLACK_SECRET), requests, path=path)
    assert reasons == ["accepted", "accepted", "accepted", "duplicate", "accepted", "handshake"]
    assert dispatched == ["Ev1", "Ev2", None, None]


# -- every preset that reads a body id -------------------------------------------------------


def _ed25519_seed() -> bytes:
    return bytes(range(32))


# (preset, its settings, where the id lives, what changes between attempts)
BODY_ID_PRESETS: list[tuple[str, Callable[[], Any], tuple[str, ...], str]] = [
    ("stripe", lambda: presets.stripe(secret="whsec_k"), ("id",), "timestamp"),
    ("slack", lambda: presets.slack(secret="k"), ("event_id",), "timestamp"),
    ("paddle", lambda: presets.paddle(secret="pdl_ntfset_k"), ("event_id",), "timestamp"),
    ("box", lambda: presets.box(secret="k"), ("id",), "timestamp"),
    ("discord", lambda: presets.discord(private_key=_ed25519_seed()), ("id",), "timestamp"),
    ("intercom", lambda: presets.intercom(secret="k"), ("id",), "delivery_attempts"),
    (
        "coinbase_commerce",
        lambda: presets.coinbase_commerce(secret="k"),
        ("event", "id"),
        "attempt_number",
    ),
    ("typeform", lambda: presets.typeform(secret="k"), ("event_id",), "body"),
    ("vercel", lambda: presets.vercel(secret="k"), ("id",), "body"),
    ("circleci", lambda: presets.circleci(secret="k"), ("id",), "body"),
    (
        "square",  # at its request URL, Square refuses a body that is not a JSON object
        lambda: presets.square(secret="k", notification_url="https://h.test/square"),
        ("event_id",),
        "body",
    ),
    ("mollie", lambda: presets.mollie(secret="k"), ("id",), "body"),
    ("lob", lambda: presets.lob(secret="k"), ("id",), "timestamp"),
]


def _body(path: tuple[str, ...], ident: str, attempt: int) -> bytes:
    value: Any = ident
    for name in reversed(path):
        value = {name: value}
    value["attempt"] = attempt  # what a sender changes between attempts, if anything
    return json.dumps(value).encode()


@pytest.mark.parametrize("path", ["sync", "async"])
@pytest.mark.parametrize(
    ("name", "make", "field", "changes"), BODY_ID_PRESETS, ids=[p[0] for p in BODY_ID_PRESETS]
)
def test_each_body_id_preset_recognises_a_retry_by_its_signed_id(
    name: str, make: Callable[[], Any], field: tuple[str, ...], changes: str, path: str
) -> None:
    verifier = make()
    assert verifier.replay_default == "id"
    # a retry that is signed again a few seconds later, its body changed where
    # the sender changes it; then another event of the same shape
    retry_at = NOW + 3
    requests = [
        sign_request(verifier, _body(field, "ev_A", 1), now=NOW),
        sign_request(verifier, _body(field, "ev_A", 2), now=retry_at),
        sign_request(verifier, _body(field, "ev_B", 1), now=retry_at),
    ]
    reasons, dispatched = run(verifier, requests, path=path, advance=(0, 3, 0))
    assert reasons == ["accepted", "duplicate", "accepted"], name
    assert dispatched == ["ev_A", "ev_B"]


@pytest.mark.parametrize(
    ("name", "make", "field", "changes"), BODY_ID_PRESETS, ids=[p[0] for p in BODY_ID_PRESETS]
)
def test_a_verified_body_without_a_usable_id_falls_back_to_content(
    name: str, make: Callable[[], Any], field: tuple[str, ...], changes: str
) -> None:
    from webhookverify.verifiers import MAX_ID_LENGTH

    verifier = make()
    for body in (
        b"not json",
        b'["id"]',
        b"{}",
        json.dumps({field[0]: 7}).encode(),
        json.dumps({field[0]: ""}).encode(),
        _body(field, "x" * (MAX_ID_LENGTH + 1), 1),
        b"[" * 100_000,
        b'{"id": "\xff"}',
    ):
        verification = verifier.verify(sign_request(verifier, body, now=NOW))
        assert verification.delivery_id is None, (name, body[:20])
    reasons, dispatched = run(verifier, [sign_request(verifier, b"{}", now=NOW)] * 2, path="sync")
    assert reasons == ["accepted", "duplicate"]


# -- an unsigned header is never the key -----------------------------------------------------


@pytest.mark.parametrize(
    ("make", "header"),
    [
        (lambda: presets.github(secret="k"), "X-GitHub-Delivery"),
        (lambda: presets.shopify(secret="k"), "X-Shopify-Webhook-Id"),
        (lambda: presets.bitbucket(secret="k"), "X-Request-UUID"),
        (lambda: presets.razorpay(secret="k"), "x-razorpay-event-id"),
        (lambda: presets.stripe(secret="whsec_k"), "Idempotency-Key"),
        (lambda: presets.box(secret="k"), "box-delivery-id"),
    ],
)
@paths
def test_an_unsigned_header_id_never_changes_the_key(make: Any, header: str, path: str) -> None:
    verifier = make()
    body = b'{"id": "evt_1", "event_id": "e1"}'
    requests = [
        sign_request(verifier, body, now=NOW, headers={header: f"delivery-{i}"}) for i in range(2)
    ]
    keys = [
        Receiver(HandlerRegistry([Handler("h", verifier)])).receive(r).delivery.replay_key
        for r in requests
    ]
    assert keys[0] == keys[1]
    reasons, _ = run(verifier, requests, path=path)
    assert reasons == ["accepted", "duplicate"]


def test_the_delivery_carries_the_signed_body_id() -> None:
    verifier = presets.stripe(secret="whsec_k")
    seen: list[Delivery] = []
    bus = EventBus()
    bus.bind("webhook.received", seen.append)
    Receiver(HandlerRegistry([Handler("stripe", verifier)]), bus).receive(
        sign_request(verifier, stripe_event("evt_9"), now=NOW)
    )
    assert seen[0].delivery_id == "evt_9"
    assert ":id:" in str(seen[0].replay_key)


# -- the option itself -----------------------------------------------------------------------


def test_id_field_configuration() -> None:
    nested = HmacVerifier(secret="k", header="S", id_field=("event", "id"))
    assert nested.id_field == ("event", "id") and nested.replay_default == "id"
    assert HmacVerifier(secret="k", header="S", id_field="id").id_field == ("id",)
    assert HmacVerifier(secret="k", header="S").replay_default == "content"
    for bad in ("", (), ("a", ""), ("a",) * 5, 3, ("a", 3)):
        with pytest.raises(ConfigurationError, match="id_field"):
            HmacVerifier(secret="k", header="S", id_field=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="use one of them"):
        HmacVerifier(secret="k", header="S", template="{id}{body}", id_header="Id", id_field="id")


def test_security_doc_lists_the_replay_id_of_every_preset() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "security.md").read_text()
    section = text.split("## Replay ids by preset", 1)[1].split("\n## ", 1)[0]
    rows = {
        line.split("|")[1].strip().strip("`") for line in section.splitlines() if line[:3] == "| `"
    }
    assert rows == set(presets.PRESETS)
    for name in presets.PRESETS:
        verifier_doc = getattr(presets, name).__doc__ or ""
        assert "Replay id:" in verifier_doc, name


def test_a_retry_sent_while_the_event_still_runs_waits_sync() -> None:
    # Slack retries after three seconds without an answer: the listener may still run
    event = slack_event("EvSlow")
    first, retry = slack_request(event, NOW), slack_request(event, NOW + 3, retry=1)
    started, finish = threading.Event(), threading.Event()
    dispatched: list[str | None] = []

    def slow(delivery: Delivery) -> None:
        dispatched.append(delivery.delivery_id)
        started.set()
        assert finish.wait(5)

    bus = EventBus()
    bus.bind("webhook.received", slow)
    receiver = Receiver(
        HandlerRegistry([Handler("slack", presets.slack(secret=SLACK_SECRET))]), bus
    )
    outcomes: list[str] = []
    worker = threading.Thread(target=lambda: outcomes.append(receiver.receive(first).reason))
    worker.start()
    assert started.wait(10)
    during = receiver.receive(retry)
    finish.set()
    worker.join(10)
    assert (during.status, during.reason, outcomes) == (409, "in_flight", ["accepted"])
    assert receiver.receive(retry).reason == "duplicate"
    assert dispatched == ["EvSlow"]


def test_a_retry_sent_while_the_event_still_runs_waits_async() -> None:
    event = slack_event("EvSlow")
    first, retry = slack_request(event, NOW), slack_request(event, NOW + 3, retry=1)
    dispatched: list[str | None] = []

    async def main() -> list[str]:
        started, finish = asyncio.Event(), asyncio.Event()

        async def slow(delivery: Delivery) -> None:
            dispatched.append(delivery.delivery_id)
            started.set()
            await asyncio.wait_for(finish.wait(), 5)

        bus = EventBus()
        bus.bind("webhook.received", slow)
        registry = HandlerRegistry([Handler("slack", presets.slack(secret=SLACK_SECRET))])
        receiver = Receiver(registry, bus)
        running = asyncio.ensure_future(receiver.areceive(first))
        await started.wait()
        during = await receiver.areceive(retry)
        finish.set()
        done = await running
        after = await receiver.areceive(retry)
        return [done.reason, during.reason, after.reason]

    assert asyncio.run(main()) == ["accepted", "in_flight", "duplicate"]
    assert dispatched == ["EvSlow"]


class TtlStore(MemoryReplayStore):
    """A memory store that records the ttl each key was reserved with."""

    def __init__(self) -> None:
        super().__init__()
        self.ttls: list[float] = []

    def reserve(self, key: str, ttl: float, lease: float) -> Any:
        self.ttls.append(ttl)
        return super().reserve(key, ttl, lease)


@pytest.mark.parametrize(
    ("replay_ttl", "body", "expected"),
    [
        (None, stripe_event("evt_1"), "id_ttl"),  # a signed id: three days
        (None, '{"object": "event"}', 600.0),  # no id: content, the window (300 + 300)
        (7200.0, stripe_event("evt_1"), 7200.0),  # the handler's setting wins
        (60.0, stripe_event("evt_1"), 600.0),  # but never below the window
    ],
)
def test_id_keys_are_remembered_for_id_ttl_unless_the_handler_says(
    replay_ttl: float | None, body: str, expected: Any
) -> None:
    from webhookverify.replay import ID_TTL

    store = TtlStore()
    handler = Handler("stripe", presets.stripe(secret=STRIPE_SECRET), replay_ttl=replay_ttl)
    Receiver(HandlerRegistry([handler]), replay_store=store).receive(stripe_request(body, NOW))
    assert store.ttls == [ID_TTL if expected == "id_ttl" else expected]
