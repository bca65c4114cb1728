"""HmacVerifier.verify against the stdlib floor.

    python benchmarks/bench_hmac.py

The floor is what any HMAC check must do: ``hmac.new(key, body, sha256).digest()``
and ``hmac.compare_digest`` against the decoded signature. Targets: within
1.3x at 1 KiB (where per-call overhead shows) and 1.02x at 1 MiB (where the
hash is the limit).
"""

from __future__ import annotations

import hashlib
import hmac
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webhookverify import HmacVerifier, WebhookRequest

from benchmarks._harness import compare, report

KEY = b"It's a Secret to Everybody"


def run(size: int, label: str) -> dict[str, float]:
    body = bytes(range(256)) * (size // 256)
    verifier = HmacVerifier(secret=KEY, header="X-Hub-Signature-256", prefix="sha256=")
    headers = verifier.sign(body)
    request = WebhookRequest(headers=headers, body=body)
    expected = bytes.fromhex(headers["X-Hub-Signature-256"][len("sha256=") :])

    def floor() -> bool:
        return hmac.compare_digest(hmac.new(KEY, body, hashlib.sha256).digest(), expected)

    def ours() -> object:
        return verifier.verify(request)

    assert floor()
    results = compare({"stdlib floor": floor, "HmacVerifier.verify": ours})
    return report(f"HMAC-SHA256 hex, {label} body", results, "stdlib floor")


if __name__ == "__main__":
    small = run(1024, "1 KiB")
    large = run(1 << 20, "1 MiB")
    print(
        f"\nratio at 1 KiB: {small['HmacVerifier.verify']:.3f}x (target <= 1.3x); "
        f"at 1 MiB: {large['HmacVerifier.verify']:.3f}x (target <= 1.02x)"
    )
