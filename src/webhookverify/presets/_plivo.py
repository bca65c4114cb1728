"""Plivo: signature V3, over the URL, the sorted POST fields and a nonce.

Plivo signs ``<url>.<nonce>`` with HMAC-SHA256 and the account's (or
subaccount's) Auth Token, base64 in ``X-Plivo-Signature-V3``, the nonce in
``X-Plivo-Signature-V3-Nonce``. For a POST, ``<url>`` is the callback URL
without its query, then ``?``, the query's fields (decoded, sorted by name,
``name=value`` joined by ``&``) and a ``.`` when there are any, then every POST
field's name and value (decoded, sorted by name, nothing between). For a GET
it is the URL with its query fields sorted. This is the algorithm of Plivo's
SDKs (``plivo.utils.validate_v3_signature``), which the tests use as an oracle.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from ..errors import MalformedBody, SignatureMismatch
from ..request import WebhookRequest
from ..verifiers import HmacVerifier
from ._common import SecretInput, check_absolute_url, check_no_dot, hmac_preset

__all__ = ["PlivoMessage", "plivo"]

SIGNS: Final = frozenset({"id"})  # the nonce: unique per request, and signed
NONCE_HEADER: Final = "X-Plivo-Signature-V3-Nonce"


def _sorted_query(query: str) -> str:
    # plivo/utils/signature_v3.py get_sorted_query_string over parse_qs's lists:
    # names sorted, each name's values sorted, "name=value" joined by "&".
    fields = urllib.parse.parse_qs(query, keep_blank_values=True)
    return "&".join(
        "&".join(f"{name}={value}" for value in sorted(fields[name])) for name in sorted(fields)
    )


class PlivoMessage:
    """The message Plivo signs (signature V3), without the nonce's value.

    Args:
        url: the callback URL as configured in Plivo, whose scheme, host and
            path replace the request's; or ``None`` to use the request's URL.
            The query is always the request's (Plivo signs the one it sends).

    A POST body that is not form data, or that repeats a field (Plivo's
    SDKs take one value a name), is refused, and so is a GET with a body
    (which nothing would sign) and any method but GET and POST.
    """

    __slots__ = ("url",)

    signs = SIGNS

    url: str | None

    def __init__(self, url: str | None = None) -> None:
        if url is not None:
            check_absolute_url(url, "presets.plivo(url=...)")
        object.__setattr__(self, "url", url)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("PlivoMessage is immutable; build a new one")

    def __call__(self, request: WebhookRequest, values: Mapping[str, str]) -> Sequence[bytes]:
        # the nonce follows the last "." of the signed text (Plivo's are digits)
        nonce = check_no_dot(values["id"], NONCE_HEADER)
        # urlparse, not urlsplit: the SDK drops ";params" of the last segment too.
        received = urllib.parse.urlparse(request.url)
        parts = received if self.url is None else urllib.parse.urlparse(self.url)
        base = urllib.parse.urlunparse((parts.scheme, parts.netloc, parts.path, "", "", ""))
        # The query is always the request's: it is what Plivo signed (a GET's
        # parameters are in it), and what the application reads.
        query = _sorted_query(received.query)
        method = request.method.upper()
        if method not in ("GET", "POST"):
            # validate_v3_signature takes only these two: no other is signed
            raise SignatureMismatch(
                f"Plivo signs only GET and POST callbacks, not {method[:16]}",
                header="X-Plivo-Signature-V3",
            )
        if method == "GET":
            if request.body:
                # Plivo signs no body of a GET: one sent anyway would pass unproved.
                raise MalformedBody("a Plivo GET callback has a body, which Plivo does not sign")
            signed = f"{base}?{query}" if query else base
        else:
            fields: dict[str, str] = {}
            for name, value in request.form():
                if name in fields:
                    raise MalformedBody(f"the Plivo form repeats the field {name[:40]!r}")
                fields[name] = value
            if fields or query:
                base += "?" + query
            if fields and query:
                base += "."
            signed = base + "".join(name + fields[name] for name in sorted(fields))
        return (f"{signed}.{nonce}".encode(),)

    def __repr__(self) -> str:
        return f"PlivoMessage(url={self.url!r})"


def plivo(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    url: str | None = None,
) -> HmacVerifier:
    """Plivo callbacks (voice and messaging), signature V3.

    Secret: the *Auth Token* of the account or subaccount that owns the
    application or number (*Console > Overview*), used as typed. While
    Plivo has two tokens active, ``X-Plivo-Signature-V3`` carries one
    signature for each, comma-separated; any may match.

    Args:
        url: the callback URL as configured in Plivo: its scheme, host
            and path are signed in place of the request's; the query signed
            is always the request's (for a GET, Plivo's parameters are in
            it). Default: the request's URL, which is right only when the
            adapter sees the public URL (see the adapters' ``public_url``).

    Signed: ``<url>.<nonce>`` (see the module for how the URL, its query and
    the POST fields are laid out), HMAC-SHA256, base64, in
    ``X-Plivo-Signature-V3``; the nonce is ``X-Plivo-Signature-V3-Nonce``.
    Plivo signs the decoded fields, so two encodings of the same fields
    carry the same signature; a form that repeats a field is refused. Plivo
    signs no timestamp: nothing bounds how late a request may be replayed
    but the replay guard.

    Replay id: the signed nonce (keep the replay guard on).

    Source: Plivo docs "Validating requests: signature V3"
    (https://www.plivo.com/docs/voice/concepts/signature-validation) and
    plivo/plivo-python ``plivo/utils/signature_v3.py``
    (``validate_v3_signature``), used as an oracle in the tests.
    """
    return hmac_preset(
        "plivo",
        secret=secret,
        secrets=secrets,
        header="X-Plivo-Signature-V3",
        id_header=NONCE_HEADER,
        delimiter=",",
        encoding="base64",
        template=PlivoMessage(url),
    )
