"""Senders' keys: apple_app_store and CavageSignatureVerifier against the raw check.

    python benchmarks/bench_keys_at_sender.py

1. ``apple_app_store``: a notification whose chain was validated before (the
   verifier keeps validated chains), against ``cryptography``'s ECDSA P-256
   check of the same JWS signature with the leaf key loaded once; and a
   first verification (chain validated), to show what the kept chain saves.
2. ``CavageSignatureVerifier`` with a 2048-bit RSA key and with Ed25519, a
   Mastodon-shaped delivery (1 KiB body, ``(request-target) host date
   digest``), against the key's own ``verify`` over the same signing string.

Two baselines, measured in the same run: the raw check (the key's own
``verify`` over the same signed bytes, the key loaded, the ECDSA signature
already in DER: no parsing, no digest of the body, no time checks), and a
hand-written check of the same delivery with ``cryptography`` alone
(:mod:`benchmarks._by_hand`: parse, the checks the sender's protocol needs,
the signature). The setup checks that each hand-written check refuses a
delivery signed by another key. No timed assertions: the figures are printed.
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

from benchmarks import _by_hand
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

    ecdsa = ec.ECDSA(hashes.SHA256())

    def direct() -> None:
        leaf_key.verify(der, message, ecdsa)

    def kept() -> object:
        return verifier.verify(request, now=NOW)  # type: ignore[attr-defined]

    def first() -> object:
        return build().verify(request, now=NOW)  # type: ignore[attr-defined]

    x5c = tuple(json.loads(base64.urlsafe_b64decode(head + "=="))["x5c"])
    by_hand = _by_hand.apple({x5c: leaf_key}, "com.example", 1234)
    other = make_apple_test_chain(not_before=NOW - YEAR, not_after=NOW + YEAR)
    forger = presets.apple_app_store(
        bundle_id="com.example",
        app_apple_id=1234,
        root_certificates=[Secret(other.root, key_id="root")],
        signing_keys={"root": (other.leaf_key, [chain.leaf, chain.intermediate, chain.root])},
    )
    forged = WebhookRequest(headers=request.headers, body=forger.signed_body(PAYLOAD, NOW))
    by_hand(request, NOW)
    if not _by_hand.refuses(by_hand, forged, NOW):
        raise SystemExit("the hand-written apple check accepts another key's signature")

    def hand() -> None:
        by_hand(request, NOW)

    kept()
    report(
        "apple_app_store, chain kept / validated",
        compare(
            {
                "ECDSA P-256 verify": direct,
                "by hand (chain kept)": hand,
                "verify (chain kept)": kept,
                "first verify": first,
            }
        ),
        "ECDSA P-256 verify",
        second="by hand (chain kept)",
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
    rsa_key = public if isinstance(public, rsa.RSAPublicKey) else None

    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()

    def direct() -> None:  # the key's own verify, its parameters made once
        if rsa_key is not None:
            rsa_key.verify(signature, message, pkcs1, sha256)
        else:
            public.verify(signature, message)  # type: ignore[call-arg]

    def ours() -> object:
        return verifier.verify(request)

    by_hand = _by_hand.cavage({key_id: public}, kind != "ed25519")
    other = (
        ed25519.Ed25519PrivateKey.generate()
        if kind == "ed25519"
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    forger = CavageSignatureVerifier(
        keys={key_id: other.public_key()}, signing_keys={key_id: other}
    )
    forged = WebhookRequest(
        method="POST", url=url, headers=forger.sign(body, NOW, url=url), body=body
    )
    if not _by_hand.refuses(by_hand, forged, NOW):
        raise SystemExit(f"the hand-written cavage {kind} check accepts another key's signature")

    def hand() -> None:
        by_hand(request, NOW)

    direct()
    ours()
    hand()
    report(
        f"CavageSignatureVerifier, {kind}, 1 KiB body",
        compare({"raw verify": direct, "by hand": hand, "CavageSignatureVerifier.verify": ours}),
        "raw verify",
        second="by hand",
    )


if __name__ == "__main__":
    apple()
    cavage("rsa-2048")
    cavage("ed25519")
