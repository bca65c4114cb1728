"""monday.com: a JWT (HS256) in ``Authorization`` that names the endpoint and
expires, and does not cover the body.

Every request monday.com sends to an app's integration endpoints (and the
board webhooks an app subscribes to) carries ``Authorization: <JWT>`` signed
with the app's Signing Secret. Its claims hold ``aud`` (the endpoint's URL),
``exp`` and ``iat``, the account and user ids and a short-lived API token;
nothing in them hashes the body. The token is checked as RFC 7519 says, with
the algorithm pinned to HS256 before anything else is decoded.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, Final

from ..errors import SignatureMismatch, TimestampInFuture, TimestampTooOld
from ..keyfetch.jws import numeric_date
from ..request import WebhookRequest
from ..verifiers._base import ReplayMode, Verification
from ._common import HmacBased, SecretInput, check_absolute_url, hmac_preset, owner_of
from ._jwt import HS256_HEADER, bearer_hs256, encode_segment

__all__ = ["MONDAY_LEEWAY", "MondayVerifier", "monday"]

HEADER: Final = "Authorization"
# A monday.com token holds six short claims and a short-lived API token of a
# few hundred characters; a JWT this long is not monday.com's and is refused
# before any decoding.
_MAX_TOKEN: Final = 8192
# Seconds of clock skew allowed on exp, nbf and iat: monday.com's tokens live
# five minutes (iat to exp in its documented example), and clocks drift.
MONDAY_LEEWAY: Final = 30.0
_SIGNATURE_SEGMENT: Final = "Authorization.signature"


class MondayVerifier(HmacBased):
    """Verify the ``Authorization`` JWT of a monday.com app request.

    The algorithm is pinned to HS256: a token naming any other ``alg``
    (``none`` included), or a ``crit`` parameter, is refused before its
    signature is looked at. After the HMAC: ``exp`` must be present and not
    passed, ``nbf`` and ``iat`` not ahead of this clock (all within
    ``MONDAY_LEEWAY``), and ``aud`` must be ``url`` (or list it).

    Args:
        secret: the app's Signing Secret(s), oldest first.
        secrets: several, for a rotation, instead of ``secret``.
        url: the endpoint's URL, as configured in the app (the ``aud``).

    Raises:
        ConfigurationError: no secret, or ``url`` not an absolute http(s) URL.
    """

    __slots__ = ("url",)

    url: str

    def __init__(
        self,
        *,
        secret: SecretInput | None = None,
        secrets: Iterable[SecretInput] | None = None,
        url: str,
    ) -> None:
        inner = hmac_preset(
            "monday",
            secret=secret,
            secrets=secrets,
            header=_SIGNATURE_SEGMENT,
            encoding="base64url",
            mechanism="jwt-hs256",
        )
        super().__init__(inner)
        object.__setattr__(self, "url", check_absolute_url(url, f"{owner_of('monday')}(url=...)"))

    @property
    def required_headers(self) -> tuple[str, ...]:
        return (HEADER,)

    @property
    def replay_default(self) -> ReplayMode:
        return "id"  # each request's token is its own: its signature is the key

    @property
    def replay_window(self) -> float | None:
        return None  # exp bounds each token, but its lifetime is monday.com's to choose

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify the token, then its claims.

        Returns:
            the :class:`Verification`: ``timestamp`` is ``iat`` (when sent),
            ``delivery_id`` the token's signature segment.

        Raises:
            MalformedHeader: not a compact JWT of three base64url JSON parts,
                or a time claim that is not a number.
            UnsupportedSignatureVersion: ``alg`` is not HS256, or ``crit`` is set.
            SignatureMismatch: wrong key, or ``aud`` is not ``url``.
            TimestampTooOld / TimestampInFuture: ``exp`` missing or passed /
                ``nbf`` or ``iat`` ahead of this clock.
        """
        if now is None:
            now = request.received_at
        verification, claims, signature = bearer_hs256(
            request,
            self._inner,
            now,
            header=HEADER,
            max_length=_MAX_TOKEN,
            sender="monday.com",
            key_name="Signing Secret",
        )
        issued = self._check_times(claims, now)
        audience = claims.get("aud")
        if not (audience == self.url or (isinstance(audience, list) and self.url in audience)):
            raise SignatureMismatch(
                f"the JWT in {HEADER} was issued for another URL (aud); check url=",
                header=HEADER,
            )
        return verification._replace(timestamp=issued, delivery_id=signature)

    @staticmethod
    def _check_times(claims: dict[str, Any], now: float) -> float | None:
        # RFC 7519 §4.1.4 (exp), §4.1.5 (nbf), §4.1.6 (iat); monday.com
        # always sends exp, and its documentation says to check it.
        expires = numeric_date(claims, "exp", HEADER)
        if expires is None:
            raise TimestampTooOld(f"the JWT in {HEADER} has no exp claim", header=HEADER)
        if now >= expires + MONDAY_LEEWAY:
            raise TimestampTooOld(f"the JWT in {HEADER} has expired (exp)", header=HEADER)
        for name in ("nbf", "iat"):
            value = numeric_date(claims, name, HEADER)
            if value is not None and now + MONDAY_LEEWAY < value:
                raise TimestampInFuture(
                    f"the JWT in {HEADER} is not valid yet ({name}); check both clocks",
                    header=HEADER,
                )
        return numeric_date(claims, "iat", HEADER)

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Return an ``Authorization`` header as monday.com sends it, for tests.

        The claims are ``aud`` (``url``), ``iat`` (``now``), ``exp`` (five
        minutes later), and ``accountId``/``userId`` from ``parts`` (default
        ``1``). ``body`` is not signed.

        Raises:
            NoValidKey: no secret is valid at ``now``.
        """
        moment = time.time() if now is None else now
        claims = {
            "accountId": int(parts.get("accountId", "1")),
            "userId": int(parts.get("userId", "1")),
            "aud": self.url,
            "iat": int(moment),
            "exp": int(moment) + 300,
        }
        head, payload = encode_segment(HS256_HEADER), encode_segment(claims)
        signing_input = f"{head}.{payload}".encode("ascii")
        signature = self._inner.sign(signing_input, moment)[_SIGNATURE_SEGMENT]
        return {HEADER: f"{head}.{payload}.{signature}"}

    def __repr__(self) -> str:
        return f"MondayVerifier(url={self.url!r}, secrets=<{len(self.secrets)} hidden>)"


def monday(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    url: str,
) -> MondayVerifier:
    """monday.com app requests: integration recipes' actions and the board
    webhooks an app subscribes to.

    Secret: the app's *Signing Secret*, in the Developer Center under *(the
    app) > Basic Information > Signing Secret*; ``url=`` is the endpoint's
    URL as configured in the app (it is the token's ``aud``). App lifecycle
    webhooks are signed with the *Client Secret* instead: configure a
    second handler with that one.

    Signed: ``Authorization`` is a JWT (HS256) carrying ``aud``, ``exp``,
    ``iat``, ``accountId``, ``userId`` and a ``shortLivedToken``. The
    algorithm is pinned to HS256, the HMAC checked, then ``exp`` (required),
    ``nbf``/``iat`` and ``aud`` (``MONDAY_LEEWAY`` of skew). The **body is
    not signed**: a verified request proves that monday.com sent a request to
    this URL in the last few minutes, not that its body is untouched; serve
    the endpoint over HTTPS only. A board webhook created by hand through the
    API (not by an app) carries no token at all and cannot be verified.

    Replay id: the token's signature: monday.com signs a token for each
    request, so the same token again is a replay (of the same body or not).

    Source: monday.com docs "Authorization header"
    (https://developer.monday.com/apps/docs/authorization-header) and
    "Advanced concepts > Verify the authenticity of requests"
    (https://developer.monday.com/apps/docs/advanced-concepts), and RFC 7519;
    cross-checked both ways against PyJWT, the library the docs point to
    (monday.com publishes no test vector).

    Args:
        secret: the Signing Secret, as text or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        url: the endpoint's absolute URL, as monday.com calls it.

    Returns:
        A ``MondayVerifier``.

    Raises:
        ConfigurationError: no secret, both ``secret`` and ``secrets``, an
            empty one, or ``url`` not an absolute http(s) URL.
    """
    return MondayVerifier(secret=secret, secrets=secrets, url=url)
