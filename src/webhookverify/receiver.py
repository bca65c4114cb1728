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
4. ``webhook.received`` fires with the :class:`Delivery`: every listener
   succeeded → the key is committed → 200; one raised → the key is released
   → 500, so the sender's retry is processed and not taken for a replay.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import (
    AccessDisabled,
    AmbiguousMatch,
    ConfigurationError,
    NoHandlerMatched,
    PayloadError,
    VerificationError,
)
from .events import DUPLICATE, RECEIVED, REJECTED, EventBus
from .registry import Handler, HandlerRegistry, Match
from .replay import (
    DEFAULT_LEASE,
    ID_TTL,
    NO_TIMESTAMP_TTL,
    MemoryReplayStore,
    ReserveResult,
    replay_key,
)
from .request import WebhookRequest
from .verifiers._base import Verification

if TYPE_CHECKING:
    from .replay import ReplayStore

__all__ = ["Delivery", "Outcome", "Receiver", "Rejection"]

logger = logging.getLogger("webhookverify")

# Webhook payloads are shallow (GitHub's deepest are under 10 levels); a body
# nested deeper than this is an attack on the parser, not a delivery.
MAX_JSON_DEPTH = 64
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


class Delivery(NamedTuple):
    """A verified delivery: the payload of ``webhook.received`` (immutable).

    Attributes:
        handler: the :class:`Handler` that verified it.
        user: that handler's user: who the delivery acts for.
        request: the request, raw body included.
        verification: what was proved (scheme, key id, timestamp, delivery id).
        delivery_id: the signed delivery id, if the scheme signs one.
        received_at: when the request arrived (unix seconds).
        replay_key: the key the replay guard used, or ``None`` when it was off.
    """

    handler: Handler
    request: WebhookRequest
    verification: Verification
    replay_key: str | None = None

    @property
    def user(self) -> str | None:
        return self.handler.user

    @property
    def delivery_id(self) -> str | None:
        return self.verification.delivery_id

    @property
    def received_at(self) -> float:
        return self.request.received_at

    @property
    def body(self) -> bytes:
        return self.request.body

    def json(self) -> Any:
        """Parse the raw body as JSON (UTF-8), strictly.

        Raises:
            PayloadError: not UTF-8, not JSON, ``NaN``/``Infinity``, or nested
                deeper than ``MAX_JSON_DEPTH``.
        """
        try:
            text = self.request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise PayloadError("the body is not UTF-8 text") from None
        try:
            value = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise PayloadError(f"the body nests deeper than {MAX_JSON_DEPTH} levels") from None
        except ValueError as exc:
            raise PayloadError(f"the body is not valid JSON: {exc}") from None
        _check_depth(value)
        return value

    def __repr__(self) -> str:
        return (
            f"Delivery(handler={self.handler.name!r}, user={self.user!r}, "
            f"delivery_id={self.delivery_id!r}, scheme={self.verification.scheme!r}, "
            f"body={len(self.request.body)} bytes)"
        )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _check_depth(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            raise PayloadError(f"the body nests deeper than {MAX_JSON_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)


@dataclass(frozen=True, slots=True)
class Rejection:
    """The payload of ``webhook.rejected``: a request that was not dispatched.

    Attributes:
        request: the request as received.
        status: the HTTP status it was answered with.
        reason: the overall reason code (``no_handler_matched``, ``in_flight``, ...).
        attempts: ``(handler name, reason code)`` for every handler tried.
        error: the error behind the refusal, if any.
    """

    request: WebhookRequest
    status: int
    reason: str
    attempts: tuple[tuple[str, str], ...] = ()
    error: BaseException | None = None


class Outcome(NamedTuple):
    """What to answer: status, headers and body, and the delivery if one was verified.

    ``reason`` is a code for logs and tests (never sent); ``pending`` is set
    when listeners were still running at a 202 (``Receiver.time_budget``).
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    delivery: Delivery | None = None
    reason: str = ""
    rejection: Rejection | None = None
    pending: Awaitable[BaseException | None] | None = None

    def __repr__(self) -> str:
        return (
            f"Outcome(status={self.status!r}, reason={self.reason!r}, "
            f"body={self.body!r}, delivery={self.delivery!r})"
        )


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

    def _refusal(self, request: WebhookRequest, exc: VerificationError) -> Outcome:
        """The outcome of a request the registry refused (401, or 403 when switched off)."""
        if isinstance(exc, AccessDisabled):
            return self._reject(request, 403, exc.reason, error=exc)
        if isinstance(exc, NoHandlerMatched):
            return self._reject(request, 401, exc.reason, attempts=exc.attempts, error=exc)
        if isinstance(exc, AmbiguousMatch):
            logger.error(
                "two handlers verified one request (HandlerRegistry strict=True): %s",
                exc,
                extra={"webhookverify": {"reason": exc.reason, "handler": exc.handler}},
            )
        return self._reject(request, 401, exc.reason, error=exc)  # or a user's registry subclass

    def _key(self, match: Match) -> tuple[str | None, float]:
        """The replay key of a verified delivery (``None``: not guarded) and its TTL.

        The TTL is never below the timestamp window (a replay could pass that
        long). By default it is that window for a content key; ``ID_TTL`` for
        a signed id, which outlives the window because senders sign each
        retry again; ``NO_TIMESTAMP_TTL`` when nothing bounds a replay.
        """
        handler, verification = match
        mode = handler.replay_mode
        if mode == "off":
            return None, 0.0
        key = replay_key(handler.name, verification, mode)
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
        self, request: WebhookRequest, delivery: Delivery, state: ReserveResult | BaseException
    ) -> Outcome | None:
        """The outcome of a reservation that does not dispatch, else ``None``."""
        if isinstance(state, BaseException):
            logger.error(
                "replay store unavailable; answering 503 so the sender retries: %s",
                state,
                extra={"webhookverify": self._fields(delivery, reason="store_unavailable")},
            )
            return self._reject(
                request, 503, "store_unavailable", error=state, delivery=delivery, retry=True
            )
        if state is ReserveResult.DONE:
            if logger.isEnabledFor(logging.INFO):
                logger.info(
                    "duplicate delivery acknowledged, not dispatched again",
                    extra={"webhookverify": self._fields(delivery, reason="duplicate")},
                )
            return Outcome(self.success_status, _TEXT, b"", delivery, "duplicate")
        if state is ReserveResult.IN_FLIGHT:
            if logger.isEnabledFor(logging.INFO):
                logger.info(
                    "the same delivery is in flight; answering 409",
                    extra={"webhookverify": self._fields(delivery, reason="in_flight")},
                )
            return self._reject(request, 409, "in_flight", delivery=delivery, retry=True)
        return None

    def _dispatched(self, delivery: Delivery, failure: BaseException | None) -> Outcome:
        if failure is None:
            if logger.isEnabledFor(logging.INFO):
                logger.info(
                    "delivery dispatched",
                    extra={"webhookverify": self._fields(delivery, reason="accepted")},
                )
            status = self.success_status
            body = _BODIES.get(status, b"")
            return _new(Outcome, (status, _TEXT, body, delivery, "accepted", None, None))
        logger.error(
            "a listener of webhook.received failed; answering 500 so the sender retries",
            exc_info=failure,
            extra={"webhookverify": self._fields(delivery, reason="listener_failed")},
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
        retry: bool = False,
    ) -> Outcome:
        if status in (401, 403):
            logger.warning(
                "webhook refused (%d %s)",
                status,
                reason,
                extra={
                    "webhookverify": {
                        "status": status,
                        "reason": reason,
                        "attempts": attempts,
                        "remote_addr": request.remote_addr,
                    }
                },
            )
        headers = _TEXT + ((("Retry-After", str(self.retry_after)),) if retry else ())
        rejection = Rejection(request, status, reason, attempts, error)
        return Outcome(status, headers, _BODIES[status], delivery, reason, rejection)

    def _notify(self, event: str, payload: object) -> None:
        """Fire an informational event; its listeners' failures change nothing."""
        try:
            self.bus.trigger(event, payload)
        except Exception:
            logger.exception("a listener of %s failed (the answer is unchanged)", event)

    def _fields(self, delivery: Delivery, *, reason: str) -> dict[str, Any]:
        return {
            "reason": reason,
            "handler": delivery.handler.name,
            "user": delivery.user,
            "delivery_id": delivery.delivery_id,
            "scheme": delivery.verification.scheme,
            "key_id": delivery.verification.key_id,
            "remote_addr": delivery.request.remote_addr,
        }

    # -- sync ----------------------------------------------------------------------

    def receive(self, request: WebhookRequest, now: float | None = None) -> Outcome:
        """Run the pipeline for ``request``; return the :class:`Outcome` to write."""
        try:
            match = self.registry.verify(request, now)
        except VerificationError as exc:
            refused = self._refusal(request, exc)
            self._notify(REJECTED, refused.rejection)
            return refused
        key, ttl = self._key(match)
        delivery = _new(Delivery, (match.handler, request, match.verification, key))
        if key is not None:
            try:
                state: ReserveResult | BaseException = self.replay_store.reserve(
                    key, ttl, self.lease
                )
            except Exception as exc:  # noqa: BLE001 - any store failure fails closed
                state = exc
            early = self._after_reserve(request, delivery, state)
            if early is not None:
                if early.rejection is not None:
                    self._notify(REJECTED, early.rejection)
                else:
                    self._notify(DUPLICATE, delivery)
                return early
        try:
            self.bus.trigger(RECEIVED, delivery)
        except Exception as exc:  # noqa: BLE001 - reported as 500, the key released
            self._settle(key, exc)
            return self._dispatched(delivery, exc)
        except BaseException:
            self._settle(key, KeyboardInterrupt())
            raise
        self._settle(key, None)
        return self._dispatched(delivery, None)

    def _settle(self, key: str | None, failure: BaseException | None) -> None:
        if key is None:
            return
        try:
            if failure is None:
                self.replay_store.commit(key)
            else:
                self.replay_store.release(key)
        except Exception:
            logger.exception(
                "replay store failed to %s a delivery key; %s",
                "commit" if failure is None else "release",
                "a replay of it may be dispatched again"
                if failure is None
                else "the sender's retry waits for the lease to end",
            )

    # -- async ---------------------------------------------------------------------

    async def areceive(self, request: WebhookRequest, now: float | None = None) -> Outcome:
        """The pipeline for async servers: async listeners are awaited, sync ones
        run in a worker thread, and the replay store's async methods are used
        when it has them.

        With ``time_budget`` set, listeners still running after that many
        seconds keep running in the background and the answer is 202; their
        key is committed or released when they finish.
        """
        try:
            match = self.registry.verify(request, now)
        except VerificationError as exc:
            refused = self._refusal(request, exc)
            await self._anotify(REJECTED, refused.rejection)
            return refused
        key, ttl = self._key(match)
        delivery = _new(Delivery, (match.handler, request, match.verification, key))
        if key is not None:
            try:
                state: ReserveResult | BaseException = await self._store_call(
                    "reserve", key, ttl, self.lease
                )
            except Exception as exc:  # noqa: BLE001 - any store failure fails closed
                state = exc
            early = self._after_reserve(request, delivery, state)
            if early is not None:
                if early.rejection is not None:
                    await self._anotify(REJECTED, early.rejection)
                else:
                    await self._anotify(DUPLICATE, delivery)
                return early
        if self.time_budget is None:
            return self._dispatched(delivery, await self._adispatch(delivery, key))
        asyncio = _asyncio()
        task = asyncio.ensure_future(self._adispatch(delivery, key))
        done, _ = await asyncio.wait({task}, timeout=self.time_budget)
        if task in done:
            return self._dispatched(delivery, task.result())
        _BACKGROUND.add(task)
        task.add_done_callback(_finished_late(delivery))
        logger.info(
            "listeners exceed the time budget; answering 202 and finishing in the background",
            extra={"webhookverify": self._fields(delivery, reason="accepted_late")},
        )
        return Outcome(202, _TEXT, _BODIES[202], delivery, "accepted_late", pending=task)

    async def _adispatch(self, delivery: Delivery, key: str | None) -> BaseException | None:
        """Fire ``webhook.received``, then settle the key; return the failure, if any."""
        try:
            await self.bus.atrigger(RECEIVED, delivery)
        except Exception as exc:  # noqa: BLE001 - reported, the key released
            if key is not None:
                await self._asettle(key, exc)
            return exc
        except BaseException:
            if key is not None:
                await _asyncio().shield(self._asettle(key, KeyboardInterrupt()))
            raise
        if key is not None:
            await self._asettle(key, None)
        return None

    async def _store_call(self, name: str, *args: Any) -> Any:
        method: Callable[..., Any] | None = getattr(self.replay_store, "a" + name, None)
        if method is not None:
            return await method(*args)
        return await _asyncio().to_thread(getattr(self.replay_store, name), *args)

    async def _asettle(self, key: str, failure: BaseException | None) -> None:
        try:
            await self._store_call("commit" if failure is None else "release", key)
        except Exception:
            logger.exception(
                "replay store failed to %s a delivery key",
                "commit" if failure is None else "release",
            )

    async def _anotify(self, event: str, payload: object) -> None:
        try:
            await self.bus.atrigger(event, payload)
        except Exception:
            logger.exception("a listener of %s failed (the answer is unchanged)", event)

    def __repr__(self) -> str:
        return f"Receiver({self.registry!r}, store={type(self.replay_store).__name__})"


# Delivery(...) and Outcome(...) without their Python-level __new__, for the
# ones built on every request: every field in order, defaults included.
_new = tuple.__new__


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
        failure = task.exception() or task.result()
        if failure is not None:
            logger.error(
                "a listener failed after the 202 was sent; the delivery key was released so a "
                "redelivery is processed",
                exc_info=failure,
                extra={
                    "webhookverify": {
                        "handler": delivery.handler.name,
                        "delivery_id": delivery.delivery_id,
                        "reason": "listener_failed_late",
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
