"""The text an Amazon SNS message signs (AWS SNS Developer Guide, "Verifying
the signatures of Amazon SNS messages"): its listed fields as
``name\\nvalue\\n`` lines, in a fixed order per message type.
"""

from __future__ import annotations

from typing import Any, Final

from ..errors import MalformedBody

__all__ = ["SIGNED_FIELDS", "string_to_sign"]

# The fields signed, in order, per message type (the Developer Guide's lists).
SIGNED_FIELDS: Final = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
SIGNED_FIELDS["UnsubscribeConfirmation"] = SIGNED_FIELDS["SubscriptionConfirmation"]


def string_to_sign(message: dict[str, Any]) -> bytes:
    """The signed text of ``message``: ``name\\nvalue\\n`` for each signed field
    present (``Subject`` only when sent), in the Developer Guide's order.

    Only ``Message`` may span lines (SNS never breaks the others): a newline
    elsewhere would give the text a second reading (``MessageId``
    ``X\\nMessageId\\n<id>`` after a ``Message`` ending ``\\nMessageId\\nX``).

    Raises:
        MalformedBody: an unknown type, a required field absent or not text,
            or a line break in a field other than ``Message``.
    """
    fields = SIGNED_FIELDS.get(message.get("Type"))  # type: ignore[arg-type]
    if fields is None:
        raise MalformedBody("the SNS message's Type is not one SNS sends")
    lines = []
    for name in fields:
        value = message.get(name)
        if value is None and name == "Subject":
            continue
        if not isinstance(value, str):
            raise MalformedBody(f"the SNS message has no text field {name}")
        if name != "Message" and ("\n" in value or "\r" in value):
            raise MalformedBody(f"the SNS message's {name} spans lines; SNS sends it on one")
        lines.append(f"{name}\n{value}\n")
    return "".join(lines).encode("utf-8")
