"""The sans-IO request model: :class:`WebhookRequest` (with :class:`Headers`, from headers.py).

A request is plain data: what the HTTP server received, with the body as the
exact bytes that arrived. Nothing here reads a socket or a clock other than
the default ``received_at``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from ._form import parse_form
from .errors import InvalidRequest
from .headers import TOKEN, HeaderInput, Headers

__all__ = ["HeaderInput", "Headers", "WebhookRequest"]

# The constructor's arguments, in order: what a copy, a pickle and == go by.
FIELDS = ("method", "url", "headers", "body", "received_at", "remote_addr")


class WebhookRequest:
    """An HTTP request as received: method, URL, headers and the raw body.

    Args:
        method: the HTTP method, upper-cased on construction.
        url: the URL the sender used (needed by schemes that sign it), or a
            function that returns it: it is then called on the first read of
            :attr:`url`, once (the adapters pass one, so that a URL is built
            only for the schemes that sign it).
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

    __slots__ = ("_url", "body", "headers", "method", "received_at", "remote_addr")

    _url: str | Callable[[], str]
    method: str
    headers: Headers
    body: bytes
    received_at: float
    remote_addr: str | None

    def __init__(
        self,
        method: str = "POST",
        url: str | Callable[[], str] = "",
        headers: HeaderInput | None = None,
        body: bytes | bytearray | memoryview | str = b"",
        received_at: float | None = None,
        remote_addr: str | None = None,
        *,
        encoding: str | None = None,
    ) -> None:
        upper = _METHODS.get(method) if type(method) is str else None
        if not callable(url):
            _check_url(url)
        init = object.__setattr__  # the fields are set once, here: the request is immutable
        init(self, "method", _method(method) if upper is None else upper)
        init(self, "_url", url)
        init(self, "headers", headers if type(headers) is Headers else Headers(headers))
        init(self, "body", body if type(body) is bytes else _raw_body(body, encoding))
        finite = type(received_at) is float and math.isfinite(received_at)  # nan: always fresh
        init(self, "received_at", received_at if finite else _received_at(received_at))
        init(self, "remote_addr", remote_addr)

    @property
    def url(self) -> str:
        """The URL the sender used (built on first read when given as a function)."""
        url = self._url
        if isinstance(url, str):
            return url
        built = url()
        _check_url(built)
        object.__setattr__(self, "_url", built)
        return built

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"WebhookRequest is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"WebhookRequest is immutable; cannot delete {name!r}")

    def _fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}

    def __reduce__(self) -> tuple[type[WebhookRequest], tuple[Any, ...]]:
        # pickle and copy rebuild through the constructor: assignment is refused
        return (WebhookRequest, tuple(self._fields().values()))

    def replace(self, **changes: Any) -> WebhookRequest:
        """Return a copy with some fields changed (``url=``, ``headers=``, ...)."""
        return WebhookRequest(**{**self._fields(), **changes})

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
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"WebhookRequest(method={self.method!r}, url={self.url!r}, "
            f"headers={len(self.headers)} fields, body={len(self.body)} bytes, "
            f"received_at={self.received_at!r}, remote_addr={self.remote_addr!r})"
        )


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
    if not isinstance(method, str) or not TOKEN.fullmatch(method):  # RFC 9110 §9.1
        raise InvalidRequest("method must be an HTTP method token such as 'POST'")
    return method.upper()


def _check_url(url: object) -> None:
    """Raises: InvalidRequest: not a str, or not encodable text (lone surrogates)."""
    if type(url) is str and url.isascii():
        return
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
        InvalidRequest: not a finite int or float.
    """
    if received_at is None:
        return time.time()
    if (
        isinstance(received_at, bool)
        or not isinstance(received_at, int | float)
        or not math.isfinite(received_at)  # nan would pass every freshness check
    ):
        raise InvalidRequest("received_at must be unix seconds (a finite int or float)")
    return float(received_at)


def _raw_body(body: object, encoding: str | None) -> bytes:
    """The body as bytes: bytes-like copied, a str encoded with ``encoding``.

    Raises:
        InvalidRequest: a str without an encoding (or one that cannot encode
            it), or anything that is not raw bytes (a parsed body).
    """
    if isinstance(body, bytes | bytearray | memoryview):
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
