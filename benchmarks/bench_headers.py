"""Building Headers: linear in the number of fields, repeats included.

Run from the repository root:

    .venv/bin/python benchmarks/bench_headers.py

Times ``Headers(pairs)`` for 2,000 and 50,000 repeats of one field in the
same run and reports their ratio: 25 times the fields should cost about 25
times as much (a construction quadratic in repeats, as once shipped, gave
some 600x). Also the time of a typical delivery's 15 distinct fields against
building a plain dict of them, the least any header index costs.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webhookverify import Headers

from benchmarks._harness import compare, report

TYPICAL = [
    ("Host", "hooks.example.com"),
    ("User-Agent", "GitHub-Hookshot/abc1234"),
    ("Accept", "*/*"),
    ("Content-Type", "application/json"),
    ("Content-Length", "1024"),
    ("X-GitHub-Event", "push"),
    ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
    ("X-GitHub-Hook-ID", "292430182"),
    ("X-GitHub-Hook-Installation-Target-ID", "79929171"),
    ("X-GitHub-Hook-Installation-Target-Type", "repository"),
    ("X-Hub-Signature", "sha1=7d38cdd689735b008b3c702edd92eea23791c5f6"),
    ("X-Hub-Signature-256", "sha256=" + "d57c68ca6f92289e6987922ff26938930f6e66a2d1" * 2),
    ("X-Forwarded-For", "192.0.2.1"),
    ("X-Forwarded-Proto", "https"),
    ("Accept-Encoding", "gzip"),
]


def main() -> int:
    small = [("X-A", "1")] * 2_000
    large = [("X-A", "1")] * 50_000
    results = compare(
        {"2,000 repeats": lambda: Headers(small), "50,000 repeats": lambda: Headers(large)},
        rounds=7,
        round_time=0.2,
    )
    ratios = report("Headers of one repeated field", results, "2,000 repeats")
    scaling = ratios["50,000 repeats"]
    print(f"  25x the fields cost {scaling:.1f}x (linear: about 25x; quadratic: some 600x)")
    report(
        "A typical delivery's 15 fields",
        compare(
            {
                "dict of the fields": lambda: {n.lower(): v for n, v in TYPICAL},
                "Headers": lambda: Headers(TYPICAL),
            }
        ),
        "dict of the fields",
    )
    return 0 if scaling < 100 else 1


if __name__ == "__main__":
    sys.exit(main())
