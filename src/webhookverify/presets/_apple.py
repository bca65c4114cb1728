"""Apple App Store Server Notifications (v2): a JWS signed by a key whose
certificate chain, in the JWS header, leads to Apple's root.

The body is ``{"signedPayload": "<JWS>"}``. The JWS (RFC 7515, compact) names
ES256 and carries ``x5c``: leaf, intermediate, root. The check follows
Apple's own library (app-store-server-library-python,
``SignedDataVerifier.verify_and_decode_notification``): ES256 only (pinned
here, before anything else is read: ``alg: none``, HS256 and the rest are
refused, RFC 8725 §3.1), the chain validated to a configured root at the
payload's ``signedDate`` with Apple's OIDs (:mod:`._apple_chain`), then the
signature, then the app: ``bundleId``, ``environment`` and ``appAppleId``
of the notification's ``data``, ``summary``, ``externalPurchaseToken`` or
``appData``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ..errors import (
    ConfigurationError,
    MalformedBody,
    MalformedHeader,
    MalformedSignature,
    MalformedTimestamp,
    NoValidKey,
    SignatureMismatch,
    UnsupportedSignatureVersion,
)
from ..keyfetch.jws import is_compact
from ..request import WebhookRequest
from ..types import ReplayMode, Verification
from ..verifiers._base import (
    DEFAULT_TOLERANCE,
    check_freshness,
    check_tolerance,
    replay_window,
    single_header,
)
from ..verifiers._bodyid import MAX_ID_LENGTH
from ._apple_claims import ENVIRONMENTS, AppleClaimMismatch, Environment, check_app
from ._common import owner_of, scheme_of
from ._jwt import json_segment, urlsafe_bytes

if TYPE_CHECKING:
    from ._apple_chain import Root, ValidChain
    from ._apple_testing import Signer

__all__ = ["APPLE_TOLERANCE", "AppleAppStoreVerifier", "AppleClaimMismatch", "apple_app_store"]

# Apple retries a notification that was not answered 2xx five times, 1, 12,
# 24, 48 and 72 hours after the previous attempt (App Store Server
# Notifications, "Responding to App Store Server Notifications"): the last
# retry comes about 157 hours after signedDate. A week covers it; the replay
# guard, keyed on notificationUUID, keeps a replay out within that week.
APPLE_TOLERANCE: Final = 7 * 24 * 3600.0
# A notification is a few KiB: three certificates (about 2 KiB of base64
# each) and a payload that may nest two more JWS. 256 KiB is not Apple's.
MAX_SIGNED_PAYLOAD: Final = 256 * 1024
# 9999-12-31T23:59:59.999Z, the last instant a certificate can name
# (RFC 5280 §4.1.2.5): a signedDate beyond it is not a date.
MAX_SIGNED_DATE_MS: Final = 253_402_300_799_999
# Validated chains kept (all dropped when full): Apple signs with one or two
# leaves at a time (its own library keeps 32), and path validation is 85% of
# a verification. A chain is a key, not a request: its entry is the leaf key.
MAX_CACHED_CHAINS: Final = 32
CONTENT_TYPE: Final = "Content-Type"
_WHERE: Final = "signedPayload"
_OWNER: Final = owner_of("apple_app_store")


class AppleAppStoreVerifier:
    """Verify an App Store Server Notification v2 (``{"signedPayload": JWS}``).

    Args:
        bundle_id: the app's bundle id; a notification for another app is refused.
        environment: ``"Production"`` (default), ``"Sandbox"``, or ``None`` for both.
        app_apple_id: the app's Apple ID (a number); required in Production.
        root_certificates: the trusted roots (default: Apple Root CA - G3,
            pinned in the package); a :class:`~webhookverify.Secret` holding a
            certificate gives it a ``key_id`` and a validity window.
        tolerance: seconds ``signedDate`` may be old (default a week: Apple's retries).
        future_tolerance: seconds it may be ahead (default 300).
        signing_keys: ``{root key_id: (leaf private key, [leaf, intermediate,
            root])}``, for :meth:`signed_body` only (tests).

    Raises:
        ConfigurationError: a missing ``bundle_id``, an unknown environment,
            Production without ``app_apple_id``, an unreadable certificate.
    """

    __slots__ = (
        "_chains",
        "_roots",
        "_signers",
        "app_apple_id",
        "bundle_id",
        "environment",
        "future_tolerance",
        "tolerance",
    )

    bundle_id: str
    environment: Environment | None
    app_apple_id: int | None
    tolerance: float | None
    future_tolerance: float | None
    _roots: tuple[Root, ...]
    _signers: dict[str, Signer]
    _chains: dict[tuple[str, ...], ValidChain]

    def __init__(
        self,
        *,
        bundle_id: str | None = None,
        environment: Environment | None = "Production",
        app_apple_id: int | None = None,
        root_certificates: Iterable[Any] | None = None,
        tolerance: float | None = APPLE_TOLERANCE,
        future_tolerance: float | None = DEFAULT_TOLERANCE,
        signing_keys: Mapping[str, tuple[Any, Iterable[Any]]] | None = None,
    ) -> None:
        if not isinstance(bundle_id, str) or not bundle_id:
            raise ConfigurationError(
                f"{_OWNER} needs bundle_id= (the app's bundle id, e.g. 'com.example.app'): "
                "Apple signs every app's notifications with the same chain"
            )
        if environment is not None and environment not in ENVIRONMENTS:
            raise ConfigurationError(
                f"{_OWNER}(environment=...) is 'Production', 'Sandbox' or None (both); "
                f"not {environment!r}"
            )
        if app_apple_id is not None and (
            isinstance(app_apple_id, bool) or not isinstance(app_apple_id, int)
        ):
            raise ConfigurationError(f"{_OWNER}(app_apple_id=...) is the app's Apple ID, a number")
        if environment != "Sandbox" and app_apple_id is None:
            raise ConfigurationError(
                f"{_OWNER} needs app_apple_id= in Production (App Store Connect > the app > "
                "App Information > Apple ID), as Apple's library does"
            )
        from . import _apple_chain, _apple_testing

        roots = _apple_chain.load_roots(root_certificates, _OWNER)
        known = [root.key_id for root in roots]
        set_ = object.__setattr__
        set_(self, "bundle_id", bundle_id)
        set_(self, "environment", environment)
        set_(self, "app_apple_id", app_apple_id)
        set_(self, "_roots", roots)
        set_(self, "_chains", {})
        set_(self, "_signers", _apple_testing.load_signers(signing_keys or {}, known, _OWNER))
        set_(self, "tolerance", check_tolerance(tolerance, "tolerance", _OWNER))
        set_(
            self,
            "future_tolerance",
            check_tolerance(future_tolerance, "future_tolerance", _OWNER),
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("AppleAppStoreVerifier is immutable; build a new one")

    @property
    def required_headers(self) -> tuple[str, ...]:
        # Nothing is signed in a header: the signature is in the JSON body.
        return (CONTENT_TYPE,)

    @property
    def replay_default(self) -> ReplayMode:
        return "id"  # notificationUUID, signed, the same on every retry

    @property
    def replay_window(self) -> float | None:
        return replay_window(self.tolerance, self.future_tolerance)

    # -- verification --------------------------------------------------------------

    def _token(self, request: WebhookRequest) -> str:
        media = single_header(request, CONTENT_TYPE).split(";", 1)[0].strip().lower()
        if media != "application/json":
            raise MalformedHeader(
                "App Store notifications are application/json", header=CONTENT_TYPE
            )
        if len(request.body) > MAX_SIGNED_PAYLOAD:
            raise MalformedBody("the body is larger than an App Store notification")
        try:
            # RFC 8259 §8.1: JSON between systems is UTF-8 (Apple's is); a str
            # spares json.loads its encoding detection
            document = json.loads(request.body.decode("utf-8"))
        except (ValueError, RecursionError):
            raise MalformedBody("the body is not JSON (an App Store notification is)") from None
        # Only signedPayload: anything else in the body is unsigned, and a
        # listener reading it from Delivery.json() would trust it.
        token = document.get(_WHERE) if isinstance(document, dict) and len(document) == 1 else None
        # RFC 7515 §7.1: three base64url segments (no padding), two dots
        if not isinstance(token, str) or not is_compact(token):
            raise MalformedSignature(
                'the body has no {"signedPayload": "<compact JWS>"}', header=_WHERE
            )
        return token

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify the notification's JWS, its chain, then its app.

        Returns:
            the :class:`Verification`: ``key_id`` the root's, ``timestamp`` the
            payload's ``signedDate`` (seconds), ``delivery_id`` its ``notificationUUID``.

        Raises:
            MalformedHeader / MalformedBody / MalformedSignature: not a JSON
                body with a compact JWS, or ``x5c`` not three certificates.
            UnsupportedSignatureVersion: ``alg`` is not ES256, or ``crit`` is set.
            SignatureMismatch: the chain or the signature does not hold.
            AppleClaimMismatch: another app or environment.
            MalformedTimestamp: no ``signedDate``.
            TimestampTooOld / TimestampInFuture: ``signedDate`` outside the window.
            NoValidKey: no configured root is valid at ``now``.
        """
        moment = request.received_at if now is None else now
        from . import _apple_chain

        segments = self._token(request).split(".")
        jose = json_segment(segments[0], "header", _WHERE)
        if jose.get("alg") != "ES256" or "crit" in jose:
            raise UnsupportedSignatureVersion(
                "the JWS is not ES256 without extensions, the only form Apple sends", header=_WHERE
            )
        payload = json_segment(segments[1], "payload", _WHERE)
        signed_ms = payload.get("signedDate")
        dated = type(signed_ms) is int and 0 <= signed_ms <= MAX_SIGNED_DATE_MS
        # Apple's library judges the chain at signedDate, or now when there is none
        signed_at = signed_ms / 1000 if type(signed_ms) is int and dated else moment
        if not any(root.valid_at(moment) for root in self._roots):
            raise NoValidKey()
        key, root_id = self._chain(jose.get("x5c"), signed_at, moment)
        try:
            signature = urlsafe_bytes(segments[2])
        except ValueError:  # binascii.Error is one
            raise MalformedSignature("the JWS signature is not base64url", header=_WHERE) from None
        signing_input = f"{segments[0]}.{segments[1]}".encode("ascii")
        if not _apple_chain.es256_verify(key, signature, signing_input):
            raise SignatureMismatch("the JWS signature does not match its x5c leaf", header=_WHERE)
        check_app(payload, self.bundle_id, self.environment, self.app_apple_id)
        if not dated:
            raise MalformedTimestamp("the payload has no signedDate (milliseconds)", header=_WHERE)
        check_freshness(signed_at, moment, self.tolerance, self.future_tolerance, _WHERE)
        uuid = payload.get("notificationUUID")
        return Verification(
            scheme=scheme_of("apple_app_store", "es256"),
            key_id=root_id,
            timestamp=signed_at,
            delivery_id=uuid if isinstance(uuid, str) and 0 < len(uuid) <= MAX_ID_LENGTH else None,
            signed=(signing_input,),
        )

    def _chain(self, x5c: object, at: float, now: float) -> tuple[Any, str]:
        """The leaf key and root of ``x5c`` validated at ``at``, from the cache if
        this chain was validated before and ``at`` is within its span."""
        from . import _apple_chain

        name = tuple(x5c) if isinstance(x5c, list) and all(type(c) is str for c in x5c) else None
        known = self._chains.get(name) if name is not None else None
        if (
            known is not None
            and known.not_before <= at <= known.not_after
            and any(r.key_id == known.root_id and r.valid_at(now) for r in self._roots)
        ):
            return known.key, known.root_id
        valid = _apple_chain.verify_chain(x5c, self._roots, at, now)
        if name is not None:
            if len(self._chains) >= MAX_CACHED_CHAINS:
                self._chains.clear()  # one step, safe under threads; rare
            self._chains[name] = valid
        return valid.key, valid.root_id

    # -- the sender's side (tests) ---------------------------------------------------

    def signed_body(self, payload: Mapping[str, Any], now: float | None = None) -> bytes:
        """Build ``{"signedPayload": JWS}`` as Apple sends it, with a configured test chain.

        Args:
            payload: the claims; ``signedDate`` is set from ``now`` unless given.
            now: the signing time (default: the clock); the root used is the
                last one in ``signing_keys`` valid at ``now``.

        Raises:
            ConfigurationError: no ``signing_keys``. NoValidKey: none valid at ``now``.
        """
        from . import _apple_testing

        moment = time.time() if now is None else now
        if not self._signers:
            raise ConfigurationError(f"{_OWNER}: signed_body() needs signing_keys= (tests only)")
        windows = {root.key_id: root for root in self._roots}
        usable = [k for k in self._signers if windows[k].valid_at(moment)]
        if not usable:
            raise NoValidKey()
        claims = {"signedDate": int(moment * 1000), **payload}
        token = _apple_testing.sign_jws(self._signers[usable[-1]], claims)
        return json.dumps({_WHERE: token}, separators=(",", ":")).encode("utf-8")

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Return the headers for a body made by :meth:`signed_body`.

        Apple sends no signature header: the signature is the body's JWS. This
        returns the ``Content-Type`` to send, after checking that ``body``
        verifies at ``now``.

        Raises:
            VerificationError: ``body`` does not verify at ``now``.
        """
        moment = time.time() if now is None else now
        headers = {CONTENT_TYPE: "application/json"}
        self.verify(WebhookRequest(headers=headers, body=body, received_at=moment), moment)
        return headers

    def __repr__(self) -> str:
        roots = [root.key_id for root in self._roots]
        return (
            f"AppleAppStoreVerifier(bundle_id={self.bundle_id!r}, "
            f"environment={self.environment!r}, app_apple_id={self.app_apple_id!r}, "
            f"roots={roots!r})"
        )


def apple_app_store(
    *,
    bundle_id: str | None = None,
    environment: Environment | None = "Production",
    app_apple_id: int | None = None,
    root_certificates: Iterable[Any] | None = None,
    tolerance: float | None = APPLE_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
    signing_keys: Mapping[str, tuple[Any, Iterable[Any]]] | None = None,
) -> AppleAppStoreVerifier:
    """Apple App Store Server Notifications, version 2.

    Key: none to configure. Apple signs with a certificate whose chain is in
    the message; it is validated to Apple Root CA - G3, pinned in the package
    (``_apple_chain.APPLE_ROOT_CA_G3``, from
    https://www.apple.com/certificateauthority/, SHA-256
    ``63343abf...653e9179``). Configure ``bundle_id=`` (the app's bundle id)
    and, in Production, ``app_apple_id=`` (App Store Connect > the app > App
    Information > Apple ID): Apple signs every app's notifications with the
    same chain, so without them any app's notification would pass.

    What is signed: the body is ``{"signedPayload": "<JWS>"}``; the JWS is
    ES256 with an ``x5c`` header (leaf, intermediate, root). The algorithm
    is pinned to ES256 (``alg: none``, HS256 and the rest are refused); the
    chain must lead to the configured root, valid at the payload's
    ``signedDate``, with Apple's OIDs (leaf 1.2.840.113635.100.6.11.1,
    intermediate 1.2.840.113635.100.6.2.1); then the signature; then
    ``bundleId``, ``environment`` and ``appAppleId``.

    What differs: revocation is not checked. Apple's library can query OCSP
    (``enable_online_checks``); this verifier stays offline: a request must
    not make the receiver call out (latency, a dependency on Apple's OCSP
    responder being up, a fetch any sender can trigger), and an App Store
    signing key compromise would be met by Apple rotating the intermediate.
    ``signedDate`` may be a week old (``APPLE_TOLERANCE``): Apple retries for
    about 157 hours. The ``Xcode`` and ``LocalTesting`` environments, which
    Apple does not sign, are refused.

    Replay id: the signed ``notificationUUID`` (the same on every retry).

    Source: Apple's app-store-server-library-python
    (``appstoreserverlibrary/signed_data_verifier.py``), whose test
    notification and certificate chains are this preset's vectors.

    Args:
        bundle_id: the app's bundle id (required).
        environment: ``"Production"`` (default), ``"Sandbox"``, or ``None`` (either).
        app_apple_id: the app's Apple ID; required unless ``environment="Sandbox"``.
        root_certificates: other roots, for tests (default: Apple's).
        tolerance / future_tolerance: the ``signedDate`` window (a week / 300 s).
        signing_keys: test chains for :meth:`AppleAppStoreVerifier.signed_body`.

    Returns:
        An ``AppleAppStoreVerifier``.

    Raises:
        ConfigurationError: as ``AppleAppStoreVerifier``.
    """
    return AppleAppStoreVerifier(
        bundle_id=bundle_id,
        environment=environment,
        app_apple_id=app_apple_id,
        root_certificates=root_certificates,
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        signing_keys=signing_keys,
    )
