"""Presets checked against the providers' own code: vectors their SDKs (or, for
Sentry, its reference integration) signed or judged
(tests/vectors/providers_oracles.json, sources in tests/vectors/README.md).

Each vector records the verdict the provider's SDK gave (``sdk_verdict``); the
preset must give the same one, and a delivery it accepts is a duplicate the
second time (or, where nothing is signed, is never keyed).
"""

from __future__ import annotations

from typing import Any

import pytest

from webhookverify import EventBus, Handler, HandlerRegistry, Receiver, presets
from webhookverify.replay import MemoryReplayStore

from _vectors import check_sources, check_vector, provider_file, vector_request
from contract import NOW

FILE = "providers_oracles.json"
VECTORS = provider_file(FILE)


def preset_for(vector: dict[str, Any]) -> Any:
    """The preset of the vector's provider, with the vector's key material."""
    make = getattr(presets, vector["provider"])
    keys: dict[str, Any] = {}
    if "secrets" in vector:
        keys["secrets"] = vector["secrets"]
    else:
        keys["secret"] = vector["secret"]
    if "username" in vector:
        keys["username"] = vector["username"]
    return make(**keys)


def test_every_provider_has_its_vectors_with_a_source() -> None:
    check_sources(
        FILE,
        {
            "linear": 7,
            "shopify": 4,
            "webflow": 4,
            "chargebee": 4,
            "intuit": 3,
            "mollie": 7,
            "help_scout": 4,
            "lemon_squeezy": 4,
            "sentry": 5,
        },
    )
    for vector in VECTORS:
        if "sdk_verdict" not in vector:
            # a test suite's own vector (and one broken from it): the verdict is the test's
            assert vector["source_kind"] in ("sdk-test", "derived-negative"), vector["id"]
            continue
        verdict = vector["sdk_verdict"]
        assert vector["expected"] == ("valid" if verdict == "valid" else "invalid"), vector["id"]
    for provider in {v["provider"] for v in VECTORS}:
        kinds = {v["expected"] for v in VECTORS if v["provider"] == provider}
        assert kinds == {"valid", "invalid"}, provider


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["id"])
def test_preset_gives_the_sdk_verdict(vector: dict[str, Any]) -> None:
    check_vector(preset_for(vector), vector, NOW, 10)  # signed 4-5 s before `now`


@pytest.mark.parametrize(
    "vector", [v for v in VECTORS if v["expected"] == "valid"], ids=lambda v: v["id"]
)
def test_accepted_vector_is_a_duplicate_the_second_time(vector: dict[str, Any]) -> None:
    verifier = preset_for(vector)
    bus = EventBus()
    seen: list[bytes] = []
    bus.bind("webhook.received", lambda delivery: seen.append(delivery.body))
    receiver = Receiver(
        HandlerRegistry([Handler("sender", verifier)]), bus, replay_store=MemoryReplayStore()
    )
    now = vector.get("now", NOW)
    reasons = [receiver.receive(vector_request(vector, now), now=now).reason for _ in range(2)]
    if verifier.replay_default == "off":
        # nothing is signed (HTTP Basic): no key can tell two deliveries apart
        assert reasons == ["accepted", "accepted"]
    else:
        assert reasons == ["accepted", "duplicate"]
    assert seen[0] == vector["body"].encode("utf-8")
