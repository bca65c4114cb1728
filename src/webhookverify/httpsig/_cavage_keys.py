"""The keys of :class:`~webhookverify.httpsig.CavageSignatureVerifier`.

The operation is the key's, never the message's: an RSA key verifies
RSASSA-PKCS1-v1_5 with SHA-256 (what ``rsa-sha256`` and Mastodon's
``hs2019`` mean for RSA), an Ed25519 key Ed25519 (``hs2019`` only). RSA keys
under :data:`MIN_RSA_BITS` are refused unless the configuration allows weak
keys by name. Loads ``cryptography`` when the first key is loaded.
"""

from __future__ import annotations

import functools
from typing import Any, Final, NamedTuple

from ..errors import ConfigurationError, NoValidKey, VerificationError, WebhookError
from ..keys import Secret

__all__ = [
    "MIN_RSA_BITS",
    "CavageKey",
    "CavageSigner",
    "KeyResolutionFailed",
    "UnusableKey",
    "load_key",
    "load_signer",
    "pick_signer",
    "resolve",
    "resolved",
]

# NIST SP 800-131A Rev. 2: RSA below 2048 bits is disallowed for signatures;
# Mastodon makes 2048-bit keys. The draft's own test key has 1024.
MIN_RSA_BITS: Final = 2048
# Which labels each operation answers to (draft-cavage-12 §2.1.3, Mastodon).
_LABELS: Final = {"rsa-sha256": ("rsa-sha256", "hs2019"), "ed25519": ("hs2019",)}


class UnusableKey(VerificationError):
    """The key a resolver gave for the ``keyId`` is not one this verifier accepts."""

    reason = "unusable_key"
    default_message = "the key for the signature's keyId is not RSA (2048 bits or more) or Ed25519"


class KeyResolutionFailed(VerificationError):
    """The key resolver failed with an error of its own (not a WebhookError)."""

    reason = "key_resolution_failed"
    default_message = "the key resolver failed; see the chained exception (keys=...)"


class CavageKey(NamedTuple):
    """One public key: its operation, the ``cryptography`` key, its validity window."""

    operation: str
    key: Any
    window: Secret | None = None

    def valid_at(self, now: float) -> bool:
        """True when the key may verify at ``now``."""
        return self.window is None or self.window.is_valid_at(now)

    def accepts(self, label: str) -> bool:
        """True when the message's algorithm label fits this key."""
        return label in _LABELS[self.operation]

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when ``signature`` is this key's signature of ``message``."""
        invalid, pkcs1, sha256 = _rsa_sha256()
        try:
            if self.operation == "ed25519":
                self.key.verify(signature, message)
            else:
                if len(signature) != (self.key.key_size + 7) // 8:
                    return False
                self.key.verify(signature, message, pkcs1, sha256)
        except (invalid, ValueError):
            return False
        return True


@functools.cache
def _rsa_sha256() -> tuple[type[Exception], Any, Any]:
    """``InvalidSignature``, PKCS#1 v1.5 padding and SHA-256, made once: a key
    is loaded before anything verifies, so ``cryptography`` is imported by then,
    and importing it here keeps ``import webhookverify`` from loading it."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return InvalidSignature, padding.PKCS1v15(), hashes.SHA256()


class CavageSigner(NamedTuple):
    """A private key for :meth:`CavageSignatureVerifier.sign` (tests, senders)."""

    operation: str
    key: Any

    def sign(self, message: bytes) -> bytes:
        if self.operation == "ed25519":
            return bytes(self.key.sign(message))
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        return bytes(self.key.sign(message, padding.PKCS1v15(), hashes.SHA256()))


def _fail(what: str, config: bool, text: str) -> Exception:
    return ConfigurationError(f"{what}: {text}") if config else UnusableKey(header="Signature")


def load_key(material: object, allow_weak_rsa: bool, what: str, config: bool = False) -> CavageKey:
    """Load a public key: PEM or DER (bytes or text), a ``cryptography`` key, or a
    :class:`~webhookverify.Secret` holding one.

    Raises:
        ConfigurationError (``config``) / UnusableKey (from a resolver):
            unreadable, not RSA or Ed25519, or RSA under 2048 bits without
            ``allow_weak_rsa``.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    window = material if isinstance(material, Secret) else None
    raw: Any = window.value if window is not None else material
    key: Any = raw
    if isinstance(raw, str | bytes | bytearray):
        data = raw.strip().encode("ascii", "replace") if isinstance(raw, str) else bytes(raw)
        try:
            if data.lstrip().startswith(b"-----BEGIN"):
                key = serialization.load_pem_public_key(data)
            else:
                key = serialization.load_der_public_key(data)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise _fail(what, config, "could not be read as a PEM or DER public key") from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return CavageKey("ed25519", key, window)
    if not isinstance(key, rsa.RSAPublicKey):
        raise _fail(what, config, "is not an RSA or Ed25519 public key")
    if key.key_size < MIN_RSA_BITS and not allow_weak_rsa:
        raise _fail(
            what,
            config,
            f"is a {key.key_size}-bit RSA key; at least {MIN_RSA_BITS} bits are required "
            "(allow_weak_rsa=True accepts it)",
        )
    return CavageKey("rsa-sha256", key, window)


def load_signer(material: object, what: str) -> CavageSigner:
    """Load a private key (PEM, DER, or a ``cryptography`` key) for signing.

    Raises:
        ConfigurationError: unreadable, or not RSA or Ed25519.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    key: Any = material
    if isinstance(material, str | bytes):
        data = material.encode("ascii") if isinstance(material, str) else material
        try:
            if data.lstrip().startswith(b"-----BEGIN"):
                key = serialization.load_pem_private_key(data, password=None)
            else:
                key = serialization.load_der_private_key(data, password=None)
        except (ValueError, TypeError):
            raise ConfigurationError(f"{what} could not be read as a private key") from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return CavageSigner("ed25519", key)
    if isinstance(key, rsa.RSAPrivateKey):
        return CavageSigner("rsa-sha256", key)
    raise ConfigurationError(f"{what} is not an RSA or Ed25519 private key")


def resolve(resolver: Any, key_id: str) -> object:
    """What ``resolver(key_id)`` returns; a ``WebhookError`` it raises (a key
    source that cannot reach the sender: 503) passes through unchanged.

    Raises:
        KeyResolutionFailed: the resolver raised anything else (chained).
    """
    try:
        return resolver(key_id)
    except WebhookError:
        raise
    except Exception as error:
        raise KeyResolutionFailed(header="Signature") from error


def resolved(material: object, now: float, allow_weak_rsa: bool, what: str) -> CavageKey | None:
    """The key a resolver or a key source gave: ``None`` (unknown) stays
    ``None``; a key source's ``FetchedKey`` must be valid at ``now``.

    Raises:
        NoValidKey: a fetched key outside its validity window.
        UnusableKey: as :func:`load_key`.
    """
    if material is None:
        return None
    valid_at = getattr(material, "valid_at", None)
    if valid_at is not None and hasattr(material, "key"):  # a key source's FetchedKey
        if not valid_at(now):
            raise NoValidKey()
        material = material.key
    return load_key(material, allow_weak_rsa, what)


def pick_signer(
    signers: dict[str, CavageSigner], keys: dict[str, CavageKey], key_id: str | None, now: float
) -> tuple[str, CavageSigner]:
    """The signing key for ``sign()``: ``key_id``'s, else the last one valid at ``now``.

    Raises:
        ConfigurationError: no signing keys, or ``key_id`` not among them.
        NoValidKey: none valid at ``now``.
    """
    owner = "CavageSignatureVerifier"
    if not signers:
        raise ConfigurationError(f"{owner}.sign() needs signing_keys={{keyId: private key}}")
    if key_id and key_id not in signers:
        raise ConfigurationError(f"{owner}.sign(): {key_id!r} is not in signing_keys=...")
    names = [key_id] if key_id else list(reversed(signers))
    for name in names:
        entry = keys.get(name)
        if name in signers and (entry is None or entry.valid_at(now)):
            return name, signers[name]
    raise NoValidKey()
