"""Fetched-key verification against the raw ``cryptography`` check on the same key,
and against a hand-written check of the same delivery.

    python benchmarks/bench_keyfetch.py

1. With the key cached: ``google_oidc`` (RS256 token), ``aws_sns`` (version 2,
   RSA-SHA256 over the signed fields), ``paypal`` (RSA-SHA256) and ``plaid``
   (ES256 token over the body's SHA-256), each with its own key source
   (key set, certificate URL, key by id) filled by one real fetch from a
   local HTTPS server (test CA, loopback), as a receiver's is after its first
   request. Two baselines, measured in the same run:

   - the raw check: ``cryptography``'s ``verify`` of the same signature over
     the same signed bytes with the key object already loaded (for ES256 the
     signature already in DER): the signature alone, no parsing;
   - by hand: :mod:`benchmarks._by_hand`, the provider's documented steps
     written with ``cryptography`` alone, the key in a dictionary (parse, the
     checks the provider requires, the signature).

   The target is within 1.1x of the raw check; the hand-written ratio shows
   how much of the rest any correct check pays.
2. The key layer alone: ``google_oidc`` with its key set cached after a fetch
   against the same preset with the key configured (``FixedKeys``).
3. A cache miss: the first verification fetches the key set once; the next
   thousand fetch nothing (counted at the server).

No timed assertions: the figures are printed. The setup checks that every
candidate accepts the delivery and that each hand-written check refuses a
delivery signed by another key, so that no baseline times a shortcut.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from webhookverify import WebhookRequest, presets
from webhookverify.keyfetch import FixedKeys
from webhookverify.keyfetch.jws import encode, read_token
from webhookverify.presets._aws_sns import string_to_sign
from webhookverify.testing import sign_request

from _keyserver import KeyServer, Route, certificate, jwk, jwks  # tests/: the local key server
from benchmarks import _by_hand
from benchmarks._harness import compare, report

NOW = time.time()
BODY = b'{"message":{"data":"' + b"x" * 900 + b'","messageId":"1"}}'
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC = ec.generate_private_key(ec.SECP256R1())
PKCS1, SHA256 = padding.PKCS1v15(), hashes.SHA256()
AUDIENCE, ACCOUNT = "https://hooks.example/push", "push@p.iam.gserviceaccount.com"
SNS_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"
PAYPAL_URL = "https://api.paypal.com/v1/notifications/certs/CERT-1"
LONG = {"Cache-Control": "public, max-age=21600"}

OTHER_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_EC = ec.generate_private_key(ec.SECP256R1())

# verifier, request, raw check, hand-written check, the request signed by another key
Case = tuple[
    Any, WebhookRequest, Callable[[], None], Callable[[WebhookRequest, float], None], WebhookRequest
]


def serve() -> KeyServer:
    """The providers' key hosts, on loopback: every source below fetches once."""
    server = KeyServer()
    server.routes["/oauth2/v3/certs"] = Route(jwks(jwk(RSA, "g0")), headers=LONG)
    cert = certificate(RSA, NOW - 86400, NOW + 30 * 86400)
    server.routes[SNS_URL.split(".com", 1)[1]] = Route(cert, headers=LONG)
    server.routes[PAYPAL_URL.split(".com", 1)[1]] = Route(cert, headers=LONG)
    answer = {"key": jwk(EC, "p0", alg="ES256", created_at=int(NOW), expired_at=None)}
    server.routes["/webhook_verification_key/get"] = Route(json.dumps(answer).encode())
    return server


def google(server: KeyServer) -> Case:
    verifier = presets.google_oidc(
        audience=AUDIENCE,
        service_account=ACCOUNT,
        fetcher=server.fetcher(),
        private_key=RSA,
        signing_key_id="g0",
    )
    request = sign_request(verifier, BODY, now=NOW)
    token = read_token(request.headers["Authorization"][7:], "RS256", "Authorization")
    public = RSA.public_key()

    def raw() -> None:
        public.verify(token.signature, token.signing_input, PKCS1, SHA256)

    forger = presets.google_oidc(
        audience=AUDIENCE,
        service_account=ACCOUNT,
        keys=FixedKeys({"g0": OTHER_RSA.public_key()}),
        private_key=OTHER_RSA,
        signing_key_id="g0",
    )
    forged = sign_request(forger, BODY, now=NOW)
    check = _by_hand.google_oidc({"g0": public}, AUDIENCE, ACCOUNT)
    return verifier, request, raw, check, forged


def sns(server: KeyServer) -> Case:
    topic = "arn:aws:sns:us-east-1:1:T"
    verifier = presets.aws_sns(
        topics=[topic], fetcher=server.fetcher(), private_key=RSA, signing_cert_url=SNS_URL
    )
    body = verifier.message(BODY.decode(), now=NOW, version="2")
    request = sign_request(verifier, body, now=NOW)
    message = verifier.read_body(body)
    signature = base64.b64decode(message["Signature"])
    signed = string_to_sign(message)
    public = RSA.public_key()

    def raw() -> None:
        public.verify(signature, signed, PKCS1, SHA256)

    forger = presets.aws_sns(
        topics=[topic],
        keys=FixedKeys({SNS_URL: OTHER_RSA.public_key()}),
        private_key=OTHER_RSA,
        signing_cert_url=SNS_URL,
    )
    forged_body = forger.message(BODY.decode(), now=NOW, version="2")
    forged = sign_request(forger, forged_body, now=NOW)
    return verifier, request, raw, _by_hand.sns({SNS_URL: public}, frozenset((topic,))), forged


def paypal(server: KeyServer) -> Case:
    import zlib

    verifier = presets.paypal(
        webhook_id="WH-1", fetcher=server.fetcher(), private_key=RSA, signing_cert_url=PAYPAL_URL
    )
    request = sign_request(verifier, BODY, now=NOW)
    headers = request.headers
    signature = base64.b64decode(headers["PAYPAL-TRANSMISSION-SIG"])
    signed = (
        f"{headers['PAYPAL-TRANSMISSION-ID']}|{headers['PAYPAL-TRANSMISSION-TIME']}|WH-1|"
        f"{zlib.crc32(BODY)}"
    ).encode()
    public = RSA.public_key()

    def raw() -> None:
        public.verify(signature, signed, PKCS1, SHA256)

    forger = presets.paypal(
        webhook_id="WH-1",
        keys=FixedKeys({PAYPAL_URL: OTHER_RSA.public_key()}),
        private_key=OTHER_RSA,
        signing_cert_url=PAYPAL_URL,
    )
    forged = sign_request(forger, BODY, now=NOW)
    return verifier, request, raw, _by_hand.paypal({PAYPAL_URL: public}, "WH-1"), forged


def plaid(server: KeyServer) -> Case:
    verifier = presets.plaid(client_id="c", secret="s", fetcher=server.fetcher())
    claims = {"iat": int(NOW), "request_body_sha256": hashlib.sha256(BODY).hexdigest()}
    token = encode({"kid": "p0"}, claims, EC, "ES256")
    request = WebhookRequest(headers={"Plaid-Verification": token}, body=BODY, received_at=NOW)
    parsed = read_token(token, "ES256", "Plaid-Verification")
    public = EC.public_key()
    raw_signature = parsed.signature
    der = encode_dss_signature(
        int.from_bytes(raw_signature[:32], "big"), int.from_bytes(raw_signature[32:], "big")
    )
    ecdsa = ec.ECDSA(SHA256)

    def raw() -> None:
        public.verify(der, parsed.signing_input, ecdsa)

    forged = WebhookRequest(
        headers={"Plaid-Verification": encode({"kid": "p0"}, claims, OTHER_EC, "ES256")},
        body=BODY,
        received_at=NOW,
    )
    return verifier, request, raw, _by_hand.plaid({"p0": public}), forged


def cached(server: KeyServer) -> dict[str, tuple[float, float]]:
    ratios = {}
    for name, build in (
        ("google_oidc", google),
        ("aws_sns", sns),
        ("paypal", paypal),
        ("plaid", plaid),
    ):
        verifier, request, raw, by_hand, forged = build(server)
        verifier.verify(request, NOW)  # the one fetch
        by_hand(request, NOW)
        if not _by_hand.refuses(by_hand, forged, NOW) or not _by_hand.refuses(
            verifier.verify, forged, NOW
        ):
            raise SystemExit(f"{name}: a delivery signed by another key is accepted")
        fetched = sum(server.hits.values())

        def ours(verifier: Any = verifier, request: WebhookRequest = request) -> None:
            verifier.verify(request, NOW)

        def hand(check: Any = by_hand, request: WebhookRequest = request) -> None:
            check(request, NOW)

        results = compare({"cryptography verify": raw, "by hand": hand, f"presets.{name}": ours})
        if sum(server.hits.values()) != fetched:
            raise SystemExit(f"{name} fetched its key again while cached")
        title = f"{name}, key cached, ~1 KiB body"
        ratio = report(title, results, "cryptography verify", second="by hand")
        ratios[name] = (ratio[f"presets.{name}"], results[f"presets.{name}"] / results["by hand"])
    return ratios


def layer(server: KeyServer) -> float:
    """The key layer alone: the same verifier with its key set cached after a
    fetch, and with the key configured (a dictionary lookup)."""
    fetched, request, _, _, _ = google(server)
    fetched.verify(request, NOW)
    fixed = presets.google_oidc(
        audience=AUDIENCE, service_account=ACCOUNT, keys=FixedKeys({"g0": RSA.public_key()})
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
    server = serve()
    try:
        verifier = presets.google_oidc(
            audience=AUDIENCE,
            service_account=ACCOUNT,
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
        if fetches != 1:
            raise SystemExit(f"{fetches} fetches where one was due")
    finally:
        server.close()


if __name__ == "__main__":
    keys = serve()
    try:
        ratios = cached(keys)
        cost = layer(keys)
    finally:
        keys.close()
    miss()
    print("\nkey cached: ratio to the raw signature check / to the hand-written check")
    for name, (to_raw, to_hand) in ratios.items():
        print(f"  {name:<12} {to_raw:6.3f}x  {to_hand:6.3f}x")
    print("  (target: within 1.10x of the raw check)")
    print(f"the key layer: {cost:.3f}x a configured key")
