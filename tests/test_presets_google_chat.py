"""presets.google_chat: Google Chat's project-number audience. The verifier
contract with keys given, the claims held to the configuration, the Chat
service account's certificates fetched from a local HTTPS key server under
Google's real host name, the other audience mode's keys refused, and
google-auth's ``verify_token`` as an oracle on the same certificates."""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import time
from typing import Any

import pytest

from test_presets_fetched import KeyPair, TokenOnlyContract
from webhookverify import ConfigurationError, Secret, VerificationError, WebhookRequest, presets
from webhookverify.keyfetch import MIN_REFETCH_INTERVAL, CertificateSet, FixedKeys, KeyCache
from webhookverify.keyfetch.jws import encode

from _keyserver import KeyServer, Route, certificate, jwk, jwks, pem_public, private_key
from contract import NOW

PROJECT = "1234567890"
CHAT = "chat@system.gserviceaccount.com"
CERTS_PATH = "/service_accounts/v1/metadata/x509/chat@system.gserviceaccount.com"
HOUR = 3600


def chat(keys: list[KeyPair], **options: Any) -> Any:
    return presets.google_chat(
        project_number=PROJECT,
        keys=FixedKeys([k.public for k in keys]),
        private_key=keys[-1].private,
        signing_key_id=keys[-1].public.key_id,
        **options,
    )


class TestGoogleChatContract(TokenOnlyContract):
    def make(self, keys: list[KeyPair]) -> Any:
        return chat(keys)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_at(moment: float, **changes: Any) -> dict[str, Any]:
    """The claims of a Chat token issued at ``moment``, with ``changes`` (None drops one)."""
    claims = {"iss": CHAT, "aud": PROJECT, "iat": int(moment), "exp": int(moment) + HOUR}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def chat_token(
    claims: dict[str, Any], *, key: Any = None, kid: str = "k0", alg: str = "RS256"
) -> str:
    return encode({"kid": kid, "typ": "JWT"}, claims, key or private_key("rsa", 0), alg)


def forged(alg: str, claims: dict[str, Any], secret: bytes = b"", kid: str = "k0") -> str:
    """A token whose header names ``alg``: HMAC-SHA256 with ``secret``, or unsigned."""
    head = b64(json.dumps({"alg": alg, "kid": kid, "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    if alg == "none":
        return f"{head}.{body}.AA"
    mac = hmac.new(secret, f"{head}.{body}".encode(), "sha256").digest()
    return f"{head}.{body}.{b64(mac)}"


def bearer(token: str, at: float = NOW) -> WebhookRequest:
    return WebhookRequest(
        method="POST",
        url="https://chat.example.test/app",
        headers={"Authorization": f"Bearer {token}"},
        body=b'{"type":"MESSAGE"}',
        received_at=at,
    )


def fixed() -> Any:
    return chat([KeyPair(Secret(pem_public(private_key("rsa", 0)), key_id="k0"), None)])


def test_chat_token_as_documented_verifies() -> None:
    # "Verify requests from Google Chat": issuer chat@system.gserviceaccount.com,
    # audience the project number, e.g. 1234567890; signed by a local test key
    result = fixed().verify(bearer(chat_token(claims_at(NOW))), now=NOW)
    assert (result.scheme, result.key_id, result.timestamp) == ("google-chat-rs256", "k0", NOW)
    assert presets.google_chat(
        project_number=1234567890, keys=FixedKeys({"k": pem_public(private_key("rsa", 0))})
    ).project_numbers == (PROJECT,)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "1234567891"}, "claim_mismatch"),  # another project's app
        ({"aud": [PROJECT]}, "claim_mismatch"),  # one string, exactly
        ({"aud": int(PROJECT)}, "claim_mismatch"),
        ({"aud": "https://chat.example.test/app"}, "claim_mismatch"),  # the other mode's audience
        ({"aud": None}, "claim_mismatch"),
        ({"iss": "https://accounts.google.com"}, "claim_mismatch"),
        ({"iss": "accounts.google.com"}, "claim_mismatch"),
        ({"iss": "CHAT@system.gserviceaccount.com"}, "claim_mismatch"),
        ({"iss": CHAT + " "}, "claim_mismatch"),
        ({"iss": [CHAT]}, "claim_mismatch"),
        ({"iss": None}, "claim_mismatch"),
        ({"exp": int(NOW) - 301}, "timestamp_too_old"),
        ({"iat": int(NOW) + 301}, "timestamp_in_future"),
        ({"exp": None}, "claim_mismatch"),
        ({"iat": None}, "claim_mismatch"),
        ({"exp": "later"}, "malformed_header"),
    ],
)
def test_chat_claims_are_held_to_the_configuration(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(VerificationError) as info:
        fixed().verify(bearer(chat_token(claims_at(NOW, **changes))), now=NOW)
    assert info.value.reason == reason


def test_leeway_is_the_clock_skew_allowed() -> None:
    token = chat_token(claims_at(NOW - HOUR - 200))  # expired 200 s ago
    assert fixed().verify(bearer(token), now=NOW).key_id == "k0"
    with pytest.raises(VerificationError, match="expired"):
        chat(
            [KeyPair(Secret(pem_public(private_key("rsa", 0)), key_id="k0"), None)], leeway=60
        ).verify(bearer(token), now=NOW)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: forged("none", claims_at(NOW)), id="none"),
        pytest.param(
            lambda: forged("HS256", claims_at(NOW), pem_public(private_key("rsa", 0))),
            id="hs256-public-key",
        ),
        pytest.param(
            lambda: forged(
                "HS256", claims_at(NOW), certificate(private_key("rsa", 0), NOW - HOUR, NOW + HOUR)
            ),
            id="hs256-certificate",
        ),
        pytest.param(
            lambda: chat_token(claims_at(NOW), key=private_key("ec", 0), alg="ES256"), id="es256"
        ),
    ],
)
def test_algorithm_comes_from_the_configuration(token: Any) -> None:
    with pytest.raises(VerificationError) as info:
        fixed().verify(bearer(token()), now=NOW)
    assert info.value.reason == "unsupported_signature_version"


def test_token_without_kid_or_bearer_is_refused() -> None:
    no_kid = encode({"typ": "JWT"}, claims_at(NOW), private_key("rsa", 0), "RS256")
    with pytest.raises(VerificationError, match="names no key"):
        fixed().verify(bearer(no_kid), now=NOW)
    request = bearer(chat_token(claims_at(NOW)))
    basic = request.replace(
        headers={"Authorization": "Basic " + request.headers["Authorization"][7:]}
    )
    with pytest.raises(VerificationError, match="not a Bearer token"):
        fixed().verify(basic, now=NOW)


@pytest.mark.parametrize(
    "number", [None, "", "12345x", "-1", "١٢٣", "1" * 31, 0, True, 1.5, ["12", "x"]]
)
def test_project_number_must_be_digits(number: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"^presets\.google_chat"):
        presets.google_chat(project_number=number)


def test_several_project_numbers_each_accepted() -> None:
    keys = FixedKeys({"k0": pem_public(private_key("rsa", 0))})
    verifier = presets.google_chat(project_number=["111", PROJECT], keys=keys)
    assert verifier.verify(bearer(chat_token(claims_at(NOW))), now=NOW).key_id == "k0"
    with pytest.raises(VerificationError, match="another project"):
        verifier.verify(bearer(chat_token(claims_at(NOW, aud="222"))), now=NOW)


# -- fetched from the (local) www.googleapis.com ---------------------------------------


def certs_document(*pairs: tuple[str, bytes]) -> bytes:
    return json.dumps({kid: pem.decode() for kid, pem in pairs}).encode()


def serve_chat_certs(server: KeyServer, *, max_age: int = 21600) -> None:
    now = time.time()
    server.routes[("www.googleapis.com", CERTS_PATH)] = Route(
        certs_document(
            ("c0", certificate(private_key("rsa", 0), now - 86400, now + 14 * 86400, CHAT)),
            ("c1", certificate(private_key("rsa", 1), now - 86400, now + 14 * 86400, CHAT)),
        ),
        headers={"Cache-Control": f"public, max-age={max_age}, must-revalidate"},
    )


def serve_oidc_keys(server: KeyServer) -> None:
    """The other mode's keys: Google's JWK Set for ID tokens (app-URL audience)."""
    server.routes[("www.googleapis.com", "/oauth2/v3/certs")] = Route(
        jwks(jwk(private_key("rsa", 2), "g2", alg="RS256")),
        headers={"Cache-Control": "public, max-age=21600"},
    )


def live(server: KeyServer, clock: Any = None) -> Any:
    cache = KeyCache() if clock is None else KeyCache(clock=clock)
    source = CertificateSet(
        "https://www.googleapis.com" + CERTS_PATH, fetcher=server.fetcher(), cache=cache
    )
    return presets.google_chat(project_number=PROJECT, keys=source)


def test_certificates_fetched_once_for_many_requests(fresh: KeyServer) -> None:
    serve_chat_certs(fresh)
    verifier = presets.google_chat(project_number=PROJECT, fetcher=fresh.fetcher())
    now = time.time()
    for n in range(5):
        for kid, index in (("c0", 0), ("c1", 1)):
            token = chat_token(claims_at(now - n), key=private_key("rsa", index), kid=kid)
            assert verifier.verify(bearer(token, now), now=now).key_id == kid
            assert asyncio.run(verifier.averify(bearer(token, now), now=now)).key_id == kid
    assert fresh.hits == {"www.googleapis.com" + CERTS_PATH: 1}


def test_certificates_kept_for_the_max_age_google_sends(fresh: KeyServer) -> None:
    serve_chat_certs(fresh, max_age=600)
    clock = [time.time()]
    verifier = live(fresh, lambda: clock[0])
    token = chat_token(claims_at(clock[0]), kid="c0")
    verifier.verify(bearer(token), now=clock[0])
    clock[0] += 599
    verifier.verify(bearer(token), now=clock[0] - 599)
    assert fresh.hits == {"www.googleapis.com" + CERTS_PATH: 1}
    clock[0] += 2
    verifier.verify(bearer(token), now=clock[0] - 601)
    assert fresh.hits == {"www.googleapis.com" + CERTS_PATH: 2}


def test_unknown_kid_costs_one_rate_limited_refetch(fresh: KeyServer) -> None:
    serve_chat_certs(fresh)
    clock = [time.time()]
    verifier = live(fresh, lambda: clock[0])
    verifier.verify(bearer(chat_token(claims_at(clock[0]), kid="c0")), now=clock[0])
    clock[0] += MIN_REFETCH_INTERVAL
    for n in range(50):
        token = chat_token(claims_at(clock[0]), key=private_key("rsa", 3), kid=f"forged-{n}")
        with pytest.raises(VerificationError) as info:
            verifier.verify(bearer(token), now=clock[0])
        assert info.value.reason == "unknown_key"
        with pytest.raises(VerificationError):
            asyncio.run(verifier.averify(bearer(token), now=clock[0]))
    assert fresh.hits == {"www.googleapis.com" + CERTS_PATH: 2}


def test_a_key_of_the_other_mode_does_not_verify(fresh: KeyServer) -> None:
    # Anyone with a service account can have Google sign an ID token for any
    # audience, the project number included: it is signed with a key of the
    # JWK Set (the app-URL mode's), which is not among Chat's certificates.
    serve_chat_certs(fresh)
    serve_oidc_keys(fresh)
    verifier = presets.google_chat(project_number=PROJECT, fetcher=fresh.fetcher())
    now = time.time()
    for claims in (
        claims_at(now),
        claims_at(now, iss="https://accounts.google.com", email=CHAT, email_verified=True),
    ):
        token = chat_token(claims, key=private_key("rsa", 2), kid="g2")
        with pytest.raises(VerificationError) as info:
            verifier.verify(bearer(token, now), now=now)
        assert info.value.reason == "unknown_key"
        # the kid of a Chat certificate, signed with the other key: no match
        token = chat_token(claims, key=private_key("rsa", 2), kid="c0")
        with pytest.raises(VerificationError) as info:
            verifier.verify(bearer(token, now), now=now)
        assert info.value.reason in ("signature_mismatch", "claim_mismatch")
    assert "www.googleapis.com/oauth2/v3/certs" not in fresh.hits


def test_the_app_url_mode_refuses_a_project_number_token(fresh: KeyServer) -> None:
    serve_chat_certs(fresh)
    serve_oidc_keys(fresh)
    app_url = presets.google_oidc(
        audience="https://chat.example.test/app", service_account=CHAT, fetcher=fresh.fetcher()
    )
    now = time.time()
    token = chat_token(claims_at(now, aud="https://chat.example.test/app"), kid="c0")
    with pytest.raises(VerificationError) as info:
        app_url.verify(bearer(token, now), now=now)
    assert info.value.reason == "unknown_key"
    # and the app-URL mode keeps working for its own tokens
    id_token = chat_token(
        claims_at(
            now,
            iss="https://accounts.google.com",
            aud="https://chat.example.test/app",
            email=CHAT,
            email_verified=True,
        ),
        key=private_key("rsa", 2),
        kid="g2",
    )
    assert app_url.verify(bearer(id_token, now), now=now).key_id == "g2"


def test_key_pointers_in_the_token_header_are_not_followed(fresh: KeyServer) -> None:
    # jku / x5u / x5c name the forger's own key: the key is still the
    # configured document's, by kid, and nothing else is fetched
    serve_chat_certs(fresh)
    forger = private_key("rsa", 3)
    fresh.routes[("keys.example.test", "/jwks")] = Route(jwks(jwk(forger, "c0")))
    verifier = presets.google_chat(project_number=PROJECT, fetcher=fresh.fetcher())
    now = time.time()
    header = {
        "kid": "c0",
        "jku": "https://keys.example.test/jwks",
        "x5u": "https://keys.example.test/cert.pem",
        "x5c": [base64.b64encode(certificate(forger, now - HOUR, now + HOUR, CHAT)).decode()],
    }
    token = encode(header, claims_at(now), forger, "RS256")
    with pytest.raises(VerificationError) as info:
        verifier.verify(bearer(token, now), now=now)
    assert info.value.reason == "signature_mismatch"
    assert set(fresh.hits) == {"www.googleapis.com" + CERTS_PATH}


def test_certificate_dates_bound_the_key(fresh: KeyServer) -> None:
    now = time.time()
    fresh.routes[("www.googleapis.com", CERTS_PATH)] = Route(
        certs_document(
            ("old", certificate(private_key("rsa", 0), now - 30 * 86400, now - 86400, CHAT)),
            ("soon", certificate(private_key("rsa", 1), now + 86400, now + 30 * 86400, CHAT)),
            ("c0", certificate(private_key("rsa", 0), now - 86400, now + 30 * 86400, CHAT)),
        )
    )
    verifier = presets.google_chat(project_number=PROJECT, fetcher=fresh.fetcher())
    assert (
        verifier.verify(bearer(chat_token(claims_at(now), kid="c0"), now), now=now).key_id == "c0"
    )
    token = chat_token(claims_at(now), kid="old")  # expired: left out of the set
    with pytest.raises(VerificationError) as info:
        verifier.verify(bearer(token, now), now=now)
    assert info.value.reason == "unknown_key"
    token = chat_token(claims_at(now), key=private_key("rsa", 1), kid="soon")
    with pytest.raises(VerificationError, match="not valid at this time"):
        verifier.verify(bearer(token, now), now=now)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"c0": 5}',
        b'{"c0": "-----BEGIN CERTIFICATE-----\\ngarbage\\n-----END CERTIFICATE-----\\n"}',
        b'{"keys": []}',
    ],
)
def test_a_document_that_is_not_certificates_fails_closed(fresh: KeyServer, body: bytes) -> None:
    fresh.routes[("www.googleapis.com", CERTS_PATH)] = Route(body)
    verifier = presets.google_chat(project_number=PROJECT, fetcher=fresh.fetcher())
    now = time.time()
    with pytest.raises(VerificationError) as info:
        verifier.verify(bearer(chat_token(claims_at(now), kid="c0"), now), now=now)
    assert info.value.reason in ("key_unavailable", "unknown_key")
    if body != b'{"keys": []}':
        assert info.value.reason == "key_unavailable"


@pytest.mark.parametrize(
    "url",
    [
        "http://www.googleapis.com" + CERTS_PATH,
        "https://www.googleapis.com.evil.example" + CERTS_PATH,
        "https://evil.example" + CERTS_PATH,
        "https://www.googleapis.com:8443" + CERTS_PATH,
    ],
)
def test_certificates_url_is_pinned_to_googleapis(url: str) -> None:
    with pytest.raises(ConfigurationError):
        presets.google_chat(project_number=PROJECT, certs_url=url)


# -- google-auth as an oracle ----------------------------------------------------------


class _Response:
    def __init__(self, data: bytes) -> None:
        self.status = 200
        self.data = data
        self.headers: dict[str, str] = {}


def google_auth_accepts(token: str, document: bytes, leeway: int) -> bool:
    """What Google's sample does: ``verify_token`` on the Chat account's
    certificates, then the issuer compared (google-auth does not check it)."""
    from google.auth import exceptions
    from google.oauth2 import id_token

    def request(url: str, method: str = "GET", **kwargs: Any) -> _Response:
        assert url == "https://www.googleapis.com" + CERTS_PATH
        return _Response(document)

    try:
        claims = id_token.verify_token(
            token,
            request,  # type: ignore[arg-type]
            audience=PROJECT,
            certs_url="https://www.googleapis.com" + CERTS_PATH,
            clock_skew_in_seconds=leeway,
        )
    except (exceptions.GoogleAuthError, ValueError, KeyError, TypeError):
        return False
    return bool(claims.get("iss") == CHAT)


def oracle_tokens(now: float) -> dict[str, str]:
    sign = chat_token
    return {
        "valid c0": sign(claims_at(now), kid="c0"),
        "valid c1": sign(claims_at(now - 600), key=private_key("rsa", 1), kid="c1"),
        "another project": sign(claims_at(now, aud="999"), kid="c0"),
        "aud list": sign(claims_at(now, aud=[PROJECT]), kid="c0"),
        "aud url": sign(claims_at(now, aud="https://chat.example.test/app"), kid="c0"),
        "issuer accounts.google.com": sign(claims_at(now, iss="accounts.google.com"), kid="c0"),
        "issuer missing": sign(claims_at(now, iss=None), kid="c0"),
        "expired": sign(claims_at(now - 2 * HOUR), kid="c0"),
        "issued ahead": sign(claims_at(now + 1000), kid="c0"),
        "no iat": sign(claims_at(now, iat=None), kid="c0"),
        "no exp": sign(claims_at(now, exp=None), kid="c0"),
        "unknown kid": sign(claims_at(now), kid="c9"),
        "wrong key for kid": sign(claims_at(now), key=private_key("rsa", 1), kid="c0"),
        "other mode's key": sign(claims_at(now), key=private_key("rsa", 2), kid="g2"),
        "alg none": forged("none", claims_at(now), kid="c0"),
        "alg HS256, certificate as secret": forged(
            "HS256", claims_at(now), certificate(private_key("rsa", 0), now, now + 1, CHAT), "c0"
        ),
        "alg ES256": sign(claims_at(now), key=private_key("ec", 0), alg="ES256", kid="c0"),
        "tampered": sign(claims_at(now), kid="c0")[:-6] + "AAAAAA",
    }


def test_verdicts_agree_with_google_auth(fresh: KeyServer) -> None:
    pytest.importorskip("google.oauth2.id_token")
    now = time.time()
    serve_chat_certs(fresh)
    document = fresh.routes[("www.googleapis.com", CERTS_PATH)].body
    verifier = presets.google_chat(project_number=PROJECT, fetcher=fresh.fetcher(), leeway=300)
    verdicts: dict[str, tuple[bool, bool]] = {}
    for name, token in oracle_tokens(now).items():
        try:
            verifier.verify(bearer(token, now), now=time.time())
            ours = True
        except VerificationError:
            ours = False
        verdicts[name] = (ours, google_auth_accepts(token, document, 300))
    assert {n: v for n, v in verdicts.items() if v[0] != v[1]} == {}
    assert {n for n, v in verdicts.items() if v[0]} == {"valid c0", "valid c1"}
