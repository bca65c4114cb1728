"""The error tree.

Every error the library raises derives from :class:`WebhookError`. Errors
about a *request* derive from :class:`VerificationError` and carry a stable
``reason`` code that logs, metrics and tests can rely on; errors about the
*configuration* are :class:`ConfigurationError` and are raised when the
configuration is built, never while a request is being served.

Messages name the setting to check, never its value: no secret, no expected
signature and no received signature ever appears in a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

__all__ = [
    "AccessDisabled",
    "AmbiguousMatch",
    "BodyOverLimit",
    "BodyTooLarge",
    "ConfigurationError",
    "DeliveryDeclined",
    "DuplicateHeader",
    "InvalidRequest",
    "KeyUnavailable",
    "MalformedBody",
    "MalformedHeader",
    "MalformedSignature",
    "MalformedTimestamp",
    "MissingDelivery",
    "MissingHeader",
    "NoHandlerMatched",
    "NoValidKey",
    "PayloadError",
    "ReplayStoreUnavailable",
    "SignatureMismatch",
    "TimestampInFuture",
    "TimestampOutsideTolerance",
    "TimestampTooOld",
    "UnsupportedSignatureVersion",
    "VerificationError",
    "WebhookError",
]


class WebhookError(Exception):
    """Base of every error raised by webhookverify."""


class ConfigurationError(WebhookError, ValueError):
    """The configuration is wrong: raised when it is built, not per request.

    Attributes:
        remedy: the fix, when it lies outside the configuration itself (an
            environment variable to set: ``export NAME=...``); else ``None``,
            and the message names the setting to change.
    """

    def __init__(self, message: str, *, remedy: str | None = None) -> None:
        super().__init__(message)
        self.remedy = remedy


class InvalidRequest(WebhookError, ValueError):
    """A :class:`~webhookverify.WebhookRequest` could not be built from what was given.

    Raised for a parsed body where raw bytes are needed, a ``str`` body without
    an encoding, or a header name or value that HTTP does not allow.
    """


class PayloadError(WebhookError, ValueError):
    """A verified body could not be decoded as asked (``Delivery.json()``)."""


class ReplayStoreUnavailable(WebhookError):
    """The replay store could not be reached; the receiver fails closed (503)."""


class DeliveryDeclined(WebhookError):
    """A listener did not process a verified delivery, and did not crash either.

    Raise it from a listener of ``webhook.received`` to have the sender retry
    later: the receiver releases the delivery key (so the retry is processed,
    not taken for a replay), answers 500, and logs the decline at warning
    level, without a traceback. The middlewares raise it when the wrapped app
    answers anything but 2xx, and then send the app's own answer.

    Attributes:
        reason: ``"declined"``.
        status: the HTTP status the wrapped app answered, if there was one.
    """

    reason: ClassVar[str] = "declined"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class VerificationError(WebhookError):
    """A request did not pass verification.

    Attributes:
        reason: a stable, machine-readable code (``signature_mismatch``, ...).
        header: the header involved, when there is one.
        handler: the handler's name, filled in by the registry.
    """

    reason: ClassVar[str] = "verification_failed"
    default_message: ClassVar[str] = "the request did not pass verification"

    def __init__(
        self, message: str | None = None, *, header: str | None = None, handler: str | None = None
    ) -> None:
        self.header = header
        self.handler = handler
        super().__init__(message or self.default_message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reason={self.reason!r}, message={str(self)!r})"


class MissingDelivery(VerificationError):
    """A view that needs a verified delivery was reached without one.

    Raised by ``wsgi.require_delivery`` and ``asgi.require_delivery``: no
    ``WebhookMiddleware`` verified this request, because none guards the
    route it reached (a different path, or no middleware at all). The view
    must not act on such a request.
    """

    reason = "missing_delivery"
    default_message = (
        "this view needs a verified webhook delivery and the request has none; "
        "mount WebhookMiddleware with path=... matching this route"
    )


class MissingHeader(VerificationError):
    reason = "missing_header"
    default_message = "a header the verifier needs is missing"


class DuplicateHeader(VerificationError):
    reason = "duplicate_header"
    default_message = "a header the verifier reads appears more than once"


class MalformedHeader(VerificationError):
    reason = "malformed_header"
    default_message = "a header the verifier reads is malformed"


class MalformedSignature(VerificationError):
    reason = "malformed_signature"
    default_message = "the signature could not be decoded"


class UnsupportedSignatureVersion(VerificationError):
    reason = "unsupported_signature_version"
    default_message = "the signature header holds no signature of a version this verifier accepts"


class SignatureMismatch(VerificationError):
    reason = "signature_mismatch"
    default_message = "the signature does not match the request"


class MalformedTimestamp(VerificationError):
    reason = "malformed_timestamp"
    default_message = "the signed timestamp is not a valid timestamp"


class TimestampOutsideTolerance(VerificationError):
    """The signed timestamp is outside the window the verifier accepts.

    The numbers behind the refusal are kept for ``webhookverify explain`` and
    for logs (a timestamp is not secret); each is ``None`` when the verifier
    did not give it.

    Attributes:
        timestamp: the request's signed time, in unix seconds.
        now: the time it was judged at, in unix seconds.
        tolerance: the seconds allowed in that direction (``tolerance`` for a
            past timestamp, ``future_tolerance`` for a future one).
    """

    reason = "timestamp_outside_tolerance"
    default_message = "the signed timestamp is outside the tolerance"

    def __init__(
        self,
        message: str | None = None,
        *,
        header: str | None = None,
        handler: str | None = None,
        timestamp: float | None = None,
        now: float | None = None,
        tolerance: float | None = None,
    ) -> None:
        super().__init__(message, header=header, handler=handler)
        self.timestamp, self.now, self.tolerance = timestamp, now, tolerance


class TimestampTooOld(TimestampOutsideTolerance):
    reason = "timestamp_too_old"
    default_message = "the signed timestamp is older than the tolerance allows"


class TimestampInFuture(TimestampOutsideTolerance):
    reason = "timestamp_in_future"
    default_message = "the signed timestamp is further in the future than the tolerance allows"


class NoValidKey(VerificationError):
    reason = "no_valid_key"
    default_message = (
        "no configured secret or key is valid at this time (check not_before/not_after)"
    )


class KeyUnavailable(VerificationError):
    """The sender's published key could not be fetched (unreachable, too slow,
    an answer too large or not a key, or fetched too recently to try again).

    Not a verdict on the request: the receiver answers 503 with
    ``Retry-After`` when no handler verified a request and one of them could
    not get its key, so the sender retries once the key can be had (fail
    closed, never open).
    """

    reason = "key_unavailable"
    default_message = "the sender's published key could not be fetched; the sender should retry"


class MalformedBody(VerificationError):
    reason = "malformed_body"
    default_message = "the body is not in the form the scheme signs"


class BodyOverLimit(MalformedBody):
    """The body holds more parts than a scheme reads before its signature is known.

    Raised while the signed message is still being derived from the body (form
    fields, multipart parts), before any signature is checked, so that a
    request with a wrong signature costs little whatever its shape.

    Attributes:
        limit: the name of the constant that was exceeded (``MAX_FORM_FIELDS``, ...).
    """

    reason = "body_over_limit"
    default_message = "the body has more parts than the scheme reads before verifying"

    def __init__(
        self,
        message: str | None = None,
        *,
        limit: str,
        header: str | None = None,
        handler: str | None = None,
    ) -> None:
        super().__init__(message, header=header, handler=handler)
        self.limit = limit


class BodyTooLarge(VerificationError):
    reason = "body_too_large"
    default_message = "the body is larger than max_body_size"


class AccessDisabled(VerificationError):
    reason = "access_disabled"
    default_message = "webhook access is switched off (HandlerRegistry.enabled)"


class AmbiguousMatch(VerificationError):
    """Two or more handlers verified the request and the registry is strict."""

    reason = "ambiguous_match"
    default_message = (
        "more than one webhook handler verified the request (HandlerRegistry strict=True)"
    )


class NoHandlerMatched(VerificationError):
    """No enabled handler verified the request.

    Attributes:
        attempts: ``(handler name, reason code)`` for every handler tried, in
            order; handlers skipped because a required header was absent are
            listed with ``missing_header``. For logs and the
            ``webhook.rejected`` event, never for the HTTP response.
        errors: the :class:`VerificationError` of each attempt, in order.
    """

    reason = "no_handler_matched"
    default_message = "no webhook handler verified the request"

    def __init__(
        self,
        message: str | None = None,
        *,
        attempts: Sequence[tuple[str, str]] = (),
        errors: Sequence[VerificationError] = (),
    ) -> None:
        super().__init__(message)
        self.attempts: tuple[tuple[str, str], ...] = tuple(attempts)
        self.errors: tuple[VerificationError, ...] = tuple(errors)
