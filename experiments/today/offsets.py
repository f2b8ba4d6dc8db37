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

TODAY = "news_2025_26.jsonl"  # the corpus file of today's news


class DevSample:
    """The development sample as ``model`` scores it, and its figures for scores moved: what
    this script and `nb_blend.py` share."""

    def __init__(self, model, config: str):
        cfg = load_config(config)
        parts = read_parts(cfg)
        self.model, self.records = model, parts.dev
        self.truth = np.asarray([parts.dev_labels[r.id] for r in self.records])
        self.prepared = prepare_records(self.records, cfg, False)
        self.scores = model.scores_prepared(self.prepared)
        self.topics = list(model.topics)
        self.names = self.topics + (["none"] if model.none else [])
        self.every = np.ones(len(self.records), dtype=bool)
        self.today = np.asarray([r.file == TODAY for r in self.records])
        self.in_scope = np.isin(self.truth, self.topics)

    def said(self, scores: np.ndarray) -> np.ndarray:
        """The four-topic answer of each text."""
        return np.asarray(self.topics)[self.model._decide(scores, False)]

    def figures(self, scores: np.ndarray, among: np.ndarray, topic: str) -> str:
        """Four-topic macro-F1, ``topic``'s F1 and five-way accuracy of the texts ``among``."""
        four = among & self.in_scope
        m = classification_metrics(
            self.truth[four].tolist(), self.said(scores)[four].tolist(), self.topics
        )
        out = f"macro-F1 {m['macro_f1']:.3f}, {topic} F1 {m['per_label'][topic]['f1']:.3f}"
        if self.model.none:
            five = np.asarray(self.names)[self.model._decide(scores, True)]
            out += f", five-way {np.mean(five[among] == self.truth[among]):.3f}"
        return out

    def header(self) -> str:
        return f"development sample: {len(self.records)} texts, {int(self.today.sum())} of 2025-26"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("config")
    parser.add_argument("topic")
    parser.add_argument("--low", type=float, default=-2.0)
    parser.add_argument("--high", type=float, default=1.0)
    args = parser.parse_args()
    model = nlpkit.load(args.model)
    if args.topic not in model.topics:
        raise SystemExit(f"{args.topic}: not a topic of {args.model} ({', '.join(model.topics)})")
    dev = DevSample(model, args.config)
    k = dev.topics.index(args.topic)
    print(dev.header())
    for offset in np.round(np.arange(args.low, args.high + 1e-9, 0.25), 2):
        moved = dev.scores.copy()
        moved[:, k] += offset
        every, today = (dev.figures(moved, among, args.topic) for among in (dev.every, dev.today))
        print(f"{args.topic} {offset:+.2f}: all eras {every} | 2025-26 {today}")


if __name__ == "__main__":
    main()
