"""An ``apple_app_store`` verifier on a chain made here, for the tests that run every preset."""

from __future__ import annotations

import functools
from typing import Any

from webhookverify import Secret, presets
from webhookverify.presets._apple import AppleAppStoreVerifier
from webhookverify.testing import make_apple_test_chain as make_test_chain

# The chain is valid a year either side of the tests' clock (NOW = 1.7e9).
_SPAN = (1_700_000_000.0 - 365 * 86400, 1_700_000_000.0 + 365 * 86400)
PAYLOAD: dict[str, Any] = {
    "notificationType": "TEST",
    "notificationUUID": "0b7d3f4e-8c1a-4f55-9d3e-2a6b5c7d8e9f",
    "data": {"bundleId": "com.example", "appAppleId": 1234, "environment": "Production"},
}


@functools.cache
def apple_verifier(name: str = "Test") -> AppleAppStoreVerifier:
    """A verifier trusting one test chain (``name`` makes another), able to sign with it."""
    chain = make_test_chain(not_before=_SPAN[0], not_after=_SPAN[1], name=name)
    return presets.apple_app_store(
        bundle_id="com.example",
        app_apple_id=1234,
        root_certificates=[Secret(chain.root, key_id="test-root")],
        signing_keys={"test-root": (chain.leaf_key, [chain.leaf, chain.intermediate, chain.root])},
    )
