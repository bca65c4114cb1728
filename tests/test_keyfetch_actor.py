"""ActorKeys: draft-cavage signatures verified with keys fetched from ActivityPub
actor documents, every fetch served by a local HTTPS server with a test CA
(tests/_keyserver.py) over loopback, never the internet."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from webhookverify import (
    CavageSignatureVerifier,
    ConfigurationError,
    Handler,
    HandlerRegistry,
    KeyUnavailable,
    Receiver,
    VerificationError,
    WebhookRequest,
    asgi,
)
from webhookverify.keyfetch import (
    ACTOR_ACCEPT,
    MIN_REFETCH_INTERVAL,
    ActorKeys,
    Fetcher,
    KeyCache,
    UnknownKey,
)
from webhookverify.testing import make_scope, run_asgi, sign_request

from _keyserver import KeyServer, Route, pem_public, private_key

HOST = "mastodon.social"
ACTOR = f"https://{HOST}/users/alice"
KEY_ID = f"{ACTOR}#main-key"
PATH = "/users/alice"
INBOX = "https://receiver.example/users/bob/inbox"
RULES = ["mastodon.social", "*.example.social"]


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def actor_document(
    key: Any, actor: str = ACTOR, key_id: str = KEY_ID, owner: str | None = None, **extra: Any
) -> bytes:
    """An actor document shaped as Mastodon serves it."""
    return json.dumps(
        {
            "@context": [
                "https://www.w3.org/ns/activitystreams",
                "https://w3id.org/security/v1",
            ],
            "id": actor,
            "type": "Person",
            "preferredUsername": "alice",
            "inbox": f"{actor}/inbox",
            "outbox": f"{actor}/outbox",
            "publicKey": {
                "id": key_id,
                "owner": actor if owner is None else owner,
                "publicKeyPem": pem_public(key).decode(),
            },
            **extra,
        }
    ).encode()


def serve_actor(server: KeyServer, body: bytes, **options: Any) -> None:
    headers = {"Content-Type": "application/activity+json", "Cache-Control": "max-age=180"}
    server.routes[(HOST, PATH)] = Route(body, headers=headers, **options)


def source(server: KeyServer, clock: Clock | None = None, **fetch: Any) -> ActorKeys:
    cache = KeyCache(clock=clock or Clock())
    return ActorKeys(hosts=RULES, fetcher=server.fetcher(**fetch), cache=cache)


def verifier(keys: ActorKeys, signer: Any = None, key_id: str = KEY_ID) -> CavageSignatureVerifier:
    signing = {key_id: signer if signer is not None else private_key("rsa", 0)}
    return CavageSignatureVerifier(keys=keys, signing_keys=signing)


def follow(sender: CavageSignatureVerifier, n: int = 1) -> WebhookRequest:
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{ACTOR}#follows/{n}",
        "type": "Follow",
        "actor": ACTOR,
        "object": "https://receiver.example/users/bob",
    }
    return sign_request(
        sender,
        json.dumps(activity).encode(),
        now=time.time(),
        url=INBOX,
        headers={"Content-Type": "application/activity+json"},
    )


def reason(check: Any, request: WebhookRequest) -> str:
    with pytest.raises(VerificationError) as info:
        check.verify(request)
    return info.value.reason


# -- a signed Follow, through every path -------------------------------------------------


def test_signed_follow_verified_through_receive_areceive_and_asgi(fresh: KeyServer) -> None:
    serve_actor(fresh, actor_document(private_key("rsa", 0)))
    check = verifier(source(fresh))
    received: list[Any] = []
    receiver = Receiver(HandlerRegistry([Handler("fediverse", check)]))
    receiver.bus.bind("webhook.received", received.append)

    assert receiver.receive(follow(check, 1)).status == 200
    assert asyncio.run(receiver.areceive(follow(check, 2))).status == 200
    request = follow(check, 3)
    response = run_asgi(asgi.WebhookApp(receiver), make_scope(request), request.body)
    assert response is not None and response.status == 200

    assert [d.verification.key_id for d in received] == [KEY_ID] * 3
    assert [d.verification.scheme for d in received] == ["cavage-rsa-sha256"] * 3
    assert [d.json()["type"] for d in received] == ["Follow"] * 3
    # one actor fetch, shared by the sync and async paths, asked for as ActivityStreams
    assert fresh.hits == {f"{HOST}{PATH}": 1}
    assert fresh.accepts == [ACTOR_ACCEPT]


def test_areceive_awaits_the_fetch_without_blocking_the_event_loop(fresh: KeyServer) -> None:
    serve_actor(fresh, actor_document(private_key("rsa", 0)), delay=0.6)
    check = verifier(source(fresh))
    receiver = Receiver(HandlerRegistry([Handler("fediverse", check)]))
    request = follow(check)

    async def main() -> tuple[int, int]:
        ticks = 0
        task = asyncio.ensure_future(receiver.areceive(request))
        while not task.done():
            ticks += 1
            await asyncio.sleep(0.01)
        return ticks, task.result().status

    ticks, status = asyncio.run(main())
    assert status == 200
    assert ticks >= 20  # the loop kept running while the actor document was fetched


def test_a_forged_signature_is_401_although_the_key_is_fetched(fresh: KeyServer) -> None:
    serve_actor(fresh, actor_document(private_key("rsa", 0)))
    check = verifier(source(fresh))
    forger = verifier(source(fresh), signer=private_key("rsa", 1))
    assert reason(check, follow(forger)) == "signature_mismatch"
    assert Receiver(HandlerRegistry([Handler("f", check)])).receive(follow(forger)).status == 401


# -- what is never fetched ----------------------------------------------------------------


def test_a_stale_signature_is_refused_before_any_fetch(fresh: KeyServer) -> None:
    # its Date is a day old: nothing a fetched key could change, so nothing is
    # fetched on the sender's behalf (sync and async)
    serve_actor(fresh, actor_document(private_key("rsa", 0)))
    check = verifier(source(fresh))
    stale = follow(check)
    later = stale.received_at + 86400
    with pytest.raises(VerificationError) as info:
        check.verify(stale, now=later)
    assert info.value.reason == "timestamp_too_old"
    with pytest.raises(VerificationError):
        asyncio.run(check.averify(stale, now=later))
    assert not fresh.hits


@pytest.mark.parametrize(
    "key_id",
    [
        "https://evil.example/users/alice#main-key",
        "https://mastodon.social.evil.example/users/alice#main-key",
        "http://mastodon.social/users/alice#main-key",
        "https://mastodon.social:8443/users/alice#main-key",
        "https://mastodon.social@other.example.test/users/alice#main-key",
        "https://a.b.example.social/users/alice#main-key",
        "https://127.0.0.1/users/alice#main-key",
        "https://other.example.test/users/alice#main-key",
    ],
)
def test_key_id_off_the_host_rules_is_refused_and_never_fetched(
    fresh: KeyServer, key_id: str
) -> None:
    fresh.routes[PATH] = Route(actor_document(private_key("rsa", 0), key_id=key_id))
    check = verifier(source(fresh), key_id=key_id)
    request = follow(check)
    assert reason(check, request) == "key_url_refused"
    with pytest.raises(VerificationError):
        asyncio.run(check.averify(request))
    assert Receiver(HandlerRegistry([Handler("f", check)])).receive(request).status == 401
    assert not fresh.hits


def test_host_rules_are_required() -> None:
    with pytest.raises(TypeError):
        ActorKeys()  # type: ignore[call-arg]
    for hosts in ([], ["https://mastodon.social"], ["*"]):
        with pytest.raises(ConfigurationError):
            ActorKeys(hosts=hosts)


# -- documents that do not vouch for the key ------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        # the key claims another owner
        {"owner": "https://mastodon.social/users/mallory"},
        # the document speaks for another actor
        {"actor": "https://mastodon.social/users/mallory"},
        # the key is another document's
        {"key_id": "https://mastodon.social/users/mallory#main-key"},
    ],
    ids=["owner", "actor-id", "key-elsewhere"],
)
def test_key_not_vouched_for_by_the_actor_is_refused(
    fresh: KeyServer, document: dict[str, str]
) -> None:
    serve_actor(fresh, actor_document(private_key("rsa", 0), **document))
    check = verifier(source(fresh))
    assert reason(check, follow(check)) == "unknown_key"
    with pytest.raises(UnknownKey):
        asyncio.run(check.averify(follow(check, 2)))


def test_keys_of_other_types_and_weak_rsa_are_refused(fresh: KeyServer) -> None:
    serve_actor(fresh, actor_document(private_key("ec", 0)))
    assert reason(verifier(source(fresh)), follow(verifier(source(fresh)))) == "unknown_key"

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    serve_actor(fresh, actor_document(weak))
    check = verifier(source(fresh), signer=weak)
    assert reason(check, follow(check)) == "unusable_key"
    lenient = CavageSignatureVerifier(keys=source(fresh), allow_weak_rsa=True)
    assert lenient.verify(follow(check)).key_id == KEY_ID  # only by explicit opt-in


@pytest.mark.parametrize("body", [b"not json", b"[]", b'"x"'])
def test_a_document_that_is_not_an_object_fails_closed(fresh: KeyServer, body: bytes) -> None:
    serve_actor(fresh, body)
    check = verifier(source(fresh))
    with pytest.raises(KeyUnavailable):
        check.verify(follow(check))


# -- unknown keys, rotation, the rate limit -------------------------------------------------


def test_unknown_key_costs_one_refetch_per_interval(fresh: KeyServer) -> None:
    serve_actor(fresh, actor_document(private_key("rsa", 0)))
    clock = Clock()
    keys = source(fresh, clock)
    check = verifier(keys)
    assert check.verify(follow(check)).key_id == KEY_ID
    for n in range(20):  # fetched just now: never again within the interval
        forged = f"{ACTOR}#forged-{n}"
        with pytest.raises(UnknownKey):
            keys.key(forged)
        with pytest.raises(UnknownKey):
            asyncio.run(keys.akey(forged))
    assert fresh.hits[f"{HOST}{PATH}"] == 1
    clock.now += MIN_REFETCH_INTERVAL
    for n in range(50):
        with pytest.raises(UnknownKey):
            keys.key(f"{ACTOR}#again-{n}")
    assert fresh.hits[f"{HOST}{PATH}"] == 2  # one refetch, no more
    assert keys.key(KEY_ID).key_id == KEY_ID  # still served from the cache


def test_a_rotated_key_is_found_by_the_refetch(fresh: KeyServer) -> None:
    serve_actor(fresh, actor_document(private_key("rsa", 0)))
    clock = Clock()
    keys = source(fresh, clock)
    assert keys.key(KEY_ID).key_id == KEY_ID
    new_id = f"{ACTOR}#key-2"
    serve_actor(fresh, actor_document(private_key("rsa", 1), key_id=new_id))
    clock.now += MIN_REFETCH_INTERVAL
    rotated = verifier(keys, signer=private_key("rsa", 1), key_id=new_id)
    assert asyncio.run(rotated.averify(follow(rotated))).key_id == new_id
    assert fresh.hits[f"{HOST}{PATH}"] == 2


def test_the_document_is_kept_for_its_lifetime(fresh: KeyServer) -> None:
    serve_actor(fresh, actor_document(private_key("rsa", 0)))  # max-age=180
    clock = Clock()
    keys = source(fresh, clock)
    keys.key(KEY_ID)
    clock.now += 179
    keys.key(KEY_ID)
    assert fresh.hits[f"{HOST}{PATH}"] == 1
    clock.now += 2
    keys.key(KEY_ID)
    assert fresh.hits[f"{HOST}{PATH}"] == 2


# -- a server that cannot or should not be trusted ------------------------------------------


def test_actor_server_down_is_503(fresh: KeyServer) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fetcher = Fetcher(ca=fresh.client_context(), connect_to={HOST: ("127.0.0.1", port)})
    check = verifier(ActorKeys(hosts=RULES, fetcher=fetcher, cache=KeyCache(clock=Clock())))
    receiver = Receiver(HandlerRegistry([Handler("fediverse", check)]), retry_after=11)
    outcome = receiver.receive(follow(check, 1))
    assert (outcome.status, dict(outcome.headers)["Retry-After"]) == (503, "11")
    assert outcome.reason == "key_unavailable"
    assert asyncio.run(receiver.areceive(follow(check, 2))).status == 503


@pytest.mark.parametrize("status", [404, 500])
def test_error_answers_are_503(fresh: KeyServer, status: int) -> None:
    serve_actor(fresh, b"{}", status=status)
    check = verifier(source(fresh))
    assert Receiver(HandlerRegistry([Handler("f", check)])).receive(follow(check)).status == 503


def test_oversize_document_is_refused(fresh: KeyServer) -> None:
    padding = "x" * 8192
    serve_actor(fresh, actor_document(private_key("rsa", 0), summary=padding))
    check = verifier(source(fresh, max_bytes=4096))
    with pytest.raises(KeyUnavailable, match="max_bytes"):
        check.verify(follow(check))
    with pytest.raises(KeyUnavailable, match="max_bytes"):
        asyncio.run(verifier(source(fresh, max_bytes=4096)).averify(follow(check)))


def test_slow_server_times_out(fresh: KeyServer) -> None:
    serve_actor(fresh, actor_document(private_key("rsa", 0)), delay=3.0)
    check = verifier(source(fresh, timeout=0.5))
    started = time.monotonic()
    with pytest.raises(KeyUnavailable):
        check.verify(follow(check))
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(
    "location",
    [
        "https://other.example.test/users/alice",
        "http://mastodon.social/users/alice",
        "https://mastodon.social.evil.example/users/alice",
    ],
)
def test_redirect_off_the_hosts_is_refused_and_never_followed(
    fresh: KeyServer, location: str
) -> None:
    fresh.routes[(HOST, PATH)] = Route(b"", 302, {"Location": location})
    fresh.routes[("other.example.test", PATH)] = Route(actor_document(private_key("rsa", 0)))
    check = verifier(source(fresh))
    assert reason(check, follow(check)) == "key_url_refused"
    assert fresh.hits == {f"{HOST}{PATH}": 1}


def test_redirect_on_the_hosts_to_the_same_actor_is_followed(fresh: KeyServer) -> None:
    fresh.routes[(HOST, PATH)] = Route(b"", 301, {"Location": "/users/alice.json"})
    serve_actor(fresh, actor_document(private_key("rsa", 0)))
    fresh.routes[(HOST, "/users/alice.json")] = fresh.routes.pop((HOST, PATH))
    fresh.routes[(HOST, PATH)] = Route(b"", 301, {"Location": "/users/alice.json"})
    check = verifier(source(fresh))
    assert check.verify(follow(check)).key_id == KEY_ID


def test_many_actors_first_contacts_are_not_held_to_a_providers_burst(fresh: KeyServer) -> None:
    from webhookverify.keyfetch import ACTOR_FETCH_BURST, FETCH_BURST

    count = FETCH_BURST + 6  # a provider's source would answer 503 after FETCH_BURST
    assert count <= ACTOR_FETCH_BURST
    for n in range(count):
        actor = f"https://{HOST}/users/u{n}"
        fresh.routes[(HOST, f"/users/u{n}")] = Route(
            actor_document(private_key("rsa", 0), actor=actor, key_id=f"{actor}#main-key"),
            headers={"Content-Type": "application/activity+json"},
        )
    keys = ActorKeys(hosts=RULES, fetcher=fresh.fetcher())
    for n in range(count):
        assert keys.key(f"https://{HOST}/users/u{n}#main-key").key_id.endswith("#main-key")
    assert sum(fresh.hits.values()) == count
