"""Type checks for settings, shared by every constructor that takes them.

Python lets a wrong type through until it is used, and then the mistake is
either a ``TypeError`` far from its cause or, worse, no error at all: a
``str`` given where a list goes is iterated as one-letter items
(``tenant_ids="abc"`` allowing tenants ``a``, ``b`` and ``c``), a table as
its keys, and any object is true or false (``enabled="false"`` enables).
These helpers refuse such values when the setting is built, with one line
naming the owner and the setting (``presets.aws_sns(regions=...)``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from .errors import ConfigurationError

__all__ = [
    "check_callable",
    "check_flag",
    "check_list",
    "check_mapping",
    "check_methods",
]

T = TypeVar("T")


def check_flag(value: object, setting: str, owner: str) -> bool:
    """A ``True``/``False`` setting: anything else (``"false"``, ``0``) is refused.

    Raises:
        ConfigurationError: ``value`` is not a bool.
    """
    if not isinstance(value, bool):
        raise ConfigurationError(
            f"{owner}({setting}=...) must be True or False, not {type(value).__name__}"
        )
    return value


def check_list(
    value: object,
    setting: str,
    owner: str,
    *,
    one: type | tuple[type, ...] = (),
    of: type | None = None,
    hint: str = "",
) -> tuple[Any, ...]:
    """The items of a list setting, refusing what would be iterated by mistake.

    Args:
        value: the setting as given.
        setting: its name, for the error.
        owner: who takes it (``presets.aws_sns``), for the error.
        one: types that stand for a list of one (``str`` where a single
            name is as clear as a list of one); any other ``str``, ``bytes``
            or mapping is refused rather than iterated.
        of: the type every item must have (``str`` for names), if any.
        hint: appended to the error (``"; use secret= for one"``).

    Raises:
        ConfigurationError: ``value`` is a string, bytes, a mapping or not
            iterable at all, or an item is not ``of``.
    """
    if one and isinstance(value, one):
        return (value,)
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise ConfigurationError(
            f"{owner}({setting}=...) takes a list, not {type(value).__name__}{hint}"
        )
    items = tuple(value)
    for item in items:
        if of is not None and not isinstance(item, of):
            raise ConfigurationError(
                f"{owner}({setting}=...) holds {type(item).__name__} items, not {of.__name__}"
            )
    return items


def check_mapping(value: object, setting: str, owner: str) -> Mapping[Any, Any]:
    """A table setting (``{"key id": key, ...}``).

    Raises:
        ConfigurationError: ``value`` is not a mapping.
    """
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"{owner}({setting}=...) takes a mapping such as a dict, not {type(value).__name__}"
        )
    return value


def check_callable(value: T, setting: str, owner: str) -> T:
    """A callable setting (a clock, a callback).

    Raises:
        ConfigurationError: ``value`` cannot be called.
    """
    if not callable(value):
        raise ConfigurationError(f"{owner}({setting}=...) must be callable")
    return value


def check_methods(value: T, methods: Iterable[str], setting: str, owner: str, what: str = "") -> T:
    """An object of a protocol (a key source, a fetcher): it has each of ``methods``.

    Args:
        what: what to give instead, for the error (``"a key source such as FixedKeys"``).

    Raises:
        ConfigurationError: one of ``methods`` is missing or not callable.
    """
    for method in methods:
        if not callable(getattr(value, method, None)):
            raise ConfigurationError(
                f"{owner}({setting}=...) has no {method}() method" + (what and f"; give {what}")
            )
    return value
