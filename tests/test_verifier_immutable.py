"""Verifiers built on SignatureScheme refuse every change, with one message.

The settings are dataclass fields; what the dataclass machinery writes for a
frozen, slotted class (its ``__setattr__``, ``__delattr__`` and pickling
state) must not leak: a name that is not a field is refused as a field is,
never with a ``TypeError`` from ``super()``, and a copy or a pickle is
refused with one message rather than made without the attributes a subclass
adds (``secrets``, a preset's ``handshake``).
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from webhookverify import HmacVerifier, PublicKeyVerifier, presets

_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))

VERIFIERS: dict[str, Callable[[], Any]] = {
    "HmacVerifier": lambda: HmacVerifier(secret="k", header="S"),
    "HmacPreset": lambda: presets.slack(secret="k"),
    "PublicKeyVerifier": lambda: PublicKeyVerifier(
        algorithm="ed25519", private_key=_KEY, header="S"
    ),
    "PublicKeyVerifier preset": lambda: presets.discord(public_key=_KEY.public_key()),
}
# a field, an attribute a subclass adds, a private one, a name never set
NAMES = ["header", "tolerance", "secrets", "_private", "_keys", "handshake", "anything"]


@pytest.mark.parametrize("build", VERIFIERS.values(), ids=list(VERIFIERS))
@pytest.mark.parametrize("name", NAMES)
def test_every_attribute_is_refused_with_one_message(build: Callable[[], Any], name: str) -> None:
    verifier = build()
    before = repr(verifier)
    with pytest.raises(AttributeError, match="is immutable; build a new one"):
        setattr(verifier, name, 1)
    if hasattr(verifier, name):
        with pytest.raises(AttributeError, match="is immutable; build a new one"):
            delattr(verifier, name)
    assert repr(verifier) == before


@pytest.mark.parametrize("build", VERIFIERS.values(), ids=list(VERIFIERS))
@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy, pickle.dumps])
def test_a_copy_is_refused_not_made_half(build: Callable[[], Any], how: Any) -> None:
    with pytest.raises(TypeError, match="is not copied or pickled; build a new one"):
        how(build())
