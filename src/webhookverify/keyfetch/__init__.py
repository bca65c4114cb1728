"""Keys that live at the sender: fetched, pinned, cached, rate-limited.

A sender that signs with a key it publishes (a JWK Set, a key endpoint, a
certificate URL in the message) needs the receiver to fetch that key. This
package does it under rules a hand-written receiver tends to miss: fetches
go only to the hosts the preset declares, over ``https``, bounded in size
and time, cached for the provider's stated lifetime, refetched at most once
(rate-limited) for an unknown key id, and failing closed with
:class:`~webhookverify.KeyUnavailable`, which the receiver answers 503 so
the sender retries. The algorithm is always the configuration's.

Fetching needs ``httpx`` (``pip install webhookverify[fetch]``), imported
only when a key is fetched; reading keys loads ``cryptography``.
See ``docs/fetched-keys.md``; :class:`ActorKeys` (ActivityPub actors'
keys) in ``docs/http-message-signatures.md``.
"""

from ._cache import FETCH_BURST, MIN_REFETCH_INTERVAL, KeyCache
from ._errors import ClaimMismatch, KeyUrlRefused, UnknownKey, UnreadableKey
from ._fetch import (
    DEFAULT_LIFETIME,
    DEFAULT_TIMEOUT,
    MAX_DOCUMENT_BYTES,
    MAX_LIFETIME,
    MIN_LIFETIME,
    Document,
    Fetcher,
    Request,
    lifetime_of,
)
from ._hosts import HostRules
from .actor import ACTOR_ACCEPT, ACTOR_CACHE_ENTRIES, ACTOR_FETCH_BURST, ActorKeys
from .certificates import CertificateUrl
from .certset import CertificateSet
from .sources import FetchedKey, FixedKeys, JwksSource, KeyById, KeySource
from .verifier import FetchedKeyVerifier, Pending, check_key_signature

__all__ = [
    "ACTOR_ACCEPT",
    "ACTOR_CACHE_ENTRIES",
    "ACTOR_FETCH_BURST",
    "DEFAULT_LIFETIME",
    "DEFAULT_TIMEOUT",
    "FETCH_BURST",
    "MAX_DOCUMENT_BYTES",
    "MAX_LIFETIME",
    "MIN_LIFETIME",
    "MIN_REFETCH_INTERVAL",
    "ActorKeys",
    "CertificateSet",
    "CertificateUrl",
    "ClaimMismatch",
    "Document",
    "FetchedKey",
    "FetchedKeyVerifier",
    "Fetcher",
    "FixedKeys",
    "HostRules",
    "JwksSource",
    "KeyById",
    "KeyCache",
    "KeySource",
    "KeyUrlRefused",
    "Pending",
    "Request",
    "UnknownKey",
    "UnreadableKey",
    "check_key_signature",
    "lifetime_of",
]
