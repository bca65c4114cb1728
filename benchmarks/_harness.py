"""A small harness for benchmarks that report ratios, not seconds.

The machines these run on are shared and noisy, so every benchmark measures
its baseline in the same run, interleaving the candidates round by round, and
reports each candidate's median time per call as a ratio to the baseline.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable

__all__ = ["compare", "report"]


def _loops_for(func: Callable[[], object], target: float) -> int:
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            func()
        elapsed = time.perf_counter() - start
        if elapsed >= target / 4 or loops >= 1 << 24:
            return max(1, int(loops * target / max(elapsed, 1e-9)))
        loops *= 4


def compare(
    candidates: dict[str, Callable[[], object]], *, rounds: int = 21, round_time: float = 0.04
) -> dict[str, float]:
    """Median seconds per call of each candidate, measured in alternation."""
    loops = {name: _loops_for(func, round_time) for name, func in candidates.items()}
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for round_no in range(rounds):
            order = list(candidates.items())
            if round_no % 2:
                order.reverse()
            for name, func in order:
                count = loops[name]
                start = time.perf_counter()
                for _ in range(count):
                    func()
                samples[name].append((time.perf_counter() - start) / count)
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: statistics.median(values) for name, values in samples.items()}


def report(
    title: str, results: dict[str, float], baseline: str, *, second: str | None = None
) -> dict[str, float]:
    """Print each candidate's time and its ratio to ``baseline`` (and, with
    ``second``, to that second baseline too); return the ratios to ``baseline``."""
    base = results[baseline]
    ratios = {name: value / base for name, value in results.items()}
    print(f"\n{title}")
    width = max(len(name) for name in results)
    for name, value in results.items():
        unit, scale = ("us", 1e6) if value < 1e-3 else ("ms", 1e3)
        marker = "  (baseline)" if name == baseline else ""
        extra = ""
        if second is not None and name not in (baseline, second):
            extra = f"  {value / results[second]:6.3f}x vs {second}"
        print(
            f"  {name:<{width}}  {value * scale:10.2f} {unit}  {ratios[name]:6.3f}x{marker}{extra}"
        )
    return ratios
