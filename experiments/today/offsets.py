"""A model's answers with one topic's intercept moved, scored on the development sample: does
a topic the recipe over- or under-weighs (energy, the smallest, weighed up by balanced class
weights) gain from a line moved after the fit, as out of scope's is (`tune_none_offset`)?
Never the held-out part.

    python experiments/today/offsets.py models/default experiments/default.toml energy

For each offset of a grid, the four-topic macro-F1, the topic's own F1 and five-way accuracy,
of every era and of the 2025-26 texts apart. The figures are those of `experiments/README.md`
("Today's news").
"""

from __future__ import annotations

import argparse

import numpy as np

import nlpkit
from nlpkit.evaluate import classification_metrics
from nlpkit.training.config import load_config
from nlpkit.training.labels import prepare_records, read_parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("config")
    parser.add_argument("topic")
    parser.add_argument("--low", type=float, default=-2.0)
    parser.add_argument("--high", type=float, default=1.0)
    args = parser.parse_args()
    cfg = load_config(args.config)
    parts = read_parts(cfg)
    dev = parts.dev
    truth = np.asarray([parts.dev_labels[r.id] for r in dev])
    model = nlpkit.load(args.model)
    topics = list(model.topics)
    if args.topic not in topics:
        raise SystemExit(f"{args.topic}: not a topic of {args.model} ({', '.join(topics)})")
    scores = model.scores_prepared(prepare_records(dev, cfg, False))
    names = topics + (["none"] if model.none else [])
    today = np.asarray([r.file == "news_2025_26.jsonl" for r in dev])
    k = topics.index(args.topic)

    def figures(moved: np.ndarray, among: np.ndarray) -> str:
        four = among & np.isin(truth, topics)
        said = np.asarray(topics)[model._decide(moved, False)]
        m = classification_metrics(truth[four].tolist(), said[four].tolist(), topics)
        out = (
            f"macro-F1 {m['macro_f1']:.3f}, {args.topic} F1 {m['per_label'][args.topic]['f1']:.3f}"
        )
        if model.none:
            five = np.asarray(names)[model._decide(moved, True)]
            out += f", five-way {np.mean(five[among] == truth[among]):.3f}"
        return out

    print(f"development sample: {len(dev)} texts, {int(today.sum())} of 2025-26")
    for offset in np.round(np.arange(args.low, args.high + 1e-9, 0.25), 2):
        moved = scores.copy()
        moved[:, k] += offset
        every = figures(moved, np.ones(len(dev), dtype=bool))
        print(f"{args.topic} {offset:+.2f}: all eras {every} | 2025-26 {figures(moved, today)}")


if __name__ == "__main__":
    main()
