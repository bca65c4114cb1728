"""The sans-IO request model: :class:`Headers` and :class:`WebhookRequest`.

A request is plain data: what the HTTP server received, with the body as the
exact bytes that arrived. Nothing here reads a socket or a clock other than
the default ``received_at``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, NoReturn, TypeVar, Union, overload

from ._form import parse_form
from .errors import InvalidRequest

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


# joined names (str, or latin-1 bytes as ASGI servers give them) -> checked shape
_shapes: dict[str | bytes, _Shape] = {}


def _shape(joined_names: str | bytes, count: int) -> _Shape | None:
    """The checked names of one header sequence (``None``: not valid field names)."""
    shape = _shapes.get(joined_names)
    if shape is None:
        text = joined_names.decode("latin-1") if isinstance(joined_names, bytes) else joined_names
        if not _NAMES.fullmatch(text) or text.count(" ") != count - 1:
            return None
        names = text.split(" ")
        keys = text.lower().split(" ")
        unique = len(set(keys)) == count
        shape = _Shape(tuple(names), tuple(keys), unique)
        if len(_shapes) < _MAX_SHAPES:
            _shapes[joined_names] = shape
    elif len(shape.names) != count:
        return None
    return shape


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive HTTP headers that keep repeated fields.

    ``headers["X-Name"]`` and :meth:`get` return the first value of a field;
    :meth:`get_all` returns every value in the order received. Iterating gives
    each distinct name once, as first spelled. Values must be latin-1 and free
    of control characters (HTAB excepted), or :class:`InvalidRequest` is raised.
    """

    # The names as received (a tuple shared by every request with the same
    # header names), the values in the same order, and the index by
    # lower-cased name that lookups (and verifiers, on their hot path) use.
    __slots__ = ("_index", "_names", "_values")

    _names: tuple[str, ...]
    _values: Sequence[str]
    _index: dict[str, tuple[str, ...]]

    def __init__(self, headers: HeaderInput | None = None) -> None:
        if headers is None:
            self._names, self._values, self._index = (), (), {}
            return
        if isinstance(headers, Headers):
            self._names, self._values = headers._names, headers._values
            self._index = dict(headers._index)
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
            self._names, self._values, self._index = (), (), {}
            return
        try:
            built = Headers.from_joined(" ".join(names), "\n".join(values), len(names))
        except InvalidRequest:
            _explain(names, values)
        self._names, self._values, self._index = built._names, built._values, built._index

    @classmethod
    def from_joined(cls, joined_names: str | bytes, joined_values: str, count: int) -> Headers:
        """Headers from ``count`` names joined by spaces and values joined by LF.

        The fast way in for adapters, which receive the fields all at once.
        ``joined_names`` may be the latin-1 bytes an ASGI server gives: the
        names are then decoded once per distinct sequence, not per request.

        Raises:
            InvalidRequest: a name or value HTTP does not allow, or counts
                that do not agree.
        """
        shape = _shapes.get(joined_names)
        if shape is None or len(shape.names) != count:
            shape = _shape(joined_names, count)
        values = joined_values.split("\n")
        # Printable ASCII, the usual case, is tested without a regex (isascii
        # is O(1) on str); anything else (HTAB, obs-text) takes the full check.
        text = "".join(values)
        if (
            shape is None
            or len(values) != count  # a value held an LF, or the count is wrong
            or (
                not (text.isascii() and text.isprintable()) and not _VALUES.fullmatch(joined_values)
            )
        ):
            if count == 0 and not joined_names and not joined_values:
                return cls()
            raise InvalidRequest("a header name or value is not allowed by HTTP (RFC 9110 §5)")
        headers = cls.__new__(cls)
        headers._names = shape.names
        headers._values = values
        if shape.unique:
            headers._index = dict(zip(shape.keys, zip(values)))  # noqa: B905 - equal lengths
        else:
            index: dict[str, tuple[str, ...]] = {}
            for key, value in zip(shape.keys, values):  # noqa: B905
                found = index.get(key)
                index[key] = (value,) if found is None else (*found, value)
            headers._index = index
        return headers

    def __getitem__(self, name: str) -> str:
        values = self._index.get(name.lower())
        if not values:
            raise KeyError(name)
        return values[0]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for name in self._names:
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
        return tuple(zip(self._names, self._values))  # noqa: B905 - equal lengths, checked

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._index == other._index
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.raw_items())

    def __repr__(self) -> str:
        return f"Headers({list(self.raw_items())!r})"


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
    if not isinstance(method, str) or not _FIELD_NAME.fullmatch(method):
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
