"""Square: the notification URL followed by the raw body, HMAC-SHA256.

Square signs the URL configured for the webhook subscription, not the URL the
request reached: behind a proxy or a rewrite the two differ, so the preset
takes ``notification_url=`` and falls back to the request URL only when it is
not given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from ..errors import MalformedBody
from ..request import WebhookRequest
from ..verifiers import HmacVerifier
from ._common import SecretInput, check_absolute_url, check_json_after_url, hmac_preset

__all__ = ["SquareMessage", "square"]

HEADER: Final = "x-square-hmacsha256-signature"


class SquareMessage:
    """The message Square signs: ``notification_url + raw body``.

    Args:
        notification_url: the URL configured in the Square Developer Console,
            or ``None`` to use each request's own URL.

    The URL is hashed as its own part and the body after it, uncopied. An
    empty body is refused, as Square's SDK refuses it: Square never sends one.

    With the request's own URL, nothing in the signed text marks where the
    URL ends: a body that is not JSON, or a URL holding a raw ``{`` or
    ``[``, is refused, which makes the split unique (see
    ``check_json_after_url``).
    """

    __slots__ = ("_prefix",)

    signs: frozenset[str] = frozenset()

    def __init__(self, notification_url: str | None) -> None:
        self._prefix = None if notification_url is None else notification_url.encode("utf-8")

    def __call__(self, request: WebhookRequest, values: Mapping[str, str]) -> Sequence[bytes]:
        if not request.body:
            raise MalformedBody("Square always sends a JSON body; this request has none")
        prefix = self._prefix
        if prefix is None:
            check_json_after_url(request.url, request.body, "Square", HEADER)
            prefix = request.url.encode("utf-8")
        return (prefix, request.body)

    def __repr__(self) -> str:
        where = "request URL" if self._prefix is None else "notification_url"
        return f"SquareMessage(<{where}> + body)"


def square(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    notification_url: str | None = None,
) -> HmacVerifier:
    """Square webhooks (``x-square-hmacsha256-signature``).

    Secret: *Developer Console > (the app) > Webhooks > Subscriptions > (the
    subscription) > Signature key*, used as the text shown.

    Signed: the subscription's notification URL followed by the raw body,
    HMAC-SHA256, standard base64. The URL is the one configured in the
    console, character for character, not necessarily what your server sees
    behind a proxy: set ``notification_url=`` to it. Without it, each
    request's own URL is used, and a body that is not JSON or a URL
    holding a raw ``{`` or ``[`` is refused (either would let bytes move between the
    URL and the body under one signature). No timestamp is signed. The legacy
    ``x-square-signature`` (HMAC-SHA1) header is not read.

    Replay id: the signed ``event_id`` field of the body, read after the
    signature has passed (a body without it: content hash).

    Source: Square docs "Validate webhook notifications"
    (https://developer.squareup.com/docs/webhooks/step3validate) and
    square/square-python-sdk ``square/utilities/webhooks_helper.py``;
    cross-checked against that SDK's test vectors (the SDK is not installed).

    Args:
        secret: the secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        notification_url: the subscription's URL as configured at Square.

    Returns:
        An ``HmacVerifier`` over the URL and the raw body.

    Raises:
        ConfigurationError: a missing or empty secret, or a
            ``notification_url`` that is not an absolute http(s) URL.
    """
    if notification_url is not None:
        check_absolute_url(notification_url, "presets.square(notification_url=...)")
    return hmac_preset(
        "square",
        secret=secret,
        secrets=secrets,
        header=HEADER,
        encoding="base64",
        template=SquareMessage(notification_url),
        id_field="event_id",
    )
