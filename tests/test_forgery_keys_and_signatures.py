"""Forgeries tried against fetched keys, JWT claims and HTTP signatures.

Each case is an attack that once passed: an actor document another host
served through a redirect, a covered header whose bytes differ from the
signed text, a signed token whose times are not numbers a clock can hold.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from webhookverify import (
    CavageSignatureVerifier,
    VerificationError,
    WebhookRequest,
)
from webhookverify.keyfetch import ActorKeys, KeyCache
from webhookverify.testing import sign_request

from _keyserver import KeyServer, Route, pem_public, private_key


def reason(verifier: Any, request: WebhookRequest, now: float | None = None) -> str:
    with pytest.raises(VerificationError) as info:
        verifier.verify(request, now=now)
    return info.value.reason


def with_header(request: WebhookRequest, name: str, value: str) -> WebhookRequest:
    headers = [(k, v) for k, v in request.headers.raw_items() if k.lower() != name.lower()]
    return request.replace(headers=[*headers, (name, value)])


# -- ActorKeys: a document another host serves through a redirect --------------------

VICTIM = "mastodon.social"
ATTACKER = "alice.example.social"
RULES = [VICTIM, "*.example.social"]


@pytest.fixture(scope="module")
def server() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.close()


@pytest.fixture
def fresh(server: KeyServer) -> KeyServer:
    server.routes.clear()
    server.hits.clear()
    return server


def actor(actor_id: str, key: Any) -> bytes:
    return json.dumps(
        {
            "id": actor_id,
            "type": "Person",
            "publicKey": {
                "id": f"{actor_id}#main-key",
                "owner": actor_id,
                "publicKeyPem": pem_public(key).decode(),
            },
        }
    ).encode()


def signed_by(key: Any, key_id: str, keys: ActorKeys) -> tuple[Any, WebhookRequest]:
    check = CavageSignatureVerifier(keys=keys, signing_keys={key_id: key})
    request = sign_request(
        check,
        b'{"type":"Create"}',
        now=time.time(),
        url="https://receiver.example/inbox",
        key_id=key_id,
    )
    return check, request


@pytest.mark.parametrize("path", ["/users/alice", "/go"])
def test_actor_document_served_by_another_host_through_a_redirect_is_refused(
    fresh: KeyServer, path: str
) -> None:
    # An open redirect (or a redirecting actor URL) on one allowed host sends
    # the fetch to another allowed host, where an attacker serves a document
    # whose id is the first URL: it must not speak for the first host.
    victim_url = f"https://{VICTIM}{path}"
    fresh.routes[(VICTIM, path)] = Route(b"", 302, {"Location": f"https://{ATTACKER}/evil"})
    fresh.routes[(ATTACKER, "/evil")] = Route(actor(victim_url, private_key("rsa", 1)))
    keys = ActorKeys(hosts=RULES, fetcher=fresh.fetcher(), cache=KeyCache())
    check, request = signed_by(private_key("rsa", 1), f"{victim_url}#main-key", keys)
    assert reason(check, request) == "unknown_key"
    assert fresh.hits == {f"{VICTIM}{path}": 1, f"{ATTACKER}/evil": 1}


def test_actor_redirect_on_its_own_host_still_verifies(fresh: KeyServer) -> None:
    victim_url = f"https://{VICTIM}/users/alice"
    fresh.routes[(VICTIM, "/users/alice")] = Route(b"", 301, {"Location": "/users/alice.json"})
    fresh.routes[(VICTIM, "/users/alice.json")] = Route(actor(victim_url, private_key("rsa", 0)))
    keys = ActorKeys(hosts=RULES, fetcher=fresh.fetcher(), cache=KeyCache())
    check, request = signed_by(private_key("rsa", 0), f"{victim_url}#main-key", keys)
    assert check.verify(request).key_id == f"{victim_url}#main-key"
