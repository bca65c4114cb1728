"""The steps the WSGI and ASGI adapters take alike on the parts a server gave:
the header limits, then the :class:`~webhookverify.WebhookRequest`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ._options import AdapterOptions
from ._origin import forwarded_origin, request_url
from ._replies import BAD_REQUEST, HEADERS_TOO_LARGE, Refused
from .errors import InvalidRequest
from .headers import Headers
from .request import WebhookRequest

__all__ = ["UrlParts", "build_request", "read_headers"]

# What the URL is built from, read only when a verifier reads the URL: the
# quoted path, the raw query string, and the server's (name, port) for a
# request without a Host.
UrlParts = Callable[[], tuple[str, str, "tuple[str, int | None] | None"]]


def read_headers(options: AdapterOptions, pairs: Iterable[Any]) -> Headers:
    """:class:`Headers` from the pairs a server gave (ASGI bytes, WSGI latin-1 str).

    Raises:
        Refused: 431 (RFC 6585 §5) past ``max_header_count`` fields (counted
            before any is looked at) or ``max_header_bytes`` bytes; 400 for
            a name or value HTTP does not allow.
    """
    try:
        pairs = pairs if type(pairs) is list else list(pairs)  # ASGI: any iterable
    except TypeError:
        raise Refused(BAD_REQUEST, "malformed_header") from None
    if len(pairs) > options.max_header_count:
        raise Refused(HEADERS_TOO_LARGE, "too_many_headers")
    try:
        headers = Headers(pairs)
    except InvalidRequest:
        raise Refused(BAD_REQUEST, "malformed_header") from None
    if headers.size > options.max_header_bytes:
        raise Refused(HEADERS_TOO_LARGE, "headers_too_large")
    return headers


def build_request(
    options: AdapterOptions,
    *,
    method: str,
    scheme: str,
    host: str,
    headers: Headers,
    body: bytes,
    received_at: float,
    peer: str | None,
    url_parts: UrlParts,
) -> WebhookRequest:
    """The request to verify; its URL is built on first read.

    Args:
        host: the Host, checked by :func:`~webhookverify._origin.check_host`
            on every request (so that a malformed one is refused whichever
            handler would verify it), before the body is read.
        url_parts: called only when the URL is read.

    Forwarded headers are read only when a proxy is trusted.

    Raises:
        Refused: 400 for a request that cannot be taken as is.
    """
    origin = forwarded_origin(options, peer, headers) if options.trusts_proxies else None

    def url() -> str:
        path, query, server = url_parts()
        return request_url(options, scheme, host, server, path, query, origin)

    remote_addr = peer if origin is None else origin.remote_addr
    try:
        return WebhookRequest(method, url, headers, body, received_at, remote_addr)
    except InvalidRequest:
        raise Refused(BAD_REQUEST, "malformed_request") from None
