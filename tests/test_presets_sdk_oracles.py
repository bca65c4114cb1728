"""Discord's own library as an oracle for the ``discord`` preset, both ways.

``discord_interactions.verify_key`` (discord/discord-interactions-python, the
library Discord publishes for interaction endpoints) verifies; it has no
signing function. What the preset signs, the library accepts; on requests
tampered in one place (body, timestamp, signature, key), the library's verdict
and the preset's are the same.
"""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhookverify import VerificationError, WebhookRequest, presets

from contract import NOW

discord_interactions = pytest.importorskip("discord_interactions")

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
SEEDS = st.binary(min_size=32, max_size=32)
TAMPER = st.sampled_from([None, "body", "timestamp", "signature", "key"])


def discord_verdict(body: bytes, signature: str, timestamp: str, public_key: str) -> bool:
    # verify_key prints the exception of a refused signature: keep the output clean
    with contextlib.redirect_stdout(io.StringIO()):
        return bool(discord_interactions.verify_key(body, signature, timestamp, public_key))


def public_hex(seed: bytes) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


@PROPERTY
@given(
    seed=SEEDS,
    other=SEEDS,
    body=st.binary(max_size=500),
    drift=st.integers(-290, 290),
    tamper=TAMPER,
)
def test_discord_library_and_preset_agree(
    seed: bytes, other: bytes, body: bytes, drift: int, tamper: str | None
) -> None:
    stamp = int(NOW) + drift
    public = public_hex(seed)
    signer = presets.discord(public_key=public, private_key=seed)
    headers = dict(signer.sign(body, now=stamp))
    assert discord_verdict(body, headers["X-Signature-Ed25519"], str(stamp), public)
    received, key = body, public
    if tamper == "body":
        received = body + b"\x00"
    elif tamper == "timestamp":
        headers["X-Signature-Timestamp"] = str(stamp + 1)
    elif tamper == "signature":
        sig = bytearray.fromhex(headers["X-Signature-Ed25519"])
        sig[drift % 64] ^= 0x01
        headers["X-Signature-Ed25519"] = sig.hex()
    elif tamper == "key" and other != seed:
        key = public_hex(other)
    theirs = discord_verdict(
        received, headers["X-Signature-Ed25519"], headers["X-Signature-Timestamp"], key
    )
    request = WebhookRequest(headers=headers, body=received)
    try:
        presets.discord(public_key=key).verify(request, now=NOW)
        ours = True
    except VerificationError:
        ours = False
    assert ours is theirs is (tamper is None or (tamper == "key" and other == seed))
