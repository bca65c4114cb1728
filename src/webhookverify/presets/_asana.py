"""Asana webhooks: a secret handed over in a handshake, then an HMAC of the body.

Creating a webhook (``POST /webhooks``) makes Asana post, before it answers
the API call, a request carrying ``X-Hook-Secret`` and nothing signed; the
endpoint must answer 200 (or 204) with the same ``X-Hook-Secret`` header.
From then on, each delivery carries ``X-Hook-Signature``: the lower-case hex
HMAC-SHA256 of the raw body with that secret.

Anyone can post an ``X-Hook-Secret``: answering every such request would let
anyone choose the secret the application then trusts. So the handshake is
answered only while a registration window the application opens is open
(:meth:`AsanaVerifier.open_registration`, just before it calls ``POST
/webhooks``), and only once per opening; the secret reaches the application
through ``webhook.handshake`` (``HandshakeEvent.secret``), for it to store and
build the handler again with ``presets.asana(secrets=[...])``.

Source: Asana API docs "Webhooks > Establishing a webhook" and "Security"
(https://developers.asana.com/docs/webhooks-guide).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from ..errors import ConfigurationError, NoValidKey
from ..handshake import HandshakeAnswer, handshake_answer
from ..keys import Secret
from ..request import WebhookRequest
from ..types import ReplayMode, Verification
from ..verifiers import HmacVerifier
from ._common import SecretInput, hmac_preset
from ._handshakes import bounded

__all__ = ["MAX_REGISTRATION_WINDOW", "AsanaVerifier", "HookSecret", "asana"]

# Asana posts the handshake while the POST /webhooks call is open: seconds
# after the window opens. An hour is far more than that, and bounds how long
# a forgotten window lets anyone hand over a secret.
MAX_REGISTRATION_WINDOW = 3600.0

_HEADER = "X-Hook-Secret"


class HookSecret:
    """Asana's ``X-Hook-Secret`` handshake (unsigned): echoed in the answer's
    header, and handed to the application, only while a window is open; the
    first answer closes it.
    """

    __slots__ = ("_lock", "_until")

    kind = "asana.hook_secret"
    signed = False
    methods = frozenset({"POST"})

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0  # wall-clock end of the open window; 0: closed

    def open(self, seconds: float, *, now: float | None = None) -> None:
        """Accept one ``X-Hook-Secret`` handshake received within ``seconds``.

        Raises:
            ConfigurationError: ``seconds`` not a positive number of at most
                ``MAX_REGISTRATION_WINDOW``.
        """
        ok = isinstance(seconds, int | float) and not isinstance(seconds, bool)
        if not ok or not 0 < seconds <= MAX_REGISTRATION_WINDOW:
            raise ConfigurationError(
                "presets.asana: open_registration(seconds=...) must be a positive number of at "
                f"most {MAX_REGISTRATION_WINDOW:g}"
            )
        with self._lock:
            self._until = (time.time() if now is None else now) + float(seconds)

    def close(self) -> None:
        """Stop accepting handshakes."""
        with self._lock:
            self._until = 0.0

    @property
    def is_open(self) -> bool:
        return time.time() < self._until

    def answer(
        self, request: WebhookRequest, verification: Verification | None
    ) -> HandshakeAnswer | None:
        if request.method != "POST":
            return None
        secret = bounded(request.headers.get(_HEADER), _HEADER)
        if secret is None:
            return None
        with self._lock:
            if not request.received_at < self._until:
                return None
            self._until = 0.0  # one secret per opening
        return handshake_answer(b"", headers=((_HEADER, secret),), secret=secret)

    def __repr__(self) -> str:
        return f"HookSecret(open={self.is_open!r})"


class AsanaVerifier:
    """Verify Asana's ``X-Hook-Signature``, and answer its handshake.

    Built without a secret (before the handshake has handed one over), it
    refuses every delivery with ``no_valid_key`` and answers only the
    handshake, while a registration window is open.
    """

    __slots__ = ("_inner", "handshake")

    read_event_type = None
    replay_default: ReplayMode = "content"
    replay_window: float | None = None
    required_headers: tuple[str, ...] = ("X-Hook-Signature",)

    _inner: HmacVerifier | None
    handshake: HookSecret

    def __init__(self, inner: HmacVerifier | None) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "handshake", HookSecret())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("AsanaVerifier is immutable; build a new one")

    @property
    def secrets(self) -> tuple[Secret, ...]:
        return () if self._inner is None else self._inner.secrets

    @property
    def scheme(self) -> str:
        return "asana-hmac-sha256"

    def open_registration(self, seconds: float, *, now: float | None = None) -> None:
        """Answer the next ``X-Hook-Secret`` handshake received within
        ``seconds`` (call it just before ``POST /webhooks``); see :class:`HookSecret`."""
        self.handshake.open(seconds, now=now)

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify ``X-Hook-Signature``.

        Raises:
            NoValidKey: no secret yet (the handshake has not handed one over).
            VerificationError: as :class:`~webhookverify.HmacVerifier`.
        """
        if self._inner is None:
            raise NoValidKey(
                "presets.asana has no secret yet: store the X-Hook-Secret of the handshake "
                "and build the handler again with presets.asana(secrets=[...])"
            )
        return self._inner.verify(request, now)

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """``{"X-Hook-Signature": <hex>}`` for ``body`` (tests and the CLI).

        Raises:
            ConfigurationError: no secret to sign with.
        """
        if self._inner is None:
            raise ConfigurationError("presets.asana needs a secret to sign; set secret=")
        return self._inner.sign(body, now, **parts)

    def __repr__(self) -> str:
        return f"AsanaVerifier(secrets=<{len(self.secrets)} hidden>, handshake={self.handshake!r})"


def asana(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> AsanaVerifier:
    """Asana webhooks.

    Secret: none to look up: Asana hands each webhook its own secret in the
    ``X-Hook-Secret`` handshake when the webhook is created. Build the
    handler without one, call ``open_registration(seconds)`` on the verifier
    before ``POST /webhooks``, keep ``HandshakeEvent.secret`` from a
    ``webhook.handshake`` listener and, once ``POST /webhooks`` has
    succeeded (never before: a secret someone else posted first in the
    window makes Asana's own handshake, and so the call, fail), build the
    handler again with ``secrets=[...]`` (one per webhook that shares the
    endpoint).

    Signed: the raw body, HMAC-SHA256, ``X-Hook-Signature: <lower-case
    hex>``. No timestamp is signed.

    Handshake: ``X-Hook-Secret``, unsigned by Asana's protocol: answered only
    within a window the application opens, once per opening.

    Replay id: content hash.

    Source: Asana API docs "Webhooks guide"
    (https://developers.asana.com/docs/webhooks-guide); cross-checked
    against the documented algorithm.
    """
    if secret is None and secrets is None:
        return AsanaVerifier(None)
    inner = hmac_preset(
        "asana", secret=secret, secrets=secrets, header="X-Hook-Signature", encoding="hex_lower"
    )
    return AsanaVerifier(inner)
