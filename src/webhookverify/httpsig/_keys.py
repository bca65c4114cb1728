"""The keys of :class:`HttpMessageSignatureVerifier`: ``keyid -> (algorithm, key)``.

A small table, built once from the configuration. The algorithm of each key is
the configuration's; a message only names the key (``keyid``), and an ``alg``
it states must agree. Keys a sender publishes (a key set at a URL, a key
fetched by id, an ActivityPub actor's key) come from a key source instead, by
``keyid``, and :func:`fetched_entry` holds each to the configured algorithms.

HMAC keys are checked with :mod:`hmac`; the public-key algorithms load
:mod:`._crypto` (and with it ``cryptography``) the first time a key of
theirs is configured.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from .._checks import check_list
from ..errors import ConfigurationError, NoValidKey
from ..keys import Secret
from ..verifiers._base import constant_time_equal
from ._base import AlgorithmMismatch, UnknownKeyId

__all__ = [
    "ALGORITHMS",
    "MAX_KEY_LOOKUPS",
    "HttpSigAlgorithm",
    "KeyTable",
    "SigningKey",
    "TableKey",
    "check_algorithms",
    "counted_lookup",
    "fetched_entry",
    "load_source_signers",
    "load_table",
    "pick_signer",
]

HttpSigAlgorithm = Literal[
    "hmac-sha256",
    "ed25519",
    "ecdsa-p256-sha256",
    "ecdsa-p384-sha384",
    "rsa-pss-sha512",
    "rsa-v1_5-sha256",
]
# RFC 9421 §6.2.2, the initial contents of the signature algorithm registry.
ALGORITHMS: tuple[HttpSigAlgorithm, ...] = (
    "hmac-sha256",
    "ed25519",
    "ecdsa-p256-sha256",
    "ecdsa-p384-sha384",
    "rsa-pss-sha512",
    "rsa-v1_5-sha256",
)
# RFC 2104 §3 / NIST SP 800-107 §5.3.4: an HMAC key shorter than the hash
# output (32 bytes for SHA-256) weakens it; RFC 9421 B.1.5's secret is 64.
MIN_HMAC_KEY_BYTES = 32
# RFC 9421 §2.3: keyid is a String; ids in the wild are URLs (ActivityPub key
# ids) or short names. Longer is not a key id.
MAX_KEY_ID_LENGTH = 512


class TableKey(NamedTuple):
    """One configured key: its pinned algorithm, the key, and its validity window."""

    algorithm: HttpSigAlgorithm
    key: Any  # bytes for hmac-sha256, a cryptography public key otherwise
    window: Secret | None = None

    def valid_at(self, now: float) -> bool:
        """True when the key may verify or sign at ``now``."""
        return self.window is None or self.window.is_valid_at(now)

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when ``signature`` is this key's signature of ``message``."""
        if self.algorithm == "hmac-sha256":
            expected = hmac.new(self.key, message, hashlib.sha256).digest()
            return constant_time_equal(expected, signature)
        from . import _crypto

        return _crypto.verify(self.algorithm, self.key, signature, message)


class SigningKey(NamedTuple):
    """What :meth:`HttpMessageSignatureVerifier.sign` signs with."""

    algorithm: HttpSigAlgorithm
    key: Any  # bytes for hmac-sha256, a cryptography private key otherwise

    def sign(self, message: bytes) -> bytes:
        if self.algorithm == "hmac-sha256":
            return hmac.new(self.key, message, hashlib.sha256).digest()
        from . import _crypto

        return _crypto.sign(self.algorithm, self.key, message)


KeyTable = dict[str, TableKey]

# The RFC 9421 algorithm a published key's own "alg" names (JWA, RFC 7518
# §3.1; RFC 8037 §3.1): a key its publisher says signs with another
# algorithm is not used for this one.
JOSE_ALGORITHMS: dict[str, HttpSigAlgorithm] = {
    "RS256": "rsa-v1_5-sha256",
    "PS512": "rsa-pss-sha512",
    "ES256": "ecdsa-p256-sha256",
    "ES384": "ecdsa-p384-sha384",
    "EdDSA": "ed25519",
    "Ed25519": "ed25519",
}


def _hmac_key(material: object, what: str, owner: str) -> bytes:
    raw = material.value if isinstance(material, Secret) else material
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if not isinstance(raw, bytes | bytearray):
        raise ConfigurationError(f"{owner}({what}=...) for hmac-sha256 must be bytes or a Secret")
    if len(raw) < MIN_HMAC_KEY_BYTES:
        raise ConfigurationError(
            f"{owner}({what}=...) is a {len(raw)}-byte HMAC key; at least "
            f"{MIN_HMAC_KEY_BYTES} bytes are required"
        )
    return bytes(raw)


def _key_id(key_id: object, owner: str) -> str:
    if not isinstance(key_id, str) or not 0 < len(key_id) <= MAX_KEY_ID_LENGTH:
        raise ConfigurationError(
            f"{owner}(keys=...) maps key ids (non-empty str of at most "
            f"{MAX_KEY_ID_LENGTH} characters) to (algorithm, key) pairs"
        )
    return key_id


def _algorithm(value: object, what: str, owner: str) -> HttpSigAlgorithm:
    if value not in ALGORITHMS:
        raise ConfigurationError(
            f"{owner}({what}=...) names algorithm {value!r}; use one of {', '.join(ALGORITHMS)}"
        )
    return value


def load_table(
    keys: Mapping[str, tuple[str, object]],
    signing_keys: Mapping[str, object] | None,
    owner: str,
) -> tuple[KeyTable, dict[str, SigningKey]]:
    """Load ``keys`` (keyid to algorithm and key) and ``signing_keys`` (keyid to private key).

    Returns:
        The verification table and the signing keys, both in configuration
        order (the last valid one signs).

    Raises:
        ConfigurationError: no key, an unknown algorithm, an unusable key, a
            signing key without a verification key or for an HMAC key.
    """
    if not isinstance(keys, Mapping) or not keys:
        raise ConfigurationError(
            f"{owner} needs keys={{keyid: (algorithm, key), ...}}; "
            'e.g. keys={"my-key": ("ed25519", PUBLIC_KEY_PEM)}'
        )
    table: KeyTable = {}
    signers: dict[str, SigningKey] = {}
    for key_id, pair in keys.items():
        what = f"keys[{key_id!r}]"
        _key_id(key_id, owner)
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise ConfigurationError(f"{owner}({what}=...) must be an (algorithm, key) pair")
        algorithm = _algorithm(pair[0], what, owner)
        material = pair[1]
        window = material if isinstance(material, Secret) else None
        if algorithm == "hmac-sha256":
            secret = _hmac_key(material, what, owner)
            table[key_id] = TableKey(algorithm, secret, window)
            signers[key_id] = SigningKey(algorithm, secret)
            continue
        from . import _crypto

        loaded = _crypto.load_verify_key(algorithm, material, what=what, owner=owner)
        table[key_id] = TableKey(algorithm, loaded, window)
    for key_id, private in (signing_keys or {}).items():
        entry = table.get(key_id)
        if entry is None or entry.algorithm == "hmac-sha256":
            raise ConfigurationError(
                f"{owner}(signing_keys=...) names {key_id!r}, which is not a public key in keys=..."
            )
        from . import _crypto

        signer = _crypto.load_signing_key(entry.algorithm, private, owner=owner)
        if not _crypto.same_key(signer, entry.key):
            raise ConfigurationError(
                f"{owner}(signing_keys[{key_id!r}]) is not the private half of keys[{key_id!r}]"
            )
        signers[key_id] = SigningKey(entry.algorithm, signer)
    return table, signers


def pick_signer(
    table: KeyTable, signers: dict[str, SigningKey], key_id: str | None, now: float
) -> tuple[str, SigningKey]:
    """The key :meth:`HttpMessageSignatureVerifier.sign` uses: ``key_id``, or the
    last configured key valid at ``now`` that can sign.

    Raises:
        ConfigurationError: ``key_id`` cannot sign, or no key can.
        NoValidKey: the keys that can sign are all outside their windows.
    """
    owner = "HttpMessageSignatureVerifier.sign()"
    if key_id:
        signer = signers.get(key_id)
        if signer is None:
            raise ConfigurationError(
                f"{owner}: {key_id!r} cannot sign; HMAC keys sign, a public key needs "
                "its private half in signing_keys=..."
            )
        if not table[key_id].valid_at(now):
            raise NoValidKey()
        return key_id, signer
    if not signers:
        raise ConfigurationError(
            f"{owner} needs a key that can sign; give the private keys in signing_keys=..."
        )
    for candidate in reversed(signers):
        if table[candidate].valid_at(now):
            return candidate, signers[candidate]
    raise NoValidKey()


def check_algorithms(algorithms: object, owner: str) -> tuple[HttpSigAlgorithm, ...]:
    """The ``algorithms=`` of a verifier whose keys come from a key source.

    Raises:
        ConfigurationError: none given, one unknown, or ``hmac-sha256`` (a
            shared secret is never published).
    """
    items = check_list(algorithms or (), "algorithms", owner, one=str)
    if not items:
        raise ConfigurationError(
            f"{owner}: keys from a key source need algorithms=... (the algorithms the "
            "sender's keys sign with, such as ('ed25519',)); a message never chooses one"
        )
    checked = tuple(_algorithm(item, "algorithms", owner) for item in dict.fromkeys(items))
    if "hmac-sha256" in checked:
        raise ConfigurationError(
            f"{owner}(algorithms=...): hmac-sha256 keys are shared secrets, never fetched; "
            "give them in keys={keyid: ('hmac-sha256', secret)}"
        )
    return checked


def fits(algorithm: HttpSigAlgorithm, key: object) -> bool:
    """Whether ``key`` is a public key ``algorithm`` verifies with (type, curve, RSA size)."""
    from . import _crypto

    try:
        _crypto.load_verify_key(algorithm, key, what="keys", owner="HttpMessageSignatureVerifier")
    except ConfigurationError:
        return False
    return True


def fetched_entry(
    fetched: Any, algorithms: tuple[HttpSigAlgorithm, ...], stated: str | None, now: float
) -> TableKey:
    """A key a source handed out, as the table entry it verifies as.

    The algorithm is the one configured algorithm the key fits (and, where
    stated, the signature's ``alg`` and the key's publisher agree with).

    Raises:
        NoValidKey: the key is outside its validity (a certificate's dates).
        AlgorithmMismatch: no configured algorithm fits the key, or several do
            and the signature states no ``alg`` to choose between them.
    """
    if not fetched.valid_at(now):
        raise NoValidKey()
    stated_by_publisher = fetched.algorithm
    published = JOSE_ALGORITHMS.get(stated_by_publisher, stated_by_publisher)
    usable = [
        algorithm
        for algorithm in algorithms
        if (stated is None or algorithm == stated)
        and (stated_by_publisher is None or algorithm == published)
        and fits(algorithm, fetched.key)
    ]
    if len(usable) == 1:
        return TableKey(usable[0], fetched.key)
    if not usable:
        raise AlgorithmMismatch(
            "the sender's key does not fit the configured algorithms (algorithms=...)",
            header="Signature-Input",
        )
    raise AlgorithmMismatch(
        "the signature states no alg and its key fits several of algorithms=...",
        header="Signature-Input",
    )


def load_source_signers(
    algorithms: tuple[HttpSigAlgorithm, ...], signing_keys: Mapping[str, object] | None, owner: str
) -> tuple[KeyTable, dict[str, SigningKey]]:
    """The signing keys of a verifier whose keys come from a key source (tests,
    senders): each private key signs with the one configured algorithm it fits.

    Returns:
        A table of their public halves (what :func:`pick_signer` reads; never
        used to verify) and the signing keys.

    Raises:
        ConfigurationError: a private key no configured algorithm fits, or more than one.
    """
    from . import _crypto

    table: KeyTable = {}
    signers: dict[str, SigningKey] = {}
    for key_id, private in (signing_keys or {}).items():
        _key_id(key_id, owner)
        public = getattr(private, "public_key", None)
        usable = [a for a in algorithms if callable(public) and fits(a, public())]
        if len(usable) != 1:
            raise ConfigurationError(
                f"{owner}(signing_keys[{key_id!r}]) must be a private key that exactly one "
                "of algorithms=... signs with"
            )
        signer = _crypto.load_signing_key(usable[0], private, owner=owner)
        table[key_id] = TableKey(usable[0], private.public_key())  # type: ignore[attr-defined]
        signers[key_id] = SigningKey(usable[0], signer)
    return table, signers


# A request may carry several signatures (a sender rotating keys signs with
# two); each names its key. Looking up more than two keys for one request
# only serves someone making the receiver fetch on their behalf.
MAX_KEY_LOOKUPS = 2


def counted_lookup(key_id: str, looked_up: set[str]) -> str:
    """``key_id``, counted among the keys looked up for this request.

    Raises:
        UnknownKeyId: the request already named :data:`MAX_KEY_LOOKUPS` other keys.
    """
    if key_id not in looked_up and len(looked_up) >= MAX_KEY_LOOKUPS:
        raise UnknownKeyId(
            f"the request names more than {MAX_KEY_LOOKUPS} keys; the others are not looked up",
            header="Signature-Input",
        )
    looked_up.add(key_id)
    return key_id
