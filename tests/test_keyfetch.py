"""The key source layer: pinned hosts, bounded fetches, the cache and its rate
limit, fail-closed answers; every fetch served by a local HTTPS server with a
test CA (tests/_keyserver.py), never the internet."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from webhookverify import KeyUnavailable
from webhookverify.keyfetch import (
    MAX_LIFETIME,
    MIN_LIFETIME,
    MIN_REFETCH_INTERVAL,
    CertificateUrl,
    Fetcher,
    FixedKeys,
    HostRules,
    JwksSource,
    KeyById,
    KeyCache,
    KeyUrlRefused,
    UnknownKey,
    lifetime_of,
)
from webhookverify.keyfetch.sources import FetchedKey

from _keyserver import KeyServer, Route, certificate, jwk, jwks, private_key

JWKS_URL = "https://keys.example.test/jwks"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def jwks_source(server: KeyServer, clock: Clock | None = None, **fetch: Any) -> JwksSource:
    cache = KeyCache(clock=clock or Clock())
    return JwksSource(JWKS_URL, fetcher=server.fetcher(**fetch), cache=cache)


# -- host rules -------------------------------------------------------------------


SNS = HostRules(
    ["sns.*.amazonaws.com", "sns.*.amazonaws.com.cn"],
    path=r"/SimpleNotificationService-[0-9a-f]+\.pem",
)
GOOD = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"


@pytest.mark.parametrize(
    "url",
    [
        GOOD,
        GOOD.replace("us-east-1", "cn-north-1").replace(".com/", ".com.cn/"),
        GOOD.replace("sns.us-east-1", "SNS.US-EAST-1"),
        GOOD.replace(".com/", ".com:443/"),
    ],
)
def test_host_rules_allow_the_providers_hosts(url: str) -> None:
    assert SNS.check(url) == url


@pytest.mark.parametrize(
    "url",
    [
        GOOD.replace(".amazonaws.com/", ".amazonaws.com.evil.example/"),  # look-alike suffix
        GOOD.replace("https://", "http://"),
        GOOD.replace("sns.us-east-1", "sns.us.east.1"),  # '*' is one label, never a dot
        GOOD.replace("sns.us-east-1", "sns"),
        GOOD.replace("sns.us-east-1", "evilsns.us-east-1"),
        GOOD.replace("https://", "https://sns.us-east-1.amazonaws.com@"),  # user-info
        GOOD.replace("https://sns.us-east-1.amazonaws.com", "https://evil.example"),
        GOOD.replace(".com/", ".com:8443/"),
        GOOD.replace(".pem", ".pem.exe"),
        GOOD.replace("SimpleNotificationService-", "../"),
        "https://52.94.0.1/SimpleNotificationService-00.pem",
        "file:///etc/passwd",
        "",
        "https://sns.us-east-1.amazonaws.com\u3002evil/SimpleNotificationService-00.pem",
        "https://[::1/",
    ],
)
def test_host_rules_refuse_everything_else(url: str) -> None:
    with pytest.raises(KeyUrlRefused):
        SNS.check(url)


def test_host_rule_that_is_not_a_host_is_a_configuration_error() -> None:
    from webhookverify import ConfigurationError

    for rule in ("", "*", "https://x.example", "x.example/path", "a..b"):
        with pytest.raises(ConfigurationError):
            HostRules([rule])


# -- lifetimes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"cache-control": "public, max-age=19008, must-revalidate"}, 19008.0),
        ({"cache-control": "max-age=5"}, MIN_LIFETIME),
        ({"cache-control": "max-age=999999999"}, MAX_LIFETIME),
        ({"cache-control": "no-store"}, MIN_LIFETIME),
        ({"cache-control": "no-cache, max-age=600"}, MIN_LIFETIME),
        (
            {"expires": "Sun, 06 Dec 2026 06:00:00 GMT", "date": "Sun, 06 Dec 2026 05:00:00 GMT"},
            3600.0,
        ),
        ({"expires": "not a date"}, MIN_LIFETIME),
        ({}, 3600.0),
    ],
)
def test_lifetime_of_follows_the_providers_caching_headers(
    headers: dict[str, str], expected: float
) -> None:
    assert lifetime_of(headers) == expected


# -- fetching a key set -------------------------------------------------------------


def test_key_set_fetched_once_then_served_from_cache(fresh: KeyServer) -> None:
    key = private_key("rsa", 0)
    fresh.routes["/jwks"] = Route(jwks(jwk(key, "a")), headers={"Cache-Control": "max-age=600"})
    clock = Clock()
    source = jwks_source(fresh, clock)
    assert source.key("a").key.public_numbers() == key.public_key().public_numbers()
    for _ in range(20):
        source.key("a")
    assert fresh.hits["keys.example.test/jwks"] == 1
    clock.now += 599
    source.key("a")
    assert fresh.hits["keys.example.test/jwks"] == 1
    clock.now += 2  # the provider's max-age has passed: fetched again
    source.key("a")
    assert fresh.hits["keys.example.test/jwks"] == 2


def test_sync_and_async_share_one_cache(fresh: KeyServer) -> None:
    fresh.routes["/jwks"] = Route(jwks(jwk(private_key("rsa", 0), "a")))
    source = jwks_source(fresh)
    asyncio.run(source.akey("a"))
    source.key("a")
    asyncio.run(source.akey("a"))
    assert fresh.hits["keys.example.test/jwks"] == 1


def test_unknown_kid_flood_costs_exactly_one_refetch(fresh: KeyServer) -> None:
    fresh.routes["/jwks"] = Route(jwks(jwk(private_key("rsa", 0), "a")))
    clock = Clock()
    source = jwks_source(fresh, clock)
    source.key("a")
    for n in range(20):  # the key set was fetched just now: not again
        with pytest.raises(UnknownKey):
            source.key(f"early-{n}")
    assert fresh.hits["keys.example.test/jwks"] == 1
    clock.now += MIN_REFETCH_INTERVAL
    for n in range(200):
        with pytest.raises(UnknownKey):
            source.key(f"forged-{n}")
        with pytest.raises(UnknownKey):
            asyncio.run(source.akey(f"forged-async-{n}"))
    assert fresh.hits["keys.example.test/jwks"] == 2  # the first fetch and one refetch
    clock.now += MIN_REFETCH_INTERVAL  # the window has passed: one more, no more
    for n in range(50):
        with pytest.raises(UnknownKey):
            source.key(f"again-{n}")
    assert fresh.hits["keys.example.test/jwks"] == 3
    source.key("a")  # the known key is still served, from the cache


def test_new_kid_is_found_by_the_one_refetch(fresh: KeyServer) -> None:
    fresh.routes["/jwks"] = Route(jwks(jwk(private_key("rsa", 0), "a")))
    clock = Clock()
    source = jwks_source(fresh, clock)
    source.key("a")
    clock.now += MIN_REFETCH_INTERVAL
    fresh.routes["/jwks"] = Route(
        jwks(jwk(private_key("rsa", 0), "a"), jwk(private_key("rsa", 1), "b"))
    )
    assert source.key("b").key_id == "b"
    assert fresh.hits["keys.example.test/jwks"] == 2


def test_keys_of_other_kinds_and_bad_numbers(fresh: KeyServer) -> None:
    good = jwk(private_key("rsa", 0), "a")
    odd = [
        {"kty": "oct", "kid": "h", "k": "c2VjcmV0"},
        {**jwk(private_key("rsa", 1), "enc"), "use": "enc"},
        {**jwk(private_key("rsa", 2), "")},
    ]
    fresh.routes["/jwks"] = Route(jwks(good, *odd))
    source = jwks_source(fresh)
    assert source.key("a").key_id == "a"
    for kid in ("h", "enc"):
        with pytest.raises(UnknownKey):
            source.key(kid)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"keys": 1}',
        b'{"keys": [{"kty": "RSA", "kid": "a", "n": "!", "e": "AQAB"}]}',
    ],
)
def test_a_document_that_is_not_a_key_set_fails_closed(fresh: KeyServer, body: bytes) -> None:
    fresh.routes["/jwks"] = Route(body)
    with pytest.raises(KeyUnavailable):
        jwks_source(fresh).key("a")


@pytest.mark.parametrize("kid", ["", "x" * 300, "é", "a\nb"])
def test_a_kid_that_cannot_be_one_is_never_fetched(fresh: KeyServer, kid: str) -> None:
    with pytest.raises(UnknownKey):
        jwks_source(fresh).key(kid)
    assert not fresh.hits


# -- hostile servers ----------------------------------------------------------------


def test_redirect_on_the_pinned_host_is_followed(fresh: KeyServer) -> None:
    fresh.routes["/jwks"] = Route(b"", 302, {"Location": "/v2/jwks"})
    fresh.routes["/v2/jwks"] = Route(jwks(jwk(private_key("rsa", 0), "a")))
    assert jwks_source(fresh).key("a").key_id == "a"


@pytest.mark.parametrize(
    "location",
    [
        "https://other.example.test/jwks",
        "http://keys.example.test/jwks",
        "https://keys.example.test.evil.example/jwks",
    ],
)
def test_redirect_off_the_host_is_refused_and_never_followed(
    fresh: KeyServer, location: str
) -> None:
    fresh.routes[("keys.example.test", "/jwks")] = Route(b"", 302, {"Location": location})
    fresh.routes[("other.example.test", "/jwks")] = Route(jwks(jwk(private_key("rsa", 0), "a")))
    with pytest.raises(KeyUrlRefused):
        jwks_source(fresh).key("a")
    assert fresh.hits == {"keys.example.test/jwks": 1}


def test_redirect_loop_is_cut_off(fresh: KeyServer) -> None:
    fresh.routes["/jwks"] = Route(b"", 302, {"Location": "/jwks"})
    with pytest.raises(KeyUnavailable):
        jwks_source(fresh).key("a")
    assert fresh.hits["keys.example.test/jwks"] == 4  # the first request and three hops


def test_oversize_answer_is_refused(fresh: KeyServer) -> None:
    fresh.routes["/jwks"] = Route(jwks(jwk(private_key("rsa", 0), "a")) + b" " * 4096)
    with pytest.raises(KeyUnavailable, match="max_bytes"):
        jwks_source(fresh, max_bytes=2048).key("a")


def test_oversize_answer_without_a_length_is_cut_off(fresh: KeyServer) -> None:
    body = jwks(jwk(private_key("rsa", 0), "a")) + b" " * 8192
    fresh.routes["/jwks"] = Route(body, headers={"Content-Length": "omit"})
    # no Content-Length to refuse up front: the read stops at max_bytes
    with pytest.raises(KeyUnavailable, match="max_bytes"):
        jwks_source(fresh, max_bytes=1024).key("a")


def test_slow_server_times_out(fresh: KeyServer) -> None:
    fresh.routes["/jwks"] = Route(jwks(jwk(private_key("rsa", 0), "a")), delay=3.0)
    started = time.monotonic()
    with pytest.raises(KeyUnavailable):
        jwks_source(fresh, timeout=0.5).key("a")
    assert time.monotonic() - started < 2.0


def test_trickling_server_is_cut_off_by_the_total_deadline(fresh: KeyServer) -> None:
    fresh.routes["/jwks"] = Route(b'{"keys": []}' + b" " * 40, trickle=0.1)
    started = time.monotonic()
    with pytest.raises(KeyUnavailable, match="timeout"):
        jwks_source(fresh, timeout=0.8).key("a")
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("status", [404, 500, 503])
def test_error_answers_fail_closed(fresh: KeyServer, status: int) -> None:
    fresh.routes["/jwks"] = Route(b"{}", status)
    with pytest.raises(KeyUnavailable):
        jwks_source(fresh).key("a")


def test_unreachable_server_fails_closed_and_is_not_hammered(fresh: KeyServer) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    clock = Clock()
    fetcher = Fetcher(
        ca=fresh.client_context(), connect_to={"keys.example.test": ("127.0.0.1", port)}
    )
    source = JwksSource(JWKS_URL, fetcher=fetcher, cache=KeyCache(clock=clock))
    with pytest.raises(KeyUnavailable, match="failed"):
        source.key("a")
    with pytest.raises(KeyUnavailable, match="moments ago"):
        source.key("a")  # within the interval: not tried again


def test_a_certificate_from_another_ca_is_not_trusted(fresh: KeyServer) -> None:
    fresh.routes["/jwks"] = Route(jwks(jwk(private_key("rsa", 0), "a")))
    import trustme

    other = trustme.CA()
    context = __import__("ssl").create_default_context()
    other.configure_trust(context)
    fetcher = Fetcher(ca=context, connect_to={"keys.example.test": ("127.0.0.1", fresh.port)})
    with pytest.raises(KeyUnavailable):
        JwksSource(JWKS_URL, fetcher=fetcher).key("a")
    assert not fresh.hits


def test_tls_checks_the_real_host_name_not_the_address(fresh: KeyServer) -> None:
    fresh.routes["/jwks"] = Route(jwks(jwk(private_key("rsa", 0), "a")))
    # the test CA's certificate does not name this host: refused, although the
    # connection goes to the same loopback server
    fetcher = Fetcher(
        ca=fresh.client_context(), connect_to={"unnamed.example.test": ("127.0.0.1", fresh.port)}
    )
    source = JwksSource("https://unnamed.example.test/jwks", fetcher=fetcher)
    with pytest.raises(KeyUnavailable):
        source.key("a")


def test_fetcher_ignores_proxy_and_ca_variables(
    fresh: KeyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh.routes["/jwks"] = Route(jwks(jwk(private_key("rsa", 0), "a")))
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent")
    assert jwks_source(fresh).key("a").key_id == "a"


# -- key by id, certificate URL, fixed keys -------------------------------------------


def test_key_by_id_posts_and_caches_per_id(fresh: KeyServer) -> None:
    def parse(body: bytes, kid: str) -> FetchedKey:
        from webhookverify.keyfetch._crypto import jwk_key

        return FetchedKey(kid, jwk_key(json.loads(body)["key"]))

    fresh.routes["/keys/get"] = Route(json.dumps({"key": jwk(private_key("ec", 0), "k")}).encode())
    source = KeyById(
        "https://keys.example.test/keys/get",
        method="POST",
        body=lambda kid: json.dumps({"key_id": kid}).encode(),
        parse=parse,
        fetcher=fresh.fetcher(),
    )
    assert source.key("k1").key_id == "k1"
    source.key("k1")
    assert fresh.bodies == [b'{"key_id": "k1"}']
    asyncio.run(source.akey("k2"))
    assert fresh.hits["keys.example.test/keys/get"] == 2


def test_distinct_references_are_fetched_within_a_burst_only(fresh: KeyServer) -> None:
    source = CertificateUrl(hosts=["keys.example.test"], fetcher=fresh.fetcher())
    for n in range(20):
        with pytest.raises(KeyUnavailable):
            source.key(f"https://keys.example.test/cert-{n}.pem")
    assert sum(fresh.hits.values()) == 4  # FETCH_BURST


def test_certificate_url_checks_dates(fresh: KeyServer) -> None:
    now = time.time()
    key = private_key("rsa", 0)
    fresh.routes["/ok.pem"] = Route(certificate(key, now - 10, now + 3600))
    fresh.routes["/old.pem"] = Route(certificate(key, now - 7200, now - 3600))
    source = CertificateUrl(hosts=["keys.example.test"], fetcher=fresh.fetcher())
    found = source.key("https://keys.example.test/ok.pem")
    assert found.valid_at(now) and not found.valid_at(now + 7200)
    with pytest.raises(KeyUnavailable, match="not valid"):
        source.key("https://keys.example.test/old.pem")
    with pytest.raises(KeyUrlRefused):
        source.key("https://other.example.test/ok.pem")


def test_fixed_keys_fetch_nothing() -> None:
    from webhookverify import ConfigurationError, Secret

    from _keyserver import pem_public

    source = FixedKeys([Secret(pem_public(private_key("rsa", 0)), key_id="a")])
    assert source.key("a").key_id == "a"
    with pytest.raises(UnknownKey):
        source.key("b")
    with pytest.raises(ConfigurationError):
        FixedKeys({"a": "not a key"})
    with pytest.raises(ConfigurationError):
        FixedKeys([])


def test_fetching_without_httpx_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from webhookverify import ConfigurationError

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "httpx" else real(name, *a)
    )
    with pytest.raises(ConfigurationError) as info:
        JwksSource(JWKS_URL)
    assert info.value.remedy == "pip install 'webhookverify[fetch]'"
