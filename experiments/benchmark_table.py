"""Turn a pytest-benchmark JSON file into the tables of BENCHMARKS.md, with ratios measured in
the same run. Run from the repository root:

    pytest tests/benchmarks --benchmark-only --benchmark-json=bench.json
    python experiments/benchmark_table.py bench.json
"""

from __future__ import annotations

import json
import sys

# (ours, baseline, what one call does, texts per call)
PAIRS = [
    ("test_nlpkit_780", "test_pyvi_780", "segment one 780-character text", 1),
    ("test_nlpkit_100k", "test_pyvi_100k", "segment one 100,000-character text", 1),
    (
        "test_single_predict_nlpkit",
        "test_single_predict_plain_pipeline",
        "predict one 780-character text",
        1,
    ),
    (
        "test_batch_predict_nlpkit",
        "test_batch_predict_plain_pipeline",
        "predict a batch of 200 texts",
        200,
    ),
]


def main(path: str) -> None:
    data = json.load(open(path, encoding="utf-8"))
    stats = {b["name"]: b["stats"] for b in data["benchmarks"]}
    machine = data["machine_info"]
    print(
        f"Machine: {machine.get('cpu', {}).get('brand_raw', machine.get('processor', '?'))}, "
        f"{machine.get('cpu', {}).get('count', '?')} cores, Python {machine['python_version']}; "
        f"{data['datetime'][:10]}.\n"
    )
    print("| what | nlpkit median | plain median | plain / nlpkit | nlpkit texts/s |")
    print("| --- | --- | --- | --- | --- |")
    for ours, base, what, n in PAIRS:
        if ours in stats and base in stats:
            a, b = stats[ours]["median"], stats[base]["median"]
            print(f"| {what} | {a * 1e3:.3f} ms | {b * 1e3:.3f} ms | {b / a:.1f}× | {n / a:,.0f} |")
    print("\n| other | median | texts/s |")
    print("| --- | --- | --- |")
    for name, stat in sorted(stats.items()):
        if name.startswith(("test_large", "test_model_load")):
            per = 4000 if "large" in name else 0
            rate = f"{per / stat['median']:,.0f}" if per else "–"
            print(f"| {name.removeprefix('test_')} | {stat['median'] * 1e3:.1f} ms | {rate} |")


if __name__ == "__main__":
    main(sys.argv[1])
