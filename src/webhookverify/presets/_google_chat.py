"""Google Chat apps whose authentication audience is the project number.

Google Chat ("Verify requests from Google Chat") sends ``Authorization:
Bearer <JWT>``. With "Authentication Audience: Project Number" the token is
one the Chat service account signs itself: RS256, ``iss``
``chat@system.gserviceaccount.com``, ``aud`` the app's Cloud project number,
its key named by ``kid`` among the account's certificates, published as
``{kid: PEM certificate}`` at
``www.googleapis.com/service_accounts/v1/metadata/x509/chat@system.gserviceaccount.com``
(what Google's samples pass to ``verify_token(certs_url=...)``). With
"HTTP endpoint URL" the token is a Google ID token: :func:`google_oidc`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from .._checks import check_methods
from ..errors import ConfigurationError
from ..keyfetch import (
    CertificateSet,
    ClaimMismatch,
    Fetcher,
    KeySource,
)
from ..keyfetch.jws import check_claims
from ..verifiers._base import DEFAULT_TOLERANCE
from ._common import check_leeway, owner_of, scheme_of
from ._google_oidc import GoogleBearerVerifier

__all__ = ["GOOGLE_CHAT_CERTS_URL", "GOOGLE_CHAT_ISSUER", "GoogleChatVerifier", "google_chat"]

# Google Chat, "Verify requests from Google Chat": the issuer of every token,
# and the account whose certificates sign them.
GOOGLE_CHAT_ISSUER: Final = "chat@system.gserviceaccount.com"
GOOGLE_CHAT_CERTS_URL: Final = (
    "https://www.googleapis.com/service_accounts/v1/metadata/x509/" + GOOGLE_CHAT_ISSUER
)
# A project number is a decimal number of about 12 digits; 30 bounds it.
MAX_PROJECT_NUMBER_DIGITS: Final = 30
# A self-signed service-account JWT lives one hour at most (Google OAuth 2.0
# for service accounts: "exp ... maximum of 1 hour after the issued time").
TOKEN_LIFETIME: Final = 3600.0
_HEADER: Final = "Authorization"
_OWNER: Final = owner_of("google_chat")


class GoogleChatVerifier(GoogleBearerVerifier):
    """The Chat service account's RS256 JWT in ``Authorization``, for a
    project number; see :func:`google_chat`."""

    __slots__ = (
        "leeway",
        "private_key",
        "project_numbers",
        "replay_default",
        "replay_window",
        "required_headers",
        "scheme",
        "signing_key_id",
        "source",
    )

    owner = _OWNER
    project_numbers: tuple[str, ...]
    leeway: float

    def __init__(
        self,
        *,
        project_numbers: tuple[str, ...],
        source: KeySource,
        leeway: float,
        private_key: Any = None,
        signing_key_id: str | None = None,
    ) -> None:
        self.init_fields(
            project_numbers=project_numbers,
            source=source,
            leeway=leeway,
            private_key=private_key,
            signing_key_id=signing_key_id,
            scheme=scheme_of("google_chat", "rs256"),
            required_headers=(_HEADER,),
            # The token signs no body and names no event: nothing signed
            # identifies a delivery (as google_oidc).
            replay_default="off",
            replay_window=None,
        )

    def check_token(self, claims: dict[str, Any], now: float) -> float | None:
        issued = check_claims(
            claims,
            now,
            where=_HEADER,
            issuers=(GOOGLE_CHAT_ISSUER,),
            audiences=None,
            leeway=self.leeway,
        )
        # aud is one string, the project number itself: a list, a number or
        # another project's number is another app's token.
        if not isinstance(claims.get("aud"), str) or claims["aud"] not in self.project_numbers:
            raise ClaimMismatch(
                "the JWT in Authorization is for another project (project_number=...)",
                header=_HEADER,
            )
        if issued is None:  # as google-auth: iat and exp both required
            raise ClaimMismatch("the JWT in Authorization has no iat claim", header=_HEADER)
        return issued

    def token_claims(self, now: float) -> dict[str, Any]:
        return {
            "iss": GOOGLE_CHAT_ISSUER,
            "aud": self.project_numbers[0],
            "iat": int(now),
            "exp": int(now + TOKEN_LIFETIME),
        }

    def __repr__(self) -> str:
        numbers = list(self.project_numbers)
        return f"GoogleChatVerifier(project_numbers={numbers!r}, source={self.source!r})"


def _project_numbers(value: object) -> tuple[str, ...]:
    if value is None:
        items: tuple[object, ...] = ()
    elif isinstance(value, str | int) or not isinstance(value, Iterable):
        items = (value,)
    else:
        items = tuple(value)
    numbers: list[str] = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and item > 0:
            item = str(item)
        if (
            not isinstance(item, str)
            or not item.isascii()
            or not item.isdigit()
            or len(item) > MAX_PROJECT_NUMBER_DIGITS
        ):
            raise ConfigurationError(
                f"{_OWNER}(project_number=...) must be the Cloud project number "
                "(digits only, as the Chat app's configuration shows it)"
            )
        numbers.append(item)
    if not numbers:
        raise ConfigurationError(
            f"{_OWNER} needs project_number=... (the Chat app's Cloud project number); "
            "for the HTTP endpoint URL audience use presets.google_oidc"
        )
    return tuple(numbers)


def google_chat(
    *,
    project_number: str | int | Iterable[str | int] | None = None,
    certs_url: str = GOOGLE_CHAT_CERTS_URL,
    keys: KeySource | None = None,
    fetcher: Fetcher | None = None,
    leeway: float = DEFAULT_TOLERANCE,
    private_key: Any = None,
    signing_key_id: str | None = None,
) -> GoogleChatVerifier:
    """Google Chat apps with "Authentication Audience: Project Number".

    Where the settings are: Google Cloud console → Google Chat API →
    Configuration → Connection settings → Authentication Audience: "Project
    Number"; the number is the Cloud project's (console → project info,
    digits only), ``project_number``. For "HTTP endpoint URL" use
    ``presets.google_oidc(audience=<the endpoint URL>,
    service_account="chat@system.gserviceaccount.com")``.

    What is signed: nothing of the request itself. ``Authorization: Bearer``
    carries an RS256 JWT the Chat service account signs with a key published
    as an X.509 certificate by ``kid`` (``www.googleapis.com/service_accounts/
    v1/metadata/x509/chat@system.gserviceaccount.com``, fetched and cached
    for the ``max-age`` Google sends). Its issuer must be exactly
    ``chat@system.gserviceaccount.com``, its audience exactly the project
    number (one string), ``iat`` and ``exp`` present and current, and the
    certificate valid. Google's ID-token keys (the other audience mode) are
    not in that document, so an ID token anyone can have minted for the
    project number is refused.

    What differs: the body is not signed and no delivery id is, so the
    replay guard is off by default, and a token seen in transit would carry
    any body until it expires (serve the endpoint over https only). The
    algorithm is pinned to RS256: a token saying ``none`` or ``HS256`` is
    refused, and header parameters that point elsewhere for a key (``jku``,
    ``x5u``, ``x5c``) are never followed.

    Replay id: none (replay ``off``).

    Args:
        project_number: the Chat app's Cloud project number (or several).
        certs_url: the account's certificates (fetched from ``www.googleapis.com`` only).
        keys: another key source (``FixedKeys`` in tests; default the certificates).
        fetcher: fetch bounds and the test hook (``keyfetch.Fetcher``).
        leeway: seconds of clock skew allowed on ``exp``/``iat`` (default 300).
        private_key / signing_key_id: an RSA key and its ``kid``, only to sign in tests.

    Raises:
        ConfigurationError: no project number or one that is not digits, a
            bad leeway, or a certificates URL off ``www.googleapis.com``.
    """
    leeway = check_leeway(leeway, _OWNER)
    numbers = _project_numbers(project_number)
    if keys is not None:
        check_methods(keys, ("key", "akey"), "keys", _OWNER, "a key source such as FixedKeys")
    if keys is None:
        keys = CertificateSet(certs_url, hosts=("www.googleapis.com",), fetcher=fetcher)
    return GoogleChatVerifier(
        project_numbers=numbers,
        source=keys,
        leeway=float(leeway),
        private_key=private_key,
        signing_key_id=signing_key_id,
    )
