"""What a request with a wrong signature costs, against one pass of hashing.

    python benchmarks/bench_preauth.py            # 1 MiB bodies, short rounds (< 1 min)
    python benchmarks/bench_preauth.py --full     # 64 KiB and 1 MiB, longer rounds
    python benchmarks/bench_preauth.py --only adyen,plivo   # some presets only

The rule: a request whose signature is wrong costs at most a small constant
plus one pass of hashing over the body per candidate handler, whatever the
body holds. For every preset in ``presets.PRESETS``, and for a registry
holding all of them, each adversarial body (up to ``max_body_size``, 1 MiB)
is sent with the preset's headers present but signed with another key (for
Mailgun, whose signature sits in the body, with a body that has none), and
the time ``verify`` takes to refuse it is reported as a ratio to one
HMAC-SHA256 pass over the same body, measured in the same run. The
registry's ratio is against one pass per candidate handler (the handlers
whose required headers the request carries).

The bodies: many multipart parts, a multipart part header that never ends,
many form fields, one form field of percent-escapes, non-ASCII JSON,
backslash-heavy JSON, deeply nested JSON, and one long line.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from webhookverify import (
    Handler,
    HandlerRegistry,
    NoHandlerMatched,
    VerificationError,
    WebhookRequest,
    presets,
)

from benchmarks._harness import compare

KEY = "benchmark-secret-0123456789abcdef"
WRONG = "another-secret-0123456789abcdefgh"
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
WHSEC_WRONG = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
NOW = 1_700_000_000.0
URL = "https://hooks.example.test/webhooks/incoming"
SAMPLE = b'{"event":"sample","webhookTimestamp":1700000000000}'
FORM_SAMPLE = b"AccountSid=AC1&Body=hello"
MULTIPART = "multipart/form-data; boundary=x"


def bodies(size: int) -> dict[str, tuple[str, bytes]]:
    """Adversarial bodies of about ``size`` bytes, with the Content-Type each claims."""
    part = b'--x\r\nContent-Disposition: form-data; name="f"\r\n\r\n1\r\n'
    return {
        "multipart parts": (MULTIPART, part * (size // len(part)) + b"--x--\r\n"),
        "multipart header": (
            MULTIPART,
            b'--x\r\nContent-Disposition: form-data; name="token"' + b" " * (size - 60),
        ),
        "form fields": ("application/x-www-form-urlencoded", b"a=1&" * (size // 4 - 1) + b"a=1"),
        "form escapes": ("application/x-www-form-urlencoded", b"a=" + b"%C3%A9" * (size // 6)),
        "non-ASCII JSON": (
            "application/json",
            ('{"name":"' + "\u00e9\u4e2d\U0001f600" * (size // 9 - 2) + '"}').encode(),
        ),
        "backslash JSON": ("application/json", b'{"p":"' + b"C:\\\\x" * (size // 5 - 2) + b'"}'),
        "nested JSON": ("application/json", b"[" * (size // 2) + b"]" * (size // 2)),
        "long line": ("text/plain", b"x" * size),
    }


def _keys() -> dict[str, Any]:
    return {
        "ed25519": (ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()),
        "p256": (ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())),
    }


def verifiers(only: frozenset[str] | None = None) -> dict[str, tuple[Any, Any]]:
    """(the receiver's verifier, one with another key that signs the requests) per
    preset (those named in ``only``, when given)."""
    keys = _keys()
    out: dict[str, tuple[Any, Any]] = {}
    for name in presets.PRESETS:
        if only is not None and name not in only:
            continue
        factory = getattr(presets, name)
        extra: dict[str, Any] = {}
        if name in ("trello",):
            extra = {"callback_url": URL}
        elif name in ("mandrill", "monday"):
            extra = {"url": URL}
        elif name in ("twilio",):
            extra = {"public_url": URL}
        elif name in ("square",):
            extra = {"notification_url": URL}
        elif name in ("braintree",):
            extra = {"public_key": "benchmark_public_key"}
        if name in ("discord", "sendgrid", "telnyx"):
            good, bad = keys["p256" if name == "sendgrid" else "ed25519"]
            out[name] = (
                factory(public_key=good.public_key(), **extra),
                factory(private_key=bad, **extra),
            )
        elif name == "airtable":  # a macSecretBase64: base64 text of the key
            good_key, bad_key = (base64.b64encode(k.encode()).decode() for k in (KEY, WRONG))
            out[name] = (factory(secret=good_key), factory(secret=bad_key))
        elif name in ("squarespace", "close", "adyen"):  # a hex secret, hex-decoded into the key
            good_key, bad_key = (k.encode().hex() for k in (KEY, WRONG))
            out[name] = (factory(secret=good_key), factory(secret=bad_key))
        elif name in (
            "standard_webhooks",
            "svix",
            "clerk",
            "resend",
            "gitlab_signing",
            "replicate",
        ):
            out[name] = (factory(secret=WHSEC, **extra), factory(secret=WHSEC_WRONG, **extra))
        else:
            out[name] = (factory(secret=KEY, **extra), factory(secret=WRONG, **extra))
    return out


def headers_for(signer: Any, body: bytes) -> dict[str, str]:
    """The headers ``signer`` sends for ``body``, or for a sample body it can sign."""
    for candidate in (body, SAMPLE, FORM_SAMPLE):
        try:
            return dict(signer.sign(candidate, NOW, url=URL))
        except VerificationError:
            continue
    return {}


def refuse(verifier: Any, request: WebhookRequest) -> Callable[[], object]:
    def call() -> object:
        try:
            verifier.verify(request, NOW)
        except VerificationError as exc:
            return exc
        raise AssertionError("a wrong signature verified")

    return call


def refuse_all(registry: HandlerRegistry, request: WebhookRequest) -> Callable[[], object]:
    def call() -> object:
        try:
            registry.verify(request, NOW)
        except NoHandlerMatched as exc:
            return exc
        raise AssertionError("a wrong signature verified")

    return call


def run(
    size: int, rounds: int, round_time: float, only: frozenset[str] | None = None
) -> dict[str, dict[str, float]]:
    """Ratio to one HMAC-SHA256 pass, per body kind and preset (and the registry)."""
    pairs = verifiers(only)
    table: dict[str, dict[str, float]] = {}
    for kind, (content_type, body) in bodies(size).items():
        candidates: dict[str, Callable[[], object]] = {
            "one HMAC pass": lambda b=body: hmac.new(KEY.encode(), b, hashlib.sha256).digest()
        }
        union: dict[str, str] = {}
        for name, (verifier, signer) in pairs.items():
            headers = {**headers_for(signer, body), "Content-Type": content_type}
            union.update(headers)
            request = WebhookRequest(url=URL, headers=headers, body=body, received_at=NOW)
            candidates[name] = refuse(verifier, request)
        registry = HandlerRegistry([Handler(n, v) for n, (v, _) in pairs.items()])
        request = WebhookRequest(url=URL, headers=union, body=body, received_at=NOW)
        probe = refuse_all(registry, request)()
        assert isinstance(probe, NoHandlerMatched)
        tried = len(probe.attempts)
        candidates["registry of all"] = refuse_all(registry, request)
        results = compare(candidates, rounds=rounds, round_time=round_time)
        base = results.pop("one HMAC pass")
        ratios = {name: value / base for name, value in results.items()}
        ratios["registry of all"] /= max(tried, 1)
        table[kind] = ratios
        worst = max(ratios, key=ratios.__getitem__)
        print(
            f"{kind:<17} {len(body) / 1024:7.0f} KiB  one pass {base * 1e3:6.2f} ms  "
            f"worst {worst} {ratios[worst]:.2f}x  registry ({tried} tried) "
            f"{ratios['registry of all']:.2f}x per candidate",
            flush=True,
        )
    return table


def print_table(table: dict[str, dict[str, float]], size: int) -> None:
    kinds = list(table)
    names = list(next(iter(table.values())))
    print(f"\nTime to refuse a wrong signature / one HMAC-SHA256 pass, {size // 1024} KiB bodies")
    print("| preset | " + " | ".join(kinds) + " |")
    print("|---|" + "---:|" * len(kinds))
    for name in names:
        print(f"| {name} | " + " | ".join(f"{table[k][name]:.2f}" for k in kinds) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="64 KiB and 1 MiB, longer rounds")
    parser.add_argument("--only", help="comma-separated preset names (default: every preset)")
    args = parser.parse_args()
    only = None if args.only is None else frozenset(args.only.split(","))
    if only is not None and not only <= set(presets.PRESETS):
        parser.error(f"--only names no preset: {', '.join(sorted(only - set(presets.PRESETS)))}")
    sizes = (64 * 1024, 1 << 20) if args.full else (1 << 20,)
    rounds, round_time = (11, 0.04) if args.full else (7, 0.012)
    for size in sizes:
        print_table(run(size, rounds, round_time, only), size)


if __name__ == "__main__":
    main()
