"""Without labels, how right is a model on a feed? Where its probabilities are calibrated, the
mean top probability over a feed's texts estimates its accuracy on them: five ways
(`allow_none=True`) over all of them, and among the four topics over the texts in scope, each
weighed by its probability of being in scope (the detector's). This script sets the estimates
of today's news beside the accuracies measured on the texts of it drawn at random and labelled
by reading: the training part (August 2025 to March 2026) against the development sample's 300
texts at random (`labels/draw.py`, pool ``today_dev``), April 2026 (held out) against its 600
(`at_random.py`); and the estimates of each month. Measurement only: nothing here is chosen.

    python experiments/today/confidence.py ../shared/data/news_2025_26.jsonl models/default
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

import nlpkit
from nlpkit.corpus import is_heldout, read_corpus
from nlpkit.evaluate import read_labels

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "labels"))
from at_random import at_random, scores  # noqa: E402
from draw import _key  # noqa: E402  (the draw's own order: the same texts)

DEV_AT_RANDOM = 300  # the development sample's texts of 2025-26 drawn at random, first


def estimates(model, texts: list[str]) -> tuple[float, float]:
    """The estimated accuracy among the four topics (in scope) and five ways, unlabelled. A
    text's probabilities with ``allow_none`` are its topics' shares of its probability of being
    in scope, so the sum of its best topic's over the feed, divided by the sum of the latter,
    is the mean of its best topic's share weighed by that probability."""
    five = model.predict_proba(texts, allow_none=True)
    best_topic = sum(max(v for k, v in p.items() if k != "none") for p in five)
    in_scope = sum(1.0 - p["none"] for p in five)
    return best_topic / in_scope, float(np.mean([max(p.values()) for p in five]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", help="news_2025_26.jsonl")
    parser.add_argument("model")
    args = parser.parse_args()
    model = nlpkit.load(args.model)
    records = list(read_corpus(args.corpus))
    dev = read_labels(HERE.parent / "labels" / "dev.tsv")
    train = [r for r in records if not is_heldout(r)]
    drawn = sorted(train, key=lambda r: _key(r, "today_dev"))[:DEV_AT_RANDOM]
    if any(r.id not in dev for r in drawn):
        raise SystemExit("the development sample's texts at random are not the draw's")
    parts = [
        ("August 2025 - March 2026", train, [(r, dev[r.id]) for r in drawn], "development"),
        ("April 2026 (held out)", [r for r in records if is_heldout(r)], at_random(args.corpus),
         "held-out"),
    ]  # fmt: skip
    print("| texts | n | estimated: four topics / five ways | labelled at random | measured |")
    print("|---|---|---|---|---|")
    for name, part, sample, kind in parts:
        e4, e5 = estimates(model, [r.full_text for r in part])
        m4, m5 = scores(model, [r.full_text for r, _ in sample], [t for _, t in sample])
        print(
            f"| {name} | {len(part):,} | {e4:.3f} / {e5:.3f} | {len(sample)} {kind} texts "
            f"({m4['n']} of the four) | {m4['accuracy']:.3f} / {m5['accuracy']:.3f} |"
        )
    months: dict[str, list] = defaultdict(list)
    for r in records:
        months[r.date[:7]].append(r.full_text)
    print("\n| month | n | estimated: four topics / five ways |\n|---|---|---|")
    for month in sorted(months):
        e4, e5 = estimates(model, months[month])
        print(f"| {month} | {len(months[month]):,} | {e4:.3f} / {e5:.3f} |")


if __name__ == "__main__":
    main()
