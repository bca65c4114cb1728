"""PublicKeyVerifier against direct ``cryptography`` calls and PyNaCl.

    python benchmarks/bench_asymmetric.py

1. Ed25519, 1 KiB body: ``PublicKeyVerifier.verify`` against
   ``Ed25519PublicKey.verify`` on a key loaded once. Target: within 1.1x.
2. Ed25519 at 64 KiB, 256 KiB and 1 MiB: against PyNaCl's
   ``VerifyKey.verify`` (which copies signature + message into one buffer and
   libsodium writes the message out again). Target: ours faster from 64 KiB.
   Also shown: a ``{timestamp}{body}`` template (Discord), where Ed25519
   needs the message as one buffer and one copy of the body is made.
3. ECDSA P-256 and RSA (PKCS#1 v1.5, PSS) at 1 KiB and 1 MiB, body-only and
   ``{timestamp}.{body}`` (hashed in parts, verified ``Prehashed``), against
   the direct ``cryptography`` call over the same bytes. Target: within
   1.05x at 1 MiB.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nacl.signing
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from webhookverify import WebhookRequest
from webhookverify.verifiers.asymmetric import PublicKeyVerifier

from benchmarks._harness import compare, report

STAMP = "1700000000"
NOW = 1_700_000_000.0
SEED = bytes(range(32))


def body_of(size: int) -> bytes:
    return bytes(range(256)) * (size // 256)


def verifier_for(algorithm: str, private: Any, template: str) -> PublicKeyVerifier:
    timed = "{timestamp}" in template
    return PublicKeyVerifier(
        algorithm=algorithm,  # type: ignore[arg-type]
        private_key=private,
        header="Sig",
        template=template,
        timestamp_header="Ts" if timed else None,
    )


def request_for(verifier: PublicKeyVerifier, body: bytes) -> WebhookRequest:
    headers = verifier.sign(body, now=NOW, timestamp=STAMP)
    return WebhookRequest(headers=headers, body=body, received_at=NOW)


def ed25519_direct() -> float:
    private = ed25519.Ed25519PrivateKey.from_private_bytes(SEED)
    public = private.public_key()
    body = body_of(1024)
    verifier = verifier_for("ed25519", private, "{body}")
    request = request_for(verifier, body)
    signature = base64.b64decode(request.headers["Sig"])

    def direct() -> None:
        public.verify(signature, body)

    def ours() -> object:
        return verifier.verify(request)

    direct()
    ours()
    ratios = report(
        "Ed25519, 1 KiB body",
        compare({"Ed25519PublicKey.verify": direct, "PublicKeyVerifier.verify": ours}),
        "Ed25519PublicKey.verify",
    )
    return ratios["PublicKeyVerifier.verify"]


def ed25519_vs_pynacl(size: int, label: str) -> dict[str, float]:
    private = ed25519.Ed25519PrivateKey.from_private_bytes(SEED)
    verify_key = nacl.signing.SigningKey(SEED).verify_key
    body = body_of(size)
    plain = verifier_for("ed25519", private, "{body}")
    discord = verifier_for("ed25519", private, "{timestamp}{body}")
    plain_request = request_for(plain, body)
    discord_request = request_for(discord, body)
    signature = base64.b64decode(plain_request.headers["Sig"])

    def pynacl() -> object:
        return verify_key.verify(body, signature)

    def ours() -> object:
        return plain.verify(plain_request)

    def ours_template() -> object:
        return discord.verify(discord_request)

    pynacl()
    ours()
    ours_template()
    results = compare(
        {
            "nacl VerifyKey.verify": pynacl,
            "PublicKeyVerifier {body}": ours,
            "PublicKeyVerifier {timestamp}{body}": ours_template,
        },
        rounds=15,
    )
    return report(f"Ed25519 vs PyNaCl, {label} body", results, "nacl VerifyKey.verify")


def direct_call(algorithm: str, private: Any) -> Any:
    public = private.public_key()
    if algorithm == "ecdsa-p256-sha256":
        return lambda sig, data: public.verify(sig, data, ec.ECDSA(hashes.SHA256()))
    if algorithm == "rsa-pkcs1v15-sha256":
        return lambda sig, data: public.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    return lambda sig, data: public.verify(sig, data, pss, hashes.SHA256())


def against_cryptography(algorithm: str, private: Any, size: int, label: str) -> dict[str, float]:
    body = body_of(size)
    verify = direct_call(algorithm, private)
    plain = verifier_for(algorithm, private, "{body}")
    timed = verifier_for(algorithm, private, "{timestamp}.{body}")
    plain_request = request_for(plain, body)
    timed_request = request_for(timed, body)
    plain_sig = base64.b64decode(plain_request.headers["Sig"])
    timed_sig = base64.b64decode(timed_request.headers["Sig"])
    # The direct call is given the message as one buffer, built beforehand:
    # the cheapest it can be; ours receives prefix and body as they arrive.
    timed_message = STAMP.encode() + b"." + body

    def direct() -> None:
        verify(plain_sig, body)

    def direct_timed() -> None:
        verify(timed_sig, timed_message)

    def ours() -> object:
        return plain.verify(plain_request)

    def ours_timed() -> object:
        return timed.verify(timed_request)

    for func in (direct, direct_timed, ours, ours_timed):
        func()
    results = compare(
        {
            "cryptography {body}": direct,
            "PublicKeyVerifier {body}": ours,
            "cryptography ts.body (pre-joined)": direct_timed,
            "PublicKeyVerifier {timestamp}.{body}": ours_timed,
        },
        rounds=15,
    )
    ratios = report(f"{algorithm}, {label} body", results, "cryptography {body}")
    timed_ratio = (
        results["PublicKeyVerifier {timestamp}.{body}"]
        / results["cryptography ts.body (pre-joined)"]
    )
    print(f"  {{timestamp}}.{{body}} vs its own direct call: {timed_ratio:.3f}x")
    return {"body": ratios["PublicKeyVerifier {body}"], "timed": timed_ratio}


if __name__ == "__main__":
    summary: list[str] = [
        f"Ed25519 1 KiB vs cryptography: {ed25519_direct():.3f}x (target <= 1.1x)"
    ]
    for size, label in ((64 << 10, "64 KiB"), (256 << 10, "256 KiB"), (1 << 20, "1 MiB")):
        ratios = ed25519_vs_pynacl(size, label)
        summary.append(
            f"Ed25519 {label} vs PyNaCl: {ratios['PublicKeyVerifier {body}']:.3f}x, "
            f"with {{timestamp}}{{body}}: {ratios['PublicKeyVerifier {timestamp}{body}']:.3f}x "
            "(target < 1x)"
        )
    keys = {
        "ecdsa-p256-sha256": ec.generate_private_key(ec.SECP256R1()),
        "rsa-pkcs1v15-sha256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }
    keys["rsa-pss-sha256"] = keys["rsa-pkcs1v15-sha256"]
    for algorithm, private in keys.items():
        for size, label in ((1024, "1 KiB"), (1 << 20, "1 MiB")):
            ratios = against_cryptography(algorithm, private, size, label)
            summary.append(
                f"{algorithm} {label}: {ratios['body']:.3f}x body-only, "
                f"{ratios['timed']:.3f}x with {{timestamp}}.{{body}}"
                + (" (target <= 1.05x)" if size > 1024 else "")
            )
    print("\n" + "\n".join(summary))
