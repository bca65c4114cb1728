"""A certificate at a URL the message names: AWS SNS's ``SigningCertURL``,
PayPal's ``PAYPAL-CERT-URL``.

The URL is the sender's choice, so it is held to the provider's host and path
rules (:class:`~.HostRules`) before it is fetched; the certificate, once
fetched and read, is kept as a loaded key under that exact URL.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._cache import KeyCache
from ._fetch import Fetcher, Request
from ._hosts import MAX_URL_LENGTH, HostRules
from .sources import FetchedKey, FetchingSource

__all__ = ["CertificateUrl"]


class CertificateUrl(FetchingSource):
    """A PEM certificate at a URL the message names (the reference is the URL).

    The URL is held to ``hosts`` and ``path`` before anything is fetched or
    cached; the certificate must be valid when fetched and when it verifies.
    Once fetched, the certificate's loaded key is kept under that exact URL
    (in a part of the cache named by these rules), so a request naming the
    same URL again finds it without judging the URL a second time; a URL not
    seen before is judged first, as ever.

    Args:
        hosts: the host rules (``sns.*.amazonaws.com``, ``api.paypal.com``).
        path: a regular expression the URL's path must match whole.
        fetcher: as :class:`JwksSource`.
        cache: as :class:`JwksSource`.
        label: a regular expression a ``*`` label of ``hosts`` must match
            whole (see :class:`~.HostRules`).
    """

    __slots__ = ("_space",)

    def __init__(
        self,
        *,
        hosts: Iterable[str],
        path: str | None = None,
        fetcher: Fetcher | None = None,
        cache: KeyCache | None = None,
        label: str | None = None,
    ) -> None:
        rules = HostRules(hosts, path=path, owner="CertificateUrl", label=label)
        super().__init__(rules, fetcher, cache)
        # Documents are cached as "<these rules>\n<URL>": a cache shared with a
        # source of other rules never answers for a URL these did not judge.
        # repr() escapes any line break in a rule, so the first one ends it.
        self._space = f"{(rules.hosts, path, label)!r}\n"

    def key(self, ref: str) -> FetchedKey:
        kept = self._kept(ref)
        return kept if kept is not None else super().key(ref)

    async def akey(self, ref: str) -> FetchedKey:
        kept = self._kept(ref)
        return kept if kept is not None else await super().akey(ref)

    def _kept(self, ref: str) -> FetchedKey | None:
        """The cached certificate of exactly ``ref``: only a URL that passed
        these rules before it was fetched can be found."""
        if type(ref) is not str or len(ref) > MAX_URL_LENGTH:
            return None
        keys = self.cache.fresh(self._space + ref)
        return None if keys is None else keys.get(ref)

    def document_of(self, ref: str) -> str:
        return self._space + self.rules.check(ref, "certificate URL")

    def request_for(self, ref: str) -> Request:
        return Request("GET", ref[len(self._space) :])

    def parse(self, body: bytes, ref: str) -> dict[str, FetchedKey]:
        from . import _crypto

        url = ref[len(self._space) :]
        return {url: _crypto.load_certificate(body, url, self.cache.clock())}

    def __repr__(self) -> str:
        return f"CertificateUrl(hosts={list(self.rules.hosts)!r})"
