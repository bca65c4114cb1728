"""Settling a delivery key: its commit or release, retried within the request.

After the listeners ran, the receiver commits the delivery key (all of them
succeeded) or releases it (one failed or declined). A store that fails at
that moment leaves the key in flight: a copy of the delivery is then answered
409 until the lease ends, and dispatched again after that. Most failures at
that point are short (a pooled connection closed, a restart, a failover in
progress), so the step is retried a few times, with a short pause, before
the answer goes out; what is still wrong after that is logged at error level
with the window it leaves.

A store's ``commit`` and ``release`` must therefore be idempotent: a call
whose answer was lost may have taken effect, and is made again.
:class:`~webhookverify.MemoryReplayStore` and
:class:`~webhookverify.RedisReplayStore` are.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, TypeAlias

from .errors import DeliveryDeclined
from .replay import AsyncReplayStore, ReplayStore, Reservation

if TYPE_CHECKING:
    from .delivery import Delivery

__all__ = [
    "SETTLE_ATTEMPTS",
    "SETTLE_PAUSE",
    "asettle",
    "declined_by",
    "fields",
    "settle",
]

logger = logging.getLogger("webhookverify")

# A store with the async methods, or only the sync ones (run in a worker thread).
AnyStore: TypeAlias = ReplayStore | AsyncReplayStore

# Attempts in all at a commit or release before answering. Each one may wait
# up to the store's own timeout (RedisReplayStore: 1 s, retried once by its
# client), so three attempts plus the pauses stay within the ten seconds or
# so senders give a request (GitHub: 10 s) while riding over a reconnect.
SETTLE_ATTEMPTS = 3
# Pause before the second attempt, doubled before each later one (0.05 s,
# then 0.1 s): long enough for a client to reconnect, short against a request.
SETTLE_PAUSE = 0.05


def fields(delivery: Delivery, reason: str) -> dict[str, Any]:
    """What a log record says of a delivery (never its body or signature)."""
    return {
        "reason": reason,
        "handler": delivery.handler.name,
        "user": delivery.user,
        "delivery_id": delivery.delivery_id,
        "scheme": delivery.verification.scheme,
        "key_id": delivery.verification.key_id,
        "remote_addr": delivery.request.remote_addr,
    }


def settle(
    store: ReplayStore, reservation: Reservation, *, commit: bool, lease: float, about: Delivery
) -> bool:
    """Commit or release ``reservation`` in ``store``, retried on failure.

    Args:
        store: the store that made the reservation.
        reservation: what its ``reserve`` returned.
        commit: commit (the listeners succeeded), else release.
        lease: the receiver's lease, to say in the log how long the key stays
            in flight when every attempt failed.
        about: the delivery, named in the log when something is logged.

    Returns:
        whether the store took it; when it did not, the failure is logged
        at error level with what the store still holds.
    """
    step = store.commit if commit else store.release
    for attempt in range(1, SETTLE_ATTEMPTS + 1):
        try:
            step(reservation)
            return True
        except Exception as exc:  # noqa: BLE001 - any store failure is retried, then logged
            if _failed(exc, attempt, commit=commit, lease=lease, about=about):
                return False
            time.sleep(SETTLE_PAUSE * 2 ** (attempt - 1))
    return False  # pragma: no cover - the loop returns


async def asettle(
    store: AnyStore,
    reservation: Reservation,
    *,
    commit: bool,
    lease: float,
    about: Delivery,
) -> bool:
    """:func:`settle` for asyncio, the pauses awaited: the store's sync
    ``commit``/``release`` called directly when it does not block (its
    ``blocking`` attribute is false), else its ``acommit``/``arelease``
    awaited, else its sync method in a worker thread.

    The step is made even when the task is cancelled meanwhile: a server
    shutting down cancels the requests still running (uvicorn's
    ``--timeout-graceful-shutdown``), then the event loop's teardown cancels
    them again, and a release cut short left the key in flight for the
    lease, the sender's retries answered 409 until it ended. A cancellation
    is raised once the step is done (or its attempts are spent).
    """
    name = "commit" if commit else "release"
    direct = not getattr(store, "blocking", True)
    step: Any = getattr(store, name if direct else "a" + name, None)
    cancelled: BaseException | None = None
    done = False
    for attempt in range(1, SETTLE_ATTEMPTS + 1):
        try:
            if attempt > 1:
                await _asyncio().sleep(SETTLE_PAUSE * 2 ** (attempt - 2))
            if direct:
                step(reservation)
            elif step is not None:
                await step(reservation)
            else:
                await _asyncio().to_thread(getattr(store, name), reservation)
            done = True
            break
        except _asyncio().CancelledError as exc:  # this attempt cut short: the next one made
            cancelled = exc
        except Exception as exc:  # noqa: BLE001 - any store failure is retried, then logged
            if _failed(exc, attempt, commit=commit, lease=lease, about=about):
                break
    if cancelled is not None:
        raise cancelled
    return done


def _asyncio() -> Any:
    """asyncio, imported where an async path needs it (not at import)."""
    import asyncio

    return asyncio


def declined_by(failure: BaseException) -> DeliveryDeclined | None:
    """The decline behind a dispatch's failure when every listener that failed
    declined (:class:`DeliveryDeclined`, alone or in exception groups), else ``None``."""
    if isinstance(failure, DeliveryDeclined):
        return failure
    if isinstance(failure, BaseExceptionGroup):
        declined, rest = failure.split(DeliveryDeclined)
        while rest is None and declined is not None:
            first = declined.exceptions[0]
            if isinstance(first, DeliveryDeclined):
                return first
            declined = first if isinstance(first, BaseExceptionGroup) else None
    return None


def _failed(exc: Exception, attempt: int, *, commit: bool, lease: float, about: Delivery) -> bool:
    """Log a failed attempt; whether it was the last."""
    if attempt < SETTLE_ATTEMPTS:
        logger.warning(
            "the replay store failed to %s a delivery key (attempt %d of %d, %s); retrying in %g s",
            "commit" if commit else "release",
            attempt,
            SETTLE_ATTEMPTS,
            type(exc).__name__,
            SETTLE_PAUSE * 2 ** (attempt - 1),
            extra={"webhookverify": {**fields(about, "settle"), "attempt": attempt}},
        )
        return False
    reason = "accepted_uncommitted" if commit else "release_failed"
    logger.error(
        "the replay store failed to %s a delivery key (%d attempts): the delivery is answered "
        "%s, but its key stays in flight until the lease ends (%g s after it was reserved); "
        "until then a copy is answered 409, after that %s",
        "commit" if commit else "release",
        SETTLE_ATTEMPTS,
        "as accepted" if commit else "500",
        lease,
        "a copy or replay is dispatched again" if commit else "the sender's retry is processed",
        exc_info=exc,
        extra={"webhookverify": {**fields(about, "settle"), "reason": reason}},
    )
    return True
