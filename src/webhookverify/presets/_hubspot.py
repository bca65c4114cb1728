"""HubSpot's three request signatures, with the accepted set pinned.

- v3: ``X-HubSpot-Signature-v3`` = base64 HMAC-SHA256 over
  ``method + uri + body + timestamp`` with ``X-HubSpot-Request-Timestamp`` in
  milliseconds; the URI has a fixed list of percent-escapes decoded first.
- v2: ``X-HubSpot-Signature`` = hex SHA-256 of
  ``client_secret + method + uri + body``.
- v1: ``X-HubSpot-Signature`` = hex SHA-256 of ``client_secret + body``.

v1 and v2 are plain hashes of the secret followed by the data, not HMACs:
they carry no timestamp (a captured request replays forever) and SHA-256 of
``secret || data`` admits length extension. They are accepted only when named
in ``versions=``; ``X-HubSpot-Signature-Version`` then selects among them.

Sources: HubSpot "Validating requests"
(https://developers.hubspot.com/docs/api/webhooks/validating-requests) and
HubSpot/hubspot-api-python ``hubspot/utils/signature.py``.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from ..errors import (
    ConfigurationError,
    MalformedSignature,
    NoValidKey,
    SignatureMismatch,
    UnsupportedSignatureVersion,
)
from ..keys import Secret, to_secrets
from ..request import WebhookRequest
from ..verifiers import HmacVerifier, Verification
from ..verifiers._base import (
    DEFAULT_TOLERANCE,
    ReplayMode,
    constant_time_equal,
    decode_signature,
    single_header,
)
from ._common import (
    SecretInput,
    check_json_after_url,
    check_windows,
    hmac_preset,
    owner_of,
    scheme_of,
)

__all__ = [
    "HUBSPOT_TOLERANCE",
    "HubSpotVerifier",
    "HubSpotVersion",
    "hubspot",
    "hubspot_v3_uri",
]

HubSpotVersion = Literal["v1", "v2", "v3"]

# HubSpot: "reject the request if the timestamp is older than 5 minutes".
HUBSPOT_TOLERANCE = 300.0

V3_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
LEGACY_HEADER = "X-HubSpot-Signature"
VERSION_HEADER = "X-HubSpot-Signature-Version"
_VERSIONS = ("v1", "v2", "v3")

# HubSpot "Validating requests" > v3: these escapes are decoded in the URI
# before it is signed (and only these: %20, %25 and the rest stay as sent).
_V3_ESCAPES = re.compile(r"%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)", re.IGNORECASE)


def hubspot_v3_uri(uri: str) -> str:
    """Decode the percent-escapes HubSpot decodes before signing a v3 URI.

    ``%3A : %2F / %3F ? %40 @ %21 ! %24 $ %27 ' %28 ( %29 ) %2A * %2C , %3B ;``
    in either case; every other escape is left as it is.
    """
    return _V3_ESCAPES.sub(lambda m: chr(int(m.group(1), 16)), uri)


class _V3Message:
    """``method + decoded uri``, the raw body, then the timestamp as sent.

    Nothing between them marks where one ends: the URL and the body are held
    to ``check_json_after_url``, and the timestamp (run into the body, or
    the URI when there is none) to the clock's width.
    """

    __slots__ = ()

    signs: frozenset[str] = frozenset({"timestamp"})
    bare_timestamp = True

    def __call__(self, request: WebhookRequest, values: Mapping[str, str]) -> Sequence[bytes]:
        check_json_after_url(request.url, request.body, "HubSpot", V3_HEADER)
        head = (request.method + hubspot_v3_uri(request.url)).encode("utf-8")
        return (head, request.body, values["timestamp"].encode("latin-1"))

    def __repr__(self) -> str:
        return "HubSpotV3Message()"


class HubSpotVerifier:
    """Verify HubSpot's v3 signature, and v1/v2 only where pinned.

    Args:
        secret / secrets: the app's client secret(s), oldest first.
        versions: the signature versions accepted (a subset of
            ``("v1", "v2", "v3")``). A request carrying ``X-HubSpot-Signature-v3``
            is verified as v3 when v3 is pinned, and never falls back to an
            older version if that fails; otherwise ``X-HubSpot-Signature-Version``
            selects v1 or v2 within the pinned set.
        tolerance: how old a v3 timestamp may be, in seconds (HubSpot: 300).
        future_tolerance: how far ahead of this clock it may be (default 300).

    Raises:
        ConfigurationError: no secret, or ``versions`` empty or unknown.
    """

    __slots__ = ("_legacy", "_v3", "secrets", "versions")

    secrets: tuple[Secret, ...]
    versions: frozenset[HubSpotVersion]
    _v3: HmacVerifier | None
    _legacy: tuple[HubSpotVersion, ...]

    def __init__(
        self,
        *,
        secret: SecretInput | None = None,
        secrets: Iterable[SecretInput] | None = None,
        versions: Iterable[HubSpotVersion] = ("v3",),
        tolerance: float | None = HUBSPOT_TOLERANCE,
        future_tolerance: float | None = DEFAULT_TOLERANCE,
    ) -> None:
        owner = owner_of("hubspot")
        keys = to_secrets(secret, secrets, owner=owner)
        if isinstance(versions, str) or not isinstance(versions, Iterable):
            raise ConfigurationError(
                f"{owner}(versions=...) takes a tuple such as ('v3',) or ('v1', 'v2', 'v3')"
            )
        pinned = frozenset(versions)
        unknown = pinned.difference(_VERSIONS)
        if not pinned or unknown:
            raise ConfigurationError(
                f"{owner}(versions=...) must name one or more of 'v1', 'v2', 'v3'"
                + (f"; {sorted(map(str, unknown))} unknown" if unknown else "")
            )
        set_ = object.__setattr__
        set_(self, "secrets", keys)
        set_(self, "versions", pinned)
        set_(self, "_legacy", tuple(v for v in ("v2", "v1") if v in pinned))
        v3 = None
        if "v3" in pinned:
            v3 = hmac_preset(
                "hubspot",
                secret=None,
                secrets=keys,
                header=V3_HEADER,
                encoding="base64",
                template=_V3Message(),
                timestamp_header=TIMESTAMP_HEADER,
                timestamp_format="unix_ms",
                tolerance=tolerance,
                future_tolerance=future_tolerance,
                mechanism="v3",
            )
        set_(self, "_v3", v3)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("HubSpotVerifier is immutable; build a new one")

    @property
    def required_headers(self) -> tuple[str, ...]:
        """The headers every accepted version needs (none in common for v3 + v1/v2)."""
        if not self._legacy:
            return (V3_HEADER, TIMESTAMP_HEADER)
        if self._v3 is None:
            return (LEGACY_HEADER, VERSION_HEADER)
        return ()

    @property
    def replay_default(self) -> ReplayMode:
        return "content"

    @property
    def replay_window(self) -> float | None:
        if self._v3 is None or self._legacy:
            return None  # v1/v2 sign no timestamp: a capture replays at any time
        return self._v3.replay_window

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        """Verify ``request``; return what was proved or raise a ``VerificationError``."""
        if self._v3 is not None and (not self._legacy or V3_HEADER in request.headers):
            verification = self._v3.verify(request, now)
            if not self._legacy:
                return verification
            # With older versions accepted too, every version keys the replay
            # guard on what all of them sign, the body: else a delivery
            # stripped of its v3 signature verifies by v2 under another key
            # and is dispatched twice.
            return verification._replace(signed=(request.body,))
        version = single_header(request, VERSION_HEADER)
        if version not in self._legacy:
            raise UnsupportedSignatureVersion(
                f"{VERSION_HEADER} names a version this verifier does not accept (check versions=)",
                header=VERSION_HEADER,
            )
        signature = decode_signature(
            single_header(request, LEGACY_HEADER), "hex_lower", LEGACY_HEADER
        )
        if len(signature) != hashlib.sha256().digest_size:
            raise MalformedSignature(
                f"the signature in {LEGACY_HEADER} is not a SHA-256 hex digest",
                header=LEGACY_HEADER,
            )
        moment = request.received_at if now is None else now
        parts = self._legacy_parts(request, version)
        any_valid = False
        for index, secret in enumerate(self.secrets):
            if not secret.is_valid_at(moment):
                continue
            any_valid = True
            if constant_time_equal(_legacy_digest(secret.value, parts), signature):
                return Verification(
                    scheme=scheme_of("hubspot", version),
                    key_id=secret.key_id or f"secret[{index}]",
                    signed=(request.body,),  # the replay key: what every version signs
                )
        if not any_valid:
            raise NoValidKey()
        raise SignatureMismatch(
            f"the signature in {LEGACY_HEADER} does not match", header=LEGACY_HEADER
        )

    @staticmethod
    def _legacy_parts(request: WebhookRequest, version: str) -> tuple[bytes, ...]:
        if version == "v1":
            return (request.body,)
        # v2: "The URI used to build the source string must exactly match the
        # original request, including the protocol" (no decoding, unlike v3).
        check_json_after_url(request.url, request.body, "HubSpot", LEGACY_HEADER)
        return ((request.method + request.url).encode("utf-8"), request.body)

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """Sign as HubSpot does: v3 and, where pinned, the newest legacy version.

        Args:
            body: the raw body.
            now: unix seconds for the v3 timestamp (default: the clock).
            parts: ``method=`` and ``url=`` (both signed), ``timestamp=``.

        Raises:
            NoValidKey: no secret is valid at ``now``.
        """
        moment = time.time() if now is None else now
        headers: dict[str, str] = {}
        if self._v3 is not None:
            headers.update(self._v3.sign(body, moment, **parts))
        if self._legacy:
            valid = [s for s in self.secrets if s.is_valid_at(moment)]
            if not valid:
                raise NoValidKey()
            version = self._legacy[0]
            request = WebhookRequest(
                method=parts.get("method", "POST"), url=parts.get("url", ""), body=body
            )
            digest = _legacy_digest(valid[-1].value, self._legacy_parts(request, version))
            headers[LEGACY_HEADER] = digest.hex()
            headers[VERSION_HEADER] = version
        return headers

    def __repr__(self) -> str:
        return (
            f"HubSpotVerifier(versions={sorted(self.versions)!r}, "
            f"secrets=<{len(self.secrets)} hidden>)"
        )


def _legacy_digest(key: bytes, parts: Sequence[bytes]) -> bytes:
    # v1/v2: SHA-256 over client_secret followed by the parts, not an HMAC.
    digest = hashlib.sha256(key)
    for part in parts:
        digest.update(part)
    return digest.digest()


def hubspot(
    *,
    secret: SecretInput | None = None,
    secrets: Iterable[SecretInput] | None = None,
    versions: Iterable[HubSpotVersion] = ("v3",),
    tolerance: float | None = HUBSPOT_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
) -> HubSpotVerifier:
    """HubSpot webhooks and app requests (signature v3; v1 and v2 on request).

    Secret: the app's client secret (*developer account > Apps > (the app) >
    Auth > Client secret*).

    Signed (v3): ``method + URI + raw body + X-HubSpot-Request-Timestamp``,
    HMAC-SHA256, base64 in ``X-HubSpot-Signature-v3``. The timestamp is in
    **milliseconds**; HubSpot refuses anything older than 5 minutes. Before
    signing, HubSpot decodes ``%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C
    %3B`` in the URI (and no other escape); the request URL is decoded the
    same way here. Nothing marks where the URI ends and the body starts, so
    (v3 and v2) a body that is neither empty nor JSON, or a URL holding a raw
    ``{`` or ``[``, is refused: either would let bytes move between the two
    under one signature.

    Versions: only v3 by default. v1 (SHA-256 of secret + body) and v2
    (SHA-256 of secret + method + URI + body) are plain hashes, not HMACs,
    sign no timestamp and allow length extension; HubSpot sends them
    alongside v3 "for backwards compatibility". Name them, e.g.
    ``versions=("v1", "v2", "v3")``, only for senders that send nothing
    newer. A request then selects within that set: v3 when it carries
    ``X-HubSpot-Signature-v3`` (no fallback if it fails), else the version in
    ``X-HubSpot-Signature-Version``.

    Replay id: content hash. The body is a batch (a JSON array) of events,
    each with its own ``eventId``; no one id names the delivery, so a retry
    signed again with a new timestamp is not recognised.

    Source: HubSpot docs "Validating requests"
    (https://developers.hubspot.com/docs/api/webhooks/validating-requests) and
    HubSpot/hubspot-api-python ``hubspot/utils/signature.py``; cross-checked
    against the docs' and that SDK's test vectors (the SDK is not installed).

    Args:
        secret: the secret, as text (UTF-8) or bytes, or a ``Secret``.
        secrets: several, oldest first, while rotating (not with ``secret``).
        versions: the signature versions accepted, a tuple drawn from
            ``"v1"``, ``"v2"`` and ``"v3"``.
        tolerance: seconds a v3 timestamp may lie in the past; ``None`` turns
            the check off (by name only).
        future_tolerance: seconds it may lie ahead of this clock.

    Returns:
        A ``HubSpotVerifier``; ``Verification.scheme`` names the version
        that passed (``hubspot-v3``, ...).

    Raises:
        ConfigurationError: a missing or empty secret, ``versions`` empty or
            naming an unknown version, or a bad tolerance.
    """
    tolerance, future_tolerance = check_windows("hubspot", tolerance, future_tolerance)
    return HubSpotVerifier(
        secret=secret,
        secrets=secrets,
        versions=versions,
        tolerance=tolerance,
        future_tolerance=future_tolerance,
    )
