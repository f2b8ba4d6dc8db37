"""Fitting: TF-IDF features and a linear classifier on labelled texts, probabilities
calibrated, and cross-validation of the same fit.

Texts come in prepared (normalised and segmented, `nlpkit.cache.prepare_many`); a `Predictor`
comes out. Every random choice takes the config's seed.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from ..evaluate import classification_metrics
from ..features import TfidfFeatures
from ..predictor import Predictor
from ..topics import NONE, TOPICS
from .progress import Progress

__all__ = [
    "build_features",
    "build_classifier",
    "fit",
    "fit_temperature",
    "cross_validate",
    "tune_none_offset",
]

_MARGIN_CLASSIFIERS = ("linear_svc", "sgd")


def build_features(cfg: dict[str, Any]) -> TfidfFeatures:
    f = cfg["features"]
    return TfidfFeatures(
        ngram_range=tuple(f["ngram_range"]),
        min_df=f["min_df"],
        max_df=f["max_df"],
        max_features=f["max_features"] or None,
        sublinear_tf=f["sublinear_tf"],
    )


def build_classifier(cfg: dict[str, Any]):
    c, seed = cfg["classifier"], cfg["seed"]
    common = {
        "max_iter": c["max_iter"],
        "class_weight": c["class_weight"] or None,
        "random_state": seed,
        **({"tol": c["tol"]} if c["tol"] else {}),
    }
    if c["kind"] == "logistic_regression":
        return LogisticRegression(C=c["C"], **common)
    if c["kind"] == "linear_svc":
        return LinearSVC(C=c["C"], **common)
    if c["kind"] == "sgd":
        return SGDClassifier(alpha=c["alpha"], **common)
    return ComplementNB(alpha=c["alpha"])


def linear_parts(clf, topics: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Weights and intercepts of a fitted linear classifier, one row per topic in ``topics``."""
    classes = list(clf.classes_)
    if isinstance(clf, ComplementNB):
        # Complement NB scores are X @ feature_log_prob_.T; its predict_proba is their softmax.
        coef, intercept = clf.feature_log_prob_, np.zeros(len(classes))
    else:
        coef, intercept = clf.coef_, np.atleast_1d(clf.intercept_)
        if len(classes) == 2:  # scikit-learn keeps one row for two classes
            coef, intercept = (
                np.vstack([-coef[0], coef[0]]),
                np.array([-intercept[0], intercept[0]]),
            )
    order = [classes.index(t) for t in topics]
    return np.asarray(coef)[order], np.asarray(intercept)[order]


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The temperature T for which softmax(T * scores) has the least log-loss on (scores, y)."""
    best, best_loss = 1.0, np.inf
    for t in np.logspace(-1, 2.5, 71):
        z = t * scores
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -log_p[np.arange(len(y)), y].mean()
        if loss < best_loss:
            best, best_loss = float(t), loss
    return best


def _convergence(name: str, clf: Any, cfg: dict[str, Any]) -> dict[str, Any]:
    """How the solver of a fitted classifier ended: its iterations, and whether it stopped
    because it converged rather than at the iteration limit."""
    n_iter = getattr(clf, "n_iter_", None)
    if n_iter is None:  # complement NB: counted in closed form
        return {"model": name, "iterations": 0, "converged": True}
    iterations = int(np.max(n_iter))
    return {
        "model": name,
        "iterations": iterations,
        "converged": iterations < cfg["classifier"]["max_iter"],
    }


def _temperature(X: Any, labels: list[str], weights: np.ndarray, cfg: dict[str, Any]) -> float:
    """Margins are not log-probabilities: the temperature that makes them so, fitted on a
    tenth of the training data with a model fitted on the rest (then kept for the model
    fitted on everything)."""
    train_idx, cal_idx = next(
        StratifiedKFold(10, shuffle=True, random_state=cfg["seed"]).split(
            np.zeros(len(labels)), labels
        )
    )
    # The temperature is read off a grid 12% a step: a looser stop of the solver moves the
    # margins by less than that. On VNTC the same temperature with liblinear's own default
    # stop (0.1: 19 iterations) as with scikit-learn's (1e-4: 55), and 20% less time than 1e-2.
    part = build_classifier(cfg)
    loose = 1e-1 if cfg["classifier"]["kind"] == "linear_svc" else 1e-2
    part.set_params(tol=max(cfg["classifier"]["tol"], loose))
    part.fit(X[train_idx], [labels[i] for i in train_idx], sample_weight=weights[train_idx])
    known = [str(c) for c in part.classes_]
    coef, intercept = linear_parts(part, known)
    # (a label too rare to be in the nine tenths has no score to calibrate)
    scored = [i for i in cal_idx if labels[i] in known]
    scores = np.asarray(X[scored] @ coef.T) + intercept
    return fit_temperature(scores, np.asarray([known.index(labels[i]) for i in scored]))


_SHARED: tuple | None = None


def _shared_temperature() -> float:
    assert _SHARED is not None
    return _temperature(*_SHARED)


class _Done:
    def __init__(self, value: float):
        self.value = value

    def result(self) -> float:
        return self.value


class _Forked:
    """The temperature's fit in a forked process, which sees the features without a copy."""

    def __init__(self, X: Any, labels: list[str], weights: np.ndarray, cfg: dict[str, Any]):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        global _SHARED
        _SHARED = (X, labels, weights, cfg)
        try:
            self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
            self.future = self.pool.submit(_shared_temperature)
        finally:
            _SHARED = None  # (the child has its copy from the fork)

    def result(self) -> float:
        try:
            return self.future.result()
        finally:
            self.pool.shutdown()


def _start_temperature(X: Any, labels: list[str], weights: np.ndarray, cfg: dict[str, Any]):
    """The temperature, being fitted: beside the model's fit in a second process where the
    config allows two (``n_jobs``) and processes can be forked (Linux), else now."""
    import multiprocessing
    import sys

    forks = sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
    if cfg["n_jobs"] > 1 and forks and len(labels) >= 2000:
        return _Forked(X, labels, weights, cfg)
    return _Done(_temperature(X, labels, weights, cfg))


def fit(
    texts: list[str],
    labels: list[str],
    weights: np.ndarray,
    cfg: dict[str, Any],
    progress: Progress | None = None,
    info: dict[str, Any] | None = None,
) -> Predictor:
    """A `Predictor` fitted on prepared ``texts`` and their ``labels`` with sample ``weights``,
    as the config's features and classifier sections say. ``info``, when given, receives the
    solver's record of every classifier fitted (``"fits"``)."""
    progress = progress or Progress()
    fits: list[dict[str, Any]] = []
    none = NONE in labels
    detector = none and cfg["data"]["out_of_scope"] == "detector"
    calibrate = cfg["classifier"]["kind"] in _MARGIN_CLASSIFIERS
    steps = 1 + detector + calibrate
    fitting = progress.step("fitting")
    features = build_features(cfg)
    kinds = None
    if cfg["features"]["kinds"]:
        # A column per kind of name beside the terms (nlpkit.names), folded back into the
        # terms' weights below: the saved model is terms and weights, as any other, and every
        # name of the lists is among its terms.
        from ..names import KindFeatures, name_kinds

        X = features.fit_transform(texts, keep_terms=sorted(name_kinds()))
        kinds = KindFeatures(features.terms_, features.idf_)
        X = kinds.transform(X)
    else:
        X = features.fit_transform(texts)
    fitting(0, steps)
    # The temperature's own fit runs beside the model's, in a second process when allowed.
    pending = _start_temperature(X, labels, weights, cfg) if calibrate else None
    if detector:
        # The topics' classifier sees the in-scope texts alone (its rows are what a model of
        # the topics alone would be, over the same terms); the detector sees every text.
        scope = np.asarray([label != NONE for label in labels])
        clf = build_classifier(cfg).fit(
            X[scope], [t for t in labels if t != NONE], sample_weight=weights[scope]
        )
        fits.append(_convergence("topics", clf, cfg))
        fitting(1, steps)
        found = build_classifier(cfg).fit(X, np.where(scope, "topic", NONE), sample_weight=weights)
        fits.append(_convergence("detector", found, cfg))
    else:
        clf = build_classifier(cfg).fit(X, labels, sample_weight=weights)
        fits.append(_convergence("classes", clf, cfg))
    fitting(1 + detector, steps)
    topics = [t for t in TOPICS if t in clf.classes_]
    # (str: scikit-learn's classes are numpy strings, which would reach the user's answers)
    topics += sorted(str(t) for t in clf.classes_ if t not in TOPICS and t != NONE)
    classes = topics + [NONE] if none else topics
    if detector:
        coef, intercept = linear_parts(clf, topics)
        d_coef, d_intercept = linear_parts(found, [NONE])
        coef, intercept = np.vstack([coef, d_coef]), np.concatenate([intercept, d_intercept])
    else:
        coef, intercept = linear_parts(clf, classes)
    if kinds is not None:
        coef = kinds.fold(coef)
    if none:
        intercept[-1] += cfg["classifier"]["none_offset"]
    temperature = 1.0
    if pending is not None:
        # (fitted on X with the kind columns, if any: the calibration's weights are not folded)
        temperature = pending.result()
        fitting(steps, steps)
    if info is not None:
        info["fits"] = fits
    return Predictor(
        features,
        coef,
        intercept,
        topics,
        max_chars=cfg["data"]["max_chars"],
        segment=cfg["features"]["segment"],
        temperature=temperature,
        none=none,
        none_head="detector" if detector else "class",
    )


def cross_validate(
    texts: list[str],
    labels: list[str],
    weights: np.ndarray,
    cfg: dict[str, Any],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Stratified k-fold scores on the training data (the non-held-out part): features and
    classifier are fitted anew on each fold, so the figures are fair for model selection."""
    folds = cfg["cv"]
    accuracy, macro_f1 = [], []
    started = time.monotonic()
    progress = progress or Progress()
    step = progress.step("cross-validation")
    step(0, folds)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=cfg["seed"])
    for k, (train_idx, test_idx) in enumerate(splitter.split(texts, labels), start=1):
        model = fit(
            [texts[i] for i in train_idx], [labels[i] for i in train_idx], weights[train_idx], cfg
        )
        scores = model.scores_prepared([texts[i] for i in test_idx])
        predicted = [model.classes[j] for j in scores.argmax(axis=1)]
        m = classification_metrics([labels[i] for i in test_idx], predicted, model.classes)
        accuracy.append(m["accuracy"])
        macro_f1.append(m["macro_f1"])
        progress.log(f"  cross-validation fold {k}/{folds}: macro-F1 {m['macro_f1']:.4f}")
        step(k, folds)
    return {
        "folds": folds,
        "accuracy_mean": round(float(np.mean(accuracy)), 4),
        "accuracy_std": round(float(np.std(accuracy)), 4),
        "macro_f1_mean": round(float(np.mean(macro_f1)), 4),
        "macro_f1_std": round(float(np.std(macro_f1)), 4),
        "seconds": round(time.monotonic() - started, 1),
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
