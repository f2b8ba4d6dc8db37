"""Calibration: the temperature that turns a linear classifier's margins into probabilities.

A linear SVM's margins (or SGD's) are not log-probabilities; softmax(T * margins) is, for the T
with the least log-loss (against Platt's targets: `fit_temperature`) on texts the margins'
model was not fitted on. `nlpkit.training.fit` fits a second model on nine tenths of the
training texts (`calibration_split`) and reads T off its margins on the last tenth
(`temperature`); the clean-up reads its own the same way. A
recipe with a development sample may read T off that instead (`tuning.tune_temperature`), and
`calibration_figures` says how near the probabilities are to the answers' rightness.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

__all__ = ["fit_temperature", "calibration_split", "temperature", "calibration_figures"]


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The temperature T for which softmax(T * scores) has the least log-loss on (scores, y),
    against Platt's targets rather than certainty: the true class (n + 1) / (n + k) of n
    texts and k classes, the others 1 / (n + k) each. A calibration sample the model answers
    all right (the tenth of a small file) has no finite optimum against certainty: the loss
    falls as T grows, and every answer, a wrong one too, got a probability of 1. Against
    these targets a few hundred texts can only say so much; thousands say nearly what
    certainty would."""
    n, k = scores.shape
    other = 1.0 / (n + k)
    extra = (n + 1.0) / (n + k) - other  # (the true class's target, above the others')
    best, best_loss = 1.0, np.inf
    for t in np.logspace(-1, 2.5, 71):
        z = t * scores
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -(extra * log_p[np.arange(len(y)), y] + other * log_p.sum(axis=1)).mean()
        if loss < best_loss:
            best, best_loss = float(t), loss
    return best


def calibration_figures(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """How well probabilities (a row a text) match the answers' rightness, ``y`` the true
    column of each row: log-loss, the expected calibration error (the top probability against
    the share of right answers, in ``bins`` equal bins of the top probability, weighed by
    their texts) and the mean top probability beside the accuracy."""
    if not len(y):
        return {"n": 0}
    top, right = probs.max(axis=1), probs.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    # (a top probability of exactly 1 in the last bin)
    which = np.clip(np.searchsorted(edges, top, side="right") - 1, 0, bins - 1)
    ece = sum(
        abs(top[b].mean() - right[b].mean()) * b.mean()
        for k in range(bins)
        if (b := which == k).any()
    )
    p_true = np.clip(probs[np.arange(len(y)), y], 1e-15, 1.0)
    return {
        "n": len(y),
        "log_loss": round(float(-np.log(p_true).mean()), 4),
        "ece": round(float(ece), 4),
        "mean_top_probability": round(float(top.mean()), 4),
        "accuracy": round(float(right.mean()), 4),
    }


def calibration_split(labels: list[str], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The nine tenths a calibration model is fitted on and the tenth it is scored on:
    stratified, seeded. With fewer than ten texts of a label, scikit-learn's ten folds would
    warn (or refuse, when every label has so few): then a tenth of each label's texts, at
    least one of a label that has two or more, none of a label that has one."""
    counts = Counter(labels)
    if min(counts.values()) >= 10:
        return next(
            StratifiedKFold(10, shuffle=True, random_state=seed).split(
                np.zeros(len(labels)), labels
            )
        )
    rng = np.random.default_rng(seed)
    y = np.asarray(labels)
    cal = [
        rng.permutation(idx)[: max(1, round(len(idx) / 10))]
        for label in sorted(counts)
        if len(idx := np.flatnonzero(y == label)) >= 2
    ]
    cal_idx = np.sort(np.concatenate(cal)) if cal else np.zeros(0, dtype=np.int64)
    return np.setdiff1d(np.arange(len(labels)), cal_idx), cal_idx


def temperature(
    coef: np.ndarray,
    intercept: np.ndarray,
    classes: list[str],
    X: Any,
    labels: list[str],
    cal_idx: np.ndarray,
) -> float:
    """The temperature of a linear model (``coef``, ``intercept``: a row per class of
    ``classes``) read off its margins on the rows ``cal_idx`` of ``X``."""
    # (a label too rare to be in the nine tenths has no score to calibrate)
    scored = [i for i in cal_idx if labels[i] in classes]
    scores = np.asarray(X[scored] @ coef.T) + intercept
    return fit_temperature(scores, np.asarray([classes.index(labels[i]) for i in scored]))
