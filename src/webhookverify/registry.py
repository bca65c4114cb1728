"""Handlers and the registry that tries them in order: the first success wins.

This is Tiki 25's ``tiki-webhooks.php`` model: every configured webhook
handler is checked in turn, the first whose check passes names the sender and
the local user the delivery acts for. Unlike Tiki, handlers whose required
headers are absent are skipped before any cryptography (through an index, so
a thousand handlers cost about what the real candidates cost), every reason
for a refusal is kept for the logs, and the user is bound to the delivery
only: nothing global, nothing persisted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeAlias

from .errors import (
    AccessDisabled,
    AmbiguousMatch,
    ConfigurationError,
    NoHandlerMatched,
    VerificationError,
)
from .request import WebhookRequest
from .verifiers._base import ReplayMode, Verification, Verifier

__all__ = ["Handler", "HandlerRegistry", "Match"]

logger = logging.getLogger("webhookverify")

# How many skipped handlers a NoHandlerMatched lists when no handler was a
# candidate at all: enough to debug a small registry, bounded for a large one.
_MAX_SKIPPED_LISTED = 20


@dataclass(frozen=True, slots=True, init=False)
class Handler:
    """One known sender: how it signs, and who acts on its behalf.

    Args:
        name: unique within a registry; used in logs and replay keys.
        verifier: any object with ``verify``, ``sign`` and ``required_headers``.
        user: the local principal the delivery acts for (Tiki's handler user).
        enabled: a disabled handler never matches.
        replay: ``"id"``, ``"content"`` or ``"off"``; default: the verifier's
            ``replay_default`` (``id`` where the scheme signs an id, ``content``
            where it signs only the body, ``off`` for tokens).
        replay_ttl: how long a processed delivery is remembered, in seconds;
            never less than the verifier's timestamp window. Default: that
            window, or 24 hours for schemes that sign no timestamp; three days
            for a signed delivery id, which senders keep on retries signed
            again later (see ``replay.ID_TTL``).

    Raises:
        ConfigurationError: an empty name, a verifier without the protocol's
            methods, or an unknown replay mode.
    """

    name: str
    verifier: Verifier
    user: str | None = None
    enabled: bool = True
    replay: ReplayMode | None = None
    replay_ttl: float | None = None

    def __init__(
        self,
        name: str,
        verifier: Verifier,
        user: str | None = None,
        *,
        enabled: bool = True,
        replay: ReplayMode | None = None,
        replay_ttl: float | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError("Handler(name=...) must be a non-empty str")
        for method in ("verify", "sign"):
            if not callable(getattr(verifier, method, None)):
                raise ConfigurationError(
                    f"Handler {name!r}: the verifier has no {method}() method; pass a verifier "
                    "such as HmacVerifier(...) or presets.github(...)"
                )
        required = getattr(verifier, "required_headers", None)
        if not isinstance(required, tuple) or not all(isinstance(h, str) for h in required):
            raise ConfigurationError(
                f"Handler {name!r}: verifier.required_headers must be a tuple of header names"
            )
        if replay not in (None, "id", "content", "off"):
            raise ConfigurationError(
                f"Handler {name!r}: replay={replay!r} is unknown; use 'id', 'content' or 'off'"
            )
        if replay_ttl is not None and (
            isinstance(replay_ttl, bool)
            or not isinstance(replay_ttl, int | float)
            or replay_ttl <= 0
        ):
            raise ConfigurationError(f"Handler {name!r}: replay_ttl must be a positive number")
        if user is not None and not isinstance(user, str):
            raise ConfigurationError(f"Handler {name!r}: user must be a str")
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "verifier", verifier)
        set_(self, "user", user)
        set_(self, "enabled", bool(enabled))
        set_(self, "replay", replay)
        set_(self, "replay_ttl", None if replay_ttl is None else float(replay_ttl))

    @property
    def replay_mode(self) -> ReplayMode:
        """The replay mode in force (the handler's, else the verifier's default)."""
        if self.replay is not None:
            return self.replay
        mode = getattr(self.verifier, "replay_default", "content")
        if mode == "id":
            return "id"
        return "off" if mode == "off" else "content"


class Match(NamedTuple):
    """The handler that verified a request, and what it proved (immutable).

    A named tuple, as :class:`~webhookverify.Verification` is: one is built
    for every request that passes.
    """

    handler: Handler
    verification: Verification


# (position in the registry, handler, the other required headers, lower-cased)
_Entry: TypeAlias = tuple[int, Handler, frozenset[str]]
_EMPTY: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """An immutable view of the registry, swapped in whole on every change."""

    handlers: tuple[Handler, ...]
    # lower-cased first required header -> the handlers that require it, as
    # a dict (to look up a request's headers) and as items (to walk it)
    index: dict[str, tuple[_Entry, ...]] = field(default_factory=dict)
    firsts: tuple[tuple[str, tuple[_Entry, ...]], ...] = ()
    # enabled handlers that require no header at all: always candidates
    always: tuple[_Entry, ...] = ()
    # when exactly one handler is enabled and requires headers (an endpoint
    # per sender, the usual configuration): its first header and its entry
    single: tuple[str, tuple[_Entry]] | None = None

    @classmethod
    def build(cls, handlers: tuple[Handler, ...]) -> _Snapshot:
        index: dict[str, list[_Entry]] = {}
        always: list[_Entry] = []
        for position, handler in enumerate(handlers):
            if not handler.enabled:
                continue
            required = tuple(h.lower() for h in handler.verifier.required_headers)
            entry = (position, handler, frozenset(required[1:]) if required[1:] else _EMPTY)
            if required:
                index.setdefault(required[0], []).append(entry)
            else:
                always.append(entry)
        frozen = {k: tuple(v) for k, v in index.items()}
        firsts = tuple(frozen.items())
        single = None
        if not always and len(firsts) == 1 and len(firsts[0][1]) == 1:
            single = (firsts[0][0], (firsts[0][1][0],))
        return cls(handlers, frozen, firsts, tuple(always), single)

    def candidates(self, present: Mapping[str, Any]) -> Sequence[_Entry]:
        """The entries whose required headers are all in ``present``, in registry order.

        ``present`` is a request's ``Headers.by_name`` (lower-cased names). The
        smaller of the two is walked: the registry's first headers when it
        has few (the usual case), the request's headers when it has many.
        """
        if self.single is not None:
            first, only = self.single
            if first in present and (not only[0][2] or present.keys() >= only[0][2]):
                return only
            return ()
        found = list(self.always)
        if len(self.firsts) <= len(present):
            for name, entries in self.firsts:
                if name in present:
                    found.extend(entries)
        else:
            index = self.index
            for name in present:
                required_first = index.get(name)
                if required_first:
                    found.extend(required_first)
        if len(found) > 1:
            found = [e for e in found if not e[2] or present.keys() >= e[2]]
            found.sort(key=_position)
        elif found and found[0][2] and not present.keys() >= found[0][2]:
            return []
        return found


def _position(entry: _Entry) -> int:
    return entry[0]


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
        self.enabled = bool(enabled)
        self.strict = bool(strict)
        items = tuple(handlers)
        self._check(items)
        self._snapshot = _Snapshot.build(items)

    @staticmethod
    def _check(handlers: tuple[Handler, ...]) -> None:
        seen: set[str] = set()
        for handler in handlers:
            if not isinstance(handler, Handler):
                raise ConfigurationError(
                    f"HandlerRegistry takes Handler objects, not {type(handler).__name__}"
                )
            if handler.name in seen:
                raise ConfigurationError(
                    f"two handlers are named {handler.name!r}; names are unique"
                )
            seen.add(handler.name)

    # -- changes -------------------------------------------------------------------

    def add(self, handler: Handler, *, position: int | None = None) -> None:
        """Add ``handler`` at the end, or at ``position`` in the order."""
        with self._lock:
            items = list(self._snapshot.handlers)
            items.insert(len(items) if position is None else position, handler)
            new = tuple(items)
            self._check(new)
            self._snapshot = _Snapshot.build(new)

    def remove(self, name: str) -> Handler:
        """Remove the handler named ``name`` and return it.

        Raises:
            KeyError: no handler has that name.
        """
        with self._lock:
            items = self._snapshot.handlers
            for handler in items:
                if handler.name == name:
                    self._snapshot = _Snapshot.build(tuple(h for h in items if h is not handler))
                    return handler
        raise KeyError(name)

    def replace(self, handler: Handler) -> Handler:
        """Swap in ``handler`` for the one with the same name, keeping its place."""
        with self._lock:
            items = list(self._snapshot.handlers)
            for i, old in enumerate(items):
                if old.name == handler.name:
                    items[i] = handler
                    self._snapshot = _Snapshot.build(tuple(items))
                    return old
        raise KeyError(handler.name)

    def get(self, name: str) -> Handler | None:
        return next((h for h in self._snapshot.handlers if h.name == name), None)

    def __iter__(self) -> Iterator[Handler]:
        return iter(self._snapshot.handlers)

    def __len__(self) -> int:
        return len(self._snapshot.handlers)

    def __repr__(self) -> str:
        names = [h.name for h in self._snapshot.handlers]
        return f"HandlerRegistry({names!r}, enabled={self.enabled!r}, strict={self.strict!r})"

    # -- verification --------------------------------------------------------------

    def candidates(self, request: WebhookRequest) -> list[Handler]:
        """The enabled handlers whose required headers are all present, in order."""
        return [entry[1] for entry in self._snapshot.candidates(request.headers.by_name)]

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
        snapshot = self._snapshot
        attempts: list[tuple[str, str]] = []
        errors: list[VerificationError] = []
        found: Match | None = None
        for _, handler, _ in snapshot.candidates(request.headers.by_name):
            try:
                verification = handler.verifier.verify(request, now)
            except VerificationError as exc:
                exc.handler = handler.name
                attempts.append((handler.name, exc.reason))
                errors.append(exc)
                continue
            except Exception as exc:
                logger.exception(
                    "verifier of handler %r raised %s instead of a VerificationError",
                    handler.name,
                    type(exc).__name__,
                    extra={"webhookverify": {"handler": handler.name, "reason": "verifier_error"}},
                )
                error = VerificationError("the verifier failed unexpectedly", handler=handler.name)
                attempts.append((handler.name, "verifier_error"))
                errors.append(error)
                continue
            if found is not None:
                raise AmbiguousMatch(
                    f"handlers {found.handler.name!r} and {handler.name!r} both verified "
                    "the request",
                    handler=handler.name,
                )
            found = _new_match(Match, (handler, verification))
            if not self.strict:
                return found
        if found is not None:
            return found
        if not attempts:
            skipped = [h.name for h in snapshot.handlers if h.enabled][:_MAX_SKIPPED_LISTED]
            attempts = [(name, "missing_header") for name in skipped]
        raise NoHandlerMatched(attempts=attempts, errors=errors)


_new_match = tuple.__new__  # Match(...) without its Python-level __new__, on the hot path
