"""Label clean-up: weak labels that the rest of the data contradicts with confidence are
dropped or relabelled, before the model is fitted on them."""

from __future__ import annotations

import warnings
from collections import Counter
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from ..predictor import softmax
from .calibration import fit_temperature
from .fit import build_features
from .parallel import fork_map
from .progress import Progress

__all__ = ["clean_labels"]


def clean_labels(
    texts: list[str],
    labels: list[str],
    weights: np.ndarray,
    cfg: dict[str, Any],
    protected: np.ndarray | None = None,
) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """One round of label clean-up: a linear SVM's cross-validated probabilities find the weak
    labels the rest of the data contradicts with confidence of at least
    ``data.cleanup_threshold``; those records are dropped or relabelled (``data.cleanup``),
    except the ``protected`` ones. Returns the indices kept, their labels, and what was done."""
    d = cfg["data"]
    features = build_features(cfg)
    X = features.fit_transform(texts)
    topics = sorted(set(labels))
    y = np.asarray([topics.index(t) for t in labels])
    scores = np.zeros((len(texts), len(topics)))
    folds = list(StratifiedKFold(5, shuffle=True, random_state=cfg["seed"]).split(X, labels))

    def fold_scores(fold: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        train_idx, test_idx = fold
        # The dual solver (coordinate descent), at liblinear's own tolerance for it, 0.1.
        # With more texts than terms scikit-learn would take the primal one, whose steps add
        # with the machine's BLAS, so that where it stops depends on the processor: on the
        # shipped recipe's first fold another processor's BLAS kernels changed 254 answers
        # (margins up to 0.33 apart). The dual one adds nothing with BLAS and ends nearer the
        # optimum, but takes longer: the shipped recipe's clean-ups 137 s and 168 s where
        # they took 77 s and 99 s (docs/training.md, "Is a rebuilt model the same model?").
        clf = LinearSVC(
            C=0.5, class_weight="balanced", random_state=cfg["seed"], tol=0.1, dual=True
        )
        with warnings.catch_warnings():
            # With hand labels weighing hundreds of weak ones, a fold may stop at liblinear's
            # iteration limit: its margins only rank which weak labels to change, and the
            # recipe's figures were measured with the folds as they stop. A warning per fold
            # (from a forked process, past the command's own reporting) tells a user nothing
            # they can act on.
            warnings.filterwarnings("ignore", category=ConvergenceWarning)
            clf.fit(X[train_idx], y[train_idx], sample_weight=weights[train_idx])
        return clf.decision_function(X[test_idx])

    # The folds are independent: in as many processes as the config allows.
    for (_, test_idx), part in zip(folds, fork_map(fold_scores, folds, cfg["n_jobs"], 2)):
        scores[test_idx] = part
    probs = softmax(fit_temperature(scores, y) * scores)
    predicted = probs.argmax(axis=1)
    suspect = (predicted != y) & (probs.max(axis=1) >= d["cleanup_threshold"])
    if protected is not None:
        suspect &= ~protected
    changes = Counter(f"{labels[i]}->{topics[predicted[i]]}" for i in np.flatnonzero(suspect))
    if d["cleanup"] == "drop":
        keep = np.flatnonzero(~suspect)
        new_labels = [labels[i] for i in keep]
    else:
        keep = np.arange(len(texts))
        new_labels = [topics[predicted[i]] if suspect[i] else labels[i] for i in keep]
    return (
        keep,
        new_labels,
        {
            "mode": d["cleanup"],
            "changed": int(suspect.sum()),
            "changes": dict(changes.most_common()),
        },
    )


def clean_up(
    texts: list[str],
    labels: list[str],
    weights: np.ndarray,
    sources: list[str],
    cfg: dict[str, Any],
    progress: Progress | None = None,
) -> tuple[list[str], list[str], np.ndarray, dict[str, Any] | None]:
    """The config's rounds of clean-up over the training examples (``sources``: what decided
    each label); returns the texts, labels and weights kept, and what was changed."""
    d = cfg["data"]
    if d["cleanup"] == "none":
        return texts, labels, weights, None
    # Hand labels (and a user's labels) are the truth; with scope "section", so are the
    # boundary rules' labels: clean-up is for the noise of section hints.
    scope = d["cleanup_scope"]
    protected = np.asarray(
        [src in ("hand", "file") or (scope == "section" and src != "section") for src in sources]
    )
    step = (progress or Progress()).step("clean-up")
    changed: Counter = Counter()
    cleanup: dict[str, Any] = {}
    for done in range(d["cleanup_rounds"]):
        step(done, d["cleanup_rounds"])
        keep, labels, cleanup = clean_labels(texts, labels, weights, cfg, protected)
        texts, weights, protected = [texts[i] for i in keep], weights[keep], protected[keep]
        changed.update(cleanup["changes"])
    step(d["cleanup_rounds"], d["cleanup_rounds"])
    cleanup["changes"] = dict(changed.most_common(12))
    cleanup["changed"] = sum(changed.values())
    return texts, labels, weights, cleanup
