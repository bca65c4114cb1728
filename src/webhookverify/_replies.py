"""What the WSGI and ASGI adapters answer alike.

- Fixed, short replies for the requests an adapter refuses itself
  (:class:`Refused`: 400, 405, 411, 413, 431). Each refusal is logged and
  fires ``webhook.rejected`` like the receiver's refusals do, with a
  :class:`~webhookverify.Rejection` whose ``request`` is ``None`` (none was
  built) and which says what is known: the method, the path and the peer's
  address. A listener that fails is logged and changes nothing in the answer.
- Under a middleware, the wrapped app's answer is what the sender gets when
  it agrees with what the receiver did with the delivery key: a 2xx when the
  key was committed, anything else when it was released.
- A framework's webhook view under a middleware guarding its path runs with
  the middleware's delivery (:func:`verified_ahead`) instead of verifying the
  request again.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, NamedTuple

from .delivery import Delivery, Outcome, Rejection
from .errors import DeliveryDeclined
from .events import REJECTED, EventBus

if TYPE_CHECKING:
    from .receiver import Receiver

__all__ = [
    "BAD_REQUEST",
    "HEADERS_TOO_LARGE",
    "INTERNAL_ERROR",
    "LENGTH_REQUIRED",
    "TOO_LARGE",
    "Refused",
    "Reply",
    "app_answer_stands",
    "arefuse",
    "decline_unless_2xx",
    "refuse",
    "replay_parts",
    "verified_ahead",
]

logger = logging.getLogger("webhookverify")


class Reply(NamedTuple):
    """A response to write: status, headers (without Content-Length) and body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


_TEXT = ("Content-Type", "text/plain; charset=utf-8")
# Short, fixed texts: they tell a sender what to fix, never what we hold.
BAD_REQUEST = Reply(400, (_TEXT,), b"malformed request\n")
LENGTH_REQUIRED = Reply(411, (_TEXT,), b"a Content-Length is required\n")
TOO_LARGE = Reply(413, (_TEXT,), b"request body too large\n")
# RFC 6585 §5: Request Header Fields Too Large.
HEADERS_TOO_LARGE = Reply(431, (_TEXT,), b"request header fields too large\n")
INTERNAL_ERROR = Reply(500, (_TEXT,), b"the delivery could not be processed; retry later\n")

# Outcome reasons of a delivery whose dispatch (the wrapped app) succeeded,
# with its key committed or not.
ACCEPTED = frozenset({"accepted", "accepted_uncommitted"})
# Outcome reasons of a delivery whose dispatch failed or declined: its key released.
NOT_PROCESSED = frozenset({"listener_failed", "declined"})


def method_not_allowed(allow: str) -> Reply:
    """405 with the ``Allow`` header RFC 9110 §15.5.6 requires."""
    return Reply(405, (_TEXT, ("Allow", allow)), b"method not allowed\n")


class Refused(Exception):
    """A request the adapter answers itself, before or instead of the receiver.

    Attributes:
        reply: what to send.
        reason: a code for the log (``body_too_large``, ``truncated_body``, ...).
    """

    def __init__(self, reply: Reply, reason: str) -> None:
        super().__init__(reason)
        self.reply = reply
        self.reason = reason


def _rejection(
    refused: Refused, method: str | None, path: str | None, remote_addr: str | None
) -> Rejection:
    status = refused.reply.status
    fields = {"status": status, "reason": refused.reason, "remote_addr": remote_addr}
    logger.info(
        "webhook request refused by the adapter (%d %s)",
        status,
        refused.reason,
        extra={"webhookverify": fields},
    )
    return Rejection(
        None,
        status,
        refused.reason,
        error=refused,
        method=method,
        path=path,
        remote_addr=remote_addr,
    )


def refuse(
    bus: EventBus, refused: Refused, method: str | None, path: str | None, remote_addr: str | None
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
    bus: EventBus, refused: Refused, method: str | None, path: str | None, remote_addr: str | None
) -> Reply:
    """:func:`refuse` for asyncio: async listeners are awaited, sync ones run in a thread."""
    rejection = _rejection(refused, method, path, remote_addr)
    try:
        await bus.atrigger(REJECTED, rejection)
    except Exception:
        logger.exception("a listener of %s failed (the answer is unchanged)", REJECTED)
    return refused.reply


def decline_unless_2xx(status: int, line: str) -> None:
    """The middleware's verdict on the wrapped app's answer.

    Only a 2xx means the app processed the delivery: a 4xx (Django's CSRF
    403, a validation error) committed would turn the sender's retry into an
    empty 200 that never reaches the app.

    Raises:
        DeliveryDeclined: ``status`` is not a 2xx; the key is released.
    """
    if not 200 <= status < 300:
        raise DeliveryDeclined(f"the wrapped app answered {line}", status=status)


def app_answer_stands(outcome: Outcome, app_status: int) -> bool:
    """Whether a middleware sends the wrapped app's own answer rather than the receiver's.

    A 2xx from the app stands when the delivery was accepted. Any other final
    status from the app (3xx, 4xx, 5xx) stands when the delivery's key was
    released because the app declined it: the sender learns what the app
    said, and its retry is processed. Otherwise (a 202 at the time budget, a
    1xx that is no final answer) the receiver's answer is sent.
    """
    if 200 <= app_status < 300:
        return outcome.reason in ACCEPTED
    return 300 <= app_status < 600 and outcome.reason in NOT_PROCESSED


def verified_ahead(found: object, receiver: Receiver) -> Delivery | None:
    """The delivery a ``WebhookMiddleware`` verified for this request, when a
    framework's webhook view under it is to run with it (``None``: verify
    the request as usual).

    The middleware holds the delivery's key until the app answers, and
    settles it by that answer. A view verifying the request again found its
    own key in flight and answered 409, which the middleware released: the
    delivery and every retry were answered 409 and never processed. So the
    view takes the middleware's delivery, when one of the view's own
    handlers verified it (the same :class:`~webhookverify.Handler`; another
    receiver's handlers prove nothing to this view).

    Args:
        found: what the request carries at ``webhookverify.delivery`` (the
            WSGI environ, or the ASGI scope's ``state``), or ``None``.
        receiver: the view's receiver.
    """
    if isinstance(found, Delivery) and any(h is found.handler for h in receiver.registry):
        return found
    return None


async def replay_parts(parts: list[Any]) -> AsyncIterator[Any]:
    """Send again the parts of a streamed answer that the dispatch step read
    to its end (so that its failure released the key): the iterator a
    framework's streamed response is given back."""
    for part in parts:
        yield part
