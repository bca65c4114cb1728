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
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias

from .errors import DeliveryDeclined

__all__ = ["SETTLE_ATTEMPTS", "SETTLE_PAUSE", "asettle", "declined_by", "settle"]

logger = logging.getLogger("webhookverify")

# Gives the structured log fields about the delivery, when something is logged.
Fields: TypeAlias = Callable[[], Mapping[str, Any]]

# Attempts in all at a commit or release before answering. Each one may wait
# up to the store's own timeout (RedisReplayStore: 1 s, retried once by its
# client), so three attempts plus the pauses stay within the ten seconds or
# so senders give a request (GitHub: 10 s) while riding over a reconnect.
SETTLE_ATTEMPTS = 3
# Pause before the second attempt, doubled before each later one (0.05 s,
# then 0.1 s): long enough for a client to reconnect, short against a request.
SETTLE_PAUSE = 0.05


def settle(step: Callable[[], object], *, commit: bool, lease: float, fields: Fields) -> bool:
    """Run a store's ``commit`` or ``release`` of one key, retried on failure.

    Args:
        step: the call to make, such as ``lambda: store.commit(key)``.
        commit: whether ``step`` commits (else it releases), for the log.
        lease: the receiver's lease, to say in the log how long the key stays
            in flight when every attempt failed.
        fields: gives the structured log fields about the delivery; called
            only when something is logged.

    Returns:
        whether the step succeeded; when it did not, the failure is logged
        at error level with what the store still holds.
    """
    pause = SETTLE_PAUSE
    for attempt in range(1, SETTLE_ATTEMPTS + 1):
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - any store failure is retried, then logged
            if attempt == SETTLE_ATTEMPTS:
                _gave_up(exc, commit=commit, lease=lease, fields=fields)
                return False
            _retrying(exc, attempt, pause, commit=commit, fields=fields)
            time.sleep(pause)
            pause *= 2
        else:
            return True
    return False  # pragma: no cover - the loop returns


async def asettle(
    step: Callable[[], Awaitable[object]],
    *,
    commit: bool,
    lease: float,
    fields: Fields,
) -> bool:
    """:func:`settle` for asyncio: the step is awaited, and so are the pauses."""
    import asyncio

    pause = SETTLE_PAUSE
    for attempt in range(1, SETTLE_ATTEMPTS + 1):
        try:
            await step()
        except Exception as exc:  # noqa: BLE001 - any store failure is retried, then logged
            if attempt == SETTLE_ATTEMPTS:
                _gave_up(exc, commit=commit, lease=lease, fields=fields)
                return False
            _retrying(exc, attempt, pause, commit=commit, fields=fields)
            await asyncio.sleep(pause)
            pause *= 2
        else:
            return True
    return False  # pragma: no cover - the loop returns


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


def _retrying(exc: Exception, attempt: int, pause: float, *, commit: bool, fields: Fields) -> None:
    logger.warning(
        "the replay store failed to %s a delivery key (attempt %d of %d, %s); retrying in %g s",
        "commit" if commit else "release",
        attempt,
        SETTLE_ATTEMPTS,
        type(exc).__name__,
        pause,
        extra={"webhookverify": {**fields(), "attempt": attempt}},
    )


def _gave_up(exc: Exception, *, commit: bool, lease: float, fields: Fields) -> None:
    if commit:
        logger.error(
            "the replay store failed to commit a processed delivery's key (%d attempts): the "
            "delivery is answered as accepted, but its key stays in flight until the lease ends "
            "(%g s after it was reserved); until then a copy is answered 409, after that a copy "
            "or replay is dispatched again",
            SETTLE_ATTEMPTS,
            lease,
            exc_info=exc,
            extra={"webhookverify": {**fields(), "reason": "accepted_uncommitted"}},
        )
    else:
        logger.error(
            "the replay store failed to release a delivery key (%d attempts): the sender's "
            "retry is answered 409 until the lease ends (%g s after it was reserved) and is "
            "processed after that",
            SETTLE_ATTEMPTS,
            lease,
            exc_info=exc,
            extra={"webhookverify": {**fields(), "reason": "release_failed"}},
        )
