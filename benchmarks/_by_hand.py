"""Hand-written checks: what a careful user writes with ``cryptography`` alone.

Each function verifies one delivery the way the provider documents it, with
the key already loaded (a key set or certificate fetched before, kept in a
dictionary): parse, the checks the provider requires, the signature. They
are the second baseline of ``bench_keyfetch.py`` and ``bench_keys_at_sender.py``,
beside the bare signature check: what the library's work costs against code
a user would otherwise write. They raise ``ValueError`` (or the exception of
the step that failed) on a delivery that does not verify; the benchmarks
check that each refuses a tampered delivery before timing it.

They are not hardened as the library is (no bounds on sizes, no canonical
base64, no duplicate-member check, lenient header parsing): they are the
floor of doing the documented steps once.
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import hashlib
import hmac
import json
import re
import zlib
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from webhookverify import WebhookRequest

__all__ = ["apple", "cavage", "google_oidc", "paypal", "plaid", "sns"]

PKCS1 = padding.PKCS1v15()
SHA256 = hashes.SHA256()
SHA1 = hashes.SHA1()
ECDSA = ec.ECDSA(SHA256)


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _rfc3339(text: str) -> float:
    # Python 3.11 reads the "Z" these senders write
    return datetime.datetime.fromisoformat(text).timestamp()


def _es256(key: Any, raw: bytes, message: bytes) -> None:
    if len(raw) != 64:
        raise ValueError("not an ES256 signature")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    key.verify(encode_dss_signature(r, s), message, ECDSA)


def google_oidc(
    keys: Mapping[str, Any], audience: str, account: str
) -> Callable[[WebhookRequest, float], None]:
    """Google's "Validate an ID token": RS256 by a published key, issuer,
    audience, expiry, and the push subscription's service account."""

    def check(request: WebhookRequest, now: float) -> None:
        auth = request.headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            raise ValueError("not a bearer token")
        head, body, signature = auth[7:].split(".")
        header = json.loads(_b64url(head))
        if header["alg"] != "RS256":
            raise ValueError("not RS256")
        keys[header["kid"]].verify(_b64url(signature), f"{head}.{body}".encode(), PKCS1, SHA256)
        claims = json.loads(_b64url(body))
        if claims["iss"] not in ("https://accounts.google.com", "accounts.google.com"):
            raise ValueError("issuer")
        if claims["aud"] != audience or not claims["iat"] - 300 <= now <= claims["exp"] + 300:
            raise ValueError("audience or time")
        if claims.get("email") != account or claims.get("email_verified") is not True:
            raise ValueError("service account")

    return check


_SNS_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com")
_SNS_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        *("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    ),
}


def sns(certificates: Mapping[str, Any], topics: frozenset[str]) -> Callable[..., None]:
    """AWS's "Verifying the signatures of Amazon SNS messages": the topic, the
    certificate URL on an SNS host, the string to sign, the signature, the age."""

    def check(request: WebhookRequest, now: float) -> None:
        message = json.loads(request.body)
        if message["TopicArn"] not in topics:
            raise ValueError("topic")
        url = message["SigningCertURL"]
        parts = urlsplit(url)
        if parts.scheme != "https" or not _SNS_HOST.fullmatch(parts.hostname or ""):
            raise ValueError("certificate URL")
        fields = _SNS_FIELDS[message["Type"]]
        signed = "".join(f"{name}\n{message[name]}\n" for name in fields if name in message)
        digest = SHA256 if message["SignatureVersion"] == "2" else SHA1
        signature = base64.b64decode(message["Signature"])
        certificates[url].verify(signature, signed.encode(), PKCS1, digest)
        if not -300 <= now - _rfc3339(message["Timestamp"]) <= 3600:
            raise ValueError("timestamp")

    return check


def paypal(certificates: Mapping[str, Any], webhook_id: str) -> Callable[..., None]:
    """PayPal's SDK ``WebhookEvent.verify``: the certificate URL on PayPal's
    API host, ``id|time|webhook id|crc32``, the signature, the age."""

    def check(request: WebhookRequest, now: float) -> None:
        headers = request.headers
        if headers.get("PAYPAL-AUTH-ALGO") != "SHA256withRSA":
            raise ValueError("algorithm")
        url = headers.get("PAYPAL-CERT-URL") or ""
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.hostname != "api.paypal.com":
            raise ValueError("certificate URL")
        sent_id, sent_time = (
            headers.get("PAYPAL-TRANSMISSION-ID"),
            headers.get("PAYPAL-TRANSMISSION-TIME"),
        )
        signed = f"{sent_id}|{sent_time}|{webhook_id}|{zlib.crc32(request.body)}".encode()
        signature = base64.b64decode(headers.get("PAYPAL-TRANSMISSION-SIG") or "")
        certificates[url].verify(signature, signed, PKCS1, SHA256)
        if not -300 <= now - _rfc3339(sent_time or "") <= 300:
            raise ValueError("transmission time")

    return check


def plaid(keys: Mapping[str, Any]) -> Callable[[WebhookRequest, float], None]:
    """Plaid's "Webhook verification": ES256 by the key named, ``iat`` at most
    five minutes old, the body's SHA-256 as claimed."""

    def check(request: WebhookRequest, now: float) -> None:
        head, body, signature = (request.headers.get("Plaid-Verification") or "").split(".")
        header = json.loads(_b64url(head))
        if header["alg"] != "ES256":
            raise ValueError("not ES256")
        _es256(keys[header["kid"]], _b64url(signature), f"{head}.{body}".encode())
        claims = json.loads(_b64url(body))
        if not 0 <= now - claims["iat"] <= 300:
            raise ValueError("iat")
        digest = hashlib.sha256(request.body).hexdigest()
        if not hmac.compare_digest(claims["request_body_sha256"], digest):
            raise ValueError("body")

    return check


def apple(
    leaf_keys: Mapping[tuple[str, ...], Any], bundle_id: str, app_apple_id: int
) -> Callable[[WebhookRequest, float], None]:
    """Apple's ``SignedDataVerifier`` with the validated chain kept (as the
    library keeps it): ES256 by the leaf of ``x5c``, then the app."""

    def check(request: WebhookRequest, now: float) -> None:
        head, body, signature = json.loads(request.body)["signedPayload"].split(".")
        header = json.loads(_b64url(head))
        if header["alg"] != "ES256":
            raise ValueError("not ES256")
        _es256(leaf_keys[tuple(header["x5c"])], _b64url(signature), f"{head}.{body}".encode())
        payload = json.loads(_b64url(body))
        data = payload["data"]
        if data["bundleId"] != bundle_id or data["appAppleId"] != app_apple_id:
            raise ValueError("another app")
        if data["environment"] != "Production":
            raise ValueError("environment")
        if not -300 <= now - payload["signedDate"] / 1000 <= 7 * 86400:
            raise ValueError("signedDate")

    return check


_PARAM = re.compile(r'(\w+)="([^"]*)"')
_REQUIRED = frozenset(("(request-target)", "host", "date", "digest"))


def cavage(keys: Mapping[str, Any], rsa: bool) -> Callable[[WebhookRequest, float], None]:
    """A Mastodon-style inbox check: the ``Signature`` parameters, the covered
    names required, the signing string, the signature, the ``Date`` window,
    the ``Digest`` of the body."""

    def check(request: WebhookRequest, now: float) -> None:
        headers = request.headers
        params = dict(_PARAM.findall(headers.get("Signature") or ""))
        covered = params["headers"].split()
        if not set(covered) >= _REQUIRED:
            raise ValueError("the signature covers too little")
        lines = []
        for name in covered:
            if name == "(request-target)":
                lines.append(f"{name}: {request.method.lower()} {urlsplit(request.url).path}")
            else:
                lines.append(f"{name}: {headers.get(name)}")
        key = keys[params["keyId"]]
        signature = base64.b64decode(params["signature"])
        if rsa:
            key.verify(signature, "\n".join(lines).encode(), PKCS1, SHA256)
        else:
            key.verify(signature, "\n".join(lines).encode())
        date = email.utils.parsedate_to_datetime(headers.get("Date") or "").timestamp()
        if abs(now - date) > 300:
            raise ValueError("date")
        digest = "SHA-256=" + base64.b64encode(hashlib.sha256(request.body).digest()).decode()
        if not hmac.compare_digest(headers.get("Digest") or "", digest):
            raise ValueError("digest")

    return check


def refuses(
    check: Callable[[WebhookRequest, float], None], request: WebhookRequest, now: float
) -> bool:
    """Whether ``check`` refuses ``request`` at ``now``: each benchmark asks it
    of a tampered delivery before timing a check."""
    try:
        check(request, now)
    except Exception:  # noqa: BLE001 - any refusal will do for a baseline
        return True
    return False
