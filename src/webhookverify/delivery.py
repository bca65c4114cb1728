"""What the receive pipeline hands out.

- :class:`Delivery`: a verified delivery, the payload of ``webhook.received``
  (and of ``webhook.duplicate``);
- :class:`Rejection`: a request that was not dispatched, the payload of
  ``webhook.rejected``, from the receiver or from an adapter;
- :class:`Outcome`: what :meth:`Receiver.receive
  <webhookverify.Receiver.receive>` decided, for an adapter to write.

Immutable values only: nothing here reads a socket, a clock or a store.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, NamedTuple

from .errors import PayloadError
from .registry import Handler
from .request import WebhookRequest
from .routing import EventType
from .verifiers._base import Verification

__all__ = ["MAX_JSON_DEPTH", "Delivery", "Outcome", "Rejection"]

# Webhook payloads are shallow (GitHub's deepest are under 10 levels); a body
# nested deeper than this is an attack on the parser, not a delivery.
MAX_JSON_DEPTH = 64
# HTML form encoding (WHATWG URL §5): GitHub's default webhook content type.
FORM = "application/x-www-form-urlencoded"


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
        event_type: the provider's name for the event (``pull_request.opened``,
            ``invoice.paid``), read by the handler's ``read_event_type``;
            ``None`` when it has none or the body names none.
        event_type_signed: whether the signature covers that name (``False``
            for an unsigned header such as GitHub's ``X-GitHub-Event``: see
            :mod:`webhookverify.routing`).
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

    @property
    def event(self) -> EventType | None:
        """The event type and whether it is signed (read from the request on
        each access: keep the value rather than asking twice)."""
        reader = self.handler.read_event_type
        if reader is None:
            return None
        try:
            return reader(self.request, self.verification)
        except Exception:  # noqa: BLE001 - a reader never fails a delivery
            return None

    @property
    def event_type(self) -> str | None:
        event = self.event
        return None if event is None else event.name

    @property
    def event_type_signed(self) -> bool:
        event = self.event
        return event is not None and event.signed

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
            why = _why_not(self.request, exc)
            raise PayloadError(f"the body is not valid JSON: {why}") from None
        _check_depth(value)
        return value

    def __repr__(self) -> str:
        return (
            f"Delivery(handler={self.handler.name!r}, user={self.user!r}, "
            f"delivery_id={self.delivery_id!r}, scheme={self.verification.scheme!r}, "
            f"body={len(self.request.body)} bytes)"
        )


def _why_not(request: WebhookRequest, error: ValueError) -> str:
    """The parser's complaint, or the fix when the sender posted a form."""
    media_type = (request.headers.get("Content-Type") or "").split(";")[0]
    if media_type.strip().lower() != FORM:
        return str(error)
    return (
        f"it was sent as {FORM}; set the sender's content type to application/json "
        "(GitHub: the webhook's Content type), or parse delivery.body as a form"
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

    Fired by the receiver (401, 403, 409, 503) and by the WSGI and ASGI
    adapters for a request they refuse before a :class:`WebhookRequest`
    exists (400, 405, 411, 413, 431: a wrong method, a bad length, a body too
    large, malformed or too many headers). Such a rejection has ``request``
    set to ``None`` and says what was known: ``method``, ``path`` and
    ``remote_addr``.

    Attributes:
        request: the request as received, or ``None`` for an adapter's refusal.
        status: the HTTP status it was answered with.
        reason: the overall reason code (``no_handler_matched``, ``in_flight``,
            ``method_not_allowed``, ``body_too_large``, ...).
        attempts: ``(handler name, reason code)`` for every handler tried.
        error: the error behind the refusal, if any.
        method: the request method, if known.
        path: the path of the request's URL, percent-encoded as sent, if known.
        remote_addr: the client's address, if known (for an adapter's
            refusal, the connecting peer: a proxy's address behind a proxy).
    """

    request: WebhookRequest | None
    status: int
    reason: str
    attempts: tuple[tuple[str, str], ...] = ()
    error: BaseException | None = None
    method: str | None = None
    path: str | None = None
    remote_addr: str | None = None


class Outcome(NamedTuple):
    """What to answer: status, headers and body, and the delivery if one was verified.

    ``reason`` is a code for logs and tests (never sent): ``accepted``;
    ``accepted_uncommitted`` (dispatched and answered 2xx, but the replay
    store failed to record it: its key stays in flight until the lease ends);
    ``accepted_late`` (202, listeners still running); ``duplicate``;
    ``listener_failed`` and ``declined`` (500, key released); or the
    rejection's reason. ``pending`` is set when listeners were still running
    at a 202 (``Receiver.time_budget``): it resolves to ``(failure or None,
    whether the key was settled)``. A sender's endpoint check answered is
    ``handshake`` (``handshake_failed``: a listener of ``webhook.handshake``
    raised, 500).
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    delivery: Delivery | None = None
    reason: str = ""
    rejection: Rejection | None = None
    pending: Awaitable[tuple[BaseException | None, bool]] | None = None

    def __repr__(self) -> str:
        return (
            f"Outcome(status={self.status!r}, reason={self.reason!r}, "
            f"body={self.body!r}, delivery={self.delivery!r})"
        )
