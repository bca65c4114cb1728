"""What the WSGI and ASGI adapters decide alike about a reply.

- A request the adapter refuses itself (:class:`~webhookverify._http.Refused`:
  400, 405, 411, 413, 431, ...) is logged and fires ``webhook.rejected``
  like the receiver's refusals do, with a :class:`~webhookverify.Rejection`
  whose ``request`` is ``None`` (none was built) and which says what is known:
  the method, the path and the peer's address. A listener that fails is
  logged and changes nothing in the answer.
- Under a middleware, the wrapped app's answer is what the sender gets when
  it agrees with what the receiver did with the delivery key: a 2xx when the
  key was committed, anything else when it was released.
"""

from __future__ import annotations

import logging

from ._http import Refused, Reply, log_refused
from .delivery import Rejection
from .events import REJECTED, EventBus

__all__ = ["ACCEPTED", "NOT_PROCESSED", "app_answer_stands", "arefuse", "refuse"]

logger = logging.getLogger("webhookverify")

# Outcome reasons of a delivery whose listeners (the wrapped app among them)
# all succeeded, with its key committed or not.
ACCEPTED = frozenset({"accepted", "accepted_uncommitted"})
# Outcome reasons of a delivery a listener failed or declined: its key released.
NOT_PROCESSED = frozenset({"listener_failed", "declined"})


def _rejection(
    refused: Refused, method: str | None, path: str | None, remote_addr: str | None
) -> Rejection:
    log_refused(refused, remote_addr)
    return Rejection(
        None,
        refused.reply.status,
        refused.reason,
        error=refused,
        method=method,
        path=path,
        remote_addr=remote_addr,
    )


def refuse(
    bus: EventBus,
    refused: Refused,
    *,
    method: str | None,
    path: str | None,
    remote_addr: str | None,
) -> Reply:
    """Log an adapter's refusal, fire ``webhook.rejected`` on ``bus``, return the reply.

    Args:
        bus: the receiver's event bus.
        refused: what the adapter refused, and the reply to send.
        method, path, remote_addr: what is known of the request (see
            :class:`~webhookverify.Rejection`).
    """
    rejection = _rejection(refused, method, path, remote_addr)
    try:
        bus.trigger(REJECTED, rejection)
    except Exception:
        logger.exception("a listener of %s failed (the answer is unchanged)", REJECTED)
    return refused.reply


async def arefuse(
    bus: EventBus,
    refused: Refused,
    *,
    method: str | None,
    path: str | None,
    remote_addr: str | None,
) -> Reply:
    """:func:`refuse` for asyncio: async listeners are awaited, sync ones run in a thread."""
    rejection = _rejection(refused, method, path, remote_addr)
    try:
        await bus.atrigger(REJECTED, rejection)
    except Exception:
        logger.exception("a listener of %s failed (the answer is unchanged)", REJECTED)
    return refused.reply


def app_answer_stands(reason: str, app_status: int) -> bool:
    """Whether a middleware sends the wrapped app's own answer rather than the receiver's.

    A 2xx from the app stands when the delivery was accepted (every listener
    succeeded). Any other final status from the app (3xx, 4xx, 5xx) stands
    when the delivery's key was released because a listener failed or
    declined: the sender learns what the app said, and its retry is
    processed. Otherwise (another listener failed after the app's 2xx, a 202
    at the time budget, a 1xx that is no final answer) the receiver's answer
    is sent.
    """
    if 200 <= app_status < 300:
        return reason in ACCEPTED
    return 300 <= app_status < 600 and reason in NOT_PROCESSED
