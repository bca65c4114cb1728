"""Contentful: request verification over a canonical request.

Contentful signs (HMAC-SHA256, lower-case hex in ``x-contentful-signature``)
four lines joined by ``\\n``: the method, the request path (normalised as
below), the signed headers as ``name:value`` pairs sorted by name and joined
by ``;``, and the raw body. The signed headers are those named in
``x-contentful-signed-headers`` (lower-case, comma-separated), always
including that header itself and ``x-contentful-timestamp`` (Unix time in
milliseconds). This is ``signRequest``/``verifyRequest`` of
contentful/node-apps-toolkit (``src/requests/``), which the tests' vectors
were signed with.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from ..errors import MalformedHeader, SignatureMismatch
from ..request import WebhookRequest
from ..types import Verification
from ..verifiers import HmacVerifier
from ..verifiers._base import DEFAULT_TOLERANCE, single_header
from ._common import HmacWrapper, SecretInput, hmac_preset

__all__ = ["CONTENTFUL_TOLERANCE", "ContentfulMessage", "ContentfulVerifier", "contentful"]

SIGNATURE: Final = "x-contentful-signature"
SIGNED_HEADERS: Final = "x-contentful-signed-headers"
TIMESTAMP: Final = "x-contentful-timestamp"
# What sign() lists when the caller names no other header: the two that are
# always signed (node-apps-toolkit adds both to every list).
DEFAULT_SIGNED: Final = f"{SIGNED_HEADERS},{TIMESTAMP}"
# verifyRequest's default time to live: "throws when signature is older than
# rawTimeToLive seconds", default 30 (src/requests/verify-request.ts).
CONTENTFUL_TOLERANCE = 30.0
# A Contentful request signs a few headers (at most seven in
# node-apps-toolkit's tests); a list much longer than any sender's is refused
# before any header is read.
_MAX_SIGNED_HEADERS = 64
_ALWAYS_SIGNED: Final = frozenset({SIGNED_HEADERS, TIMESTAMP})

# encodeURI leaves these (and letters, digits, "-_.~") as they are (ECMA-262
# §19.2.6.2); Node's querystring.escape leaves only "!'()*" besides those.
_URI_SAFE: Final = ";,/?:@&=+$!*'()#"
_QUERY_SAFE: Final = "!'()*"


def canonical_path(url: str) -> str:
    """The path Contentful signs, from the request's URL.

    node-apps-toolkit ``getNormalizedEncodedURI``: the part after the first
    ``?`` (up to a second one) is escaped as a query value, then the whole is
    passed through ``encodeURI``, which escapes ``%`` again.
    """
    parts = urllib.parse.urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    pieces = target.split("?")
    search = urllib.parse.quote(pieces[1], safe=_QUERY_SAFE) if len(pieces) > 1 else ""
    return urllib.parse.quote(f"{pieces[0]}?{search}" if search else pieces[0], safe=_URI_SAFE)


class ContentfulMessage:
    """The canonical request Contentful signs, as two parts: the head, then the body.

    The header list is read from ``x-contentful-signed-headers``. It must
    name ``x-contentful-signed-headers`` and ``x-contentful-timestamp`` (as
    Contentful's always does), and every header it names must be present
    once: node-apps-toolkit would skip an absent one, which leaves a list
    that proves less than it says, so it is refused here. So is a URL with a
    second ``?``, after which the canonical path signs nothing.
    """

    __slots__ = ()

    signs = frozenset({"timestamp"})
    headers = (SIGNED_HEADERS,)

    def __call__(self, request: WebhookRequest, values: Mapping[str, str]) -> Sequence[bytes]:
        if urllib.parse.urlsplit(request.url).query.count("?"):
            # canonical_path, as node-apps-toolkit, drops what follows a second "?":
            # a query passed that way would reach the application unsigned
            raise SignatureMismatch(
                "the request URL has a second '?', after which Contentful signs nothing",
                header=SIGNATURE,
            )
        listed = single_header(request, SIGNED_HEADERS).split(",", _MAX_SIGNED_HEADERS)
        names = {name.strip().lower() for name in listed}
        if len(listed) > _MAX_SIGNED_HEADERS or "" in names or not names >= _ALWAYS_SIGNED:
            raise MalformedHeader(
                f"the {SIGNED_HEADERS} header is not a list of signed header names that "
                f"includes {TIMESTAMP} and itself",
                header=SIGNED_HEADERS,
            )
        picked = {name: single_header(request, name).strip() for name in names}
        picked[TIMESTAMP] = str(int(values["timestamp"]))
        picked[SIGNED_HEADERS] = ",".join(sorted(names))
        lines = ";".join(f"{name}:{picked[name]}" for name in sorted(picked))
        head = f"{request.method}\n{canonical_path(request.url)}\n{lines}\n"
        return (head.encode("utf-8"), request.body)

    def __repr__(self) -> str:
        return "ContentfulMessage()"


class ContentfulVerifier(HmacWrapper):
    """The Contentful verifier: its :class:`HmacVerifier`, with a ``sign`` that
    lists the always-signed headers when the caller lists none."""

    __slots__ = ()

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify ``request`` as :meth:`HmacVerifier.verify` does."""
        return self._inner.verify(request, now)

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Sign as Contentful would; ``x-contentful-signed-headers`` defaults to
        the two headers always signed (pass it, and the headers it lists, to
        sign more). ``method=`` and ``url=`` as :meth:`HmacVerifier.sign`."""
        parts.setdefault(SIGNED_HEADERS, DEFAULT_SIGNED)
        return self._inner.sign(body, now, **parts)

    def __repr__(self) -> str:
        return (
            f"ContentfulVerifier(tolerance={self.tolerance!r}, "
            f"secrets=<{len(self.secrets)} hidden>)"
        )


def contentful(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = CONTENTFUL_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> ContentfulVerifier:
    """Contentful webhooks, App Actions and App Functions (request verification).

    Secret: the *signing secret* (64 characters) of the space's webhook
    settings (*Settings > Webhooks > Settings > Request verification*) or
    of the app (*App definition > Security*), used as typed.

    Signed: the method, the normalised path and query, the headers named in
    ``x-contentful-signed-headers`` and the raw body (see the module),
    HMAC-SHA256, lower-case hex in ``x-contentful-signature``;
    ``x-contentful-timestamp`` (milliseconds) is always signed and must lie
    within ``tolerance`` seconds in the past (30, node-apps-toolkit's time
    to live) and ``future_tolerance`` in the future (default: the library's
    300 s; Contentful bounds only the past). The path and query are the
    request URL's: the adapter must see the public ones (see the adapters'
    ``public_url``). The URL's scheme and host are not signed.

    Replay id: content hash (timestamp, signed headers and body); a retry is
    signed again, with ``x-contentful-webhook-request-attempt`` when that
    header is signed.

    Source: Contentful docs "Request verification"
    (https://www.contentful.com/developers/docs/webhooks/request-verification/)
    and contentful/node-apps-toolkit ``src/requests/sign-request.ts`` and
    ``verify-request.ts``, whose ``signRequest`` signed the vectors in the tests.

    Raises:
        ConfigurationError: a missing or empty secret, or a negative or
            non-numeric tolerance.
    """
    inner: HmacVerifier = hmac_preset(
        "contentful",
        secret=secret,
        secrets=secrets,
        header=SIGNATURE,
        timestamp_header=TIMESTAMP,
        timestamp_format="unix_ms",
        template=ContentfulMessage(),
        encoding="hex_lower",
        tolerance=tolerance,
        future_tolerance=future_tolerance,
    )
    return ContentfulVerifier(inner)
