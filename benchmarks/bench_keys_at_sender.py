"""Senders' keys: apple_app_store and CavageSignatureVerifier against the raw check.

    python benchmarks/bench_keys_at_sender.py

1. ``apple_app_store``: a notification whose chain was validated before (the
   verifier keeps validated chains), against ``cryptography``'s ECDSA P-256
   check of the same JWS signature with the leaf key loaded once; and a
   first verification (chain validated), to show what the kept chain saves.
2. ``CavageSignatureVerifier`` with a 2048-bit RSA key and with Ed25519, a
   Mastodon-shaped delivery (1 KiB body, ``(request-target) host date
   digest``), against the key's own ``verify`` over the same signing string.

The raw checks do no parsing, no digest of the body and no time checks: the
ratios show what those cost on top of the signature itself.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from webhookverify import CavageSignatureVerifier, Secret, WebhookRequest, presets
from webhookverify.testing import make_apple_test_chain

from benchmarks._harness import compare, report

NOW = 1_700_000_000.0
YEAR = 365 * 86400.0
PAYLOAD = {
    "notificationType": "TEST",
    "notificationUUID": "0b7d3f4e-8c1a-4f55-9d3e-2a6b5c7d8e9f",
    "data": {"bundleId": "com.example", "appAppleId": 1234, "environment": "Production"},
}


def apple() -> None:
    chain = make_apple_test_chain(not_before=NOW - YEAR, not_after=NOW + YEAR)

    def build() -> object:
        return presets.apple_app_store(
            bundle_id="com.example",
            app_apple_id=1234,
            root_certificates=[Secret(chain.root, key_id="root")],
            signing_keys={"root": (chain.leaf_key, [chain.leaf, chain.intermediate, chain.root])},
        )

    verifier = build()
    body = verifier.signed_body(PAYLOAD, NOW)  # type: ignore[attr-defined]
    request = WebhookRequest(headers={"Content-Type": "application/json"}, body=body)
    token = json.loads(body)["signedPayload"]
    head, claims, signature = token.split(".")
    raw = base64.urlsafe_b64decode(signature + "==")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    leaf_key = chain.leaf_key.public_key()
    message = f"{head}.{claims}".encode()

    def direct() -> None:
        leaf_key.verify(der, message, ec.ECDSA(hashes.SHA256()))

    def kept() -> object:
        return verifier.verify(request, now=NOW)  # type: ignore[attr-defined]

    def first() -> object:
        return build().verify(request, now=NOW)  # type: ignore[attr-defined]

    kept()
    report(
        "apple_app_store, chain kept / validated",
        compare({"ECDSA P-256 verify": direct, "verify (chain kept)": kept, "first verify": first}),
        "ECDSA P-256 verify",
    )


def cavage(kind: str) -> None:
    private = (
        ed25519.Ed25519PrivateKey.generate()
        if kind == "ed25519"
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    key_id = "https://mastodon.example/users/alice#main-key"
    verifier = CavageSignatureVerifier(
        keys={key_id: private.public_key()}, signing_keys={key_id: private}
    )
    body = json.dumps({"type": "Create", "object": {"content": "x" * 900}}).encode()
    url = "https://receiver.example/users/bob/inbox"
    headers = verifier.sign(body, NOW, url=url)
    request = WebhookRequest(method="POST", url=url, headers=headers, body=body, received_at=NOW)
    fields = dict(part.split("=", 1) for part in headers["Signature"].split(","))
    signature = base64.b64decode(fields["signature"].strip('"'))
    message = "\n".join(
        [
            "(request-target): post /users/bob/inbox",
            f"host: {headers['Host']}",
            f"date: {headers['Date']}",
            f"digest: {headers['Digest']}",
        ]
    ).encode()
    public = private.public_key()

    def direct() -> None:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        else:
            public.verify(signature, message)  # type: ignore[call-arg]

    def ours() -> object:
        return verifier.verify(request)

    direct()
    ours()
    report(
        f"CavageSignatureVerifier, {kind}, 1 KiB body",
        compare({"raw verify": direct, "CavageSignatureVerifier.verify": ours}),
        "raw verify",
    )


if __name__ == "__main__":
    apple()
    cavage("rsa-2048")
    cavage("ed25519")
