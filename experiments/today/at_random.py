"""Score models on the April 2026 texts drawn at random: the first 600 of the held-out sample's
draw (`labels/draw.py`, pool ``today``), before the 150 texts the model shipped then was least
sure of and the 63 of the boundary kinds were added. The whole sample leans on hard texts by
design; these 600 say what a month of today's news looks like.

    python experiments/today/at_random.py ../shared/data/news_2025_26.jsonl \\
        models/default experiments/results/today-without-2025/model
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nlpkit
from nlpkit.corpus import is_heldout, read_corpus
from nlpkit.evaluate import classification_metrics, read_labels

LABELS = Path(__file__).resolve().parents[1] / "labels"
AT_RANDOM = 600


def at_random(corpus: str) -> list:
    """The held-out records the draw took at random, in its order, each with its hand label."""
    sys.path.insert(0, str(LABELS))
    from draw import _key  # the draw's own order, so that the texts are the same ones

    labels = read_labels(LABELS / "heldout.tsv")
    records = [r for r in read_corpus(corpus) if is_heldout(r)]
    drawn = sorted(records, key=lambda r: _key(r, "today"))[:AT_RANDOM]
    missing = [r.id for r in drawn if r.id not in labels]
    if missing:
        raise SystemExit(f"{len(missing)} drawn texts have no hand label, e.g. {missing[0]}")
    return [(r, labels[r.id]) for r in drawn]


def scores(model, texts: list[str], truth: list[str]) -> tuple[dict, dict]:
    """A model's metrics on hand-labelled texts: the four topics on those of the four
    (`predict`), and five ways on all of them (``allow_none=True``)."""
    topics = list(model.topics)
    inside = [i for i, t in enumerate(truth) if t != "none"]
    four = model.predict([texts[i] for i in inside])
    five = ["none" if p is None else p for p in model.predict(texts, allow_none=True)]
    m4 = classification_metrics([truth[i] for i in inside], four, topics)
    return m4, classification_metrics(truth, five, [*topics, "none"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", help="news_2025_26.jsonl")
    parser.add_argument("models", nargs="+", help="model folders")
    args = parser.parse_args()
    drawn = at_random(args.corpus)
    texts = [r.full_text for r, _ in drawn]
    truth = [t for _, t in drawn]
    inside = sum(t != "none" for t in truth)
    print(f"{len(drawn)} texts drawn at random, {inside} of the four topics\n")
    print("| model | macro-F1 | geopolitics F1 | energy F1 | domestic F1 | sports F1 "
          "| five-way accuracy | none F1 |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for folder in args.models:
        model = nlpkit.load(folder)
        m4, m5 = scores(model, texts, truth)
        f1 = [f"{m4['per_label'][t]['f1']:.3f}" for t in model.topics]
        print(
            f"| {folder} | {m4['macro_f1']:.3f} | {' | '.join(f1)} | {m5['accuracy']:.3f} "
            f"| {m5['per_label']['none']['f1']:.3f} |"
        )


if __name__ == "__main__":
    main()
