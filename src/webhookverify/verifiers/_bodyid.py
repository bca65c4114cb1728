"""A delivery id read from a field of the signed body, once the signature has passed.

Some senders sign every attempt again with a new timestamp (Stripe, Slack,
Paddle, Box), so two attempts of one event never share a signed message and
the content hash cannot tell a retry from a new event. What they share is the
event's id, inside the body they sign: Stripe's ``evt_...`` ``id``, Slack's
``event_id``. Read from a body whose signature has verified, that id is
signed material, and the replay guard may key on it.

Reading it is never pre-authentication work: :func:`body_id` is called on a
verified body only. It fails soft: a body that is not a JSON object, or has no
such field, or has one that is not a short string, yields ``None``, and the
replay guard falls back to the content hash. A verified request is never
refused for its id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..errors import ConfigurationError

__all__ = ["MAX_ID_LENGTH", "IdField", "body_id", "check_id_field"]

# Event ids are short: Stripe's evt_ ids are under 40 characters, UUIDs 36,
# Slack's Ev... ids about 12. A longer value is not an id but a field that
# happens to share the name; it is ignored (the content hash is used).
MAX_ID_LENGTH = 256
# A path names members from the top of the document down; no sender nests its
# event id deeper than two levels (Coinbase Commerce's event.id).
MAX_ID_DEPTH = 4

IdField = tuple[str, ...]
"""Member names from the top-level object down: ``("id",)``, ``("event", "id")``."""


def check_id_field(value: object, owner: str) -> IdField | None:
    """Validate an ``id_field`` setting: ``None``, a member name, or a path of names.

    Returns:
        The path as a tuple of names, or ``None``.

    Raises:
        ConfigurationError: anything else, naming ``id_field``.
    """
    if value is None:
        return None
    path: Sequence[object] = (value,) if isinstance(value, str) else value  # type: ignore[assignment]
    if (
        not isinstance(path, tuple | list)
        or not 0 < len(path) <= MAX_ID_DEPTH
        or not all(isinstance(name, str) and name for name in path)
    ):
        raise ConfigurationError(
            f"{owner}(id_field=...) must be a member name such as 'id', or a tuple of at most "
            f"{MAX_ID_DEPTH} names such as ('event', 'id')"
        )
    return tuple(path)


def body_id(body: bytes, path: IdField) -> str | None:
    """The string at ``path`` in a JSON object body, or ``None``.

    Call it only on a body whose signature has verified. The body is parsed
    once, as :meth:`Delivery.json <webhookverify.Delivery.json>` would (UTF-8,
    standard JSON; the body size is already bounded by the adapter's
    ``max_body_size``); nesting too deep for the parser, invalid text, a
    missing member, or a value that is not a non-empty string of at most
    :data:`MAX_ID_LENGTH` characters all give ``None``.
    """
    try:
        value: object = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None  # form data (Slack's slash commands), not UTF-8, ...
    for name in path:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH:
        return value
    return None
