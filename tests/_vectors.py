"""One small loader per vector format (see tests/vectors/README.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).parent / "vectors"


@cache
def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def wycheproof(name: str) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Yield ``(group, test)`` for every test of a Wycheproof file."""
    data = _load(VECTORS / "wycheproof" / name)
    for group in data["testGroups"]:
        for test in group["tests"]:
            yield group, test


def wycheproof_id(item: tuple[dict[str, Any], dict[str, Any]]) -> str:
    group, test = item
    return f"tc{test['tcId']}-{test['result']}"


def providers(provider: str | None = None) -> list[dict[str, Any]]:
    """Return the provider vectors, all or those of one provider."""
    vectors: list[dict[str, Any]] = _load(VECTORS / "providers" / "providers.json")
    return [v for v in vectors if provider is None or v["provider"] == provider]


def providers_more(preset: str | None = None) -> list[dict[str, Any]]:
    """Return the vectors of ``providers_more.json``, all or those of one preset."""
    vectors: list[dict[str, Any]] = _load(VECTORS / "providers_more.json")
    return [v for v in vectors if preset is None or v["preset"] == preset]


def provider_file(name: str, provider: str | None = None) -> list[dict[str, Any]]:
    """Return the vectors of ``tests/vectors/<name>``, in providers.json's format."""
    vectors: list[dict[str, Any]] = _load(VECTORS / name)
    return [v for v in vectors if provider is None or v["provider"] == provider]


# -- the checks every provider_file() vector set runs --------------------------------

SOURCE_KINDS = (
    "sdk-test",
    "doc",
    "sdk-signed",
    "sdk-verified",
    "self-generated",
    "derived-negative",
)


def check_sources(name: str, counts: dict[str, int]) -> None:
    """Every provider in ``counts`` has that many vectors in ``name``, each with a
    source; only vectors from an SDK's tests or the provider's docs are official."""
    vectors = provider_file(name)
    for provider, count in counts.items():
        assert len(provider_file(name, provider)) == count, provider
    assert len(vectors) == sum(counts.values())
    for vector in vectors:
        assert vector["source"] and vector["source_kind"] in SOURCE_KINDS, vector["id"]
        assert vector["official"] == (vector["source_kind"] in ("sdk-test", "doc")), vector["id"]


def vector_request(vector: dict[str, Any], now: float) -> Any:
    """The request a provider_file() vector describes (received at its ``now``)."""
    from webhookverify import WebhookRequest

    return WebhookRequest(
        method=vector["method"],
        url=vector.get("url", ""),
        headers=vector["headers"],
        body=vector["body"].encode("utf-8"),
        received_at=vector.get("now", now),
    )


def check_vector(verifier: Any, vector: dict[str, Any], now: float, skew: float) -> None:
    """A valid vector verifies under its provider's scheme (its timestamp within
    ``skew`` of the vector's clock); any other is refused with a VerificationError."""
    import pytest

    from webhookverify import VerificationError

    request = vector_request(vector, now)
    if vector["expected"] != "valid":
        with pytest.raises(VerificationError):
            verifier.verify(request, now=vector.get("now"))
        return
    result = verifier.verify(request, now=vector.get("now"))
    assert result.scheme.startswith(vector["provider"].replace("_", "-") + "-")
    if "now" in vector:
        assert result.timestamp is not None
        assert abs(result.timestamp - vector["now"]) <= skew


def multikey() -> dict[str, Any]:
    """The FEP-521a / W3C Multikey material of ``activitypub/multikey.json``, by entry."""
    data: dict[str, Any] = _load(VECTORS / "activitypub" / "multikey.json")
    return data
