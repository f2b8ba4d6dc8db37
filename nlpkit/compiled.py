"""The compiled core, when it is built, and what the rest of nlpkit asks of it.

`nlpkit._core` (from ``nlpkit/_core.c``) computes the whole predict path — normalisation,
pyvi's segmentation, terms, TF-IDF weights and linear scores — with the same results as the
pure-Python modules, which stay the reference and the fallback. `core` is the extension module,
or None when it is not built or the environment variable ``NLPKIT_PURE`` is set (to anything
but "" or "0"); callers read it at every call, so setting it to None switches every path to
pure Python (the tests compare the two that way).
"""

from __future__ import annotations

import os
import threading
from types import ModuleType
from typing import Any

__all__ = ["core", "describe", "segmenter", "make_segmenter", "scorer"]

core: ModuleType | None = None
_why_not = ""
if os.environ.get("NLPKIT_PURE", "") not in ("", "0"):
    _why_not = "NLPKIT_PURE is set"
else:
    try:
        from . import _core as core
    except ImportError as exc:
        import importlib.util

        if importlib.util.find_spec(f"{__package__}._core") is None:
            _why_not = "the compiled core is not built"  # no C compiler where it was installed
        else:
            _why_not = f"the compiled core does not load ({exc})"


def describe() -> str:
    """Which path predicts: "compiled core", or "pure Python" and why."""
    if core is not None:
        return "compiled core"
    return f"pure Python: {_why_not or 'the compiled core is switched off'}"


_lock = threading.Lock()
_segmenter: Any = None


def segmenter() -> Any:
    """The process's compiled segmenter: pyvi's model, read from the installed pyvi (never
    copied) at first use, as `nlpkit.segmenter` reads it."""
    global _segmenter
    if _segmenter is None:
        with _lock:
            if _segmenter is None:
                _segmenter = make_segmenter()
    return _segmenter


def make_segmenter(cache_limit: int | None = None) -> Any:
    """A new compiled segmenter whose syllable cache starts over past ``cache_limit``
    distinct syllables (default: nlpkit.segmenter's)."""
    import importlib.resources

    from .segmenter import _CACHE_LIMIT, _crfsuite_bytes

    models = importlib.resources.files("pyvi").joinpath("models")
    return core.Segmenter(
        _crfsuite_bytes(models.joinpath("pyvi3.pkl").read_bytes()),
        models.joinpath("words.txt").read_bytes(),
        _CACHE_LIMIT if cache_limit is None else cache_limit,
    )


def scorer(vocabulary: Any, coef: Any, intercept: Any, max_chars: int | None) -> Any:
    """A compiled scorer for a linear model over a `nlpkit.vocabulary.Vocabulary`."""
    import numpy as np

    # Sublinear tf is 1 + log(count): the logarithms come from numpy, whose vectorised log
    # can differ from the C library's in the last bit. A term occurs at most once per
    # character read; a text with a count beyond the table goes to the Python path.
    size = (max_chars if max_chars is not None else 1 << 16) + 2
    tf = np.concatenate([[0.0], 1.0 + np.log(np.arange(1, size, dtype=np.int64))])
    low, high = vocabulary.ngram_range
    return core.Scorer(
        segmenter(),
        vocabulary.terms_,
        np.ascontiguousarray(vocabulary.idf_, dtype=np.float64),
        np.ascontiguousarray(coef, dtype=np.float64),
        np.ascontiguousarray(intercept, dtype=np.float64),
        (int(low), int(high)),
        bool(vocabulary.sublinear_tf),
        max_chars,
        tf,
    )
