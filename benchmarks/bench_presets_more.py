"""The rest of the field's presets against the stdlib floor for their messages.

    python benchmarks/bench_presets_more.py [--quick]

Each preset verifies a valid delivery at 1 KiB and at 1 MiB. Its floor is
the least any verifier must do for that scheme with the standard library:
the HMAC of the signed message (prefix, body and suffix fed to the hash
separately, never joined), plus ``hmac.compare_digest`` against the decoded
signature. Netlify's floor adds the body's SHA-256; Okta's is the token
comparison. Two schemes have more to do than hashing, and are also shown
against the stdlib way of doing it:

- Mailgun signs only ``timestamp + token``, found inside the body: its floor
  is a 60-byte HMAC whatever the body's size, so it is also compared with
  ``json.loads(body)["signature"]`` + that HMAC, what Mailgun's samples do.
- Mandrill signs the *decoded* form fields, so its message does not exist
  until the form is decoded: its floor is ``urllib.parse.parse_qsl`` + sort +
  HMAC, and the HMAC of the already-decoded message is shown beside it.

Target: at 1 MiB every scheme whose signed message grows with the body stays
within 1.05x of its floor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webhookverify import WebhookRequest, presets

from benchmarks._harness import compare, report

KEY = "benchmark-secret-0123456789abcdef"
KEYB = KEY.encode()
NOW = 1_700_000_000.0
URL = "https://hooks.example.test/webhooks/incoming"
TARGET = 1.05


def json_body(size: int, **extra: Any) -> bytes:
    """A JSON object of about ``size`` bytes, ``extra`` members last."""
    head = b'{"event":"bench","data":"'
    tail = json.dumps(extra, separators=(",", ":")).encode()[1:] if extra else b"}"
    filler = b"x" * max(0, size - len(head) - len(tail) - 2)
    return head + filler + b'"' + (b"," + tail if extra else tail)


def floor_for(
    key: bytes, parts: list[bytes], expected: bytes, algo: str = "sha256"
) -> Callable[[], bool]:
    def floor() -> bool:
        mac = hmac.new(key, parts[0], algo)
        for part in parts[1:]:
            mac.update(part)
        return hmac.compare_digest(mac.digest(), expected)

    return floor


def cases(
    size: int,
) -> list[tuple[str, Any, WebhookRequest, Callable[[], object], dict[str, Callable[[], object]]]]:
    """(name, verifier, request, floor, other baselines) for every preset."""
    out: list[Any] = []
    body = json_body(size)

    def simple(
        name: str,
        verifier: Any,
        parts: list[bytes],
        algo: str = "sha256",
        request_body: bytes = body,
        url: str = "",
    ) -> None:
        headers = verifier.sign(request_body, NOW)
        request = WebhookRequest(url=url, headers=headers, body=request_body, received_at=NOW)
        expected = hmac.new(KEYB, b"".join(parts), algo).digest()
        out.append((name, verifier, request, floor_for(KEYB, parts, expected, algo), {}))

    for name in (
        "typeform",
        "meta",
        "bitbucket",
        "jira",
        "coinbase_commerce",
        "dropbox",
        "razorpay",
        "sentry",
        "circleci",
        "mollie",
    ):
        simple(name, getattr(presets, name)(secret=KEY), [body])
    for name in ("intercom", "vercel"):
        simple(name, getattr(presets, name)(secret=KEY), [body], "sha1")
    simple("zoom", presets.zoom(secret=KEY), [b"v0:1700000000:", body])
    simple("paddle", presets.paddle(secret=KEY), [b"1700000000:", body])
    simple("calendly", presets.calendly(secret=KEY), [b"1700000000.", body])
    simple("trello", presets.trello(secret=KEY, callback_url=URL), [body, URL.encode()], "sha1")
    simple("box", presets.box(secret=KEY), [body, b"2023-11-14T22:13:20Z"])
    linear_body = json_body(size, webhookTimestamp=int(NOW * 1000), webhookId="wh_1")
    simple("linear", presets.linear(secret=KEY), [linear_body], request_body=linear_body)

    # Netlify: the body's SHA-256 and an HMAC over the small JWS signing input.
    netlify = presets.netlify(secret=KEY)
    token = netlify.sign(body, NOW)["X-Webhook-Signature"]
    head, payload, sig = token.split(".")
    sig_raw = base64.urlsafe_b64decode(sig + "=")
    signing_input = f"{head}.{payload}".encode()
    claimed = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))[
        "sha256"
    ].encode()

    def netlify_floor() -> bool:
        good = hmac.compare_digest(hmac.new(KEYB, signing_input, "sha256").digest(), sig_raw)
        return good and hmac.compare_digest(hashlib.sha256(body).hexdigest().encode(), claimed)

    request = WebhookRequest(headers={"X-Webhook-Signature": token}, body=body, received_at=NOW)
    out.append(("netlify", netlify, request, netlify_floor, {}))

    # Okta: a static token; nothing to hash but the comparison.
    okta = presets.okta(secret=KEY)
    request = WebhookRequest(headers={"Authorization": KEY}, body=body, received_at=NOW)
    out.append(("okta", okta, request, lambda: hmac.compare_digest(KEYB, KEYB), {}))

    # Mailgun: the signature object is the body's first member, as Mailgun sends it.
    mailgun = presets.mailgun(secret=KEY)
    mg_body = mailgun.signed_body(
        {"event": "delivered", "data": "x" * max(0, size - 180)}, NOW, token="t" * 50
    )
    fields = json.loads(mg_body)["signature"]
    mg_message = (fields["timestamp"] + fields["token"]).encode()
    mg_expected = bytes.fromhex(fields["signature"])
    request = WebhookRequest(
        headers={"Content-Type": "application/json"}, body=mg_body, received_at=NOW
    )

    def mailgun_stdlib() -> bool:
        found = json.loads(mg_body)["signature"]
        message = (found["timestamp"] + found["token"]).encode()
        return hmac.compare_digest(
            hmac.new(KEYB, message, "sha256").hexdigest(), found["signature"]
        )

    out.append(
        (
            "mailgun",
            mailgun,
            request,
            floor_for(KEYB, [mg_message], mg_expected),
            {"json.loads + HMAC": mailgun_stdlib},
        )
    )

    # Mandrill: URL + sorted decoded fields.
    item = {"event": "send", "_id": "0" * 32, "msg": {"ts": 1365109999}}
    count = max(1, (size - 40) // len(urllib.parse.quote(json.dumps(item) + ", ")))
    events = json.dumps([{**item, "_id": f"{i:032x}"} for i in range(count)])
    form = urllib.parse.urlencode({"mandrill_events": events}).encode()
    mandrill = presets.mandrill(secret=KEY, url=URL)
    message = URL.encode() + b"mandrill_events" + events.encode()
    expected = hmac.new(KEYB, message, "sha1").digest()
    headers = mandrill.sign(form, NOW)
    request = WebhookRequest(url=URL, headers=headers, body=form, received_at=NOW)

    def mandrill_stdlib() -> bool:
        pairs = sorted(urllib.parse.parse_qsl(form.decode(), keep_blank_values=True))
        mac = hmac.new(KEYB, URL.encode(), "sha1")
        for name, value in pairs:
            mac.update(name.encode() + value.encode())
        return hmac.compare_digest(mac.digest(), expected)

    parts = [URL.encode(), b"mandrill_events", events.encode()]
    hmac_only = floor_for(KEYB, parts, expected, "sha1")
    out.append(("mandrill", mandrill, request, mandrill_stdlib, {"HMAC alone": hmac_only}))
    return out


def run(size: int, label: str, rounds: int) -> dict[str, float]:
    ratios: dict[str, float] = {}
    for name, verifier, request, floor, others in cases(size):
        verifier.verify(request, now=NOW)  # a benchmark of a failing path would prove nothing
        assert floor()
        candidates: dict[str, Callable[[], object]] = {"stdlib floor": floor, **others}
        candidates[f"presets.{name}().verify"] = lambda v=verifier, r=request: v.verify(r, now=NOW)
        results = compare(candidates, rounds=rounds)
        shown = report(f"{name}, {label} body", results, "stdlib floor")
        ratios[name] = shown[f"presets.{name}().verify"]
        for other in others:
            ratios[f"{name} vs {other}"] = results[f"presets.{name}().verify"] / results[other]
    return ratios


def main() -> int:
    rounds = 7 if "--quick" in sys.argv else 21
    small = run(1024, "1 KiB", rounds)
    large = run(1 << 20, "1 MiB", rounds)
    print("\nratio of verify to its floor:       1 KiB     1 MiB")
    for name in small:
        print(f"  {name:<32} {small[name]:8.3f}x {large[name]:8.3f}x")
    grows = [n for n in large if n not in ("okta", "mailgun") and " vs " not in n]
    worst = max(grows, key=lambda n: large[n])
    print(f"\nworst body-sized scheme at 1 MiB: {worst} {large[worst]:.3f}x (target <= {TARGET}x)")
    return 0 if large[worst] <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
