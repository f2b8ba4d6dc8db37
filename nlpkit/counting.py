"""Counting terms: the unigrams and bigrams of many segmented texts, counted in one pass.

What `CountVectorizer(analyzer=analyze).fit_transform` computes, with its terms in the same
order, but with the words numbered and each text's terms counted in the compiled core (or with
numpy without it), and the most frequent terms chosen before any is named: several times
faster, and the fit of `nlpkit.features.TfidfFeatures` counts its texts so.
"""

from __future__ import annotations

import itertools
import numbers
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from itertools import islice

import numpy as np
import scipy.sparse as sp

from . import compiled
from .vocabulary import _LETTER

__all__ = ["count_terms"]


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
    token, doc, word_of, index = _number_words(texts)
    n_docs, n_words = len(texts), len(index)
    if bigrams and n_words * n_words >= 2**63:
        raise ValueError(f"too many distinct words ({n_words:,})")
    count_ngrams = getattr(compiled.core, "count_ngrams", None)
    if count_ngrams is not None:
        # (each text's terms counted where they are met, in the compiled core, which skips
        # the tokens that are no words itself)
        row, term, tf, bigram = (
            np.frombuffer(b, dtype=np.int64)
            for b in count_ngrams(token, doc, word_of, n_words, unigrams, bigrams)
        )
        n_terms = (n_words if unigrams else 0) + len(bigram)
        keys = np.concatenate([np.arange(n_terms - len(bigram), dtype=np.int64), bigram + n_words])
    else:
        word = word_of[token]
        words_only = word >= 0
        word, doc = word[words_only], doc[words_only]
        row, term, tf, keys, n_terms = _count_pairs(word, doc, n_words, n_docs, unigrams, bigrams)
        del word
    del token, doc
    if not len(row):
        raise ValueError("empty vocabulary: the texts have no words")
    df = np.bincount(term, minlength=n_terms)
    high_count = max_df if isinstance(max_df, numbers.Integral) else max_df * n_docs
    low_count = min_df if isinstance(min_df, numbers.Integral) else min_df * n_docs
    if high_count < low_count and not keep:
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
    keep_columns = getattr(compiled.core, "keep_columns", None)
    if keep_columns is not None:
        # (the entries of the kept columns in one pass, the arrays as scipy keeps them)
        indptr_b, col_b, data_b, wide = keep_columns(row, term, tf, column, n_docs)
        index_type = np.int64 if wide else np.int32
        indptr = np.frombuffer(indptr_b, dtype=index_type)
        col = np.frombuffer(col_b, dtype=index_type)
        data = np.frombuffer(data_b, dtype=np.int64)
    else:
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


def _number_words(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Every token of every text as a number, the number of the text it is in, the word
    each token number is (its number among the words, as `analyze` finds them, or -1 for a
    token that is no word), and the words by number. The compiled core numbers the tokens of
    every text in one pass (`number_tokens`); without it, texts are joined and split a few
    thousand at a time, and a token is numbered by a dict that numbers what it has not seen.
    Each distinct token is checked for a letter once."""
    has_letter = _LETTER.search
    number_tokens = getattr(compiled.core, "number_tokens", None)
    if number_tokens is not None:
        ids_bytes, doc_bytes, tokens = number_tokens(texts)
        keep = np.fromiter(
            (t.isalpha() or bool(has_letter(t)) for t in tokens), dtype=bool, count=len(tokens)
        )
        words = [t for t, k in zip(tokens, keep.tolist()) if k]
        word_of = np.where(keep, np.cumsum(keep) - 1, -1)
        return (
            np.frombuffer(ids_bytes, dtype=np.int64),
            np.frombuffer(doc_bytes, dtype=np.int64),
            word_of,
            words,
        )
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
    # words numbered 0, 1, ... among the tokens kept
    word_of = np.where(keep, np.cumsum(keep) - 1, -1)
    words = [t for t, k in zip(tokens_of, is_word) if k]
    if not pieces:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), word_of, words
    ids = np.concatenate([i for i, _ in pieces])
    doc = np.concatenate([d for _, d in pieces])
    return ids, doc, word_of, words
