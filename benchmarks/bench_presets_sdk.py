"""The popular presets against their providers' SDKs and the stdlib floor.

    python benchmarks/bench_presets_sdk.py

Same process, same payloads, ratios from the shared harness:

1. 1 KiB: ``presets.stripe`` verify against
   ``stripe.WebhookSignature.verify_header`` (target <= 0.6x), ``presets.slack``
   against ``slack_sdk``'s ``SignatureVerifier.is_valid`` (target <= 0.9x), and
   ``presets.github`` against the stdlib floor, ``hmac.new(...).digest()`` and
   ``hmac.compare_digest`` (target <= 1.3x).
2. 1 MiB: every HMAC preset against the stdlib floor for its own message,
   the signed prefix and the body fed to the hash separately, as a careful
   hand-written check would (target <= 1.05x). Twilio's form variant signs
   the decoded, sorted fields, so its floor parses and sorts them with the
   stdlib too; its JSON variant's floor is SHA-256 of the body plus the HMAC
   of the URL.

The SDK functions are bound once, outside the timed calls: ``stripe``
resolves ``stripe.WebhookSignature`` through a lazy module ``__getattr__``,
which would otherwise add close to a microsecond to every baseline call.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import stripe as stripe_sdk
from slack_sdk.signature import SignatureVerifier

from webhookverify import Verifier, WebhookRequest, presets

from benchmarks._harness import compare, report

SECRET = "whsec_bench_0123456789abcdefghijklmnop"
URL = "https://hooks.example.test/webhooks/incoming?source=bench"
KIB = 1024
MIB = 1 << 20
# At 1 MiB a call takes about half a millisecond, so a burst of load from
# another process on a shared machine can sit on one side of a comparison
# for several rounds; the median of three shorter comparisons shrugs it off.
LARGE_REPEATS = 3
LARGE_ROUNDS = 11


def json_body(size: int) -> bytes:
    head = b'{"id":"evt_1","object":"event","data":{"text":"'
    return head + b"x" * (size - len(head) - 3) + b'"}}'


def floor_check(
    key: bytes, algorithm: str, prefix: bytes, body: bytes, suffix: bytes, expected: bytes
) -> Callable[[], bool]:
    """The least a hand-written check does: HMAC over prefix, body, suffix; compare."""

    def floor() -> bool:
        mac = hmac.new(key, prefix, algorithm)
        mac.update(body)
        if suffix:
            mac.update(suffix)
        return hmac.compare_digest(mac.digest(), expected)

    assert floor()
    return floor


# -- 1 KiB against the SDKs --------------------------------------------------------


def small() -> dict[str, float]:
    body = json_body(KIB)
    now = time.time()
    ratios: dict[str, float] = {}

    stripe = presets.stripe(secret=SECRET)
    stripe_request = WebhookRequest(headers=stripe.sign(body, now=now), body=body, received_at=now)
    header = stripe_request.headers["Stripe-Signature"]
    verify_header = stripe_sdk.WebhookSignature.verify_header
    assert verify_header(body, header, SECRET, 300)
    results = compare(
        {
            "stripe.WebhookSignature.verify_header": lambda: verify_header(
                body, header, SECRET, 300
            ),
            "presets.stripe verify": lambda: stripe.verify(stripe_request),
        }
    )
    ratios["stripe"] = report("Stripe, 1 KiB", results, "stripe.WebhookSignature.verify_header")[
        "presets.stripe verify"
    ]

    slack = presets.slack(secret=SECRET)
    slack_request = WebhookRequest(headers=slack.sign(body, now=now), body=body, received_at=now)
    stamp = slack_request.headers["X-Slack-Request-Timestamp"]
    signature = slack_request.headers["X-Slack-Signature"]
    sdk = SignatureVerifier(SECRET)
    assert sdk.is_valid(body, stamp, signature)
    results = compare(
        {
            "SignatureVerifier.is_valid": lambda: sdk.is_valid(body, stamp, signature),
            "presets.slack verify": lambda: slack.verify(slack_request),
        }
    )
    ratios["slack"] = report("Slack, 1 KiB", results, "SignatureVerifier.is_valid")[
        "presets.slack verify"
    ]

    github = presets.github(secret=SECRET)
    github_request = WebhookRequest(headers=github.sign(body), body=body)
    expected = bytes.fromhex(github_request.headers["X-Hub-Signature-256"][len("sha256=") :])
    key = SECRET.encode()

    def github_floor() -> bool:
        return hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), expected)

    assert github_floor()
    results = compare(
        {
            "stdlib floor": github_floor,
            "presets.github verify": lambda: github.verify(github_request),
        }
    )
    ratios["github"] = report("GitHub, 1 KiB", results, "stdlib floor")["presets.github verify"]
    return ratios


# -- 1 MiB against the stdlib floor ------------------------------------------------


def large_cases() -> list[tuple[str, Callable[[], object], Callable[[], object]]]:
    """(name, floor, ours) for every HMAC preset at 1 MiB."""
    body = json_body(MIB)
    key = SECRET.encode()
    now = time.time()
    cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = []

    def add(
        name: str, verifier: Verifier, request: WebhookRequest, floor: Callable[[], bool]
    ) -> None:
        verifier.verify(request)
        cases.append((name, floor, lambda: verifier.verify(request)))

    def signed(verifier: Verifier, **parts: str) -> WebhookRequest:
        headers = verifier.sign(body, now=now, url=URL, **parts)
        return WebhookRequest(url=URL, headers=headers, body=body, received_at=now)

    def hexsig(request: WebhookRequest, header: str, prefix: str = "") -> bytes:
        return bytes.fromhex(request.headers[header][len(prefix) :])

    def b64sig(request: WebhookRequest, header: str) -> bytes:
        return base64.b64decode(request.headers[header])

    verifier = presets.github(secret=SECRET)
    request = signed(verifier)
    expected = hexsig(request, "X-Hub-Signature-256", "sha256=")
    add("github", verifier, request, floor_check(key, "sha256", b"", body, b"", expected))

    verifier = presets.github(secret=SECRET, legacy_sha1=True)
    request = signed(verifier)
    expected = hexsig(request, "X-Hub-Signature", "sha1=")
    add("github legacy_sha1", verifier, request, floor_check(key, "sha1", b"", body, b"", expected))

    verifier = presets.tiki(secret=SECRET)
    request = signed(verifier)
    expected = b64sig(request, "Webhook-Signature")
    add("tiki base64 hmac", verifier, request, floor_check(key, "sha256", b"", body, b"", expected))

    verifier = presets.tiki(secret=SECRET, verification="hmac")
    request = signed(verifier)
    expected = hexsig(request, "Webhook-Signature")
    add("tiki hmac", verifier, request, floor_check(key, "sha256", b"", body, b"", expected))

    verifier = presets.shopify(secret=SECRET)
    request = signed(verifier)
    expected = b64sig(request, "X-Shopify-Hmac-Sha256")
    add("shopify", verifier, request, floor_check(key, "sha256", b"", body, b"", expected))

    verifier = presets.stripe(secret=SECRET)
    request = signed(verifier)
    stamp, _, v1 = request.headers["Stripe-Signature"].partition(",")
    expected = bytes.fromhex(v1[len("v1=") :])
    prefix = stamp[len("t=") :].encode() + b"."
    add("stripe", verifier, request, floor_check(key, "sha256", prefix, body, b"", expected))

    verifier = presets.slack(secret=SECRET)
    request = signed(verifier)
    expected = hexsig(request, "X-Slack-Signature", "v0=")
    prefix = b"v0:" + request.headers["X-Slack-Request-Timestamp"].encode() + b":"
    add("slack", verifier, request, floor_check(key, "sha256", prefix, body, b"", expected))

    verifier = presets.twitch(secret=SECRET)
    request = signed(verifier, id="b9f9d5e0-5f9a-4a51-8b1e-000000000001")
    expected = hexsig(request, "Twitch-Eventsub-Message-Signature", "sha256=")
    prefix = (
        request.headers["Twitch-Eventsub-Message-Id"]
        + request.headers["Twitch-Eventsub-Message-Timestamp"]
    ).encode()
    add("twitch", verifier, request, floor_check(key, "sha256", prefix, body, b"", expected))

    verifier = presets.square(secret=SECRET, notification_url=URL)
    request = signed(verifier)
    expected = b64sig(request, "x-square-hmacsha256-signature")
    add("square", verifier, request, floor_check(key, "sha256", URL.encode(), body, b"", expected))

    hubspot = presets.hubspot(secret=SECRET)
    request = signed(hubspot)
    expected = b64sig(request, "X-HubSpot-Signature-v3")
    prefix = ("POST" + URL).encode()
    suffix = request.headers["X-HubSpot-Request-Timestamp"].encode()
    add("hubspot v3", hubspot, request, floor_check(key, "sha256", prefix, body, suffix, expected))

    twilio = presets.twilio(secret=SECRET)
    json_url = f"{URL}&bodySHA256={hashlib.sha256(body).hexdigest()}"
    headers = twilio.sign(body, url=json_url)
    json_request = WebhookRequest(url=json_url, headers=headers, body=body, received_at=now)
    expected = b64sig(json_request, "X-Twilio-Signature")
    url_mac = floor_check(key, "sha1", json_url.encode(), b"", b"", expected)
    given_hash = urllib.parse.parse_qs(urllib.parse.urlsplit(json_url).query)["bodySHA256"][0]

    def twilio_json_floor() -> bool:
        body_ok = hmac.compare_digest(hashlib.sha256(body).hexdigest(), given_hash)
        return url_mac() and body_ok

    add("twilio json (bodySHA256)", twilio, json_request, twilio_json_floor)

    form = urllib.parse.urlencode(
        [("AccountSid", "AC" + "0" * 32), ("Body", "x" * (MIB - 200)), ("From", "+14155550100")]
    ).encode()
    headers = twilio.sign(form, url=URL)
    form_request = WebhookRequest(url=URL, headers=headers, body=form, received_at=now)
    expected = b64sig(form_request, "X-Twilio-Signature")

    def twilio_form_floor() -> bool:
        pairs = urllib.parse.parse_qsl(form.decode(), keep_blank_values=True)
        message = "".join(k + v for k, v in sorted(pairs)).encode()
        mac = hmac.new(key, URL.encode(), "sha1")
        mac.update(message)
        return hmac.compare_digest(mac.digest(), expected)

    assert twilio_form_floor()
    add("twilio form", twilio, form_request, twilio_form_floor)
    return cases


def large() -> dict[str, float]:
    ratios: dict[str, float] = {}
    for name, floor, ours in large_cases():
        label = f"presets.{name}"
        runs = [
            compare({"stdlib floor": floor, label: ours}, rounds=LARGE_ROUNDS)
            for _ in range(LARGE_REPEATS)
        ]
        runs.sort(key=lambda results: results[label] / results["stdlib floor"])
        spread = ", ".join(f"{r[label] / r['stdlib floor']:.3f}x" for r in runs)
        median = runs[len(runs) // 2]
        ratios[name] = report(f"{name}, 1 MiB (median of {spread})", median, "stdlib floor")[label]
    return ratios


def verdict(ratio: float, target: float) -> str:
    return "ok" if ratio <= target else "MISSED"


if __name__ == "__main__":
    at_kib = small()
    at_mib = large()
    print("\nsummary (ratio, target)")
    for name, target in (("stripe", 0.6), ("slack", 0.9), ("github", 1.3)):
        ratio = at_kib[name]
        print(f"  1 KiB {name:<26} {ratio:6.3f}x  <= {target}x  {verdict(ratio, target)}")
    for name, ratio in at_mib.items():
        print(f"  1 MiB {name:<26} {ratio:6.3f}x  <= 1.05x  {verdict(ratio, 1.05)}")
