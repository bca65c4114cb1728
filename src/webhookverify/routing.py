"""Event types, and the event names a delivery is routed to.

A preset knows where its provider names the kind of event it sends: a field
of the signed body (Stripe's ``type``, Standard Webhooks' ``type``), or a
header (GitHub's ``X-GitHub-Event``, Shopify's ``X-Shopify-Topic``). Its
verifier carries a *reader* (``read_event_type``), called only after the
signature has passed, that returns an :class:`EventType`: the name, and
whether the signature covers it. A header that the signature does not cover
is marked unsigned: whoever replays a signed body may send it with another
such header (GitHub's ``X-GitHub-Event: issues`` on a ``push`` body), so do
not let an unsigned event type alone decide anything the body contradicts.

A reader never fails a delivery: a body that is not JSON, a field that is
missing or not a short printable name, gives ``None``.

Routing: a verified delivery fires ``webhook.received``, and also, when
listeners are bound to them, ``webhook.received.<handler>`` and
``webhook.received.<handler>.<event type>`` (:func:`route_names`); the
:class:`~webhookverify.EventBus` runs all their listeners as one ordered
list, each listener once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

if TYPE_CHECKING:
    from .request import WebhookRequest
    from .types import Verification

__all__ = [
    "MAX_EVENT_TYPE",
    "EventType",
    "EventTypeReader",
    "body_event_type",
    "header_event_type",
    "route_names",
]

# Providers' event names are short (GitHub's longest, with its action, is
# under 60 characters; Stripe's under 50); a longer one is not a name to
# route by.
MAX_EVENT_TYPE = 200

RECEIVED = "webhook.received"


class EventType(NamedTuple):
    """A delivery's event type: the provider's own name, and whether it is signed.

    Attributes:
        name: such as ``pull_request.opened``, ``invoice.paid``.
        signed: the signature covers it (a field of the signed body, a signed
            header); ``False`` for an unsigned header such as ``X-GitHub-Event``.
    """

    name: str
    signed: bool


EventTypeReader: TypeAlias = "Callable[[WebhookRequest, Verification], EventType | None]"
"""Reads a verified request's :class:`EventType`; ``None`` when it names none."""


def event_name(value: object) -> str | None:
    """``value`` if it can name an event: a ``str`` of 1 to :data:`MAX_EVENT_TYPE`
    printable ASCII characters without spaces; else ``None``."""
    if (
        isinstance(value, str)
        and 0 < len(value) <= MAX_EVENT_TYPE
        and value.isascii()
        and value.isprintable()
        and " " not in value
    ):
        return value
    return None


def json_body(request: WebhookRequest) -> Any:
    """The body parsed as JSON, or ``None`` when it is not JSON (never raises)."""
    body = request.body
    if not body or body[:1] not in b"{[ \t\r\n":
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def field_of(value: Any, path: tuple[str, ...]) -> Any:
    """The member at ``path`` of a parsed JSON object, or ``None``."""
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def body_event_type(*path: str) -> EventTypeReader:
    """A reader of the signed body's field at ``path`` (``"type"``, or
    ``"event", "type"``): a signed event type."""

    def read(request: WebhookRequest, verification: Verification) -> EventType | None:
        name = event_name(field_of(json_body(request), path))
        return None if name is None else EventType(name, True)

    return read


def header_event_type(header: str, *, signed: bool = False) -> EventTypeReader:
    """A reader of ``header`` (unsigned unless the scheme signs it: ``signed=True``)."""

    def read(request: WebhookRequest, verification: Verification) -> EventType | None:
        name = event_name(request.headers.get(header))
        return None if name is None else EventType(name, signed)

    return read


def route_names(handler: str, event_type: str | None) -> tuple[str, ...]:
    """The events a delivery of ``handler`` fires, general first:
    ``webhook.received``, ``webhook.received.<handler>`` and, with an event
    type, ``webhook.received.<handler>.<event type>``."""
    mine = f"{RECEIVED}.{handler}"
    if event_type is None:
        return (RECEIVED, mine)
    return (RECEIVED, mine, f"{mine}.{event_type}")
