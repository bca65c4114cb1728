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
from typing import Any, NamedTuple, NoReturn, TypeVar, Union, overload

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


# Every name and every value checked in one regex pass each: names joined by
# spaces and values by LF, characters neither may contain (RFC 9110 §5.1, §5.5).
_NAMES = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?: [!#$%&'*+\-.^_`|~0-9A-Za-z]+)*")
_VALUES = re.compile(r"[\t\x20-\x7e\x80-\xff]*(?:\n[\t\x20-\x7e\x80-\xff]*)*")
# How many distinct header-name sequences are remembered. A sender sends the
# same headers in the same order on every delivery, so a few shapes cover the
# traffic; past the bound, new shapes are checked but not remembered.
_MAX_SHAPES = 256


class _Shape(NamedTuple):
    names: tuple[str, ...]
    keys: tuple[str, ...]  # lower-cased
    unique: bool  # no name repeats


_shapes: dict[str, _Shape] = {}


def _shape(joined_names: str, count: int) -> _Shape | None:
    """The checked names of one header sequence (``None``: not valid field names)."""
    shape = _shapes.get(joined_names)
    if shape is None:
        if not _NAMES.fullmatch(joined_names) or joined_names.count(" ") != count - 1:
            return None
        names = joined_names.split(" ")
        keys = joined_names.lower().split(" ")
        shape = _Shape(tuple(names), tuple(keys), len(set(keys)) == count)
        if len(_shapes) < _MAX_SHAPES:
            _shapes[joined_names] = shape
    return shape


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive HTTP headers that keep repeated fields.

    ``headers["X-Name"]`` and :meth:`get` return the first value of a field;
    :meth:`get_all` returns every value in the order received. Iterating gives
    each distinct name once, as first spelled. Values must be latin-1 and free
    of control characters (HTAB excepted), or :class:`InvalidRequest` is raised.
    """

    __slots__ = ("_fields", "_index")

    _fields: tuple[tuple[str, str], ...]
    _index: dict[str, tuple[str, ...]]

    def __init__(self, headers: HeaderInput | None = None) -> None:
        if headers is None:
            self._fields, self._index = (), {}
            return
        if isinstance(headers, Headers):
            self._fields, self._index = headers._fields, dict(headers._index)
            return
        items: Iterable[Any] = headers.items() if isinstance(headers, Mapping) else headers
        names: list[str] = []
        values: list[str] = []
        for item in items:
            try:
                raw_name, raw_value = item
            except (TypeError, ValueError):
                raise InvalidRequest(
                    "headers must be a mapping or an iterable of (name, value) pairs"
                ) from None
            names.append(raw_name if type(raw_name) is str else _as_text(raw_name, "name"))
            values.append(raw_value if type(raw_value) is str else _as_text(raw_value, "value"))
        if not names:
            self._fields, self._index = (), {}
            return
        if not self._fill(" ".join(names), "\n".join(values), len(names)):
            _explain(names, values)

    @classmethod
    def from_joined(cls, joined_names: str, joined_values: str, count: int) -> Headers:
        """Headers from ``count`` names joined by spaces and values joined by LF.

        The fast way in for adapters, which receive the fields all at once.

        Raises:
            InvalidRequest: a name or value HTTP does not allow.
        """
        headers = cls.__new__(cls)
        if count == 0 and not joined_names and not joined_values:
            headers._fields, headers._index = (), {}
        elif not headers._fill(joined_names, joined_values, count):
            raise InvalidRequest("a header name or value is not allowed by HTTP (RFC 9110 §5)")
        return headers

    def _fill(self, joined_names: str, joined_values: str, count: int) -> bool:
        shape = _shape(joined_names, count)
        if (
            shape is None
            or not _VALUES.fullmatch(joined_values)
            or joined_values.count("\n") != count - 1
        ):
            return False
        values = joined_values.split("\n")
        index: dict[str, tuple[str, ...]]
        if shape.unique:
            index = dict(zip(shape.keys, zip(values)))  # noqa: B905 - equal lengths, checked
        else:
            index = {}
            for key, value in zip(shape.keys, values):  # noqa: B905
                found = index.get(key)
                index[key] = (value,) if found is None else (*found, value)
        self._fields = tuple(zip(shape.names, values))  # noqa: B905
        self._index = index
        return True

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


def _explain(names: list[str], values: list[str]) -> NoReturn:
    """Name the first field that failed the joined check."""
    for name, value in zip(names, values):  # noqa: B905
        if not _FIELD_NAME.fullmatch(name):
            raise InvalidRequest(f"header name {name[:40]!r} is not a valid HTTP field name")
        if not _FIELD_VALUE.fullmatch(value):
            raise InvalidRequest(
                f"header {name!r} has a value with control characters or characters outside latin-1"
            )
    raise InvalidRequest("a header name or value is not allowed by HTTP (RFC 9110 §5)")


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
