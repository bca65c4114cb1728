"""The sans-IO request model: :class:`WebhookRequest` (with :class:`Headers`, from headers.py).

A request is plain data: what the HTTP server received, with the body as the
exact bytes that arrived. Nothing here reads a socket or a clock other than
the default ``received_at``.
"""

from __future__ import annotations

import re
import time
from typing import Any

from ._form import parse_form
from .errors import InvalidRequest
from .headers import HeaderInput, Headers

__all__ = ["HeaderInput", "Headers", "WebhookRequest"]

# RFC 9110 §9.1: a method is a token (§5.6.2).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class WebhookRequest:
    """An HTTP request as received: method, URL, headers and the raw body.

    Args:
        method: the HTTP method, upper-cased on construction.
        url: the URL the sender used (needed by schemes that sign it).
        headers: a :class:`Headers`, a mapping, or ``(name, value)`` pairs.
        body: the exact bytes received. ``bytearray``/``memoryview`` are copied
            once; a ``str`` needs ``encoding=``; anything else (a parsed
            ``dict``, a JSON object) is refused, since a signature covers the
            bytes the sender sent and no re-serialisation reproduces them.
        received_at: unix seconds when the request arrived; verifiers judge
            freshness against it. Defaults to now.
        remote_addr: the peer address, if known.
        encoding: required when ``body`` is a ``str``.

    Raises:
        InvalidRequest: for a body or a header that cannot be taken as is.
    """

    __slots__ = ("body", "headers", "method", "received_at", "remote_addr", "url")

    method: str
    url: str
    headers: Headers
    body: bytes
    received_at: float
    remote_addr: str | None

    def __init__(
        self,
        method: str = "POST",
        url: str = "",
        headers: HeaderInput | None = None,
        body: bytes | bytearray | memoryview | str = b"",
        received_at: float | None = None,
        remote_addr: str | None = None,
        *,
        encoding: str | None = None,
    ) -> None:
        # Every check below runs on every request an adapter builds: each
        # starts with the test that passes for what servers hand over (bytes,
        # a standard method, an ASCII URL, a float) and only then does more.
        raw = body if type(body) is bytes else _raw_body(body, encoding)
        upper = _METHODS.get(method) if type(method) is str else None
        if upper is None:
            upper = _method(method)
        if type(url) is not str or not url.isascii():
            _check_url(url)
        if type(received_at) is not float:
            received_at = _received_at(received_at)
        _set_method(self, upper)
        _set_url(self, url)
        _set_headers(self, headers if isinstance(headers, Headers) else Headers(headers))
        _set_body(self, raw)
        _set_received_at(self, received_at)
        _set_remote_addr(self, remote_addr)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"WebhookRequest is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"WebhookRequest is immutable; cannot delete {name!r}")

    def __reduce__(self) -> tuple[type[WebhookRequest], tuple[Any, ...]]:
        # pickle and copy rebuild through the constructor: assignment is refused
        return (
            WebhookRequest,
            (self.method, self.url, self.headers, self.body, self.received_at, self.remote_addr),
        )

    def replace(self, **changes: Any) -> WebhookRequest:
        """Return a copy with some fields changed (``url=``, ``headers=``, ...)."""
        fields: dict[str, Any] = {name: getattr(self, name) for name in self.__slots__}
        fields.update(changes)
        return WebhookRequest(**fields)

    def form(self) -> list[tuple[str, str]]:
        """Parse an ``application/x-www-form-urlencoded`` body into ordered pairs.

        Bounded, since schemes that sign form fields decode them before any
        signature is known to be good (see :func:`webhookverify._form.parse_form`).

        Raises:
            BodyOverLimit: more than ``MAX_FORM_FIELDS`` fields.
            MalformedBody: the body is not valid UTF-8 form data.
        """
        return parse_form(self.body)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WebhookRequest):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"WebhookRequest(method={self.method!r}, url={self.url!r}, "
            f"headers={len(self.headers)} fields, body={len(self.body)} bytes, "
            f"received_at={self.received_at!r}, remote_addr={self.remote_addr!r})"
        )


# Slot descriptors, called directly: WebhookRequest refuses attribute
# assignment (it is immutable), and object.__setattr__ costs about twice as
# much on a path that runs for every request.
_set_method = WebhookRequest.__dict__["method"].__set__
_set_url = WebhookRequest.__dict__["url"].__set__
_set_headers = WebhookRequest.__dict__["headers"].__set__
_set_body = WebhookRequest.__dict__["body"].__set__
_set_received_at = WebhookRequest.__dict__["received_at"].__set__
_set_remote_addr = WebhookRequest.__dict__["remote_addr"].__set__

# The methods RFC 9110 §9 and RFC 5789 define, in the spellings servers pass
# on: found here, a method needs no regex and no upper() per request.
_METHODS = {
    name: name.upper()
    for standard in ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
    for name in (standard, standard.lower())
}


def _method(method: object) -> str:
    """Any other method: a token (RFC 9110 §9.1), upper-cased.

    Raises:
        InvalidRequest: not a str, or not a token.
    """
    if not isinstance(method, str) or not _TOKEN.fullmatch(method):
        raise InvalidRequest("method must be an HTTP method token such as 'POST'")
    return method.upper()


def _check_url(url: object) -> None:
    """Raises: InvalidRequest: not a str, or not encodable text (lone surrogates)."""
    if not isinstance(url, str):
        raise InvalidRequest("url must be a str")
    try:
        url.encode("utf-8")  # an ASCII str always encodes: only others are tried
    except UnicodeEncodeError:
        raise InvalidRequest(
            "url has characters that are not valid Unicode (lone surrogates); pass the URL "
            "as the sender wrote it, percent-encoded"
        ) from None


def _received_at(received_at: object) -> float:
    """``None`` (now), or unix seconds as a float.

    Raises:
        InvalidRequest: not an int or a float.
    """
    if received_at is None:
        return time.time()
    if isinstance(received_at, bool) or not isinstance(received_at, int | float):
        raise InvalidRequest("received_at must be unix seconds (int or float)")
    return float(received_at)


def _raw_body(body: object, encoding: str | None) -> bytes:
    """The body as bytes: bytes-like copied, a str encoded with ``encoding``.

    Raises:
        InvalidRequest: a str without an encoding (or one that cannot encode
            it), or anything that is not raw bytes (a parsed body).
    """
    if isinstance(body, bytes):
        return body
    if isinstance(body, bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        if encoding is None:
            raise InvalidRequest(
                "a str body needs encoding=...: signatures cover bytes, so pass the raw "
                "bytes received, or say which encoding turns this text back into them"
            )
        try:
            return body.encode(encoding)
        except (LookupError, UnicodeError) as exc:
            raise InvalidRequest(f"the body cannot be encoded with {encoding!r}: {exc}") from None
    raise InvalidRequest(
        f"the body must be the raw bytes received, not a {type(body).__name__}: "
        "a signature covers the exact bytes the sender sent, and re-serialising "
        "parsed data does not reproduce them (read the raw body from your framework, "
        "e.g. request.get_data() in Flask, request.body in Django, await request.body() "
        "in Starlette/FastAPI)"
    )


_new_request = object.__new__


def _checked_request(
    method: str,
    url: str,
    headers: Headers,
    body: bytes,
    received_at: float,
    remote_addr: str | None,
) -> WebhookRequest:
    """A :class:`WebhookRequest` from parts an adapter has checked already.

    For the adapters only, which call it once per request: ``method`` is one
    of their configured methods (tokens, upper-cased when configured),
    ``headers`` came from :func:`~webhookverify._http.parse_headers` (every
    field checked), and ``received_at`` from :func:`time.time`. The body and
    the URL are still tested, cheaply: anything but ``bytes`` and an ASCII
    URL (what every server hands over) takes the full constructor.

    Raises:
        InvalidRequest: as :class:`WebhookRequest` does, for what it checks.
    """
    if type(body) is not bytes or type(url) is not str or not url.isascii():
        return WebhookRequest(method, url, headers, body, received_at, remote_addr)
    request: WebhookRequest = _new_request(WebhookRequest)
    _set_method(request, method)
    _set_url(request, url)
    _set_headers(request, headers)
    _set_body(request, body)
    _set_received_at(request, received_at)
    _set_remote_addr(request, remote_addr)
    return request
