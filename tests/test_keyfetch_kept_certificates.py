"""A certificate URL's key, once fetched, is kept under that exact URL, and
keeping it never weakens the pinning: a URL is judged by the host rules
before it is ever fetched, a URL not seen before is judged again, and a
cache shared with a source of other rules never answers for a URL those
rules did not judge."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from webhookverify.keyfetch import CertificateUrl, KeyCache, KeyUrlRefused

from _keyserver import KeyServer, Route, certificate, private_key

URL = "https://keys.example.test/certs/a.pem"


@pytest.fixture
def served() -> Iterator[KeyServer]:
    server = KeyServer()
    now = time.time()
    cert = certificate(private_key("rsa", 0), now - 60, now + 3600)
    server.routes["/certs/a.pem"] = Route(cert)
    server.routes[("other.example.test", "/certs/a.pem")] = Route(cert)
    try:
        yield server
    finally:
        server.close()


def _source(server: KeyServer, hosts: list[str], cache: KeyCache) -> CertificateUrl:
    return CertificateUrl(
        hosts=hosts, path=r"/certs/[a-z]+\.pem", fetcher=server.fetcher(), cache=cache
    )


def test_a_kept_key_is_the_loaded_key_and_is_not_fetched_again(served: KeyServer) -> None:
    source = _source(served, ["keys.example.test"], KeyCache())
    first = source.key(URL)
    assert source.key(URL) is first  # the loaded key object, not a certificate read again
    assert asyncio.run(source.akey(URL)) is first
    assert served.hits["keys.example.test/certs/a.pem"] == 1


def test_a_shared_cache_never_answers_for_other_rules(served: KeyServer) -> None:
    cache = KeyCache()
    loose = _source(served, ["keys.example.test", "other.example.test"], cache)
    strict = _source(served, ["other.example.test"], cache)
    loose.key(URL)
    with pytest.raises(KeyUrlRefused):
        strict.key(URL)
    with pytest.raises(KeyUrlRefused):
        asyncio.run(strict.akey(URL))
    assert sum(served.hits.values()) == 1


def test_sources_of_the_same_rules_share_what_they_fetched(served: KeyServer) -> None:
    cache = KeyCache()
    first = _source(served, ["keys.example.test"], cache).key(URL)
    assert _source(served, ["keys.example.test"], cache).key(URL) is first
    assert sum(served.hits.values()) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://keys.example.test/certs/a.pem",
        "https://keys.example.test.evil.example/certs/a.pem",
        "https://keys.example.test:8443/certs/a.pem",
        "https://user@keys.example.test/certs/a.pem",
        "https://keys.example.test/certs/../certs/a.pem",
        "https://keys.example.test/certs/a.pem/",
        "https://other.example.test/certs/a.pem",
    ],
)
def test_a_url_like_a_kept_one_is_judged_again(served: KeyServer, url: str) -> None:
    source = _source(served, ["keys.example.test"], KeyCache())
    source.key(URL)
    with pytest.raises(KeyUrlRefused):
        source.key(url)
    with pytest.raises(KeyUrlRefused):
        asyncio.run(source.akey(url))
    assert sum(served.hits.values()) == 1


def test_a_url_is_judged_before_it_is_first_fetched(served: KeyServer) -> None:
    source = _source(served, ["other.example.test"], KeyCache())
    for _ in range(3):
        with pytest.raises(KeyUrlRefused):
            source.key(URL)
    assert sum(served.hits.values()) == 0
