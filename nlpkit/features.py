"""Features: segmented Vietnamese text to TF-IDF vectors, as ordinary scikit-learn estimators.

`Segmenter` prepares raw text (normalise + pyvi); `TfidfFeatures` turns segmented text into
L2-normalised TF-IDF rows over words and word n-grams; `KindFeatures` adds to such rows a column
per kind of name (`nlpkit.names`). They compose in a `Pipeline`.

`TfidfFeatures` learns what scikit-learn's `TfidfVectorizer` learns (the terms counted by the
compiled core or `CountVectorizer`, weighed as `TfidfTransformer` weighs them, with the C
library's logarithms) but keeps only plain data (the terms and their idf), and transforms with
its own code. That makes a fitted instance rebuildable from arrays without unpickling
(`from_vocabulary`), independent of scikit-learn's
private attributes across versions, and fast on one text.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from .arguments import check_flag
from .counting import count_terms
from .text import prepare
from .vocabulary import (
    Vocabulary,
    analyze,
    log_tf,
    smooth_idf,
    tfidf_weights,
    with_title,
)

__all__ = ["Segmenter", "TfidfFeatures", "KindFeatures", "analyze"]


def _texts(X: object, what: str) -> None:
    if isinstance(X, str):
        raise TypeError(f"{what} expects a list of texts, not one string")


class Segmenter(TransformerMixin, BaseEstimator):
    """Normalise and word-segment raw texts (see `nlpkit.text.prepare`); stateless.

    ``max_chars``: read only the first this many characters of each normalised text (None:
    all);
    ``segment``: join the syllables of words with pyvi (False: syllables only).
    """

    def __init__(self, max_chars: int | None = None, segment: bool = True):
        self.max_chars = max_chars
        self.segment = segment

    def fit(self, X: Iterable[str], y=None) -> Segmenter:
        _texts(X, "Segmenter.fit")
        return self

    def transform(self, X: Iterable[str]) -> list[str]:
        # (a string is an iterable of characters: each would be a text of its own)
        _texts(X, "Segmenter.transform")
        return [prepare(text, segment=self.segment, max_chars=self.max_chars) for text in X]


class TfidfFeatures(TransformerMixin, BaseEstimator):
    """TF-IDF over the words and word n-grams of segmented text.

    Parameters mean what they mean in `sklearn.feature_extraction.text.TfidfVectorizer`; idf is
    smoothed and rows are L2-normalised. ``max_features`` keeps the most frequent terms, ties
    broken alphabetically, so that the same texts give the same terms on every machine.
    ``repeat_title``: the terms of a text's first line, its title, count twice
    (`nlpkit.vocabulary.with_title`).
    After `fit`: ``vocabulary_`` (term -> column), ``terms_`` (column -> term) and ``idf_``.
    `fit` and `fit_transform` take ``keep_terms``: terms kept in the vocabulary whatever their
    frequency, even unseen ones (their idf is that of a term in no text), beside the
    ``max_features`` others: names a model should weigh when it meets them (`nlpkit.names`).
    (A fit parameter, not a setting: a fitted vocabulary holds them, and transforms alike.)
    """

    def __init__(
        self,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int | float = 2,
        max_df: int | float = 1.0,
        max_features: int | None = None,
        sublinear_tf: bool = True,
        repeat_title: bool = False,
    ):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.repeat_title = repeat_title

    def _analyzer(self, text: str) -> list[str]:
        return analyze(with_title(text) if self.repeat_title else text, tuple(self.ngram_range))

    def _titled(self, X: Iterable[str]) -> Iterable[str]:
        """The texts as `count_terms` counts them: with their title twice (``repeat_title``)."""
        return map(with_title, X) if self.repeat_title else X

    def _count(
        self,
        X: Iterable[str],
        min_df: int | float,
        max_df: int | float,
        max_features: int | None = None,
    ):
        """The counts of the texts' terms within the document-frequency bounds, and the terms
        (at most ``max_features`` of them, when the counting can choose them itself)."""
        if self._counted():
            return count_terms(
                self._titled(X), tuple(self.ngram_range), min_df, max_df, max_features
            )
        counter = CountVectorizer(analyzer=self._analyzer, min_df=min_df, max_df=max_df)
        counts = counter.fit_transform(X)
        return counts, counter.get_feature_names_out()

    def _check_params(self) -> None:
        # Checked before any text is read, as scikit-learn's vectorizers check theirs: a wrong
        # value would surface as an error from deep inside the counting, or none at all.
        pair = self.ngram_range
        if not (
            isinstance(pair, (tuple, list))
            and len(pair) == 2
            and all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in pair)
            and 1 <= pair[0] <= pair[1]
        ):
            raise ValueError(f"ngram_range must be (low, high) with 1 <= low <= high, got {pair!r}")
        for name in ("min_df", "max_df"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name} must be a number, got {value!r}")
            # (a count as scikit-learn's vectorizers take it, at least 1: the longer n-grams
            # are counted by CountVectorizer, which refuses 0)
            if not (value >= 1 if isinstance(value, numbers.Integral) else 0.0 <= value <= 1.0):
                raise ValueError(
                    f"{name} must be a number of texts (1 or more) or a share of them "
                    f"(0.0 to 1.0), got {value!r}"
                )
        for name in ("sublinear_tf", "repeat_title"):
            check_flag(name, getattr(self, name))
        top = self.max_features
        if top is not None and (
            isinstance(top, bool) or not isinstance(top, numbers.Integral) or top < 1
        ):
            raise ValueError(
                f"max_features must be a whole number of at least 1, or None; got {top!r}"
            )

    def _fit(self, X: Iterable[str], keep_terms: Sequence[str] = ()) -> sp.csr_matrix:
        self._check_params()
        if keep_terms:
            return self._fit_keeping(X, keep_terms)
        counts, terms = self._count(X, self.min_df, self.max_df, self.max_features)
        if self.max_features is not None and counts.shape[1] > self.max_features:
            counts, terms = self._most_frequent(counts, terms, self.max_features)
        return self._tfidf(counts, terms)

    @staticmethod
    def _most_frequent(counts: sp.csr_matrix, terms: np.ndarray, n: int):
        # The most frequent terms, as TfidfVectorizer(max_features=...) keeps them, but with
        # ties broken by the (alphabetical) vocabulary order: scikit-learn's unstable argsort
        # breaks them by the CPU's sorting instructions, so the same data gave other
        # vocabularies on other machines.
        totals = np.asarray(counts.sum(axis=0)).ravel()
        keep = np.sort(np.argsort(-totals, kind="stable")[:n])
        return counts[:, keep], terms[keep]

    def _counted(self) -> bool:
        """Whether `count_terms` counts this n-gram range (else scikit-learn's counter)."""
        return tuple(self.ngram_range) in ((1, 1), (1, 2), (2, 2))

    def _fit_keeping(self, X: Iterable[str], keep_terms: Sequence[str]) -> sp.csr_matrix:
        wanted = set(keep_terms)
        if self._counted():
            # The kept terms beside the max_features others, chosen in the counting.
            counts, terms = count_terms(
                self._titled(X),
                tuple(self.ngram_range),
                self.min_df,
                self.max_df,
                self.max_features,
                wanted,
            )
            return self._with_unseen(counts, terms, wanted)
        return self._fit_keeping_counted_all(X, wanted)

    def _fit_keeping_counted_all(self, X: Iterable[str], wanted: set[str]) -> sp.csr_matrix:
        # Every term counted, then the document-frequency bounds and max_features applied to
        # the terms not kept whatever: the counting's own bounds would drop kept terms.
        counts, terms = self._count(X, 1, 1.0)
        counts = counts.tocsc()
        n = counts.shape[0]
        df = np.diff(counts.indptr)
        low = self.min_df if isinstance(self.min_df, numbers.Integral) else self.min_df * n
        high = self.max_df if isinstance(self.max_df, numbers.Integral) else self.max_df * n
        # (a set, not np.isin: numpy compares arrays of objects pair by pair)
        kept = np.fromiter((t in wanted for t in terms), dtype=bool, count=len(terms))
        free = np.flatnonzero(~kept & (df >= low) & (df <= high))
        if self.max_features is not None and len(free) > self.max_features:
            _, chosen = self._most_frequent(counts[:, free].tocsr(), free, self.max_features)
            free = chosen
        columns = np.union1d(free, np.flatnonzero(kept))
        return self._with_unseen(counts[:, columns].tocsr(), terms[columns], wanted)

    def _with_unseen(
        self, counts: sp.csr_matrix, terms: np.ndarray, wanted: set[str]
    ) -> sp.csr_matrix:
        """The TF-IDF of the counts, with a column of zeros for each kept term no text holds,
        every column in alphabetical order."""
        n = counts.shape[0]
        unseen = sorted(wanted - set(terms.tolist()))
        if unseen:
            order = np.argsort(np.concatenate([terms, np.asarray(unseen, dtype=object)]))
            counts = sp.hstack([counts, sp.csr_matrix((n, len(unseen)))], format="csc")
            counts = counts[:, order].tocsr()
            terms = np.concatenate([terms, np.asarray(unseen, dtype=object)])[order]
        return self._tfidf(counts, terms)

    def _tfidf(self, counts: sp.csr_matrix, terms: np.ndarray) -> sp.csr_matrix:
        """scikit-learn's `TfidfTransformer` (smoothed idf, L2 rows), with the C library's
        logarithms (`smooth_idf`, `log_tf`): the same numbers on every machine, and the same
        as `transform` computes."""
        counts = counts.tocsr()
        idf = smooth_idf(counts.shape[0], np.bincount(counts.indices, minlength=counts.shape[1]))
        # (weighted in place: a copy of millions of entries is a noticeable part of the fit)
        matrix = counts.astype(np.float64)
        if self.sublinear_tf and matrix.nnz:
            tf = np.asarray(log_tf(int(matrix.data.max()) + 1))
            np.take(tf, counts.data.astype(np.intp, copy=False), out=matrix.data)
        matrix.data *= idf[matrix.indices]
        matrix = normalize(matrix, norm="l2", copy=False)
        self._set_vocabulary(terms.tolist(), idf)
        return matrix

    def fit(self, X: Iterable[str], y=None, keep_terms: Sequence[str] = ()) -> TfidfFeatures:
        _texts(X, "TfidfFeatures.fit")
        self._fit(X, keep_terms)
        return self

    def fit_transform(
        self, X: Iterable[str], y=None, keep_terms: Sequence[str] = ()
    ) -> sp.csr_matrix:
        # scikit-learn's matrix equals what `transform` would compute (the tests check it);
        # reusing it saves analysing every training text a second time.
        _texts(X, "TfidfFeatures.fit_transform")
        return self._fit(X, keep_terms)

    def _set_vocabulary(self, terms: Sequence[str], idf: np.ndarray) -> None:
        self.terms_ = list(terms)
        self.vocabulary_ = {term: i for i, term in enumerate(self.terms_)}
        self.idf_ = np.asarray(idf, dtype=np.float64)
        if self.idf_.shape != (len(self.terms_),):
            raise ValueError(f"{len(self.terms_)} terms but {self.idf_.shape} idf values")

    @classmethod
    def from_vocabulary(cls, terms: Sequence[str], idf: np.ndarray, **params) -> TfidfFeatures:
        """A fitted instance from saved terms and idf values (what `nlpkit.modelfile` stores)."""
        features = cls(**params)
        features._set_vocabulary(terms, idf)
        return features

    @classmethod
    def of(cls, vocabulary: Vocabulary) -> TfidfFeatures:
        """The fitted estimator of a `Vocabulary` (what a predictor loaded from a folder
        holds): the inverse of `to_vocabulary`."""
        return cls.from_vocabulary(vocabulary.terms_, vocabulary.idf_, **vocabulary.get_params())

    def to_vocabulary(self) -> Vocabulary | None:
        """The fitted state as a plain-data `Vocabulary` (sharing the arrays), which predicts
        without scikit-learn and which the compiled core reads; None where it would not
        transform alike: not fitted, a subclass, or settings `Vocabulary` does not know."""
        if type(self) is not TfidfFeatures or not hasattr(self, "idf_"):
            return None
        params = self.get_params()
        if not Vocabulary.supports(params):
            return None
        vocabulary = Vocabulary(self.terms_, self.idf_, **params)
        vocabulary._index = self.vocabulary_
        return vocabulary

    def weights(self, X: Iterable[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The non-zero TF-IDF weights of texts as three flat arrays (text number, column,
        weight), sorted by text then column: `transform` as plain arrays, which the predictor
        scores directly, without building a sparse matrix."""
        check_is_fitted(self, "idf_")
        return tfidf_weights(X, self._analyzer, self.vocabulary_, self.idf_, self.sublinear_tf)

    def transform(self, X: Iterable[str]) -> sp.csr_matrix:
        X = list(X) if not isinstance(X, str) else X
        doc, col, w = self.weights(X)
        return sp.csr_matrix((w, (doc, col)), shape=(len(X), len(self.terms_)))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "idf_")
        return np.asarray(self.terms_, dtype=object)


class KindFeatures(TransformerMixin, BaseEstimator):
    """The kind columns of TF-IDF rows (`nlpkit.names`): for each kind, the sum over the row's
    terms of that kind of weight / idf, times the kind's median idf. Every name of a kind weighs
    alike (scaled back from its own idf), whether the corpus saw it often, once or never.

    ``terms`` and ``idf``: the vocabulary of the TF-IDF features the rows come from (a fitted
    `TfidfFeatures`' ``terms_`` and ``idf_``). Because the kind columns are sums of term
    columns, weights fitted over terms and kinds fold back into the terms' own (`fold`)."""

    def __init__(self, terms: Sequence[str] = (), idf: np.ndarray | None = None):
        self.terms = terms
        self.idf = idf

    def fit(self, X: sp.spmatrix | None = None, y=None) -> KindFeatures:
        from .names import KINDS, name_kinds

        terms = list(self.terms)
        idf = np.asarray(self.idf if self.idf is not None else [], dtype=np.float64)
        if idf.shape != (len(terms),):
            raise ValueError(f"{len(terms)} terms but {idf.shape} idf values")
        if X is not None and X.shape[1] != len(terms):
            raise ValueError(f"rows of {X.shape[1]} columns for a vocabulary of {len(terms)}")
        kinds = name_kinds()
        self.kinds_ = list(KINDS)
        rows, cols, values = [], [], []
        for k, kind in enumerate(self.kinds_):
            members = [i for i, t in enumerate(terms) if kinds.get(t) == kind]
            if not members:
                continue
            scale = float(np.median(idf[members]))
            rows += members
            cols += [k] * len(members)
            values += [scale / idf[i] for i in members]
        self.matrix_ = sp.csr_matrix(
            (values, (rows, cols)), shape=(len(terms), len(self.kinds_)), dtype=np.float64
        )
        return self

    def transform(self, X: sp.spmatrix) -> sp.csr_matrix:
        """The rows with their kind columns appended."""
        check_is_fitted(self, "matrix_")
        return sp.hstack([X, X @ self.matrix_], format="csr")

    def fold(self, coef: np.ndarray) -> np.ndarray:
        """Weights over terms + kinds -> weights over the terms alone, scoring every row as
        the wider weights score its widened row."""
        check_is_fitted(self, "matrix_")
        n = self.matrix_.shape[0]
        return np.asarray(coef[:, :n] + (self.matrix_ @ coef[:, n:].T).T)
