"""Fetched-key verification against the raw ``cryptography`` check on the same key.

    python benchmarks/bench_keyfetch.py

1. With the key cached: ``google_oidc`` (RS256 token), ``aws_sns`` (version 2,
   RSA-SHA256 over the signed fields), ``paypal`` (RSA-SHA256) and ``plaid``
   (ES256 token over the body's SHA-256), each against the direct
   ``cryptography`` verify of the same signature with the same key object.
   Target: within 1.1x.
2. The key layer alone: ``google_oidc`` with its key set cached after a fetch
   against the same preset with the key configured (``FixedKeys``).
3. A cache miss: the first verification fetches the key set once from a local
   HTTPS server (test CA, loopback); the next thousand fetch nothing (counted
   at the server).
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from webhookverify import WebhookRequest, presets
from webhookverify.keyfetch import FetchedKey, JwksSource
from webhookverify.keyfetch.jws import encode, read_token
from webhookverify.testing import sign_request

from _keyserver import KeyServer, Route, jwk, jwks  # tests/: the local HTTPS key server
from benchmarks._harness import compare, report

NOW = time.time()
BODY = b'{"message":{"data":"' + b"x" * 900 + b'","messageId":"1"}}'
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC = ec.generate_private_key(ec.SECP256R1())
PKCS1, SHA256 = padding.PKCS1v15(), hashes.SHA256()


def warm(source: JwksSource, kid: str, key: Any) -> JwksSource:
    """A key source whose cache already holds ``key`` (as after one fetch)."""
    source.cache.store(source.url, {kid: FetchedKey(kid, key.public_key())}, 3600)
    return source


def google() -> tuple[Any, WebhookRequest, Any]:
    source = warm(JwksSource("https://www.googleapis.com/oauth2/v3/certs"), "g0", RSA)
    verifier = presets.google_oidc(
        audience="https://hooks.example/push",
        service_account="push@p.iam.gserviceaccount.com",
        keys=source,
        private_key=RSA,
        signing_key_id="g0",
    )
    request = sign_request(verifier, BODY, now=NOW)
    token = read_token(request.headers["Authorization"][7:], "RS256", "Authorization")
    public = RSA.public_key()

    def direct() -> None:
        public.verify(token.signature, token.signing_input, PKCS1, SHA256)

    return verifier, request, direct


def sns() -> tuple[Any, WebhookRequest, Any]:
    from webhookverify.keyfetch import FixedKeys
    from webhookverify.presets._aws_sns import string_to_sign

    url = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"
    verifier = presets.aws_sns(
        topics=["arn:aws:sns:us-east-1:1:T"],
        keys=FixedKeys({url: RSA.public_key()}),
        private_key=RSA,
        signing_cert_url=url,
    )
    body = verifier.message(BODY.decode(), now=NOW, version="2")
    request = sign_request(verifier, body, now=NOW)
    message = verifier.read_body(body)
    import base64

    signature = base64.b64decode(message["Signature"])
    signed = string_to_sign(message)
    public = RSA.public_key()

    def direct() -> None:
        public.verify(signature, signed, PKCS1, SHA256)

    return verifier, request, direct


def paypal() -> tuple[Any, WebhookRequest, Any]:
    import base64
    import zlib

    from webhookverify.keyfetch import FixedKeys

    url = "https://api.paypal.com/v1/notifications/certs/CERT-1"
    verifier = presets.paypal(
        webhook_id="WH-1",
        keys=FixedKeys({url: RSA.public_key()}),
        private_key=RSA,
        signing_cert_url=url,
    )
    request = sign_request(verifier, BODY, now=NOW)
    headers = request.headers
    signature = base64.b64decode(headers["PAYPAL-TRANSMISSION-SIG"])
    signed = (
        f"{headers['PAYPAL-TRANSMISSION-ID']}|{headers['PAYPAL-TRANSMISSION-TIME']}|WH-1|"
        f"{zlib.crc32(BODY)}"
    ).encode()
    public = RSA.public_key()

    def direct() -> None:
        public.verify(signature, signed, PKCS1, SHA256)

    return verifier, request, direct


def plaid() -> tuple[Any, WebhookRequest, Any]:
    from webhookverify.keyfetch import FixedKeys

    verifier = presets.plaid(keys=FixedKeys({"p0": EC.public_key()}))
    claims = {"iat": int(NOW), "request_body_sha256": hashlib.sha256(BODY).hexdigest()}
    token = encode({"kid": "p0"}, claims, EC, "ES256")
    request = WebhookRequest(headers={"Plaid-Verification": token}, body=BODY, received_at=NOW)
    parsed = read_token(token, "ES256", "Plaid-Verification")
    public = EC.public_key()
    raw = parsed.signature
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    ecdsa = ec.ECDSA(SHA256)

    def direct() -> None:
        public.verify(der, parsed.signing_input, ecdsa)

    return verifier, request, direct


def cached() -> dict[str, float]:
    ratios = {}
    for name, build in (
        ("google_oidc", google),
        ("aws_sns", sns),
        ("paypal", paypal),
        ("plaid", plaid),
    ):
        verifier, request, direct = build()
        verifier.verify(request, NOW)

        def ours(verifier: Any = verifier, request: WebhookRequest = request) -> None:
            verifier.verify(request, NOW)

        results = compare({"cryptography verify": direct, f"presets.{name}": ours})
        ratios[name] = report(f"{name}, key cached, ~1 KiB body", results, "cryptography verify")[
            f"presets.{name}"
        ]
    return ratios


def layer() -> float:
    """The key layer alone: the same verifier with its key set cached after a
    fetch, and with the key configured (a dictionary lookup)."""
    from webhookverify.keyfetch import FixedKeys

    fetched, request, _ = google()
    fixed = presets.google_oidc(
        audience="https://hooks.example/push",
        service_account="push@p.iam.gserviceaccount.com",
        keys=FixedKeys({"g0": RSA.public_key()}),
    )
    results = compare(
        {
            "FixedKeys": lambda: fixed.verify(request, NOW),
            "JwksSource, cached": lambda: fetched.verify(request, NOW),
        }
    )
    title = "google_oidc: a fetched, cached key set against a configured key"
    return report(title, results, "FixedKeys")["JwksSource, cached"]


def miss() -> None:
    server = KeyServer()
    try:
        server.routes["/oauth2/v3/certs"] = Route(
            jwks(jwk(RSA, "g0")), headers={"Cache-Control": "public, max-age=21600"}
        )
        verifier = presets.google_oidc(
            audience="https://hooks.example/push",
            service_account="push@p.iam.gserviceaccount.com",
            fetcher=server.fetcher(),
            private_key=RSA,
            signing_key_id="g0",
        )
        request = sign_request(verifier, BODY, now=NOW)
        started = time.perf_counter()
        verifier.verify(request)
        first = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(1000):
            verifier.verify(request)
        rest = (time.perf_counter() - started) / 1000
        fetches = sum(server.hits.values())
        print("\ncache miss, then hits (google_oidc, local HTTPS key server)")
        print(f"  first verification (one fetch)   {first * 1e3:8.2f} ms")
        print(f"  next 1000, each                  {rest * 1e6:8.2f} us")
        print(f"  fetches counted at the server    {fetches:8d}")
        assert fetches == 1, fetches
    finally:
        server.close()


if __name__ == "__main__":
    ratios = cached()
    cost = layer()
    miss()
    worst = max(ratios.values())
    print(f"\nworst cached ratio {worst:.3f}x against the raw check (target 1.10x)")
    print(f"the key layer: {cost:.3f}x a configured key")
