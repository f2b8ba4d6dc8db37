"""Two model folders by turns in one process, on the three kinds of text: what a model's
settings (its vocabulary, ``repeat_title``) cost the compiled core.

    python experiments/models_in_turns.py OLD_MODEL NEW_MODEL [--turns 30]

Each model predicts the same texts (`nlpkit.corpus.sample_texts`: 1,000 headlines, 1,000
title + lead texts, 200 full articles) in one call a kind, by turns, who goes first
alternating, so that the load of a shared machine falls on both alike. Prints the median CPU
time per text of each and their ratio (the second model's over the first's).
"""

from __future__ import annotations

import argparse
import statistics
import time

import nlpkit
from nlpkit.corpus import sample_texts

KINDS = {"headline": 1000, "title_lead": 1000, "full_article": 200}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--turns", type=int, default=30)
    args = parser.parse_args()
    models = [nlpkit.load(args.first), nlpkit.load(args.second)]
    print(f"| text | {args.first}, µs a text | {args.second}, µs a text | second / first |")
    print("| --- | --- | --- | --- |")
    for kind, n in KINDS.items():
        texts = sample_texts(kind, n)
        times: list[list[float]] = [[], []]
        for model in models:
            model.predict(texts)  # (the segmenter's cache filled for both alike)
        for turn in range(args.turns):
            for k in (0, 1) if turn % 2 == 0 else (1, 0):
                started = time.process_time()
                models[k].predict(texts)
                times[k].append((time.process_time() - started) / len(texts) * 1e6)
        a, b = (statistics.median(t) for t in times)
        print(f"| {kind} | {a:.2f} | {b:.2f} | {b / a:.3f} |")


if __name__ == "__main__":
    main()
