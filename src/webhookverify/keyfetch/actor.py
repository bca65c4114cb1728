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

Actors that follow FEP-521a also (or only) publish their keys as
``Multikey`` entries of ``assertionMethod`` (W3C Controlled Identifiers
§2.2.2), an Ed25519 key in ``publicKeyMultibase``:

    "assertionMethod": [{"id": "https://social.example/users/alice#ed25519-key",
                         "type": "Multikey",
                         "controller": "https://social.example/users/alice",
                         "publicKeyMultibase": "z6Mk..."}]

Such a key is handed out for a ``keyId`` equal to its ``id`` when its
``controller`` is the actor; an entry of this actor that names the
``keyId`` but cannot be used (another key type, malformed base58, another
controller, an ``expires`` that is not a date) is refused with
:class:`~.UnreadableKey`, saying why; an expired or revoked key is not used.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable
from typing import Any, Final, NamedTuple

from ..errors import KeyUnavailable
from ._cache import KeyCache
from ._errors import UnreadableKey
from ._fetch import Document, Fetcher, Request
from ._hosts import HostRules
from ._multikey import MultikeyError, expiry_of, read_ed25519_multikey
from .sources import FetchedKey, FetchingSource

__all__ = ["ACTOR_ACCEPT", "ACTOR_CACHE_ENTRIES", "ACTOR_FETCH_BURST", "ActorKeys"]

# ActivityPub §3.2: how a client asks a server for an object.
ACTOR_ACCEPT: Final = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ACTIVITY_STREAMS: Final = "https://www.w3.org/ns/activitystreams"
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
      speaks for another actor holds no key of this one), a redirect, if
      any, stayed on that URL's host (another server cannot answer for it),
      and it came as ActivityStreams JSON (not an upload the host serves);
    - one of its ``publicKey`` entries has the ``keyId`` as ``id`` and the
      actor as ``owner``;
    - that entry's ``publicKeyPem`` is an RSA or Ed25519 public key (the
      verifier judges the RSA size: 2048 bits unless it allows weak keys);
    - or (FEP-521a) one of its ``assertionMethod`` entries is a
      ``Multikey`` with the ``keyId`` as ``id``, the actor as
      ``controller``, an Ed25519 key in ``publicKeyMultibase`` (base58btc,
      multicodec ``ed25519-pub``) and no ``expires`` or ``revoked`` in the
      past (then :class:`~webhookverify.NoValidKey`). Such an
      entry that fails one of these is :class:`~.UnreadableKey` (401),
      with the reason.

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

    def read(self, fetched: Document, ref: str) -> dict[str, FetchedKey]:
        """The usable keys of the actor document fetched from ``ref``: none
        when a redirect took the fetch to another host, or when the answer
        is not ActivityStreams JSON.

        A redirect stays on the host rules, but those name many servers: one
        whose actor URL (or any open redirect) sends the fetch elsewhere
        would let that other server's document, claiming ``ref`` as its
        ``id``, speak for an actor it does not host. And a server that also
        serves its users' uploads would answer an uploaded JSON file, whose
        ``id`` is its own URL, as an actor of that server (Mastodon refuses
        such answers by media type since its fix for CVE-2024-23832).
        """
        if fetched.url is not None and not _same_origin(fetched.url, ref):
            return {}
        if fetched.content_type is not None and not _activity_json(fetched.content_type):
            return {}
        return self.parse(fetched.body, ref)

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
        found: dict[str, FetchedKey] = {}
        for entry in _entries(document, "publicKey"):
            key = _entry_key(entry, ref)
            if key is not None:
                found[key.key_id] = key
        for method in _entries(document, "assertionMethod"):
            key = _multikey(method, ref)
            if key is not None:
                found.setdefault(key.key_id, key)  # a publicKey entry of that id comes first
        return found

    def key(self, ref: str) -> FetchedKey:
        """The key ``ref`` names (see the class).

        Raises:
            UnreadableKey: the actor's entry for ``ref`` cannot be used.
            UnknownKey / KeyUrlRefused / KeyUnavailable: as every key source.
        """
        return _usable(super().key(ref))

    async def akey(self, ref: str) -> FetchedKey:
        """:meth:`key` without blocking the event loop."""
        return _usable(await super().akey(ref))

    def __repr__(self) -> str:
        return f"ActorKeys(hosts={list(self.rules.hosts)!r})"


def _same_origin(url: str, other: str) -> bool:
    """True when ``url`` and ``other`` have one scheme, host and port (RFC 6454 §4)."""
    a, b = urllib.parse.urlsplit(url), urllib.parse.urlsplit(other)
    return (a.scheme.lower(), a.hostname, a.port or 443) == (
        b.scheme.lower(),
        b.hostname,
        b.port or 443,
    )


def _activity_json(content_type: str) -> bool:
    """True for ``application/activity+json``, or ``application/ld+json`` with
    the ActivityStreams profile (ActivityPub §3.2, the media types Mastodon
    accepts for an object it fetches)."""
    kind, *params = (part.strip() for part in content_type.split(";"))
    if kind.lower() == "application/activity+json":
        return True
    if kind.lower() != "application/ld+json":
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "profile" and ACTIVITY_STREAMS in value.strip('"').split():
            return True
    return False


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


def _entries(document: dict[str, Any], name: str) -> list[Any]:
    """The first :data:`MAX_ACTOR_KEYS` values of ``name`` (one object or a list)."""
    entries = document.get(name)
    if isinstance(entries, dict):
        return [entries]
    return entries[:MAX_ACTOR_KEYS] if isinstance(entries, list) else []


class _Refused(NamedTuple):
    """Stands in the cache for an actor's key entry that cannot be used, so
    that the refusal (not a refetch) answers every request naming it."""

    reason: str


def _usable(found: FetchedKey) -> FetchedKey:
    if isinstance(found.key, _Refused):
        raise UnreadableKey(f"the actor's key {found.key_id!r}: {found.key.reason}")
    return found


def _multikey(entry: Any, actor: str) -> FetchedKey | None:
    """One ``assertionMethod`` entry's key (FEP-521a), if it is a Multikey of
    this document's; a refusal in its place if it is one that cannot be used."""
    if not isinstance(entry, dict) or "publicKeyMultibase" not in entry:
        return None  # a reference, or another kind of method: not a key here
    key_id = entry.get("id")
    if not isinstance(key_id, str) or urllib.parse.urldefrag(key_id).url != actor:
        return None  # a key of this document only (FEP-521a: the actor's fragment)
    kind = entry.get("type")
    try:
        if kind != "Multikey" and not (isinstance(kind, list) and "Multikey" in kind):
            raise MultikeyError("its type is not Multikey")
        if entry.get("controller") != actor:  # FEP-521a: "MUST match actor ID"
            raise MultikeyError("its controller is not the actor")
        key = read_ed25519_multikey(entry["publicKeyMultibase"])
        # Controlled Identifiers §2.2: a key is not used after it expires or
        # is revoked (both dateTimes)
        ends = [expiry_of(entry.get(name), name) for name in ("expires", "revoked")]
    except MultikeyError as error:
        return FetchedKey(key_id, _Refused(str(error)))
    bounds = [end for end in ends if end is not None]
    return FetchedKey(key_id, key, None, None, min(bounds) if bounds else None)
