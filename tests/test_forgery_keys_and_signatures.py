"""Forgeries tried against fetched keys, JWT claims and HTTP signatures.

Each case is an attack that once passed: an actor document another host
served through a redirect, a covered header whose bytes differ from the
signed text, a signed token whose times are not numbers a clock can hold.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding

from webhookverify import (
    CavageSignatureVerifier,
    HttpMessageSignatureVerifier,
    Secret,
    VerificationError,
    WebhookRequest,
    presets,
)
from webhookverify.keyfetch import ActorKeys, FixedKeys, KeyCache
from webhookverify.keyfetch.jws import encode
from webhookverify.testing import sign_request

from _keyserver import KeyServer, Route, pem_public, private_key
from contract import NOW


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
ACTIVITY_JSON = "application/activity+json"


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
    fresh.routes[(VICTIM, "/users/alice.json")] = Route(
        actor(victim_url, private_key("rsa", 0)), headers={"Content-Type": ACTIVITY_JSON}
    )
    keys = ActorKeys(hosts=RULES, fetcher=fresh.fetcher(), cache=KeyCache())
    check, request = signed_by(private_key("rsa", 0), f"{victim_url}#main-key", keys)
    assert check.verify(request).key_id == f"{victim_url}#main-key"


@pytest.mark.parametrize(
    ("content_type", "verifies"),
    [
        (ACTIVITY_JSON, True),
        ("application/activity+json; charset=utf-8", True),
        ("Application/Activity+JSON", True),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', True),
        (
            'application/ld+json; charset=utf-8; profile="https://www.w3.org/ns/activitystreams '
            'https://example.test/other"',
            True,
        ),
        (None, False),
        ("application/json", False),
        ("application/octet-stream", False),
        ("text/plain", False),
        ("application/ld+json", False),
        ('application/ld+json; profile="https://example.test/other"', False),
        ("application/activity+jsonx", False),
    ],
)
def test_actor_document_must_come_as_activity_streams_json(
    fresh: KeyServer, content_type: str | None, verifies: bool
) -> None:
    # A host on the rules that also serves its users' uploads (media on the
    # same origin) answers an uploaded JSON file whose id is its own URL:
    # without the media type, that file would be an actor of the host.
    upload = f"https://{VICTIM}/media/upload.json"
    headers = {} if content_type is None else {"Content-Type": content_type}
    fresh.routes[(VICTIM, "/media/upload.json")] = Route(
        actor(upload, private_key("rsa", 1)), headers=headers
    )
    keys = ActorKeys(hosts=RULES, fetcher=fresh.fetcher(), cache=KeyCache())
    check, request = signed_by(private_key("rsa", 1), f"{upload}#main-key", keys)
    if verifies:
        assert check.verify(request).key_id == f"{upload}#main-key"
    else:
        assert reason(check, request) == "unknown_key"


# -- RFC 9421 / draft-cavage: a covered header's bytes are the signed bytes ------------

SECRET = b"a-shared-secret-of-at-least-32-bytes-0123456789"


def rfc9421() -> HttpMessageSignatureVerifier:
    return HttpMessageSignatureVerifier(
        keys={"k": ("hmac-sha256", SECRET)},
        required_components=("content-digest", "x-action"),
    )


@pytest.mark.parametrize("tampered", ["archive\x85all", "archive all\x85", "\x85archive all"])
def test_rfc9421_covered_header_with_a_line_break_character_is_not_the_signed_one(
    tampered: str,
) -> None:
    # U+0085 (NEL, the latin-1 byte 0x85) is obs-text HTTP allows in a value,
    # and str.splitlines() breaks on it: the value received must not be read
    # as the "archive all" that was signed.
    check = rfc9421()
    request = sign_request(
        check,
        b"{}",
        now=NOW,
        headers={"X-Action": "archive all"},
        components="@method @target-uri content-digest x-action",
        field_x_action="archive all",
    )
    assert check.verify(request, now=NOW).key_id == "k"
    assert reason(check, with_header(request, "X-Action", tampered), NOW) != ""


def test_rfc9421_outer_spaces_and_tabs_are_still_trimmed() -> None:
    # RFC 9421 §2.1: leading and trailing whitespace (SP, HTAB) is stripped
    check = rfc9421()
    request = sign_request(
        check,
        b"{}",
        now=NOW,
        components="@method content-digest x-action",
        field_x_action="archive all",
    )
    for value in (" archive all", "archive all\t", "\t archive all  "):
        assert check.verify(with_header(request, "X-Action", value), now=NOW).key_id == "k"


@pytest.mark.parametrize("extra", ["\x85", "\xa0"])
def test_cavage_covered_header_with_trailing_obs_text_is_not_the_signed_one(extra: str) -> None:
    # str.strip() drops U+0085 and U+00A0 too; draft-cavage trims only the
    # optional whitespace of HTTP (SP, HTAB)
    key = ed25519.Ed25519PrivateKey.generate()
    check = CavageSignatureVerifier(keys={"k": key.public_key()}, signing_keys={"k": key})
    request = sign_request(check, b"{}", now=NOW, url="https://receiver.example/inbox")
    assert check.verify(request, now=NOW).key_id == "k"
    date = request.headers["Date"]
    assert check.verify(with_header(request, "Date", f" {date}\t"), now=NOW).key_id == "k"
    with pytest.raises(VerificationError):
        check.verify(with_header(request, "Date", date + extra), now=NOW)


# -- JWT claims: times a clock can compare ---------------------------------------------


def chat() -> Any:
    key = Secret(pem_public(private_key("rsa", 0)), key_id="k0")
    return presets.google_chat(project_number="1234567890", keys=FixedKeys([key]))


def chat_request(raw_claims: str) -> WebhookRequest:
    """A Chat token whose payload is the JSON text ``raw_claims``, signed by the key."""
    token = encode({"kid": "k0", "typ": "JWT"}, {"x": 1}, private_key("rsa", 0), "RS256")
    head = token.split(".")[0]

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{head}.{b64(raw_claims.encode())}"
    signature = private_key("rsa", 0).sign(
        signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    return WebhookRequest(
        method="POST",
        url="https://chat.example.test/app",
        headers={"Authorization": f"Bearer {signing_input}.{b64(signature)}"},
        body=b"{}",
        received_at=NOW,
    )


@pytest.mark.parametrize(
    "times",
    [
        '"exp": NaN, "iat": {iat}',
        '"exp": Infinity, "iat": {iat}',
        '"exp": 1e999, "iat": {iat}',
        '"exp": {exp}, "iat": NaN',
        '"exp": {exp}, "iat": -Infinity',
        '"exp": 1' + "0" * 400 + ', "iat": {iat}',
        '"exp": {exp}, "iat": {iat}, "nbf": NaN',
    ],
)
def test_jwt_times_that_are_not_finite_numbers_are_refused(times: str) -> None:
    fields = times.format(exp=int(NOW) + 600, iat=int(NOW))
    claims = '{"iss": "chat@system.gserviceaccount.com", "aud": "1234567890", ' + fields + "}"
    assert reason(chat(), chat_request(claims), NOW) == "malformed_header"


def test_jwt_with_finite_times_still_verifies() -> None:
    fields = f'"exp": {int(NOW) + 600}.5, "iat": {int(NOW)}'
    claims = '{"iss": "chat@system.gserviceaccount.com", "aud": "1234567890", ' + fields + "}"
    assert chat().verify(chat_request(claims), now=NOW).timestamp == NOW
