"""The nearest valid name, for errors about a misspelt setting, preset or handler.

``tolerence`` should be answered with ``did you mean 'tolerance'?``, not
with a list of forty names or a bare ``TypeError``.
"""

from __future__ import annotations

import difflib
import inspect
import typing
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["did_you_mean", "keyword_names"]

# A similarity ratio (difflib: twice the matched letters over both lengths).
# A letter wrong, missing or swapped in a name of five or more letters scores
# above 0.8 (githb/github 0.91, hmc/hmac 0.86); difflib's default of 0.6
# lets short unrelated names through (secret/user is 0.6).
_CUTOFF = 0.75


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the valid choice nearest to ``word``, or ``""`` if none is near.

    Returns:
        ``"; did you mean 'tolerance'?"``, ready to end an error message.
    """
    found = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=_CUTOFF)
    return f"; did you mean {found[0]!r}?" if found else ""


def keyword_names(factory: Callable[..., Any]) -> frozenset[str] | None:
    """The keyword arguments ``factory`` accepts, or ``None`` if that cannot be known.

    Named parameters count, and so do the keys of a ``**options:
    Unpack[SomeTypedDict]``; any other ``**kwargs`` accepts anything, so the
    answer is ``None`` then (and when the signature cannot be read).
    """
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return None
    names = {p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    extra = next((p for p in parameters if p.kind is p.VAR_KEYWORD), None)
    if extra is None:
        return frozenset(names)
    target = factory.__init__ if isinstance(factory, type) else factory  # type: ignore[misc]
    try:
        hint = typing.get_type_hints(target, include_extras=True).get(extra.name)
    except (NameError, TypeError):
        return None
    arguments = typing.get_args(hint)
    if typing.get_origin(hint) is not typing.Unpack or not arguments:
        return None
    return frozenset(names | set(typing.get_type_hints(arguments[0])))
