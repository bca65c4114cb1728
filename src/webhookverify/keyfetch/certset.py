"""A set of X.509 certificates by key id at a URL.

Google publishes the keys of each service account twice: as a JWK Set and as
a JSON object mapping each key id to a PEM certificate
(``https://www.googleapis.com/service_accounts/v1/metadata/x509/<account>``,
the form ``google.oauth2.id_token.verify_token(certs_url=...)`` reads). A
token the account signs itself (Google Chat's, with the project number as
its audience) names its key by ``kid`` in that object.
"""

from __future__ import annotations

from .sources import FetchedKey, JwksSource

__all__ = ["CertificateSet"]


class CertificateSet(JwksSource):
    """``{"<kid>": "<PEM certificate>", ...}`` at ``url``, its keys by ``kid``.

    Fetched, cached and refetched as the :class:`~.JwksSource` it extends is
    (the same arguments); only the document differs. Each key is
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

    __slots__ = ()

    def parse(self, body: bytes, ref: str) -> dict[str, FetchedKey]:
        from . import _crypto

        return _crypto.certificate_set(body, self.cache.clock())
