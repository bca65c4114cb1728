"""Run the fuzz tests as a longer campaign: many seeds, more inputs per seed.

    python tools/fuzz.py --seconds 600

runs ``tests/test_fuzz_verifiers.py`` and ``tests/test_fuzz_adapters.py``
round after round, each round with the next seed (``--seed``, ``--seed`` + 1,
...) and ``--examples`` inputs per test, until ``--seconds`` have passed. It
stops at the first failing round and prints the seed that reproduces it:

    WEBHOOKVERIFY_FUZZ_SEED=<seed> WEBHOOKVERIFY_FUZZ_EXAMPLES=<examples> \\
        python -m pytest tests/test_fuzz_verifiers.py tests/test_fuzz_adapters.py

Run from the repository root, with the package importable (installed, or
``PYTHONPATH=src``). Exit status: 0 when every round passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ["tests/test_fuzz_verifiers.py", "tests/test_fuzz_adapters.py"]


def run_round(seed: int, examples: int) -> tuple[bool, int, str]:
    """One pytest run of the fuzz files; (passed, inputs tried, output)."""
    with tempfile.TemporaryDirectory() as scratch:
        count_file = Path(scratch) / "count"
        env = {
            **os.environ,
            "WEBHOOKVERIFY_FUZZ_SEED": str(seed),
            "WEBHOOKVERIFY_FUZZ_EXAMPLES": str(examples),
            "WEBHOOKVERIFY_FUZZ_COUNT_FILE": str(count_file),
        }
        done = subprocess.run(  # noqa: S603 - our own interpreter and test files
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *FILES],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        tried = int(count_file.read_text()) if count_file.exists() else 0
    return done.returncode == 0, tried, done.stdout + done.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="how long to run")
    parser.add_argument("--seed", type=int, default=1, help="the first round's seed")
    parser.add_argument("--examples", type=int, default=2000, help="inputs per test and round")
    args = parser.parse_args(argv)
    start = time.monotonic()
    rounds = executions = 0
    seed = args.seed
    while time.monotonic() - start < args.seconds:
        passed, tried, output = run_round(seed, args.examples)
        rounds += 1
        executions += tried
        if not passed:
            print(output)
            print(
                f"round {rounds} failed: WEBHOOKVERIFY_FUZZ_SEED={seed} "
                f"WEBHOOKVERIFY_FUZZ_EXAMPLES={args.examples}"
            )
            return 1
        elapsed = time.monotonic() - start
        print(f"seed {seed}: passed; {executions} inputs in {elapsed:.0f} s", flush=True)
        seed += 1
    elapsed = time.monotonic() - start
    print(
        f"{rounds} rounds (seeds {args.seed}..{seed - 1}), {executions} inputs, "
        f"{elapsed:.0f} s, no failure"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
