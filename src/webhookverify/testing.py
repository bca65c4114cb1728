"""Helpers for testing code that receives webhooks.

``sign_request`` builds a :class:`WebhookRequest` signed the way a real sender
would sign it, with any verifier of this library.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from .request import WebhookRequest
from .verifiers import Verifier

__all__ = ["sign_request"]


def sign_request(
    verifier: Verifier,
    body: bytes | str = b"{}",
    *,
    now: float | None = None,
    method: str = "POST",
    url: str = "https://example.test/webhooks",
    headers: Mapping[str, str] | None = None,
    received_at: float | None = None,
    **parts: str,
) -> WebhookRequest:
    """Return a request signed by ``verifier.sign``, as its sender would send it.

    Args:
        verifier: any verifier; its ``sign`` makes the signature headers.
        body: the raw body (``str`` is encoded as UTF-8).
        now: when it was signed (default: the clock); also ``received_at``
            unless that is given.
        method / url: the request line (both are signed by some schemes).
        headers: extra headers to send alongside the signature headers.
        parts: passed to ``verifier.sign`` (``timestamp=``, ``id=``, ...).
    """
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    moment = time.time() if now is None else now
    signed = verifier.sign(raw, moment, method=method, url=url, **parts)
    all_headers = {"Content-Type": "application/json", **(headers or {}), **signed}
    return WebhookRequest(
        method=method,
        url=url,
        headers=all_headers,
        body=raw,
        received_at=moment if received_at is None else received_at,
    )
