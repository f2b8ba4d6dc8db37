"""VNTC's 10-section benchmark through `nlpkit train --data`, as a user with a labelled file
would run it, and the peer's training time on the same texts in the same run.

    python experiments/vntc_own_data.py write DIR      # DIR/vntc_train.jsonl, DIR/vntc_test.jsonl
    nlpkit train --data DIR/vntc_train.jsonl --holdout 0 --output DIR/vntc-model
    python experiments/vntc_own_data.py score DIR/vntc-model DIR/vntc_test.jsonl
    python experiments/vntc_own_data.py race DIR      # nlpkit and underthesea-core, in turns
    python experiments/vntc_own_data.py race DIR --other OLD/.venv/bin/python  # and another nlpkit

`write` reads VNTC's records from the corpora (raw_corpus.jsonl and vntc_extra.jsonl in the data
folder: $NLPKIT_DATA_DIR or ../shared/data) and writes the 33,759 `Train_Full` texts and the
50,373 `Test_Full` texts with their section as ``label``, one JSON object a line, outside the
repository (the corpus texts never enter it). The text is the title and body as nlpkit reads a
record (`Record.full_text`), so every system sees the same string.

`race` fits both systems on the training file in one process, by turns (nlpkit, then
underthesea-core's `TextClassifier(max_features=20000, ngram_range=(1, 2))`, ``--rounds``
times), and prints each fit's wall and CPU time and the machine's load. nlpkit's time is the
whole `nlpkit train --data` run (reading, segmentation with an empty cache, features, fit,
writing the model folder) in a child process; the peer's is its `fit` on texts already in memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write(folder: Path) -> None:
    from nlpkit.corpus import default_data_dir, read_corpus

    data = default_data_dir()
    paths = [data / "raw_corpus.jsonl", data / "vntc_extra.jsonl"]
    folder.mkdir(parents=True, exist_ok=True)
    outs = {
        "Train_Full": (folder / "vntc_train.jsonl").open("w", encoding="utf-8"),
        "Test_Full": (folder / "vntc_test.jsonl").open("w", encoding="utf-8"),
    }
    counts = dict.fromkeys(outs, 0)
    for record in read_corpus(paths):
        if record.source_dataset != "vntc" or record.split not in outs:
            continue
        line = {"text": record.full_text, "label": record.source_category}
        outs[record.split].write(json.dumps(line, ensure_ascii=False) + "\n")
        counts[record.split] += 1
    for out in outs.values():
        out.close()
    print(
        f"wrote {counts['Train_Full']:,} training and {counts['Test_Full']:,} test texts to {folder}"
    )


def read(path: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            texts.append(row["text"])
            labels.append(row["label"])
    return texts, labels


def score(model: Path, test: Path) -> None:
    import nlpkit
    from nlpkit.evaluate import classification_metrics

    texts, labels = read(test)
    predictor = nlpkit.load(model)
    started = time.monotonic()
    predicted = predictor.predict(texts)
    seconds = time.monotonic() - started
    m = classification_metrics(labels, predicted, sorted(set(labels)))
    print(
        f"{model}: accuracy {m['accuracy']:.4f}, macro-F1 {m['macro_f1']:.4f} on {m['n']:,} "
        f"texts ({seconds:.0f} s to predict)"
    )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def race(folder: Path, rounds: int, others: list[str]) -> None:
    import underthesea_core

    train = folder / "vntc_train.jsonl"
    texts, labels = read(train)
    # this nlpkit, then each other install's (``--other PYTHON``: its interpreter), then the peer
    pythons = [("nlpkit train --data", sys.executable)]
    pythons += [(f"nlpkit train --data ({python})", python) for python in others]
    for round_ in range(1, rounds + 1):
        for name, python in pythons:
            with tempfile.TemporaryDirectory() as tmp:
                # an empty cache: the work, not a look-up
                env = {**os.environ, "NLPKIT_CACHE_DIR": tmp}
                load = _load()
                started, cpu = time.monotonic(), os.times()
                subprocess.run(
                    [
                        python,
                        "-m",
                        "nlpkit",
                        "train",
                        "--data",
                        str(train.resolve()),
                        "--holdout",
                        "0",
                        "--quiet",
                        "--output",
                        str(Path(tmp) / "model"),
                    ],
                    check=True,
                    env=env,
                    # (outside any checkout: each install imports its own nlpkit)
                    cwd=tmp,
                )
                after = os.times()
                wall = time.monotonic() - started
                child = (after.children_user - cpu.children_user) + (
                    after.children_system - cpu.children_system
                )
                print(
                    f"round {round_}: {name}: {wall:.1f} s wall, {child:.1f} s CPU (load {load})",
                    flush=True,
                )
        load = _load()
        started, cpu = time.monotonic(), time.process_time()
        model = underthesea_core.TextClassifier(max_features=20000, ngram_range=(1, 2))
        model.fit(texts, labels)
        wall, cpu = time.monotonic() - started, time.process_time() - cpu
        print(
            f"round {round_}: underthesea-core TextClassifier.fit: {wall:.1f} s wall, {cpu:.1f} s CPU (load {load})",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("write")
    p.add_argument("folder", type=Path)
    p = sub.add_parser("score")
    p.add_argument("model", type=Path)
    p.add_argument("test", type=Path)
    p = sub.add_parser("race")
    p.add_argument("folder", type=Path)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument(
        "--other",
        action="append",
        default=[],
        metavar="PYTHON",
        help="the interpreter of another nlpkit install (e.g. an older version), timed by turns too",
    )
    args = parser.parse_args()
    if args.command == "write":
        write(args.folder)
    elif args.command == "score":
        score(args.model, args.test)
    else:
        race(args.folder, args.rounds, args.other)


if __name__ == "__main__":
    main()
