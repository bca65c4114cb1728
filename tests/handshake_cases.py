"""Each handshake the receiver answers, as a case: a receiver with the one
handler whose preset defines it, the provider's documented request, what it
must be answered, and a request that must not be (a wrong token or
signature, a value that may not be echoed).

Shared by the in-process, framework and real-server tests. Every expected
answer comes from ``tests/vectors/handshakes.json`` or is computed here with
Python's ``hmac`` from the provider's documented algorithm: an oracle that
is not the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from webhookverify import EventBus, Handler, HandlerRegistry, Receiver, WebhookRequest, presets
from webhookverify.testing import sign_request

from _vectors import VECTORS

URL = "https://hooks.example.test/hooks"
HANDSHAKE_VECTORS = {
    v["provider"]: v for v in json.loads((VECTORS / "handshakes.json").read_text())
}
META_TOKEN = "meta-verify-token-7d1c"
OKTA_TOKEN = "Bearer okta-hook-token-55aa"
SLACK_SECRET = HANDSHAKE_VECTORS["slack"]["secret"]
ZOOM_SECRET = HANDSHAKE_VECTORS["zoom"]["secret"]
TWITCH_SECRET = HANDSHAKE_VECTORS["twitch"]["secret"]
X_SECRET = HANDSHAKE_VECTORS["x"]["secret"]
# a challenge past MAX_CHALLENGE: never echoed
OVERLONG = "A" * 1025


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""

    def webhook_request(self) -> WebhookRequest:
        return WebhookRequest(self.method, self.url, self.headers, self.body)


@dataclass
class Case:
    name: str
    handler: Handler
    good: Request
    status: int
    content_type: str
    answer: bytes  # the body expected, exactly
    bad: Request
    echoed: str  # what the bad request carries that must never come back
    extra_headers: dict[str, str] = field(default_factory=dict)

    def receiver(self) -> Receiver:
        """A receiver with this case's handler only."""
        return Receiver(HandlerRegistry([self.handler]), EventBus())

    def wire(self, receiver: Receiver) -> dict[str, list[Any]]:
        """Record what ``receiver``'s bus sees."""
        seen: dict[str, list[Any]] = {"received": [], "handshake": [], "rejected": []}
        for event, got in seen.items():
            receiver.bus.bind(f"webhook.{event}", got.append)
        return seen


def signed(verifier: Any, body: str, headers: dict[str, str] | None = None) -> Request:
    request = sign_request(verifier, body.encode(), url=URL, headers=headers)
    return Request("POST", URL, dict(request.headers.raw_items()), request.body)


def _query(**params: str) -> str:
    return URL + "?" + urllib.parse.urlencode(params)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def x_case() -> Case:
    vector = HANDSHAKE_VECTORS["x"]
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(vector["request"]["url"]).query)
    digest = hmac.new(X_SECRET.encode(), token["crc_token"][0].encode(), hashlib.sha256).digest()
    oracle = {"response_token": "sha256=" + base64.b64encode(digest).decode()}
    assert oracle == vector["expect"]["json"]
    return Case(
        "x",
        Handler("x", presets.x(secret=X_SECRET)),
        Request("GET", vector["request"]["url"], {}),
        200,
        "application/json",
        _json(oracle),
        Request("GET", _query(crc_token=OVERLONG), {}),
        OVERLONG,
    )


def meta_case() -> Case:
    good = _query(
        **{"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": META_TOKEN}
    )
    bad = _query(
        **{"hub.mode": "subscribe", "hub.challenge": "echo-me-not", "hub.verify_token": "guess"}
    )
    return Case(
        "meta",
        Handler("meta", presets.meta(secret="app-secret", verify_token=META_TOKEN)),
        Request("GET", good, {}),
        200,
        "text/plain; charset=utf-8",
        b"1158201444",
        Request("GET", bad, {}),
        "echo-me-not",
    )


def _signed_case(name: str, secret: str, factory: Any) -> Case:
    vector = HANDSHAKE_VECTORS[name]
    body = vector["request"]["body"]
    expect = vector["expect"]
    answer = _json(expect["json"]) if "json" in expect else expect["text"].encode()
    kind = "application/json" if "json" in expect else "text/plain; charset=utf-8"
    # the message type names the handshake; the id and timestamp are signed anew
    kept = {k: v for k, v in vector["request"]["headers"].items() if k.endswith("Message-Type")}
    good = signed(factory(secret=secret), body, kept)
    forged = signed(factory(secret="not-the-secret-0123"), body, kept)
    challenge = json.loads(body).get("challenge") or json.loads(body)["payload"]["plainToken"]
    return Case(
        name, Handler(name, factory(secret=secret)), good, 200, kind, answer, forged, challenge
    )


def slack_case() -> Case:
    return _signed_case("slack", SLACK_SECRET, presets.slack)


def zoom_case() -> Case:
    case = _signed_case("zoom", ZOOM_SECRET, presets.zoom)
    token = b"qgg8vlvZRS6UYooatFL8Aw"
    oracle = hmac.new(ZOOM_SECRET.encode(), token, hashlib.sha256).hexdigest()
    assert json.loads(case.answer)["encryptedToken"] == oracle
    return case


def twitch_case() -> Case:
    return _signed_case("twitch", TWITCH_SECRET, presets.twitch)


def _echo_case(name: str, factory: Any) -> Case:
    return Case(
        name,
        Handler(name, factory(secret=f"{name}-secret")),
        Request("GET", _query(challenge="dGhpcyBpcyBhIGNoYWxsZW5nZQ"), {}),
        200,
        "text/plain; charset=utf-8",
        b"dGhpcyBpcyBhIGNoYWxsZW5nZQ",
        Request("GET", _query(challenge="<b>\x01</b>"), {}),
        "<b>",
    )


def dropbox_case() -> Case:
    return _echo_case("dropbox", presets.dropbox)


def nylas_case() -> Case:
    return _echo_case("nylas", presets.nylas)


def okta_case() -> Case:
    challenge = "j3aWtDa16qdMbb1eG6ugxnzpE0M_Q1Pk3cGbUxzL"
    header = "X-Okta-Verification-Challenge"
    return Case(
        "okta",
        Handler("okta", presets.okta(secret=OKTA_TOKEN)),
        Request("GET", URL, {"Authorization": OKTA_TOKEN, header: challenge}),
        200,
        "application/json",
        _json({"verification": challenge}),
        Request("GET", URL, {"Authorization": "Bearer guessed", header: "not-" + challenge}),
        "not-" + challenge,
    )


def graph_case() -> Case:
    token = "Validation: Testing client application reachability for subscription Request-Id: 1c1c"
    verifier = presets.github(secret="unused")  # Graph signs nothing: any verifier carries it
    return Case(
        "graph",
        Handler("graph", verifier, handshake=presets.graph_validation()),
        Request("POST", _query(validationToken=token), {"Content-Type": "text/plain"}),
        200,
        "text/plain; charset=utf-8",
        token.encode(),
        Request("POST", _query(validationToken=OVERLONG), {}),
        OVERLONG,
    )


def asana_case() -> Case:
    verifier = presets.asana()
    verifier.open_registration(60)
    secret = "b537207f20cbfa02357cf448134da559"
    return Case(
        "asana",
        Handler("asana", verifier),
        Request("POST", URL, {"X-Hook-Secret": secret}),
        200,
        "text/plain; charset=utf-8",
        b"",
        # the same handshake once the window has closed (the good one closes it)
        Request("POST", URL, {"X-Hook-Secret": "attacker-chosen-secret"}),
        "attacker-chosen-secret",
        {"X-Hook-Secret": secret},
    )


CASES = {
    "x": x_case,
    "meta": meta_case,
    "slack": slack_case,
    "zoom": zoom_case,
    "twitch": twitch_case,
    "dropbox": dropbox_case,
    "nylas": nylas_case,
    "okta": okta_case,
    "graph": graph_case,
    "asana": asana_case,
}
