"""Importing webhookverify loads no server, framework, redis, cryptography or asyncio."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "asyncio",
    "cryptography",
    "httpx",
    "redis",
    "flask",
    "django",
    "starlette",
    "fastapi",
    "aiohttp",
    "uvicorn",
    "gunicorn",
)


def loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.split()


def test_core_imports_are_light() -> None:
    modules = "webhookverify, webhookverify.presets, webhookverify.config, webhookverify.replay"
    assert loaded_after(f"import {modules}, webhookverify.wsgi, webhookverify.asgi") == []


def test_lambda_handler_and_test_helpers_stay_light() -> None:
    """A Lambda function loads no framework; redis only when a RedisReplayStore is built."""
    code = "import webhookverify.aws_lambda, webhookverify.testing_clients"
    assert loaded_after(code) == []


def test_hmac_verification_stays_light() -> None:
    code = """
from webhookverify import presets
from webhookverify.testing import sign_request
verifier = presets.github(secret="s")
verifier.verify(sign_request(verifier, b"{}"))
"""
    assert loaded_after(code) == []


def test_public_key_verification_loads_cryptography_when_used() -> None:
    code = "import webhookverify\nwebhookverify.PublicKeyVerifier"
    assert loaded_after(code) == ["cryptography"]


def test_testing_module_loads_pytest_only_for_the_contract() -> None:
    probe = "import sys, webhookverify.testing\nprint('pytest' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["False"]
    code = "from webhookverify.testing import VerifierContract\nprint(VerifierContract.__name__)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["VerifierContract"]


def test_fetched_key_presets_load_nothing_until_a_key_is_needed() -> None:
    code = """
from webhookverify import presets
presets.google_oidc(audience="https://hooks.example/push", service_account="a@b.iam.gserviceaccount.com")
presets.aws_sns(topics=["arn:aws:sns:us-east-1:123456789012:T"])
presets.paypal(webhook_id="WH")
presets.plaid(client_id="c", secret="s")
presets.microsoft_graph(client_state="state")
"""
    assert loaded_after(code) == []
