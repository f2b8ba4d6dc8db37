"""Training, as a pipeline of small steps with data flowing one way:

- `config`: an experiment config read, defaults filled in, every value checked (once);
- `labels`: labelled examples from the corpora (weak labels, hand labels, news-page
  snippets, headlines), and a user's own labelled texts, another source of them: read by
  `reading` (a file, lists, an unlabelled feed), checked and split by `userdata`;
- `cleanup`: weak labels the rest of the data contradicts, dropped or relabelled;
- `fit`: features, classifier, calibration, cross-validation;
- `tuning`: a fitted model's temperature and out-of-scope line set on the development sample;
- `nlpkit.evaluate`: the held-out scores;
- `pipeline`: the steps in order; `output`: the model folder and results written;
- `api`: `nlpkit.train(texts, labels)` and `train_file`, the entry points for own data.
"""

from __future__ import annotations

from typing import Any

__all__ = ["train_config", "train_file", "train"]


def train_config(
    cfg: dict[str, Any], cache: Any = None, progress: Any = None
) -> tuple[Any, dict[str, Any]]:
    """Fit a model as an experiment config (from `config.load_config`) says: (Predictor, metrics)."""
    from .pipeline import run

    return run(cfg, cache=cache, progress=progress)


def __getattr__(name: str) -> Any:
    if name in ("train", "train_file"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
