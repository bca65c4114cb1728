"""Shared tokens and HTTP Basic credentials (GitLab's ``X-Gitlab-Token``, Okta).

A token proves less than a signature: it shows the sender knows the secret,
but it does not cover the body, so anyone who sees one request (a logging
proxy, a misconfigured TLS terminator) can send any body with it, and nothing
in it tells one delivery from a replay. Prefer a signing scheme wherever the
sender offers one, and serve token endpoints over HTTPS only.
"""

from __future__ import annotations

import binascii
import hashlib
import time
from collections.abc import Iterable

from .._checks import check_flag
from ..errors import ConfigurationError, MalformedHeader, SignatureMismatch
from ..keys import Secret, to_secrets
from ..request import WebhookRequest
from ._base import ReplayMode, Verification, check_name, constant_time_equal, single_header
from ._keyring import KeyEntry, keyring, newest_valid, valid_keys

__all__ = ["TokenVerifier"]


def _fingerprint(value: bytes) -> bytes:
    # Tokens are compared through a hash so that the comparison takes the same
    # time whatever the lengths of the token sent and the token expected.
    return hashlib.sha256(value).digest()


class TokenVerifier:
    """Accept a request that carries one of the configured tokens.

    Args:
        secret: the token.
        secrets: several tokens, oldest first; rotation appends.
        header: the header that carries the token (``Authorization`` when
            ``basic=True``).
        prefix: text before the token, such as ``"Bearer "`` (the scheme word
            is matched case-insensitively, as RFC 9110 §11.1 says).
        basic: read HTTP Basic credentials (RFC 7617); the secrets are the
            passwords.
        username: with ``basic=True``, the user name that must come with them.
        scheme: the name reported in :attr:`Verification.scheme` (default
            ``basic`` with ``basic=True``, else ``token``).
        owner: how configuration errors name this verifier (default
            ``TokenVerifier``); presets pass their own name.

    A token proves less than a signature: see the module documentation.

    Raises:
        ConfigurationError: no token, no header, or ``username`` without ``basic``.
    """

    __slots__ = ("_keys", "basic", "header", "prefix", "scheme", "secrets", "username")

    secrets: tuple[Secret, ...]
    header: str
    prefix: str
    basic: bool
    username: str | None
    scheme: str
    _keys: tuple[KeyEntry[bytes], ...]  # the tokens' fingerprints
    # Nothing is signed, so there is nothing to key a replay on, and no time
    # after which a replay would fail. Class attributes, read-only as the rest.
    replay_default: ReplayMode = "off"
    replay_window: float | None = None

    def __init__(
        self,
        *,
        secret: Secret | str | bytes | None = None,
        secrets: Iterable[Secret | str | bytes] | None = None,
        header: str | None = None,
        prefix: str = "",
        basic: bool = False,
        username: str | None = None,
        scheme: str | None = None,
        owner: str = "TokenVerifier",
    ) -> None:
        check_name(owner, "owner", "TokenVerifier", optional=False, field=False)
        check_name(scheme, "scheme", owner, field=False)
        set_ = object.__setattr__
        set_(self, "secrets", to_secrets(secret, secrets, owner=owner))
        check_flag(basic, "basic", owner)
        check_name(header, "header", owner)
        if not isinstance(prefix, str):
            raise ConfigurationError(f"{owner}(prefix=...) must be a str")
        check_name(username, "username", owner, field=False)
        if basic:
            header = header or "Authorization"
            if prefix:
                raise ConfigurationError(f"{owner}(basic=True) reads 'Basic ...'; drop prefix=")
        elif username is not None:
            raise ConfigurationError(f"{owner}(username=...) needs basic=True")
        if not header:
            raise ConfigurationError(f"{owner}(header=...) must name the header with the token")
        set_(self, "header", header)
        set_(self, "prefix", prefix)
        set_(self, "basic", basic)
        set_(self, "username", username)
        set_(self, "scheme", scheme or ("basic" if basic else "token"))
        set_(self, "_keys", keyring(self.secrets, _fingerprint))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("TokenVerifier is immutable; build a new one")

    @property
    def required_headers(self) -> tuple[str, ...]:
        return (self.header,)

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Check the token; return a ``Verification`` or raise a ``VerificationError``."""
        if now is None:
            now = request.received_at
        value = single_header(request, self.header)
        if self.basic:
            token = self._basic_password(value)
        else:
            if self.prefix:
                head = value[: len(self.prefix)]
                if head.lower() != self.prefix.lower():
                    raise self._malformed(
                        f"the {self.header} header does not start with {self.prefix.strip()!r} "
                        "(check prefix=)"
                    )
                value = value[len(self.prefix) :]
            token = value.encode("latin-1")
        sent = _fingerprint(token)
        for entry in valid_keys(self._keys, now):
            if constant_time_equal(sent, entry.key):
                return Verification(scheme=self.scheme, key_id=entry.key_id)
        raise SignatureMismatch(f"the token in {self.header} does not match", header=self.header)

    def _basic_password(self, value: str) -> bytes:
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise self._malformed(f"the {self.header} header does not hold Basic credentials")
        try:
            user, colon, password = binascii.a2b_base64(
                encoded.strip(), strict_mode=True
            ).partition(b":")
        except (binascii.Error, ValueError):
            raise self._malformed(
                f"the Basic credentials in {self.header} are not valid base64"
            ) from None
        if not colon:
            raise self._malformed(f"the Basic credentials in {self.header} have no ':'")
        if self.username is not None and not constant_time_equal(
            _fingerprint(user), _fingerprint(self.username.encode("utf-8"))
        ):
            raise SignatureMismatch(
                f"the credentials in {self.header} do not match", header=self.header
            )
        return password

    def _malformed(self, message: str) -> MalformedHeader:
        return MalformedHeader(message, header=self.header)

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Return the header a sender would add: the newest valid token."""
        moment = time.time() if now is None else now
        token = newest_valid(keyring(self.secrets, bytes), moment).key
        if self.basic:
            credentials = (self.username or "webhook").encode("utf-8") + b":" + token
            encoded = binascii.b2a_base64(credentials, newline=False).decode("ascii")
            return {self.header: f"Basic {encoded}"}
        return {self.header: self.prefix + token.decode("latin-1")}

    def __repr__(self) -> str:
        return f"TokenVerifier(header={self.header!r}, secrets=<{len(self.secrets)} hidden>)"
