"""ActorKeys and FEP-521a ``Multikey`` keys (``assertionMethod``,
``publicKeyMultibase``): FEP-521a's own example actor served by the local
HTTPS key server, requests signed with the W3C EdDSA test key it names, and
the entries that must not give a key: another controller, another id,
another key type, another multibase, malformed base58, an expired key."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from webhookverify import CavageSignatureVerifier, VerificationError, WebhookRequest
from webhookverify.keyfetch import ActorKeys, KeyCache, UnreadableKey
from webhookverify.keyfetch._multikey import MultikeyError, b58decode, read_ed25519_multikey
from webhookverify.testing import sign_request

from _keyserver import KeyServer, Route, pem_public, private_key
from _vectors import multikey

VECTORS = multikey()
ACTOR = "https://server.example/users/alice"
KEY_ID = ACTOR + "#ed25519-key"
INBOX = "https://receiver.example/users/bob/inbox"


def spec_private_key() -> ed25519.Ed25519PrivateKey:
    """The W3C vc-di-eddsa test key: multicodec ed25519-priv (0x8026) and the seed."""
    raw = b58decode(VECTORS["vc_di_eddsa_key"]["secretKeyMultibase"][1:])
    assert raw[:2] == b"\x80\x26"
    return ed25519.Ed25519PrivateKey.from_private_bytes(raw[2:])


def fep_document(**entry_changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(VECTORS["fep_521a_actor"]["document"])
    entry = document["assertionMethod"][0]
    entry.update(entry_changes)
    for name in [k for k, v in entry.items() if v is None]:
        del entry[name]
    return document  # type: ignore[no-any-return]


# -- base58btc and the multicodec header, on published vectors ---------------------------


@pytest.mark.parametrize("vector", VECTORS["base58"]["vectors"], ids=lambda v: v["base58"][:12])
def test_base58_decodes_the_drafts_vectors(vector: dict[str, str]) -> None:
    assert b58decode(vector["base58"]) == bytes.fromhex(vector["hex"])


def test_the_fep_key_is_the_w3c_test_key() -> None:
    key = read_ed25519_multikey(VECTORS["vc_di_eddsa_key"]["publicKeyMultibase"])
    assert key == spec_private_key().public_key()
    # FEP-521b's base64url spelling holds the same multicodec bytes
    import base64

    spelled = VECTORS["fep_521b_base64url"]["publicKeyMultibase"][1:]
    assert base64.urlsafe_b64decode(spelled + "==")[2:] == key.public_bytes_raw()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            VECTORS["did_key_p256"]["publicKeyMultibase"],
            "multicodec header 0x8024, not ed25519-pub",
        ),
        (VECTORS["fep_521b_base64url"]["publicKeyMultibase"], "multibase 'u', not base58btc"),
        ("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ0", "outside the alphabet"),  # 0
        ("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQl", "outside the alphabet"),  # l
        ("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2 ", "outside the alphabet"),
        ("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ", "multicodec header"),
        ("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ22", "multicodec header"),
        ("z", "no multicodec header"),
        ("z" + "2" * 200, "too long"),
        ("", "not a string"),
        (None, "not a string"),
        (["z6Mk"], "not a string"),
    ],
)
def test_other_keys_and_malformed_base58_say_why(value: Any, message: str) -> None:
    with pytest.raises(MultikeyError, match=message):
        read_ed25519_multikey(value)


def test_ed25519_header_with_the_wrong_length_is_refused() -> None:
    # 0xed 0x01 then 31 bytes: a header that fits, a key that does not
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number, text = int.from_bytes(b"\xed\x01" + b"\x07" * 31, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        text = alphabet[digit] + text
    with pytest.raises(MultikeyError, match="holds 31 key bytes"):
        read_ed25519_multikey("z" + text)


# -- through ActorKeys and CavageSignatureVerifier -----------------------------------------


def serve(server: KeyServer, document: dict[str, Any]) -> None:
    server.routes[("server.example", "/users/alice")] = Route(
        json.dumps(document).encode(),
        headers={"Content-Type": "application/activity+json", "Cache-Control": "max-age=180"},
    )


def inbox(server: KeyServer, signer: Any = None, key_id: str = KEY_ID) -> CavageSignatureVerifier:
    keys = ActorKeys(hosts=["server.example"], fetcher=server.fetcher(), cache=KeyCache())
    signing = {key_id: signer if signer is not None else spec_private_key()}
    return CavageSignatureVerifier(keys=keys, signing_keys=signing)


def create_note(sender: CavageSignatureVerifier) -> WebhookRequest:
    activity = {"type": "Create", "actor": ACTOR, "object": {"type": "Note", "content": "hi"}}
    return sign_request(
        sender,
        json.dumps(activity).encode(),
        now=time.time(),
        url=INBOX,
        headers={"Content-Type": "application/activity+json"},
    )


def test_the_fep_521a_actor_verifies_a_request_signed_with_its_key(fresh: KeyServer) -> None:
    serve(fresh, fep_document())
    check = inbox(fresh)
    request = create_note(check)
    result = check.verify(request)
    assert (result.key_id, result.scheme) == (KEY_ID, "cavage-ed25519")
    assert asyncio.run(check.averify(request)).key_id == KEY_ID
    assert fresh.hits == {"server.example/users/alice": 1}


def test_a_request_signed_by_another_key_is_refused(fresh: KeyServer) -> None:
    serve(fresh, fep_document())
    check = inbox(fresh)
    forged = create_note(inbox(fresh, ed25519.Ed25519PrivateKey.generate()))
    with pytest.raises(VerificationError) as info:
        check.verify(forged)
    assert info.value.reason == "signature_mismatch"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"controller": "https://server.example/users/mallory"}, "controller is not the actor"),
        ({"controller": None}, "controller is not the actor"),
        ({"controller": [ACTOR]}, "controller is not the actor"),
        ({"type": "JsonWebKey"}, "type is not Multikey"),
        ({"type": None}, "type is not Multikey"),
        ({"publicKeyMultibase": VECTORS["did_key_p256"]["publicKeyMultibase"]}, "0x8024"),
        ({"publicKeyMultibase": VECTORS["fep_521b_base64url"]["publicKeyMultibase"]}, "'u'"),
        ({"publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQO"}, "alphabet"),
        ({"publicKeyMultibase": 42}, "not a string"),
        ({"expires": "next week"}, "expires is not a dateTime"),
        ({"expires": "2030-01-01T00:00:00"}, "expires is not a dateTime"),  # no time zone
        ({"revoked": True}, "revoked is not a dateTime"),
    ],
)
def test_an_entry_that_cannot_be_used_is_refused_saying_why(
    fresh: KeyServer, changes: dict[str, Any], message: str
) -> None:
    serve(fresh, fep_document(**changes))
    check = inbox(fresh)
    request = create_note(check)
    for _ in range(3):  # cached: the refusal answers again, nothing refetched
        with pytest.raises(UnreadableKey, match=message) as info:
            check.verify(request)
        assert info.value.reason == "unreadable_key"
    with pytest.raises(UnreadableKey, match=message):
        asyncio.run(check.averify(request))
    assert fresh.hits == {"server.example/users/alice": 1}


def test_an_expired_or_revoked_key_is_not_used(fresh: KeyServer) -> None:
    # FEP-521a: "Implementations MUST NOT accept a signature created with a
    # key that has been expired."
    serve(fresh, fep_document(expires="2020-01-01T00:00:00Z"))
    check = inbox(fresh)
    with pytest.raises(VerificationError) as info:
        check.verify(create_note(check))
    assert info.value.reason == "no_valid_key"
    serve(fresh, fep_document(revoked="2020-01-01T00:00:00Z"))  # Controlled Identifiers §2.2
    check = inbox(fresh)
    with pytest.raises(VerificationError) as info:
        check.verify(create_note(check))
    assert info.value.reason == "no_valid_key"
    serve(fresh, fep_document(expires="2999-01-01T00:00:00Z"))
    check = inbox(fresh)
    assert check.verify(create_note(check)).key_id == KEY_ID


@pytest.mark.parametrize(
    "key_id",
    [
        ACTOR + "#ED25519-KEY",  # matched exactly
        ACTOR + "#ed25519-key2",
        ACTOR + "#main-key",
        ACTOR + "#ed25519-key#",
    ],
)
def test_only_the_exact_id_names_the_key(fresh: KeyServer, key_id: str) -> None:
    serve(fresh, fep_document())
    check = inbox(fresh, key_id=key_id)
    with pytest.raises(VerificationError) as info:
        check.verify(create_note(check))
    assert info.value.reason == "unknown_key"


def test_an_entry_of_another_actor_gives_no_key(fresh: KeyServer) -> None:
    # alice's document listing a key whose id is under mallory's URL: a
    # document speaks for its own actor only, whatever it claims
    mallory = "https://server.example/users/mallory"
    document = fep_document(id=mallory + "#ed25519-key", controller=mallory)
    serve(fresh, document)
    fresh.routes[("server.example", "/users/mallory")] = Route(
        json.dumps({"id": mallory, "type": "Person"}).encode()
    )
    check = inbox(fresh, key_id=mallory + "#ed25519-key")
    with pytest.raises(VerificationError) as info:
        check.verify(create_note(check))
    assert info.value.reason == "unknown_key"
    assert "server.example/users/alice" not in fresh.hits


def test_a_document_for_another_actor_gives_no_key(fresh: KeyServer) -> None:
    document = fep_document()
    document["id"] = "https://server.example/users/mallory"
    serve(fresh, document)
    check = inbox(fresh)
    with pytest.raises(VerificationError) as info:
        check.verify(create_note(check))
    assert info.value.reason == "unknown_key"


def test_public_key_and_multikey_side_by_side(fresh: KeyServer) -> None:
    # Mastodon's RSA key in publicKey and the FEP-521a key in assertionMethod:
    # each keyId finds its own, a single object in assertionMethod is read
    # too, and references (strings) among the methods are passed over
    document = fep_document()
    document["assertionMethod"] = [ACTOR + "#elsewhere", document["assertionMethod"][0]]
    document["publicKey"] = {
        "id": ACTOR + "#main-key",
        "owner": ACTOR,
        "publicKeyPem": pem_public(private_key("rsa", 0)).decode(),
    }
    serve(fresh, document)
    rsa_check = inbox(fresh, private_key("rsa", 0), key_id=ACTOR + "#main-key")
    assert rsa_check.verify(create_note(rsa_check)).scheme == "cavage-rsa-sha256"
    check = inbox(fresh)
    assert check.verify(create_note(check)).key_id == KEY_ID
    document["assertionMethod"] = document["assertionMethod"][1]
    serve(fresh, document)
    check = inbox(fresh)
    assert check.verify(create_note(check)).key_id == KEY_ID


def test_a_publickey_entry_of_the_same_id_comes_first(fresh: KeyServer) -> None:
    document = fep_document()
    document["publicKey"] = {
        "id": KEY_ID,
        "owner": ACTOR,
        "publicKeyPem": pem_public(private_key("rsa", 0)).decode(),
    }
    serve(fresh, document)
    check = inbox(fresh)  # signs with the Multikey's private half
    with pytest.raises(VerificationError):
        check.verify(create_note(check))
