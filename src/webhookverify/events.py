"""A small event bus, after Tiki's event manager.

Listeners bind to an event name with a priority; higher priority runs first,
equal priority in bind order. Binding an event name to another event name
chains them: triggering the first triggers the second with the same payload.
Every listener runs even when one fails; the failures come back together as
one :class:`ExceptionGroup`.

Binding and unbinding copy the listener table and swap it in, so triggering
never takes a lock and a listener may bind or unbind while events fire.
"""

from __future__ import annotations

import inspect
import itertools
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from ._suggest import did_you_mean
from .errors import ConfigurationError

__all__ = [
    "DUPLICATE",
    "HANDSHAKE",
    "RECEIVED",
    "REJECTED",
    "EventBus",
    "Listener",
]

RECEIVED = "webhook.received"
"""Payload: a :class:`~webhookverify.Delivery`, verified and new."""
DUPLICATE = "webhook.duplicate"
"""Payload: the :class:`~webhookverify.Delivery` that was not dispatched again."""
REJECTED = "webhook.rejected"
"""Payload: a :class:`~webhookverify.Rejection` (request, status, per-handler reasons)."""
HANDSHAKE = "webhook.handshake"
"""Payload: a :class:`~webhookverify.handshake.HandshakeEvent` (an endpoint check answered)."""

FIRED = (RECEIVED, DUPLICATE, REJECTED, HANDSHAKE)
"""The events the receiver fires; routes hang below them
(``webhook.received.<handler>.<event type>``, see :mod:`webhookverify.routing`)."""

Listener: TypeAlias = Callable[[Any], "object | Awaitable[object]"]
_Target: TypeAlias = "Listener | str"
# (sort key, target): sort key is (-priority, bind sequence)
_Entry: TypeAlias = tuple[tuple[int, int], _Target]


class EventBus:
    """Bind listeners to event names; trigger events with one payload."""

    def __init__(self) -> None:
        self._table: dict[str, tuple[_Entry, ...]] = {}
        # what each bound event runs, chains flattened: made with the table
        self._plans: dict[str, tuple[tuple[Listener, bool], ...]] = {}
        self._lock = threading.Lock()
        self._sequence = itertools.count()
        # every proper dotted prefix of a bound name ("webhook.received" once
        # "webhook.received.github" is bound): has_below() in one set lookup
        self._below: frozenset[str] = frozenset()

    # -- binding -------------------------------------------------------------------

    def bind(self, event: str, callback: Listener | str, priority: int = 0) -> None:
        """Run ``callback(payload)`` when ``event`` fires.

        Args:
            event: the event name, such as ``"webhook.received"``.
            callback: a callable taking the payload (plain or ``async def``),
                or another event name to chain to.
            priority: higher runs first; equal priorities run in bind order.

        Raises:
            ConfigurationError: an empty name, a name under ``webhook.`` that
                the receiver never fires (a misspelt ``webhook.recieved``
                would leave every delivery acknowledged and unprocessed), a
                callback that is neither callable nor an event name, a
                generator function (calling it runs none of its code, so
                deliveries would be acknowledged unprocessed too), or a
                chain that would loop.
        """
        if not isinstance(event, str) or not event:
            raise ConfigurationError("EventBus.bind(event=...) must be a non-empty event name")
        _check_fired("event", event)
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise ConfigurationError("EventBus.bind(priority=...) must be an int")
        if isinstance(callback, str):
            if not callback:
                raise ConfigurationError("EventBus.bind: a chained event name must not be empty")
            _check_fired("callback", callback)
        elif not callable(callback):
            raise ConfigurationError(
                "EventBus.bind(callback=...) must be a callable taking the payload, "
                "or an event name to chain to"
            )
        elif _is_generator(callback):
            raise ConfigurationError(
                f"EventBus.bind: listener {_name(callback)} yields, so calling it runs none of "
                "its code and every delivery would be acknowledged unprocessed; make it return "
                "instead of yield"
            )
        with self._lock:
            if isinstance(callback, str) and self._reaches(callback, event):
                raise ConfigurationError(
                    f"chaining {event!r} to {callback!r} would make the events trigger each "
                    "other forever"
                )
            entries = (*self._table.get(event, ()), ((-priority, next(self._sequence)), callback))
            table = {**self._table, event: tuple(sorted(entries, key=lambda e: e[0]))}
            self._swap(table)

    def unbind(self, event: str, callback: Listener | str) -> bool:
        """Remove every binding of ``callback`` to ``event``; return whether any existed."""
        with self._lock:
            entries = self._table.get(event, ())
            kept = tuple(e for e in entries if not _same(e[1], callback))
            if len(kept) == len(entries):
                return False
            table = dict(self._table)
            if kept:
                table[event] = kept
            else:
                del table[event]
            self._swap(table)
            return True

    def _swap(self, table: dict[str, tuple[_Entry, ...]]) -> None:
        """Put ``table`` in force (under the lock), with what each of its events
        runs: worked out here, when a binding changes, not on each trigger."""
        below = {name[:i] for name in table for i, c in enumerate(name) if c == "."}
        plans = {name: _flatten(table, name) for name in table}
        self._table, self._plans, self._below = table, plans, frozenset(below)

    def has_below(self, event: str) -> bool:
        """Whether a listener is bound to a name under ``event`` (``event.<more>``)."""
        return event in self._below

    def has_listeners(self, event: str) -> bool:
        """Whether anything (a listener or a chained name) is bound to ``event``."""
        return event in self._table

    def listeners(self, event: str) -> tuple[Listener | str, ...]:
        """The targets bound to ``event``, in the order they run."""
        return tuple(target for _, target in self._table.get(event, ()))

    def _reaches(self, start: str, goal: str) -> bool:
        seen: set[str] = set()
        stack = [start]
        while stack:
            name = stack.pop()
            if name == goal:
                return True
            if name in seen:
                continue
            seen.add(name)
            stack.extend(t for _, t in self._table.get(name, ()) if isinstance(t, str))
        return False

    # -- triggering ----------------------------------------------------------------

    def _merged(self, events: tuple[str, ...]) -> list[tuple[Listener, bool]]:
        """The listeners of all ``events`` as one list: by priority, then bind
        order, across the events; a listener bound to several of them once."""
        table = self._table
        keyed: list[tuple[tuple[int, int], Listener]] = []

        def walk(name: str, key: tuple[int, int] | None) -> None:
            for own, target in table.get(name, ()):
                if isinstance(target, str):
                    walk(target, key or own)
                else:
                    keyed.append((key or own, target))

        for event in events:
            walk(event, None)
        keyed.sort(key=lambda item: item[0])
        seen: set[int] = set()
        merged: list[tuple[Listener, bool]] = []
        for _, listener in keyed:
            if id(listener) not in seen:
                seen.add(id(listener))
                merged.append((listener, _is_async(listener)))
        return merged

    def trigger_all(self, events: tuple[str, ...], payload: Any) -> int:
        """:meth:`trigger` for several events at once, as one list of listeners
        (a delivery's ``webhook.received`` and its routes, see
        :func:`~webhookverify.routing.route_names`): ordered by priority, then
        bind order, across the events; each listener runs once even when it
        is bound to several of them.

        Returns:
            How many listeners ran (0: nothing is bound to any of ``events``).

        Raises:
            ExceptionGroup: one or more listeners raised; every listener ran.
        """
        errors: list[Exception] = []
        run = self._plans.get(events[0], ()) if len(events) == 1 else self._merged(events)
        for listener, _ in run:
            try:
                result = listener(payload)
                if result is None:
                    continue
                if inspect.isawaitable(result):
                    _run_awaitable(result)
                else:
                    _not_run(result)
            except Exception as exc:  # noqa: BLE001 - collected and re-raised as a group
                errors.append(exc)
        if errors:
            raise ExceptionGroup(f"{len(errors)} listener(s) of {events[-1]!r} failed", errors)
        return len(run)

    async def atrigger_all(self, events: tuple[str, ...], payload: Any) -> int:
        """:meth:`trigger_all` for async code, as :meth:`atrigger` runs listeners.

        Returns:
            How many listeners ran.

        Raises:
            ExceptionGroup: one or more listeners raised; every listener ran.
        """
        errors: list[Exception] = []
        run = self._plans.get(events[0], ()) if len(events) == 1 else self._merged(events)
        for listener, is_async in run:
            try:
                if is_async:
                    await listener(payload)  # type: ignore[misc]
                else:
                    import asyncio  # only where a sync listener needs a thread

                    result = await asyncio.to_thread(listener, payload)
                    if inspect.isawaitable(result):
                        await result
                    elif result is not None:
                        _not_run(result)
            except Exception as exc:  # noqa: BLE001 - collected and re-raised as a group
                errors.append(exc)
        if errors:
            raise ExceptionGroup(f"{len(errors)} listener(s) of {events[-1]!r} failed", errors)
        return len(run)

    def trigger(self, event: str, payload: Any) -> None:
        """Run every listener of ``event`` (and chained events) with ``payload``.

        An ``async def`` listener is run to completion on a private event
        loop; from inside a running loop, use :meth:`atrigger` instead.

        Raises:
            ExceptionGroup: one or more listeners raised; every listener ran.
        """
        self.trigger_all((event,), payload)

    async def atrigger(self, event: str, payload: Any) -> None:
        """Like :meth:`trigger`, awaiting async listeners in order.

        Plain (sync) listeners run in a worker thread, so a slow one does not
        stall the event loop; the order and priorities are kept.

        Raises:
            ExceptionGroup: one or more listeners raised; every listener ran.
        """
        await self.atrigger_all((event,), payload)

    def __repr__(self) -> str:
        counts = {name: len(entries) for name, entries in self._table.items()}
        return f"EventBus({counts!r})"


def _check_fired(setting: str, name: str) -> None:
    """Raises: ConfigurationError: ``name`` is under ``webhook.`` but not
    below an event of :data:`FIRED` (the library's namespace: nothing else
    fires there)."""
    if not name.startswith("webhook."):
        return
    head = ".".join(name.split(".", 2)[:2])
    if head not in FIRED:
        raise ConfigurationError(
            f"EventBus.bind({setting}={name!r}): webhookverify fires no such event"
            + (did_you_mean(head, FIRED) or f"; it fires {', '.join(FIRED)}")
        )


def _flatten(table: dict[str, tuple[_Entry, ...]], event: str) -> tuple[tuple[Listener, bool], ...]:
    """The ``(callable, is async)`` pairs ``event`` runs in ``table``, in
    order, chained events followed."""
    plan: list[tuple[Listener, bool]] = []
    for _, target in table.get(event, ()):
        if isinstance(target, str):
            plan.extend(_flatten(table, target))
        else:
            plan.append((target, _is_async(target)))
    return tuple(plan)


def _same(a: object, b: object) -> bool:
    return a is b or a == b


def _is_async(listener: object) -> bool:
    if inspect.iscoroutinefunction(listener):
        return True
    call = getattr(listener, "__call__", None)  # noqa: B004 - an object with async __call__
    return call is not None and inspect.iscoroutinefunction(call)


def _is_generator(listener: object) -> bool:
    """A (sync or async) generator function, or an object whose ``__call__`` is one."""
    call = getattr(listener, "__call__", None)  # noqa: B004 - an object with a generator __call__
    return any(
        inspect.isgeneratorfunction(f) or inspect.isasyncgenfunction(f) for f in (listener, call)
    )


def _name(listener: object) -> str:
    return str(getattr(listener, "__qualname__", type(listener).__qualname__))


def _not_run(result: object) -> None:
    """Refuse what a listener returned when it is a generator: none of its code ran.

    Raises:
        TypeError: ``result`` is a generator or an async generator (a
            listener wrapped so that :meth:`EventBus.bind` did not see it yield).
    """
    if inspect.isgenerator(result) or inspect.isasyncgen(result):
        raise TypeError(
            "a listener returned a generator, so none of its code ran; it must return "
            "instead of yield"
        )


def _run_awaitable(awaitable: Awaitable[object]) -> object:
    import asyncio  # only where an async listener is met

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        if inspect.iscoroutine(awaitable):
            awaitable.close()
        raise RuntimeError(
            "an async listener cannot run inside a running event loop from EventBus.trigger; "
            "use await EventBus.atrigger (Receiver.areceive does)"
        )

    async def wait() -> object:
        return await awaitable

    return asyncio.run(wait())
