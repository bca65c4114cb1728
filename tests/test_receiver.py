"""The receive pipeline: the Tiki scenario end to end, and every status."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest

from webhookverify import (
    ConfigurationError,
    Delivery,
    EventBus,
    Handler,
    HandlerRegistry,
    HmacVerifier,
    PayloadError,
    Receiver,
    Rejection,
    ReplayStoreUnavailable,
    TokenVerifier,
    WebhookRequest,
)
from webhookverify.replay import MemoryReplayStore, Reservation, ReserveResult
from webhookverify.testing import sign_request

NOW = 1_700_000_000.0


def tiki_verifier(secret: str, encoding: Any = "base64") -> HmacVerifier:
    return HmacVerifier(secret=secret, header="Webhook-Signature", encoding=encoding)


def twitch_verifier(secret: str) -> HmacVerifier:
    return HmacVerifier(
        secret=secret,
        header="Twitch-Eventsub-Message-Signature",
        prefix="sha256=",
        template="{id}{timestamp}{body}",
        id_header="Twitch-Eventsub-Message-Id",
        timestamp_header="Twitch-Eventsub-Message-Timestamp",
        timestamp_format="rfc3339",
    )


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


@pytest.fixture
def tiki() -> tuple[Receiver, Recorder, dict[str, Handler]]:
    handlers = {
        "crm": Handler("crm", tiki_verifier("crm-secret"), user="crm-bot"),
        "shop": Handler("shop", tiki_verifier("shop-secret", "hex"), user="shop-bot"),
        "old": Handler("old", tiki_verifier("old-secret"), user="old-bot", enabled=False),
    }
    bus = EventBus()
    recorder = Recorder()
    bus.bind("webhook.received", recorder)
    receiver = Receiver(HandlerRegistry(handlers.values()), bus, replay_store=MemoryReplayStore())
    return receiver, recorder, handlers


def test_tiki_scenario(tiki: tuple[Receiver, Recorder, dict[str, Handler]]) -> None:
    receiver, recorder, handlers = tiki
    # the second handler matches, and its user is on the delivery
    outcome = receiver.receive(sign_request(handlers["shop"].verifier, b'{"order": 1}'))
    assert outcome.status == 200
    assert outcome.reason == "accepted"
    assert [d.user for d in recorder.deliveries] == ["shop-bot"]
    delivery = recorder.deliveries[0]
    assert delivery.handler is handlers["shop"]
    assert delivery.json() == {"order": 1}
    assert delivery.request.body == b'{"order": 1}'
    assert outcome.delivery is delivery
    # a disabled handler never matches, whatever it signed
    refused = receiver.receive(sign_request(handlers["old"].verifier, b"{}"))
    assert refused.status == 401
    # access switched off: 403 for everyone
    receiver.registry.enabled = False
    assert receiver.receive(sign_request(handlers["crm"].verifier, b"{}")).status == 403
    assert len(recorder.deliveries) == 1


def test_401_body_is_generic_whatever_the_reason(
    tiki: tuple[Receiver, Recorder, dict[str, Handler]],
) -> None:
    receiver, recorder, handlers = tiki
    good = sign_request(handlers["crm"].verifier, b"{}")
    variants = [
        good.replace(body=b"{ }"),
        good.replace(headers={"Webhook-Signature": "!!"}),
        good.replace(headers={}),
        sign_request(tiki_verifier("wrong"), b"{}"),
    ]
    outcomes = [receiver.receive(v) for v in variants]
    assert {o.status for o in outcomes} == {401}
    assert len({(o.body, o.headers) for o in outcomes}) == 1
    for o in outcomes:
        assert b"crm" not in o.body
        assert b"mismatch" not in o.body
    assert recorder.deliveries == []


def test_rejected_event_carries_reasons_and_listener_failures_change_nothing() -> None:
    handler = Handler("a", tiki_verifier("s"))
    bus = EventBus()
    rejections: list[Rejection] = []
    bus.bind("webhook.rejected", rejections.append)
    bus.bind("webhook.rejected", lambda r: 1 / 0)
    receiver = Receiver(HandlerRegistry([handler]), bus)
    outcome = receiver.receive(sign_request(tiki_verifier("x")))
    assert outcome.status == 401
    assert rejections[0].status == 401
    assert rejections[0].attempts == (("a", "signature_mismatch"),)
    assert rejections[0].reason == "no_handler_matched"


def test_listener_failure_then_retry_then_replay(
    tiki: tuple[Receiver, Recorder, dict[str, Handler]],
) -> None:
    receiver, recorder, handlers = tiki
    duplicates: list[Delivery] = []
    receiver.bus.bind("webhook.duplicate", duplicates.append)
    request = sign_request(handlers["crm"].verifier, b'{"n": 1}')
    recorder.fail_next = 1
    failed = receiver.receive(request)
    assert failed.status == 500
    assert failed.reason == "listener_failed"
    # the sender retries the same delivery: it is processed, not taken for a replay
    retried = receiver.receive(request)
    assert retried.status == 200
    assert len(recorder.deliveries) == 1
    # a later replay is acknowledged and not dispatched again
    replayed = receiver.receive(request)
    assert replayed.status == 200
    assert replayed.reason == "duplicate"
    assert len(recorder.deliveries) == 1
    assert [d.request.body for d in duplicates] == [b'{"n": 1}']


def test_signed_delivery_id_is_the_replay_key() -> None:
    verifier = twitch_verifier("s")
    recorder = Recorder()
    bus = EventBus()
    bus.bind("webhook.received", recorder)
    receiver = Receiver(HandlerRegistry([Handler("twitch", verifier)]), bus)
    first = sign_request(verifier, b'{"a":1}', now=NOW, id="msg-1")
    again = sign_request(verifier, b'{"a":1}', now=NOW + 1, id="msg-1")  # new timestamp, same id
    other = sign_request(verifier, b'{"a":1}', now=NOW, id="msg-2")
    for request in (first, again, other):
        receiver.receive(request, now=NOW)
    assert [d.delivery_id for d in recorder.deliveries] == ["msg-1", "msg-2"]


def test_replay_keys_are_namespaced_by_handler() -> None:
    with pytest.raises(ConfigurationError):
        Handler("a", TokenVerifier(secret="t", header="X-A"), replay="content")
    a = Handler("a", TokenVerifier(secret="t", header="X-A"))
    with pytest.raises(ConfigurationError):
        Handler("b", tiki_verifier("s"), replay="never")  # type: ignore[arg-type]
    recorder = Recorder()
    bus = EventBus()
    bus.bind("webhook.received", recorder)
    receiver = Receiver(HandlerRegistry([a]), bus)
    # a token signs nothing: there is nothing to key on, so both go through
    request = WebhookRequest(headers={"X-A": "t"}, body=b"x")
    receiver.receive(request)
    receiver.receive(request)
    assert len(recorder.deliveries) == 2


def test_concurrent_duplicates_dispatch_exactly_once() -> None:
    handler = Handler("a", tiki_verifier("s"))
    count = 0
    gate = threading.Barrier(16)
    lock = threading.Lock()

    def slow(_: Delivery) -> None:
        nonlocal count
        with lock:
            count += 1
        time.sleep(0.05)

    bus = EventBus()
    bus.bind("webhook.received", slow)
    receiver = Receiver(HandlerRegistry([handler]), bus)
    request = sign_request(handler.verifier, b'{"same": true}')
    statuses: list[int] = []

    def send() -> None:
        gate.wait()
        statuses.append(receiver.receive(request).status)

    threads = [threading.Thread(target=send) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count == 1
    assert statuses.count(200) >= 1
    assert set(statuses) <= {200, 409}
    assert statuses.count(200) + statuses.count(409) == 16


def test_in_flight_answers_409_with_retry_after() -> None:
    handler = Handler("a", tiki_verifier("s"))
    store = MemoryReplayStore()
    receiver = Receiver(HandlerRegistry([handler]), replay_store=store, retry_after=7)
    request = sign_request(handler.verifier, b"{}")
    # another worker holds the key
    match = receiver.registry.verify(request)
    key, ttl = receiver._key(match)
    assert key is not None
    assert isinstance(store.reserve(key, ttl, 60), Reservation)
    outcome = receiver.receive(request)
    assert outcome.status == 409
    assert ("Retry-After", "7") in outcome.headers


class DownStore:
    def reserve(self, key: str, ttl: float, lease: float) -> Reservation | ReserveResult:
        raise ReplayStoreUnavailable("down")

    def commit(self, reservation: Reservation) -> None:
        raise ReplayStoreUnavailable("down")

    def release(self, reservation: Reservation) -> None:
        raise ReplayStoreUnavailable("down")


def test_store_down_fails_closed_with_503() -> None:
    handler = Handler("a", tiki_verifier("s"))
    recorder = Recorder()
    bus = EventBus()
    bus.bind("webhook.received", recorder)
    receiver = Receiver(HandlerRegistry([handler]), bus, replay_store=DownStore())
    outcome = receiver.receive(sign_request(handler.verifier))
    assert outcome.status == 503
    assert any(name == "Retry-After" for name, _ in outcome.headers)
    assert recorder.deliveries == []
    # replay off for this handler: the store is not needed
    off = Handler("b", tiki_verifier("t"), replay="off")
    receiver.registry.add(off)
    assert receiver.receive(sign_request(off.verifier)).status == 200


def test_logs_carry_structured_fields_and_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="webhookverify")
    handler = Handler("crm", tiki_verifier("very-secret-value"), user="u")
    receiver = Receiver(HandlerRegistry([handler]))
    receiver.receive(sign_request(handler.verifier, b"{}"))
    receiver.receive(sign_request(tiki_verifier("nope"), b"{}"))
    records = [r for r in caplog.records if r.name == "webhookverify"]
    fields = [getattr(r, "webhookverify", None) for r in records]
    assert any(f and f.get("handler") == "crm" and f.get("reason") == "accepted" for f in fields)
    assert any(f and f.get("attempts") == (("crm", "signature_mismatch"),) for f in fields)
    assert "very-secret-value" not in caplog.text


def test_the_refusal_log_line_says_why_each_handler_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The line a default formatter prints (gunicorn's, uvicorn's, Lambda's):
    # a newcomer whose genuine deliveries get 401 must read the reason there,
    # not only in record.webhookverify, which no default formatter shows.
    caplog.set_level("WARNING", logger="webhookverify")
    crm = Handler("crm", tiki_verifier("very-secret-value"), user="u")
    twitch = Handler("twitch", twitch_verifier("other-secret-value"))
    receiver = Receiver(HandlerRegistry([crm, twitch]))
    receiver.receive(sign_request(tiki_verifier("a guess"), b"{}"))
    receiver.receive(WebhookRequest(method="POST", url="https://h/", headers={}, body=b"{}"))
    lines = [r.getMessage() for r in caplog.records if r.name == "webhookverify"]
    assert [line.partition(";")[0] for line in lines] == [
        "webhook refused (401 no_handler_matched: crm signature_mismatch",
        "webhook refused (401 no_handler_matched: crm missing_header, twitch missing_header",
    ]
    # and what to check for the closest handler's reason
    assert "check the secret against the sender's webhook settings" in lines[0]
    assert "that a proxy passes the signature headers on" in lines[1]
    assert "very-secret-value" not in caplog.text


def test_the_refusal_log_line_stays_short_with_many_handlers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("WARNING", logger="webhookverify")
    handlers = [Handler(f"h{i}", tiki_verifier(f"secret-{i}")) for i in range(30)]
    receiver = Receiver(HandlerRegistry(handlers))
    receiver.receive(sign_request(tiki_verifier("a guess"), b"{}"))
    [line] = [r.getMessage() for r in caplog.records if r.name == "webhookverify"]
    assert "h7 signature_mismatch, and 22 more; check the secret" in line
    assert "h8" not in line


def test_delivery_json_is_strict() -> None:
    handler = Handler("a", tiki_verifier("s"))

    def delivery(body: bytes) -> Delivery:
        request = sign_request(handler.verifier, body)
        return Delivery(handler, request, handler.verifier.verify(request))

    assert delivery(b'{"a": [1, 2.5, null]}').json() == {"a": [1, 2.5, None]}
    for bad in (b'{"a": NaN}', b"[Infinity]", b"\xff", b"{", b"[" * 100 + b"]" * 100):
        with pytest.raises(PayloadError):
            delivery(bad).json()
    with pytest.raises(PayloadError):
        delivery(b"[" * 100_000 + b"]" * 100_000).json()
    d = delivery(b"{}")
    assert d.user is None
    assert d.received_at == d.request.received_at
    assert "a" in repr(d)


def test_a_form_encoded_body_says_how_to_get_json() -> None:
    # GitHub's webhook form defaults to application/x-www-form-urlencoded: the
    # JSON error alone ("Expecting value: line 1 column 1") names no setting.
    handler = Handler("github", tiki_verifier("s"))
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    request = sign_request(handler.verifier, b"payload=%7B%22a%22%3A1%7D", headers=form)
    delivery = Delivery(handler, request, handler.verifier.verify(request))
    with pytest.raises(PayloadError) as info:
        delivery.json()
    assert str(info.value) == (
        "the body is not valid JSON: it was sent as application/x-www-form-urlencoded; "
        "set the sender's content type to application/json (GitHub: the webhook's "
        "Content type), or parse delivery.body as a form"
    )


def test_a_delivery_no_listener_takes_is_not_dropped_in_silence(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # WebhookApp(Receiver(registry)) with the bind() forgotten answered 200 and
    # recorded every delivery as processed, so not even a retry would run it.
    caplog.set_level("WARNING", logger="webhookverify")
    handler = Handler("crm", tiki_verifier("s"))
    receiver = Receiver(HandlerRegistry([handler]))
    assert receiver.receive(sign_request(handler.verifier, b'{"n": 1}')).status == 200
    assert asyncio.run(receiver.areceive(sign_request(handler.verifier, b'{"n": 2}'))).status == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "webhookverify"]
    assert lines == 2 * [
        "a verified delivery of 'crm' reached no listener: bind one with "
        "receiver.bus.bind('webhook.received', on_delivery)"
    ]
    caplog.clear()
    receiver.bus.bind("webhook.received.crm", lambda delivery: None)
    receiver.receive(sign_request(handler.verifier, b'{"n": 3}'))
    receiver.receive(sign_request(handler.verifier, b'{"n": 4}'), dispatch=lambda d: None)
    assert not [r for r in caplog.records if r.name == "webhookverify"]


def test_a_chain_that_ends_at_no_listener_is_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # a chained name is not a listener: the delivery still reaches no code
    handler = Handler("crm", HmacVerifier(secret="s" * 16, header="X-Sig"))
    receiver = Receiver(HandlerRegistry([handler]))
    receiver.bus.bind("webhook.received", "crm.delivered")
    caplog.set_level("WARNING", logger="webhookverify")
    assert receiver.receive(sign_request(handler.verifier, b'{"n": 1}')).status == 200
    assert asyncio.run(receiver.areceive(sign_request(handler.verifier, b'{"n": 2}'))).status == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "webhookverify"]
    assert len(lines) == 2 and all("reached no listener" in line for line in lines)
    caplog.clear()
    seen: list[bytes] = []
    receiver.bus.bind("crm.delivered", lambda delivery: seen.append(delivery.body))
    receiver.receive(sign_request(handler.verifier, b'{"n": 3}'))
    assert seen == [b'{"n": 3}']
    assert not [r for r in caplog.records if r.name == "webhookverify"]


def test_trigger_all_counts_the_listeners_it_ran() -> None:
    bus = EventBus()
    assert bus.trigger_all(("webhook.received",), None) == 0
    bus.bind("webhook.received", lambda payload: None)
    bus.bind("webhook.received.crm", lambda payload: None)
    bus.bind("webhook.received.crm", "crm.delivered")
    bus.bind("crm.delivered", lambda payload: None)
    assert bus.trigger_all(("webhook.received", "webhook.received.crm"), None) == 3
    assert asyncio.run(bus.atrigger_all(("webhook.received",), None)) == 1


def test_receiver_configuration_errors() -> None:
    registry = HandlerRegistry()
    for kwargs in (
        {"lease": 0},
        {"lease": float("nan")},
        {"retry_after": -1},
        {"success_status": 302},
        {"time_budget": -1},
        {"replay_store": object()},
    ):
        with pytest.raises(ConfigurationError):
            Receiver(registry, **kwargs)
    with pytest.raises(ConfigurationError):
        Receiver(object())  # type: ignore[arg-type]


# -- async -------------------------------------------------------------------------


def test_areceive_awaits_async_listeners_and_keeps_replay_guard() -> None:
    handler = Handler("a", tiki_verifier("s"))
    seen: list[bytes] = []

    async def listener(delivery: Delivery) -> None:
        await asyncio.sleep(0)
        seen.append(delivery.request.body)

    bus = EventBus()
    bus.bind("webhook.received", listener)
    receiver = Receiver(HandlerRegistry([handler]), bus)
    request = sign_request(handler.verifier, b"[1]")

    async def main() -> list[int]:
        return [(await receiver.areceive(request)).status for _ in range(2)]

    assert asyncio.run(main()) == [200, 200]
    assert seen == [b"[1]"]


def test_areceive_listener_failure_releases_key() -> None:
    handler = Handler("a", tiki_verifier("s"))
    attempts: list[int] = []

    async def flaky(_: Delivery) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("boom")

    bus = EventBus()
    bus.bind("webhook.received", flaky)
    receiver = Receiver(HandlerRegistry([handler]), bus)
    request = sign_request(handler.verifier)

    async def main() -> list[int]:
        return [(await receiver.areceive(request)).status for _ in range(3)]

    assert asyncio.run(main()) == [500, 200, 200]
    assert len(attempts) == 2


def test_areceive_time_budget_answers_202_and_finishes_in_background() -> None:
    handler = Handler("a", tiki_verifier("s"))
    done: list[str] = []

    async def slow(_: Delivery) -> None:
        await asyncio.sleep(0.3)
        done.append("slow")

    bus = EventBus()
    bus.bind("webhook.received", slow)
    store = MemoryReplayStore()
    receiver = Receiver(HandlerRegistry([handler]), bus, replay_store=store, time_budget=0.05)
    request = sign_request(handler.verifier)

    async def main() -> tuple[int, int, int]:
        first = await receiver.areceive(request)
        assert first.pending is not None
        during = await receiver.areceive(request)  # still in flight
        await first.pending
        after = await receiver.areceive(request)  # committed: a duplicate now
        return first.status, during.status, after.status

    assert asyncio.run(main()) == (202, 409, 200)
    assert done == ["slow"]


def test_areceive_uses_sync_store_in_thread_and_rejects() -> None:
    handler = Handler("a", tiki_verifier("s"))

    class SyncOnly(MemoryReplayStore):
        blocking = True
        areserve = None  # type: ignore[assignment]
        acommit = None  # type: ignore[assignment]
        arelease = None  # type: ignore[assignment]

    rejected: list[Rejection] = []

    async def on_reject(r: Rejection) -> None:
        rejected.append(r)

    bus = EventBus()
    bus.bind("webhook.rejected", on_reject)
    receiver = Receiver(HandlerRegistry([handler]), bus, replay_store=SyncOnly())

    async def main() -> list[int]:
        good = await receiver.areceive(sign_request(handler.verifier))
        bad = await receiver.areceive(sign_request(tiki_verifier("x")))
        return [good.status, bad.status]

    assert asyncio.run(main()) == [200, 401]
    assert [r.status for r in rejected] == [401]


def test_chained_tiki_event_name() -> None:
    handler = Handler("a", tiki_verifier("s"), user="admin")
    bus = EventBus()
    bus.bind("webhook.received", "tiki.webhook.received")
    got: list[str | None] = []
    bus.bind("tiki.webhook.received", lambda d: got.append(d.user))
    Receiver(HandlerRegistry([handler]), bus).receive(sign_request(handler.verifier))
    assert got == ["admin"]
    assert json.dumps(got) == '["admin"]'


class TouchedStore:
    """A replay store that records every call, sync and async."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def reserve(self, key: str, ttl: float, lease: float) -> Reservation | ReserveResult:
        self.calls.append("reserve")
        return Reservation(key, "t", ttl)

    def commit(self, reservation: Reservation) -> None:
        self.calls.append("commit")

    def release(self, reservation: Reservation) -> None:
        self.calls.append("release")

    async def areserve(self, key: str, ttl: float, lease: float) -> Reservation | ReserveResult:
        return self.reserve(key, ttl, lease)

    async def acommit(self, reservation: Reservation) -> None:
        self.commit(reservation)

    async def arelease(self, reservation: Reservation) -> None:
        self.release(reservation)


@pytest.mark.parametrize("mode", ["off", "content"])
def test_replay_off_never_touches_the_store_and_dispatches_every_time(mode: Any) -> None:
    handler = Handler("a", tiki_verifier("s"), replay=mode)
    store = TouchedStore()
    bus = EventBus()
    recorder = Recorder()
    bus.bind("webhook.received", recorder)
    receiver = Receiver(HandlerRegistry([handler]), bus, replay_store=store)
    request = sign_request(handler.verifier, b"{}")
    outcomes = [receiver.receive(request), asyncio.run(receiver.areceive(request))]
    assert [o.status for o in outcomes] == [200, 200]
    assert [o.delivery.replay_key is None for o in outcomes if o.delivery] == [mode == "off"] * 2
    assert len(recorder.deliveries) == 2
    if mode == "off":
        assert store.calls == []
    else:  # the store reserved both times: reserved and committed twice
        assert store.calls == ["reserve", "commit"] * 2


def test_outcomes_and_deliveries_are_the_named_tuples_they_claim() -> None:
    handler = Handler("a", tiki_verifier("s"), user="bot", replay="off")
    receiver = Receiver(HandlerRegistry([handler]), success_status=204)
    outcome = asyncio.run(receiver.areceive(sign_request(handler.verifier, b'{"a": 1}')))
    assert outcome == (
        204,
        (("Content-Type", "text/plain; charset=utf-8"),),
        b"",
        outcome.delivery,
        "accepted",
        None,
        None,
    )
    delivery = outcome.delivery
    assert delivery is not None and delivery.user == "bot" and delivery.json() == {"a": 1}
    assert delivery._fields == ("handler", "request", "verification", "replay_key")


# -- the dispatch step, given explicitly -------------------------------------------------


def _dispatch_receiver(**options: Any) -> tuple[Receiver, Recorder, Handler]:
    handler = Handler("a", tiki_verifier("s"))
    bus = EventBus()
    listener = Recorder()
    bus.bind("webhook.received", listener)
    return Receiver(HandlerRegistry([handler]), bus, **options), listener, handler


def test_dispatch_replaces_the_bus_and_commits_on_return() -> None:
    receiver, listener, handler = _dispatch_receiver()
    request = sign_request(handler.verifier, b'{"n": 1}')
    dispatched: list[Delivery] = []
    outcome = receiver.receive(request, dispatch=dispatched.append)
    assert (outcome.status, outcome.reason) == (200, "accepted")
    assert [d.request for d in dispatched] == [request] and dispatched[0] is outcome.delivery
    assert listener.deliveries == []  # the bus's webhook.received did not fire
    again = receiver.receive(request, dispatch=dispatched.append)
    assert again.reason == "duplicate" and len(dispatched) == 1  # the key was committed


def test_a_dispatch_that_declines_or_raises_releases_the_key() -> None:
    from webhookverify import DeliveryDeclined

    receiver, listener, handler = _dispatch_receiver()
    request = sign_request(handler.verifier, b"{}")

    def decline(delivery: Delivery) -> None:
        raise DeliveryDeclined("the app answered 422", status=422)

    def fail(delivery: Delivery) -> None:
        raise RuntimeError("the app failed")

    assert receiver.receive(request, dispatch=decline).reason == "declined"
    assert receiver.receive(request, dispatch=fail).reason == "listener_failed"
    done = receiver.receive(request)  # the retry is processed, by the bus this time
    assert done.reason == "accepted" and len(listener.deliveries) == 1


def test_areceive_awaits_the_dispatch_and_keeps_the_time_budget() -> None:
    receiver, listener, handler = _dispatch_receiver(time_budget=0.05)
    seen: list[bytes] = []

    async def app(delivery: Delivery) -> None:
        seen.append(delivery.body)

    async def slow(delivery: Delivery) -> None:
        await asyncio.sleep(0.2)

    async def scenario() -> tuple[Any, Any, Any]:
        fast = await receiver.areceive(sign_request(handler.verifier, b"1"), dispatch=app)
        late = await receiver.areceive(sign_request(handler.verifier, b"2"), dispatch=slow)
        assert late.pending is not None
        return fast, late, await late.pending

    fast, late, (failure, settled) = asyncio.run(scenario())
    assert (fast.reason, seen) == ("accepted", [b"1"])
    assert (late.status, late.reason) == (202, "accepted_late")
    assert failure is None and settled
    assert listener.deliveries == []
