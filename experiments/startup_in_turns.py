"""Start-up of two or more checkouts of nlpkit by turns, each run in a fresh interpreter.

    python experiments/startup_in_turns.py CHECKOUT_A CHECKOUT_B [...] [--rounds 30]
    python experiments/startup_in_turns.py CHECKOUT_A CHECKOUT_B --texts title_lead:2000

With ``--texts KIND:N``, each interpreter then classifies N real texts of that kind (one list,
`nlpkit.corpus.sample_texts`, read before the clock starts) as its first batch: what a
one-shot run such as ``nlpkit predict --input`` pays while the caches of syllables and words
it meets fill up.

For each checkout (a folder holding ``nlpkit/``, its compiled core built in place), a fresh
interpreter with the checkout first on the path times, from inside, ``import nlpkit`` and then
a first ``nlpkit.predict`` (the shipped model loaded, the segmenter and the model's tables
built), by the CPU-time clock of the process and by the wall clock. The interpreter's own
start is left out: on a machine shared with other work it varies more than all of nlpkit's
start-up. The checkouts take turns, who goes first rotating, so that the machine's load moves
them alike; medians in ms. Bytecode is cached (a warm-up run writes it), as after an install.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CODE = """
import json, sys, time
texts = json.load(open(sys.argv[1], encoding="utf-8")) if len(sys.argv) > 1 else []
c0, w0 = time.process_time(), time.perf_counter()
import nlpkit
c1, w1 = time.process_time(), time.perf_counter()
nlpkit.predict("Giá xăng tăng 500 đồng")
c2, w2 = time.process_time(), time.perf_counter()
nlpkit.predict(texts)
c3, w3 = time.process_time(), time.perf_counter()
from nlpkit import compiled
print(json.dumps([nlpkit.__file__, compiled.describe(), c1 - c0, w1 - w0, c2 - c1, w2 - w1,
                  c3 - c2, w3 - w2]))
"""
MEASURES = ("import, CPU", "import, wall", "first predict, CPU", "first predict, wall")
BATCH = ("first batch, CPU", "first batch, wall")


def checkout_env(checkout: Path) -> dict[str, str]:
    """This environment with ``checkout`` first on the path (and its compiled core, bytecode
    written as after an install): what each run of a checkout gets here and in
    `stream_in_turns.py`."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "NLPKIT_PURE")
    }
    env["PYTHONPATH"] = str(checkout)
    return env


def run(checkout: Path, texts: str | None = None) -> list:
    out = subprocess.run(
        [sys.executable, "-c", CODE, *([texts] if texts else [])],
        check=True,
        env=checkout_env(checkout),
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="+", type=Path)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument(
        "--texts", metavar="KIND:N", help="then classify N texts of KIND as a first batch"
    )
    args = parser.parse_args()
    checkouts = [c.resolve() for c in args.checkouts]
    texts = None
    measures = MEASURES
    if args.texts:
        from nlpkit.corpus import sample_texts

        kind, _, n = args.texts.partition(":")
        texts = str(Path(tempfile.mkdtemp()) / "texts.json")
        with open(texts, "w", encoding="utf-8") as out:
            json.dump(sample_texts(kind, int(n or 1000)), out, ensure_ascii=False)
        measures = MEASURES + BATCH
    for checkout in checkouts:  # warm-up: bytecode, and the check that the checkout is used
        where, path = run(checkout)[:2]
        if not where.startswith(str(checkout)):
            raise SystemExit(f"{checkout}: the interpreter imports nlpkit from {where}")
        print(f"{checkout}: {path}")
    times: dict[Path, list[list[float]]] = {c: [] for c in checkouts}
    for r in range(args.rounds):
        for j in range(len(checkouts)):
            checkout = checkouts[(r + j) % len(checkouts)]
            times[checkout].append(run(checkout, texts)[2 : 2 + len(measures)])
    print(f"{'checkout':<40}" + "".join(f" {m:>20}" for m in measures) + "  (median ms)")
    for checkout in checkouts:
        medians = [
            statistics.median(t[i] for t in times[checkout]) * 1e3 for i in range(len(measures))
        ]
        print(f"{str(checkout):<40}" + "".join(f" {m:>20.1f}" for m in medians))


if __name__ == "__main__":
    main()
