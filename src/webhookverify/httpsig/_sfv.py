"""Just enough of RFC 8941 (Structured Field Values) for HTTP Message Signatures.

``Signature-Input`` and ``Signature`` (RFC 9421 §4) and ``Content-Digest``
(RFC 9530 §2) are Dictionaries whose members are Inner Lists or Items with
Parameters. This module parses them strictly (RFC 8941 §4.2: any text that
does not parse fails the whole field) and within bounds, and serializes an
Inner List back (§4.1), which is how RFC 9421 §2.3 builds
``@signature-params``.

Parsing runs before any signature is checked, so every loop is bounded by a
named limit and by the field's length; no recursion deeper than an Inner List
inside a Dictionary.
"""

from __future__ import annotations

import binascii
import re
from decimal import Decimal
from typing import NamedTuple, TypeAlias

__all__ = [
    "MAX_FIELD_LENGTH",
    "MAX_INNER_LIST",
    "MAX_MEMBERS",
    "MAX_PARAMS",
    "BareItem",
    "InnerList",
    "Item",
    "StructuredFieldError",
    "Token",
    "parse_dictionary",
    "serialize_component",
    "serialize_inner_list",
    "serialize_item",
]

# A signed webhook carries one or two signatures; RFC 9421 §4 allows several
# for multi-party signing. Eight leaves room for that and keeps the work of a
# hostile header small.
MAX_MEMBERS = 8
# RFC 9421 Appendix B's fullest example covers eight components; thirty-two
# covers any real profile while bounding the signature base we build.
MAX_INNER_LIST = 32
# The signature parameters RFC 9421 §2.3 defines are six (created, expires,
# nonce, alg, keyid, tag); a component takes at most one or two (§2.1).
MAX_PARAMS = 8
# RFC 9110 §5.4 leaves field size to servers; common servers stop at 8 KiB per
# line. An RSA-4096 signature in base64 is ~700 characters, eight of them fit.
MAX_FIELD_LENGTH = 8192
# RFC 8941 §3.3.1: integers have at most 15 digits; §3.3.2 decimals 12.3.
_MAX_INT_DIGITS = 15


class StructuredFieldError(ValueError):
    """The text is not a valid structured field of the expected shape, or is too large."""


class Token(str):
    """An RFC 8941 §3.3.4 Token (serialized bare, unlike a String)."""

    __slots__ = ()


BareItem: TypeAlias = int | Decimal | str | Token | bytes | bool
Params: TypeAlias = tuple[tuple[str, BareItem], ...]


class Item(NamedTuple):
    """An Item with its Parameters, in the order received."""

    value: BareItem
    params: Params = ()


class InnerList(NamedTuple):
    """An Inner List of Items with its Parameters, in the order received."""

    items: tuple[Item, ...]
    params: Params = ()


_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")


class _Reader:
    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def skip(self, chars: str) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1

    def key(self) -> str:
        match = _KEY.match(self.text, self.pos)
        if not match:
            raise StructuredFieldError("expected a key")
        self.pos = match.end()
        return match.group()

    def bare_item(self) -> BareItem:
        char = self.peek()
        if char == '"':
            return self.string()
        if char == ":":
            match = _BYTES.match(self.text, self.pos)
            if not match:
                raise StructuredFieldError("invalid byte sequence")
            self.pos = match.end()
            try:
                return binascii.a2b_base64(match.group(1), strict_mode=True)
            except binascii.Error:
                raise StructuredFieldError("invalid base64 in a byte sequence") from None
        if char == "?":
            value = self.text[self.pos + 1 : self.pos + 2]
            if value not in ("0", "1"):
                raise StructuredFieldError("invalid boolean")
            self.pos += 2
            return value == "1"
        if char == "-" or char.isdigit():
            return self.number()
        match = _TOKEN.match(self.text, self.pos)
        if not match:
            raise StructuredFieldError("expected an item")
        self.pos = match.end()
        return Token(match.group())

    def number(self) -> int | Decimal:
        match = _NUMBER.match(self.text, self.pos)
        if not match:
            raise StructuredFieldError("invalid number")
        text = match.group()
        digits = text.lstrip("-")
        whole, _, frac = digits.partition(".")
        if "." in digits:
            if len(whole) > 12 or len(frac) > 3:  # RFC 8941 §3.3.2
                raise StructuredFieldError("decimal out of range")
        elif len(digits) > _MAX_INT_DIGITS:
            raise StructuredFieldError("integer out of range")
        self.pos = match.end()
        return Decimal(text) if "." in digits else int(text)

    def string(self) -> str:
        out: list[str] = []
        self.pos += 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\"):
                    raise StructuredFieldError("invalid escape in a string")
                out.append(escaped)
                self.pos += 1
            elif char == '"':
                return "".join(out)
            elif not " " <= char <= "~":
                raise StructuredFieldError("invalid character in a string")
            else:
                out.append(char)
        raise StructuredFieldError("unterminated string")

    def params(self) -> Params:
        params: dict[str, BareItem] = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip(" ")
            name = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params.pop(name, None)  # RFC 8941 §4.2.3.2: a repeated key overwrites
            params[name] = value
            if len(params) > MAX_PARAMS:
                raise StructuredFieldError("too many parameters")
        return tuple(params.items())

    def item_or_inner_list(self) -> Item | InnerList:
        if self.peek() != "(":
            return Item(self.bare_item(), self.params())
        self.pos += 1
        items: list[Item] = []
        while True:
            self.skip(" ")
            if self.peek() == ")":
                self.pos += 1
                return InnerList(tuple(items), self.params())
            items.append(Item(self.bare_item(), self.params()))
            if len(items) > MAX_INNER_LIST:
                raise StructuredFieldError("too many items in an inner list")
            if self.peek() not in (" ", ")"):
                raise StructuredFieldError("expected a space or ')' in an inner list")


def parse_dictionary(text: str) -> dict[str, Item | InnerList]:
    """Parse an RFC 8941 §3.2 Dictionary, strictly, in order.

    Args:
        text: the field's value (several field lines already joined with ``,``).

    Returns:
        Members by key, in order; a repeated key keeps its last value (§4.2.2).

    Raises:
        StructuredFieldError: the text is not a Dictionary, is longer than
            :data:`MAX_FIELD_LENGTH`, or has more than :data:`MAX_MEMBERS`
            members, :data:`MAX_INNER_LIST` items or :data:`MAX_PARAMS` parameters.
    """
    if len(text) > MAX_FIELD_LENGTH:
        raise StructuredFieldError("the field is too long")
    reader = _Reader(text.strip(" \t"))
    members: dict[str, Item | InnerList] = {}
    if not reader.text:
        raise StructuredFieldError("the field is empty")
    while True:
        name = reader.key()
        if reader.peek() == "=":
            reader.pos += 1
            member = reader.item_or_inner_list()
        else:
            member = Item(True, reader.params())
        members.pop(name, None)
        members[name] = member
        if len(members) > MAX_MEMBERS:
            raise StructuredFieldError("too many members")
        reader.skip(" \t")
        if reader.pos == len(reader.text):
            return members
        if reader.peek() != ",":
            raise StructuredFieldError("expected ',' between members")
        reader.pos += 1
        reader.skip(" \t")
        if reader.pos == len(reader.text):
            raise StructuredFieldError("trailing comma")


def serialize_item(value: BareItem) -> str:
    """Serialize a Bare Item (RFC 8941 §4.1.3)."""
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, Token):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bytes):
        return ":" + binascii.b2a_base64(value, newline=False).decode("ascii") + ":"
    if isinstance(value, Decimal):
        text = format(value.quantize(Decimal("0.001")).normalize(), "f")
        return text if "." in text else text + ".0"
    return str(value)


def _serialize_params(params: Params) -> str:
    return "".join(
        f";{name}" if value is True else f";{name}={serialize_item(value)}"
        for name, value in params
    )


def serialize_component(item: Item) -> str:
    """Serialize one Item with its Parameters (RFC 8941 §4.1.3)."""
    return serialize_item(item.value) + _serialize_params(item.params)


def serialize_inner_list(inner: InnerList) -> str:
    """Serialize an Inner List with its Parameters (RFC 8941 §4.1.1.1)."""
    body = " ".join(serialize_component(item) for item in inner.items)
    return f"({body}){_serialize_params(inner.params)}"
