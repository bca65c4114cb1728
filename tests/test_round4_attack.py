"""Attacks on the request path, the middlewares' guard, replay and logs:
each test is a request the library must refuse, or a delivery it must not
lose or dispatch twice, found by trying.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import urllib.parse
from collections.abc import Iterator

import httpx
import pytest

from path_guard_apps import Run
from test_path_guard import FRAMEWORKS, Framework, _raw_post, guard, send, signed, unique
from test_path_guard import Served as _Served
from webhookverify import (
    ConfigurationError,
    Delivery,
    EventBus,
    Handler,
    HandlerRegistry,
    Receiver,
    ReplayMode,
    TokenVerifier,
    Verification,
    VerificationError,
    WebhookRequest,
    presets,
)
from webhookverify._paths import normalize_path

from contract import NOW

# -- the middlewares' guard ----------------------------------------------------------------

# Python's ``$`` matches before a final newline, and Starlette's routes are
# regular expressions ending in ``$``: ``/webhooks%0A`` reaches ``/webhooks``.
NEWLINE_SPELLINGS = [
    "/webhooks%0A",
    "/webhooks%0a",
    "/WEBHOOKS%0A",
    "//webhooks/%0A",
    "/webhooks%250A",
]


@pytest.mark.parametrize("framework", FRAMEWORKS, ids=lambda f: f.name)
@pytest.mark.parametrize("spelling", NEWLINE_SPELLINGS)
def test_a_trailing_newline_does_not_reach_the_view_unverified(
    framework: Framework, spelling: str
) -> None:
    runs: list[Run] = []
    bare = framework.build(runs)
    bare_status, _ = send(framework, bare, spelling, body=unique())
    routed = bool(runs)
    runs.clear()
    guarded = guard(framework, bare, "/webhooks")
    assert send(framework, guarded, spelling, body=unique())[0] == 401
    assert runs == []
    body = unique()
    status, _ = send(framework, guarded, spelling, body=body, headers=signed(body))
    # routed or not, the app answers the verified request as it would have
    assert status == (200 if routed else bare_status)
    assert [run.delivery is not None for run in runs] == ([True] if routed else [])
    if framework.kind == "asgi" and spelling == "/webhooks%0A":
        assert routed  # the oracle: Starlette's router does take it


@pytest.mark.parametrize("framework", FRAMEWORKS, ids=lambda f: f.name)
@pytest.mark.parametrize("passthrough", [(), ("GET",)])
def test_no_method_spelling_reaches_the_view_unverified(
    framework: Framework, passthrough: tuple[str, ...]
) -> None:
    """HEAD (routed to a GET view), OPTIONS (answered by the router), a
    lower-case method (Werkzeug and Django upper-case it): each is verified,
    refused, or passed through as configured, never a POST run unverified."""
    runs: list[Run] = []
    guarded = guard(framework, framework.build(runs), "/webhooks", passthrough_methods=passthrough)
    for method in ("HEAD", "OPTIONS", "post", "Post", "PUT", "PATCH", "get", "GET"):
        for spelling in ("/webhooks", "//webhooks/", "/webhooks%0A"):
            send(framework, guarded, spelling, method=method, body=unique())
    assert runs == []  # the view records every run but a GET handshake's


def test_normalize_path_drops_one_final_newline_only() -> None:
    assert normalize_path("/webhooks\n") == "/webhooks"
    assert normalize_path("/webhooks/\n") == "/webhooks"
    assert normalize_path("/webhooks%0A") == "/webhooks"
    assert normalize_path("/web\nhooks") == "/web\nhooks"
    assert normalize_path("/webhooks\n\n") == "/webhooks\n"  # ``$`` skips one newline only


@pytest.fixture(scope="module")
def uvicorn_served() -> Iterator[_Served]:
    from test_servers import TESTS, free_port, running

    port = free_port()
    argv = ["uvicorn", "path_guard_apps:served_starlette", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    with running("uvicorn", [sys.executable, "-m", *argv], port, cwd=TESTS):
        yield _Served("uvicorn", f"http://127.0.0.1:{port}")


@pytest.mark.server
def test_a_trailing_newline_under_uvicorn(uvicorn_served: _Served) -> None:
    def seen(body: bytes) -> list[bool]:
        found = json.loads(httpx.get(f"{uvicorn_served.base}/_runs", timeout=10).content)
        digest = hashlib.sha256(body).hexdigest()
        return [r["verified"] for r in found if r["sha256"] == digest]

    body = unique()
    assert _raw_post(uvicorn_served, "/webhooks%0A", body, {}) == 401
    assert seen(body) == []
    assert _raw_post(uvicorn_served, "/webhooks%0A", body, signed(body)) == 200
    assert seen(body) == [True]


# -- replay: a signed id that can be spelled otherwise -------------------------------------

PLIVO_URL = "https://hooks.example.test/plivo/status"
PLIVO_NONCE = "05429567804466091622"  # Plivo's nonces are digits


def _plivo_request(fields: dict[str, str], nonce: str, signature: str) -> WebhookRequest:
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Plivo-Signature-V3": signature,
        "X-Plivo-Signature-V3-Nonce": nonce,
    }
    body = urllib.parse.urlencode(fields).encode()
    return WebhookRequest("POST", PLIVO_URL, headers, body, received_at=NOW)


def test_plivo_nonce_cannot_take_the_end_of_the_last_field() -> None:
    """Plivo signs ``<url>?<query>.<fields>.<nonce>``: with a ``.`` in the last
    field's value, its end can be moved into the nonce. The signed message is
    the same (Plivo's own SDK accepts both), but the field changes and the
    nonce, which is the replay key, is new: the delivery was dispatched again."""
    from plivo.utils import validate_v3_signature

    fields = {"From": "14155550100", "To": "14155550199", "TotalCost": "0.00500"}
    verifier = presets.plivo(secret="AUTH_TOKEN")
    signature = verifier.sign(
        urllib.parse.urlencode(fields).encode(), NOW, url=PLIVO_URL, id=PLIVO_NONCE
    )["X-Plivo-Signature-V3"]
    forged_fields = {**fields, "TotalCost": "0"}
    forged_nonce = "00500." + PLIVO_NONCE
    # the oracle: the SDK takes the forged request for a signed one
    assert validate_v3_signature(
        "POST", PLIVO_URL, forged_nonce, "AUTH_TOKEN", signature, forged_fields
    )

    received: list[Delivery] = []
    bus = EventBus()
    bus.bind("webhook.received", received.append)
    receiver = Receiver(HandlerRegistry([Handler("plivo", verifier, user="bot")]), bus)
    genuine = _plivo_request(fields, PLIVO_NONCE, signature)
    assert receiver.receive(genuine).status == 200
    forged = _plivo_request(forged_fields, forged_nonce, signature)
    with pytest.raises(VerificationError) as caught:
        verifier.verify(forged)
    assert caught.value.reason == "malformed_header"
    assert receiver.receive(forged).status == 401
    assert [d.request.form() for d in received] == [list(fields.items())]


TWILIO_URL = "https://hooks.example.test/twilio/sms?tenant=7"


def _twilio_request(url: str, fields: dict[str, str], signature: str) -> WebhookRequest:
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }
    body = urllib.parse.urlencode(fields).encode()
    return WebhookRequest("POST", url, headers, body, received_at=NOW)


def test_twilio_bytes_moved_between_url_and_form_are_the_same_delivery() -> None:
    """Twilio signs the URL and the sorted fields run together, so the first
    field can be moved to the end of the URL (or the URL's last characters
    into a first field) under the same signature. The replay key hashed the
    URL and the fields as two parts: the moved copy had a key of its own and
    was dispatched again."""
    from twilio.request_validator import RequestValidator

    token = "twilio-auth-token-0123456789"
    fields = {"AccountSid": "AC0123", "Body": "order 1 pizza", "From": "+15550100"}
    verifier = presets.twilio(secret=token)
    body = urllib.parse.urlencode(fields).encode()
    signature = verifier.sign(body, NOW, url=TWILIO_URL)["X-Twilio-Signature"]
    rest = {k: v for k, v in fields.items() if k != "AccountSid"}
    moved_out = (TWILIO_URL + "AccountSidAC0123", rest)
    moved_in = (TWILIO_URL[:-1], {"7": "", **fields})  # "7" sorts before "AccountSid"
    validator = RequestValidator(token)
    for url, form in moved_out, moved_in:
        assert validator.validate(url, form, signature)  # the oracle: the same signature

    received: list[Delivery] = []
    bus = EventBus()
    bus.bind("webhook.received", received.append)
    receiver = Receiver(HandlerRegistry([Handler("twilio", verifier, user="bot")]), bus)
    assert receiver.receive(_twilio_request(TWILIO_URL, fields, signature)).reason == "accepted"
    for url, form in moved_out, moved_in:
        outcome = receiver.receive(_twilio_request(url, form, signature))
        assert (outcome.status, outcome.reason) == (200, "duplicate")
    assert len(received) == 1


# -- replay: a setting that guarded nothing ------------------------------------------------


@pytest.mark.parametrize("mode", ["id", "content"])
def test_replay_on_for_a_token_is_refused(mode: ReplayMode) -> None:
    """A token signs nothing, so ``replay="content"`` (or ``"id"``) had nothing
    to key on: the same request was dispatched every time it was sent, while
    the handler said its replays were guarded."""
    token = TokenVerifier(secret="gitlab-token-0123456789", header="X-Gitlab-Token")
    with pytest.raises(ConfigurationError, match=r"replay='off'") as caught:
        Handler("gitlab", token, replay=mode)
    assert f"replay={mode!r}" in str(caught.value)
    assert Handler("gitlab", token).replay_mode == "off"
    assert Handler("gitlab", token, replay="off").replay_mode == "off"


class _SignsNothing:
    """A verifier of one's own that proves who sent the request, and no content."""

    required_headers = ("X-Sender",)

    def verify(self, request: WebhookRequest, now: float | None = None) -> Verification:
        if request.headers.get("X-Sender") != "known":
            raise VerificationError("unknown sender")
        return Verification(scheme="own", key_id="k")

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        return {"X-Sender": "known"}


def test_replay_on_with_nothing_signed_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    received: list[Delivery] = []
    bus = EventBus()
    bus.bind("webhook.received", received.append)
    handler = Handler("own", _SignsNothing(), replay="content")
    receiver = Receiver(HandlerRegistry([handler]), bus)
    request = WebhookRequest(headers={"X-Sender": "known"}, body=b"{}", received_at=NOW)
    with caplog.at_level(logging.WARNING, logger="webhookverify"):
        assert receiver.receive(request).status == 200
    [record] = [r for r in caplog.records if "signed nothing" in r.getMessage()]
    assert "'own'" in record.getMessage() and "replay='off'" in record.getMessage()
    assert len(received) == 1
