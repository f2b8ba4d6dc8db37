"""The model search behind experiments/vntc10.toml: 3-fold cross-validation on VNTC Train_Full
for settings and model families the config format does not express (ensembles, character
n-grams, NB-SVM, extra views of the text, pieces of texts as extra examples, outlet-neutral
fitting), and the baseline's learning curve. Test_Full is never read. Prints a markdown table,
then the errors, F1 by section and accuracy by outlet of each row and the outlets of each
section; run from the repository root (about twenty minutes on 2 cores with a warm segment
cache):

    python experiments/vntc10_search.py
    python experiments/vntc10_search.py --only baseline ensemble   # a few rows
    python experiments/vntc10_search.py --curve    # the baseline on parts of each training fold
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.multiclass import OneVsOneClassifier
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from nlpkit.cache import SegmentCache, prepare_many
from nlpkit.corpus import read_corpus
from nlpkit.features import TfidfFeatures
from nlpkit.text import join_title

MAX_CHARS = 5000  # as in vntc10.toml


class NBSVM(ClassifierMixin, BaseEstimator):
    """Wang & Manning's (2012) NB-SVM, one against the rest: a linear SVM on features scaled by
    each topic's naive Bayes log-count ratio."""

    def __init__(self, C: float = 1.0, alpha: float = 1.0):
        self.C = C
        self.alpha = alpha

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        present = (X > 0).astype(np.float64)
        columns, intercepts = [], []
        for topic in self.classes_:
            mine = y == topic
            p = self.alpha + np.asarray(present[mine].sum(axis=0)).ravel()
            q = self.alpha + np.asarray(present[~mine].sum(axis=0)).ravel()
            ratio = np.log(p / p.sum()) - np.log(q / q.sum())
            svm = LinearSVC(C=self.C, class_weight="balanced").fit(X.multiply(ratio).tocsr(), mine)
            columns.append(svm.coef_.ravel() * ratio)
            intercepts.append(svm.intercept_[0])
        self.coef_ = np.vstack(columns)
        self.intercept_ = np.array(intercepts)
        return self

    def decision_function(self, X):
        return X @ self.coef_.T + self.intercept_

    def predict(self, X):
        return self.classes_[self.decision_function(X).argmax(axis=1)]


def svm(C: float = 1.0, class_weight="balanced") -> Callable[[], LinearSVC]:
    return lambda: LinearSVC(C=C, class_weight=class_weight)


def words(view: str = "words", ngrams=(1, 2), min_df=2, max_df=0.5, sublinear=True):
    """A feature family: TF-IDF over one view of the text (see `Views`)."""

    def build(train: Fold, test: Fold):
        features = TfidfFeatures(
            ngram_range=ngrams, min_df=min_df, max_df=max_df, sublinear_tf=sublinear
        )
        return features.fit_transform(train[view]), features.transform(test[view])

    return build


def tokens(keep_numbers: bool = False, keep_case: bool = False):
    """Words and word bigrams like `words()`, but keeping what nlpkit's analyzer drops: tokens
    with digits and no letter, or the letter case of names."""
    letter = re.compile(r"[^\W\d_]")

    def analyzer(text: str) -> list[str]:
        text = text if keep_case else text.lower()
        kept = [w for w in text.split() if letter.search(w) or (keep_numbers and w.isalnum())]
        return kept + [a + " " + b for a, b in zip(kept, kept[1:])]

    def build(train: Fold, test: Fold):
        vectorizer = TfidfVectorizer(analyzer=analyzer, min_df=2, max_df=0.5, sublinear_tf=True)
        return vectorizer.fit_transform(train["words"]), vectorizer.transform(test["words"])

    return build


def chars(ngrams=(2, 4)):
    def build(train: Fold, test: Fold):
        vectorizer = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=ngrams,
            preprocessor=lambda t: t.replace("_", " ").lower(),
            min_df=2,
            max_df=0.5,
            sublinear_tf=True,
            dtype=np.float32,
        )
        return vectorizer.fit_transform(train["words"]), vectorizer.transform(test["words"])

    return build


def joined(*families):
    """Several feature families side by side, each L2-normalised, the whole row again."""

    def build(train: Fold, test: Fold):
        parts = [family(train, test) for family in families]
        return tuple(normalize(sp.hstack([p[i] for p in parts]).tocsr()) for i in (0, 1))

    return build


def with_lsa(features, dimensions: int = 300, weight: float = 0.5):
    """A feature family with its latent semantic analysis beside it: the rows projected on the
    training part's top singular vectors, L2-normalised and scaled by ``weight``, so that texts
    that share no term but share a subject come closer."""

    def build(train: Fold, test: Fold):
        X_train, X_test = features(train, test)
        svd = TruncatedSVD(dimensions, random_state=0).fit(X_train)
        return tuple(
            normalize(sp.hstack([X, weight * sp.csr_matrix(normalize(svd.transform(X)))]).tocsr())
            for X in (X_train, X_test)
        )

    return build


def single(features, classifier: Callable | None = None):
    """Decision scores of one classifier (default: the baseline SVM) on one feature family."""
    classifier = classifier or svm()

    def scores(train: Fold, test: Fold, y: np.ndarray):
        X_train, X_test = features(train, test)
        model = classifier().fit(X_train, y)
        return model.classes_, model.decision_function(X_test)

    return scores


def summed(*members):
    """An ensemble: the sum of its members' decision scores."""

    def scores(train: Fold, test: Fold, y: np.ndarray):
        results = [member(train, test, y) for member in members]
        return results[0][0], sum(r[1] for r in results)

    return scores


def macro_f1_offsets(features, reach: float = 0.3, passes: int = 2):
    """The baseline SVM with one offset per section added to its scores, chosen to maximise
    macro-F1 on out-of-fold scores of an inner 3-fold cross-validation of the training part
    (coordinate ascent, each offset in steps of 0.05 within ``reach``)."""
    grid = np.linspace(-reach, reach, round(2 * reach / 0.05) + 1)

    def scores(train: Fold, test: Fold, y: np.ndarray):
        X_train, X_test = features(train, test)
        inner = StratifiedKFold(3, shuffle=True, random_state=1)
        held = cross_val_predict(svm()(), X_train, y, cv=inner, method="decision_function")
        model = svm()().fit(X_train, y)
        classes, offsets = model.classes_, np.zeros(len(model.classes_))

        def macro_f1(trial: np.ndarray) -> float:
            return f1_score(y, classes[(held + trial).argmax(axis=1)], average="macro")

        for _ in range(passes):
            for j in range(len(classes)):
                trials = [np.where(np.arange(len(classes)) == j, d, offsets) for d in grid]
                best = max(trials, key=macro_f1)
                if macro_f1(best) > macro_f1(offsets):
                    offsets = best
        return classes, model.decision_function(X_test) + offsets

    return scores


def with_parts(parts: int = 3, weight: float = 0.5, shortest: int = 20):
    """The baseline SVM fitted on each training text and also on its ``parts`` consecutive
    pieces (by words; pieces of fewer than ``shortest`` words left out), each weighing
    ``weight``: more examples, though cut from the same texts."""

    def scores(train: Fold, test: Fold, y: np.ndarray):
        texts = train["words"]
        pieces, labels = [], []
        for text, section in zip(texts, y):
            tokens = text.split()
            for k in range(parts):
                piece = tokens[k * len(tokens) // parts : (k + 1) * len(tokens) // parts]
                if len(piece) >= shortest:
                    pieces.append(" ".join(piece))
                    labels.append(section)
        # The vocabulary and IDF come from the whole texts, as in the baseline.
        features = TfidfFeatures(ngram_range=(1, 2), min_df=2, max_df=0.5, sublinear_tf=True)
        X = sp.vstack([features.fit_transform(texts), features.transform(pieces)]).tocsr()
        weights = np.concatenate([np.ones(len(y)), np.full(len(labels), weight)])
        model = svm()().fit(X, np.concatenate([y, labels]), sample_weight=weights)
        return model.classes_, model.decision_function(features.transform(test["words"]))

    return scores


def outlet_weights(sections: np.ndarray, outlets: np.ndarray, clip: float = 5.0) -> np.ndarray:
    """Record weights under which the outlet says nothing of the section: each (section, outlet)
    cell weighs P(outlet) / P(outlet | section), at most ``clip``, with each section's total kept
    (the class weights then balance the sections as before)."""
    weights = np.ones(len(sections))
    shares = {o: np.mean(outlets == o) for o in np.unique(outlets)}
    for section in np.unique(sections):
        mine = sections == section
        for outlet, share in shares.items():
            cell = mine & (outlets == outlet)
            if cell.any():
                weights[cell] = min(share * mine.sum() / cell.sum(), clip)
        weights[mine] *= mine.sum() / weights[mine].sum()
    return weights


def outlet_reweighted(features, clip: float = 5.0):
    """The baseline SVM fitted under `outlet_weights`."""

    def scores(train: Fold, test: Fold, y: np.ndarray):
        X_train, X_test = features(train, test)
        weights = outlet_weights(y, np.array(train["outlet"]), clip)
        model = svm()().fit(X_train, y, sample_weight=weights)
        return model.classes_, model.decision_function(X_test)

    return scores


def outlet_backdoor(features, strength: float = 1.0):
    """Back-door adjustment (Landeiro & Culotta, AAAI 2016): outlet indicators beside the text
    features when fitting, so that they, not the outlet's wording, carry how often each outlet
    writes for each section; every text is then scored as if from the average outlet."""

    def scores(train: Fold, test: Fold, y: np.ndarray):
        X_train, X_test = features(train, test)
        outlets = np.array(train["outlet"])
        names = np.unique(outlets)
        indicators = sp.csr_matrix((outlets[:, None] == names).astype(np.float64))
        model = svm()().fit(sp.hstack([X_train, strength * indicators]).tocsr(), y)
        average = np.tile(strength * indicators.mean(axis=0).A, (X_test.shape[0], 1))
        return model.classes_, model.decision_function(sp.hstack([X_test, average]).tocsr())

    return scores


def balanced_power(y: np.ndarray, power: float) -> dict:
    classes, counts = np.unique(y, return_counts=True)
    return dict(zip(classes, (len(y) / (len(classes) * counts)) ** power))


def variants(y: np.ndarray) -> dict[str, tuple[str, Callable]]:
    return {
        "baseline": ("vntc10.toml: words 1-2, LinearSVC C=1, balanced", single(words())),
        "C0.3": ("C = 0.3", single(words(), svm(C=0.3))),
        "C3": ("C = 3", single(words(), svm(C=3.0))),
        "unweighted": ("no class weights", single(words(), svm(class_weight=None))),
        "half-balanced": (
            "class weights balanced^0.5",
            single(words(), svm(class_weight=balanced_power(y, 0.5))),
        ),
        "min_df1": ("min_df 1, max_df 1.0", single(words(min_df=1, max_df=1.0))),
        "full-length": ("whole articles (no 5,000-character cut)", single(words("full"))),
        "title-twice": ("title counted twice", single(words("title_twice"))),
        "numbers": ("tokens with digits kept", single(tokens(keep_numbers=True))),
        "case": ("letter case kept", single(tokens(keep_case=True))),
        "lead": (
            "words + a separate block for the first 300 characters",
            single(joined(words(), words("lead"))),
        ),
        "words+syllables": (
            "word and syllable n-grams in one space",
            single(joined(words(), words("syllables"))),
        ),
        "words+chars": ("words + character 2-4-grams", single(joined(words(), chars()))),
        "ridge": (
            "ridge classifier, alpha 0.3",
            single(words(), lambda: RidgeClassifier(alpha=0.3, class_weight="balanced")),
        ),
        "nbsvm": ("NB-SVM (Wang & Manning 2012), C=1", single(words(), NBSVM)),
        "ensemble": (
            "sum of three SVMs: words 1-2, syllables 1-2, words 1",
            summed(single(words()), single(words("syllables")), single(words(ngrams=(1, 1)))),
        ),
        "max_df0.2": ("max_df 0.2", single(words(max_df=0.2))),
        "one-vs-one": (
            "45 LinearSVCs, one for each pair of sections",
            single(words(), lambda: OneVsOneClassifier(LinearSVC(class_weight="balanced"))),
        ),
        "lsa": ("words + 300-dimension LSA of them, weight 0.5", single(with_lsa(words()))),
        "offsets": (
            "a score offset per section for macro-F1, from an inner cross-validation",
            macro_f1_offsets(words()),
        ),
        "thirds": (
            "each training text also as its three thirds, weight 0.5",
            with_parts(3, 0.5),
        ),
        "outlet-weighted": (
            "records weighted so that the outlet says nothing of the section",
            outlet_reweighted(words()),
        ),
        "outlet-backdoor": (
            "outlet indicators when fitting, the average outlet when scoring",
            outlet_backdoor(words()),
        ),
    }


class Views:
    """The texts each feature family may read (and the records' outlets), in record order, each
    prepared on first use: a run of a few rows segments only what they read."""

    def __init__(self, records: list, cache: SegmentCache):
        self.records = records
        self.cache = cache
        self._made: dict[str, list[str]] = {}

    def _make(self, name: str) -> list[str]:
        if name == "outlet":
            return [r.outlet for r in self.records]
        if name == "syllables":  # splitting into syllables needs no cache
            return prepare_many(
                [r.full_text for r in self.records], segment=False, max_chars=MAX_CHARS
            )
        raw, max_chars = {
            "words": (lambda r: r.full_text, MAX_CHARS),
            "full": (lambda r: r.full_text, None),
            "title_twice": (lambda r: join_title(r.title, r.full_text), MAX_CHARS),
            "lead": (lambda r: r.full_text, 300),
        }[name]
        return prepare_many(
            [raw(r) for r in self.records], self.cache, n_jobs=2, max_chars=max_chars
        )

    def __getitem__(self, name: str) -> list[str]:
        if name not in self._made:
            self._made[name] = self._make(name)
        return self._made[name]


class Fold:
    """One side of a cross-validation split: the views of the records at ``indices``."""

    def __init__(self, views: Views, indices: np.ndarray):
        self.views = views
        self.indices = indices

    def __getitem__(self, name: str) -> list[str]:
        texts = self.views[name]
        return [texts[i] for i in self.indices]


def learning_curve(texts: Views, y: np.ndarray, folds: list) -> None:
    """The baseline trained on a stratified part of each training fold and scored on the whole
    test fold: how much each doubling of the training texts adds, to judge what a larger
    training part (VNTC's full Train_Full has 33,759 texts, ours 15,883) would bring."""
    print("| share of each training fold | training texts | CV accuracy | CV macro-F1 |")
    print("|---|---|---|---|")
    for share in (0.125, 0.25, 0.5, 1.0):
        accuracy, macro_f1 = [], []
        for train_idx, test_idx in folds:
            if share < 1:
                train_idx, _ = train_test_split(
                    train_idx, train_size=share, stratify=y[train_idx], random_state=0
                )
            classes, decision = single(words())(
                Fold(texts, train_idx), Fold(texts, test_idx), y[train_idx]
            )
            predicted = classes[decision.argmax(axis=1)]
            accuracy.append(accuracy_score(y[test_idx], predicted))
            macro_f1.append(f1_score(y[test_idx], predicted, average="macro"))
        print(
            f"| {share:g} | {len(train_idx):,} | {np.mean(accuracy):.4f} ± {np.std(accuracy):.4f} "
            f"| {np.mean(macro_f1):.4f} ± {np.std(macro_f1):.4f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", help="corpus JSONL file (default: ../shared/data)")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these rows")
    parser.add_argument(
        "--curve", action="store_true", help="print the baseline's learning curve instead"
    )
    args = parser.parse_args()

    # Train_Full only: the held-out Test_Full takes no part in the search.
    records = [
        r
        for r in read_corpus(args.corpus)
        if r.source_dataset == "vntc" and r.split == "Train_Full"
    ]
    y = np.array([r.source_category for r in records])
    texts = Views(records, SegmentCache())
    table = variants(y)
    chosen = args.only or list(table)
    unknown = set(chosen) - set(table)
    if unknown:
        parser.error(f"unknown rows {sorted(unknown)}; known: {', '.join(table)}")

    splitter = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    folds = list(splitter.split(y, y))
    print(f"VNTC Train_Full, {len(y):,} texts, {args.folds}-fold cross-validation\n")
    if args.curve:
        learning_curve(texts, y, folds)
        return
    print("| row | setting | CV accuracy | CV macro-F1 | seconds |")
    print("|---|---|---|---|---|")
    # Which sections the errors of each row involve, to tell label overlap from weak features.
    involved: dict[str, Counter] = {}
    # Accuracy by outlet: the outlets' shares differ widely between sections, a cue a topic
    # model should not lean on.
    outlets = np.array(texts["outlet"])
    right: dict[str, Counter] = {}
    pooled: dict[str, np.ndarray] = {}  # every record's out-of-fold prediction
    for name in chosen:
        label, scores = table[name]
        started = time.perf_counter()
        accuracy, macro_f1 = [], []
        involved[name] = errors = Counter()
        right[name] = hits = Counter()
        pooled[name] = guesses = np.empty(len(y), dtype=y.dtype)
        for train_idx, test_idx in folds:
            classes, decision = scores(Fold(texts, train_idx), Fold(texts, test_idx), y[train_idx])
            predicted = classes[decision.argmax(axis=1)]
            accuracy.append(accuracy_score(y[test_idx], predicted))
            macro_f1.append(f1_score(y[test_idx], predicted, average="macro"))
            hits.update(outlets[test_idx][predicted == y[test_idx]])
            guesses[test_idx] = predicted
            for truth, guess in zip(y[test_idx], predicted):
                if truth != guess:
                    errors["all"] += 1
                    errors.update({truth, guess})
        seconds = time.perf_counter() - started
        print(
            f"| {name} | {label} | {np.mean(accuracy):.4f} ± {np.std(accuracy):.4f} "
            f"| {np.mean(macro_f1):.4f} ± {np.std(macro_f1):.4f} | {seconds:.0f} |",
            flush=True,
        )
    print("\nErrors with a section on one side (true or predicted), the three most involved:\n")
    for name, errors in involved.items():
        top = ", ".join(f"{k} {v}" for k, v in errors.most_common(4) if k != "all")
        print(f"- {name}: {errors['all']:,} errors; {top}")
    sections = np.unique(y)
    print("\nF1 by section, over the pooled out-of-fold predictions:\n")
    for name, guesses in pooled.items():
        f1s = f1_score(y, guesses, labels=sections, average=None)
        print(f"- {name}: " + ", ".join(f"{s} {f:.3f}" for s, f in zip(sections, f1s)))
    total = Counter(outlets)
    print(
        "\nAccuracy by outlet (" + ", ".join(f"{o} {n:,} texts" for o, n in total.items()) + "):\n"
    )
    for name, hits in right.items():
        print(f"- {name}: " + ", ".join(f"{o} {hits[o] / n:.4f}" for o, n in total.items()))
    print("\nOutlets of each section:\n")
    for section in sections:
        mine = Counter(outlets[y == section])
        shares = ", ".join(f"{o} {mine[o] / mine.total():.0%}" for o in total)
        print(f"- {section} ({mine.total():,} texts): {shares}")


if __name__ == "__main__":
    main()
