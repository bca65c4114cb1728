"""Handshakes: the one-time checks a sender makes of an endpoint, answered by it.

Before Slack, Meta, X, Zoom, Twitch, Dropbox, Okta, Nylas or Asana send a
single event, they ask the endpoint to prove that it is theirs: echo a
challenge, hash a token with the shared secret, hand back a header. A
preset whose provider does this gives its verifier a ``handshake`` (the
:class:`Handshake` protocol); the :class:`~webhookverify.Handler` takes it
from there, and the :class:`~webhookverify.Receiver` answers it, so every
adapter, middleware and framework integration does too.

Two kinds (``Handshake.signed``):

- **signed**: the provider signs the handshake like any event (Slack
  ``url_verification``, Zoom ``endpoint.url_validation``, Twitch
  ``webhook_callback_verification``) or authenticates it (Okta's header).
  It is answered only after the handler's verifier has passed.
- **unsigned**: the provider's protocol has no signature on it (Meta/WebSub
  ``hub.challenge``, X's CRC, Dropbox's and Nylas's ``challenge``, Microsoft
  Graph's ``validationToken``, Asana's ``X-Hook-Secret``). It is tried only
  for a request no handler verified, and only where the provider's protocol
  leaves no other way; each one says what keeps it from being abused (a
  configured ``verify_token``, an HMAC with the secret, a registration window
  the application opens).

A handshake is never dispatched as a delivery and never replay-guarded: it
changes nothing on the receiving side (it echoes what the sender sent, or
that text hashed with the secret), so answering it twice gives an attacker
nothing the first answer did not; Asana's, the one handshake that hands the
application something (a secret), is consumed by the first answer. Each
answered handshake fires ``webhook.handshake`` with a :class:`HandshakeEvent`;
a listener that fails turns the answer into a 500, as for a delivery.

A handshake that does network I/O to complete (SNS's
``SubscriptionConfirmation``, confirmed by a GET of its ``SubscribeURL``)
may also define ``aanswer``, awaited by
:meth:`~webhookverify.Receiver.areceive` instead of ``answer`` so the event
loop never blocks; and it may answer 503 when it cannot complete now: the
request is then refused like one whose key could not be fetched (503 with
``Retry-After``, ``webhook.rejected``; no ``webhook.handshake``), and the
sender retries.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol, runtime_checkable

from . import _outcomes
from .delivery import Outcome
from .errors import InvalidRequest

if TYPE_CHECKING:
    from .registry import Handler
    from .request import WebhookRequest
    from .types import Verification

__all__ = [
    "ANSWER_HEADERS",
    "MAX_CHALLENGE",
    "UNAVAILABLE",
    "Answered",
    "Handshake",
    "HandshakeAnswer",
    "HandshakeEvent",
    "ahandshake_of",
    "challenge_text",
    "handshake_answer",
    "handshake_failed",
    "handshake_of",
    "unsigned_handshake",
]

logger = logging.getLogger("webhookverify")

# The handshake values are short random strings (Zoom's plainToken is 22
# characters, Dropbox's challenge and Okta's about 40-50, X's crc_token a
# UUID); a longer one is not theirs, and echoing it back would only help
# someone probing the endpoint.
MAX_CHALLENGE = 1024

# Sent with every handshake answer: an echoed value is never sniffed as HTML
# (the reason Dropbox asks for nosniff) and never cached by a proxy.
ANSWER_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
)

# The status a handshake answers when it cannot complete now (a confirmation
# its sender's API did not take): the sender retries a 503 (RFC 9110 §15.6.4).
UNAVAILABLE = 503
# What the receiver tells a sender to wait before it retries, unless it is given.
_RETRY_AFTER = 30

_TEXT = "text/plain; charset=utf-8"
_JSON = "application/json"


def challenge_text(value: object, what: str) -> str:
    """``value`` if it is a non-empty printable-ASCII ``str`` of at most
    :data:`MAX_CHALLENGE` characters.

    Raises:
        InvalidRequest: anything else; the message names ``what``.
    """
    if not isinstance(value, str) or not 0 < len(value) <= MAX_CHALLENGE:
        raise InvalidRequest(f"the {what} must be a non-empty string of at most {MAX_CHALLENGE}")
    if not (value.isascii() and value.isprintable()):
        raise InvalidRequest(f"the {what} has characters outside printable ASCII")
    return value


class HandshakeAnswer(NamedTuple):
    """What a :class:`Handshake` answers: the reply, and what the application gets.

    Attributes:
        status: the HTTP status: 200 (answered), or :data:`UNAVAILABLE`
            (503: it could not complete now; the request is refused with the
            receiver's 503 and ``Retry-After``, and no event fires). Any
            status outside 2xx is taken as 503.
        headers: the reply's headers, :data:`ANSWER_HEADERS` included.
        body: the reply's body.
        secret: a secret the sender handed over (Asana's ``X-Hook-Secret``),
            for the application to store; ``None`` otherwise.
        kind: the kind answered, when one handshake answers several (SNS's
            subscription and unsubscribe confirmations); ``None``: the
            handshake's ``kind``.
        detail: what it was about, for the application (SNS: the topic ARN).
        confirm_url: a URL for the application to visit to complete the
            handshake itself (SNS's ``SubscribeURL`` when the preset does
            not confirm), else ``None``.
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    secret: str | None = None
    kind: str | None = None
    detail: str | None = None
    confirm_url: str | None = None


def handshake_answer(
    body: bytes | str,
    *,
    json: bool = False,
    headers: Iterable[tuple[str, str]] = (),
    secret: str | None = None,
) -> HandshakeAnswer:
    """A 200 :class:`HandshakeAnswer` with ``body`` as ``text/plain`` (or
    ``application/json``), the headers of :data:`ANSWER_HEADERS` and ``headers``."""
    raw = body.encode("ascii") if isinstance(body, str) else body
    kind = _JSON if json else _TEXT
    return HandshakeAnswer(200, (("Content-Type", kind), *ANSWER_HEADERS, *headers), raw, secret)


@runtime_checkable
class Handshake(Protocol):
    """A sender's endpoint check, as a preset defines it.

    Attributes:
        kind: what it is called, for logs and the event
            (``slack.url_verification``, ``x.crc``, ``asana.hook_secret``).
        signed: whether it is answered only after the verifier has passed
            (``True``), or also for a request no handler verified (``False``:
            the provider's protocol signs nothing on it).
        methods: the HTTP methods it comes with (``GET`` for a query
            challenge): a :class:`~webhookverify.wsgi.WebhookApp` lets them
            through for a handler that has it, and refuses them with 405
            otherwise.
    """

    @property
    def kind(self) -> str: ...

    @property
    def signed(self) -> bool: ...

    @property
    def methods(self) -> frozenset[str]: ...

    def answer(
        self, request: WebhookRequest, verification: Verification | None
    ) -> HandshakeAnswer | None:
        """The answer if ``request`` is this handshake, else ``None`` (a delivery,
        or a handshake whose token is wrong: never echoed).

        Args:
            request: the request.
            verification: what the handler's verifier proved, or ``None``
                for a request no handler verified (only an unsigned
                handshake is asked then).

        Never raises for a request: a malformed challenge is ``None``. (One
        that raises answers nothing: a request no handler verified is
        refused; a verified one is answered 503, never dispatched.)

        A handshake may also define ``async def aanswer(request,
        verification)`` with the same contract: :meth:`Receiver.areceive
        <webhookverify.Receiver.areceive>` awaits it instead (for a
        handshake that fetches something, without blocking the event loop).
        """
        ...


@dataclass(frozen=True, slots=True)
class HandshakeEvent:
    """The payload of ``webhook.handshake``: a handshake the endpoint answered.

    Attributes:
        handler: the :class:`~webhookverify.Handler` whose handshake it was.
        kind: the handshake's ``kind`` (``x.crc``, ``asana.hook_secret``, ...).
        signed: whether the request was verified before it was answered.
        request: the request (not in ``repr``: Meta's URL carries the verify token).
        secret: what the sender handed over to keep (Asana's ``X-Hook-Secret``:
            store it and build the handler again with it), else ``None``.
            Never in ``repr``.
        detail: what the handshake was about (SNS: the topic ARN), else ``None``.
        confirm_url: the URL to visit to complete the handshake, when the
            application does it itself (SNS's ``SubscribeURL`` with
            ``confirm_subscriptions=False``), else ``None``. Never in ``repr``
            (it carries the sender's token).
    """

    handler: Handler
    kind: str
    signed: bool
    request: WebhookRequest = field(repr=False)
    secret: str | None = field(default=None, repr=False)
    detail: str | None = None
    confirm_url: str | None = field(default=None, repr=False)


class Answered(NamedTuple):
    """A handshake the receiver answers: the event to fire, and the answer."""

    event: HandshakeEvent
    answer: HandshakeAnswer

    def outcome(self) -> Outcome:
        """The answer as the receiver's :class:`~webhookverify.Outcome` (logged)."""
        event = self.event
        if logger.isEnabledFor(logging.INFO):
            fields = {"handler": event.handler.name, "reason": "handshake", "kind": event.kind}
            if event.detail is not None:
                fields["detail"] = event.detail
            logger.info("answered the %s handshake", event.kind, extra={"webhookverify": fields})
        answer = self.answer
        return Outcome(answer.status, answer.headers, answer.body, reason="handshake")


def handshake_of(
    handler: Handler,
    request: WebhookRequest,
    verification: Verification | None,
    retry_after: int = _RETRY_AFTER,
) -> Answered | Outcome | None:
    """Ask ``handler``'s handshake about ``request``: its event and answer,
    ``None`` (not a handshake), or the 503 refusal of one that could not
    complete now (``Retry-After: retry_after``)."""
    handshake = handler.handshake
    if handshake is None or (verification is None and handshake.signed):
        return None
    try:
        answer = handshake.answer(request, verification)
    except Exception:  # noqa: BLE001 - a handshake of the user's own that failed: logged
        answer = _raised(handler, verification)
    return _answered(handler, request, verification, answer, retry_after)


async def ahandshake_of(
    handler: Handler,
    request: WebhookRequest,
    verification: Verification | None,
    retry_after: int = _RETRY_AFTER,
) -> Answered | Outcome | None:
    """:func:`handshake_of`, awaiting the handshake's ``aanswer`` when it has one."""
    handshake = handler.handshake
    if handshake is None or (verification is None and handshake.signed):
        return None
    aanswer = getattr(handshake, "aanswer", None)
    if aanswer is None:
        return handshake_of(handler, request, verification, retry_after)
    try:
        answer = await aanswer(request, verification)
    except Exception:  # noqa: BLE001 - a handshake of the user's own that failed: logged
        answer = _raised(handler, verification)
    return _answered(handler, request, verification, answer, retry_after)


def _raised(handler: Handler, verification: Verification | None) -> HandshakeAnswer | None:
    """What a handshake that raised answers (logged with the traceback): for a
    verified request, 503 (it may be a handshake: never dispatched as a
    delivery, and the sender retries); for one no handler verified, ``None``
    (the request is refused)."""
    logger.exception("the handshake of handler %r raised; not answered", handler.name)
    return None if verification is None else HandshakeAnswer(UNAVAILABLE, (), b"")


def _answered(
    handler: Handler,
    request: WebhookRequest,
    verification: Verification | None,
    answer: HandshakeAnswer | None,
    retry_after: int,
) -> Answered | Outcome | None:
    """The event and answer of ``answer``; a 503 refusal for one that is not 2xx."""
    if answer is None:
        return None
    handshake = handler.handshake
    kind = answer.kind or (handshake.kind if handshake is not None else "")
    if not 200 <= answer.status < 300:
        # not answered: refused like a key that could not be fetched, so the sender retries
        reason = "handshake_unavailable"
        attempts = ((handler.name, reason),)
        return _outcomes.reject(request, UNAVAILABLE, reason, retry_after, attempts=attempts)
    signed = verification is not None
    event = HandshakeEvent(
        handler, kind, signed, request, answer.secret, answer.detail, answer.confirm_url
    )
    return Answered(event, answer)


def unsigned_handshake(
    handlers: Iterable[Handler], request: WebhookRequest
) -> Answered | Outcome | None:
    """The first enabled handler's unsigned handshake that answers ``request``
    (one no handler verified), in registry order; ``None`` if none does."""
    for handler in handlers:
        handshake = handler.handshake
        if handshake is not None and not handshake.signed and handler.enabled:
            found = handshake_of(handler, request, None)
            if found is not None:
                return found
    return None


def handshake_failed(exc: Exception) -> Outcome:
    """500 instead of a handshake's answer: a listener of ``webhook.handshake``
    raised (for Asana, the secret may not be stored: the sender must not
    believe the registration worked)."""
    logger.error(
        "a listener of webhook.handshake failed; answering 500 instead of the handshake",
        exc_info=exc,
        extra={"webhookverify": {"reason": "handshake_failed"}},
    )
    return Outcome(500, _outcomes.TEXT, _outcomes.BODIES[500], reason="handshake_failed")
