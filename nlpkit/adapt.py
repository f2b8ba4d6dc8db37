"""Adapting a model to an unlabelled feed: the news moves on, the labels do not come with it.

A newsroom has its own feed and no labels; a model trained on last year's news meets new
leaders, places and products in it. `adapt` refreshes a model from such an archive without a
single label: the model labels the texts it is sure of (self-training), the labelling
functions of the topic definitions' boundary table label those whose text settles them (a fuel
crime, an energy company's finances, a foreign dateline), and a new model is fitted on them. The
new one learns the terms that come with the sure texts (a new leader's name beside "hội đàm")
and uses them on the texts the old one was unsure of.

`adapt` in Python, ``nlpkit adapt --unlabeled FILE`` on the command line. With a recipe
(``config``, which needs the corpora it names), the feed joins the recipe's own training data;
without one, the new model is fitted on the feed alone, with the teacher's settings. `feed_labels`
is the labelling step alone, which the recipe's self-training (``data.self_training``) uses too.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .arguments import empty_cell
from .topics import NONE
from .training.feed import feed_labels, feed_records

if TYPE_CHECKING:
    from .predictor import Predictor

__all__ = ["adapt", "feed_labels", "feed_records"]

# A topic learned from fewer of the feed's texts than this, by a model fitted on the feed alone,
# is as good as lost: said.
_FEW = 20


def _feed_lists(texts: object, titles: object) -> tuple[list[str], list[str] | None]:
    """The feed's texts and titles as lists of strings (a title None or NaN, as pandas gives for
    an empty cell, is no title); a `TypeError` or `ValueError` naming the item otherwise."""
    from .text import has_content, is_sequence

    for what, value in (("texts", texts), ("titles", titles)):
        # (a string is a sequence of characters: one text, or its titles, letter by letter)
        if value is not None and not is_sequence(value):
            raise TypeError(
                f"adapt takes {what} as a list, tuple, numpy array or pandas Series of str, "
                f"not {type(value).__name__}"
            )
    texts = list(texts)  # type: ignore[call-overload]
    heads = None if titles is None else list(titles)  # type: ignore[call-overload]
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] must be str, not {type(text).__name__}")
    for i, title in enumerate(heads or []):
        if empty_cell(title):
            heads[i] = ""  # type: ignore[index]
        elif not isinstance(title, str):
            raise TypeError(f"titles[{i}] must be str, not {type(title).__name__}")
    if heads is not None and len(heads) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(heads)} titles")
    for i, text in enumerate(texts):
        if not has_content(text) and not (heads and has_content(heads[i])):
            raise ValueError(f"texts[{i}] has nothing to read (empty, and no title)")
    return texts, heads


def _student_config(teacher: Predictor, threshold: float, name: str) -> dict[str, Any]:
    """A config for a model of the feed alone: the teacher's features, classifier, headlines
    and out-of-scope settings where its manifest records them, no corpus, no hand labels."""
    from .training.config import DEFAULTS, make_config

    recorded = (teacher.manifest or {}).get("training_config") or {}
    changes: dict[str, Any] = {"name": name}
    for table in ("features", "classifier"):
        if table in recorded:
            changes[table] = {k: v for k, v in recorded[table].items() if k in DEFAULTS[table]}
    data = recorded.get("data", {})
    changes["data"] = {
        "files": [],
        "corpora": [],
        "labels": "section",
        "dev_labels": [],
        "eval_labels": [],
        "boundary_labels": [],
        "title_weight": data.get("title_weight", 0.5),
        "max_chars": teacher.max_chars or DEFAULTS["data"]["max_chars"],
        "out_of_scope": ("detector" if teacher.none_head == "detector" else "class")
        if teacher.none
        else "drop",
        "self_training": {"threshold": threshold},
    }
    classifier = changes.setdefault("classifier", {})
    if classifier.get("tune_temperature"):
        # Nor a temperature to read off it: the teacher's is kept.
        classifier["tune_temperature"] = False
        classifier["temperature"] = teacher.temperature
    if not teacher.none:
        classifier["none_offset"] = 0.0
    elif classifier.get("tune_none_offset"):
        # A feed has no development sample: the line the teacher's was found at is kept.
        tuned = (teacher.manifest.get("metrics") or {}).get("training", {}).get("none_offset")
        classifier["tune_none_offset"] = False
        classifier["none_offset"] = classifier.get("none_offset", 0.0) + (tuned or {}).get(
            "offset", 0.0
        )
    return make_config(changes)


def adapt(
    texts: Sequence[str],
    *,
    titles: Sequence[str] | None = None,
    model: Predictor | str | Path | None = None,
    config: str | Path | dict[str, Any] | None = None,
    threshold: float = 0.7,
    name: str = "adapted",
    progress: Any = None,
    cache: Any = None,
) -> tuple[Predictor, dict[str, Any]]:
    """A model refreshed from unlabelled ``texts`` (and their ``titles``): the ``model``
    (a `Predictor` or a model folder; default: the shipped one) labels the texts it is at
    least ``threshold`` sure of, the boundary rules of the topic definitions label those their
    text settles, and a new model is fitted on them — with the training data of ``config`` (an
    experiment config, whose corpora must be at hand), or on the feed alone.

    Returns the new model, named ``name`` when fitted on the feed alone (with a recipe, by the
    recipe's name), and the run's metrics (what labelled the feed, the training
    figures and, with a recipe, its held-out scores); ``model.save(path)`` writes it.
    """
    from . import load
    from .predictor import Predictor
    from .training.config import load_config, make_config
    from .training.output import model_extra
    from .training.pipeline import TooFewLabels, run
    from .training.progress import Progress

    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise TypeError(f"threshold must be a number, got {type(threshold).__name__}")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be within (0, 1], got {threshold}")
    from .topics import check_model_name

    if not isinstance(name, str):
        raise TypeError(f"name must be a string, not {type(name).__name__}")
    check_model_name(name)
    teacher = model if isinstance(model, Predictor) else load(model)
    records = feed_records(*_feed_lists(texts, titles))
    if not records:
        raise ValueError("adapt needs at least one text")
    if config is None:
        cfg = _student_config(teacher, threshold, name)
    else:
        base = config if isinstance(config, dict) else load_config(config)
        cfg = make_config({"data": {"self_training": {"threshold": threshold}}}, base=base)
    reporter = progress if isinstance(progress, Progress) else Progress(progress)
    try:
        predictor, metrics = run(cfg, cache=cache, progress=reporter, feed=(teacher, records))
    except TooFewLabels as exc:
        raise ValueError(
            f"the feed gave too little to learn from: {exc} (its texts the model was sure "
            "of, and their headlines); adapt from a feed of wider news, with a lower "
            "threshold, or with a recipe's corpora beside it (config)"
        ) from None
    # (the card and manifest say which model labelled the feed)
    metrics["training"]["feed"]["teacher"] = {
        "name": teacher.manifest.get("name"),
        "seal": teacher.manifest.get("seal"),
    }
    predictor.manifest = {"name": cfg["name"], **model_extra(cfg, metrics)}
    alone = config is None
    lost = [t for t in teacher.classes if t not in predictor.classes] if alone else []
    scarce = {
        t: n
        for t, n in metrics["training"]["feed"]["labels"].items()
        if alone and t in predictor.topics and n < _FEW
    }
    said = [f"has no {', '.join(lost)}: the feed gave it no text of it"] if lost else []
    if NONE in lost:
        said[0] += " (allow_none is refused by it)"
    if scarce:
        learned = ", ".join(f"{t} from {n} text{'s' * (n != 1)}" for t, n in scarce.items())
        said.append(f"learned {learned} of the feed alone")
    if said:
        warnings.warn(
            f"the adapted model {'; '.join(said)}: a feed of wider news, or a recipe's "
            "corpora beside it (config), keeps them",
            stacklevel=2,
        )
    learned = metrics["training"].get("labelled") or 0
    taught = ((teacher.manifest or {}).get("metrics") or {}).get("training", {}).get("labelled")
    if alone and isinstance(taught, int) and learned < taught:
        # (a model of the feed alone knows only the feed: from the shipped model, a feed of
        # 3,000 or 20,000 texts gave a model worse on the development sample, docs/adapt.md)
        warnings.warn(
            f"the adapted model learned from {learned:,} training examples of the feed alone, "
            f"where the model it refreshes learned from {taught:,}: it may well answer worse; "
            "measure both on texts of yours labelled by hand (nlpkit evaluate) before using it, or "
            "give a recipe whose corpora are at hand (config) to keep what the model knew",
            stacklevel=2,
        )
    return predictor, metrics
