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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from .errors import (
    AccessDisabled,
    AmbiguousMatch,
    ConfigurationError,
    NoHandlerMatched,
    VerificationError,
)
from .headers import Headers
from .request import WebhookRequest
from .routing import EventTypeReader
from .types import (
    DEFAULT_REPLAY_MODE,
    DEFAULT_REPLAY_WINDOW,
    ReplayMode,
    Verification,
    Verifier,
)

if TYPE_CHECKING:
    from .handshake import Handshake

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
        handshake: the sender's endpoint check the receiver answers (see
            :mod:`webhookverify.handshake`); default: the verifier's
            ``handshake``, if it has one (a preset whose provider checks the
            endpoint sets it).
        read_event_type: reads a verified delivery's event type (see
            :mod:`webhookverify.routing`); default: the verifier's
            ``read_event_type``, if it has one.

    Attributes:
        replay_mode: the replay mode in force: ``replay``, else the verifier's
            ``replay_default`` (read once, here: verifiers are immutable).
        replay_window: the verifier's ``replay_window`` (read once, here):
            seconds a replay could still pass its timestamp check, ``None``
            when it signs no timestamp.

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
    replay_mode: ReplayMode = field(init=False, repr=False, compare=False)
    replay_window: float | None = field(init=False, repr=False, compare=False)
    handshake: Handshake | None = field(init=False, repr=False, compare=False)
    read_event_type: EventTypeReader | None = field(init=False, repr=False, compare=False)

    def __init__(
        self,
        name: str,
        verifier: Verifier,
        user: str | None = None,
        *,
        enabled: bool = True,
        replay: ReplayMode | None = None,
        replay_ttl: float | None = None,
        handshake: Handshake | None = None,
        read_event_type: EventTypeReader | None = None,
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
        mode = replay or getattr(verifier, "replay_default", DEFAULT_REPLAY_MODE)
        set_(self, "replay_mode", mode if mode in ("id", "content", "off") else DEFAULT_REPLAY_MODE)
        window = getattr(verifier, "replay_window", DEFAULT_REPLAY_WINDOW)
        positive = isinstance(window, int | float) and window > 0
        set_(self, "replay_window", window if positive else None)
        handshake = handshake or getattr(verifier, "handshake", None)
        if handshake is not None and not callable(getattr(handshake, "answer", None)):
            raise ConfigurationError(f"Handler {name!r}: handshake has no answer() method")
        set_(self, "handshake", handshake)
        reader = read_event_type or getattr(verifier, "read_event_type", None)
        if reader is not None and not callable(reader):
            raise ConfigurationError(f"Handler {name!r}: read_event_type must be callable")
        set_(self, "read_event_type", reader)


class Match(NamedTuple):
    """The handler that verified a request, and what it proved (immutable)."""

    handler: Handler
    verification: Verification


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
        awaits = any(h.enabled and hasattr(h.verifier, "averify") for h in handlers)
        return cls(handlers, by_first, tuple(always), awaits)

    def candidates(self, headers: Headers) -> list[_Entry]:
        """The entries whose required headers ``headers`` all carry, in registry order."""
        present = headers.by_name  # every name received, lower-cased
        found = list(self.always)
        if len(self.by_first) <= len(present):
            for name, entries in self.by_first.items():
                if name in present:
                    found.extend(entries)
        else:
            for name in present:
                found.extend(self.by_first.get(name, ()))
        found = [e for e in found if e.others <= present.keys()]
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
        trial = _Trial(self._snapshot, self.strict)
        for entry in trial.snapshot.candidates(request.headers):
            handler = entry.handler
            try:
                verification = handler.verifier.verify(request, now)
            except Exception as exc:  # noqa: BLE001 - kept as the handler's reason, logged
                trial.failed(handler, exc)
                continue
            if trial.passed(handler, verification):
                break
        return trial.result()

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
        trial = _Trial(snapshot, self.strict)
        for entry in snapshot.candidates(request.headers):
            handler = entry.handler
            averify = getattr(handler.verifier, "averify", None)
            try:
                if averify is not None:
                    verification = await averify(request, now)
                else:
                    verification = handler.verifier.verify(request, now)
            except Exception as exc:  # noqa: BLE001 - kept as the handler's reason, logged
                trial.failed(handler, exc)
                continue
            if trial.passed(handler, verification):
                break
        return trial.result()


class _Trial:
    """What the handlers tried on one request said: the first match, and
    each refusal with its reason (for the logs, never for a response)."""

    __slots__ = ("attempts", "errors", "found", "snapshot", "strict")

    def __init__(self, snapshot: _Snapshot, strict: bool) -> None:
        self.snapshot, self.strict = snapshot, strict
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

    def passed(self, handler: Handler, verification: Verification) -> bool:
        """Keep a handler's match; whether the search is over (not ``strict``).

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
        return not self.strict

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
