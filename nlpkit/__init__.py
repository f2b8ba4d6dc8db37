"""nlpkit: file Vietnamese news under geopolitics, energy, domestic or sports (or none of them).

    >>> import nlpkit
    >>> nlpkit.predict("Giá xăng tăng 500 đồng mỗi lít từ chiều nay")
    'energy'

`predict`, `predict_proba` and `explain` use the model shipped with the package, loaded once, on
first use; `load(path)` gives a `Predictor` with the same methods for any saved model folder.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from .topics import TOPICS
from .version import __version__

if TYPE_CHECKING:
    from .errors import ModelError
    from .explanation import Explanation
    from .predictor import Predictor
    from .text import Texts
else:
    Texts = Sequence[str]  # (at run time; to a type checker, numpy's arrays too: nlpkit.text)

__all__ = [
    "predict",
    "predict_proba",
    "explain",
    "load",
    "train",
    "segment",
    "Predictor",
    "Explanation",
    "ModelError",
    "TOPICS",
    "__version__",
]

_default: Predictor | None = None
_lock = threading.Lock()

# `import nlpkit` loads nothing else: numpy, the model and the compiled core come with the
# first call that needs them.
_LAZY = {"Predictor": "predictor", "Explanation": "explanation", "ModelError": "errors"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    # What the package offers (the API, its submodules), not the names its own code imports.
    modules = {
        k for k, v in globals().items() if getattr(v, "__name__", "").startswith(__name__ + ".")
    }
    return sorted(set(__all__) | modules | {"__doc__", "__file__", "__name__", "__path__"})


@overload
def segment(text: str) -> str: ...  # type: ignore[overload-overlap]
@overload
def segment(text: Texts) -> list[str]: ...
def segment(text: str | Texts) -> str | list[str]:
    """Word-segment Vietnamese text: exactly ``pyvi.ViTokenizer.tokenize(text)``, syllables of
    one word joined by ``_`` (see `nlpkit.text.segment`); a list of texts gives a list."""
    from .text import segment as segment_text

    return segment_text(text)


def load(path: str | Path | None = None) -> Predictor:
    """Load a model folder (the shipped default model when ``path`` is None).

    Raises `ModelError`, naming the file and the problem, when the folder is missing, damaged,
    changed since it was saved, or of a format this version cannot read.
    """
    from . import modelfile
    from .predictor import Predictor

    return modelfile.load(modelfile.default_model_path() if path is None else path, Predictor)


def train(texts: Sequence[str], labels: Sequence[Any], **options: Any) -> Predictor:
    """A model of your own: ``texts`` filed under ``labels`` (two or more labels, any names).

        model = nlpkit.train(texts, labels)   # a list of texts, a label for each
        model.predict("...")
        model.save("my-model")                # nlpkit.load("my-model") reads it back

    ``holdout=0.2`` keeps a stratified, seeded share out of training and scores it (the
    figures: ``model.manifest["metrics"]``); ``titles=``, ``progress=`` (a callback
    ``progress(step, done, total)``) and the feature and classifier options are described in
    `nlpkit.training.api.train`. Bad data raises `ValueError` saying what is wrong.
    """
    from .training.api import train as train_model

    return train_model(texts, labels, **options)


def _model() -> Predictor:
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = load()
    return _default


@overload
def predict(texts: str, n_jobs: int = 1, allow_none: bool = False) -> str | None: ...  # type: ignore[overload-overlap]
@overload
def predict(texts: Texts, n_jobs: int = 1, allow_none: bool = False) -> list[str | None]: ...
def predict(
    texts: str | Texts, n_jobs: int = 1, allow_none: bool = False
) -> str | None | list[str | None]:
    """The topic of a text, or a list of topics for a list of texts (shipped model).

    ``allow_none=True``: None for a text outside the four topics (entertainment, lifestyle,
    gadgets, science...); it must be True or False (TypeError otherwise). ``n_jobs > 1``
    spreads a large list over that many processes; the answers are the same.
    """
    return (_default or _model()).predict(texts, n_jobs, allow_none)


@overload
def predict_proba(texts: str, n_jobs: int = 1, allow_none: bool = False) -> dict[str, float]: ...  # type: ignore[overload-overlap]
@overload
def predict_proba(
    texts: Texts, n_jobs: int = 1, allow_none: bool = False
) -> list[dict[str, float]]: ...
def predict_proba(
    texts: str | Texts, n_jobs: int = 1, allow_none: bool = False
) -> dict[str, float] | list[dict[str, float]]:
    """A dict of topic probabilities for a text, or a list of them for a list (shipped model).

    ``allow_none=True`` adds the probability that the text is outside the four topics
    (``"none"``); the five then sum to 1. ``n_jobs`` as in `predict`."""
    return _model().predict_proba(texts, n_jobs=n_jobs, allow_none=allow_none)


@overload
def explain(texts: str, k: int = 10, allow_none: bool = False) -> Explanation: ...  # type: ignore[overload-overlap]
@overload
def explain(texts: Texts, k: int = 10, allow_none: bool = False) -> list[Explanation]: ...
def explain(
    texts: str | Texts, k: int = 10, allow_none: bool = False
) -> Explanation | list[Explanation]:
    """The topic of a text and the ``k`` terms that decided it, or a list of those for a list
    of texts (shipped model); with ``allow_none=True`` the topic may be ``"none"``, and the
    terms say why."""
    return _model().explain(texts, k=k, allow_none=allow_none)
