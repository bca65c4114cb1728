"""Signed-message templates: what a verifier hashes, built from a request.

A :class:`MessageTemplate` such as ``"v0:{timestamp}:{body}"`` is compiled
once; a :class:`MessageBuilder` is any callable with ``signs``, for schemes
no template expresses (Square's configured notification URL, say).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol

from ..errors import ConfigurationError
from ..request import WebhookRequest
from ._base import single_header

__all__ = ["MessageBuilder", "MessageTemplate", "check_message"]

_PART_NAMES = frozenset({"id", "timestamp", "method", "url", "body"})
_TEMPLATE_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class MessageBuilder(Protocol):
    """Builds the signed message of a request, as parts to hash in order.

    ``signs`` names the values the message covers among ``id`` and
    ``timestamp``: a verifier only trusts a delivery id or a timestamp that
    the message really signs. ``values`` holds them as received (text).
    """

    @property
    def signs(self) -> frozenset[str]: ...

    def __call__(self, request: WebhookRequest, values: Mapping[str, str]) -> Sequence[bytes]: ...


class MessageTemplate:
    """A signed-message template such as ``"v0:{timestamp}:{body}"``.

    Fields: ``{body}`` (the raw body bytes), ``{timestamp}`` and ``{id}`` (the
    configured headers' text as received), ``{method}``, ``{url}``, and
    ``{header:Name}`` for any other header. ``{{`` and ``}}`` are literal
    braces. The body is never copied: it is hashed as its own part.

    The template is compiled once, here: literal text is encoded (UTF-8)
    once, and the common shape, a head of literals, ``{timestamp}`` and
    ``{id}`` followed by the body, becomes one format string that a verifier
    fills and encodes in two calls per request, without calling the template.

    Attributes:
        source: the template as written.
        headers: the names of its ``{header:Name}`` fields.
        signs: which of ``id`` and ``timestamp`` it signs.

    Raises:
        ConfigurationError: an unknown field or an unbalanced brace.
    """

    __slots__ = ("_head", "_head_literals", "_head_values", "_items", "headers", "signs", "source")

    source: str
    headers: tuple[str, ...]
    signs: frozenset[str]
    # The compiled head, for the shape "<head>{body}" (None for any other):
    # a % format of latin-1 text (literals are their UTF-8 bytes read as
    # latin-1), so that (head % values).encode("latin-1") is the signed head
    # and "" means the body alone; the same head as its literal texts around
    # its fields; and the slice of (timestamp, id) giving those fields.
    _head: str | None
    _head_literals: tuple[str, ...] | None
    _head_values: slice

    def __init__(self, source: str) -> None:
        if not isinstance(source, str) or not source:
            raise ConfigurationError("a message template must be a non-empty str")
        # ("lit", utf-8 bytes) | ("part", name) | ("header", name)
        items: list[tuple[str, bytes | str]] = []
        headers: list[str] = []
        pos = 0
        for match in _TEMPLATE_FIELD.finditer(source):
            if match.start() > pos:
                items.append(("lit", source[pos : match.start()].encode("utf-8")))
            token = match.group(0)
            if token in ("{{", "}}"):
                items.append(("lit", token[0].encode("ascii")))
            elif match.group(1) is None:
                raise ConfigurationError(
                    f"template {source!r} has an unbalanced brace; write {{{{ or }}}} for a "
                    "literal one"
                )
            else:
                name = match.group(1)
                if name.startswith("header:") and len(name) > len("header:"):
                    headers.append(name[len("header:") :])
                    items.append(("header", name[len("header:") :]))
                elif name in _PART_NAMES:
                    items.append(("part", name))
                else:
                    raise ConfigurationError(
                        f"template field {{{name}}} is unknown; use {{body}}, {{timestamp}}, "
                        "{id}, {method}, {url} or {header:Name}"
                    )
            pos = match.end()
        if pos < len(source):
            items.append(("lit", source[pos:].encode("utf-8")))
        self.source = source
        self._items = tuple(items)
        self.headers = tuple(headers)
        self.signs = frozenset(n for k, n in items if k == "part" and n in ("id", "timestamp"))
        literals, self._head_values = _compile_head(self._items)
        self._head_literals = literals
        self._head = None if literals is None else "%s".join(t.replace("%", "%%") for t in literals)

    def __call__(self, request: WebhookRequest, values: Mapping[str, str]) -> Sequence[bytes]:
        """The signed message of ``request``, as parts to hash in order.

        Args:
            request: the request (its body, method, URL and headers as used).
            values: ``timestamp`` and ``id`` as received, for the template's
                ``{timestamp}`` and ``{id}``.

        Raises:
            KeyError: ``values`` lacks a field the template uses.
            MissingHeader, DuplicateHeader, MalformedHeader: a ``{header:Name}``.
        """
        head = self._head
        if head is not None:
            if not head:
                return (request.body,)
            names = ("timestamp", "id")[self._head_values]
            text = head % tuple(values[name] for name in names)
            return (text.encode("latin-1"), request.body)
        out: list[bytes] = []
        buf: list[bytes] = []
        for kind, name in self._items:
            if isinstance(name, bytes):
                buf.append(name)
            elif kind == "header":
                buf.append(single_header(request, name).encode("latin-1"))
            elif name == "body":
                if buf:
                    out.append(b"".join(buf))
                    buf = []
                out.append(request.body)
            elif name == "method":
                buf.append(request.method.encode("ascii", "replace"))
            elif name == "url":
                buf.append(request.url.encode("utf-8"))
            else:
                # Header text is latin-1 by HTTP's definition: these are the bytes sent.
                buf.append(values[name].encode("latin-1"))
        if buf:
            out.append(b"".join(buf))
        return tuple(out)

    def __repr__(self) -> str:
        return f"MessageTemplate({self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MessageTemplate) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)


# Which of (timestamp, id) a compiled head formats, in its order, by the fields it holds.
_HEAD_VALUES = {
    (): slice(0, 0),
    ("timestamp",): slice(0, 1),
    ("id",): slice(1, 2),
    ("timestamp", "id"): slice(0, 2),
    ("id", "timestamp"): slice(None, None, -1),
}


def _compile_head(
    items: Sequence[tuple[str, bytes | str]],
) -> tuple[tuple[str, ...] | None, slice]:
    """Compile a template of the shape ``<head>{body}``.

    The head may hold literal text and at most one each of ``{timestamp}``
    and ``{id}``.

    Returns:
        The head's literal texts around its fields, as latin-1 text (their
        UTF-8 bytes read as latin-1), one more than there are fields; and the
        slice of ``(timestamp, id)`` giving the fields, in order. ``None``
        and an empty slice for any other shape.
    """
    if not items or items[-1] != ("part", "body"):
        return None, slice(0, 0)
    literals = [""]
    fields: list[str] = []
    for kind, value in items[:-1]:
        if isinstance(value, bytes):
            literals[-1] += value.decode("latin-1")
        elif kind == "part" and value in ("timestamp", "id") and value not in fields:
            fields.append(value)
            literals.append("")
        else:
            return None, slice(0, 0)
    return tuple(literals), _HEAD_VALUES[tuple(fields)]


def check_message(
    message: object, timestamp_source: str | None, id_header: str | None, owner: str
) -> MessageBuilder:
    """A builder whose signed values are read exactly when it signs them.

    Args:
        message: the ``template=`` setting, already a builder.
        timestamp_source: where the timestamp is read; ``None``: nowhere.
        id_header: where the delivery id is read; ``None``: nowhere.
        owner: how the caller spelled the verifier, for errors.

    Raises:
        ConfigurationError: not a message builder; a signed value with no
            header to read it from; a timestamp read but not signed.
    """
    signs = getattr(message, "signs", None)
    if not callable(message) or not isinstance(signs, frozenset):
        raise ConfigurationError(
            f"{owner}(template=...) must be a template string or a MessageBuilder"
        )
    if "timestamp" in signs and timestamp_source is None:
        raise ConfigurationError(
            f"{owner}: the template signs {{timestamp}}; set timestamp_header=..."
        )
    if timestamp_source is not None and "timestamp" not in signs:
        raise ConfigurationError(
            f"{owner}: a timestamp is read but the template does not sign it, so it "
            "proves nothing; add {timestamp} to template=..."
        )
    if "id" in signs and id_header is None:
        raise ConfigurationError(f"{owner}: the template signs {{id}}; set id_header=...")
    return message  # type: ignore[return-value]
