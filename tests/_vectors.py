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
