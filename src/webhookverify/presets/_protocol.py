"""Verifiers that also speak the rest of their sender's protocol.

A preset whose provider checks the endpoint (a handshake) or names its events
gives its verifier ``handshake`` and ``read_event_type``, which a
:class:`~webhookverify.Handler` picks up. The verifier is otherwise the one
the preset always built: these subclasses add the two attributes and nothing
else, so ``isinstance(presets.slack(...), HmacVerifier)`` holds and
verification costs the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from ..routing import EventType, EventTypeReader, event_name, field_of, json_body
from ..verifiers import HmacVerifier, TokenVerifier
from ..verifiers.standard import StandardWebhooksVerifier

if TYPE_CHECKING:
    from ..handshake import Handshake
    from ..request import WebhookRequest
    from ..types import Verification

__all__ = [
    "HmacPreset",
    "StandardPreset",
    "TokenPreset",
    "github_event_type",
    "slack_event_type",
    "speaks",
    "twitch_event_type",
    "x_event_type",
]


class HmacPreset(HmacVerifier):
    """An :class:`HmacVerifier` with its sender's handshake and event types."""

    __slots__ = ("handshake", "read_event_type")

    handshake: Handshake | None
    read_event_type: EventTypeReader | None


class TokenPreset(TokenVerifier):
    """A :class:`TokenVerifier` with its sender's handshake and event types."""

    __slots__ = ("handshake", "read_event_type")

    handshake: Handshake | None
    read_event_type: EventTypeReader | None


class StandardPreset(StandardWebhooksVerifier):
    """A :class:`StandardWebhooksVerifier` with its sender's event types."""

    __slots__ = ("handshake", "read_event_type")

    handshake: Handshake | None
    read_event_type: EventTypeReader | None


V = TypeVar("V")


def speaks(verifier: V, handshake: Handshake | None, read_event_type: EventTypeReader | None) -> V:
    """Set ``verifier``'s two protocol attributes (once, as it is built); return it."""
    object.__setattr__(verifier, "handshake", handshake)
    object.__setattr__(verifier, "read_event_type", read_event_type)
    return verifier


def github_event_type(request: WebhookRequest, verification: Verification) -> EventType | None:
    """``X-GitHub-Event``, joined with the signed body's ``action`` when it has
    one (``pull_request.opened``). Unsigned: GitHub signs the body, not the header."""
    event = event_name(request.headers.get("X-GitHub-Event"))
    if event is None:
        return None
    action = event_name(field_of(json_body(request), ("action",)))
    return EventType(event if action is None else f"{event}.{action}", False)


def slack_event_type(request: WebhookRequest, verification: Verification) -> EventType | None:
    """The signed body's ``type``, with ``event.type`` for an Events API
    callback (``event_callback.app_mention``); ``None`` for form bodies
    (slash commands, interactivity)."""
    body = json_body(request)
    kind = event_name(field_of(body, ("type",)))
    if kind is None:
        return None
    inner = event_name(field_of(body, ("event", "type"))) if kind == "event_callback" else None
    return EventType(kind if inner is None else f"{kind}.{inner}", True)


def twitch_event_type(request: WebhookRequest, verification: Verification) -> EventType | None:
    """The signed body's ``subscription.type`` (``channel.follow``) for a
    notification, whose body carries ``event`` (or ``events``, batched);
    ``None`` for a revocation, whose body names the same type but carries no
    event (Twitch's message-type header, which tells them apart, is unsigned)."""
    body = json_body(request)
    if field_of(body, ("event",)) is None and field_of(body, ("events",)) is None:
        return None
    name = event_name(field_of(body, ("subscription", "type")))
    return None if name is None else EventType(name, True)


def x_event_type(request: WebhookRequest, verification: Verification) -> EventType | None:
    """The signed body's first ``*_events`` member (``tweet_create_events``,
    ``direct_message_events``): X names an Account Activity event by it."""
    body = json_body(request)
    if not isinstance(body, dict):
        return None
    for key in body:
        if key.endswith("_events"):
            name = event_name(key)
            return None if name is None else EventType(name, True)
    return None
