"""Mandrill (Mailchimp Transactional): the webhook URL and the sorted form fields.

Mandrill signs the webhook URL exactly as configured, followed by every POST
field's name and value (form-decoded, sorted by name, no separators), with
HMAC-SHA1 and the webhook's key, base64-encoded in ``X-Mandrill-Signature``.
It signs the decoded fields, not the bytes: two encodings of the same fields
(``%2B`` and ``%2b``, ``+`` and ``%20``) carry the same signature.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final
from urllib.parse import urlsplit

from ..errors import ConfigurationError, MalformedBody
from ..request import WebhookRequest

__all__ = ["MandrillMessage", "check_webhook_url"]

SIGNS: Final = frozenset[str]()


def check_webhook_url(url: str | None, owner: str) -> str | None:
    """Validate a configured webhook URL: ``None`` (use the request's) or absolute http(s).

    Raises:
        ConfigurationError: anything else.
    """
    if url is None:
        return None
    if (
        not isinstance(url, str)
        or urlsplit(url).scheme not in ("http", "https")
        or not (urlsplit(url).netloc)
    ):
        raise ConfigurationError(
            f"{owner}(url=...) must be the absolute http(s) URL configured at the sender"
        )
    return url


class MandrillMessage:
    """The message Mandrill signs: URL, then each field's name and value, sorted.

    Args:
        url: the webhook URL exactly as entered in Mandrill (query string
            included), or ``None`` to use the request's URL.

    A body whose fields cannot be read, or that repeats a field (the sorted
    order would then depend on the receiving framework), is refused.
    """

    __slots__ = ("url",)

    signs = SIGNS

    url: str | None

    def __init__(self, url: str | None = None) -> None:
        object.__setattr__(self, "url", check_webhook_url(url, "presets.mandrill"))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("MandrillMessage is immutable; build a new one")

    def __call__(self, request: WebhookRequest, values: Mapping[str, str]) -> Sequence[bytes]:
        fields: dict[str, str] = {}
        for name, value in request.form():
            if name in fields:
                raise MalformedBody(f"the Mandrill form repeats the field {name[:40]!r}")
            fields[name] = value
        url = request.url if self.url is None else self.url
        parts = [url.encode("utf-8")]
        for name in sorted(fields):
            parts.append(name.encode("utf-8"))
            parts.append(fields[name].encode("utf-8"))
        return (b"".join(parts),)

    def __repr__(self) -> str:
        return f"MandrillMessage(url={self.url!r})"
