"""Keys published in ActivityPub actor documents (Mastodon, Pleroma, Misskey...).

An ActivityPub server signs its inbox deliveries (draft-cavage ``Signature``
headers) with a key whose ``keyId`` is the URL of the actor's key, such as
``https://social.example/users/alice#main-key``. The key is in the actor's
document, at that URL without its fragment (ActivityPub §4.1; the
``publicKey`` property of the W3C Security Vocabulary, as Mastodon
publishes it):

    {"id": "https://social.example/users/alice", "type": "Person", ...,
     "publicKey": {"id": "https://social.example/users/alice#main-key",
                   "owner": "https://social.example/users/alice",
                   "publicKeyPem": "-----BEGIN PUBLIC KEY-----..."}}

:class:`ActorKeys` fetches that document under the key source layer's
rules (pinned hosts, ``https``, bounded, cached, rate-limited, failing
closed) and hands out the key only when the document is the actor's own
(its ``id`` is the URL it was fetched from) and the key's ``id`` and
``owner`` are the ``keyId`` and that actor.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable
from typing import Any, Final

from ..errors import KeyUnavailable
from ._cache import KeyCache
from ._fetch import Fetcher, Request
from ._hosts import HostRules
from .sources import FetchedKey, FetchingSource

__all__ = ["ACTOR_ACCEPT", "ACTOR_CACHE_ENTRIES", "ACTOR_FETCH_BURST", "ActorKeys"]

# ActivityPub §3.2: how a client asks a server for an object.
ACTOR_ACCEPT: Final = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
# An inbox hears from many actors, not a provider's handful of keys: keep up
# to this many actor documents (a parsed document is a key or two, ~1 KiB).
ACTOR_CACHE_ENTRIES: Final = 4096
# New actor documents fetched per refetch interval (30 s), whatever the
# keyIds: about one a second keeps a busy instance's first contacts flowing,
# while a flood of forged keyIds on an allowed host costs that host no more.
# A delivery over the limit is answered 503, and its sender retries.
ACTOR_FETCH_BURST: Final = 32
# An actor publishes one key (Mastodon) or a few; more is not an actor's.
MAX_ACTOR_KEYS: Final = 16


class ActorKeys(FetchingSource):
    """Keys of ActivityPub actors, fetched from their actor documents.

    The reference is the ``keyId`` (``https://host/users/alice#main-key``);
    the document fetched is that URL without its fragment, asked for as
    ActivityStreams JSON (:data:`ACTOR_ACCEPT`), and cached per actor for
    the lifetime its answer states. A key is handed out only when:

    - the document's ``id`` is the URL it was fetched from (a document that
      speaks for another actor holds no key of this one);
    - one of its ``publicKey`` entries has the ``keyId`` as ``id`` and the
      actor as ``owner``;
    - that entry's ``publicKeyPem`` is an RSA or Ed25519 public key (the
      verifier judges the RSA size: 2048 bits unless it allows weak keys).

    A ``keyId`` the cached document does not hold causes one refetch (key
    rotation), at most once per document per refetch interval; a forged one
    is then :class:`~webhookverify.keyfetch.UnknownKey` (401).

    Args:
        hosts: the host rules (``["mastodon.social", "*.example.social"]``):
            required, since a ``keyId`` is whatever the sender wrote and
            fetching any host it names would let anyone make the receiver
            fetch any URL (server-side request forgery).
        fetcher: the fetch bounds (and the test hook).
        cache: the cache the documents are kept in (default: one sized for
            many actors, :data:`ACTOR_CACHE_ENTRIES`, :data:`ACTOR_FETCH_BURST`).

    Raises:
        ConfigurationError: no host, a rule that is not a host name, or
            ``httpx`` not installed.
    """

    __slots__ = ()

    def __init__(
        self,
        *,
        hosts: Iterable[str],
        fetcher: Fetcher | None = None,
        cache: KeyCache | None = None,
    ) -> None:
        if cache is None:
            cache = KeyCache(burst=ACTOR_FETCH_BURST, max_entries=ACTOR_CACHE_ENTRIES)
        super().__init__(HostRules(hosts, owner="ActorKeys(hosts=...)"), fetcher, cache)

    def document_of(self, ref: str) -> str:
        """The actor's URL: the ``keyId`` without its fragment, on the pinned hosts.

        Raises:
            KeyUrlRefused: off the host rules, not ``https`` (nothing fetched).
        """
        return self.rules.check(urllib.parse.urldefrag(ref).url, "keyId's actor URL")

    def request_for(self, ref: str) -> Request:
        return Request("GET", ref, None, (("Accept", ACTOR_ACCEPT),))

    def parse(self, body: bytes, ref: str) -> dict[str, FetchedKey]:
        """The usable keys of the actor document ``body`` fetched from ``ref``.

        Raises:
            KeyUnavailable: the answer is not a JSON object (the sender's
                server is at fault: the sender should retry).
        """
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise KeyUnavailable("the actor document is not JSON") from None
        if not isinstance(document, dict):
            raise KeyUnavailable("the actor document is not a JSON object")
        if document.get("id") != ref:  # not this actor's own document
            return {}
        entries = document.get("publicKey")
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list):
            return {}
        found: dict[str, FetchedKey] = {}
        for entry in entries[:MAX_ACTOR_KEYS]:
            key = _entry_key(entry, ref)
            if key is not None:
                found[key.key_id] = key
        return found

    def __repr__(self) -> str:
        return f"ActorKeys(hosts={list(self.rules.hosts)!r})"


def _entry_key(entry: Any, actor: str) -> FetchedKey | None:
    """One ``publicKey`` entry's key, if it is the actor's, in this document,
    and an RSA or Ed25519 PEM public key."""
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    from . import _crypto

    if not isinstance(entry, dict):
        return None
    key_id, owner, pem = entry.get("id"), entry.get("owner"), entry.get("publicKeyPem")
    if not isinstance(key_id, str) or owner != actor or not isinstance(pem, str):
        return None
    if urllib.parse.urldefrag(key_id).url != actor:  # a key of this document only
        return None
    try:
        key = _crypto.load_public(pem)
    except ValueError:
        return None
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        return None
    return FetchedKey(key_id, key)
