"""Features: segmented Vietnamese text to TF-IDF vectors, as ordinary scikit-learn estimators.

`Segmenter` prepares raw text (normalise + pyvi); `TfidfFeatures` turns segmented text into
L2-normalised TF-IDF rows over words and word n-grams. Both compose in a `Pipeline`.

`TfidfFeatures` learns with scikit-learn's `CountVectorizer` and `TfidfTransformer` (what its
`TfidfVectorizer` is made of) but keeps only plain data (the terms and their idf), and
transforms with its own code. That makes a fitted instance
rebuildable from arrays without unpickling (`from_vocabulary`), independent of scikit-learn's
private attributes across versions, and fast on one text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.utils.validation import check_is_fitted

from .text import prepare
from .vocabulary import Vocabulary, analyze, tfidf_weights

__all__ = ["Segmenter", "TfidfFeatures", "analyze"]


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
        return self

    def transform(self, X: Iterable[str]) -> list[str]:
        return [prepare(text, segment=self.segment, max_chars=self.max_chars) for text in X]


class TfidfFeatures(TransformerMixin, BaseEstimator):
    """TF-IDF over the words and word n-grams of segmented text.

    Parameters mean what they mean in `sklearn.feature_extraction.text.TfidfVectorizer`; idf is
    smoothed and rows are L2-normalised. ``max_features`` keeps the most frequent terms, ties
    broken alphabetically, so that the same texts give the same terms on every machine.
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
    ):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf

    def _analyzer(self, text: str) -> list[str]:
        return analyze(text, tuple(self.ngram_range))

    def _fit(self, X: Iterable[str], keep_terms: Sequence[str] = ()) -> sp.csr_matrix:
        if keep_terms:
            return self._fit_keeping(X, keep_terms)
        counter = CountVectorizer(analyzer=self._analyzer, min_df=self.min_df, max_df=self.max_df)
        counts = counter.fit_transform(X)
        terms = counter.get_feature_names_out()
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

    def _fit_keeping(self, X: Iterable[str], keep_terms: Sequence[str]) -> sp.csr_matrix:
        # Every term counted, then the document-frequency bounds and max_features applied to
        # the terms not kept whatever: CountVectorizer's own bounds would drop kept terms.
        counter = CountVectorizer(analyzer=self._analyzer)
        counts = counter.fit_transform(X).tocsc()
        terms = counter.get_feature_names_out()
        n = counts.shape[0]
        df = np.diff(counts.indptr)
        low = self.min_df if isinstance(self.min_df, int) else self.min_df * n
        high = self.max_df if isinstance(self.max_df, int) else self.max_df * n
        kept = np.isin(terms, np.asarray(list(keep_terms), dtype=object))
        free = np.flatnonzero(~kept & (df >= low) & (df <= high))
        if self.max_features is not None and len(free) > self.max_features:
            _, chosen = self._most_frequent(counts[:, free].tocsr(), free, self.max_features)
            free = chosen
        columns = np.union1d(free, np.flatnonzero(kept))
        seen = set(terms[kept].tolist())
        unseen = sorted(set(keep_terms) - seen)
        counts = counts[:, columns].tocsr()
        terms = terms[columns]
        if unseen:
            order = np.argsort(np.concatenate([terms, np.asarray(unseen, dtype=object)]))
            counts = sp.hstack([counts, sp.csr_matrix((n, len(unseen)))], format="csc")
            counts = counts[:, order].tocsr()
            terms = np.concatenate([terms, np.asarray(unseen, dtype=object)])[order]
        return self._tfidf(counts, terms)

    def _tfidf(self, counts: sp.csr_matrix, terms: np.ndarray) -> sp.csr_matrix:
        tfidf = TfidfTransformer(sublinear_tf=self.sublinear_tf)
        matrix = tfidf.fit_transform(counts.astype(np.float64))
        self._set_vocabulary(terms.tolist(), tfidf.idf_)
        return matrix

    def fit(self, X: Iterable[str], y=None, keep_terms: Sequence[str] = ()) -> TfidfFeatures:
        self._fit(X, keep_terms)
        return self

    def fit_transform(
        self, X: Iterable[str], y=None, keep_terms: Sequence[str] = ()
    ) -> sp.csr_matrix:
        # scikit-learn's matrix equals what `transform` would compute (the tests check it);
        # reusing it saves analysing every training text a second time.
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
