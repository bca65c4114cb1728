"""The ``standard_webhooks`` preset against the official SDK and the stdlib floor.

    python benchmarks/bench_standard_webhooks.py

1. 1 KiB body: our ``presets.standard_webhooks(...).verify`` against
   ``standardwebhooks.Webhook.verify`` (the SDK's defaults, which parse the
   JSON body, and with ``json_parse=False``). Target: at most 0.5x the SDK's
   time.
2. 1 MiB body: against the stdlib floor, HMAC-SHA256 fed the
   ``{id}.{timestamp}.`` prefix and the body separately, then
   ``hmac.compare_digest``. Target: within 1.05x.

Every candidate verifies the same signed request, with the clock at its
signed timestamp (the SDK reads the real clock, so the request is signed now).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import standardwebhooks

from webhookverify import WebhookRequest, presets

from benchmarks._harness import compare, report

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KEY = base64.b64decode(SECRET.removeprefix("whsec_"))


def payload(size: int) -> bytes:
    item = b'{"type":"invoice.paid","id":"in_0123456789","amount":4200},'
    body = b"[" + item * (size // len(item)) + b"{}]"
    json.loads(body)
    return body


def signed(size: int) -> tuple[bytes, dict[str, str], WebhookRequest, float]:
    body = payload(size)
    verifier = presets.standard_webhooks(secret=SECRET)
    now = float(int(time.time()))
    headers = verifier.sign(body, now=now, id="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
    return body, headers, WebhookRequest(headers=headers, body=body, received_at=now), now


def against_sdk() -> dict[str, float]:
    body, headers, request, now = signed(1024)
    verifier = presets.standard_webhooks(secret=SECRET)
    sdk = standardwebhooks.Webhook(SECRET)

    def ours() -> object:
        return verifier.verify(request, now=now)

    def sdk_default() -> object:
        return sdk.verify(body, headers)

    def sdk_no_json() -> object:
        return sdk.verify(body, headers, json_parse=False)

    ours()
    sdk_default()
    results = compare(
        {
            "standardwebhooks.Webhook.verify": sdk_default,
            "  ... json_parse=False": sdk_no_json,
            "presets.standard_webhooks": ours,
        }
    )
    return report("Standard Webhooks v1, 1 KiB body", results, "standardwebhooks.Webhook.verify")


def against_floor() -> dict[str, float]:
    body, headers, request, now = signed(1 << 20)
    verifier = presets.standard_webhooks(secret=SECRET)
    prefix = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode()
    expected = base64.b64decode(headers["webhook-signature"].removeprefix("v1,"))

    def floor() -> bool:
        mac = hmac.new(KEY, prefix, hashlib.sha256)
        mac.update(body)
        return hmac.compare_digest(mac.digest(), expected)

    def ours() -> object:
        return verifier.verify(request, now=now)

    assert floor()
    ours()
    results = compare({"stdlib floor": floor, "presets.standard_webhooks": ours})
    return report("Standard Webhooks v1, 1 MiB body", results, "stdlib floor")


if __name__ == "__main__":
    sdk_ratios = against_sdk()
    floor_ratios = against_floor()
    print(
        f"\n1 KiB vs SDK: {sdk_ratios['presets.standard_webhooks']:.3f}x (target <= 0.5x); "
        f"1 MiB vs stdlib floor: {floor_ratios['presets.standard_webhooks']:.3f}x "
        "(target <= 1.05x)"
    )
