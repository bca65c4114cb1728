"""A set of X.509 certificates by key id at a URL.

Google publishes the keys of each service account twice: as a JWK Set and as
a JSON object mapping each key id to a PEM certificate
(``https://www.googleapis.com/service_accounts/v1/metadata/x509/<account>``,
the form ``google.oauth2.id_token.verify_token(certs_url=...)`` reads). A
token the account signs itself (Google Chat's, with the project number as
its audience) names its key by ``kid`` in that object.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable

from ..errors import ConfigurationError, VerificationError
from ._cache import KeyCache
from ._fetch import Fetcher, Request
from ._hosts import HostRules
from .sources import FetchedKey, FetchingSource

__all__ = ["CertificateSet"]


class CertificateSet(FetchingSource):
    """``{"<kid>": "<PEM certificate>", ...}`` at ``url``, its keys by ``kid``.

    Fetched, cached and refetched as :class:`~.JwksSource` is. Each key is
    bounded by its certificate's validity: a certificate already expired is
    left out, and a key verifies only inside its certificate's dates.

    Args:
        url: the document's URL (``https``, on ``hosts``).
        hosts: the host rules (default: the URL's own host).
        fetcher: the fetch bounds (and the test hook).
        cache: the cache the keys are kept in.

    Raises:
        ConfigurationError: the URL is off its host rules or not ``https``,
            or ``httpx`` is not installed.
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
        host = urllib.parse.urlsplit(url).hostname if isinstance(url, str) else None
        rules = HostRules(hosts if hosts is not None else [host or "?"], owner="CertificateSet")
        try:
            rules.check(url)
        except VerificationError as exc:  # a configured URL off its own rules
            raise ConfigurationError(f"CertificateSet(url=...): {exc}") from None
        super().__init__(rules, fetcher, cache)
        self.url = url

    def document_of(self, ref: str) -> str:
        return self.url

    def request_for(self, ref: str) -> Request:
        return Request("GET", self.url, None, (("Accept", "application/json"),))

    def parse(self, body: bytes, ref: str) -> dict[str, FetchedKey]:
        from . import _crypto

        return _crypto.certificate_set(body, self.cache.clock())

    def __repr__(self) -> str:
        return f"CertificateSet({self.url!r})"
