"""Key sources: where a verifier gets the key a request names.

- :class:`FixedKeys`: keys given in the configuration (nothing fetched);
- :class:`JwksSource`: a JWK Set at a URL (Google, Microsoft), keys by ``kid``;
- :class:`KeyById`: one key fetched per key id (Plaid's key endpoint);
- :class:`~.certificates.CertificateUrl`: a certificate at a URL the message
  names (AWS SNS, PayPal), allowed only on the provider's hosts and paths.

Every source answers ``key(ref)`` and ``await akey(ref)`` from one cache
(:class:`~.KeyCache`), so a sync and an async receiver share what was
fetched. A reference the source does not know is refused
(:class:`UnknownKey`, 401) after at most one rate-limited refetch; a key
that cannot be had is :class:`~webhookverify.KeyUnavailable` (503).
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple, Protocol, runtime_checkable

from .._checks import check_methods
from ..errors import ConfigurationError, KeyUnavailable, VerificationError
from ..keys import Secret
from ._cache import KeyCache
from ._errors import UnknownKey
from ._fetch import MIN_LIFETIME, Document, Fetcher, Request
from ._hosts import HostRules

__all__ = [
    "FetchedKey",
    "FixedKeys",
    "JwksSource",
    "KeyById",
    "KeySource",
]

# A key id is a short name (Google: 40 hex digits; Plaid: a UUID; Microsoft:
# ~30 characters); longer is not one, and it is never fetched or cached.
MAX_KEY_ID_LENGTH = 256


class FetchedKey(NamedTuple):
    """A key as a source hands it out (immutable).

    Attributes:
        key_id: the reference it was found by (``kid``, or a certificate's URL).
        key: the ``cryptography`` public key.
        algorithm: the ``alg`` its publisher states, if any (checked against
            the configured algorithm, never used instead of it).
        not_before / not_after: when it may verify (unix seconds), if bounded.
    """

    key_id: str
    key: Any
    algorithm: str | None = None
    not_before: float | None = None
    not_after: float | None = None

    def valid_at(self, now: float) -> bool:
        """True when the key may verify a request received at ``now``."""
        return (self.not_before is None or self.not_before <= now) and (
            self.not_after is None or now <= self.not_after
        )


@runtime_checkable
class KeySource(Protocol):
    """Anything that hands out keys by reference, sync and async."""

    def key(self, ref: str) -> FetchedKey:
        """The key ``ref`` names. Raises UnknownKey, KeyUrlRefused or KeyUnavailable."""

    async def akey(self, ref: str) -> FetchedKey:
        """:meth:`key` without blocking the event loop."""


def check_ref(ref: object) -> str:
    """``ref`` if it can name a key (printable ASCII, bounded), else UnknownKey."""
    if not isinstance(ref, str) or not ref or len(ref) > MAX_KEY_ID_LENGTH:
        raise UnknownKey("the key id is empty or too long to be one this sender publishes")
    if not ref.isascii() or not ref.isprintable():
        raise UnknownKey("the key id is not printable ASCII")
    return ref


class FixedKeys:
    """Keys given in the configuration, by reference: nothing is fetched.

    Args:
        keys: ``Secret`` objects whose ``key_id`` is the reference (a
            ``kid``) and whose value is the key, or ``{ref: key}`` (the
            reference a certificate URL, say); a key given as a ``Secret``
            reports its ``key_id`` and is bounded by its
            ``not_before``/``not_after``. A key is a ``cryptography`` public
            key, PEM (key or certificate) or DER.

    Raises:
        ConfigurationError: no key, a ``Secret`` without ``key_id``, or
            material that is not a public key.
    """

    __slots__ = ("_keys",)

    def __init__(self, keys: Mapping[str, Any] | Iterable[Secret]) -> None:
        from . import _crypto

        pairs: list[tuple[str, Any, Secret | None]] = []
        if isinstance(keys, Mapping):
            for ref, value in keys.items():
                window = value if isinstance(value, Secret) else None
                pairs.append((str(ref), value.value if window else value, window))
        else:
            for secret in keys:
                if not isinstance(secret, Secret) or not secret.key_id:
                    raise ConfigurationError(
                        "FixedKeys takes {ref: key} or Secret(..., key_id=ref) items"
                    )
                pairs.append((secret.key_id, secret.value, secret))
        if not pairs:
            raise ConfigurationError("FixedKeys needs at least one key")
        table: dict[str, FetchedKey] = {}
        for ref, material, window in pairs:
            try:
                key = _crypto.load_public(material)
            except (ValueError, TypeError):
                raise ConfigurationError(
                    f"FixedKeys: the key for {ref!r} is not a public key (PEM, DER or certificate)"
                ) from None
            if window is None:
                table[ref] = FetchedKey(ref, key)
            else:
                name = window.key_id or ref
                table[ref] = FetchedKey(name, key, None, window.not_before, window.not_after)
        self._keys = table

    def key(self, ref: str) -> FetchedKey:
        found = self._keys.get(ref)
        if found is None:
            raise UnknownKey("the request names a key that is not configured")
        return found

    async def akey(self, ref: str) -> FetchedKey:
        return self.key(ref)

    def __repr__(self) -> str:
        return f"FixedKeys({sorted(self._keys)!r})"


class FetchingSource:
    """What the fetching sources share: the cache, the rate limit, sync and async.

    A subclass says which document holds ``ref`` (:meth:`document_of`), how to
    ask for it (:meth:`request_for`) and how to read it (:meth:`parse`).
    """

    __slots__ = ("_flights", "_lock", "cache", "fetcher", "rules")

    def __init__(self, rules: HostRules, fetcher: Fetcher | None, cache: KeyCache | None) -> None:
        import importlib.util

        if importlib.util.find_spec("httpx") is None:
            raise ConfigurationError(
                f"{type(self).__name__} fetches keys with httpx, which is not installed",
                remedy="pip install 'webhookverify[fetch]'",
            )
        self.rules = rules
        self.fetcher = Fetcher() if fetcher is None else fetcher
        check_methods(self.fetcher, ("fetch",), "fetcher", type(self).__name__)
        self.cache = KeyCache() if cache is None else cache
        self._lock = threading.Lock()
        # async fetches under way: document -> (its event loop, done when it ends)
        self._flights: dict[str, tuple[Any, Any]] = {}

    def document_of(self, ref: str) -> str:
        raise NotImplementedError

    def request_for(self, ref: str) -> Request:
        raise NotImplementedError

    def parse(self, body: bytes, ref: str) -> dict[str, FetchedKey]:
        raise NotImplementedError

    def read(self, fetched: Document, ref: str) -> dict[str, FetchedKey]:
        """:meth:`parse` of the answer (overridden to judge where it came from)."""
        return self.parse(fetched.body, ref)

    def _cached(self, ref: str) -> tuple[str, FetchedKey | None, bool]:
        """The document's reference, the key if cached, and whether the
        document is cached at all (then a missing ``ref`` is unknown to it)."""
        document = self.document_of(ref)
        keys = self.cache.fresh(document)
        return document, None if keys is None else keys.get(ref), keys is not None

    def _claim(self, document: str, known: bool) -> Request:
        """The request to send, if the rate limit allows a fetch now."""
        if not self.cache.claim_fetch(document):
            if known:
                raise UnknownKey("the request names a key id the sender does not publish")
            raise KeyUnavailable("the key was fetched moments ago without success; retry later")
        return self.request_for(document)

    def _settle(self, document: str, ref: str, fetched: Document) -> FetchedKey:
        keys = self.read(fetched, document)
        lifetime = fetched.lifetime
        for key in keys.values():
            if key.not_after is not None:  # kept no longer than it verifies, nor under a minute
                lifetime = min(lifetime, max(key.not_after - self.cache.clock(), MIN_LIFETIME))
        self.cache.store(document, keys, lifetime)
        found = keys.get(ref)
        if found is None:
            raise UnknownKey("the request names a key id the sender does not publish")
        return found

    def key(self, ref: str) -> FetchedKey:
        ref = check_ref(ref)
        document, found, known = self._cached(ref)
        if found is not None:
            return found
        with self._lock:  # one thread fetches; the others then find it cached
            document, found, known = self._cached(ref)
            if found is not None:
                return found
            request = self._claim(document, known)
            return self._settle(document, ref, self.fetcher.fetch(request, self.rules))

    async def akey(self, ref: str) -> FetchedKey:
        import asyncio

        ref = check_ref(ref)
        document, found, known = self._cached(ref)
        if found is not None:
            return found
        loop = asyncio.get_running_loop()
        flight = self._flights.get(document)
        if flight is not None and flight[0] is loop:
            # the same document is being fetched on this loop: wait for it, then
            # read the cache (its fetcher reports a failure to its own caller)
            await asyncio.shield(flight[1])
            document, found, known = self._cached(ref)
            if found is not None:
                return found
        request = self._claim(document, known)
        done = loop.create_future()
        self._flights[document] = (loop, done)
        try:
            return self._settle(document, ref, await self.fetcher.afetch(request, self.rules))
        finally:
            done.set_result(None)
            if self._flights.get(document, (None, None))[1] is done:
                del self._flights[document]


class JwksSource(FetchingSource):
    """A JWK Set (RFC 7517 §5) at ``url``, its keys by ``kid``.

    Args:
        url: the key set's URL (``https``, on ``hosts``).
        hosts: the host rules (default: the URL's own host).
        fetcher: the fetch bounds (and the test hook).
        cache: the cache the keys are kept in.
    """

    __slots__ = ("url",)

    def __init__(
        self,
        url: str,
        *,
        hosts: Iterable[str] | None = None,
        fetcher: Fetcher | None = None,
        cache: KeyCache | None = None,
    ) -> None:
        owner = type(self).__name__
        host = urllib.parse.urlsplit(url).hostname if isinstance(url, str) else None
        rules = HostRules(hosts if hosts is not None else [host or "?"], owner=owner)
        try:
            rules.check(url)
        except VerificationError as exc:  # a configured URL off its own rules
            raise ConfigurationError(f"{owner}(url=...): {exc}") from None
        super().__init__(rules, fetcher, cache)
        self.url = url

    def document_of(self, ref: str) -> str:
        return self.url

    def request_for(self, ref: str) -> Request:
        return Request("GET", self.url, None, (("Accept", "application/json"),))

    def parse(self, body: bytes, ref: str) -> dict[str, FetchedKey]:
        from . import _crypto

        return _crypto.jwk_set(body)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"


class KeyById(FetchingSource):
    """One key per key id, fetched from the provider's key endpoint.

    Args:
        url: the endpoint (``https``, on ``hosts``); ``{kid}`` in it is
            replaced by the key id, percent-encoded.
        parse: reads the endpoint's answer into the key (raise
            ``KeyUnavailable`` for an answer that holds none).
        method: ``GET`` or ``POST``.
        body: for ``POST``, the body for a key id (Plaid: JSON with the
            client id and secret).
        hosts: as :class:`JwksSource`.
        fetcher: as :class:`JwksSource`.
        cache: as :class:`JwksSource`.
    """

    __slots__ = ("_body", "_parse", "method", "url")

    def __init__(
        self,
        url: str,
        *,
        parse: Callable[[bytes, str], FetchedKey],
        method: str = "GET",
        body: Callable[[str], bytes] | None = None,
        hosts: Iterable[str] | None = None,
        fetcher: Fetcher | None = None,
        cache: KeyCache | None = None,
    ) -> None:
        host = urllib.parse.urlsplit(url).hostname if isinstance(url, str) else None
        rules = HostRules(hosts if hosts is not None else [host or "?"], owner="KeyById")
        if method not in ("GET", "POST"):
            raise ConfigurationError("KeyById(method=...) must be 'GET' or 'POST'")
        super().__init__(rules, fetcher, cache)
        self.url, self.method, self._body, self._parse = url, method, body, parse

    def document_of(self, ref: str) -> str:
        # The endpoint and the key id, so that a cache shared with another
        # source (Plaid's sandbox, say) never answers for this one; a key id
        # is printable, so the line break cannot be forged into it.
        return f"{self.method} {self.url}\n{ref}"

    def request_for(self, ref: str) -> Request:
        ref = ref.rpartition("\n")[2]
        url = self.url.replace("{kid}", urllib.parse.quote(ref, safe=""))
        content = None if self._body is None else self._body(ref)
        headers = (("Accept", "application/json"), ("Content-Type", "application/json"))
        return Request(self.method, self.rules.check(url), content, headers)

    def parse(self, body: bytes, ref: str) -> dict[str, FetchedKey]:
        ref = ref.rpartition("\n")[2]
        key = self._parse(body, ref)
        return {ref: key._replace(key_id=ref)}

    def __repr__(self) -> str:
        return f"KeyById({self.url!r}, method={self.method!r})"
