"""The sans-IO request model: :class:`Headers` and :class:`WebhookRequest`.

A request is plain data: what the HTTP server received, with the body as the
exact bytes that arrived. Nothing here reads a socket or a clock other than
the default ``received_at``.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar, Union, overload

from .errors import InvalidRequest, MalformedBody

__all__ = ["HeaderInput", "Headers", "WebhookRequest"]

_T = TypeVar("_T")

# RFC 9110 §5.1: a field name is a token.
_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 §5.5: field values are visible characters, SP, HTAB and obs-text;
# CR, LF, NUL and the other controls are never allowed.
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")

HeaderInput = Union[
    "Headers",
    Mapping[str, str],
    Mapping[bytes, bytes],
    Iterable[tuple[str, str]],
    Iterable[tuple[bytes, bytes]],
]


def _as_text(value: str | bytes, what: str) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        # HTTP/1.1 header bytes are latin-1 by definition (RFC 9110 §5.5).
        return bytes(value).decode("latin-1")
    if isinstance(value, str):
        return value
    raise InvalidRequest(f"a header {what} must be str or bytes, not {type(value).__name__}")


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive HTTP headers that keep repeated fields.

    ``headers["X-Name"]`` and :meth:`get` return the first value of a field;
    :meth:`get_all` returns every value in the order received. Iterating gives
    each distinct name once, as first spelled. Values must be latin-1 and free
    of control characters (HTAB excepted), or :class:`InvalidRequest` is raised.
    """

    __slots__ = ("_fields", "_index")

    def __init__(self, headers: HeaderInput | None = None) -> None:
        fields: list[tuple[str, str]] = []
        index: dict[str, tuple[str, ...]] = {}
        if headers is None:
            pass
        elif isinstance(headers, Headers):
            fields = list(headers._fields)
            index = dict(headers._index)
        else:
            items: Iterable[Any] = headers.items() if isinstance(headers, Mapping) else headers
            for item in items:
                try:
                    raw_name, raw_value = item
                except (TypeError, ValueError):
                    raise InvalidRequest(
                        "headers must be a mapping or an iterable of (name, value) pairs"
                    ) from None
                name = _as_text(raw_name, "name")
                value = _as_text(raw_value, "value")
                if not _FIELD_NAME.fullmatch(name):
                    raise InvalidRequest(
                        f"header name {name[:40]!r} is not a valid HTTP field name"
                    )
                if not _FIELD_VALUE.fullmatch(value):
                    raise InvalidRequest(
                        f"header {name!r} has a value with control characters or "
                        "characters outside latin-1"
                    )
                fields.append((name, value))
                key = name.lower()
                index[key] = (*index.get(key, ()), value)
        self._fields: tuple[tuple[str, str], ...] = tuple(fields)
        self._index: dict[str, tuple[str, ...]] = index

    def __getitem__(self, name: str) -> str:
        values = self._index.get(name.lower())
        if not values:
            raise KeyError(name)
        return values[0]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for name, _ in self._fields:
            key = name.lower()
            if key not in seen:
                seen.add(key)
                yield name

    def __len__(self) -> int:
        return len(self._index)

    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, default: str, /) -> str: ...
    @overload
    def get(self, name: str, default: _T, /) -> str | _T: ...

    def get(self, name: str, default: object = None, /) -> object:
        """Return the first value of ``name``, or ``default`` when absent."""
        values = self._index.get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str) -> tuple[str, ...]:
        """Return every value of ``name`` in the order received (empty if absent)."""
        return self._index.get(name.lower(), ())

    def raw_items(self) -> tuple[tuple[str, str], ...]:
        """Return every ``(name, value)`` pair as received, repeats included."""
        return self._fields

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._index == other._index
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._fields)

    def __repr__(self) -> str:
        return f"Headers({list(self._fields)!r})"


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
        if isinstance(body, bytes):
            raw = body
        elif isinstance(body, bytearray | memoryview):
            raw = bytes(body)
        elif isinstance(body, str):
            if encoding is None:
                raise InvalidRequest(
                    "a str body needs encoding=...: signatures cover bytes, so pass the raw "
                    "bytes received, or say which encoding turns this text back into them"
                )
            try:
                raw = body.encode(encoding)
            except (LookupError, UnicodeError) as exc:
                raise InvalidRequest(
                    f"the body cannot be encoded with {encoding!r}: {exc}"
                ) from None
        else:
            raise InvalidRequest(
                f"the body must be the raw bytes received, not a {type(body).__name__}: "
                "a signature covers the exact bytes the sender sent, and re-serialising "
                "parsed data does not reproduce them (read the raw body from your framework, "
                "e.g. request.get_data() in Flask, request.body in Django, await request.body() "
                "in Starlette/FastAPI)"
            )
        if not isinstance(method, str) or not _FIELD_NAME.fullmatch(method):
            raise InvalidRequest("method must be an HTTP method token such as 'POST'")
        if not isinstance(url, str):
            raise InvalidRequest("url must be a str")
        try:
            url.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidRequest(
                "url has characters that are not valid Unicode (lone surrogates); pass the URL "
                "as the sender wrote it, percent-encoded"
            ) from None
        if received_at is None:
            received_at = time.time()
        elif isinstance(received_at, bool) or not isinstance(received_at, int | float):
            raise InvalidRequest("received_at must be unix seconds (int or float)")
        set_ = object.__setattr__
        set_(self, "method", method.upper())
        set_(self, "url", url)
        set_(self, "headers", headers if isinstance(headers, Headers) else Headers(headers))
        set_(self, "body", raw)
        set_(self, "received_at", float(received_at))
        set_(self, "remote_addr", remote_addr)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"WebhookRequest is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"WebhookRequest is immutable; cannot delete {name!r}")

    def replace(self, **changes: Any) -> WebhookRequest:
        """Return a copy with some fields changed (``url=``, ``headers=``, ...)."""
        fields: dict[str, Any] = {name: getattr(self, name) for name in self.__slots__}
        fields.update(changes)
        return WebhookRequest(**fields)

    def form(self) -> list[tuple[str, str]]:
        """Parse an ``application/x-www-form-urlencoded`` body into ordered pairs.

        Raises:
            MalformedBody: the body is not valid UTF-8 form data.
        """
        try:
            text = self.body.decode("utf-8")
            if not text:
                return []
            return urllib.parse.parse_qsl(
                text, keep_blank_values=True, strict_parsing=True, errors="strict"
            )
        except (UnicodeDecodeError, ValueError):
            raise MalformedBody("the body is not valid UTF-8 form data") from None

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
