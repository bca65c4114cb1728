"""A handler: one known sender, how it signs, and who acts on its behalf;
and :class:`Match`, the handler that verified a request with what it proved.
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, NamedTuple, get_args

from ._checks import check_callable, check_flag, check_methods
from .errors import ConfigurationError
from .replay import ID_TTL, MAX_EXPIRY, NO_TIMESTAMP_TTL
from .routing import EventTypeReader
from .types import DEFAULT_REPLAY_MODE, DEFAULT_REPLAY_WINDOW, ReplayMode, Verification, Verifier
from .verifiers.token import TokenVerifier

if TYPE_CHECKING:
    from .handshake import Handshake

__all__ = ["Handler", "Match"]

_MODES = get_args(ReplayMode)  # "id", "content", "off"
_VERIFIER_HINT = "a verifier such as HmacVerifier(...) or presets.github(...)"


@dataclass(frozen=True, slots=True)
class Handler:
    """One known sender: how it signs, and who acts on its behalf.

    Args:
        name: unique within a registry, without dots; used in logs, replay
            keys and event names (``webhook.received.<name>``).
        verifier: any object with ``verify``, ``sign`` and ``required_headers``.
        user: the local principal the delivery acts for (Tiki's handler user).
        enabled: a disabled handler never matches.
        replay: ``"id"``, ``"content"`` or ``"off"``; default: the verifier's
            ``replay_default`` (``id`` where the scheme signs an id, ``content``
            where it signs only the body, ``off`` for tokens, which take no
            other: a token signs nothing to key a replay on).
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
        replay_ttls: seconds a processed delivery's key is kept: ``(for a
            signed delivery id, for any other key)``. Never below
            ``replay_window`` (a replay could pass that long); else
            ``replay_ttl`` when given, else ``ID_TTL`` for an id (senders sign
            each retry again with the same id) and the window for content, or
            ``NO_TIMESTAMP_TTL`` when nothing bounds a replay.

    Raises:
        ConfigurationError: an empty name, a verifier without the protocol's
            methods, an unknown replay mode, or ``id``/``content`` for a
            :class:`~webhookverify.TokenVerifier`.
    """

    name: str
    verifier: Verifier
    user: str | None = None
    _: KW_ONLY
    enabled: bool = True
    replay: ReplayMode | None = None
    replay_ttl: float | None = None
    handshake: Handshake | None = field(default=None, repr=False, compare=False)
    read_event_type: EventTypeReader | None = field(default=None, repr=False, compare=False)
    replay_mode: ReplayMode = field(init=False, repr=False, compare=False)
    replay_window: float | None = field(init=False, repr=False, compare=False)
    replay_ttls: tuple[float, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        name, verifier, replay_ttl = self.name, self.verifier, self.replay_ttl
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError("Handler(name=...) must be a non-empty str")
        if "." in name:
            # webhook.received.<name>.<event type>: a dot would let handler "a"
            # with event type "b" fire the events of a handler named "a.b"
            raise ConfigurationError(
                f"Handler(name={name!r}) must not contain '.': the name is one part of "
                "the event names webhook.received.<name>.<event type>; use '-' or '_'"
            )
        named = f"{name!r}, "  # Handler('github', verifier=...) has no verify() method
        check_methods(verifier, ("verify", "sign"), named + "verifier", "Handler", _VERIFIER_HINT)
        required = getattr(verifier, "required_headers", None)
        if not isinstance(required, tuple) or not all(isinstance(h, str) and h for h in required):
            raise ConfigurationError(
                f"Handler {name!r}: verifier.required_headers must be a tuple of header names"
            )
        if self.replay not in (None, *_MODES):
            raise ConfigurationError(
                f"Handler {name!r}: replay={self.replay!r} is unknown; use 'id', 'content' or 'off'"
            )
        number = isinstance(replay_ttl, int | float) and not isinstance(replay_ttl, bool)
        # refuses nan and inf too: TOML writes both
        if replay_ttl is not None and not (number and 0 < replay_ttl < math.inf):
            raise ConfigurationError(
                f"Handler {name!r}: replay_ttl must be a positive, finite number of seconds"
            )
        check_flag(self.enabled, named + "enabled", "Handler")  # "false" would be true
        if self.user is not None and (not isinstance(self.user, str) or not self.user):
            raise ConfigurationError(f"Handler {name!r}: user must be a non-empty str or None")
        if self.replay in ("id", "content") and isinstance(verifier, TokenVerifier):
            # Replay keys come from signed material only, and a token signs
            # nothing: the setting would silently guard nothing.
            raise ConfigurationError(
                f"Handler {name!r}: replay={self.replay!r} needs signed content to key on, "
                "and a token signs nothing (a replay carries the same token); use replay='off'"
            )
        set_ = object.__setattr__
        mode = self.replay or getattr(verifier, "replay_default", DEFAULT_REPLAY_MODE)
        set_(self, "replay_mode", mode if mode in _MODES else DEFAULT_REPLAY_MODE)
        window = getattr(verifier, "replay_window", DEFAULT_REPLAY_WINDOW)
        floor = float(window) if isinstance(window, int | float) and window > 0 else 0.0
        set_(self, "replay_window", window if floor else None)
        if replay_ttl is not None:
            set_(self, "replay_ttl", float(replay_ttl))
            ttls = (max(floor, float(replay_ttl)),) * 2
        else:
            ttls = (max(floor, ID_TTL), floor or NO_TIMESTAMP_TTL)
        if self.replay_mode != "off" and max(ttls) > MAX_EXPIRY:
            # a replay store refuses such a key: every delivery would answer 503
            cause = "replay_ttl" if ttls[0] == replay_ttl else "the verifier's tolerance"
            raise ConfigurationError(
                f"Handler {name!r}: {cause} would keep replay keys for more than ten years, "
                "longer than a replay store holds one; lower it, or set replay='off'"
            )
        set_(self, "replay_ttls", ttls)
        for setting in ("handshake", "read_event_type"):  # default: the verifier's, if any
            if getattr(self, setting) is None:
                set_(self, setting, getattr(verifier, setting, None))
        if self.handshake is not None:
            check_methods(self.handshake, ("answer",), named + "handshake", "Handler")
        if self.read_event_type is not None:
            check_callable(self.read_event_type, named + "read_event_type", "Handler")


class Match(NamedTuple):
    """The handler that verified a request, and what it proved (immutable)."""

    handler: Handler
    verification: Verification
