"""Mandrill (Mailchimp Transactional): the webhook URL and the sorted form fields.

Mandrill signs the webhook URL exactly as configured, followed by every POST
field's name and value (form-decoded, sorted by name, no separators), with
HMAC-SHA1 and the webhook's key, base64-encoded in ``X-Mandrill-Signature``.
It signs the decoded fields, not the bytes: two encodings of the same fields
(``%2B`` and ``%2b``, ``+`` and ``%20``) carry the same signature.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from ..errors import MalformedBody
from ..request import WebhookRequest
from ..verifiers import HmacVerifier
from ._common import SecretInput, check_absolute_url, hmac_preset

__all__ = ["MandrillMessage", "mandrill"]

SIGNS: Final = frozenset[str]()


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
        if url is not None:
            check_absolute_url(url, "presets.mandrill(url=...)")
        object.__setattr__(self, "url", url)

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


def mandrill(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    url: str | None = None,
) -> HmacVerifier:
    """Mandrill (Mailchimp Transactional) webhooks.

    Secret: the webhook's *key*, in *Settings > Webhooks* of the Mandrill
    (Mailchimp Transactional) app.

    Args:
        url: the webhook URL **exactly** as entered in Mandrill, query string
            included. Default: the request's URL, which is right only when the
            adapter sees the public URL (see the adapters' ``public_url``).

    Signed: the URL, then each POST field's name and value (form-decoded,
    sorted by name, no separator), HMAC-SHA1, base64, in
    ``X-Mandrill-Signature``. Mandrill signs the decoded fields, so two
    encodings of the same fields carry the same signature; a form that
    repeats a field is refused. SHA-1 because Mandrill offers nothing else.

    Replay id: content hash (``mandrill_events`` is a batch, with no one id).

    Source: Mailchimp Transactional docs "Authenticating webhook requests"
    (https://mailchimp.com/developer/transactional/guides/track-respond-activity-webhooks/#authenticating-webhook-requests);
    cross-checked against the documented algorithm.
    """
    return hmac_preset(
        "mandrill",
        secret=secret,
        secrets=secrets,
        header="X-Mandrill-Signature",
        algorithm="sha1",
        encoding="base64",
        template=MandrillMessage(url),
    )
