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
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from ._settle import asettle, declined_by, settle
from .delivery import Delivery, Outcome, Rejection
from .errors import (
    AccessDisabled,
    AmbiguousMatch,
    ConfigurationError,
    NoHandlerMatched,
    VerificationError,
)
from .events import DUPLICATE, RECEIVED, REJECTED, EventBus
from .registry import HandlerRegistry, Match
from .replay import (
    DEFAULT_LEASE,
    ID_TTL,
    NO_TIMESTAMP_TTL,
    MemoryReplayStore,
    ReserveResult,
    replay_key,
)
from .request import WebhookRequest

if TYPE_CHECKING:
    from .replay import ReplayStore

__all__ = ["AsyncDispatch", "Delivery", "Dispatch", "Outcome", "Receiver", "Rejection"]

# What the receiver does with a verified, new delivery: returns (processed:
# the key is committed) or raises (not processed: the key is released, 500;
# DeliveryDeclined for a decline). Default: fire webhook.received on the bus.
Dispatch: TypeAlias = Callable[[Delivery], None]
AsyncDispatch: TypeAlias = Callable[[Delivery], Awaitable[None]]

logger = logging.getLogger("webhookverify")

# Senders retry a 409 or 503 after this many seconds at the soonest.
DEFAULT_RETRY_AFTER = 30

_TEXT = (("Content-Type", "text/plain; charset=utf-8"),)
_BODIES = {
    200: b"",
    202: b"accepted\n",
    401: b"webhook signature verification failed\n",
    403: b"webhook access is disabled\n",
    409: b"this delivery is being processed; retry later\n",
    500: b"the delivery could not be processed; retry later\n",
    503: b"webhook receiver temporarily unavailable; retry later\n",
}


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
            raise ConfigurationError("Receiver(registry=...) must be a HandlerRegistry")
        store = MemoryReplayStore() if replay_store is None else replay_store
        for method in ("reserve", "commit", "release"):
            if not callable(getattr(store, method, None)):
                raise ConfigurationError(
                    f"Receiver(replay_store=...) has no {method}() method; use MemoryReplayStore "
                    "or RedisReplayStore"
                )
        if not _positive(lease):
            raise ConfigurationError("Receiver(lease=...) must be a positive number of seconds")
        if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0:
            raise ConfigurationError("Receiver(retry_after=...) must be a whole number of seconds")
        if success_status not in (200, 201, 202, 204):
            raise ConfigurationError("Receiver(success_status=...) must be 200, 201, 202 or 204")
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

    def _verify(
        self, request: WebhookRequest, now: float | None
    ) -> tuple[Delivery, float] | Outcome:
        """The verified delivery and its key's TTL, or the refusal (401; 403 when switched off)."""
        try:
            match = self.registry.verify(request, now)
        except VerificationError as exc:
            if isinstance(exc, AccessDisabled):
                return self._reject(request, 403, exc.reason, error=exc)
            if isinstance(exc, AmbiguousMatch):
                logger.error(
                    "two handlers verified one request (HandlerRegistry strict=True): %s",
                    exc,
                    extra={"webhookverify": {"reason": exc.reason, "handler": exc.handler}},
                )
            attempts = exc.attempts if isinstance(exc, NoHandlerMatched) else ()
            return self._reject(request, 401, exc.reason, attempts=attempts, error=exc)
        key, ttl = self._key(match)
        return Delivery(match.handler, request, match.verification, key), ttl

    def _key(self, match: Match) -> tuple[str | None, float]:
        """The replay key of a verified delivery (``None``: not guarded) and its TTL.

        The TTL is never below the timestamp window (a replay could pass that
        long). By default it is that window for a content key; ``ID_TTL`` for
        a signed id, which outlives the window because senders sign each
        retry again; ``NO_TIMESTAMP_TTL`` when nothing bounds a replay.
        """
        handler, verification = match
        mode = handler.replay_mode
        key = None if mode == "off" else replay_key(handler.name, verification, mode)
        window = getattr(handler.verifier, "replay_window", None)
        floor = window if isinstance(window, int | float) and window > 0 else 0.0
        if handler.replay_ttl is not None:
            ttl = max(floor, handler.replay_ttl)
        elif mode == "id" and verification.delivery_id is not None:
            ttl = max(floor, ID_TTL)
        else:
            ttl = floor or NO_TIMESTAMP_TTL
        return key, float(ttl)

    def _after_reserve(
        self, delivery: Delivery, state: ReserveResult | BaseException
    ) -> Outcome | None:
        """The outcome of a reservation that does not dispatch, else ``None``."""
        request = delivery.request
        if isinstance(state, BaseException):
            logger.error(
                "replay store unavailable; answering 503 so the sender retries: %s",
                state,
                extra={"webhookverify": self._fields(delivery, "store_unavailable")},
            )
            return self._reject(request, 503, "store_unavailable", error=state, delivery=delivery)
        if state is ReserveResult.DONE:
            self._info(
                "duplicate delivery acknowledged, not dispatched again", delivery, "duplicate"
            )
            return Outcome(self.success_status, _TEXT, b"", delivery, "duplicate")
        if state is ReserveResult.IN_FLIGHT:
            self._info("the same delivery is in flight; answering 409", delivery, "in_flight")
            return self._reject(request, 409, "in_flight", delivery=delivery)
        return None

    def _dispatched(
        self, delivery: Delivery, failure: BaseException | None, settled: bool = True
    ) -> Outcome:
        """The outcome of a dispatch: its failure, and whether the key was
        committed or released (``settled``; a failure to do so is logged)."""
        if failure is None:
            if settled:
                self._info("delivery dispatched", delivery, "accepted")
            reason = "accepted" if settled else "accepted_uncommitted"
            status = self.success_status
            return Outcome(status, _TEXT, _BODIES.get(status, b""), delivery, reason)
        declined = declined_by(failure)
        if declined is not None:
            logger.warning(
                "the delivery was declined (%s); its key was released so the sender's retry "
                "is processed",
                declined,
                extra={
                    "webhookverify": {
                        **self._fields(delivery, "declined"),
                        "status": declined.status,
                    }
                },
            )
            return Outcome(500, _TEXT, _BODIES[500], delivery, "declined")
        logger.error(
            "dispatching the delivery failed; answering 500 so the sender retries",
            exc_info=failure,
            extra={"webhookverify": self._fields(delivery, "listener_failed")},
        )
        return Outcome(500, _TEXT, _BODIES[500], delivery, "listener_failed")

    def _reject(
        self,
        request: WebhookRequest,
        status: int,
        reason: str,
        *,
        attempts: tuple[tuple[str, str], ...] = (),
        error: BaseException | None = None,
        delivery: Delivery | None = None,
    ) -> Outcome:
        remote_addr = request.remote_addr
        if status in (401, 403):
            fields = {
                "status": status,
                "reason": reason,
                "attempts": attempts,
                "remote_addr": remote_addr,
            }
            logger.warning(
                "webhook refused (%d %s)", status, reason, extra={"webhookverify": fields}
            )
        headers = _TEXT if status < 409 else (*_TEXT, ("Retry-After", str(self.retry_after)))
        path = urllib.parse.urlsplit(request.url).path
        rejection = Rejection(
            request, status, reason, attempts, error, request.method, path, remote_addr
        )
        return Outcome(status, headers, _BODIES[status], delivery, reason, rejection)

    def _info(self, message: str, delivery: Delivery, reason: str) -> None:
        if logger.isEnabledFor(logging.INFO):
            logger.info(message, extra={"webhookverify": self._fields(delivery, reason)})

    def _fields(self, delivery: Delivery, reason: str) -> dict[str, Any]:
        return {
            "reason": reason,
            "handler": delivery.handler.name,
            "user": delivery.user,
            "delivery_id": delivery.delivery_id,
            "scheme": delivery.verification.scheme,
            "key_id": delivery.verification.key_id,
            "remote_addr": delivery.request.remote_addr,
        }

    # -- the replay store: every call to it is in these four methods ---------------

    def _reserve(self, delivery: Delivery, ttl: float) -> ReserveResult | BaseException:
        """Reserve the delivery's key; a store failure is returned, not raised."""
        try:
            return self.replay_store.reserve(delivery.replay_key or "", ttl, self.lease)
        except Exception as exc:  # noqa: BLE001 - any store failure fails closed
            return exc

    def _settle(self, delivery: Delivery, failure: BaseException | None) -> bool:
        """Commit (no failure) or release the delivery's key, retried; whether it was done."""
        key = delivery.replay_key
        if key is None:
            return True
        step = self.replay_store.commit if failure is None else self.replay_store.release
        return settle(
            lambda: step(key),
            commit=failure is None,
            lease=self.lease,
            fields=lambda: self._fields(delivery, "settle"),
        )

    async def _areserve(self, delivery: Delivery, ttl: float) -> ReserveResult | BaseException:
        """:meth:`_reserve` with the store's async methods when it has them."""
        try:
            state: ReserveResult = await self._store_call(
                "reserve", delivery.replay_key, ttl, self.lease
            )
        except Exception as exc:  # noqa: BLE001 - any store failure fails closed
            return exc
        return state

    async def _asettle(self, delivery: Delivery, failure: BaseException | None) -> bool:
        """:meth:`_settle` for asyncio: the store's async methods, the pauses awaited."""
        key = delivery.replay_key
        if key is None:
            return True
        name = "commit" if failure is None else "release"
        return await asettle(
            lambda: self._store_call(name, key),
            commit=failure is None,
            lease=self.lease,
            fields=lambda: self._fields(delivery, "settle"),
        )

    async def _store_call(self, name: str, *args: Any) -> Any:
        method: Callable[..., Any] | None = getattr(self.replay_store, "a" + name, None)
        if method is not None:
            return await method(*args)
        return await _asyncio().to_thread(getattr(self.replay_store, name), *args)

    # -- sync and async ------------------------------------------------------------

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
        found = self._verify(request, now)
        if isinstance(found, Outcome):
            self._notify(REJECTED, found.rejection)
            return found
        delivery, ttl = found
        if delivery.replay_key is not None:
            early = self._after_reserve(delivery, self._reserve(delivery, ttl))
            if early is not None:
                self._notify(*_event(early))
                return early
        try:
            if dispatch is None:
                self.bus.trigger(RECEIVED, delivery)
            else:
                dispatch(delivery)
        except Exception as exc:  # noqa: BLE001 - reported as 500, the key released
            return self._dispatched(delivery, exc, self._settle(delivery, exc))
        except BaseException:
            self._settle(delivery, KeyboardInterrupt())
            raise
        return self._dispatched(delivery, None, self._settle(delivery, None))

    def _notify(self, event: str, payload: object) -> None:
        """Fire an informational event; its listeners' failures change nothing."""
        try:
            self.bus.trigger(event, payload)
        except Exception:
            logger.exception("a listener of %s failed (the answer is unchanged)", event)

    async def areceive(
        self,
        request: WebhookRequest,
        now: float | None = None,
        *,
        dispatch: AsyncDispatch | None = None,
    ) -> Outcome:
        """The pipeline for async servers: the replay store's async methods are
        used when it has them; by default ``webhook.received`` fires with
        :meth:`EventBus.atrigger` (async listeners awaited, sync ones run in a
        worker thread); ``dispatch`` is as for :meth:`receive`, awaited.

        With ``time_budget`` set, a dispatch still running after that many
        seconds keeps running in the background and the answer is 202; the
        key is committed or released when it finishes.
        """
        found = self._verify(request, now)
        if isinstance(found, Outcome):
            await self._anotify(REJECTED, found.rejection)
            return found
        delivery, ttl = found
        if delivery.replay_key is not None:
            early = self._after_reserve(delivery, await self._areserve(delivery, ttl))
            if early is not None:
                await self._anotify(*_event(early))
                return early
        run = self._adispatch(delivery, dispatch or self._fire)
        if self.time_budget is None:
            return self._dispatched(delivery, *await run)
        asyncio = _asyncio()
        task = asyncio.ensure_future(run)
        done, _ = await asyncio.wait({task}, timeout=self.time_budget)
        if task in done:
            return self._dispatched(delivery, *task.result())
        _BACKGROUND.add(task)
        task.add_done_callback(_finished_late(delivery))
        self._info(
            "the dispatch exceeds the time budget; answering 202 and finishing in the background",
            delivery,
            "accepted_late",
        )
        return Outcome(202, _TEXT, _BODIES[202], delivery, "accepted_late", pending=task)

    async def _fire(self, delivery: Delivery) -> None:
        await self.bus.atrigger(RECEIVED, delivery)

    async def _adispatch(
        self, delivery: Delivery, dispatch: AsyncDispatch
    ) -> tuple[BaseException | None, bool]:
        """Run the dispatch, then settle the key; the failure, if any, and
        whether the key was committed or released."""
        try:
            await dispatch(delivery)
        except Exception as exc:  # noqa: BLE001 - reported, the key released
            return exc, await self._asettle(delivery, exc)
        except BaseException:
            await _asyncio().shield(self._asettle(delivery, KeyboardInterrupt()))
            raise
        return None, await self._asettle(delivery, None)

    async def _anotify(self, event: str, payload: object) -> None:
        try:
            await self.bus.atrigger(event, payload)
        except Exception:
            logger.exception("a listener of %s failed (the answer is unchanged)", event)

    def __repr__(self) -> str:
        return f"Receiver({self.registry!r}, store={type(self.replay_store).__name__})"


def _event(early: Outcome) -> tuple[str, object]:
    """The event an early outcome fires: ``webhook.rejected``, or ``webhook.duplicate``."""
    return (
        (REJECTED, early.rejection) if early.rejection is not None else (DUPLICATE, early.delivery)
    )


def _asyncio() -> Any:
    """asyncio, imported the first time an async path runs (not at import)."""
    import asyncio

    return asyncio


# Tasks finishing after a 202: kept referenced until done, so they are not
# garbage-collected mid-flight.
_BACKGROUND: set[Any] = set()


def _finished_late(delivery: Delivery) -> Callable[[Any], None]:
    def done(task: Any) -> None:
        _BACKGROUND.discard(task)
        if task.cancelled():
            logger.error("listeners cancelled after a 202 for %r", delivery)
            return
        failure = task.exception() or task.result()[0]
        if failure is not None:
            declined = declined_by(failure)
            logger.log(
                logging.ERROR if declined is None else logging.WARNING,
                "a listener %s after the 202 was sent; the delivery key was released so a "
                "redelivery is processed",
                "failed" if declined is None else f"declined ({declined})",
                exc_info=failure if declined is None else None,
                extra={
                    "webhookverify": {
                        "handler": delivery.handler.name,
                        "delivery_id": delivery.delivery_id,
                        "reason": "listener_failed_late" if declined is None else "declined_late",
                    }
                },
            )

    return done


def _positive(value: object) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and value > 0
    )
