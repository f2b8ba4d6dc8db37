"""The compiled core, when it is built, and what the rest of nlpkit asks of it.

`nlpkit._core` (built from ``csrc/``; docs/core.md) computes the whole predict path —
normalisation, pyvi's segmentation, terms, TF-IDF weights and linear scores — with the same
results as the pure-Python modules, which stay the reference and the fallback. `core` is the
extension module, or None when it is not built or the environment variable ``NLPKIT_PURE`` is
set (to anything but "" or "0"); callers read it at every call, so setting it to None switches
every path to pure Python (the tests compare the two that way).

It sits low among nlpkit's modules: it imports none of them but pyvi's model reader (for the
compiled segmenter, shared by every model); a model's compiled scorer is made by the
`Predictor`, which holds the model.
"""

from __future__ import annotations

import os
import threading
from types import ModuleType
from typing import Any

__all__ = ["core", "describe", "segmenter", "make_segmenter", "CACHE_LIMIT"]

# Distinct syllables a segmenter's cache keeps before it starts over (both segmenters, so that
# they behave alike on long runs of new text).
CACHE_LIMIT = 1 << 17

# The interface of the core this module calls; a build of another (an extension left over from
# an older install) is not used.
ABI = 6

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
    else:
        if getattr(core, "ABI", None) != ABI:
            _why_not = "the compiled core is of another version (reinstall nlpkit)"
            core = None


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
    distinct syllables (default: `CACHE_LIMIT`)."""
    from .markup import read_markup
    from .pyvi_model import crfsuite_bytes, model_file

    return core.Segmenter(
        crfsuite_bytes(model_file("pyvi3.pkl")),
        model_file("words.txt"),
        CACHE_LIMIT if cache_limit is None else cache_limit,
        # (a text that holds "&" or "<" is given to it, as normalize does: one reading, Python's)
        read_markup,
    )
