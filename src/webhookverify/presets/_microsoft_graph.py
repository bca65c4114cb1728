"""Microsoft Graph change notifications: the ``clientState`` secret in each
notification, and for rich notifications (resource data included) the
``validationTokens``, RS256 JWTs from the Microsoft identity platform's
published keys (Microsoft Graph docs, "Set up change notifications that
include resource data": validating the authenticity of notifications).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from typing import Any, Final

from .._checks import check_list, check_methods
from ..errors import ConfigurationError, MalformedBody, SignatureMismatch
from ..keyfetch import (
    ClaimMismatch,
    FetchedKey,
    FetchedKeyVerifier,
    Fetcher,
    JwksSource,
    KeySource,
    Pending,
)
from ..keyfetch.jws import check_claims, check_signature, encode, read_token
from ..keys import Secret
from ..request import WebhookRequest
from ..types import Verification
from ..verifiers._base import DEFAULT_TOLERANCE, constant_time_equal, single_header
from ..verifiers._keyring import KeyEntry, newest_valid, valid_keys, window_of
from ._common import SecretInput, check_leeway, owner_of, scheme_of
from ._handshakes import graph_validation

__all__ = ["GRAPH_APP_ID", "MICROSOFT_JWKS_URL", "MicrosoftGraphVerifier", "microsoft_graph"]

MICROSOFT_JWKS_URL: Final = "https://login.microsoftonline.com/common/discovery/v2.0/keys"
# The application id of Microsoft Graph's change-tracking service: the
# ``azp`` (v2) or ``appid`` (v1) of every validation token.
GRAPH_APP_ID: Final = "0bf30f3b-4a52-48df-9a82-234910c4a086"
# Graph batches notifications; a delivery holds far fewer than this.
MAX_NOTIFICATIONS: Final = 1000
# One token per application and tenant in the batch.
MAX_TOKENS: Final = 16
# Graph's bodies stay well under 1 MiB (rich notifications included).
MAX_BODY_BYTES: Final = 4 << 20
_TENANT: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class MicrosoftGraphVerifier(FetchedKeyVerifier):
    """Graph change notifications; see :func:`microsoft_graph`."""

    __slots__ = (
        "app_id",
        "client_states",
        "handshake",
        "leeway",
        "private_key",
        "replay_default",
        "replay_window",
        "required_headers",
        "signing_key_id",
        "source",
        "tenants",
    )

    client_states: tuple[KeyEntry[bytes], ...]
    app_id: str | None
    tenants: frozenset[str] | None
    leeway: float
    private_key: Any
    signing_key_id: str | None

    def __init__(self, **fields: Any) -> None:
        self.init_fields(
            **fields,
            required_headers=("Content-Type",),
            # the subscription's endpoint check, answered by the receiver
            handshake=graph_validation(),
            replay_default="off",  # nothing signs the notifications' content
            replay_window=None,
        )

    def read(self, request: WebhookRequest) -> dict[str, Any]:
        """The notification batch in ``request`` (nothing checked yet but its form)."""
        media = single_header(request, "Content-Type").split(";", 1)[0].strip().lower()
        if media != "application/json":
            raise MalformedBody("Graph sends change notifications as application/json")
        if len(request.body) > MAX_BODY_BYTES:
            raise MalformedBody("the body is larger than a Graph notification batch")
        try:
            batch = json.loads(request.body)
        except (ValueError, RecursionError):
            raise MalformedBody("the body is not a Graph notification batch (JSON)") from None
        items = batch.get("value") if isinstance(batch, dict) else None
        if not isinstance(items, list) or not 0 < len(items) <= MAX_NOTIFICATIONS:
            raise MalformedBody("the body holds no Graph notifications (value)")
        if not all(isinstance(item, dict) for item in items):
            raise MalformedBody("a Graph notification is not a JSON object")
        found: dict[str, Any] = batch
        return found

    def _client_state(self, items: list[dict[str, Any]], now: float) -> str:
        """The key id of the client state every notification carries."""
        keys = valid_keys(self.client_states, now)
        found = ""
        for item in items:
            sent = item.get("clientState")
            raw = sent.encode("utf-8") if isinstance(sent, str) else b""
            match = [e.key_id for e in keys if constant_time_equal(e.key, raw)]
            if not match:
                raise SignatureMismatch("a notification's clientState is not a configured one")
            found = found or match[0]
        return found

    def _check_token(self, token: Any, key: FetchedKey, now: float) -> float | None:
        where = "validationTokens"
        check_signature(token, key, "RS256", now, where)
        claims = token.claims
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or not _TENANT.fullmatch(tenant):
            raise ClaimMismatch("the validation token names no tenant (tid)")
        if self.tenants is not None and tenant not in self.tenants:
            raise ClaimMismatch(
                "the validation token is for a tenant not configured (tenant_ids=...)"
            )
        issuers = (
            f"https://sts.windows.net/{tenant}/",
            f"https://login.microsoftonline.com/{tenant}/v2.0",
        )
        issued = check_claims(
            claims,
            now,
            where=where,
            issuers=issuers,
            audiences=(self.app_id or "",),
            leeway=self.leeway,
        )
        if GRAPH_APP_ID not in (claims.get("azp"), claims.get("appid")):
            raise ClaimMismatch("the validation token was not issued to Microsoft Graph")
        return issued

    @property
    def scheme(self) -> str:
        """``microsoft-graph-validation-token`` with ``app_id``, else ``-client-state``."""
        mechanism = "client-state" if self.app_id is None else "validation-token"
        return scheme_of("microsoft_graph", mechanism)

    def prepare(self, request: WebhookRequest, now: float) -> Pending:
        batch = self.read(request)
        key_id = self._client_state(batch["value"], now)
        tokens: list[Any] = []
        if self.app_id is not None:
            sent = batch.get("validationTokens")
            if not isinstance(sent, list) or not 0 < len(sent) <= MAX_TOKENS:
                raise SignatureMismatch("the rich notification carries no validationTokens")
            for text in sent:
                if not isinstance(text, str):
                    raise MalformedBody("a validation token is not text")
                tokens.append(read_token(text, "RS256", "validationTokens"))
            if any(token.kid is None for token in tokens):
                raise ClaimMismatch("a validation token names no key (kid)")

        def finish(keys: tuple[FetchedKey, ...]) -> Verification:
            times = [self._check_token(t, k, now) for t, k in zip(tokens, keys, strict=True)]
            issued = min((t for t in times if t is not None), default=None)
            mechanism = "client-state" if not tokens else "validation-token"
            return Verification(scheme_of("microsoft_graph", mechanism), key_id, issued, None, ())

        return Pending(tuple(token.kid for token in tokens), finish)

    def notification(self, resource: str, *, now: float | None = None, tenant: str = "") -> bytes:
        """A batch of one notification as Graph would send it, with the newest
        client state (and, in rich mode, a validation token: needs ``private_key``)."""
        moment = time.time() if now is None else now
        tenant = tenant or "72f988bf-86f1-41af-91ab-2d7cd011db47"
        state = newest_valid(self.client_states, moment).key.decode("utf-8")
        item = {
            "subscriptionId": "e1ac8e5f-6c3b-4c36-a2c6-2e5e6c0e3f7a",
            "changeType": "updated",
            "resource": resource,
            "clientState": state,
            "tenantId": tenant,
        }
        batch: dict[str, Any] = {"value": [item]}
        if self.app_id is not None:
            if self.private_key is None or self.signing_key_id is None:
                raise ConfigurationError(
                    "presets.microsoft_graph signs only with private_key= (tests)"
                )
            claims = {
                "iss": f"https://sts.windows.net/{tenant}/",
                "aud": self.app_id,
                "appid": GRAPH_APP_ID,
                "tid": tenant,
                "iat": int(moment),
                "nbf": int(moment),
                "exp": int(moment) + 3600,
            }
            header = {"kid": self.signing_key_id, "typ": "JWT"}
            batch["validationTokens"] = [encode(header, claims, self.private_key, "RS256")]
        return json.dumps(batch).encode()

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """The headers Graph sends with ``body``, a batch made by :meth:`notification`."""
        return {"Content-Type": "application/json; charset=utf-8"}

    def __repr__(self) -> str:
        count = len(self.client_states)
        return f"MicrosoftGraphVerifier(app_id={self.app_id!r}, client_states={count})"


def microsoft_graph(
    *,
    client_state: SecretInput | None = None,
    client_states: Iterable[SecretInput] | None = None,
    app_id: str | None = None,
    tenant_ids: Iterable[str] | None = None,
    jwks_url: str = MICROSOFT_JWKS_URL,
    keys: KeySource | None = None,
    fetcher: Fetcher | None = None,
    leeway: float = DEFAULT_TOLERANCE,
    private_key: Any = None,
    signing_key_id: str | None = None,
) -> MicrosoftGraphVerifier:
    """Microsoft Graph change notifications (basic, and rich with validation tokens).

    Where the settings are: ``clientState`` is the secret your app chose when
    it created the subscription (``POST /subscriptions``); ``app_id`` is the
    app's "Application (client) ID" in Microsoft Entra admin center → App
    registrations, needed for rich notifications (``includeResourceData``).

    What is checked: every notification in the batch carries a configured
    ``clientState`` (compared in constant time). With ``app_id``, the batch
    must carry ``validationTokens``: RS256 JWTs from the Microsoft identity
    platform's key set (``login.microsoftonline.com``, fetched and cached),
    each for audience ``app_id``, issued to Microsoft Graph (``azp``/``appid``
    ``0bf30f3b-4a52-48df-9a82-234910c4a086``) by its tenant's issuer, and
    not expired. The algorithm is pinned to RS256.

    What differs: nothing signs the notifications' content; ``clientState``
    is a shared secret sent in the body, so keep it long and random and serve
    the endpoint over https. The subscription's ``validationToken`` query
    (the endpoint check when subscribing) is a handshake, not a delivery: the
    receiver answers it (see :func:`graph_validation`).

    Replay id: none (replay ``off``): make handlers idempotent.

    Args:
        client_state / client_states: the subscription's client state(s), oldest first.
        app_id: the app's id; turns on validation-token checks (rich notifications).
        tenant_ids: the tenants accepted in tokens (default any).
        jwks_url: the identity platform's key set (on ``login.microsoftonline.com``).
        keys: another key source (``FixedKeys`` in tests).
        fetcher: fetch bounds and the test hook (``keyfetch.Fetcher``).
        leeway: seconds of clock skew allowed on token times (default 300).
        private_key / signing_key_id: only to sign in tests.

    Raises:
        ConfigurationError: no client state, an empty app id or tenant list.
    """
    owner = owner_of("microsoft_graph")
    if client_state is not None and client_states is not None:
        raise ConfigurationError(f"{owner} takes client_state= or client_states=, not both")
    given = (
        [client_state]
        if client_state is not None
        else list(check_list(client_states or (), "client_states", owner))
    )
    if not given:
        raise ConfigurationError(f"{owner} needs client_state= (the subscription's clientState)")
    entries = []
    for index, value in enumerate(given):
        secret = value if isinstance(value, Secret) else Secret(value)
        entries.append(
            KeyEntry(secret.value, secret.key_id or f"secret[{index}]", window_of(secret))
        )
    if app_id is not None and (not isinstance(app_id, str) or not app_id):
        raise ConfigurationError(f"{owner}(app_id=...) must be the app's client id")
    tenants = None if tenant_ids is None else frozenset(check_list(tenant_ids, "tenant_ids", owner))
    if tenants is not None and not tenants:
        raise ConfigurationError(f"{owner}(tenant_ids=...) must name at least one tenant")
    leeway = check_leeway(leeway, owner)
    if keys is not None:
        check_methods(keys, ("key", "akey"), "keys", owner, "a key source such as FixedKeys")
    source = keys or JwksSource(jwks_url, hosts=("login.microsoftonline.com",), fetcher=fetcher)
    return MicrosoftGraphVerifier(
        client_states=tuple(entries),
        app_id=app_id,
        tenants=tenants,
        leeway=float(leeway),
        source=source,
        private_key=private_key,
        signing_key_id=signing_key_id,
    )
