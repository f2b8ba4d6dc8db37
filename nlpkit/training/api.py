"""Training on one's own labelled texts: `nlpkit.train(texts, labels)` in Python, and
`train_file` behind ``nlpkit train --data FILE``."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..predictor import Predictor
from .config import OWN_DATA, ConfigError, make_config
from .progress import Progress, ProgressCallback
from .reading import DataError, data_name, from_lists, read_file
from .userdata import split

__all__ = ["train", "train_file", "OPTIONS"]

# The keyword options of `train` and where each one goes in a config.
OPTIONS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "seed": ("seed",),
    "cv": ("cv",),
    "n_jobs": ("n_jobs",),
    "max_chars": ("data", "max_chars"),
    "ngram_range": ("features", "ngram_range"),
    "min_df": ("features", "min_df"),
    "max_df": ("features", "max_df"),
    "max_features": ("features", "max_features"),
    "sublinear_tf": ("features", "sublinear_tf"),
    "repeat_title": ("features", "repeat_title"),
    "segment": ("features", "segment"),
    "classifier": ("classifier", "kind"),
    "C": ("classifier", "C"),
    "alpha": ("classifier", "alpha"),
    "max_iter": ("classifier", "max_iter"),
    "tol": ("classifier", "tol"),
    "solver": ("classifier", "solver"),
    "class_weight": ("classifier", "class_weight"),
    "nb_blend": ("classifier", "nb_blend"),
    "nb_alpha": ("classifier", "nb_alpha"),
    "temperature": ("classifier", "temperature"),
}


# The arguments of `train` and `train_file` besides the training options.
_TRAIN_ARGUMENTS = ("titles", "holdout", "progress", "cache")
_FILE_ARGUMENTS = (
    "text_field", "label_field", "title_field", "split_field", "holdout", "base", "weight",
    "progress", "cache", "corpora",
)  # fmt: skip


def own_data_config(
    options: dict[str, Any], base: dict[str, Any] | None = None, arguments: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The config of a run on a user's data: the own-data defaults (or ``base``, a recipe the
    user's texts are added to) with ``options`` (names of `OPTIONS`); ``arguments``: the
    caller's own, named with them when an option is unknown."""
    from ..topics import check_model_name

    if isinstance(options.get("name"), str):  # (another type: refused by the config's check)
        check_model_name(options["name"])
    changes: dict[str, Any] = {}
    for key, value in options.items():
        if key not in OPTIONS:
            # (the caller's own arguments too: a misspelt one arrives here)
            known = sorted({*OPTIONS, *arguments})
            raise TypeError(f"unknown training option {key!r} (known: {', '.join(known)})")
        if key == "ngram_range" and isinstance(value, tuple):
            value = list(value)
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = int(value)  # (numpy's integers, as every count of nlpkit takes them)
        *tables, last = OPTIONS[key]
        target = changes
        for table in tables:
            target = target.setdefault(table, {})
        target[last] = value
    try:
        cfg = make_config(OWN_DATA) if base is None else base
        return make_config(changes, base=cfg)
    except ConfigError as exc:
        raise ValueError(str(exc).replace("config key", "option")) from None


def _fit(data, cfg, holdout, progress, cache, base=None, weight=1.0):
    from .. import compiled
    from ..cache import SegmentCache
    from .pipeline import run

    if progress is not None and not callable(progress) and not isinstance(progress, Progress):
        raise TypeError(
            f"progress must be a function of (step, done, total), got {type(progress).__name__}"
        )
    if cache is not None and cache is not False and not isinstance(cache, SegmentCache):
        raise TypeError(
            "cache must be a nlpkit.cache.SegmentCache, False (none) or None (the default), "
            f"got {type(cache).__name__}"
        )

    if cache is None and compiled.core is not None and base is None:
        # The compiled segmenter reads a text faster than the cache looks it up and stores
        # it; the cache is for the pure-Python one, and for the recipes over the corpora.
        cache = False

    user = split(data, holdout, cfg["seed"], weight, alone=base is None)
    reporter = progress if isinstance(progress, Progress) else Progress(progress)
    base_model = None
    if base is not None:
        known = set(base.classes)
        alien = sorted({r.source_category for r in user.train + user.heldout} - known)
        if alien:
            raise DataError(
                f"label {alien[0]!r} is not one of the base model's classes "
                f"({', '.join(base.classes)}): --base adds texts of its topics"
            )
        base_model = base
    predictor, metrics = run(cfg, cache=cache, progress=reporter, user=user, base=base_model)
    lacking = metrics["heldout"]["distant"].get("labels_the_model_lacks")
    if lacking:
        warnings.warn(
            f"{sum(lacking.values()):,} held-out texts have labels no training text has "
            f"({', '.join(map(repr, list(lacking)[:5]))}): the model never answers them, so "
            "they are scored as wrong",
            stacklevel=3,
        )
    return predictor, metrics


def train(
    texts: Sequence[str],
    labels: Sequence[Any],
    *,
    titles: Sequence[str] | None = None,
    holdout: float = 0.0,
    progress: ProgressCallback | None = None,
    cache: Any = None,
    **options: Any,
) -> Predictor:
    """A model of ``texts`` under ``labels`` (two or more labels, any names): a `Predictor`
    whose ``save(path)`` writes a folder `nlpkit.load` reads. A label is a string, or an
    integer (numpy's too, as in a scikit-learn ``y``), whose class is then named "0", "1"...

    ``holdout``: a stratified, seeded share of the texts kept out of training and scored (the
    figures are in ``predictor.manifest["metrics"]``); 0 trains on everything. ``progress``:
    called as ``progress(step, done, total)`` through segmentation, features and fitting.
    ``options``: ``seed``, ``cv``, ``max_chars``, the features' ``ngram_range``,
    ``min_df``, ``max_df``, ``max_features``, ``sublinear_tf``, ``repeat_title`` (the
    terms of a text's first line, its title, counted twice), ``segment``, and the
    ``classifier`` (logistic_regression, linear_svc, sgd, complement_nb) with its ``C``,
    ``alpha``, ``max_iter``, ``tol``, ``class_weight`` and (logistic regression's) ``solver``
    (lbfgs or newton-cg) and ``nb_blend``, the weight of a complement naive Bayes's scores
    added to its own (``nb_alpha``, that naive Bayes's smoothing); ``temperature``, the
    probabilities' T in softmax(T * scores) (0, the default: the classifier's own);
    ``n_jobs``, the processes to train with (0, the default: the machine's cores, at most 4;
    the model is the same whatever the number). ``texts``, ``labels`` and ``titles`` are
    lists, tuples, numpy arrays or pandas Series (anything else, a string or a generator, is a
    `TypeError`); bad data raises `ValueError` saying what.
    """
    from .output import model_extra

    cfg = own_data_config({"name": "model", **options}, arguments=_TRAIN_ARGUMENTS)
    predictor, metrics = _fit(from_lists(texts, labels, titles), cfg, holdout, progress, cache)
    predictor.manifest = {"name": cfg["name"], **model_extra(cfg, metrics)}
    return predictor


def train_file(
    path: str | Path,
    *,
    text_field: str = "text",
    label_field: str = "label",
    title_field: str | None = None,
    split_field: str | None = None,
    holdout: float = 0.2,
    base: str | None = None,
    weight: float | None = None,
    progress: ProgressCallback | Progress | None = None,
    cache: Any = None,
    corpora: list[str] | None = None,
    **options: Any,
) -> tuple[Predictor, dict[str, Any], dict[str, Any]]:
    """Train on a labelled file (see `nlpkit.training.reading.read_file`): the model, the
    run's metrics and its config. ``base``: "default" (the shipped model's recipe) or a config
    file, whose training data the file's texts join with sample weight ``weight`` (default:
    the recipe's weight of hand labels)."""
    if weight is not None:
        from .config import check_weight

        check_weight("weight", weight)
    data = read_file(path, text_field, label_field, title_field, split_field)
    name = options.pop("name", None) or data_name(path)
    if base is None:
        cfg = own_data_config({"name": name, **options}, arguments=_FILE_ARGUMENTS)
        predictor, metrics = _fit(data, cfg, holdout, progress, cache)
        return predictor, metrics, cfg
    from ..modelfile import default_model_path, load
    from .config import load_config

    if base == "default":
        shipped = load(default_model_path(), Predictor)
        recipe = make_config(shipped.manifest.get("training_config", {}))
    else:
        shipped = None
        recipe = load_config(base)
    if corpora:
        recipe["data"]["corpora"] = corpora
    cfg = own_data_config({"name": name, **options}, base=recipe, arguments=_FILE_ARGUMENTS)
    weight = cfg["data"]["train_label_weight"] if weight is None else weight
    base_model = shipped if shipped is not None else None
    if base_model is None:
        # A config of one's own: its model is trained first, to say what the file changes.
        from .pipeline import run

        base_model, _ = run(
            recipe,
            cache=cache,
            progress=progress if isinstance(progress, Progress) else Progress(progress),
        )
    predictor, metrics = _fit(data, cfg, holdout, progress, cache, base_model, weight)
    return predictor, metrics, cfg
