"""A model's topic scores blended with a naive Bayes fitted on the same examples, in the model's
own TF-IDF space, scored on the development sample: a bag of words' second opinion, weighed
by how much it counts. Both are linear in the features, so a blend would ship as one linear
model. Never the held-out part.

    python experiments/today/refit.py examples experiments/default.toml EXAMPLES.pkl
    python experiments/today/nb_blend.py EXAMPLES.pkl models/default experiments/default.toml
    python experiments/today/nb_blend.py EXAMPLES.pkl models/default experiments/default.toml \
        --detector

``EXAMPLES.pkl``: the final fit's examples (prepared texts, labels, weights) that
`refit.py examples` keeps. For each weight of the naive Bayes' log-likelihoods beside the
model's scores: the four-topic macro-F1, energy's F1 and five-way accuracy on the development
sample (every era, and the 2025-26 texts apart), and how many of its in-scope texts the blend
answers right where the model alone did not, and the other way. The figures are those of
`experiments/README.md` ("Today's news").
"""

from __future__ import annotations

import argparse
import pickle

import numpy as np
from offsets import DevSample  # (this folder: the script's own)
from sklearn.naive_bayes import ComplementNB, MultinomialNB

import nlpkit
from nlpkit.evaluate import classification_metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("examples")
    parser.add_argument("model")
    parser.add_argument("config")
    parser.add_argument("--kind", choices=["multinomial", "complement"], default="multinomial")
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument(
        "--detector",
        action="store_true",
        help="blend the out-of-scope detector instead (none against any topic), the line between "
        "them set again on the development sample for each weight",
    )
    args = parser.parse_args()
    with open(args.examples, "rb") as f:
        ex = pickle.load(f)
    model = nlpkit.load(args.model)
    topics, features = list(model.topics), model.features.transform
    labels = np.asarray(ex["labels"])
    nb = (MultinomialNB if args.kind == "multinomial" else ComplementNB)(alpha=args.alpha)
    if args.detector:
        if not model.none:
            raise SystemExit(f"{args.model}: no out-of-scope detector")
        is_none = np.where(labels == "none", "none", "topic")
        nb.fit(features(ex["texts"]), is_none, sample_weight=np.asarray(ex["weights"]))
    else:
        scope = np.isin(labels, topics)
        texts = [t for t, s in zip(ex["texts"], scope) if s]
        nb.fit(features(texts), labels[scope], sample_weight=np.asarray(ex["weights"])[scope])

    dev = DevSample(model, args.config)
    joint = np.asarray(nb.predict_joint_log_proba(features(dev.prepared)))
    if args.detector:
        k = list(nb.classes_)
        _detector(dev, joint[:, k.index("none")] - joint[:, k.index("topic")])
        return
    likelihood = joint[:, [list(nb.classes_).index(t) for t in topics]]
    likelihood -= likelihood.max(axis=1, keepdims=True)  # (a row's constant: no answer moves)
    alone, truth, in_scope = dev.said(dev.scores), dev.truth, dev.in_scope
    print(dev.header())
    for weight in (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0):
        moved = dev.scores.copy()
        moved[:, : len(topics)] += weight * likelihood
        said = dev.said(moved)
        right = int(np.sum(in_scope & (alone != truth) & (said == truth)))
        wrong = int(np.sum(in_scope & (alone == truth) & (said != truth)))
        every, today = (dev.figures(moved, among, "energy") for among in (dev.every, dev.today))
        print(
            f"{args.kind} naive Bayes x {weight:g}: all eras {every} | 2025-26 {today} | "
            f"{right} texts right that were wrong, {wrong} the other way"
        )


def _detector(dev: DevSample, odds: np.ndarray) -> None:
    """Five-way accuracy and none's F1 with the naive Bayes's log-odds of none added to the
    detector's score, the line moved to where the development sample's five-way accuracy is
    best for each weight (as the recipe sets it: `tune_none_offset`)."""
    truth, names, today = dev.truth, dev.names, dev.today
    for weight in (0.0, 0.05, 0.1, 0.2, 0.3, 0.5):
        best = None
        for offset in np.round(np.arange(-4.0, 2.0001, 0.25), 2):
            moved = dev.scores.copy()
            moved[:, -1] += weight * odds + offset
            five = np.asarray(names)[dev.model._decide(moved, True)]
            if best is None or np.mean(five == truth) > best[0]:
                best = (np.mean(five == truth), offset, five)
        accuracy, offset, five = best
        f1 = {
            part: classification_metrics(truth[among].tolist(), five[among].tolist(), names)[
                "per_label"
            ]["none"]["f1"]
            for part, among in (("all", dev.every), ("today", today))
        }
        print(
            f"detector + naive Bayes x {weight:g} (offset {offset:+g}): five-way {accuracy:.3f}, "
            f"none F1 {f1['all']:.3f} | 2025-26 five-way {np.mean(five[today] == truth[today]):.3f}"
            f", none F1 {f1['today']:.3f}"
        )


if __name__ == "__main__":
    main()
