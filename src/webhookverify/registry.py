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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class _Entry:
    """An enabled handler, where it stands in the registry, and the headers it requires."""

    position: int
    handler: Handler
    others: frozenset[str]  # the required headers after the first, lower-cased


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """An immutable view of the registry, swapped in whole on every change.

    Enabled handlers are filed by their first required header, lower-cased,
    so that finding the candidates for a request looks up each such header
    once, or each of the request's headers once, whichever are fewer: a
    thousand handlers cost about what the few real candidates cost.
    """

    handlers: tuple[Handler, ...]
    by_first: dict[str, list[_Entry]]
    always: tuple[_Entry, ...]  # enabled handlers that require no header
    awaits: bool  # an enabled handler's verifier has averify (it fetches keys)
    # the enabled handlers whose handshake is unsigned (tried on a request none
    # verified), and the methods the enabled handlers' handshakes come with
    unsigned: tuple[Handler, ...]
    handshake_methods: frozenset[str]

    @classmethod
    def build(cls, handlers: tuple[Handler, ...]) -> _Snapshot:
        by_first: dict[str, list[_Entry]] = {}
        always: list[_Entry] = []
        for position, handler in enumerate(handlers):
            if not handler.enabled:
                continue
            required = handler.verifier.required_headers
            entry = _Entry(position, handler, frozenset(name.lower() for name in required[1:]))
            if required:
                by_first.setdefault(required[0].lower(), []).append(entry)
            else:
                always.append(entry)
        enabled = [h for h in handlers if h.enabled]
        awaits = any(hasattr(h.verifier, "averify") for h in enabled)
        shakes = [(h, h.handshake) for h in enabled if h.handshake is not None]
        unsigned = tuple(h for h, handshake in shakes if not handshake.signed)
        methods = frozenset(m for _, handshake in shakes for m in handshake.methods)
        return cls(handlers, by_first, tuple(always), awaits, unsigned, methods)

    def candidates(self, headers: Headers) -> list[_Entry]:
        """The entries whose required headers ``headers`` all carry, in registry order."""
        present = headers.by_name  # every name received, lower-cased
        names = present.keys()
        by_first = self.by_first
        if len(by_first) <= len(present):
            found = [
                e for n, es in by_first.items() if n in present for e in es if e.others <= names
            ]
        else:
            found = [e for n in present for e in by_first.get(n, ()) if e.others <= names]
        if self.always:
            found.extend(self.always)
        if len(found) > 1:
            found.sort(key=lambda entry: entry.position)
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
        items = check_list(handlers, "handlers", "HandlerRegistry")
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
        if position is not None and (isinstance(position, bool) or not isinstance(position, int)):
            raise ConfigurationError("HandlerRegistry.add(position=...) must be an int or None")
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
        self._check((handler,))
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

    # -- verification --------------------------------------------------------------

    def candidates(self, request: WebhookRequest) -> list[Handler]:
        """The enabled handlers whose required headers are all present, in order."""
        return [entry.handler for entry in self._snapshot.candidates(request.headers)]

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
        snapshot, trial = self._snapshot, None  # a _Trial once a handler refuses (or strict)
        for entry in snapshot.candidates(request.headers):
            handler = entry.handler
            try:
                verification = handler.verifier.verify(request, now)
            except Exception as exc:  # noqa: BLE001 - kept as the handler's reason, logged
                trial = trial or _Trial(snapshot)
                trial.failed(handler, exc)
                continue
            if not self.strict:
                return Match(handler, verification)
            trial = trial or _Trial(snapshot)
            trial.passed(handler, verification)
        return (trial or _Trial(snapshot)).result()

    async def averify(self, request: WebhookRequest, now: float | None = None) -> Match:
        """:meth:`verify` for async receivers: a verifier's ``averify`` is
        awaited where it has one (a verifier that fetches its key does, so the
        event loop never blocks on a fetch), its ``verify`` called otherwise.

        Raises:
            AccessDisabled, NoHandlerMatched, AmbiguousMatch: as :meth:`verify`.
        """
        snapshot = self._snapshot
        if not snapshot.awaits:
            return self.verify(request, now)
        if not self.enabled:
            raise AccessDisabled()
        trial = None  # as in verify: a _Trial once a handler refuses (or strict)
        for entry in snapshot.candidates(request.headers):
            handler = entry.handler
            averify = getattr(handler.verifier, "averify", None)
            try:
                if averify is not None:
                    verification = await averify(request, now)
                else:
                    verification = handler.verifier.verify(request, now)
            except Exception as exc:  # noqa: BLE001 - kept as the handler's reason, logged
                trial = trial or _Trial(snapshot)
                trial.failed(handler, exc)
                continue
            if not self.strict:
                return Match(handler, verification)
            trial = trial or _Trial(snapshot)
            trial.passed(handler, verification)
        return (trial or _Trial(snapshot)).result()


class _Trial:
    """What the handlers tried on one request said: the first match, and
    each refusal with its reason (for the logs, never for a response)."""

    __slots__ = ("attempts", "errors", "found", "snapshot")

    def __init__(self, snapshot: _Snapshot) -> None:
        self.snapshot = snapshot
        self.attempts: list[tuple[str, str]] = []
        self.errors: list[VerificationError] = []
        self.found: Match | None = None

    def failed(self, handler: Handler, exc: Exception) -> None:
        """Keep a handler's refusal; a verifier that raised anything but a
        ``VerificationError`` is logged with its traceback and refuses."""
        reason = "verifier_error"
        if isinstance(exc, VerificationError):
            reason = exc.reason
        else:
            logger.error(
                "verifier of handler %r raised %s instead of a VerificationError",
                handler.name,
                type(exc).__name__,
                exc_info=exc,
                extra={"webhookverify": {"handler": handler.name, "reason": reason}},
            )
            exc = VerificationError("the verifier failed unexpectedly")
        exc.handler = handler.name
        self.attempts.append((handler.name, reason))
        self.errors.append(exc)

    def passed(self, handler: Handler, verification: Verification) -> None:
        """Keep a handler's match (``strict``: the search goes on).

        Raises:
            AmbiguousMatch: ``strict`` and another handler matched before.
        """
        if self.found is not None:
            raise AmbiguousMatch(
                f"handlers {self.found.handler.name!r} and {handler.name!r} both verified "
                "the request",
                handler=handler.name,
            )
        self.found = Match(handler, verification)

    def result(self) -> Match:
        """The match. Raises: NoHandlerMatched: none (when no handler was even
        a candidate, the enabled ones are listed as ``missing_header``)."""
        if self.found is not None:
            return self.found
        attempts = self.attempts
        if not attempts:
            enabled = [h.name for h in self.snapshot.handlers if h.enabled]
            attempts = [(name, "missing_header") for name in enabled[:_MAX_SKIPPED_LISTED]]
        raise NoHandlerMatched(attempts=attempts, errors=self.errors)
