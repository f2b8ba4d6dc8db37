"""Fitting: TF-IDF features and a linear classifier on labelled texts, probabilities
calibrated (`nlpkit.training.calibration`), and cross-validation of the same fit.

Texts come in prepared (normalised and segmented, `nlpkit.cache.prepare_many`); a `Predictor`
comes out. Every random choice takes the config's seed.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from ..evaluate import classification_metrics
from ..features import TfidfFeatures
from ..heap import kept_heap
from ..predictor import Predictor
from ..topics import NONE, TOPICS
from .calibration import calibration_split, temperature
from .parallel import fork_tasks
from .progress import Progress

__all__ = [
    "build_features",
    "build_classifier",
    "fit",
    "cross_validate",
]

_MARGIN_CLASSIFIERS = ("linear_svc", "sgd")
# Fewer texts are fitted in this process: starting processes costs more than it saves.
_MIN_PARALLEL_TEXTS = 2000


def build_features(cfg: dict[str, Any]) -> TfidfFeatures:
    f = cfg["features"]
    return TfidfFeatures(
        ngram_range=tuple(f["ngram_range"]),
        min_df=f["min_df"],
        max_df=f["max_df"],
        max_features=f["max_features"] or None,
        sublinear_tf=f["sublinear_tf"],
        repeat_title=f["repeat_title"],
    )


def build_classifier(cfg: dict[str, Any]) -> Any:
    c, seed = cfg["classifier"], cfg["seed"]
    common = {
        "max_iter": c["max_iter"],
        "class_weight": c["class_weight"] or None,
        "random_state": seed,
        **({"tol": c["tol"]} if c["tol"] else {}),
    }
    if c["kind"] == "logistic_regression":
        return LogisticRegression(C=c["C"], solver=c["solver"], **common)
    if c["kind"] == "linear_svc":
        # The dual solver whatever the data's shape: scikit-learn's "auto" takes the primal
        # one when there are more texts than terms, whose steps add with the machine's BLAS,
        # so that the model would depend on the processor (`nlpkit.training.cleanup`).
        return LinearSVC(C=c["C"], dual=True, **common)
    if c["kind"] == "sgd":
        return SGDClassifier(alpha=c["alpha"], **common)
    return ComplementNB(alpha=c["alpha"])


def linear_parts(clf: Any, topics: list[str]) -> tuple[np.ndarray, np.ndarray]:
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


class _Linear:
    """A linear classifier fitted one class at a time (`_one_class`): what `linear_parts` and
    `_convergence` read of a scikit-learn one."""

    def __init__(self, classes: list[str], parts: list[tuple[np.ndarray, float, int]]):
        self.classes_ = np.asarray(classes)
        self.coef_ = np.vstack([coef for coef, _, _ in parts])
        self.intercept_ = np.asarray([intercept for _, intercept, _ in parts])
        self.n_iter_ = np.asarray([n_iter for _, _, n_iter in parts])


class _Fit:
    """One classifier of a fit: its rows of the features, their labels and weights, the
    solver's stopping tolerance when it is not the config's, and whether a linear SVM's
    classes may be fitted apart (``split``)."""

    def __init__(
        self,
        X: Any,
        labels: list[str],
        weights: np.ndarray,
        tol: float | None = None,
        split: bool = True,
    ):
        self.X, self.labels, self.weights, self.tol, self.split = X, labels, weights, tol, split
        self.y = np.asarray(labels)
        self.classes = sorted(set(labels))

    def classifier(self, cfg: dict[str, Any]):
        clf = build_classifier(cfg)
        if self.tol is not None:
            clf.set_params(tol=self.tol)
        return clf

    def by_class(self, cfg: dict[str, Any]) -> bool:
        """Whether the classifier is one-vs-rest binary fits that can run apart: a linear SVM
        of more than two classes (liblinear fits them one after the other, in one process)."""
        return self.split and cfg["classifier"]["kind"] == "linear_svc" and len(self.classes) > 2


def _one_class(fit: _Fit, label: str, cfg: dict[str, Any]) -> tuple[np.ndarray, float, int]:
    """The one-vs-rest row of ``label``: the binary problem liblinear solves for it inside a
    multi-class fit (the class's texts weighted as scikit-learn's class_weight weighs them, the
    rest at 1, as liblinear's one-vs-rest does), solved on its own. The same optimum as the
    multi-class fit; the solver's random order of the texts differs, so the last digits do."""
    from sklearn.utils.class_weight import compute_class_weight

    weight = cfg["classifier"]["class_weight"] or None
    if weight is not None:
        weights = compute_class_weight(
            weight, classes=np.asarray(fit.classes), y=fit.y, sample_weight=fit.weights
        )
        weight = {True: float(weights[fit.classes.index(label)]), False: 1.0}
    clf = fit.classifier(cfg).set_params(class_weight=weight)
    clf.fit(fit.X, fit.y == label, sample_weight=fit.weights)
    return clf.coef_[0], float(clf.intercept_[0]), int(np.max(clf.n_iter_))


def _fit_all(fits: list[_Fit], cfg: dict[str, Any], done=None) -> list[Any]:
    """Every classifier of ``fits``, fitted: in ``n_jobs`` forked processes where allowed, a
    linear SVM's classes each a task of its own, so that the fits share the cores (the
    results are the same however many processes there are)."""
    tasks: list[tuple[int, str | None]] = []
    for k, f in enumerate(fits):
        tasks += [(k, label) for label in f.classes] if f.by_class(cfg) else [(k, None)]
    # The whole fits first: they are the longest, the classes' tasks fill in beside them.
    tasks.sort(key=lambda task: task[1] is not None)

    def run(task: tuple[int, str | None]) -> Any:
        k, label = task
        f = fits[k]
        if label is None:
            return f.classifier(cfg).fit(f.X, f.labels, sample_weight=f.weights)
        return _one_class(f, label, cfg)

    n_jobs = cfg["n_jobs"] if len(fits[0].labels) >= _MIN_PARALLEL_TEXTS else 1
    if done:
        done(0, len(tasks))
    results = dict(zip(tasks, fork_tasks(run, tasks, n_jobs, done)))
    return [
        _Linear(f.classes, [results[(k, label)] for label in f.classes])
        if f.by_class(cfg)
        else results[(k, None)]
        for k, f in enumerate(fits)
    ]


def _calibration(X: Any, labels: list[str], weights: np.ndarray, cfg: dict[str, Any]):
    """Margins are not log-probabilities: the temperature that makes them so is fitted on a
    tenth of the training data with a model fitted on the rest (then kept for the model fitted
    on everything). That model's fit, and the tenth it is scored on; None where the texts are
    too few for it (no label with two texts: the temperature stays 1)."""
    train_idx, cal_idx = calibration_split(labels, cfg["seed"])
    if not len(cal_idx) or len({labels[i] for i in train_idx}) < 2:
        return None, cal_idx
    # The temperature is read off a grid 12% a step: a looser stop of the solver moves the
    # margins by less than that. On VNTC the same temperature with liblinear's own default
    # stop (0.1: 19 iterations) as with scikit-learn's (1e-4: 55), and 20% less time than 1e-2.
    loose = 1e-1 if cfg["classifier"]["kind"] == "linear_svc" else 1e-2
    part = _Fit(
        X[train_idx],
        [labels[i] for i in train_idx],
        weights[train_idx],
        tol=max(cfg["classifier"]["tol"], loose),
        # One task, the longest, beside which the model's classes are fitted (a multi-class
        # fit, as in one process).
        split=False,
    )
    return part, cal_idx


def _temperature(part: Any, X: Any, labels: list[str], cal_idx: np.ndarray) -> float:
    known = [str(c) for c in part.classes_]
    coef, intercept = linear_parts(part, known)
    return temperature(coef, intercept, known, X, labels, cal_idx)


def _naive_bayes(
    X: Any, labels: list[str], weights: np.ndarray, topics: list[str], alpha: float
) -> np.ndarray:
    """The weights of a complement naive Bayes fitted on the topics' texts (its scores are
    ``X @ weights.T``), a row per topic: a second opinion from the same terms, counted rather
    than fitted, that the logistic regression's rows take in (`classifier.nb_blend`). Both
    are linear in the terms, so the blend is one linear model like any other."""
    scope = np.flatnonzero(np.isin(np.asarray(labels), topics))
    nb = ComplementNB(alpha=alpha)
    nb.fit(X[scope], np.asarray(labels)[scope], sample_weight=weights[scope])
    return linear_parts(nb, topics)[0]


def _features(features: TfidfFeatures, texts: list[str], cfg: dict[str, Any]):
    """The features of the training texts, and the columns of kinds of names, if any."""
    if not cfg["features"]["kinds"]:
        return features.fit_transform(texts), None
    # A column per kind of name beside the terms (nlpkit.names), folded back into the terms'
    # weights below: the saved model is terms and weights, as any other, and every name of
    # the lists is among its terms.
    from ..features import KindFeatures
    from ..names import name_kinds

    X = features.fit_transform(texts, keep_terms=sorted(name_kinds()))
    kinds = KindFeatures(features.terms_, features.idf_)
    return kinds.fit_transform(X), kinds


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
    # (a temperature given in the config is kept as it is: no model to read one from)
    fixed = cfg["classifier"]["temperature"]
    calibrate = cfg["classifier"]["kind"] in _MARGIN_CLASSIFIERS and not fixed
    fitting = progress.step("fitting")
    features = build_features(cfg)
    with kept_heap():
        X, kinds = _features(features, texts, cfg)
    # The classifiers are independent: the model's (the topics' and the detector's, when
    # out of scope is detected apart) and the one the temperature is read from, fitted side
    # by side where the config allows more than one process.
    if detector:
        # The topics' classifier sees the in-scope texts alone (its rows are what a model of
        # the topics alone would be, over the same terms); the detector sees every text.
        scope = np.asarray([label != NONE for label in labels])
        todo = [
            _Fit(X[scope], [t for t in labels if t != NONE], weights[scope]),
            _Fit(X, np.where(scope, "topic", NONE).tolist(), weights),
        ]
        names = ["topics", "detector"]
    else:
        todo, names = [_Fit(X, labels, weights)], ["classes"]
    part = None
    if calibrate:
        part, cal_idx = _calibration(X, labels, weights, cfg)
    if part is not None:
        todo.append(part)
    fitted = _fit_all(todo, cfg, fitting)
    clf, found = fitted[0], fitted[1] if detector else None
    fits.extend(_convergence(name, c, cfg) for name, c in zip(names, fitted))
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
    if cfg["classifier"]["nb_blend"] and len(topics) > 1:
        n_terms = len(features.terms_)
        coef[: len(topics), :n_terms] += cfg["classifier"]["nb_blend"] * _naive_bayes(
            X[:, :n_terms], labels, weights, topics, cfg["classifier"]["nb_alpha"]
        )
    if kinds is not None:
        coef = kinds.fold(coef)
    if none:
        intercept[-1] += cfg["classifier"]["none_offset"]
    temperature = fixed or 1.0
    if part is not None:
        # (fitted on X with the kind columns, if any: the calibration's weights are not folded)
        temperature = _temperature(fitted[-1], X, labels, cal_idx)
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
    counts = Counter(labels)
    if max(counts.values()) < folds:
        raise ValueError(
            f"{folds}-fold cross-validation needs a label with at least {folds} texts (the "
            f"largest has {max(counts.values())}): fewer folds (cv; --cv on the command "
            "line), or more texts"
        )
    few = sorted(label for label, n in counts.items() if n < folds)
    if few:
        warnings.warn(
            f"{len(few)} label(s) with fewer texts than the {folds} folds of cross-validation "
            f"({', '.join(map(repr, few[:5]))}): some folds hold none of them",
            stacklevel=2,
        )
    splitter = StratifiedKFold(folds, shuffle=True, random_state=cfg["seed"])
    with warnings.catch_warnings():
        # (said above, in the labels' own words)
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        folds_of = list(splitter.split(texts, labels))
    for k, (train_idx, test_idx) in enumerate(folds_of, start=1):
        model = fit(
            [texts[i] for i in train_idx], [labels[i] for i in train_idx], weights[train_idx], cfg
        )
        scores = model.scores_prepared([texts[i] for i in test_idx])
        # (the model's answers, out of scope included: an out-of-scope detector's row is a
        # logit against all the topics, no class's score to take the highest of)
        predicted = [model.classes[j] for j in model._decide(scores, model.none).tolist()]
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
