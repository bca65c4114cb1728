"""The receive pipeline: verify, guard against replays, dispatch, answer.

Sans-IO: :meth:`Receiver.receive` takes a :class:`WebhookRequest` and returns
an :class:`Outcome` (status, headers, body) for an adapter to write. Nothing
here reads a socket; the clock is the request's ``received_at`` unless
``now=`` is given.

The order of the steps is the design's (DESIGN.md, "The flow"):

1. access switch off → 403;
2. no handler verifies the request → 401 with one generic text;
3. replay guard: processed already → 200, not dispatched again (and
   ``webhook.duplicate`` fires); in flight → 409 with ``Retry-After``; store
   unreachable → 503 with ``Retry-After`` (fail closed);
4. the :class:`Delivery` is dispatched (by default ``webhook.received``
   fires; a middleware dispatches to its wrapped app): it succeeded → the
   key is committed → 200; it raised (or declined, with
   :class:`~webhookverify.errors.DeliveryDeclined`) → the key is released
   → 500, so the sender's retry is processed and not taken for a replay. A
   commit or release that fails is retried before answering; a delivery
   whose key could still not be committed is answered 200 with the reason
   ``accepted_uncommitted`` (see docs/security.md, "Delivery semantics").
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from . import _outcomes as answers
from ._checks import check_methods
from ._settle import asettle, settle
from .delivery import Delivery, Outcome, Rejection
from .errors import ConfigurationError, NoHandlerMatched, VerificationError
from .events import RECEIVED, EventBus
from .handshake import Answered, ahandshake_of, handshake_failed, handshake_of, unsigned_handshake
from .registry import HandlerRegistry, Match
from .replay import DEFAULT_LEASE, MAX_EXPIRY, MemoryReplayStore, Reservation, replay_key
from .request import WebhookRequest
from .routing import route_names

if TYPE_CHECKING:
    from .replay import ReplayStore

__all__ = ["AsyncDispatch", "Delivery", "Dispatch", "Outcome", "Receiver", "Rejection"]

# What the receiver does with a verified, new delivery: returns (processed:
# the key is committed) or raises (not processed: the key is released, 500;
# DeliveryDeclined for a decline). Default: fire webhook.received on the bus.
Dispatch: TypeAlias = Callable[[Delivery], None]
AsyncDispatch: TypeAlias = Callable[[Delivery], Awaitable[None]]

logger = logging.getLogger("webhookverify")
NO_LISTENER = (
    "a verified delivery of %r reached no listener: bind one with "
    "receiver.bus.bind('webhook.received', on_delivery)"
)

UNGUARDED = (
    "handler %r has replay=%r, but its verifier signed nothing to key a replay on; "
    "the delivery is dispatched unguarded (set replay='off' to say so)"
)

# Senders retry a 409 or 503 after this many seconds at the soonest.
DEFAULT_RETRY_AFTER = 30


class Receiver:
    """Run the receive pipeline for each request.

    Args:
        registry: the handlers.
        bus: the event bus; listeners of ``webhook.received`` get each
            verified, new :class:`Delivery`. Default: a new, empty bus.
        replay_store: where delivery keys live. Default: a
            :class:`MemoryReplayStore` (one process). ``None`` is not
            accepted: turn replay protection off per handler with ``replay="off"``.
        lease: seconds an in-flight delivery holds its key (default 60).
        retry_after: seconds put in ``Retry-After`` on 409 and 503.
        success_status: the 2xx status for an accepted delivery (default 200).
        time_budget: with :meth:`areceive`, seconds to wait for listeners
            before answering 202 and letting them finish in the background.

    Raises:
        ConfigurationError: for a bad setting, at construction.
    """

    def __init__(
        self,
        registry: HandlerRegistry,
        bus: EventBus | None = None,
        *,
        replay_store: ReplayStore | None = None,
        lease: float = DEFAULT_LEASE,
        retry_after: int = DEFAULT_RETRY_AFTER,
        success_status: int = 200,
        time_budget: float | None = None,
    ) -> None:
        if not isinstance(registry, HandlerRegistry):
            raise ConfigurationError(
                f"Receiver(registry=...) must be a HandlerRegistry, not "
                f"{type(registry).__name__}: write Receiver(HandlerRegistry([Handler(...), ...]))"
            )
        store = MemoryReplayStore() if replay_store is None else replay_store
        methods = ("reserve", "commit", "release")
        check_methods(
            store, methods, "replay_store", "Receiver", "MemoryReplayStore or RedisReplayStore"
        )
        if not _positive(lease) or lease > MAX_EXPIRY:  # the store would refuse every request
            raise ConfigurationError("Receiver(lease=...) must be 0 < seconds <= ten years")
        if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0:
            raise ConfigurationError("Receiver(retry_after=...) must be a whole number of seconds")
        if success_status not in (200, 201, 202, 204):
            raise ConfigurationError("Receiver(success_status=...) must be 200, 201, 202 or 204")
        if bus is not None and not isinstance(bus, EventBus):
            raise ConfigurationError("Receiver(bus=...) must be an EventBus or None")
        if time_budget is not None and not _positive(time_budget):
            raise ConfigurationError("Receiver(time_budget=...) must be a positive number or None")
        self.registry = registry
        self.bus = EventBus() if bus is None else bus
        self.replay_store = store
        self.lease = float(lease)
        self.retry_after = retry_after
        self.success_status = success_status
        self.time_budget = time_budget

    # -- the steps shared by receive and areceive ----------------------------------

    def _refused(self, request: WebhookRequest, exc: VerificationError) -> Outcome | Answered:
        """The refusal of a request no handler verified, unless it is an unsigned
        handshake (looked for only here, once nothing verified: no cost on the
        delivery path)."""
        if isinstance(exc, NoHandlerMatched):
            answered = unsigned_handshake(self.registry.unsigned_handshakes, request)
            if answered is not None:
                return answered
        return answers.refused(request, exc, self.retry_after)

    def _unreserved(self, delivery: Delivery, state: object) -> Outcome:
        """The answer to a ``reserve`` that gave no reservation (see ``answers.after_reserve``)."""
        return answers.after_reserve(delivery, state, self.success_status, self.retry_after)

    @staticmethod
    def _key(match: Match) -> tuple[str | None, float]:
        """The replay key of a verified delivery (``None``: not guarded) and
        its TTL (see ``Handler.replay_ttls``)."""
        handler, verification = match
        mode = handler.replay_mode
        by_id = mode == "id" and verification.delivery_id is not None
        key = replay_key(handler.name, verification, mode)
        if key is None and mode != "off":  # the verifier proved no content, no id
            logger.warning(UNGUARDED, handler.name, mode)
        return key, handler.replay_ttls[0 if by_id else 1]

    @property
    def handshake_methods(self) -> frozenset[str]:
        """The HTTP methods the enabled handlers' handshakes come with (``GET``
        for a query challenge): an adapter lets them through for those."""
        return self.registry.handshake_methods

    def routes(self, delivery: Delivery) -> tuple[str, ...]:
        """The events the default dispatch fires for ``delivery``, for
        ``bus.trigger_all`` (see :func:`~webhookverify.routing.route_names`); its
        event type is read only when a listener is bound below its handler."""
        bus, name = self.bus, delivery.handler.name
        if not bus.has_below(RECEIVED):
            return (RECEIVED,)  # nothing bound to one handler or event type
        typed = bus.has_below(f"{RECEIVED}.{name}")
        return route_names(name, delivery.event_type if typed else None)

    # -- the replay store (its sync reserve is called in the shells below) -----------

    async def _areserve(self, key: str, ttl: float) -> object:
        """The ``reserve`` of a store that blocks: its async method, else its
        sync one in a worker thread."""
        store = self.replay_store
        areserve = getattr(store, "areserve", None)
        if areserve is not None:
            return await areserve(key, ttl, self.lease)
        return await _asyncio().to_thread(store.reserve, key, ttl, self.lease)

    # -- sync and async: thin shells around the I/O, deciding through the steps above
    # -- and the functions of _outcomes --------------------------------------------

    def receive(
        self, request: WebhookRequest, now: float | None = None, *, dispatch: Dispatch | None = None
    ) -> Outcome:
        """Run the pipeline for ``request``; return the :class:`Outcome` to write.

        Args:
            request: the request as received.
            now: the time to judge freshness by (default ``request.received_at``).
            dispatch: what to do with a verified, new delivery (a middleware
                passes its wrapped app). Default: fire ``webhook.received``
                on the bus. Returning means processed: the key is committed,
                and the answer is the success status. Raising means not
                processed: the key is released and the answer is 500
                (:class:`~webhookverify.errors.DeliveryDeclined` is a decline,
                logged as a warning without a traceback).
        """
        try:
            match = self.registry.verify(request, now)
        except VerificationError as exc:
            return self._announce(self._refused(request, exc))
        handler, verification = match
        if handler.handshake is not None:  # never dispatched: see webhookverify.handshake
            asked = handshake_of(handler, request, verification, self.retry_after)
            if asked is not None:
                return self._announce(asked)
        key, ttl = self._key(match)
        delivery = Delivery(handler, request, verification, key)
        store, held = self.replay_store, None  # the reservation, settled after dispatch
        if key is not None:
            try:
                state: object = store.reserve(key, ttl, self.lease)
            except Exception as exc:  # noqa: BLE001 - any store failure fails closed (503)
                state = exc
            if not isinstance(state, Reservation):
                return self._announce(self._unreserved(delivery, state))
            held = state
        failure: Exception | None = None
        try:
            if dispatch is not None:
                dispatch(delivery)
            elif not self.bus.trigger_all(self.routes(delivery), delivery):
                logger.warning(NO_LISTENER, delivery.handler.name)  # acknowledged, no code ran
        except Exception as exc:  # noqa: BLE001 - reported as 500, the key released
            failure = exc
        except BaseException:
            if held is not None:
                settle(store, held, commit=False, lease=self.lease, about=delivery)
            raise
        ok = failure is None
        settled = held is None or settle(store, held, commit=ok, lease=self.lease, about=delivery)
        return answers.dispatched(delivery, failure, settled, self.success_status)

    def _announce(self, early: Outcome | Answered) -> Outcome:
        """Fire the event of an answer given without a dispatch (a refusal, a
        duplicate, a handshake's answer: see :func:`_notified`)."""
        try:
            self.bus.trigger(*answers.event(early))
        except Exception as exc:  # noqa: BLE001 - see _notified
            return _notified(early, exc)
        return _notified(early, None)

    async def areceive(
        self,
        request: WebhookRequest,
        now: float | None = None,
        *,
        dispatch: AsyncDispatch | None = None,
    ) -> Outcome:
        """The pipeline for async servers: the replay store's sync methods are
        called directly when it does not block (``blocking = False``, as
        :class:`MemoryReplayStore`), else its async methods when it has them,
        else its sync ones in a worker thread; by default ``webhook.received`` fires with
        :meth:`EventBus.atrigger` (async listeners awaited, sync ones run in a
        worker thread); ``dispatch`` is as for :meth:`receive`, awaited.

        With ``time_budget`` set, a dispatch still running after that many
        seconds keeps running in the background and the answer is 202; the
        key is committed or released when it finishes.
        """
        try:
            match = await self.registry.averify(request, now)
        except VerificationError as exc:
            return await self._aannounce(self._refused(request, exc))
        handler, verification = match
        if handler.handshake is not None:
            asked = await ahandshake_of(handler, request, verification, self.retry_after)
            if asked is not None:
                return await self._aannounce(asked)
        key, ttl = self._key(match)
        delivery = Delivery(handler, request, verification, key)
        held: Reservation | None = None
        if key is not None:
            store = self.replay_store
            try:
                if getattr(store, "blocking", True):
                    state: object = await self._areserve(key, ttl)
                else:
                    state = store.reserve(key, ttl, self.lease)
            except Exception as exc:  # noqa: BLE001 - any store failure fails closed (503)
                state = exc
            if not isinstance(state, Reservation):
                return await self._aannounce(self._unreserved(delivery, state))
            held = state
        run = self._adispatch(delivery, held, dispatch)
        if self.time_budget is None:
            return answers.dispatched(delivery, *await run, self.success_status)
        asyncio = _asyncio()
        task = asyncio.ensure_future(run)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.time_budget)
        except BaseException:  # cancelled by the server: the dispatch goes on without it
            answers.in_background(delivery, task)
            raise
        if task in done:
            failure, settled = task.result()
            return answers.dispatched(delivery, failure, settled, self.success_status)
        return answers.accepted_late(delivery, task)

    async def _adispatch(
        self, delivery: Delivery, held: Reservation | None, dispatch: AsyncDispatch | None
    ) -> tuple[BaseException | None, bool]:
        """Run the dispatch (``None``: fire ``webhook.received``), then settle the
        key; the failure, if any, and whether the key was committed or released."""
        store, lease = self.replay_store, self.lease  # the store that made the reservation
        failure: Exception | None = None
        try:
            if dispatch is not None:
                await dispatch(delivery)
            elif not await self.bus.atrigger_all(self.routes(delivery), delivery):
                logger.warning(NO_LISTENER, delivery.handler.name)  # acknowledged, no code ran
        except Exception as exc:  # noqa: BLE001 - reported, the key released
            failure = exc
        except BaseException:
            if held is not None:
                # made even if cancelled again (see asettle), before the task ends
                await asettle(store, held, commit=False, lease=lease, about=delivery)
            raise
        if held is None:
            return failure, True  # nothing held: nothing to settle
        done = asettle(store, held, commit=failure is None, lease=lease, about=delivery)
        return failure, await done

    async def _aannounce(self, early: Outcome | Answered) -> Outcome:
        """:meth:`_announce`, its listeners run by :meth:`EventBus.atrigger`."""
        try:
            await self.bus.atrigger(*answers.event(early))
        except Exception as exc:  # noqa: BLE001 - see _notified
            return _notified(early, exc)
        return _notified(early, None)

    def __repr__(self) -> str:
        return f"Receiver({self.registry!r}, store={type(self.replay_store).__name__})"


def _notified(early: Outcome | Answered, failure: Exception | None) -> Outcome:
    """An answer given without a dispatch, once its event fired: a handshake's
    answer (500 if a listener of ``webhook.handshake`` failed); any other
    answer unchanged (its listeners' failures change nothing: logged)."""
    if isinstance(early, Answered):
        return early.outcome() if failure is None else handshake_failed(failure)
    if failure is not None:
        event = answers.event(early)[0]
        logger.error("a listener of %s failed (the answer is unchanged)", event, exc_info=failure)
    return early


def _asyncio() -> Any:
    """asyncio, imported the first time an async path runs (not at import)."""
    import asyncio

    return asyncio


def _positive(value: object) -> bool:
    """A finite number above zero (not a bool; nan and infinity are not)."""
    return not isinstance(value, bool) and isinstance(value, int | float) and 0 < value < math.inf
