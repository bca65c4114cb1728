"""Handlers and the registry that tries them in order: the first success wins.

This is Tiki 25's ``tiki-webhooks.php`` model: every configured webhook
handler is checked in turn, the first whose check passes names the sender and
the local user the delivery acts for. Unlike Tiki, handlers whose required
headers are absent are skipped before any cryptography (filed by header, so
a thousand handlers cost about what the real candidates cost), every reason
for a refusal is kept for the logs, and the user is bound to the delivery
only: nothing global, nothing persisted.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import NoReturn, TypeAlias

from ._checks import check_flag, check_list
from .errors import (
    AccessDisabled,
    AmbiguousMatch,
    ConfigurationError,
    NoHandlerMatched,
    VerificationError,
)
from .handler import Handler, Match
from .headers import Headers
from .request import WebhookRequest
from .types import Verification

__all__ = ["Handler", "HandlerRegistry", "Match"]  # Handler and Match live in handler.py

logger = logging.getLogger("webhookverify")

# How many skipped handlers a NoHandlerMatched lists when no handler was a
# candidate at all: enough to debug a small registry, bounded for a large one.
_MAX_SKIPPED_LISTED = 20

# An enabled handler as filed for the search: its place in the registry (the
# order candidates are tried in), the handler, and the headers it requires
# after the first, lower-cased.
_Entry: TypeAlias = tuple[int, Handler, frozenset[str]]
# A handler's refusal of a request, kept for the logs: its name, the reason
# code and the error.
_Refusal: TypeAlias = tuple[str, str, VerificationError]


class _Snapshot:
    """An immutable view of the registry, swapped in whole on every change.

    Enabled handlers are filed by their first required header, lower-cased
    (those that require none under ``""``), so that finding the candidates
    for a request looks up each such header once, or each of the request's
    headers once, whichever are fewer: a thousand handlers cost about what
    the few real candidates cost.

    Raises:
        ConfigurationError: an item is not a :class:`Handler`, or two share a name.
    """

    __slots__ = ("by_first", "handlers", "handshake_methods", "unsigned")

    def __init__(self, handlers: Iterable[Handler]) -> None:
        self.handlers = tuple(handlers)
        for handler in self.handlers:
            if not isinstance(handler, Handler):
                raise ConfigurationError(
                    f"HandlerRegistry takes Handler objects, not {type(handler).__name__}"
                )
        twice = [name for name, n in Counter(h.name for h in self.handlers).items() if n > 1]
        if twice:
            raise ConfigurationError(f"two handlers are named {twice[0]!r}; names are unique")
        enabled = [h for h in self.handlers if h.enabled]
        self.by_first: dict[str, list[_Entry]] = {}
        for position, handler in enumerate(enabled):
            # filed by the first header it requires, lower-cased; "" when it requires none
            first, *others = [name.lower() for name in handler.verifier.required_headers] or [""]
            self.by_first.setdefault(first, []).append((position, handler, frozenset(others)))
        # the enabled handlers whose handshake is unsigned (tried on a request none
        # verified), and the methods the enabled handlers' handshakes come with
        shakes = [(h, h.handshake) for h in enabled if h.handshake is not None]
        self.unsigned = tuple(h for h, handshake in shakes if not handshake.signed)
        self.handshake_methods = frozenset(m for _, shake in shakes for m in shake.methods)

    def candidates(self, headers: Headers) -> list[_Entry]:
        """The entries whose required headers ``headers`` all carry, in registry order."""
        present = headers.by_name  # every name received, lower-cased
        names = present.keys()
        by_first = self.by_first
        found: list[_Entry] = []
        # each first header looked up once: those filed, or those received if fewer
        for name in by_first if len(by_first) <= len(present) else present:
            for entry in by_first.get(name, ()) if name in present else ():
                if entry[2] <= names:
                    found.append(entry)
        if "" in by_first:  # the handlers that require no header
            found.extend(by_first[""])
        if len(found) > 1:
            found.sort()  # by position: positions differ, so no two handlers are compared
        return found


class HandlerRegistry:
    """Handlers in order, an access switch, and first-success verification.

    Args:
        handlers: the handlers, tried in this order.
        enabled: the access switch; off, every request is refused (403).
        strict: when two handlers verify the same request, raise
            :class:`AmbiguousMatch` instead of taking the first.

    Handlers may be added and removed while requests are served: changes
    swap in a new immutable snapshot under a lock, and :meth:`verify` reads
    the snapshot once, without a lock.
    """

    def __init__(
        self, handlers: Iterable[Handler] = (), *, enabled: bool = True, strict: bool = False
    ) -> None:
        self._lock = threading.Lock()
        self.enabled = check_flag(enabled, "enabled", "HandlerRegistry")
        self.strict = check_flag(strict, "strict", "HandlerRegistry")
        self._snapshot = _Snapshot(check_list(handlers, "handlers", "HandlerRegistry"))

    # -- changes -------------------------------------------------------------------

    def add(self, handler: Handler, *, position: int | None = None) -> None:
        """Add ``handler`` at the end, or at ``position`` in the order."""
        if position is not None and (isinstance(position, bool) or not isinstance(position, int)):
            raise ConfigurationError("HandlerRegistry.add(position=...) must be an int or None")
        with self._lock:
            items = list(self._snapshot.handlers)
            items.insert(len(items) if position is None else position, handler)
            self._snapshot = _Snapshot(items)

    def remove(self, name: str) -> Handler:
        """Remove the handler named ``name`` and return it.

        Raises:
            KeyError: no handler has that name.
        """
        return self._swap(name, None)

    def replace(self, handler: Handler) -> Handler:
        """Swap in ``handler`` for the one with the same name, keeping its place."""
        _Snapshot((handler,))  # refuses anything but a Handler before its name is read
        return self._swap(handler.name, handler)

    def _swap(self, name: str, new: Handler | None) -> Handler:
        """Put ``new`` in the place of the handler named ``name`` (``None``:
        remove it) and return that handler. Raises: KeyError: none is named so."""
        with self._lock:
            old = self.get(name)
            if old is None:
                raise KeyError(name)
            kept = (new if h is old else h for h in self._snapshot.handlers)
            self._snapshot = _Snapshot(h for h in kept if h is not None)
            return old

    def get(self, name: str) -> Handler | None:
        return next((h for h in self._snapshot.handlers if h.name == name), None)

    def __iter__(self) -> Iterator[Handler]:
        return iter(self._snapshot.handlers)

    def __len__(self) -> int:
        return len(self._snapshot.handlers)

    def __repr__(self) -> str:
        names = [h.name for h in self._snapshot.handlers]
        return f"HandlerRegistry({names!r}, enabled={self.enabled!r}, strict={self.strict!r})"

    @property
    def handshake_methods(self) -> frozenset[str]:
        """The HTTP methods the enabled handlers' handshakes come with (``GET``
        for a query challenge), known since the registry last changed."""
        return self._snapshot.handshake_methods

    @property
    def unsigned_handshakes(self) -> tuple[Handler, ...]:
        """The enabled handlers whose handshake is unsigned, in order: the ones
        asked about a request no handler verified."""
        return self._snapshot.unsigned

    # -- verification: sync and async shells around the same three steps --------

    def candidates(self, request: WebhookRequest) -> list[Handler]:
        """The enabled handlers whose required headers are all present, in order."""
        return [handler for _, handler, _ in self._snapshot.candidates(request.headers)]

    def verify(self, request: WebhookRequest, now: float | None = None) -> Match:
        """Return the first enabled handler that verifies ``request``.

        Raises:
            AccessDisabled: the access switch is off.
            NoHandlerMatched: no handler verified it; ``attempts`` lists each
                handler tried with its reason code (for logs, never a response).
            AmbiguousMatch: ``strict`` and two handlers verified it.
        """
        if not self.enabled:
            raise AccessDisabled()
        snapshot, refused, found = self._snapshot, [], None  # the snapshot is read once
        for _, handler, _ in snapshot.candidates(request.headers):
            try:
                verification = handler.verifier.verify(request, now)
            except Exception as exc:  # noqa: BLE001 - kept as the handler's reason, logged
                refused.append(_refusal(handler, exc))
                continue
            if not self.strict:
                return Match(handler, verification)
            found = _only(found, handler, verification)
        return found or _unmatched(snapshot, refused)

    async def averify(self, request: WebhookRequest, now: float | None = None) -> Match:
        """:meth:`verify` for async receivers: a verifier's ``averify`` is
        awaited where it has one (a verifier that fetches its key does, so the
        event loop never blocks on a fetch), its ``verify`` called otherwise.

        Raises:
            AccessDisabled, NoHandlerMatched, AmbiguousMatch: as :meth:`verify`.
        """
        if not self.enabled:
            raise AccessDisabled()
        snapshot, refused, found = self._snapshot, [], None  # the snapshot is read once
        for _, handler, _ in snapshot.candidates(request.headers):
            averify = getattr(handler.verifier, "averify", None)
            try:
                if averify is None:
                    verification = handler.verifier.verify(request, now)
                else:
                    verification = await averify(request, now)
            except Exception as exc:  # noqa: BLE001 - kept as the handler's reason, logged
                refused.append(_refusal(handler, exc))
                continue
            if not self.strict:
                return Match(handler, verification)
            found = _only(found, handler, verification)
        return found or _unmatched(snapshot, refused)


def _refusal(handler: Handler, exc: Exception) -> _Refusal:
    """A handler's refusal, for the logs; a verifier that raised anything but
    a ``VerificationError`` is logged with its traceback and refuses."""
    if isinstance(exc, VerificationError):
        exc.handler = handler.name
        return handler.name, exc.reason, exc
    logger.error(
        "verifier of handler %r raised %s instead of a VerificationError",
        handler.name,
        type(exc).__name__,
        exc_info=exc,
        extra={"webhookverify": {"handler": handler.name, "reason": "verifier_error"}},
    )
    error = VerificationError("the verifier failed unexpectedly", handler=handler.name)
    return handler.name, "verifier_error", error


def _only(found: Match | None, handler: Handler, verification: Verification) -> Match:
    """The match of ``handler`` when ``strict`` (the search goes on).

    Raises:
        AmbiguousMatch: another handler matched before.
    """
    if found is not None:
        raise AmbiguousMatch(
            f"handlers {found.handler.name!r} and {handler.name!r} both verified the request",
            handler=handler.name,
        )
    return Match(handler, verification)


def _unmatched(snapshot: _Snapshot, refused: list[_Refusal]) -> NoReturn:
    """Raises: NoHandlerMatched, with each refusal (when no handler was even a
    candidate, the enabled ones are listed as ``missing_header``)."""
    skipped = [(h.name, "missing_header") for h in snapshot.handlers if h.enabled]
    attempts = [(name, reason) for name, reason, _ in refused] or skipped[:_MAX_SKIPPED_LISTED]
    raise NoHandlerMatched(attempts=attempts, errors=[error for _, _, error in refused])
