"""Case-insensitive HTTP header fields: :class:`Headers`.

What a server received, checked against RFC 9110 §5 (names are tokens;
values are latin-1 without control characters), kept in order with repeats,
and looked up by lower-cased name. Building is linear in the number of fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NoReturn, TypeVar, Union, overload

from .errors import InvalidRequest

__all__ = ["TOKEN", "HeaderInput", "Headers"]

_T = TypeVar("_T")

# RFC 9110 §5.6.2: a token (a field name §5.1, a method §9.1).
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
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


# Every name and every value checked in one pass each, over all names joined
# by spaces and all values joined by LF (characters neither may contain): a
# table keeps each byte RFC 9110 allows (§5.1: a name is a token, here
# lower-cased; §5.5: a value is HTAB, SP, visible ASCII and obs-text) and
# turns every other byte into the separator, so that it splits its field and
# the fields counted after the split are more than were given.
_NAME_BYTES = b" !#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_VALUE_BYTES = b"\t\n" + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))
_NAMES = bytes(byte if byte in _NAME_BYTES else ord(" ") for byte in range(256)).lower()
_VALUES = bytes(byte if byte in _VALUE_BYTES else ord("\n") for byte in range(256))

# Which values ``repr`` may show. A value is hidden unless its field is known
# to carry no credential: a signature, a shared token (GitLab, Okta, Bearer
# schemes send the secret itself), a cookie. Hiding is the default so that a
# custom header (``TokenVerifier(header="X-Anything")``, Trello's
# ``X-Trello-Webhook``) is covered without being listed.
_SHOWN = frozenset(
    """
    accept accept-encoding accept-language cache-control connection content-encoding
    content-length content-type date expect forwarded host origin traceparent tracestate
    transfer-encoding user-agent via x-forwarded-for x-forwarded-host x-forwarded-port
    x-forwarded-proto x-real-ip x-request-id
    """.split()  # noqa: SIM905 - a list of names, read as one
)
# Provider metadata shown by the last part of its name (X-GitHub-Event,
# X-GitHub-Delivery, webhook-id, X-Slack-Request-Timestamp, ...), unless a
# word in the name says it may hold a credential (X-Signature-Timestamp is
# hidden: better one harmless value too many than a signature shown).
_SHOWN_SUFFIX = re.compile(r"(?:^|-)(?:event|event-type|delivery|id|timestamp|topic|retry-num)$")
_CREDENTIAL_WORDS = re.compile(
    r"auth|cookie|sign|sig(?:$|-)|token|secret|hmac|key|pass|credential|session|challenge"
)
_HIDDEN = "<hidden>"


def _shown(key: str) -> bool:
    """Whether ``repr`` may show the value of the field named ``key`` (lower-cased)."""
    if key in _SHOWN:
        return True
    return bool(_SHOWN_SUFFIX.search(key)) and not _CREDENTIAL_WORDS.search(key)


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive HTTP headers that keep repeated fields.

    ``headers["X-Name"]`` and :meth:`get` return the first value of a field;
    :meth:`get_all` returns every value in the order received. Iterating gives
    each distinct name once, as first spelled. Values must be latin-1 and free
    of control characters (HTAB excepted), or :class:`InvalidRequest` is raised.

    Building takes time linear in the number of fields. ``repr`` hides the
    values of fields that may carry a signature or a credential.

    Args:
        headers: a mapping, or ``(name, value)`` pairs (``str``, or ``bytes``
            taken as latin-1 as HTTP/1.1 defines them, RFC 9110 §5.5), or
            another :class:`Headers`.

    Raises:
        InvalidRequest: not pairs, a name or value that is not ``str`` or
            ``bytes``, or one HTTP does not allow.

    Attributes:
        by_name: every value of every field, by lower-cased name, in the order
            received: ``{"x-a": ("1", "2")}``. Read it, never change it.
        size: the characters of every name and value together (separators
            not counted): what an adapter holds against ``max_header_bytes``.
    """

    __slots__ = ("_names", "_values", "by_name", "size")

    _names: bytes  # every name as first spelled, joined by spaces (split when iterated)
    _values: Sequence[str]
    by_name: Mapping[str, tuple[str, ...]]
    size: int

    def __init__(self, headers: HeaderInput | None = None) -> None:
        if type(headers) is not list and isinstance(headers, Headers):
            self._names, self._values = headers._names, headers._values
            self.by_name, self.size = headers.by_name, headers.size
            return
        items: Any = headers
        try:
            if type(items) is not list:  # a list is what the adapters pass
                items = list(items.items() if isinstance(items, Mapping) else items or ())
            raw_names, raw_values = zip(*items, strict=True) if items else ((), ())
        except (TypeError, ValueError):
            raise InvalidRequest(
                "headers must be a mapping or an iterable of (name, value) pairs"
            ) from None
        if not raw_names:
            self._names, self._values, self.by_name, self.size = b"", (), {}, 0
            return
        count = len(raw_names)
        # All names and all values checked at once (see _NAMES); bytes are
        # latin-1 (RFC 9110 §5.5), checked before they are decoded.
        try:
            if type(raw_names[0]) is bytes and type(raw_values[0]) is bytes:
                name_bytes, value_bytes = b" ".join(raw_names), b"\n".join(raw_values)
            else:
                name_bytes = " ".join(raw_names).encode("ascii")
                value_bytes = "\n".join(raw_values).encode("latin-1")
        except TypeError:  # mixed types, or an item of another type
            names = " ".join([_as_text(item, "name") for item in raw_names])
            joined_values = "\n".join([_as_text(item, "value") for item in raw_values])
            try:
                name_bytes, value_bytes = names.encode("ascii"), joined_values.encode("latin-1")
            except UnicodeEncodeError:
                _explain(raw_names, raw_values)
        except UnicodeEncodeError:
            _explain(raw_names, raw_values)
        keys = name_bytes.translate(_NAMES).decode("ascii").split(" ")
        values = value_bytes.translate(_VALUES).decode("latin-1").split("\n")
        # a byte not allowed, or a separator, inside a name or value split it
        if len(keys) != count or len(values) != count or "" in keys:
            _explain(raw_names, raw_values)
        # Every name distinct (the usual request) builds the index in one
        # pass in C; repeats group their values, once each.
        index: dict[str, Any] = dict(zip(keys, zip(values)))  # noqa: B905 - equal lengths
        if len(index) != count:
            grouped: dict[str, list[str]] = {}
            for key, value in zip(keys, values):  # noqa: B905
                grouped.setdefault(key, []).append(value)
            index = {key: tuple(found) for key, found in grouped.items()}
        self._names, self._values, self.by_name = name_bytes, values, index
        self.size = len(name_bytes) + len(value_bytes) - 2 * (count - 1)

    def __getitem__(self, name: str) -> str:
        values = self.by_name.get(name.lower())
        if not values:
            raise KeyError(name)
        return values[0]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self.by_name

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for name in self._names.decode("ascii").split(" ") if self._names else ():
            key = name.lower()
            if key not in seen:
                seen.add(key)
                yield name

    def __len__(self) -> int:
        return len(self.by_name)

    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, default: str, /) -> str: ...
    @overload
    def get(self, name: str, default: _T, /) -> str | _T: ...

    def get(self, name: str, default: object = None, /) -> object:
        """Return the first value of ``name``, or ``default`` when absent."""
        values = self.by_name.get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str) -> tuple[str, ...]:
        """Return every value of ``name`` in the order received (empty if absent)."""
        return self.by_name.get(name.lower(), ())

    def raw_items(self) -> tuple[tuple[str, str], ...]:
        """Return every ``(name, value)`` pair as received, repeats included."""
        return tuple(zip(self._names.decode("ascii").split(" "), self._values))  # noqa: B905

    def __eq__(self, other: object) -> bool:
        # Case-insensitive names, values in order: what get_all answers.
        if isinstance(other, Headers):
            return self.by_name == other.by_name
        return NotImplemented

    def __hash__(self) -> int:
        # Over exactly what __eq__ compares, so equal headers hash alike.
        return hash(frozenset(self.by_name.items()))

    def __repr__(self) -> str:
        fields = [
            (name, value if _shown(name.lower()) else _HIDDEN) for name, value in self.raw_items()
        ]
        return f"Headers({fields!r})"


def _explain(raw_names: Sequence[Any], raw_values: Sequence[Any]) -> NoReturn:
    """Name the first field that failed the joined check."""
    for raw_name, raw_value in zip(raw_names, raw_values):  # noqa: B905
        name, value = _as_text(raw_name, "name"), _as_text(raw_value, "value")
        if not TOKEN.fullmatch(name):
            raise InvalidRequest(f"header name {name[:40]!r} is not a valid HTTP field name")
        if not _FIELD_VALUE.fullmatch(value):
            raise InvalidRequest(
                f"header {name!r} has a value with control characters or characters outside latin-1"
            )
    raise InvalidRequest("a header name or value is not allowed by HTTP (RFC 9110 §5)")
