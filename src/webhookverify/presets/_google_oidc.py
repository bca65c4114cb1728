"""Google's OIDC-token senders: Pub/Sub push subscriptions and Google Chat apps.

The request carries ``Authorization: Bearer <ID token>``, an RS256 JWT that
Google signs with the keys it publishes as a JWK Set; the key set is fetched
(pinned to ``www.googleapis.com``) and cached for the lifetime Google states.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, ClassVar, Final

from .._checks import check_list, check_methods
from ..errors import ConfigurationError
from ..keyfetch import ClaimMismatch, FetchedKeyVerifier, Fetcher, JwksSource, KeySource, Pending
from ..keyfetch.jws import Token, check_claims, check_signature, encode, read_token
from ..request import WebhookRequest
from ..types import Verification
from ..verifiers._base import DEFAULT_TOLERANCE, single_header
from ._common import check_leeway, owner_of, scheme_of

__all__ = [
    "GOOGLE_ISSUERS",
    "GOOGLE_JWKS_URL",
    "GoogleBearerVerifier",
    "GoogleOidcVerifier",
    "bearer_rs256",
    "google_oidc",
]

GOOGLE_JWKS_URL: Final = "https://www.googleapis.com/oauth2/v3/certs"
# Google's ID tokens name either issuer (Google Identity: "Validate an ID token").
GOOGLE_ISSUERS: Final = ("https://accounts.google.com", "accounts.google.com")
# Google's ID tokens are valid for one hour from iat.
TOKEN_LIFETIME: Final = 3600.0
_HEADER: Final = "Authorization"


class GoogleBearerVerifier(FetchedKeyVerifier):
    """What Google's RS256 bearer tokens share: the token read from
    ``Authorization``, its signature by the key it names, then the claims a
    subclass checks (:meth:`check_token`); and, for tests, a token signed
    with ``private_key`` over the claims a subclass gives (:meth:`token_claims`)."""

    __slots__ = ()

    owner: ClassVar[str]  # how errors name the preset: "presets.google_oidc"
    scheme: str
    private_key: Any
    signing_key_id: str | None

    def check_token(self, claims: dict[str, Any], now: float) -> float | None:
        """Check a signed token's claims; return its ``iat``. Raises: ClaimMismatch."""
        raise NotImplementedError

    def token_claims(self, now: float) -> dict[str, Any]:
        """The claims of a token the sender would send at ``now``."""
        raise NotImplementedError

    def prepare(self, request: WebhookRequest, now: float) -> Pending:
        token, kid = bearer_rs256(request)

        def finish(keys: tuple[Any, ...]) -> Verification:
            check_signature(token, keys[0], "RS256", now, _HEADER)
            issued = self.check_token(token.claims, now)
            return Verification(self.scheme, keys[0].key_id, issued, None, (token.signing_input,))

        return Pending((kid,), finish)

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """The ``Authorization`` header of a token Google would send (tests only:
        needs ``private_key``)."""
        if self.private_key is None or self.signing_key_id is None:
            raise ConfigurationError(f"{self.owner} signs only with private_key= (tests)")
        claims = self.token_claims(time.time() if now is None else now)
        header = {"kid": self.signing_key_id, "typ": "JWT"}
        return {_HEADER: "Bearer " + encode(header, claims, self.private_key, "RS256")}


class GoogleOidcVerifier(GoogleBearerVerifier):
    """An RS256 Google ID token in ``Authorization``, checked for issuer,
    audience and service-account e-mail; see :func:`google_oidc`."""

    owner = "presets.google_oidc"

    __slots__ = (
        "audiences",
        "issuers",
        "leeway",
        "private_key",
        "replay_default",
        "replay_window",
        "required_headers",
        "scheme",
        "service_accounts",
        "signing_key_id",
        "source",
    )

    audiences: tuple[str, ...]
    service_accounts: tuple[str, ...]
    issuers: tuple[str, ...]
    leeway: float

    def __init__(
        self,
        *,
        audiences: tuple[str, ...],
        service_accounts: tuple[str, ...],
        issuers: tuple[str, ...],
        source: KeySource,
        leeway: float,
        private_key: Any = None,
        signing_key_id: str | None = None,
    ) -> None:
        self.init_fields(
            audiences=audiences,
            service_accounts=service_accounts,
            issuers=issuers,
            source=source,
            leeway=leeway,
            private_key=private_key,
            signing_key_id=signing_key_id,
            scheme=scheme_of("google_oidc", "rs256"),
            required_headers=(_HEADER,),
            # The token signs no body and Pub/Sub reuses one token for many
            # pushes: nothing signed names a delivery (see the docstring).
            replay_default="off",
            replay_window=None,
        )

    def check_token(self, claims: dict[str, Any], now: float) -> float | None:
        issued = check_claims(
            claims,
            now,
            where=_HEADER,
            issuers=self.issuers,
            audiences=self.audiences,
            leeway=self.leeway,
        )
        if claims.get("email") not in self.service_accounts or claims.get("email_verified") not in (
            True,
            "true",
        ):
            raise ClaimMismatch(
                "the token is not for a configured service account (service_account=...)",
                header=_HEADER,
            )
        return issued

    def token_claims(self, now: float) -> dict[str, Any]:
        return {
            "iss": self.issuers[0],
            "aud": self.audiences[0],
            "azp": "113774264463038321964",
            "sub": "113774264463038321964",
            "email": self.service_accounts[0],
            "email_verified": True,
            "iat": int(now),
            "exp": int(now + TOKEN_LIFETIME),
        }

    def __repr__(self) -> str:
        return f"GoogleOidcVerifier(audiences={list(self.audiences)!r}, source={self.source!r})"


def bearer_rs256(request: WebhookRequest) -> tuple[Token, str]:
    """The JWT of ``Authorization: Bearer``, read but not verified, and the key it names.

    RS256 is the configuration's, fixed before any key is looked up (RFC 8725
    §3.1): a token stating another algorithm is refused here.

    Raises:
        MissingHeader, DuplicateHeader, MalformedHeader: the header.
        ClaimMismatch: not a Bearer token, or a token that names no key.
        UnsupportedSignatureVersion: a token of another algorithm.
    """
    value = single_header(request, _HEADER)
    if value[:7].lower() != "bearer ":  # RFC 9110 §11.1: the scheme is case-insensitive
        raise ClaimMismatch("the Authorization header is not a Bearer token", header=_HEADER)
    token = read_token(value[7:], "RS256", _HEADER)
    if token.kid is None:
        raise ClaimMismatch("the token names no key (kid)", header=_HEADER)
    return token, token.kid


def _names(value: str | Iterable[str] | None, setting: str) -> tuple[str, ...]:
    names = check_list(value or (), setting, "presets.google_oidc", one=str)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ConfigurationError(f"presets.google_oidc needs {setting}=... (one or more names)")
    return names


def google_oidc(
    *,
    audience: str | Iterable[str] | None = None,
    service_account: str | Iterable[str] | None = None,
    issuer: str | Iterable[str] = GOOGLE_ISSUERS,
    jwks_url: str = GOOGLE_JWKS_URL,
    keys: KeySource | None = None,
    fetcher: Fetcher | None = None,
    leeway: float = DEFAULT_TOLERANCE,
    private_key: Any = None,
    signing_key_id: str | None = None,
) -> GoogleOidcVerifier:
    """Google Cloud Pub/Sub push subscriptions and Google Chat apps (OIDC tokens).

    Where the settings are: Pub/Sub → the subscription → Push → "Enable
    authentication": the service account (``service_account``) and the
    audience (``audience``; by default the push endpoint URL). Google Chat
    (HTTP endpoint URL as the authentication audience): ``service_account``
    is ``chat@system.gserviceaccount.com`` and ``audience`` the endpoint URL;
    for the project-number audience use ``presets.google_chat``.

    What is signed: nothing of the request itself. ``Authorization: Bearer``
    carries an RS256 ID token from Google's published key set
    (``www.googleapis.com/oauth2/v3/certs``, fetched and cached for the
    ``max-age`` Google sends); its issuer, audience, expiry and ``email``
    (with ``email_verified``) are checked. The token proves the request
    comes from Google for this audience and service account.

    What differs: the body is not signed, and Pub/Sub reuses a token for many
    pushes during its hour of validity, so the replay guard is off by
    default (a replayed token is accepted until it expires: make handlers
    idempotent on the body's ``message.messageId``). The algorithm is
    pinned to RS256: a token saying ``none`` or ``HS256`` is refused.

    Replay id: none (replay ``off``).

    Args:
        audience: the audience(s) configured on the subscription or Chat app.
        service_account: the service-account e-mail(s) allowed.
        issuer: the allowed issuers (default Google's two spellings).
        jwks_url: Google's key set (fetched from ``www.googleapis.com`` only).
        keys: another key source (``FixedKeys`` in tests; default the key set).
        fetcher: fetch bounds and the test hook (``keyfetch.Fetcher``).
        leeway: seconds of clock skew allowed on ``exp``/``iat`` (default 300).
        private_key / signing_key_id: an RSA key and its ``kid``, only to sign in tests.

    Raises:
        ConfigurationError: no audience or service account, or a bad URL.
    """
    owner = owner_of("google_oidc")
    leeway = check_leeway(leeway, owner)
    if keys is not None:
        check_methods(keys, ("key", "akey"), "keys", owner, "a key source such as FixedKeys")
    source = (
        keys
        if keys is not None
        else JwksSource(jwks_url, hosts=("www.googleapis.com",), fetcher=fetcher)
    )
    return GoogleOidcVerifier(
        audiences=_names(audience, "audience"),
        service_accounts=_names(service_account, "service_account"),
        issuers=_names(issuer, "issuer"),
        source=source,
        leeway=float(leeway),
        private_key=private_key,
        signing_key_id=signing_key_id,
    )
