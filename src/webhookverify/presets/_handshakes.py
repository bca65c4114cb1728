"""Answers to the one-time checks some senders make of an endpoint before they
deliver anything: Zoom's ``endpoint.url_validation``, Dropbox's ``challenge``
and Okta's verification challenge.

Helpers, not verifiers: the application verifies the request with the
sender's preset where the check is signed (Zoom) or authenticated (Okta),
then sends back what the helper returns. Every echoed value is bounded and
printable ASCII.
"""

from __future__ import annotations

import hmac as _hmac

from ..errors import InvalidRequest, MalformedBody
from ..keys import to_secrets
from ._common import SecretInput, owner_of

__all__ = ["dropbox_challenge", "okta_verification", "zoom_url_validation"]

# The handshake values are short random strings (Zoom's plainToken is 22
# characters, Dropbox's challenge and Okta's about 40-50); a longer one is not
# theirs, and echoing it back would only help someone probing the endpoint.
MAX_CHALLENGE = 1024


def _challenge_text(value: object, what: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_CHALLENGE:
        raise InvalidRequest(f"the {what} must be a non-empty string of at most {MAX_CHALLENGE}")
    if not (value.isascii() and value.isprintable()):
        raise InvalidRequest(f"the {what} has characters outside printable ASCII")
    return value


def zoom_url_validation(plain_token: str, *, secret: SecretInput) -> dict[str, str]:
    """Answer Zoom's ``endpoint.url_validation`` challenge.

    Zoom posts ``{"event": "endpoint.url_validation", "payload": {"plainToken":
    ...}}`` (signed like any event: verify it with :func:`zoom` first) and
    expects, within three seconds, a 200 with this JSON body.

    Args:
        plain_token: ``payload.plainToken`` from the request body.
        secret: the app's Secret Token (the one :func:`zoom` verifies with).

    Returns:
        ``{"plainToken": plain_token, "encryptedToken": <lower-case hex
        HMAC-SHA256 of plain_token>}``, to send as JSON.

    Raises:
        MalformedBody: ``plain_token`` is not a short printable ASCII string.
        ConfigurationError: an empty secret.
    """
    try:
        token = _challenge_text(plain_token, "plainToken")
    except InvalidRequest as exc:
        raise MalformedBody(str(exc)) from None
    key = to_secrets(secret, None, owner=owner_of("zoom_url_validation"))[0].value
    encrypted = _hmac.new(key, token.encode("ascii"), "sha256").hexdigest()
    return {"plainToken": token, "encryptedToken": encrypted}


def dropbox_challenge(challenge: str) -> tuple[bytes, dict[str, str]]:
    """Answer Dropbox's GET verification request (``?challenge=...``).

    Dropbox asks the endpoint to echo the ``challenge`` query parameter. The
    answer is sent as ``text/plain`` with ``X-Content-Type-Options: nosniff``,
    as Dropbox recommends, so the echoed text can never be read as HTML.

    Returns:
        ``(body, headers)`` for a 200 response.

    Raises:
        InvalidRequest: a missing, overlong or non-printable challenge.
    """
    text = _challenge_text(challenge, "Dropbox challenge")
    headers = {"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}
    return text.encode("ascii"), headers


def okta_verification(challenge: str) -> dict[str, str]:
    """Answer Okta's one-time event hook verification.

    Okta sends a GET with ``X-Okta-Verification-Challenge`` (and the
    configured authentication header: verify it with :func:`okta` first) and
    expects ``{"verification": <that value>}`` as JSON.

    Raises:
        InvalidRequest: a missing, overlong or non-printable challenge.
    """
    return {"verification": _challenge_text(challenge, "X-Okta-Verification-Challenge")}
