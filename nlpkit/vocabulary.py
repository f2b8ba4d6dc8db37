"""A fitted TF-IDF vocabulary as plain data, and the pure-Python TF-IDF transform.

`Vocabulary` holds what prediction needs of a fitted `nlpkit.features.TfidfFeatures` — the
terms, their idf and the settings — without scikit-learn, which only training needs: a model
loaded for prediction never imports it. `analyze` and `tfidf_weights` are the terms and
weights of texts, shared by both classes, and the reference the compiled core is tested
against. `read_vocabulary` and `parse_vocabulary` read a model folder's vocabulary file.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ModelError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "Vocabulary",
    "VocabularyFile",
    "analyze",
    "with_title",
    "tfidf_weights",
    "log_tf",
    "smooth_idf",
    "read_vocabulary",
    "parse_vocabulary",
]

# A token (whitespace-separated; segmented words keep "_" inside) counts as a word when it has
# a letter: punctuation and bare numbers carry no topic.
_LETTER = re.compile(r"[^\W\d_]")


def with_title(segmented: str) -> str:
    """A segmented text with its first line once more before it: the terms of a news text's
    title (its first line; a headline alone is all title) counted twice (``repeat_title``).
    A title names the main subject that the body then surrounds with side matters (the fares
    that rose with fuel, the crash abroad told from home)."""
    return segmented.split("\n", 1)[0] + " \n " + segmented


def analyze(segmented: str, ngram_range: tuple[int, int] = (1, 2)) -> list[str]:
    """The terms of a segmented text: lower-cased words, then word n-grams joined by spaces.

    A word is a whitespace-separated token with at least one letter; punctuation and bare
    numbers carry no topic and are dropped before n-grams are formed.
    """
    # str.isalpha settles most tokens without the regular expression.
    has_letter = _LETTER.search
    words = [w for w in segmented.lower().split() if w.isalpha() or has_letter(w)]
    low, high = ngram_range
    terms = words if low <= 1 else []
    if high >= 2 and low <= 2:
        terms = terms + [a + " " + b for a, b in zip(words, words[1:])]
    for n in range(max(low, 3), high + 1):
        terms.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return terms


def float64(values: Any) -> Any:
    """``values`` as float64 numbers: a float64 memoryview (a model file's, read without numpy)
    as it is, anything else as a numpy array."""
    if isinstance(values, memoryview) and values.format == "d":
        return values
    import numpy as np

    return np.asarray(values, dtype=np.float64)


def as_array(values: Any) -> np.ndarray:
    """The numpy array of what `float64` gave (sharing a memoryview's memory)."""
    if isinstance(values, memoryview):
        import numpy as np

        return np.asarray(values)
    return values


_log_tf = [0.0]
_log_tf_lock = threading.Lock()


def log_tf(size: int) -> list[float]:
    """``[0, 1 + log 1, 1 + log 2, ..., 1 + log(size - 1)]``: the sublinear tf of each count.

    The logarithms are the C library's (`math.log`), for the pure-Python path and the compiled
    core alike: numpy's vectorised log may differ from it in the last bit, and the two paths
    must agree bit for bit without importing numpy where prediction does not need it.
    """
    if len(_log_tf) < size:
        with _log_tf_lock:
            _log_tf.extend(1.0 + math.log(k) for k in range(len(_log_tf), size))
    return _log_tf[:size]


def smooth_idf(n_texts: int, df: np.ndarray) -> np.ndarray:
    """Each term's smoothed idf, ``1 + log((1 + n_texts) / (1 + df))``, as scikit-learn's
    `TfidfTransformer` defines it, from its document frequencies ``df``.

    The logarithms are the C library's, as `log_tf`'s are: numpy's vectorised log picks an
    implementation by the processor (AVX-512 or not), and a last bit that differs in one idf
    moves every decision a training recipe takes after it (a solver stops at another step, a
    clean-up relabels other texts), so that the same texts gave other models on other machines.
    """
    import numpy as np

    ratio = (n_texts + 1) / (np.asarray(df, dtype=np.float64) + 1.0)
    # (one logarithm per distinct frequency: a few thousand, for any number of terms)
    distinct, where = np.unique(ratio, return_inverse=True)
    logs = np.fromiter((math.log(r) for r in distinct.tolist()), np.float64, len(distinct))
    return logs[where.reshape(ratio.shape)] + 1.0


def tfidf_weights(
    texts: Iterable[str],
    analyzer: Callable[[str], list[str]],
    vocabulary: dict[str, int],
    idf: np.ndarray,
    sublinear_tf: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The non-zero TF-IDF weights of texts as three flat arrays (text number, column,
    weight), sorted by text then column: sublinear (or raw) tf, times idf, L2-normalised.
    The compiled core adds the same numbers in the same order, so its weights are equal bit
    for bit."""
    import numpy as np

    if isinstance(texts, str):
        raise TypeError("TfidfFeatures.transform expects a list of texts, not one string")
    get = vocabulary.get
    columns: list[int] = []
    lengths: list[int] = []
    for text in texts:
        found = [j for j in map(get, analyzer(text)) if j is not None]
        columns.extend(found)
        lengths.append(len(found))
    cols = np.fromiter(columns, dtype=np.int64, count=len(columns))
    if len(lengths) == 1:  # one text: no text numbers to fold into the sort keys
        col, counts = np.unique(cols, return_counts=True)
        doc = np.zeros(len(col), dtype=np.int64)
    else:
        n_terms = len(idf)
        doc = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        keys, counts = np.unique(doc * n_terms + cols, return_counts=True)
        doc, col = np.divmod(keys, n_terms)
    if sublinear_tf:
        tf = np.array(log_tf(int(counts.max(initial=0)) + 1))[counts]
    else:
        tf = counts.astype(np.float64)
    w = tf * idf[col]
    norms = np.sqrt(np.bincount(doc, weights=w * w, minlength=len(lengths)))
    w /= norms[doc]
    return doc, col, w


class VocabularyFile:
    """The text of a vocabulary file (UTF-8, one term per line) and its number of lines,
    counted once: a model's loader needs the number before the terms (for the shape of the
    arrays it reads), and the `Vocabulary` it makes takes both."""

    __slots__ = ("data", "lines")

    def __init__(self, data: bytes):
        self.data = data
        self.lines = data.count(b"\n")


class Vocabulary:
    """The fitted state of a `TfidfFeatures` as plain data: ``terms_`` (column -> term),
    ``idf_``, and the settings it was fitted with (its ``get_params()``).

    Transforms like the estimator (`weights`); `TfidfFeatures.to_vocabulary` makes one of the
    estimator, `TfidfFeatures.of` the estimator of one. (This module imports nothing of
    `nlpkit.features`, which builds on it.)
    """

    # The TfidfFeatures settings this class knows; a model with others keeps its estimator.
    PARAMS = ("ngram_range", "min_df", "max_df", "max_features", "sublinear_tf", "repeat_title")

    def __init__(
        self,
        terms: Sequence[str] | bytes | VocabularyFile,
        idf: np.ndarray,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int | float = 2,
        max_df: int | float = 1.0,
        max_features: int | None = None,
        sublinear_tf: bool = True,
        repeat_title: bool = False,
    ):
        # ``terms`` may be the text of a vocabulary file (UTF-8, one term per line), kept as
        # bytes until a term is asked for: the compiled core reads the bytes themselves, and
        # 150,000 Python strings would cost a model's load more than all the rest of it.
        if isinstance(terms, bytes):
            terms = VocabularyFile(terms)
        if isinstance(terms, VocabularyFile):
            self._file, self._terms, self.n_terms_ = terms.data, None, terms.lines
        else:
            self._file, self._terms = None, terms if isinstance(terms, list) else list(terms)
            self.n_terms_ = len(self._terms)
        self._idf = float64(idf)
        if tuple(self._idf.shape) != (self.n_terms_,):
            raise ValueError(f"{self.n_terms_} terms but {tuple(self._idf.shape)} idf values")
        self.ngram_range = tuple(ngram_range)
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.repeat_title = repeat_title
        self._index: dict[str, int] | None = None

    @classmethod
    def supports(cls, params: dict[str, Any]) -> bool:
        """Whether settings (a model folder's, an estimator's) are ones this class knows."""
        return set(params) <= set(cls.PARAMS)

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.PARAMS}

    @property
    def terms_(self) -> list[str]:
        """The terms, column by column."""
        if self._terms is None:
            self._terms = self._file.decode("utf-8").split("\n")[:-1]
        return self._terms

    @property
    def idf_(self) -> np.ndarray:
        self._idf = as_array(self._idf)
        return self._idf

    def _core_terms(self) -> bytes | list[str]:
        """The terms as the compiled core reads them: a vocabulary file's bytes, or the list."""
        return self._file if self._file is not None else self._terms

    @property
    def vocabulary_(self) -> dict[str, int]:
        """term -> column, built at first use (the compiled core keeps its own)."""
        if self._index is None:
            self._index = {term: i for i, term in enumerate(self.terms_)}
        return self._index

    def weights(self, X: Iterable[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As `TfidfFeatures.weights`."""
        ngram_range, titled = self.ngram_range, self.repeat_title
        return tfidf_weights(
            X,
            lambda t: analyze(with_title(t) if titled else t, ngram_range),
            self.vocabulary_,
            self.idf_,
            self.sublinear_tf,
        )

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_index"] = None  # rebuilt where it is needed: smaller to send to workers
        state["_idf"] = self.idf_  # (a memoryview does not pickle)
        return state


# -- the vocabulary file of a model folder ---------------------------------------------------


def read_vocabulary(path: Path) -> list[str]:
    """The terms of a model folder's vocabulary.txt, checked as `load` checks them."""
    return parse_vocabulary(path.read_bytes(), path)


_CONTROL_IN_TERM = re.compile("[\x00-\x09\x0b-\x1f\x7f\ufeff]")


def parse_vocabulary(data: bytes, path: Path) -> list[str]:
    """The terms of a vocabulary file: UTF-8, one distinct, non-empty term per line, each line
    ended by a newline, no term holding a control character or byte-order mark (a file with
    Windows line ends would load with "\r" in every term, matching none). The compiled core
    reads the bytes itself, with the same checks, line by line in the same order."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_vocabulary(path, data.count(b"\n", 0, exc.start) + 1, "not UTF-8") from None
    terms = text.split("\n")
    if terms[-1] != "":
        raise bad_vocabulary(path, len(terms), "no newline at the end")
    del terms[-1]
    if len(set(terms)) != len(terms) or "" in terms or _CONTROL_IN_TERM.search(text):
        seen: set[str] = set()
        for line, term in enumerate(terms, 1):
            if not term:
                raise bad_vocabulary(path, line, "an empty term")
            if _CONTROL_IN_TERM.search(term):
                raise bad_vocabulary(path, line, "a control character or byte-order mark in a term")
            if term in seen:
                raise bad_vocabulary(path, line, "a term given twice")
            seen.add(term)
    return terms


def bad_vocabulary(path: Path, line: int | str, problem: str = "") -> ModelError:
    where = f"line {line}: {problem}" if problem else str(line)
    return ModelError(f"{path}: expected one distinct, non-empty term per line ({where})")
