"""The receiver's answers: each :class:`~webhookverify.Outcome` it returns, with
its log line.

Plain functions of the delivery, the request and the receiver's settings
(``success_status``, ``retry_after``); nothing here reads a store or a bus.
"""

from __future__ import annotations

import logging
import urllib.parse
from typing import TYPE_CHECKING, Any

from ._settle import declined_by, fields
from .delivery import Delivery, Outcome, Rejection
from .errors import (
    AccessDisabled,
    AmbiguousMatch,
    KeyUnavailable,
    NoHandlerMatched,
    ReplayStoreUnavailable,
    TimestampInFuture,
    TimestampOutsideTolerance,
    VerificationError,
)
from .events import DUPLICATE, HANDSHAKE, REJECTED
from .replay import ReserveResult
from .request import WebhookRequest

if TYPE_CHECKING:
    from .handshake import Answered

logger = logging.getLogger("webhookverify")

TEXT = (("Content-Type", "text/plain; charset=utf-8"),)
# Short, fixed texts: they tell a sender what happened, never why a signature failed.
BODIES = {
    200: b"",
    202: b"accepted\n",
    401: b"webhook signature verification failed\n",
    403: b"webhook access is disabled\n",
    409: b"this delivery is being processed; retry later\n",
    500: b"the delivery could not be processed; retry later\n",
    503: b"webhook receiver temporarily unavailable; retry later\n",
}
# What to check, for the refusal's log line (never the response): the reason
# of the handler that came closest, since others refuse a stranger's headers.
_PRESET = "check that the handler's preset or verifier is the sender's"
CHECKS = {
    "signature_mismatch": (
        "check the secret against the sender's webhook settings, and that the body and URL "
        "reach the receiver unchanged (a proxy, a body parsed and serialized again; "
        "public_url= for a sender that signs the URL)"
    ),
    "malformed_signature": _PRESET,
    "unsupported_signature_version": _PRESET,
    "missing_header": (
        "no handler found the headers it reads: check that the sender has a secret set "
        "(GitHub signs nothing without one), that the preset is the sender's, and that a "
        "proxy passes the signature headers on"
    ),
    "malformed_timestamp": _PRESET,
    "timestamp_too_old": (
        "check this server's clock (NTP) and whatever holds requests back (a queue, a "
        "replay of an old delivery); tolerance= sets the window"
    ),
    "timestamp_in_future": "check this server's clock (NTP); future_tolerance= sets the window",
    "no_valid_key": "check the keys' not_before and not_after: none is valid now",
}
# Handlers named in a refusal's log line: enough for any registry a person
# reads at a glance; a longer line would wrap past the terminal and bury the
# first reason. Every attempt is still in record.webhookverify.
LOGGED_ATTEMPTS = 8


def info(message: str, delivery: Delivery, reason: str) -> None:
    if logger.isEnabledFor(logging.INFO):
        logger.info(message, extra={"webhookverify": fields(delivery, reason)})


def reject(
    request: WebhookRequest,
    status: int,
    reason: str,
    retry_after: int,
    *,
    attempts: tuple[tuple[str, str], ...] = (),
    error: BaseException | None = None,
    delivery: Delivery | None = None,
) -> Outcome:
    """A refusal, with its :class:`~webhookverify.Rejection` (``Retry-After`` on 409 and 503)."""
    headers = TEXT if status < 409 else (*TEXT, ("Retry-After", str(retry_after)))
    path = urllib.parse.urlsplit(request.url).path
    rejection = Rejection(
        request, status, reason, attempts, error, request.method, path, request.remote_addr
    )
    return Outcome(status, headers, BODIES[status], delivery, reason, rejection)


def refused(request: WebhookRequest, exc: VerificationError, retry_after: int) -> Outcome:
    """A request no handler verified: 401 (403 when switched off; 503 with
    ``Retry-After`` when a handler could not fetch its sender's key, so that
    the sender retries instead of dropping the delivery)."""
    attempts = exc.attempts if isinstance(exc, NoHandlerMatched) else ()
    errors = exc.errors if isinstance(exc, NoHandlerMatched) else (exc,)
    unavailable = next((error for error in errors if isinstance(error, KeyUnavailable)), None)
    if unavailable is not None:
        reason = KeyUnavailable.reason
        logger.error(
            "handler %r could not fetch its sender's key; answering 503 so the sender retries: %s",
            unavailable.handler,
            unavailable,
            extra={"webhookverify": {"reason": reason, "handler": unavailable.handler}},
        )
        return reject(request, 503, reason, retry_after, attempts=attempts, error=exc)
    if isinstance(exc, AmbiguousMatch):
        logger.error(
            "two handlers verified one request (HandlerRegistry strict=True): %s",
            exc,
            extra={"webhookverify": {"reason": exc.reason, "handler": exc.handler}},
        )
    status = 403 if isinstance(exc, AccessDisabled) else 401
    remote_addr = request.remote_addr
    log = {"status": status, "reason": exc.reason, "attempts": attempts, "remote_addr": remote_addr}
    # ": github signature_mismatch, stripe missing_header" for the log line
    # (never the response): the first LOGGED_ATTEMPTS handlers.
    shown = ", ".join(f"{name} {failed}" for name, failed in attempts[:LOGGED_ATTEMPTS])
    why = f": {shown}" if attempts else ""
    if len(attempts) > LOGGED_ATTEMPTS:
        why += f", and {len(attempts) - LOGGED_ATTEMPTS} more"
    # the handler that came closest: any handler misses a stranger's headers,
    # so another's reason, when there is one, says more
    reasons = [failed for _, failed in attempts]
    closest = next((r for r in reasons if r != "missing_header"), reasons[0] if reasons else "")
    check = CHECKS.get(closest)
    if check is not None:
        why += f"; {_numbers(closest, errors)}{check}"
    logger.warning(
        "webhook refused (%d %s%s)", status, exc.reason, why, extra={"webhookverify": log}
    )
    return reject(request, status, exc.reason, retry_after, attempts=attempts, error=exc)


def _numbers(reason: str, errors: tuple[BaseException, ...]) -> str:
    """``"3600 s old, tolerance 300 s; "`` for a timestamp refusal that kept its
    numbers (a few seconds say clock, hours say an old delivery), else ``""``."""
    error = next((e for e in errors if getattr(e, "reason", None) == reason), None)
    if not isinstance(error, TimestampOutsideTolerance):
        return ""
    if error.timestamp is None or error.now is None:
        return ""
    ahead = isinstance(error, TimestampInFuture)
    gap = f"{abs(error.now - error.timestamp):.0f} s {'ahead' if ahead else 'old'}"
    return gap + ("" if error.tolerance is None else f", tolerance {error.tolerance:.0f} s") + "; "


def after_reserve(
    delivery: Delivery, state: object, success_status: int, retry_after: int
) -> Outcome:
    """The outcome of a ``reserve`` that gave no :class:`~webhookverify.Reservation`:
    a duplicate, one in flight, or a store failure (503; also for an answer the
    protocol does not allow, such as a bool: nobody would hold the key)."""
    request = delivery.request
    if not isinstance(state, BaseException | ReserveResult):
        state = ReplayStoreUnavailable(
            f"the replay store's reserve() answered {type(state).__name__}; it must return a "
            "Reservation or a ReserveResult (see ReplayStore)"
        )
    if isinstance(state, BaseException):
        logger.error(
            "replay store unavailable; answering 503 so the sender retries: %s",
            state,
            extra={"webhookverify": fields(delivery, "store_unavailable")},
        )
        return reject(
            request, 503, "store_unavailable", retry_after, error=state, delivery=delivery
        )
    if state is ReserveResult.DONE:
        info("duplicate delivery acknowledged, not dispatched again", delivery, "duplicate")
        return Outcome(success_status, TEXT, b"", delivery, "duplicate")
    info("the same delivery is in flight; answering 409", delivery, "in_flight")
    return reject(request, 409, "in_flight", retry_after, delivery=delivery)


def dispatched(
    delivery: Delivery, failure: BaseException | None, settled: bool, success_status: int
) -> Outcome:
    """The outcome of a dispatch: its failure, and whether the key was
    committed or released (``settled``; a failure to do so is logged)."""
    if failure is None:
        reason = "accepted" if settled else "accepted_uncommitted"
        if settled and logger.isEnabledFor(logging.INFO):  # info(), without its call
            logger.info("delivery dispatched", extra={"webhookverify": fields(delivery, reason)})
        return Outcome(success_status, TEXT, BODIES.get(success_status, b""), delivery, reason)
    declined = declined_by(failure)
    if declined is not None:
        logger.warning(
            "the delivery was declined (%s); its key was released so the sender's retry "
            "is processed",
            declined,
            extra={"webhookverify": {**fields(delivery, "declined"), "status": declined.status}},
        )
        return Outcome(500, TEXT, BODIES[500], delivery, "declined")
    logger.error(
        "dispatching the delivery failed; answering 500 so the sender retries",
        exc_info=failure,
        extra={"webhookverify": fields(delivery, "listener_failed")},
    )
    return Outcome(500, TEXT, BODIES[500], delivery, "listener_failed")


def accepted_late(delivery: Delivery, task: Any) -> Outcome:
    """202 for a dispatch still running at the time budget; it finishes in the background."""
    in_background(delivery, task)
    info(
        "the dispatch exceeds the time budget; answering 202 and finishing in the background",
        delivery,
        "accepted_late",
    )
    return Outcome(202, TEXT, BODIES[202], delivery, "accepted_late", pending=task)


def in_background(delivery: Delivery, task: Any) -> None:
    """Let a dispatch finish without the request that started it (answered 202,
    or cancelled by the server while waiting on the time budget): kept
    referenced until it ends, and how it ended logged."""
    BACKGROUND.add(task)
    task.add_done_callback(lambda done: finished_late(delivery, done))


def event(early: Outcome | Answered) -> tuple[str, object]:
    """The event an answer given without a dispatch fires: ``webhook.handshake``,
    ``webhook.rejected``, or ``webhook.duplicate``."""
    if not isinstance(early, Outcome):
        return HANDSHAKE, early.event
    if early.rejection is not None:
        return REJECTED, early.rejection
    return DUPLICATE, early.delivery


# Tasks finishing after a 202: kept referenced until done, so they are not
# garbage-collected mid-flight.
BACKGROUND: set[Any] = set()


def finished_late(delivery: Delivery, task: Any) -> None:
    """Log how a dispatch that outran the time budget ended."""
    BACKGROUND.discard(task)
    if task.cancelled():
        logger.error("listeners cancelled after a 202 (or a cancelled request) for %r", delivery)
        return
    failure = task.exception() or task.result()[0]
    if failure is None:
        return
    declined = declined_by(failure)
    reason = "listener_failed_late" if declined is None else "declined_late"
    logger.log(
        logging.ERROR if declined is None else logging.WARNING,
        "a listener %s after the request was answered 202 (or cancelled); the delivery "
        "key was released so a redelivery is processed",
        "failed" if declined is None else f"declined ({declined})",
        exc_info=failure if declined is None else None,
        extra={"webhookverify": fields(delivery, reason)},
    )
