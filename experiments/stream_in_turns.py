"""One-shot `nlpkit predict --input` runs of two or more checkouts by turns, each in a fresh
interpreter, as a user runs it: the model loaded and every cache empty at the start.

    python experiments/stream_in_turns.py CHECKOUT_A CHECKOUT_B \\
        --texts headline:20000 title_lead:20000 full_article:20000 [--workers 1 2] [--rounds 5]

``--texts KIND:N`` writes N real texts of each kind (`nlpkit.corpus.sample_texts`, one
``{"text": ...}`` record a line) to a temporary file; ``--input FILE`` streams a file of one's
own.

For each checkout (a folder holding ``nlpkit/``, its compiled core built in place), input file
and number of workers, ``python -m nlpkit predict --input FILE --output TMP --workers N`` runs
with the checkout first on the path; the checkouts take turns, who goes first alternating, so
that the machine's load moves them alike. Medians of the records per second the command's own
summary reports (the stream, from the first record to the last) and of the whole command on
the clock (start-up and model loading included). `experiments/archive_throughput.py` measures
the same streaming in one process with everything warm.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from startup_in_turns import checkout_env as _env  # (this folder: the script's own)


def run(checkout: Path, path: Path, workers: int, out: Path) -> tuple[float, float]:
    env = _env(checkout)
    command = [sys.executable, "-m", "nlpkit", "predict", "--input", str(path)]
    command += ["--output", str(out), "--workers", str(workers)]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=out.parent, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{checkout}: exit {done.returncode}: {done.stderr.strip()}")
    rate = re.search(r"([\d,]+) records/s", done.stderr)
    return float(rate.group(1).replace(",", "")), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="+", type=Path)
    parser.add_argument("--input", nargs="+", type=Path, default=[])
    parser.add_argument("--texts", nargs="+", default=[], metavar="KIND:N")
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    checkouts = [c.resolve() for c in args.checkouts]
    inputs = [p.resolve() for p in args.input]
    folder = Path(tempfile.mkdtemp())
    for spec in args.texts:
        from nlpkit.corpus import sample_texts

        kind, _, n = spec.partition(":")
        path = folder / f"{kind}.jsonl"
        path.write_bytes(
            b"".join(orjson.dumps({"text": t}) + b"\n" for t in sample_texts(kind, int(n)))
        )
        inputs.append(path)
    if not inputs:
        parser.error("give --input or --texts")
    out = folder / "out.jsonl"
    for checkout in checkouts:  # warm-up: bytecode, as after an install
        where = subprocess.run(
            [sys.executable, "-c", "import nlpkit; print(nlpkit.__file__)"],
            env=_env(checkout), cwd=folder, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        if not where.startswith(str(checkout)):
            raise SystemExit(f"{checkout}: the interpreter imports nlpkit from {where}")
        run(checkout, inputs[0], 1, out)
    got: dict[tuple, list[tuple[float, float]]] = {}
    for r in range(args.rounds):
        for path in inputs:
            for workers in args.workers:
                order = checkouts if r % 2 == 0 else checkouts[::-1]
                for checkout in order:
                    got.setdefault((path, workers, checkout), []).append(
                        run(checkout, path, workers, out)
                    )
    print(f"load average after: {os.getloadavg()[0]:.2f}; cores: {os.cpu_count()}")
    print("| input | workers | checkout | stream, records/s | whole command, s |")
    print("| --- | --- | --- | --- | --- |")
    for (path, workers, checkout), runs in got.items():
        rate = statistics.median(r for r, _ in runs)
        seconds = statistics.median(s for _, s in runs)
        print(f"| {path.name} | {workers} | {checkout} | {rate:,.0f} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
