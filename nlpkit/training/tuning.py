"""Tuning a fitted model on the development sample: the temperature of its topic
probabilities and the line between out of scope and the topics, each set where the sample's
texts are best answered (`classifier.tune_temperature`, `classifier.tune_none_offset`).

Texts come in prepared (`nlpkit.cache.prepare_many`); the `Predictor` is changed in place.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..predictor import Predictor, softmax
from .calibration import calibration_figures, fit_temperature

__all__ = ["tune_temperature", "tune_none_offset"]


def tune_temperature(predictor: Predictor, texts: list[str], truth: list[str]) -> dict[str, Any]:
    """Set the temperature of ``predictor``'s topic probabilities to the one with the least
    log-loss (against Platt's targets, `fit_temperature`) on the in-scope texts of the
    prepared ``texts`` (the development sample): a model that fits its training texts closely
    (weighed examples, a naive Bayes blended in) can be surer of its answers than it is right,
    and the topic probabilities are what a caller sets a threshold on. The answers among the
    topics do not change; with none, the line between it and the topics moves
    (`tune_none_offset`, after this, sets it again). Changes ``predictor`` in place; returns the
    temperature and the sample's calibration before and after (`calibration_figures`)."""
    topics = list(predictor.topics)
    keep = [i for i, t in enumerate(truth) if t in topics]
    if len({truth[i] for i in keep}) < 2:
        raise ValueError(
            "tuning the temperature needs in-scope texts of two topics or more in the "
            "development sample (data.dev_labels)"
        )
    scores = predictor.scores_prepared([texts[i] for i in keep])[:, : len(topics)]
    y = np.asarray([topics.index(truth[i]) for i in keep])
    before = calibration_figures(softmax(predictor.temperature * scores), y)
    chosen = fit_temperature(scores, y)
    predictor.temperature = chosen
    return {
        "temperature": round(chosen, 4),
        "n": len(keep),
        "before": before,
        "after": calibration_figures(softmax(chosen * scores), y),
    }


def tune_none_offset(predictor: Predictor, texts: list[str], truth: list[str]) -> dict[str, Any]:
    """Move the line between out of scope and the topics to where the prepared ``texts`` (the
    development sample) are best answered five ways: the offset added to none's intercept is
    the middle of the best run of a grid from -4 to 2 (a plateau's middle, not its edge).
    Changes ``predictor`` in place; returns the chosen offset and the accuracies seen."""
    if not predictor.none:
        raise ValueError("a none offset needs a model with out of scope (data.out_of_scope)")
    if not texts:
        raise ValueError("tuning the none offset needs the development sample (data.dev_labels)")
    scores = predictor.scores_prepared(texts)
    names = list(predictor.topics) + ["none"]
    target = np.asarray([names.index(t) if t in names else -1 for t in truth])
    grid = np.round(np.arange(-4.0, 2.0001, 0.25), 2)
    accuracy = []
    for offset in grid:
        moved = scores.copy()
        moved[:, -1] += offset
        accuracy.append(float(np.mean(predictor._decide(moved, True) == target)))
    best = max(accuracy)
    top = [i for i, a in enumerate(accuracy) if a == best]
    # The longest run of best offsets, and its middle.
    runs: list[list[int]] = []
    for i in top:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    run = max(runs, key=len)
    chosen = float(grid[run[len(run) // 2]])
    intercept = predictor.intercept.copy()
    intercept[-1] += chosen
    predictor.intercept = intercept
    return {
        "offset": chosen,
        "dev_five_way_accuracy": round(best, 4),
        "n": len(texts),
        "grid": {f"{o:g}": round(a, 4) for o, a in zip(grid, accuracy)},
    }
