"""Netlify deploy notifications: a JWS (HS256) whose claims hash the body.

``X-Webhook-Signature`` is a compact JWS (RFC 7515) keyed with the
notification's "JWS secret token". Its payload holds ``iss: "netlify"`` and
``sha256``: the lower-case hex SHA-256 of the raw body. The body is therefore
bound through the hash, and the JWS itself through an HMAC-SHA256.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import re
import time
from collections.abc import Iterable
from typing import Final

from ..errors import (
    MalformedHeader,
    MalformedSignature,
    SignatureMismatch,
    TimestampInFuture,
    TimestampTooOld,
    UnsupportedSignatureVersion,
)
from ..request import WebhookRequest
from ..verifiers._base import (
    DEFAULT_TOLERANCE,
    ReplayMode,
    Verification,
    constant_time_equal,
    encode_signature,
    single_header,
)
from ._common import HmacBased, SecretInput, hmac_preset

__all__ = ["NetlifyVerifier", "netlify"]

HEADER: Final = "X-Webhook-Signature"
ISSUER: Final = "netlify"
# A Netlify token is about 200 characters; a JWS this long is not Netlify's
# and is refused before any decoding.
_MAX_TOKEN = 4096
_SIGNATURE_SEGMENT = "X-Webhook-Signature.signature"
# RFC 7515 §7.1: three base64url segments (RFC 4648 §5, no padding) and two dots.
_BASE64URL = re.compile(r"[A-Za-z0-9_\-.]+", re.ASCII)
_JOSE_HEADER: dict[str, object] = {"alg": "HS256", "typ": "JWT"}
_JOSE_SEGMENT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"  # base64url of the compact JSON above


def _b64url_json(segment: str, what: str) -> dict[str, object]:
    # RFC 7515 §2: base64url without padding; RFC 7519 §7.2: the segments
    # decode to JSON objects.
    try:
        raw = binascii.a2b_base64(
            segment.translate(str.maketrans("-_", "+/")) + "=" * (-len(segment) % 4),
            strict_mode=True,
        )
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, RecursionError):
        raise MalformedHeader(
            f"the JWS {what} in {HEADER} is not base64url JSON", header=HEADER
        ) from None
    if not isinstance(value, dict):
        raise MalformedHeader(f"the JWS {what} in {HEADER} is not a JSON object", header=HEADER)
    return value


def _b64url(data: bytes) -> str:
    return encode_signature(data, "base64url")


class NetlifyVerifier(HmacBased):
    """Verify a Netlify outgoing webhook's ``X-Webhook-Signature`` JWS.

    The algorithm is pinned to HS256: a token naming any other ``alg`` (``none``
    included) is refused before its signature is looked at, and so is one with
    a ``crit`` parameter (RFC 7515 §4.1.11: extensions we do not know). After
    the HMAC, ``iss`` must be ``netlify`` and ``sha256`` must equal the body's
    hash (compared in constant time). ``exp``/``nbf``, which Netlify does not
    send, are honoured when present.

    Args:
        secret: the notification's JWS secret token(s), oldest first.
        secrets: several, for a rotation, instead of ``secret``.

    Raises:
        ConfigurationError: no secret.
    """

    __slots__ = ()

    def __init__(
        self,
        *,
        secret: SecretInput | None = None,
        secrets: Iterable[SecretInput] | None = None,
    ) -> None:
        super().__init__(
            hmac_preset(
                "netlify",
                secret=secret,
                secrets=secrets,
                header=_SIGNATURE_SEGMENT,
                encoding="base64url",
                mechanism="jws-hs256",
            )
        )

    @property
    def required_headers(self) -> tuple[str, ...]:
        return (HEADER,)

    @property
    def replay_default(self) -> ReplayMode:
        return self._inner.replay_default  # content: no id and no timestamp are signed

    @property
    def replay_window(self) -> float | None:
        return self._inner.replay_window  # None: nothing bounds a replay in time

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify the JWS, then its claims against the body.

        Raises:
            MalformedHeader: not a compact JWS of three base64url JSON parts.
            UnsupportedSignatureVersion: ``alg`` is not HS256, or ``crit`` is set.
            SignatureMismatch: wrong key, wrong issuer, or a body whose hash is
                not the signed one.
            TimestampTooOld / TimestampInFuture: ``exp`` passed / ``nbf`` not reached.
        """
        if now is None:
            now = request.received_at
        token = single_header(request, HEADER)
        segments = token.split(".")
        if (
            len(token) > _MAX_TOKEN
            or len(segments) != 3
            or not all(segments)
            or not _BASE64URL.fullmatch(token)
        ):
            raise MalformedHeader(f"the {HEADER} header is not a compact JWS", header=HEADER)
        # Netlify always sends the same JOSE header: skip decoding it when it is that one.
        header = (
            _JOSE_HEADER if segments[0] == _JOSE_SEGMENT else _b64url_json(segments[0], "header")
        )
        if header.get("alg") != "HS256" or "crit" in header:
            raise UnsupportedSignatureVersion(
                f"the JWS in {HEADER} is not HS256 without extensions, the only form Netlify sends",
                header=HEADER,
            )
        signing_input = f"{segments[0]}.{segments[1]}".encode("ascii")
        try:
            verification = self._inner.verify_message(segments[2], (signing_input,), now)
        except MalformedSignature:
            raise MalformedSignature(
                f"the JWS signature in {HEADER} is not base64url HMAC-SHA256", header=HEADER
            ) from None
        except SignatureMismatch:
            raise SignatureMismatch(
                f"the JWS in {HEADER} is not signed with a configured key", header=HEADER
            ) from None
        claims = _b64url_json(segments[1], "payload")
        digest = hashlib.sha256(request.body).hexdigest().encode("ascii")
        claimed = claims.get("sha256")
        if claims.get("iss") != ISSUER or not isinstance(claimed, str):
            raise SignatureMismatch(
                f"the JWS in {HEADER} is not a Netlify payload signature", header=HEADER
            )
        if not constant_time_equal(claimed.encode("utf-8"), digest):
            raise SignatureMismatch(
                f"the body does not match the sha256 signed in {HEADER}", header=HEADER
            )
        self._check_times(claims, now)
        return verification._replace(signed=(signing_input, request.body))

    @staticmethod
    def _check_times(claims: dict[str, object], now: float) -> None:
        # RFC 7519 §4.1.4/§4.1.5, with the library's default skew for nbf.
        for name in ("exp", "nbf"):
            value = claims.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise MalformedHeader(
                    f"the {name} claim in {HEADER} is not a number", header=HEADER
                )
            if name == "exp" and now >= value:
                raise TimestampTooOld(f"the JWS in {HEADER} has expired (exp)", header=HEADER)
            if name == "nbf" and now + DEFAULT_TOLERANCE < value:
                raise TimestampInFuture(
                    f"the JWS in {HEADER} is not valid yet (nbf); check both clocks",
                    header=HEADER,
                )

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Return the ``X-Webhook-Signature`` Netlify would send for ``body``.

        Raises:
            NoValidKey: no secret is valid at ``now``.
        """
        moment = time.time() if now is None else now
        claims = {"iss": ISSUER, "sha256": hashlib.sha256(body).hexdigest()}
        head = _b64url(json.dumps(_JOSE_HEADER, separators=(",", ":")).encode("ascii"))
        payload = _b64url(json.dumps(claims, separators=(",", ":")).encode("ascii"))
        signing_input = f"{head}.{payload}".encode("ascii")
        signature = self._inner.sign(signing_input, moment)[_SIGNATURE_SEGMENT]
        return {HEADER: f"{head}.{payload}.{signature}"}

    def __repr__(self) -> str:
        return f"NetlifyVerifier(secrets=<{len(self.secrets)} hidden>)"


def netlify(
    *, secret: SecretInput | None = None, secrets: Iterable[SecretInput] | None = None
) -> NetlifyVerifier:
    """Netlify outgoing webhooks (deploy notifications, form submissions).

    Secret: the *JWS secret token* you set on the notification, in *Project
    configuration > Notifications > (the outgoing webhook)*.

    Signed: ``X-Webhook-Signature`` is a JWT signed with HS256 whose claims are
    ``iss: "netlify"`` and ``sha256``, the lower-case hex SHA-256 of the raw
    body. The token's algorithm is pinned to HS256 (``none`` and everything
    else refused), its HMAC checked, then ``iss``, then the body's hash in
    constant time. No timestamp is signed.

    Replay id: content hash. The body's ``id`` is the deploy's, shared by all
    of that deploy's notifications, so it is not a delivery id.

    Source: Netlify docs "Deploy notifications > Payload signature"
    (https://docs.netlify.com/site-deploys/deploy-notifications/#payload-signature);
    cross-checked against the documented algorithm and RFC 7515/7519.
    """
    return NetlifyVerifier(secret=secret, secrets=secrets)
