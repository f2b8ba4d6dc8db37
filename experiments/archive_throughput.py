"""Throughput of classifying a whole corpus file: streaming (nlpkit predict --input) with 1 and
2 workers beside in-process `nlpkit.predict` on the same texts, run by turns (A, B, C, A, B,
C...) so that the load of a shared machine falls on all alike; optionally Dask too. Prints a
markdown table of the medians and the ratios, and the CPU time each run took (its own and its
worker processes'), which the load of other jobs on a shared machine changes far less than the
time on the clock, and the page faults (pages of memory the kernel had to give); run from the
repository root:

    python experiments/archive_throughput.py ../shared/data/raw_corpus.jsonl \\
        --kind full_article --records 20000 --rounds 3

``--halves`` times two independent one-worker streams beside them, each on half the records:
what two workers could reach if the pool cost nothing.
``--kind`` keeps the records of one ``text_kind`` (the first ``--records`` of them), written to
a temporary file that every run reads.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import nlpkit
from nlpkit import compiled, heap
from nlpkit.batch import predict_file
from nlpkit.text import join_title


def select(corpus: Path, kind: str | None, records: int | None, dest: Path) -> list[str]:
    """Write the chosen records to ``dest``; return their texts as the stream reads them."""
    texts = []
    with corpus.open("rb") as src, dest.open("wb") as out:
        for line in src:
            record = json.loads(line)
            if kind and record.get("text_kind") != kind:
                continue
            out.write(line)
            texts.append(join_title(record.get("title") or "", record["text"]))
            if records and len(texts) >= records:
                break
    return texts


def in_process(texts: list[str]) -> tuple[float, list, tuple[float, ...]]:
    before = _cpu()
    started = time.perf_counter()
    topics = nlpkit.predict(texts)
    seconds, after = time.perf_counter() - started, _cpu()
    return seconds, topics, tuple(a - b for a, b in zip(after, before))


def streaming(
    path: Path, workers: int, core_reader: bool = True, kept_heap: bool = True
) -> tuple[float, list, tuple[float, ...]]:
    # The model loaded once, as for the in-process run: both measure throughput, not loading
    # (which `nlpkit predict` does once per run: `nlpkit.load()` in BENCHMARKS.md). The CPU
    # time is the run's alone, not the reading of its output for the topics afterwards.
    # core_reader False: JSON lines read by orjson, as before the core read them.
    # kept_heap False: malloc's usual settings in this process and the workers, as before
    # nlpkit.heap kept a chunk's memory for the next.
    reader = getattr(compiled.core, "json_lines", None)
    if not core_reader and reader is not None:
        del compiled.core.json_lines
    libc = heap._libc
    if not kept_heap:
        heap._libc = lambda: None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out.jsonl"
            before = _cpu()
            started = time.perf_counter()
            predict_file(path, out, workers=workers, progress=False, predictor=nlpkit._model())
            seconds, after = time.perf_counter() - started, _cpu()
            topics = [json.loads(line).get("topic") for line in out.open(encoding="utf-8")]
    finally:
        heap._libc = libc
        if reader is not None:
            compiled.core.json_lines = reader
    return seconds, topics, tuple(a - b for a, b in zip(after, before))


def halves(paths: list[Path]) -> tuple[float, list, tuple[float, ...]]:
    """Two independent streams, one worker each, each on its half of the records, in two
    processes forked at once: no parent between them and no pipe. What two workers could
    reach if the pool cost nothing; the pool's own ceiling on this machine."""
    import multiprocessing as mp

    context = mp.get_context("fork")
    with tempfile.TemporaryDirectory() as tmp:
        outs = [Path(tmp) / f"out{i}.jsonl" for i in range(len(paths))]
        before = _cpu()
        started = time.perf_counter()
        procs = [
            context.Process(
                target=predict_file,
                args=(path, out),
                kwargs={"workers": 1, "progress": False, "predictor": nlpkit._model()},
            )
            for path, out in zip(paths, outs)
        ]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        seconds, after = time.perf_counter() - started, _cpu()
        if any(proc.exitcode for proc in procs):
            raise SystemExit("a half's stream failed")
        topics = [json.loads(line).get("topic") for out in outs for line in out.open("rb")]
    return seconds, topics, tuple(a - b for a, b in zip(after, before))


def with_dask(path: Path, workers: int) -> tuple[float, list, tuple[float, ...]]:
    import dask.bag as db
    from distributed import Client, LocalCluster

    from nlpkit.dask import predict_partitions

    with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster):
            before = _cpu()
            started = time.perf_counter()
            bag = db.read_text(str(path), blocksize="4MiB").map(json.loads)
            out = predict_partitions(bag, title_column="title").pluck("topic").compute()
            seconds, after = time.perf_counter() - started, _cpu()
            # (the cluster's worker processes are not children that ended: only this one's)
            return seconds, out, tuple(a - b for a, b in zip(after, before))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--kind", help="keep only records of this text_kind (e.g. full_article)")
    parser.add_argument("--records", type=int, help="keep the first N records")
    parser.add_argument("--rounds", type=int, default=3, help="turns of every run (default 3)")
    parser.add_argument("--dask", action="store_true", help="time nlpkit.dask too")
    parser.add_argument(
        "--halves",
        action="store_true",
        help="time two independent one-worker streams too, each on half the records, side by "
        "side: the ceiling of two workers on this machine",
    )
    parser.add_argument(
        "--before",
        action="store_true",
        help="time the streaming with orjson reading the JSON lines too (the compiled core's "
        "reader switched off), as before the core read them",
    )
    parser.add_argument(
        "--usual-malloc",
        action="store_true",
        help="time the streaming with malloc's usual settings too, as before the stream kept a "
        "chunk's freed memory for the next one (nlpkit.heap)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.jsonl"
        texts = select(args.corpus, args.kind, args.records, path)
        nlpkit.predict(texts[:50])  # the model loaded and the core warm, as in a long process
        # (malloc keeps a chunk's freed memory for the next one, as in `nlpkit predict --input`,
        # whose process is nlpkit's own: nlpkit.heap)
        heap.allow()
        runs = {
            "in-process nlpkit.predict": lambda: in_process(texts),
            "streaming, 1 worker": lambda: streaming(path, 1),
            "streaming, 2 workers": lambda: streaming(path, 2),
        }
        if args.before:
            runs["streaming, 1 worker, orjson reader"] = lambda: streaming(path, 1, False)
            runs["streaming, 2 workers, orjson reader"] = lambda: streaming(path, 2, False)
        if args.usual_malloc:
            runs["streaming, 1 worker, usual malloc"] = lambda: streaming(path, 1, kept_heap=False)
            runs["streaming, 2 workers, usual malloc"] = lambda: streaming(path, 2, kept_heap=False)
        if args.halves:
            parts = _halves(path, Path(tmp))
            runs["2 independent streams, half each"] = lambda: halves(parts)
        if args.dask:
            runs["dask, 1 worker"] = lambda: with_dask(path, 1)
            runs["dask, 2 workers"] = lambda: with_dask(path, 2)
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        cpu: dict[str, list[tuple[float, ...]]] = {name: [] for name in runs}
        reference = None
        same = True
        for _ in range(args.rounds):
            for name, run in runs.items():
                took, topics, used = run()
                seconds[name].append(took)
                cpu[name].append(used)
                reference = reference or topics
                same = same and topics == reference
        rate = {name: len(texts) / statistics.median(s) for name, s in seconds.items()}
        print(
            f"{len(texts):,} records ({args.kind or 'all'}, {path.stat().st_size / 1e6:.0f} MB), "
            f"{args.rounds} rounds by turns; load average before/after: {LOAD_BEFORE} / "
            f"{os.getloadavg()[0]:.2f}; cores: {os.cpu_count()}"
        )
        print(
            "\n| run | records/s (median) | each round, s | CPU s, this process (median) "
            "| CPU s, worker processes (median) | page faults (median) |"
            "\n| --- | --- | --- | --- | --- | --- |"
        )
        for name, s in seconds.items():
            own, workers, faults = (statistics.median(c[i] for c in cpu[name]) for i in range(3))
            print(
                f"| {name} | {rate[name]:,.0f} | {', '.join(f'{x:.2f}' for x in s)} "
                f"| {own:.2f} | {workers:.2f} | {faults:,.0f} |"
            )
        one, two = rate["streaming, 1 worker"], rate["streaming, 2 workers"]
        if args.halves:
            print(
                f"\n2 independent streams / 1 worker: "
                f"{rate['2 independent streams, half each'] / one:.2f} (the pool's ceiling)"
            )
        print(
            f"\n1 worker / in-process: {one / rate['in-process nlpkit.predict']:.2f}; "
            f"2 workers / 1 worker: {two / one:.2f}; same topics in every run: {same}"
        )
        # A shared machine's speed drifts over a run; the ratio of each round's own runs,
        # minutes apart at most, is steadier than the ratio of medians taken across rounds.
        for what, a, b in (
            ("1 worker / in-process", "in-process nlpkit.predict", "streaming, 1 worker"),
            ("2 workers / 1 worker", "streaming, 1 worker", "streaming, 2 workers"),
        ):
            each = sorted(x / y for x, y in zip(seconds[a], seconds[b]))
            print(
                f"{what}, round by round: median {statistics.median(each):.2f} "
                f"({each[0]:.2f}-{each[-1]:.2f})"
            )
        if args.usual_malloc:
            one_u = rate["streaming, 1 worker, usual malloc"]
            two_u = rate["streaming, 2 workers, usual malloc"]
            print(
                f"with malloc's usual settings: 1 worker / in-process "
                f"{one_u / rate['in-process nlpkit.predict']:.2f}; 2 workers / 1 worker "
                f"{two_u / one_u:.2f}"
            )
        print(f"(nlpkit {nlpkit.__version__}, {compiled.describe()})")


def _halves(path: Path, folder: Path) -> list[Path]:
    """The records of ``path`` in two files, the first half and the rest."""
    lines = path.read_bytes().splitlines(keepends=True)
    parts = [folder / "first.jsonl", folder / "second.jsonl"]
    middle = len(lines) // 2
    parts[0].write_bytes(b"".join(lines[:middle]))
    parts[1].write_bytes(b"".join(lines[middle:]))
    return parts


def _cpu() -> tuple[float, float, int]:
    """CPU seconds (user + system) of this process, and of its finished child processes; and
    the page faults of both (each one a page of memory the kernel had to give)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (
        own.ru_utime + own.ru_stime,
        children.ru_utime + children.ru_stime,
        own.ru_minflt + children.ru_minflt,
    )


LOAD_BEFORE = f"{os.getloadavg()[0]:.2f}"

if __name__ == "__main__":
    main()
