"""Features: segmented Vietnamese text to TF-IDF vectors, as ordinary scikit-learn estimators.

`Segmenter` prepares raw text (normalise + pyvi); `TfidfFeatures` turns segmented text into
L2-normalised TF-IDF rows over words and word n-grams. Both compose in a `Pipeline`.

`TfidfFeatures` learns what scikit-learn's `TfidfVectorizer` learns (the terms counted by the
compiled core or `CountVectorizer`, weighed as `TfidfTransformer` weighs them, with the C
library's logarithms) but keeps only plain data (the terms and their idf), and transforms with
its own code. That makes a fitted instance rebuildable from arrays without unpickling
(`from_vocabulary`), independent of scikit-learn's
private attributes across versions, and fast on one text.
"""

from __future__ import annotations

import itertools
import numbers
from collections import defaultdict
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from itertools import islice

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from . import compiled
from .text import prepare
from .vocabulary import (
    _LETTER,
    Vocabulary,
    analyze,
    log_tf,
    smooth_idf,
    tfidf_weights,
    with_title,
)

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

    def _fit(self, X: Iterable[str], keep_terms: Sequence[str] = ()) -> sp.csr_matrix:
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
        low = self.min_df if isinstance(self.min_df, int) else self.min_df * n
        high = self.max_df if isinstance(self.max_df, int) else self.max_df * n
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


def count_terms(
    texts: Iterable[str],
    ngram_range: tuple[int, int] = (1, 2),
    min_df: int | float = 1,
    max_df: int | float = 1.0,
    max_features: int | None = None,
    keep: AbstractSet[str] = frozenset(),
) -> tuple[sp.csr_matrix, np.ndarray]:
    """The counts of the unigrams and bigrams of texts as ``CountVectorizer(analyzer=analyze,
    min_df=..., max_df=...).fit_transform`` gives them, with its terms (alphabetical), but
    with the entries of each row in column order (scikit-learn leaves them in the order the
    terms first appeared in the texts); about three times faster. ``max_features``: only the
    columns of the most frequent terms, ties broken alphabetically (as
    `TfidfFeatures` keeps them), chosen before any term is named or any column built.
    ``keep``: terms counted whatever their document frequency, beside the ``max_features``
    others (those of them that no text holds are not among the terms).

    scikit-learn looks every n-gram of every text up in a dict, in Python. Here the words are
    numbered and each text's terms counted in the compiled core (`number_tokens`,
    `count_ngrams`), or without it, the words numbered by a dict and the terms counted with
    numpy; document frequencies and the choice of terms are numpy's.
    """
    low, high = ngram_range
    unigrams, bigrams = low <= 1, high >= 2
    texts = texts if isinstance(texts, list) else list(texts)
    word, doc, index = _number_words(texts)
    n_docs, n_words = len(texts), len(index)
    if bigrams and n_words * n_words >= 2**63:
        raise ValueError(f"too many distinct words ({n_words:,})")
    count_ngrams = getattr(compiled.core, "count_ngrams", None)
    if count_ngrams is not None:
        # (each text's terms counted where they are met, in the compiled core)
        row, term, tf, bigram = (
            np.frombuffer(b, dtype=np.int64)
            for b in count_ngrams(word, doc, n_words, unigrams, bigrams)
        )
        n_terms = (n_words if unigrams else 0) + len(bigram)
        keys = np.concatenate([np.arange(n_terms - len(bigram), dtype=np.int64), bigram + n_words])
    else:
        row, term, tf, keys, n_terms = _count_pairs(word, doc, n_words, n_docs, unigrams, bigrams)
    del word, doc
    if not len(row):
        raise ValueError("empty vocabulary: the texts have no words")
    df = np.bincount(term, minlength=n_terms)
    high_count = max_df if isinstance(max_df, numbers.Integral) else max_df * n_docs
    low_count = min_df if isinstance(min_df, numbers.Integral) else min_df * n_docs
    if high_count < low_count:
        raise ValueError(
            f"min_df {min_df} asks for terms in at least {low_count:g} of the {n_docs:,} texts, "
            f"and max_df {max_df} for at most {high_count:g}: no term can be kept; lower min_df "
            "or raise max_df"
        )
    kept = np.flatnonzero((df >= low_count) & (df <= high_count))
    forced = _kept_terms(keep, index, keys, n_words, unigrams, bigrams)
    if len(forced):
        kept = np.setdiff1d(kept, forced, assume_unique=True)
    elif not len(kept) and not keep:
        raise ValueError(
            f"no term is in at least min_df {min_df} and at most max_df {max_df} of the "
            f"{n_docs:,} texts: lower min_df or raise max_df"
        )
    words = index

    def named(chosen: np.ndarray) -> list[str]:
        names = []
        for k in keys[chosen].tolist():
            if k < n_words:
                names.append(words[k])
            else:
                a, b = divmod(k - n_words, n_words)
                names.append(words[a] + " " + words[b])
        return names

    if max_features is not None and len(kept) > max_features:
        # Naming a term and sorting it costs more than counting it, and most terms are rare:
        # the most frequent are chosen by their counts alone, and only the terms tied at the
        # cut are named, to break the tie alphabetically.
        # (a term's total is its document frequency plus what its repeats add: most entries
        # are single, and counting the few others is cheaper than weighing them all)
        again = tf > 1
        totals = df[kept] + np.bincount(term[again], weights=tf[again] - 1, minlength=n_terms)[kept]
        cut = np.partition(totals, len(totals) - max_features)[len(totals) - max_features]
        above = kept[totals > cut]
        tied = kept[totals == cut]
        tied_names = named(tied)
        first = sorted(range(len(tied)), key=tied_names.__getitem__)[: max_features - len(above)]
        kept = np.sort(np.concatenate([above, tied[np.asarray(first, dtype=np.int64)]]))
    if len(forced):
        kept = np.union1d(kept, forced)
    names = named(kept)
    order = sorted(range(len(names)), key=names.__getitem__)
    column = np.full(len(keys), -1, dtype=np.int64)
    column[kept[order]] = np.arange(len(order), dtype=np.int64)
    col = column[term]
    keep = col >= 0
    row, col, data = row[keep], col[keep], tf[keep].astype(np.int64, copy=False)
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n_docs), out=indptr[1:])
    counts = sp.csr_matrix((data, col, indptr), shape=(n_docs, len(order)))
    counts.sort_indices()
    return counts, np.asarray([names[i] for i in order], dtype=object)


def _kept_terms(
    keep: AbstractSet[str],
    words: list[str],
    keys: np.ndarray,
    n_words: int,
    unigrams: bool,
    bigrams: bool,
) -> np.ndarray:
    """The numbers of the terms of ``keep`` that the texts hold (a term's key: a word's
    number, or n_words + first * n_words + second), in rising order."""
    if not keep:
        return np.zeros(0, dtype=np.int64)
    parts = [term.split(" ") for term in keep]
    needed = {w for p in parts if len(p) <= 2 for w in p}
    number = {w: i for i, w in enumerate(words) if w in needed}
    wanted = []
    for p in parts:
        if len(p) == 1 and unigrams and p[0] in number:
            wanted.append(number[p[0]])
        elif len(p) == 2 and bigrams and p[0] in number and p[1] in number:
            wanted.append(n_words + number[p[0]] * n_words + number[p[1]])
    return np.flatnonzero(np.isin(keys, np.asarray(wanted, dtype=np.int64)))


def _count_pairs(
    word: np.ndarray, doc: np.ndarray, n_words: int, n_docs: int, unigrams: bool, bigrams: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Each text's terms and how often it holds them (row, term, tf, sorted by row and term),
    every term's key (a word's number, or n_words + first * n_words + second) and the number
    of terms, with numpy: a term's number is a word's, or for a bigram n_words + the rank of
    (first, second) among the distinct bigrams; a (text, term) pair's key, text * n_terms +
    term, is counted by sorting them all."""
    parts, terms = [], []
    if unigrams:
        parts.append(word)
        terms.append(np.arange(n_words, dtype=np.int64))
    else:
        terms.append(np.zeros(0, dtype=np.int64))
    n_terms = n_words if unigrams else 0
    pair_doc = [doc] if unigrams else []
    if bigrams:
        inside = doc[:-1] == doc[1:]
        bigram, number_of = _unique_inverse(word[:-1][inside] * n_words + word[1:][inside])
        parts.append(number_of + n_terms)
        pair_doc.append(doc[:-1][inside])
        terms.append(bigram + n_words)
        n_terms += len(bigram)
    if n_docs * max(n_terms, 1) >= 2**63:
        raise ValueError(f"too many terms ({n_terms:,}) in too many texts ({n_docs:,})")
    pairs, tf = np.unique(
        np.concatenate(pair_doc) * n_terms + np.concatenate(parts), return_counts=True
    )
    row, term = np.divmod(pairs, max(n_terms, 1))
    return row, term, tf, np.concatenate(terms), n_terms


# Between two texts joined for splitting: a token no text of its own can hold.
_SEPARATOR = "\x00"
_CHUNK = 2000


def _unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for non-negative integers, by one sort of
    each value packed with its position (a plain sort is several times faster than the
    argsort numpy's version makes)."""
    n = len(values)
    bits = max(n - 1, 1).bit_length()
    top = int(values.max()) if n else 0
    if not n or top.bit_length() + bits > 63:
        distinct, inverse = np.unique(values, return_inverse=True)
        return distinct, inverse.ravel()
    packed = np.sort((values << bits) | np.arange(n, dtype=np.int64))
    ordered = packed >> bits
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    inverse = np.empty(n, dtype=np.int64)
    inverse[packed & ((1 << bits) - 1)] = np.cumsum(starts) - 1
    return ordered[starts], inverse


def _number_words(texts: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every word of every text as a number (words as `analyze` finds them), the number of the
    text it is in, and the words by number. The compiled core numbers the tokens of every
    text in one pass (`number_tokens`); without it, texts are joined and split a few thousand
    at a time, and a token is numbered by a dict that numbers what it has not seen. Each
    distinct token is checked for a letter once."""
    has_letter = _LETTER.search
    number_tokens = getattr(compiled.core, "number_tokens", None)
    if number_tokens is not None:
        ids_bytes, doc_bytes, tokens = number_tokens(texts)
        ids = np.frombuffer(ids_bytes, dtype=np.int64)
        keep = np.fromiter(
            (t.isalpha() or bool(has_letter(t)) for t in tokens), dtype=bool, count=len(tokens)
        )
        mask = keep[ids]
        words = [t for t, k in zip(tokens, keep.tolist()) if k]
        renumber = np.cumsum(keep) - 1
        return renumber[ids[mask]], np.frombuffer(doc_bytes, dtype=np.int64)[mask], words
    number: defaultdict[str, int] = defaultdict(itertools.count().__next__)
    number[_SEPARATOR]  # number 0
    is_word = [False]
    pieces: list[tuple[np.ndarray, np.ndarray]] = []
    for begin in range(0, len(texts), _CHUNK):
        chunk = texts[begin : begin + _CHUNK]
        if any(_SEPARATOR in t for t in chunk):  # (never from nlpkit.text.prepare)
            raise ValueError("a text holds a NUL character")
        tokens = (" " + _SEPARATOR + " ").join(chunk).lower().split()
        seen = len(number)
        ids = np.fromiter(map(number.__getitem__, tokens), dtype=np.int64, count=len(tokens))
        # punctuation and bare numbers carry no topic
        is_word.extend(t.isalpha() or bool(has_letter(t)) for t in islice(number, seen, None))
        # the separators' running count numbers the texts
        doc = np.cumsum(ids == 0) + begin
        pieces.append((ids, doc))
    tokens_of = list(number)
    keep = np.asarray(is_word, dtype=bool)
    # words renumbered 0, 1, ... among the tokens kept
    renumber = np.cumsum(keep) - 1
    words = [t for t, k in zip(tokens_of, is_word) if k]
    if not pieces:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), words
    ids = np.concatenate([i for i, _ in pieces])
    doc = np.concatenate([d for _, d in pieces])
    mask = keep[ids]
    return renumber[ids[mask]], doc[mask], words
