"""Throughput of classifying a whole corpus file: streaming (nlpkit predict --input) and Dask,
with 1 and 2 workers. Prints a markdown table; run from the repository root:

    python experiments/archive_throughput.py ../shared/data/vnexpress_2020s.jsonl
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import nlpkit
from nlpkit.batch import predict_file


def streaming(path: Path, workers: int) -> tuple[float, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        started = time.perf_counter()
        predict_file(path, out, workers=workers, progress=False)
        seconds = time.perf_counter() - started
        topics = [json.loads(line).get("topic") for line in out.open(encoding="utf-8")]
    return seconds, topics


def with_dask(path: Path, workers: int) -> tuple[float, list[str]]:
    import dask.bag as db
    from distributed import Client, LocalCluster

    from nlpkit.dask import predict_partitions

    with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster):
            started = time.perf_counter()
            bag = db.read_text(str(path), blocksize="4MiB").map(json.loads)
            out = predict_partitions(bag, title_column="title").pluck("topic").compute()
            return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    args = parser.parse_args()
    reference = None
    print(
        "| engine | workers | records | seconds | records/s | same topics as 1-worker streaming |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for engine, run in (("streaming", streaming), ("dask", with_dask)):
        for workers in (1, 2):
            seconds, topics = run(args.corpus, workers)
            reference = reference or topics
            print(
                f"| {engine} | {workers} | {len(topics):,} | {seconds:.1f} | "
                f"{len(topics) / seconds:,.0f} | {topics == reference} |",
                flush=True,
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process: {peak:.0f} MiB (nlpkit {nlpkit.__version__})")


if __name__ == "__main__":
    main()
