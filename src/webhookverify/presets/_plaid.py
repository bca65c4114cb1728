"""Plaid webhooks: an ES256 JWT in ``Plaid-Verification`` whose key is fetched
by id from Plaid's key endpoint, and which signs the SHA-256 of the body.

Plaid's key endpoint is an API call, not a published document: a POST to
``/webhook_verification_key/get`` with the client id, the secret and the key
id, answering ``{"key": <JWK with created_at and expired_at>}`` (Plaid API
reference, "Webhook verification").
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Final, Literal

from .._checks import check_methods
from ..errors import ConfigurationError, KeyUnavailable, TimestampTooOld
from ..keyfetch import (
    ClaimMismatch,
    FetchedKey,
    FetchedKeyVerifier,
    Fetcher,
    KeyById,
    KeySource,
    Pending,
)
from ..keyfetch.jws import check_claims, check_signature, encode, read_token
from ..keys import Secret
from ..request import WebhookRequest
from ..types import Verification
from ..verifiers._base import DEFAULT_TOLERANCE, constant_time_equal, replay_window, single_header
from ._common import SecretInput, check_windows, owner_of, scheme_of

__all__ = ["PLAID_HOSTS", "PlaidVerifier", "plaid"]

PLAID_HOSTS: Final = {"production": "production.plaid.com", "sandbox": "sandbox.plaid.com"}
# Plaid: "ensure that the iat is no more than 5 minutes old".
PLAID_TOLERANCE: Final = 300.0
_HEADER: Final = "Plaid-Verification"


def _read_key(body: bytes, kid: str) -> FetchedKey:
    """The key in an answer of ``/webhook_verification_key/get``; an expired
    one (``expired_at`` set) ends when Plaid says it did."""
    from ..keyfetch._crypto import jwk_key

    try:
        answer = json.loads(body)
        jwk = answer["key"]
        key = jwk_key(jwk)
        expired_at = jwk.get("expired_at")
        if key is None or not (expired_at is None or isinstance(expired_at, int | float)):
            raise ValueError("not an EC key")
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        raise KeyUnavailable("Plaid's key endpoint did not answer a key") from None
    alg = jwk.get("alg")
    until = None if expired_at is None else float(expired_at)
    return FetchedKey(kid, key, alg if isinstance(alg, str) else None, None, until)


class PlaidVerifier(FetchedKeyVerifier):
    """The ``Plaid-Verification`` token of a Plaid webhook; see :func:`plaid`."""

    __slots__ = (
        "future_tolerance",
        "private_key",
        "replay_default",
        "replay_window",
        "required_headers",
        "signing_key_id",
        "source",
        "tolerance",
    )

    tolerance: float | None
    future_tolerance: float | None
    private_key: Any
    signing_key_id: str | None

    def __init__(
        self,
        *,
        source: KeySource,
        tolerance: float | None,
        future_tolerance: float | None,
        private_key: Any = None,
        signing_key_id: str | None = None,
    ) -> None:
        self.init_fields(
            source=source,
            tolerance=tolerance,
            future_tolerance=future_tolerance,
            private_key=private_key,
            signing_key_id=signing_key_id,
            required_headers=(_HEADER,),
            replay_default="content",
            replay_window=replay_window(tolerance, future_tolerance),
        )

    @property
    def scheme(self) -> str:
        return scheme_of("plaid", "es256")

    def prepare(self, request: WebhookRequest, now: float) -> Pending:
        token = read_token(single_header(request, _HEADER), "ES256", _HEADER)
        if token.kid is None:
            raise ClaimMismatch("the Plaid-Verification token names no key (kid)", header=_HEADER)
        body = request.body

        def finish(keys: tuple[FetchedKey, ...]) -> Verification:
            check_signature(token, keys[0], "ES256", now, _HEADER)
            leeway = self.future_tolerance or 0.0
            issued = check_claims(
                token.claims,
                now,
                where=_HEADER,
                issuers=None,
                audiences=None,
                leeway=leeway,
                max_age=self.tolerance if self.tolerance is not None else float("inf"),
            )
            claimed = token.claims.get("request_body_sha256")
            digest = hashlib.sha256(body).hexdigest()
            if not isinstance(claimed, str) or not constant_time_equal(claimed, digest):
                raise ClaimMismatch("the body is not the one the Plaid token signs", header=_HEADER)
            if issued is None:  # pragma: no cover - check_claims requires it with max_age
                raise TimestampTooOld("the Plaid token has no iat")
            # Each token is unique to its delivery attempt: the replay guard
            # keys on it (a retry is signed anew, and processed again).
            signed = (token.signing_input, body)
            return Verification(scheme_of("plaid", "es256"), keys[0].key_id, issued, None, signed)

        return Pending((token.kid,), finish)

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """The ``Plaid-Verification`` header Plaid would send (tests only)."""
        if self.private_key is None or self.signing_key_id is None:
            raise ConfigurationError("presets.plaid signs only with private_key= (tests)")
        moment = time.time() if now is None else now
        claims = {"iat": int(moment), "request_body_sha256": hashlib.sha256(body).hexdigest()}
        header = {"kid": self.signing_key_id, "typ": "JWT"}
        return {_HEADER: encode(header, claims, self.private_key, "ES256")}

    def __repr__(self) -> str:
        return f"PlaidVerifier(source={self.source!r})"


def plaid(
    *,
    client_id: str | None = None,
    secret: SecretInput | None = None,
    environment: Literal["production", "sandbox"] = "production",
    keys: KeySource | None = None,
    fetcher: Fetcher | None = None,
    tolerance: float | None = PLAID_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
    private_key: Any = None,
    signing_key_id: str | None = None,
) -> PlaidVerifier:
    """Plaid webhooks (``Plaid-Verification``, ES256, key fetched by id).

    Where the settings are: Plaid Dashboard → Developers → Keys: the
    ``client_id`` and the ``secret`` of the environment (``production`` or
    ``sandbox``) the webhooks come from. They are sent only to Plaid's own
    key endpoint, never to an address a request names.

    What is signed: ``Plaid-Verification`` is an ES256 JWT (the algorithm is
    pinned: ``none``, ``HS256`` or ``RS256`` are refused) whose ``kid`` names
    a key fetched from ``https://<environment>.plaid.com/webhook_verification_key/get``
    (a POST with the client id, secret and key id), cached per key id; its
    claims are ``iat`` and ``request_body_sha256``, the SHA-256 of the raw
    body in hex.

    What differs: the key is fetched by id through an authenticated API call,
    so an unknown key id costs one call, rate-limited. A key Plaid marks
    expired (``expired_at``) verifies nothing signed after that time.
    ``iat`` must be at most five minutes old (Plaid's rule).

    Replay id: none is signed; the token itself (unique per delivery
    attempt) is the replay key, so a replayed request is refused while
    Plaid's retries, signed anew, are processed.

    Args:
        client_id / secret: the API credentials the key endpoint requires.
        environment: ``"production"`` (default) or ``"sandbox"``.
        keys: another key source (``FixedKeys`` in tests).
        fetcher: fetch bounds and the test hook (``keyfetch.Fetcher``).
        tolerance: seconds ``iat`` may be old (default 300, Plaid's).
        future_tolerance: seconds it may be ahead (default 300).
        private_key / signing_key_id: a P-256 key and its ``kid``, only to sign in tests.

    Raises:
        ConfigurationError: no credentials without ``keys``, an unknown environment.
    """
    owner = owner_of("plaid")
    tolerance, future_tolerance = check_windows("plaid", tolerance, future_tolerance)
    if not isinstance(environment, str) or environment not in PLAID_HOSTS:
        raise ConfigurationError(f"{owner}(environment=...) must be 'production' or 'sandbox'")
    if keys is not None:
        check_methods(keys, ("key", "akey"), "keys", owner, "a key source such as FixedKeys")
    if keys is None:
        if not isinstance(client_id, str) or not client_id or secret is None:
            raise ConfigurationError(
                f"{owner} needs client_id= and secret= (Plaid Dashboard → Developers → Keys) "
                "to fetch its verification keys"
            )
        credential = secret if isinstance(secret, Secret) else Secret(secret)
        host = PLAID_HOSTS[environment]

        def body(kid: str) -> bytes:
            payload = {"client_id": client_id, "secret": credential.value.decode(), "key_id": kid}
            return json.dumps(payload).encode()

        keys = KeyById(
            f"https://{host}/webhook_verification_key/get",
            method="POST",
            body=body,
            parse=_read_key,
            hosts=(host,),
            fetcher=fetcher,
        )
    return PlaidVerifier(
        source=keys,
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        private_key=private_key,
        signing_key_id=signing_key_id,
    )
