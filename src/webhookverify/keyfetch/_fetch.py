"""Fetching a key document over https: pinned, bounded, sync and async.

:class:`Fetcher` uses ``httpx`` (the ``webhookverify[fetch]`` extra),
imported the first time a key is fetched. Every fetch:

- goes only to a URL its :class:`~.HostRules` allow, and follows a redirect
  only to a URL the same rules allow (at most :data:`MAX_REDIRECTS`);
- reads at most ``max_bytes`` (Content-Length first, then while streaming)
  and gives up after ``timeout`` seconds in all (not per read: a server
  trickling one byte a second is cut off too);
- ignores the environment (``trust_env=False``: no proxy or CA bundle
  picked up from variables, which could otherwise redirect or weaken it);
- raises :class:`~webhookverify.KeyUnavailable` for anything that is not a
  200 answer within those bounds: the receiver answers 503 and the sender
  retries.

Test hook, documented and explicit (never an environment variable): ``ca``
trusts a test CA instead of the system's, and ``connect_to`` sends the
connection for a host name to another address (loopback) while TLS still
checks the certificate against the original host name and the host rules
still judge the original URL. Production code passes neither.
"""

from __future__ import annotations

import email.utils
import re
import ssl
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from ..errors import ConfigurationError, KeyUnavailable
from ._hosts import HostRules

__all__ = [
    "DEFAULT_LIFETIME",
    "DEFAULT_TIMEOUT",
    "MAX_DOCUMENT_BYTES",
    "MAX_LIFETIME",
    "MAX_REDIRECTS",
    "MIN_LIFETIME",
    "Document",
    "Fetcher",
    "lifetime_of",
]

# Google's and Microsoft's key sets and the providers' PEM certificates are
# 2-20 KiB; 256 KiB leaves room for any real key set and bounds a hostile one.
MAX_DOCUMENT_BYTES: Final = 256 * 1024
# A key fetch happens while a sender waits for our answer (most time out
# after 10-30 s); five seconds in all keeps us well inside that.
DEFAULT_TIMEOUT: Final = 5.0
# Providers redirect rarely (a moved path); three hops is plenty, and each
# must stay on the pinned hosts.
MAX_REDIRECTS: Final = 3
# Without caching headers a key is kept an hour: Google and Microsoft rotate
# their signing keys over days and publish new ones well before use.
DEFAULT_LIFETIME: Final = 3600.0
# Whatever the headers say, keep a key at least a minute (a flood of
# requests costs at most one fetch a minute) and at most a day (a revoked
# key is dropped within a day).
MIN_LIFETIME: Final = 60.0
MAX_LIFETIME: Final = 86400.0

_MAX_AGE: Final = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d{1,10})\"?\s*(?:,|$)", re.I)
_NO_CACHE: Final = re.compile(r"(?:^|,)\s*(?:no-store|no-cache)\s*(?:,|$)", re.I)


class Document(NamedTuple):
    """A fetched key document: its bytes, how long it may be kept (seconds),
    the URL that answered it (after redirects) and its ``Content-Type``
    (``""`` when the answer had none); ``None``: not reported."""

    body: bytes
    lifetime: float
    url: str | None = None
    content_type: str | None = None


def lifetime_of(headers: Mapping[str, str], default: float = DEFAULT_LIFETIME) -> float:
    """How long a key document may be cached, from its answer's headers.

    RFC 9111 §5.2.2.1 ``Cache-Control: max-age``, else §5.3 ``Expires``
    minus ``Date``; ``no-store``/``no-cache`` and anything unreadable give
    the shortest lifetime; no header gives ``default``. The result is held
    to [:data:`MIN_LIFETIME`, :data:`MAX_LIFETIME`].
    """
    control = headers.get("cache-control")
    lifetime: float = default
    if control is not None:
        match = _MAX_AGE.search(control)
        if _NO_CACHE.search(control):
            lifetime = MIN_LIFETIME
        elif match:
            lifetime = float(match.group(1))
    elif headers.get("expires") is not None:
        try:
            expires = email.utils.parsedate_to_datetime(headers["expires"]).timestamp()
            date_text = headers.get("date")
            date = email.utils.parsedate_to_datetime(date_text).timestamp() if date_text else None
        except (TypeError, ValueError, IndexError):
            lifetime = MIN_LIFETIME
        else:
            lifetime = expires - (time.time() if date is None else date)
    return min(max(lifetime, MIN_LIFETIME), MAX_LIFETIME)


class Request(NamedTuple):
    """What to fetch: a method, a URL its source's rules allow, a body, headers."""

    method: str
    url: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetcher:
    """How key documents are fetched: the bounds, and the test hook.

    Args:
        timeout: seconds a fetch may take in all (default 5).
        max_bytes: the largest answer read (default 256 KiB).
        ca: test hook: a CA bundle path or an ``ssl.SSLContext`` to trust
            instead of the system's certificate store.
        connect_to: test hook: ``{host: (address, port)}``; a fetch from
            ``host`` connects there, and TLS still checks ``host``'s name.

    Raises:
        ConfigurationError: a bound that is not a positive number.
    """

    timeout: float = DEFAULT_TIMEOUT
    max_bytes: int = MAX_DOCUMENT_BYTES
    ca: str | ssl.SSLContext | None = None
    connect_to: Mapping[str, tuple[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, int | float):
            raise ConfigurationError("Fetcher(timeout=...) must be a positive number of seconds")
        if not 0 < self.timeout <= 60:
            raise ConfigurationError("Fetcher(timeout=...) must be between 0 and 60 seconds")
        if isinstance(self.max_bytes, bool) or not isinstance(self.max_bytes, int):
            raise ConfigurationError("Fetcher(max_bytes=...) must be a whole number of bytes")
        if self.max_bytes <= 0:
            raise ConfigurationError("Fetcher(max_bytes=...) must be positive")
        object.__setattr__(self, "connect_to", {k.lower(): v for k, v in self.connect_to.items()})

    # -- the parts shared by fetch and afetch --------------------------------------

    def _context(self) -> ssl.SSLContext:
        if isinstance(self.ca, ssl.SSLContext):
            return self.ca
        return ssl.create_default_context(cafile=self.ca)

    def _client_options(self) -> dict[str, Any]:
        return {
            "verify": self._context(),
            "timeout": self.timeout,
            "follow_redirects": False,
            "trust_env": False,
        }

    def _build(self, client: Any, request: Request) -> Any:
        """The httpx request, sent to ``connect_to``'s address for a mapped host."""
        parts = urllib.parse.urlsplit(request.url)
        host = parts.hostname or ""
        headers = dict(request.headers)
        extensions: dict[str, Any] = {}
        url = request.url
        if host in self.connect_to:
            address, port = self.connect_to[host]
            url = urllib.parse.urlunsplit(parts._replace(netloc=f"{address}:{port}"))
            headers["Host"] = parts.netloc
            extensions["sni_hostname"] = host
        return client.build_request(
            request.method, url, content=request.body, headers=headers, extensions=extensions
        )

    def _next(self, request: Request, response: Any, rules: HostRules, hops: int) -> Request | None:
        """The redirect to follow (on the pinned hosts only), or ``None`` at a 200."""
        status = response.status_code
        if status == 200:
            return None
        if status in (301, 302, 303, 307, 308) and "location" in response.headers:
            if hops >= MAX_REDIRECTS:
                raise KeyUnavailable("the key URL redirected too many times")
            target = urllib.parse.urljoin(request.url, response.headers["location"])
            rules.check(target, "redirect target of the key URL")
            if status == 303 or (status in (301, 302) and request.method == "POST"):
                return Request("GET", target, None, request.headers)
            return Request(request.method, target, request.body, request.headers)
        raise KeyUnavailable(f"the key URL answered HTTP {status}")

    def _body(self, response: Any, started: float) -> _Body:
        """What collects a 200 answer's body, held to ``max_bytes`` and ``timeout``."""
        return _Body(response, self.max_bytes, started + self.timeout)

    # -- sync and async ------------------------------------------------------------

    def fetch(self, request: Request, rules: HostRules) -> Document:
        """Fetch ``request`` (its URL already allowed by ``rules``).

        Raises:
            KeyUrlRefused: a redirect off the pinned hosts.
            KeyUnavailable: unreachable, not 200, too slow or too large.
        """
        import httpx

        started = time.monotonic()
        try:
            with httpx.Client(**self._client_options()) as client:
                for hops in range(MAX_REDIRECTS + 1):
                    response = client.send(self._build(client, request), stream=True)
                    try:
                        follow = self._next(request, response, rules, hops)
                        if follow is None:
                            body = self._body(response, started)
                            for chunk in response.iter_bytes():
                                body.add(chunk)
                            return body.document(request.url)
                    finally:
                        response.close()
                    request = follow
        except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
            raise KeyUnavailable(f"fetching the key failed ({type(exc).__name__})") from None
        raise KeyUnavailable("the key URL redirected too many times")  # pragma: no cover

    async def afetch(self, request: Request, rules: HostRules) -> Document:
        """:meth:`fetch` for the event loop: the same rules, never blocking it."""
        import httpx

        started = time.monotonic()
        try:
            async with httpx.AsyncClient(**self._client_options()) as client:
                for hops in range(MAX_REDIRECTS + 1):
                    response = await client.send(self._build(client, request), stream=True)
                    try:
                        follow = self._next(request, response, rules, hops)
                        if follow is None:
                            body = self._body(response, started)
                            async for chunk in response.aiter_bytes():
                                body.add(chunk)
                            return body.document(request.url)
                    finally:
                        await response.aclose()
                    request = follow
        except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
            raise KeyUnavailable(f"fetching the key failed ({type(exc).__name__})") from None
        raise KeyUnavailable("the key URL redirected too many times")  # pragma: no cover


class _Body:
    """A 200 answer's body as it arrives, refused past ``max_bytes`` (its declared
    Content-Length first) or past the ``deadline`` (a monotonic time)."""

    __slots__ = ("chunks", "deadline", "limit", "received", "response")

    def __init__(self, response: Any, limit: int, deadline: float) -> None:
        declared = response.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise KeyUnavailable("the key document is larger than Fetcher(max_bytes=...)")
        self.response, self.limit, self.deadline = response, limit, deadline
        self.chunks: list[bytes] = []
        self.received = 0
        self.add(b"")

    def add(self, chunk: bytes) -> None:
        self.chunks.append(chunk)
        self.received += len(chunk)
        if self.received > self.limit:
            raise KeyUnavailable("the key document is larger than Fetcher(max_bytes=...)")
        if time.monotonic() > self.deadline:
            raise KeyUnavailable("fetching the key took longer than Fetcher(timeout=...)")

    def document(self, url: str) -> Document:
        """The whole answer, with its lifetime and media type."""
        headers = self.response.headers
        kind = headers.get("content-type", "")
        return Document(b"".join(self.chunks), lifetime_of(headers), url, kind)
