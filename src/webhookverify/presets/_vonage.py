"""Vonage signed webhooks (Messages and Dispatch APIs): a JWT (HS256) in
``Authorization`` whose ``payload_hash`` claim is the SHA-256 of the body.

The token is signed with the account's signature secret; its claims hold
``iat``, ``jti`` (unique per request), ``iss``, ``api_key``,
``application_id`` and ``payload_hash``, the lower-case hex SHA-256 of the
body. The body is therefore bound through the hash, and the token itself
through an HMAC-SHA256, checked as RFC 7519 says with the algorithm pinned to
HS256 before anything else is decoded.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterable
from typing import Any, Final

from ..errors import (
    MalformedHeader,
    SignatureMismatch,
    TimestampInFuture,
    TimestampTooOld,
)
from ..keyfetch.jws import numeric_date
from ..request import WebhookRequest
from ..verifiers._base import (
    DEFAULT_TOLERANCE,
    ReplayMode,
    Verification,
    constant_time_equal,
)
from ._common import HmacBased, SecretInput, check_windows, hmac_preset
from ._jwt import HS256_HEADER, bearer_hs256, encode_segment

__all__ = ["VONAGE_TOLERANCE", "VonageVerifier", "vonage"]

HEADER: Final = "Authorization"
# Vonage's token holds seven short claims; a JWT this long is not Vonage's
# and is refused before any decoding.
_MAX_TOKEN: Final = 4096
# Vonage documents no window for iat on these webhooks: the library's five
# minutes, both ways (its Contact Center webhooks expire theirs after five).
VONAGE_TOLERANCE = DEFAULT_TOLERANCE
# jti is a UUID; anything much longer is not Vonage's.
_MAX_JTI: Final = 128
_SIGNATURE_SEGMENT: Final = "Authorization.signature"


class VonageVerifier(HmacBased):
    """Verify a Vonage signed webhook's ``Authorization`` JWT and its payload hash.

    The algorithm is pinned to HS256: a token naming any other ``alg``
    (``none`` included), or a ``crit`` parameter, is refused before its
    signature is looked at. After the HMAC: ``iat`` must lie within the
    window, ``exp`` (if sent) must not have passed, ``jti`` must be a short
    string, and ``payload_hash`` must equal the body's SHA-256 (compared in
    constant time).

    Args:
        secret: the signature secret(s), oldest first.
        secrets: several, for a rotation, instead of ``secret``.
        tolerance: how old ``iat`` may be, in seconds.
        future_tolerance: how far ahead of the clock it may be.

    Raises:
        ConfigurationError: no secret, or a negative tolerance.
    """

    __slots__ = ("future_tolerance", "tolerance")

    tolerance: float | None
    future_tolerance: float | None

    def __init__(
        self,
        *,
        secret: SecretInput | None = None,
        secrets: Iterable[SecretInput] | None = None,
        tolerance: float | None = VONAGE_TOLERANCE,
        future_tolerance: float | None = None,
    ) -> None:
        inner = hmac_preset(
            "vonage",
            secret=secret,
            secrets=secrets,
            header=_SIGNATURE_SEGMENT,
            encoding="base64url",
            mechanism="jwt-hs256",
        )
        past, ahead = check_windows("vonage", tolerance, future_tolerance)
        super().__init__(inner)
        object.__setattr__(self, "tolerance", past)
        object.__setattr__(self, "future_tolerance", past if ahead is None else ahead)

    @property
    def required_headers(self) -> tuple[str, ...]:
        return (HEADER,)

    @property
    def replay_default(self) -> ReplayMode:
        return "id"  # jti: signed, one per request

    @property
    def replay_window(self) -> float | None:
        return self.tolerance

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify the token, its claims, then the body against ``payload_hash``.

        Returns:
            the :class:`Verification`: ``timestamp`` is ``iat``,
            ``delivery_id`` the signed ``jti``.

        Raises:
            MalformedHeader: not a compact JWT of three base64url JSON parts,
                a time claim that is not a number, or no usable ``jti``.
            UnsupportedSignatureVersion: ``alg`` is not HS256, or ``crit`` is set.
            SignatureMismatch: wrong key, or a body whose hash is not the
                signed one (or no ``payload_hash``).
            TimestampTooOld / TimestampInFuture: ``iat`` missing or outside
                the window, or ``exp`` passed.
        """
        if now is None:
            now = request.received_at
        verification, claims, _ = bearer_hs256(
            request,
            self._inner,
            now,
            header=HEADER,
            max_length=_MAX_TOKEN,
            sender="Vonage",
            key_name="signature secret",
        )
        issued = self._check_times(claims, now)
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 0 < len(jti) <= _MAX_JTI:
            raise MalformedHeader(f"the JWT in {HEADER} has no usable jti claim", header=HEADER)
        claimed = claims.get("payload_hash")
        digest = hashlib.sha256(request.body).hexdigest().encode("ascii")
        if not isinstance(claimed, str):
            raise SignatureMismatch(
                f"the JWT in {HEADER} has no payload_hash: it does not sign the body",
                header=HEADER,
            )
        if not constant_time_equal(claimed.lower().encode("utf-8"), digest):
            raise SignatureMismatch(
                f"the body does not match the payload_hash signed in {HEADER}", header=HEADER
            )
        return verification._replace(
            timestamp=issued, delivery_id=jti, signed=(*verification.signed, request.body)
        )

    def _check_times(self, claims: dict[str, Any], now: float) -> float:
        # RFC 7519 §4.1.6 (iat) held to the window; §4.1.4 (exp) if sent.
        issued = numeric_date(claims, "iat", HEADER)
        if issued is None:
            raise TimestampTooOld(f"the JWT in {HEADER} has no iat claim", header=HEADER)
        if self.tolerance is not None and now - issued > self.tolerance:
            raise TimestampTooOld(f"the JWT in {HEADER} was issued too long ago", header=HEADER)
        if self.future_tolerance is not None and issued - now > self.future_tolerance:
            raise TimestampInFuture(
                f"the JWT in {HEADER} was issued in the future; check both clocks",
                header=HEADER,
            )
        expires = numeric_date(claims, "exp", HEADER)
        if expires is not None and now >= expires:
            raise TimestampTooOld(f"the JWT in {HEADER} has expired (exp)", header=HEADER)
        return issued

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Return the ``Authorization`` header Vonage would send for ``body``.

        The claims are ``iat`` (``now``), ``jti`` (``parts["id"]``, default a
        new UUID), ``iss`` ``Vonage``, ``payload_hash``, and ``api_key`` and
        ``application_id`` from ``parts`` (default empty).

        Raises:
            NoValidKey: no secret is valid at ``now``.
        """
        moment = time.time() if now is None else now
        claims: dict[str, object] = {
            "iat": int(moment),
            "jti": parts.get("id") or str(uuid.uuid4()),
            "iss": "Vonage",
            "payload_hash": hashlib.sha256(body).hexdigest(),
            "api_key": parts.get("api_key", ""),
            "application_id": parts.get("application_id", ""),
        }
        head, payload = encode_segment(HS256_HEADER), encode_segment(claims)
        signing_input = f"{head}.{payload}".encode("ascii")
        signature = self._inner.sign(signing_input, moment)[_SIGNATURE_SEGMENT]
        return {HEADER: f"Bearer {head}.{payload}.{signature}"}

    def __repr__(self) -> str:
        return f"VonageVerifier(tolerance={self.tolerance!r}, secrets=<{len(self.secrets)} hidden>)"


def vonage(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    tolerance: float | None = VONAGE_TOLERANCE,
    future_tolerance: float | None = None,
) -> VonageVerifier:
    """Vonage signed webhooks: Messages and Dispatch API inbound messages and
    status updates.

    Secret: the account's *signature secret* (*Dashboard > API Settings >
    Signed webhooks*), the one paired with the ``api_key`` in the token's
    claims; with several accounts, configure one handler each. The
    *signature method* there does not apply: these webhooks are always
    HS256.

    Signed: ``Authorization: Bearer <JWT>``, HS256, whose ``payload_hash``
    claim is the lower-case hex SHA-256 of the raw body. The algorithm is
    pinned to HS256, the HMAC checked, then ``iat`` against the window (the
    library's five minutes; Vonage names none), then the body's hash in
    constant time: Vonage calls that last check optional; here it is always
    made. Vonage may, on an internal error, send a callback unsigned: it is
    refused, and a 5xx makes Vonage retry it signed. Voice API callbacks
    sent as GET (the hash then covers re-serialised query parameters) are
    not covered.

    Replay id: the signed ``jti``, unique per request.

    Source: Vonage docs "Messages API > Signed webhooks"
    (https://developer.vonage.com/en/messages/concepts/signed-webhooks) and
    Vonage/vonage-python-sdk ``jwt/src/vonage_jwt/verify_jwt.py``
    (``verify_signature``: PyJWT ``decode`` with HS256), used as the oracle
    and whose test token (``jwt/tests/test_verify_jwt.py``) the tests use.

    Args:
        secret: the signature secret, as text or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        tolerance: seconds ``iat`` may lie in the past; ``None`` turns the
            check off (by name only).
        future_tolerance: seconds it may lie ahead of this clock (default:
            ``tolerance``).

    Returns:
        A ``VonageVerifier``.

    Raises:
        ConfigurationError: a missing or empty secret, or a negative or
            non-numeric tolerance.
    """
    return VonageVerifier(
        secret=secret, secrets=secrets, tolerance=tolerance, future_tolerance=future_tolerance
    )
