"""Keys listed oldest first, each perhaps valid only for a while.

A verifier tries every key valid at ``now`` (rotation: the old and the new
secret both verify while senders switch) and signs with the newest valid
one. The window comes from the :class:`~webhookverify.Secret` a key was
given in; a key given without one is always valid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, NamedTuple, TypeVar

from ..errors import NoValidKey
from ..keys import Secret

__all__ = ["KeyEntry", "keyring", "newest_valid", "valid_keys", "window_of"]

K = TypeVar("K")


class KeyEntry(NamedTuple, Generic[K]):
    """One configured key, ready to use, with the id reported when it matches.

    Attributes:
        key: the key as the verifier uses it (an HMAC key's prepared hash states, a public key).
        key_id: its ``key_id``, or its position (``secret[N]``, ``key[N]``).
        window: the :class:`~webhookverify.Secret` the key came in, whose
            ``not_before``/``not_after`` bound when it is used; ``None``: always.
    """

    key: K
    key_id: str
    window: Secret | None = None

    def valid_at(self, now: float) -> bool:
        """True when the key may verify or sign at ``now`` (unix seconds)."""
        return self.window is None or self.window.is_valid_at(now)


def window_of(secret: Secret | None) -> Secret | None:
    """``secret`` when it bounds when its key may be used, else ``None`` (always valid)."""
    if secret is None or (secret.not_before is None and secret.not_after is None):
        return None
    return secret


def keyring(secrets: Sequence[Secret], load: Callable[[bytes], K]) -> tuple[KeyEntry[K], ...]:
    """The keys of ``secrets``, oldest first: each secret's value made ready by
    ``load``, reported as its ``key_id`` or ``secret[N]`` (its position), and
    valid while the secret is."""
    return tuple(
        KeyEntry(load(s.value), s.key_id or f"secret[{i}]", window_of(s))
        for i, s in enumerate(secrets)
    )


def valid_keys(keys: Sequence[KeyEntry[K]], now: float) -> tuple[KeyEntry[K], ...]:
    """The keys valid at ``now``, oldest first: the ones to verify with.

    Raises:
        NoValidKey: none is valid at ``now``.
    """
    valid = tuple(k for k in keys if k.valid_at(now))
    if not valid:
        raise NoValidKey()
    return valid


def newest_valid(keys: Sequence[KeyEntry[K]], now: float) -> KeyEntry[K]:
    """The last key of ``keys`` (oldest first) valid at ``now``: the one to sign with.

    Raises:
        NoValidKey: none is valid at ``now``.
    """
    for entry in reversed(keys):
        if entry.valid_at(now):
            return entry
    raise NoValidKey()
