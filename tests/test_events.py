from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from webhookverify import ConfigurationError, EventBus


def test_priority_then_bind_order() -> None:
    bus = EventBus()
    seen: list[str] = []
    bus.bind("e", lambda p: seen.append("low"), priority=-1)
    bus.bind("e", lambda p: seen.append("a0"))
    bus.bind("e", lambda p: seen.append("high"), priority=10)
    bus.bind("e", lambda p: seen.append("b0"))
    bus.trigger("e", None)
    assert seen == ["high", "a0", "b0", "low"]


def test_payload_is_passed_and_unknown_event_is_quiet() -> None:
    bus = EventBus()
    got: list[Any] = []
    bus.bind("e", got.append)
    bus.trigger("e", {"x": 1})
    bus.trigger("nobody.listens", 1)
    assert got == [{"x": 1}]


def test_chaining_event_names() -> None:
    bus = EventBus()
    seen: list[tuple[str, Any]] = []
    bus.bind("webhook.received", "tiki.webhook.received")
    bus.bind("tiki.webhook.received", lambda p: seen.append(("tiki", p)))
    bus.bind("webhook.received", lambda p: seen.append(("direct", p)), priority=-5)
    bus.trigger("webhook.received", 7)
    assert seen == [("tiki", 7), ("direct", 7)]


def test_a_chain_runs_what_its_target_holds_at_each_trigger() -> None:
    # what an event runs is worked out when a binding changes: a change to a
    # chained event's listeners changes what the chaining event runs
    bus = EventBus()
    seen: list[str] = []
    bus.bind("webhook.received", "app.delivery")
    bus.trigger("webhook.received", None)
    first = seen.append
    bus.bind("app.delivery", first)
    bus.trigger_all(("webhook.received",), "one")
    bus.bind("app.delivery", lambda p: seen.append(f"high {p}"), priority=5)
    asyncio.run(bus.atrigger("webhook.received", "two"))
    bus.unbind("app.delivery", first)
    bus.trigger("webhook.received", "three")
    assert seen == ["one", "high two", "two", "high three"]


def test_chain_loops_refused() -> None:
    bus = EventBus()
    bus.bind("a", "b")
    bus.bind("b", "c")
    with pytest.raises(ConfigurationError, match="forever"):
        bus.bind("c", "a")
    with pytest.raises(ConfigurationError, match="forever"):
        bus.bind("a", "a")


def test_every_listener_runs_and_failures_come_back_together() -> None:
    bus = EventBus()
    ran: list[int] = []

    def fail(exc: Exception) -> Any:
        def listener(_: Any) -> None:
            ran.append(1)
            raise exc

        return listener

    first, second = ValueError("one"), KeyError("two")
    bus.bind("e", fail(first))
    bus.bind("e", lambda p: ran.append(2))
    bus.bind("e", fail(second))
    with pytest.raises(ExceptionGroup) as info:
        bus.trigger("e", None)
    assert ran == [1, 2, 1]
    assert list(info.value.exceptions) == [first, second]


def test_unbind() -> None:
    bus = EventBus()
    seen: list[int] = []

    def listener(p: int) -> None:
        seen.append(p)

    bus.bind("e", listener)
    bus.bind("e", "other")
    assert bus.unbind("e", listener)
    assert not bus.unbind("e", listener)
    assert bus.unbind("e", "other")
    assert bus.listeners("e") == ()
    bus.trigger("e", 1)
    assert seen == []


def test_bind_validation() -> None:
    bus = EventBus()
    with pytest.raises(ConfigurationError):
        bus.bind("", print)
    with pytest.raises(ConfigurationError):
        bus.bind("e", 42)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        bus.bind("e", print, priority="high")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        bus.bind("e", "")


def test_async_listener_from_sync_trigger() -> None:
    bus = EventBus()
    seen: list[int] = []

    async def listener(p: int) -> None:
        await asyncio.sleep(0)
        seen.append(p)

    bus.bind("e", listener)
    bus.trigger("e", 3)
    assert seen == [3]


def test_atrigger_awaits_async_and_threads_sync_in_order() -> None:
    bus = EventBus()
    seen: list[tuple[str, Any]] = []
    loop_thread: list[int] = []

    async def first(p: int) -> None:
        loop_thread.append(threading.get_ident())
        seen.append(("async", p))

    def second(p: int) -> None:
        seen.append(("sync", threading.get_ident() != loop_thread[0]))

    class AsyncCallable:
        async def __call__(self, p: int) -> None:
            seen.append(("callable", p))

    bus.bind("e", first, priority=2)
    bus.bind("e", second, priority=1)
    bus.bind("e", AsyncCallable())
    asyncio.run(bus.atrigger("e", 5))
    assert seen == [("async", 5), ("sync", True), ("callable", 5)]


def test_atrigger_collects_failures() -> None:
    bus = EventBus()

    async def bad(_: Any) -> None:
        raise RuntimeError("async")

    def worse(_: Any) -> None:
        raise ValueError("sync")

    bus.bind("e", bad)
    bus.bind("e", worse)
    with pytest.raises(ExceptionGroup) as info:
        asyncio.run(bus.atrigger("e", None))
    assert [type(e) for e in info.value.exceptions] == [RuntimeError, ValueError]


def test_async_listener_inside_running_loop_via_sync_trigger_is_reported() -> None:
    bus = EventBus()

    async def listener(_: Any) -> None:
        return None

    bus.bind("e", listener)

    async def main() -> None:
        with pytest.raises(ExceptionGroup) as info:
            bus.trigger("e", None)
        assert "atrigger" in str(info.value.exceptions[0])

    asyncio.run(main())


def test_bind_while_triggering() -> None:
    bus = EventBus()
    seen: list[str] = []

    def binder(_: Any) -> None:
        seen.append("binder")
        bus.bind("e", lambda p: seen.append("late"))

    bus.bind("e", binder)
    bus.trigger("e", None)
    assert seen == ["binder"]  # the table in force when the event fired
    bus.trigger("e", None)
    assert seen == ["binder", "binder", "late"]


@pytest.mark.parametrize(
    ("event", "chained"),
    [
        ("webhook.recieved", None),
        ("webhook.receive.github", None),
        ("webhook.rejection", None),
        ("tiki.webhook.received", "webhook.recieved"),
    ],
)
def test_a_misspelt_webhook_event_is_refused(event: str, chained: str | None) -> None:
    # A listener bound to a name the receiver never fires would never run,
    # while every delivery is answered 200 and recorded as processed: lost.
    bus = EventBus()
    with pytest.raises(ConfigurationError, match=r"did you mean 'webhook\.re"):
        bus.bind(event, chained if chained is not None else print)
    assert bus.listeners(event) == ()


def test_the_events_the_receiver_fires_and_their_routes_bind() -> None:
    bus = EventBus()
    for name in (
        "webhook.received",
        "webhook.received.github",
        "webhook.received.github.pull_request.opened",
        "webhook.duplicate",
        "webhook.rejected",
        "webhook.handshake",
        "webhooks.mine",
        "my.webhook.anything",
    ):
        bus.bind(name, print)
        assert bus.listeners(name) == (print,)
