"""The HS256 JWT presets (monday.com, Vonage) read ``exp``/``iat``/``nbf`` as
dates only when they are finite numbers a float holds.

Python's JSON reader takes ``NaN``, ``Infinity`` and integers of any size: a
NaN ``exp`` compared as never passed, so a token that carried one never
expired, and an ``exp`` of 400 digits raised ``OverflowError`` out of
``verify``. The tokens here are signed with the configured secret, as only
the sender (or whoever holds its secret) could sign them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from webhookverify import WebhookRequest, presets
from webhookverify.errors import MalformedHeader

SECRET = "monday-and-vonage-signing-secret"
URL = "https://app.example.test/monday"
NOW = 1_800_000_000


def _segment(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _token(claims: str) -> str:
    head = _segment(b'{"alg":"HS256","typ":"JWT"}')
    payload = _segment(claims.encode("ascii"))
    mac = hmac.new(SECRET.encode(), f"{head}.{payload}".encode("ascii"), hashlib.sha256)
    return f"{head}.{payload}.{_segment(mac.digest())}"


HUGE = "1" + "0" * 400

CASES = [
    ('"exp": NaN, "iat": {iat}', "exp"),
    ('"exp": Infinity, "iat": {iat}', "exp"),
    ('"exp": ' + HUGE + ', "iat": {iat}', "exp"),
    ('"exp": {exp}, "iat": NaN', "iat"),
    ('"exp": {exp}, "iat": -Infinity', "iat"),
    ('"exp": {exp}, "iat": ' + HUGE, "iat"),
    ('"exp": {exp}, "iat": {iat}, "nbf": NaN', "nbf"),
]


def _claims(template: str, extra: str) -> str:
    body = template.format(iat=NOW - 10, exp=NOW + 240)
    return "{" + body + extra + "}"


@pytest.mark.parametrize(("template", "claim"), CASES)
def test_monday_refuses_a_time_that_is_not_a_finite_number(template: str, claim: str) -> None:
    verifier = presets.monday(secret=SECRET, url=URL)
    token = _token(_claims(template, f', "aud": "{URL}"'))
    request = WebhookRequest("POST", URL, {"Authorization": token}, b"{}", NOW)
    with pytest.raises(MalformedHeader, match=claim):
        verifier.verify(request)


@pytest.mark.parametrize(("template", "claim"), [c for c in CASES if c[1] != "nbf"])
def test_vonage_refuses_a_time_that_is_not_a_finite_number(template: str, claim: str) -> None:
    verifier = presets.vonage(secret=SECRET)
    body = b'{"message_uuid": "m-1"}'
    digest = hashlib.sha256(body).hexdigest()
    token = _token(_claims(template, f', "jti": "j-1", "payload_hash": "{digest}"'))
    request = WebhookRequest("POST", URL, {"Authorization": f"Bearer {token}"}, body, NOW)
    # Vonage reads iat and exp (not nbf)
    with pytest.raises(MalformedHeader, match=claim):
        verifier.verify(request)


def test_finite_times_still_verify() -> None:
    token = _token(_claims('"exp": {exp}, "iat": {iat}', f', "aud": "{URL}"'))
    request = WebhookRequest("POST", URL, {"Authorization": token}, b"{}", NOW)
    assert presets.monday(secret=SECRET, url=URL).verify(request).timestamp == NOW - 10
