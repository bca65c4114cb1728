"""Square's signed message: the notification URL followed by the raw body.

Square signs the URL configured for the webhook subscription, not the URL the
request reached: behind a proxy or a rewrite the two differ, so the preset
takes ``notification_url=`` and falls back to the request URL only when it is
not given.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence

from ..errors import ConfigurationError, MalformedBody
from ..request import WebhookRequest

__all__ = ["SquareMessage", "check_absolute_url"]


def check_absolute_url(url: object, setting: str) -> str:
    """Return ``url`` if it is an absolute ``http(s)`` URL, else raise.

    Raises:
        ConfigurationError: not a ``str``, no scheme or host, or a scheme other
            than ``http``/``https``; the message names ``setting``.
    """
    if not isinstance(url, str) or not url:
        raise ConfigurationError(f"{setting} must be the full URL as a non-empty str")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigurationError(f"{setting} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{setting} must be an absolute http:// or https:// URL, exactly as the sender "
            "was told to call it"
        )
    return url


class SquareMessage:
    """The message Square signs: ``notification_url + raw body``.

    Args:
        notification_url: the URL configured in the Square Developer Console,
            or ``None`` to use each request's own URL.

    The URL is hashed as its own part and the body after it, uncopied. An
    empty body is refused, as Square's SDK refuses it: Square never sends one.
    """

    __slots__ = ("_prefix",)

    signs: frozenset[str] = frozenset()

    def __init__(self, notification_url: str | None) -> None:
        self._prefix = None if notification_url is None else notification_url.encode("utf-8")

    def __call__(self, request: WebhookRequest, values: Mapping[str, str]) -> Sequence[bytes]:
        if not request.body:
            raise MalformedBody("Square always sends a JSON body; this request has none")
        prefix = self._prefix if self._prefix is not None else request.url.encode("utf-8")
        return (prefix, request.body)

    def __repr__(self) -> str:
        where = "request URL" if self._prefix is None else "notification_url"
        return f"SquareMessage(<{where}> + body)"
