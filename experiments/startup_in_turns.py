"""Start-up of two or more checkouts of nlpkit by turns: fresh interpreters, wall clock.

    python experiments/startup_in_turns.py CHECKOUT_A CHECKOUT_B [...] [--rounds 20]

For each checkout (a folder holding ``nlpkit/``, its compiled core built in place), a fresh
interpreter runs ``python -c pass``, ``import nlpkit``, and ``import nlpkit`` plus a first
prediction, with the checkout first on the path; the checkouts take turns, who goes first
rotating, so that the machine's load moves all of them alike. Medians in ms, the interpreter's
own start (``pass``) subtracted from the two others; bytecode is cached (a warm-up round writes
it), as after an install.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = {
    "pass": "pass",
    "import": "import nlpkit",
    "first_predict": "import nlpkit; nlpkit.predict('Giá xăng tăng 500 đồng')",
}


def run(checkout: Path, code: str) -> float:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "NLPKIT_PURE")
    }
    env["PYTHONPATH"] = str(checkout)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tempfile.gettempdir())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="+", type=Path)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    checkouts = [c.resolve() for c in args.checkouts]
    for checkout in checkouts:  # warm-up: bytecode, and the check that the checkout is used
        where = subprocess.run(
            [
                sys.executable,
                "-c",
                "import nlpkit, nlpkit.compiled as c; print(nlpkit.__file__, c.describe())",
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=tempfile.gettempdir(),
            env={**os.environ, "PYTHONPATH": str(checkout)},
        ).stdout.split()
        if not where[0].startswith(str(checkout)):
            raise SystemExit(f"{checkout}: the interpreter imports nlpkit from {where[0]}")
        print(f"{checkout}: {' '.join(where[1:])}")
        run(checkout, RUNS["first_predict"])
    times = {(c, what): [] for c in checkouts for what in RUNS}
    for r in range(args.rounds):
        for what in RUNS:
            for j in range(len(checkouts)):
                checkout = checkouts[(r + j) % len(checkouts)]
                times[checkout, what].append(run(checkout, RUNS[what]))
    print(f"{'checkout':<40} {'pass':>8} {'import':>8} {'+ first predict':>16}  (median ms, wall)")
    for checkout in checkouts:
        base = statistics.median(times[checkout, "pass"]) * 1e3
        imp = statistics.median(times[checkout, "import"]) * 1e3 - base
        first = statistics.median(times[checkout, "first_predict"]) * 1e3 - base
        print(f"{str(checkout):<40} {base:>8.1f} {imp:>8.1f} {first:>16.1f}")


if __name__ == "__main__":
    main()
