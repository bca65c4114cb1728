"""Signed-message templates: what a verifier hashes, built from a request.

A :class:`MessageTemplate` such as ``"v0:{timestamp}:{body}"`` is compiled
once; a :class:`MessageBuilder` is any callable with ``signs``, for schemes
no template expresses (Square's configured notification URL, say).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from ..errors import ConfigurationError, MalformedBody, VerificationError
from ..request import WebhookRequest
from ._base import single_header

__all__ = ["GuardedBuilder", "MessageBuilder", "MessageTemplate", "check_message"]

_PART_NAMES = frozenset({"id", "timestamp", "method", "url", "body"})
_TEMPLATE_TOKEN = re.compile(r"(\{\{|\}\}|\{[^{}]*\}|[{}])")


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

    The template is compiled once, here: each literal run is encoded (UTF-8)
    once. The commonest shape, literal text with ``{timestamp}`` and ``{id}``
    then ``{body}``, also becomes one ``%`` format of latin-1 text, filled in
    two C calls per request; the tests check it against the general path.

    Attributes:
        source: the template as written.
        headers: the names of its ``{header:Name}`` fields.
        signs: which of ``id`` and ``timestamp`` it signs.
        bare_timestamp: ``{timestamp}`` runs into a field, or a digit, with
            no separator (``{timestamp}{body}``): only its width marks where
            its digits end, so the verifier holds it to the clock's.

    Raises:
        ConfigurationError: an unknown field or an unbalanced brace.
    """

    __slots__ = ("_head", "_pieces", "bare_timestamp", "headers", "signs", "source")

    source: str
    headers: tuple[str, ...]
    signs: frozenset[str]
    bare_timestamp: bool
    # literal bytes, or a field: "body", "timestamp", "id", "method", "url",
    # or "header:<Name>"
    _pieces: tuple[bytes | str, ...]
    # "<head>{body}" with only literals, {timestamp} and {id} in the head: its
    # format (literals as latin-1 text) and what reads its fields from values
    _head: tuple[str, Callable[[Mapping[str, str]], Any] | None] | None

    def __init__(self, source: str) -> None:
        if not isinstance(source, str) or not source:
            raise ConfigurationError("a message template must be a non-empty str")
        pieces: list[bytes | str] = []
        literal = ""
        # split() keeps what it splits at: literal text at even indexes, a brace token at odd ones
        for index, token in enumerate(_TEMPLATE_TOKEN.split(source)):
            if index % 2 == 0 or token in ("{{", "}}"):
                literal += token if index % 2 == 0 else token[0]
                continue
            name = token[1:-1]
            if len(token) == 1:
                raise ConfigurationError(
                    f"template {source!r} has an unbalanced brace; write {{{{ or }}}} for a "
                    "literal one"
                )
            if name not in _PART_NAMES and not (name.startswith("header:") and len(name) > 7):
                raise ConfigurationError(
                    f"template field {{{name}}} is unknown; use {{body}}, {{timestamp}}, "
                    "{id}, {method}, {url} or {header:Name}"
                )
            if literal:
                pieces.append(literal.encode("utf-8"))
            pieces.append(name)
            literal = ""
        if literal:
            pieces.append(literal.encode("utf-8"))
        self.source = source
        self._pieces = tuple(pieces)
        self.headers = tuple(p[7:] for p in pieces if isinstance(p, str) and p[:7] == "header:")
        self.signs = frozenset(p for p in pieces if p in ("id", "timestamp"))
        self.bare_timestamp = False
        for index, piece in enumerate(pieces):
            if piece == "timestamp":
                before = pieces[index - 1] if index else b""
                after = pieces[index + 1] if index + 1 < len(pieces) else b""
                # a field, or a digit, next to it: nothing marks where its digits end
                self.bare_timestamp |= isinstance(before, str) or before[-1:].isdigit()
                self.bare_timestamp |= isinstance(after, str) or after[:1].isdigit()
        head = pieces[:-1]
        fields = [p for p in head if isinstance(p, str)]
        self._head = None
        if pieces[-1:] == ["body"] and set(fields) <= {"timestamp", "id"}:
            text = "".join(
                p.decode("latin-1").replace("%", "%%") if isinstance(p, bytes) else "%s"
                for p in head
            )
            # with no field, the literals as they are ("%%" is "%"), never formatted
            getter = operator.itemgetter(*fields) if fields else None
            self._head = (text if fields else text % (), getter)

    def build(self, request: WebhookRequest, values: Mapping[str, str]) -> tuple[bytes, ...]:
        """The signed message of ``request``, as parts to hash in order: the text
        between bodies joined into one part, the body a part of its own.

        Args:
            request: the request (its body, method, URL and headers as used).
            values: ``timestamp`` and ``id`` as received, for the template's
                ``{timestamp}`` and ``{id}``.

        Raises:
            KeyError: ``values`` lacks a field the template uses.
            MissingHeader, DuplicateHeader, MalformedHeader: a ``{header:Name}``.
        """
        if self._head is not None:
            head, fields = self._head
            if fields is not None:
                head %= fields(values)
            return (head.encode("latin-1"), request.body) if head else (request.body,)
        parts: list[bytes] = []
        text: list[bytes] = []
        for piece in self._pieces:
            if isinstance(piece, bytes):
                text.append(piece)
            elif piece == "body":
                if text:
                    parts.append(b"".join(text))
                    text = []
                parts.append(request.body)
            elif piece == "method":
                text.append(request.method.encode("ascii", "replace"))
            elif piece == "url":
                text.append(request.url.encode("utf-8"))
            elif piece[:7] == "header:":
                text.append(single_header(request, piece[7:]).encode("latin-1"))
            else:
                # Header text is latin-1 by HTTP's definition: these are the bytes sent.
                text.append(values[piece].encode("latin-1"))
        if text:
            parts.append(b"".join(text))
        return tuple(parts)

    # A MessageBuilder is called; the verifiers call build(): a method call is cheaper
    __call__ = build

    def __repr__(self) -> str:
        return f"MessageTemplate({self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MessageTemplate) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)


class GuardedBuilder:
    """A :class:`MessageBuilder` that is not a template, held to the contract of
    one: it builds ``bytes`` parts, or refuses the request with a
    ``VerificationError``; no other exception escapes ``verify``.

    Raises (from build):
        MalformedBody: the builder raised anything but a VerificationError
            (chained as the cause), or returned a part that is not ``bytes``.
        VerificationError: as the builder raised it.
    """

    __slots__ = ("bare_timestamp", "builder", "header", "headers", "signs")

    def __init__(self, builder: MessageBuilder, header: str) -> None:
        # a builder that runs its timestamp into another part says so
        self.bare_timestamp = getattr(builder, "bare_timestamp", False) is True
        self.builder = builder
        self.header = header  # the signature header, named in errors
        self.headers: tuple[str, ...] = tuple(getattr(builder, "headers", ()))
        self.signs = builder.signs

    def build(self, request: WebhookRequest, values: Mapping[str, str]) -> tuple[bytes, ...]:
        try:
            parts = tuple(self.builder(request, values))
        except VerificationError:
            raise
        except Exception as exc:
            raise MalformedBody(
                f"the message {self.header} signs could not be built from this request "
                f"({type(exc).__name__} in template=...)",
                header=self.header,
            ) from exc
        for part in parts:
            if not isinstance(part, bytes):
                raise MalformedBody(
                    f"the message {self.header} signs is not bytes: template=... returned a "
                    f"{type(part).__name__} part",
                    header=self.header,
                )
        return parts


def check_message(
    message: object,
    header: str,
    timestamp_source: str | None,
    id_header: str | None,
    owner: str,
) -> MessageTemplate | GuardedBuilder:
    """A builder whose signed values are read exactly when it signs them.

    Args:
        message: the ``template=`` setting: a template string or a builder
            (returned wrapped in a :class:`GuardedBuilder`).
        header: the signature header, for the errors of a builder.
        timestamp_source: where the timestamp is read; ``None``: nowhere.
        id_header: where the delivery id is read; ``None``: nowhere.
        owner: how the caller spelled the verifier, for errors.

    Raises:
        ConfigurationError: not a message builder; a signed value with no
            header to read it from; a timestamp read but not signed.
    """
    if isinstance(message, str):
        message = MessageTemplate(message)
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
    # verifiers call build(): a subclass that overrides __call__ is called instead
    if isinstance(message, MessageTemplate) and type(message).__call__ is MessageTemplate.build:
        return message
    return GuardedBuilder(message, header)  # type: ignore[arg-type]
