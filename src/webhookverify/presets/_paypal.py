"""PayPal webhooks: RSA-SHA256 over ``transmission id|time|webhook id|CRC32(body)``,
by the certificate at ``PAYPAL-CERT-URL``, fetched only from PayPal's API hosts.

The signed string and the headers are those of PayPal's REST SDKs
(``WebhookEvent.verify``: ``"{id}|{time}|{webhook_id}|{crc32}"``, the CRC32
of the raw body as an unsigned decimal number).
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
import zlib
from typing import Any, Final, Literal

from .._checks import check_methods
from ..errors import (
    ConfigurationError,
    MalformedSignature,
    UnsupportedSignatureVersion,
)
from ..keyfetch import (
    CertificateUrl,
    FetchedKey,
    FetchedKeyVerifier,
    Fetcher,
    HostRules,
    KeySource,
    Pending,
    check_key_signature,
)
from ..request import WebhookRequest
from ..types import Verification
from ..verifiers._base import (
    DEFAULT_TOLERANCE,
    check_freshness,
    parse_timestamp,
    replay_window,
    single_header,
)
from ._common import check_windows, owner_of, scheme_of

__all__ = ["PAYPAL_CERT_HOSTS", "PaypalVerifier", "paypal"]

PAYPAL_CERT_HOSTS: Final = {
    "live": ("api.paypal.com", "api-m.paypal.com"),
    "sandbox": ("api.sandbox.paypal.com", "api-m.sandbox.paypal.com"),
}
PAYPAL_CERT_PATH: Final = r"/v1/notifications/certs/[A-Za-z0-9._-]{1,128}"
_ID: Final = "PAYPAL-TRANSMISSION-ID"
_TIME: Final = "PAYPAL-TRANSMISSION-TIME"
_SIG: Final = "PAYPAL-TRANSMISSION-SIG"
_CERT: Final = "PAYPAL-CERT-URL"
_ALGO: Final = "PAYPAL-AUTH-ALGO"
# The only algorithm PayPal signs webhooks with.
_PAYPAL_ALGORITHM: Final = "SHA256withRSA"
# A transmission id is a UUID (36 characters); bound what goes into the signed string.
_MAX_ID: Final = 128


class PaypalVerifier(FetchedKeyVerifier):
    """A PayPal webhook signed by a PayPal certificate; see :func:`paypal`."""

    __slots__ = (
        "future_tolerance",
        "private_key",
        "replay_default",
        "replay_window",
        "required_headers",
        "rules",
        "signing_cert_url",
        "source",
        "tolerance",
        "webhook_id",
    )

    webhook_id: str
    rules: HostRules
    tolerance: float | None
    future_tolerance: float | None
    private_key: Any
    signing_cert_url: str | None

    def __init__(
        self,
        *,
        webhook_id: str,
        rules: HostRules,
        source: KeySource,
        tolerance: float | None,
        future_tolerance: float | None,
        private_key: Any = None,
        signing_cert_url: str | None = None,
    ) -> None:
        self.init_fields(
            webhook_id=webhook_id,
            rules=rules,
            source=source,
            tolerance=tolerance,
            future_tolerance=future_tolerance,
            private_key=private_key,
            signing_cert_url=signing_cert_url,
            required_headers=(_SIG, _ID, _TIME, _CERT, _ALGO),
            replay_default="id",
            replay_window=replay_window(tolerance, future_tolerance),
        )

    @property
    def scheme(self) -> str:
        return scheme_of("paypal", "sha256withrsa")

    def prepare(self, request: WebhookRequest, now: float) -> Pending:
        if single_header(request, _ALGO) != _PAYPAL_ALGORITHM:
            raise UnsupportedSignatureVersion(
                f"the {_ALGO} header is not {_PAYPAL_ALGORITHM}, the only one PayPal uses",
                header=_ALGO,
            )
        transmission_id = single_header(request, _ID)
        sent_time = single_header(request, _TIME)
        if (
            len(transmission_id) > _MAX_ID
            or not transmission_id.isascii()
            or "|" in transmission_id
        ):
            raise MalformedSignature(f"the {_ID} header is not a transmission id", header=_ID)
        timestamp = parse_timestamp(sent_time, "rfc3339", _TIME)
        check_freshness(timestamp, now, self.tolerance, self.future_tolerance, _TIME)
        try:
            signature = base64.b64decode(single_header(request, _SIG), validate=True)
        except (binascii.Error, ValueError):
            raise MalformedSignature(f"the {_SIG} header is not base64", header=_SIG) from None
        url = self.rules.check(single_header(request, _CERT), _CERT)
        crc = zlib.crc32(request.body)
        signed = f"{transmission_id}|{sent_time}|{self.webhook_id}|{crc}".encode()

        def finish(keys: tuple[FetchedKey, ...]) -> Verification:
            key = keys[0]
            unfit = "the PayPal certificate is not valid for this webhook"
            mismatch = f"the {_SIG} header is not PayPal's signature for this webhook_id"
            check_key_signature(
                key,
                "rsa-sha256",
                signature,
                signed,
                now,
                unfit=unfit,
                mismatch=mismatch,
                header=_SIG,
            )
            scheme = scheme_of("paypal", "sha256withrsa")
            return Verification(scheme, key.key_id, timestamp, transmission_id, (signed,))

        return Pending((url,), finish)

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """The headers PayPal would send with ``body`` (tests only: needs
        ``private_key`` and ``signing_cert_url``)."""
        if self.private_key is None or self.signing_cert_url is None:
            raise ConfigurationError("presets.paypal signs only with private_key= (tests)")
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        moment = time.time() if now is None else now
        transmission_id = parts.get("id") or str(uuid.uuid4())
        sent_time = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(moment)))
        signed = f"{transmission_id}|{sent_time}|{self.webhook_id}|{zlib.crc32(body)}".encode()
        raw = self.private_key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
        return {
            _SIG: base64.b64encode(raw).decode(),
            _ID: transmission_id,
            _TIME: sent_time,
            _CERT: self.signing_cert_url,
            _ALGO: _PAYPAL_ALGORITHM,
        }

    def __repr__(self) -> str:
        return f"PaypalVerifier(webhook_id={self.webhook_id!r}, source={self.source!r})"


def paypal(
    *,
    webhook_id: str | None = None,
    environment: Literal["live", "sandbox"] = "live",
    tolerance: float | None = DEFAULT_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
    keys: KeySource | None = None,
    fetcher: Fetcher | None = None,
    private_key: Any = None,
    signing_cert_url: str | None = None,
) -> PaypalVerifier:
    """PayPal REST webhooks, verified locally with PayPal's certificate.

    Where the setting is: PayPal Developer Dashboard → Apps & Credentials →
    the app → Webhooks: the "Webhook ID" of this endpoint (``webhook_id``);
    ``environment`` says whether it is a live or a sandbox app.

    What is signed: RSA PKCS#1 v1.5 with SHA-256 (``PAYPAL-AUTH-ALGO:
    SHA256withRSA``, pinned) over
    ``<PAYPAL-TRANSMISSION-ID>|<PAYPAL-TRANSMISSION-TIME>|<webhook_id>|<CRC32>``
    (the CRC32 of the raw body as an unsigned decimal number), in
    ``PAYPAL-TRANSMISSION-SIG`` (base64), by the certificate at
    ``PAYPAL-CERT-URL``, fetched only from ``api.paypal.com`` /
    ``api-m.paypal.com`` (sandbox: ``api.sandbox.paypal.com`` /
    ``api-m.sandbox.paypal.com``) under ``/v1/notifications/certs/``, and cached.

    What differs: the body enters the signature only as its CRC32, which is
    not a cryptographic hash: a body with the same CRC32 is easy to make.
    The replay guard on the signed transmission id is what stops a signed
    header set from being reused with such a body, so leave it on (the
    default) and within the five-minute window. A webhook for another of
    your webhook ids does not verify here.

    Replay id: the signed ``PAYPAL-TRANSMISSION-ID``.

    Args:
        webhook_id: this endpoint's webhook id (required; part of what is signed).
        environment: ``"live"`` (default) or ``"sandbox"``: the certificate hosts.
        tolerance / future_tolerance: seconds the transmission time may be
            old / ahead (default 300 each).
        keys: another key source keyed by certificate URL (tests).
        fetcher: fetch bounds and the test hook (``keyfetch.Fetcher``).
        private_key / signing_cert_url: only to sign in tests.

    Raises:
        ConfigurationError: no webhook id, an unknown environment, a bad tolerance.
    """
    owner = owner_of("paypal")
    if not isinstance(webhook_id, str) or not webhook_id or "|" in webhook_id:
        raise ConfigurationError(f"{owner} needs webhook_id= (the app's Webhook ID)")
    if not isinstance(environment, str) or environment not in PAYPAL_CERT_HOSTS:
        raise ConfigurationError(f"{owner}(environment=...) must be 'live' or 'sandbox'")
    tolerance, future_tolerance = check_windows("paypal", tolerance, future_tolerance)
    hosts = PAYPAL_CERT_HOSTS[environment]
    rules = HostRules(hosts, path=PAYPAL_CERT_PATH, owner=owner)
    if keys is not None:
        check_methods(keys, ("key", "akey"), "keys", owner, "a key source such as FixedKeys")
    source = keys or CertificateUrl(hosts=hosts, path=PAYPAL_CERT_PATH, fetcher=fetcher)
    return PaypalVerifier(
        webhook_id=webhook_id,
        rules=rules,
        source=source,
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        private_key=private_key,
        signing_cert_url=signing_cert_url,
    )
