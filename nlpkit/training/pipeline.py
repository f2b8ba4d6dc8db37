"""Training, in order: the corpora's examples and a user's, segmentation, clean-up, the fit,
and one scoring of the held-out part. Each step is a module of `nlpkit.training`; this one
only runs them and gathers their figures into the run's metrics.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from typing import Any

import numpy as np

from ..cache import SegmentCache
from ..corpus import Record, corpus_fingerprint
from ..evaluate import classification_metrics, evaluate_model
from ..modelfile import library_versions
from ..predictor import Predictor
from ..topics import NONE
from ..weak import BOUNDARY_RULES
from .cleanup import clean_up
from .feed import feed_labels
from .fit import cross_validate, fit
from .labels import (
    Example,
    check_inputs,
    corpus_examples,
    prepare_records,
    read_parts,
    training_inputs,
    with_headlines,
)
from .progress import Progress
from .tuning import tune_none_offset, tune_temperature
from .userdata import UserSplit

__all__ = ["run", "TooFewLabels"]


class TooFewLabels(ValueError):
    """The examples have fewer than two labels (or two topics beside out of scope)."""


def _fit_examples(
    examples: list[Example],
    n_records: int,
    cfg: dict[str, Any],
    cache: SegmentCache | None,
    progress: Progress,
) -> tuple[Predictor, dict[str, Any]]:
    """Headlines, segmentation, clean-up, cross-validation and the fit of labelled examples:
    the model, and what the steps did."""
    labelled = len(examples)
    examples = with_headlines(examples, cfg["data"]["title_weight"])
    # (the counts below are of both: a feed's 2,652 labelled texts give 5,304 examples)
    heads = len(examples) - labelled
    records = [r for r, _ in examples]
    texts = prepare_records(records, cfg, cache, progress)
    labels = [topic for _, (topic, _, _) in examples]
    weights = np.asarray([weight for _, (_, weight, _) in examples], dtype=np.float64)
    sources = [source for _, (_, _, source) in examples]
    texts, labels, weights, cleanup = clean_up(texts, labels, weights, sources, cfg, progress)
    if cleanup:
        done = {"drop": "dropped", "relabel": "relabelled"}[cfg["data"]["cleanup"]]
        progress.log(f"label clean-up: {cleanup['changed']:,} labels {done}")
    counts = Counter(labels)
    also = f", with {heads:,} of their headlines on their own" if heads else ""
    progress.log(
        f"training labels: {dict(sorted(counts.items()))} from {n_records:,} records{also}"
    )
    # (a model's topics are two or more, out of scope beside them, whether it is a class or
    # detected apart)
    if len(counts) - (NONE in counts) < 2:
        besides = " besides none" if NONE in counts else ""
        raise TooFewLabels(
            f"training needs texts of at least two labels{besides}, "
            f"got {dict(sorted(counts.items()))}"
        )
    cv = cross_validate(texts, labels, weights, cfg, progress) if cfg["cv"] else None
    fit_started = time.monotonic()
    progress.log(f"fitting on {len(texts):,} texts")
    info: dict[str, Any] = {}
    predictor = fit(texts, labels, weights, cfg, progress, info)
    for solver in info.get("fits", []):
        if not solver["converged"]:
            progress.log(
                f"warning: the {solver['model']} classifier stopped after "
                f"{solver['iterations']} iterations without converging (classifier.max_iter)"
            )
    info.update(
        records=records,
        sources=sources,
        texts=len(texts),
        counts=counts,
        cleanup=cleanup,
        cv=cv,
        fit_seconds=time.monotonic() - fit_started,
    )
    return predictor, info


def _feed_examples(
    teacher: Predictor, records: list[Record], threshold: float, weight: float
) -> tuple[list[Example], dict[str, Any]]:
    """Examples of unlabelled records, labelled by ``teacher`` and the labelling functions
    (`nlpkit.adapt.feed_labels`), and a count of what labelled them."""
    labels = feed_labels(teacher, records, threshold)
    examples = [
        (r, (topic, w * weight, source))
        for r, label in zip(records, labels)
        if label is not None
        for topic, w, source in [label]
    ]
    return examples, {
        "records": len(records),
        "labelled": len(examples),
        "threshold": threshold,
        "labels": dict(sorted(Counter(t for _, (t, _, _) in examples).items())),
        "by": dict(Counter(s for _, (_, _, s) in examples).most_common()),
    }


def run(
    cfg: dict[str, Any],
    cache: SegmentCache | None | bool = None,
    progress: Progress | None = None,
    user: UserSplit | None = None,
    base: Predictor | None = None,
    feed: tuple[Predictor, list[Record]] | None = None,
) -> tuple[Predictor, dict[str, Any]]:
    """Fit a model as ``cfg`` (from `nlpkit.training.config`) says; return it and its metrics.

    ``user``: a user's labelled texts, already split; their training part joins the examples
    (labels from the file, weight ``user.weight``) and their held-out part is scored. ``base``:
    the model the user's texts are added to, scored on the same held-out part to say what the
    user's labels changed. ``feed``: a teacher model and unlabelled records (a feed), which
    join the examples where the teacher or the labelling functions are sure of them
    (`nlpkit.adapt`). The config's ``data.self_training`` does the same with the training
    records of the files it names that the recipe left unlabelled, the teacher being the
    recipe's own model fitted without them: a second fit."""
    started = time.monotonic()
    check_inputs(cfg)
    progress = progress or Progress()
    # (None: the default cache; False: none, when segmenting is cheaper than looking up)
    cache = SegmentCache() if cache is None else cache or None
    parts = read_parts(cfg)
    if parts.paths:
        progress.log(f"corpus: {parts.report.summary()}")
    examples, n_records = corpus_examples(cfg, parts)
    if user is not None:
        examples += user.examples()
        n_records += len(user.train)
        if base is not None:
            _drop_seen(user, parts.train)
    st = cfg["data"]["self_training"]
    fed: dict[str, Any] = {}
    if feed is not None:
        teacher, feed_records = feed
        more, fed["feed"] = _feed_examples(teacher, feed_records, st["threshold"], st["weight"])
        progress.log(f"feed: {fed['feed']['labelled']:,} of {len(feed_records):,} texts labelled")
        examples += more
        n_records += len(feed_records)
    if st["files"]:
        labelled = {r.id for r, _ in examples}
        rest = [r for r in parts.train if r.file in st["files"] and r.id not in labelled]
        progress.log(f"self-training: a first fit, to label {len(rest):,} unlabelled records")
        first, _ = _fit_examples(examples, n_records, cfg, cache, progress)
        more, fed["self_training"] = _feed_examples(first, rest, st["threshold"], st["weight"])
        examples += more
    predictor, info = _fit_examples(examples, n_records, cfg, cache, progress)
    if cfg["classifier"]["tune_temperature"] or cfg["classifier"]["tune_none_offset"]:
        dev_texts = prepare_records(parts.dev, cfg, cache)
        dev_truth = [parts.dev_labels[r.id] for r in parts.dev]
    if cfg["classifier"]["tune_temperature"]:
        # (first: the line between none and the topics is set on the probabilities shipped)
        fed["temperature_tuning"] = tuned = tune_temperature(predictor, dev_texts, dev_truth)
        progress.log(
            f"temperature {tuned['temperature']:g} (development sample, log-loss "
            f"{tuned['before']['log_loss']} -> {tuned['after']['log_loss']})"
        )
    if cfg["classifier"]["tune_none_offset"]:
        chosen = tune_none_offset(predictor, dev_texts, dev_truth)
        fed["none_offset"] = chosen
        progress.log(
            f"none offset {chosen['offset']:+g} (development sample, five ways: "
            f"{chosen['dev_five_way_accuracy']})"
        )
    records, sources, counts = info["records"], info["sources"], info["counts"]
    cleanup, cv, fit_seconds = info["cleanup"], info["cv"], info["fit_seconds"]

    paths = parts.paths
    inputs = training_inputs(cfg, paths)
    corpus = {
        "files": [p.name for p in paths],
        "fingerprint": corpus_fingerprint(paths),
        "malformed_lines": parts.report.skipped,
    }
    if user is not None and user.path is not None:
        inputs["corpus"].update(user.inputs())
        corpus["files"].append(user.path.name)
        # (a stream, read once already, has no bytes left to take the fingerprint of: none)
        corpus["fingerprint"] = (
            corpus_fingerprint([*paths, user.path]) if user.path.is_file() else None
        )
    heldout = parts.heldout + (user.heldout if user is not None and base is None else [])
    unique = parts.unique_heldout
    metrics = {
        "name": cfg["name"],
        "training": {
            "records": n_records,
            "labelled": info["texts"],
            "snippets": sum(1 for r in records if r.source_dataset == "snippets"),
            "headlines": sum(1 for r in records if r.id.endswith("#title")),
            "hand_labelled": sum(1 for s in sources if s == "hand"),
            "boundary_rules": sum(1 for s in sources if s in BOUNDARY_RULES),
            "cleanup": cleanup,
            "labels": dict(sorted(counts.items())),
            "terms": len(predictor.features.terms_),
            "temperature": predictor.temperature,
            # each classifier fitted: its solver's iterations and whether it converged
            "solver": info.get("fits", []),
            "fit_seconds": round(fit_seconds, 1),
            **fed,
        },
        "cross_validation": cv,
        "corpus": corpus,
        "training_inputs": inputs,
        "heldout": evaluate_model(predictor, heldout, cfg, cache or False, progress=progress),
        "heldout_without_copies": (
            evaluate_model(predictor, unique, cfg, cache or False)
            if unique is not parts.heldout
            else None
        ),
        "dev": evaluate_model(predictor, parts.dev, cfg, cache or False, cfg["data"]["dev_labels"]),
        "versions": library_versions(),
        "config": cfg,
    }
    if user is not None:
        metrics["user_data"] = user.describe()
        if base is not None:
            metrics["user_data"]["heldout_scores"] = {
                "before": score_texts(base, user.heldout),
                "after": score_texts(predictor, user.heldout),
            }
    metrics["training"]["total_seconds"] = round(time.monotonic() - started, 1)
    return predictor, metrics


def _drop_seen(user: UserSplit, corpus: list[Record]) -> None:
    """A user's held-out texts that the recipe's corpora train on (a newsroom labels the news
    the corpora hold too) are left out of the scores, with a warning: scored, they would count
    what both models learned."""
    if not user.heldout:
        return
    seen = {" ".join(r.full_text.split()) for r in corpus}
    kept = [r for r in user.heldout if " ".join(r.full_text.split()) not in seen]
    if len(kept) < len(user.heldout):
        warnings.warn(
            f"{len(user.heldout) - len(kept):,} of your {len(user.heldout):,} held-out texts "
            "are in the recipe's training corpora: left out of the scores, which would count "
            "what the model was trained on",
            stacklevel=4,
        )
        user.heldout = kept


def score_texts(predictor: Predictor, records: list) -> dict[str, Any]:
    """A model's answers on labelled records (a user's held-out part) against their labels:
    accuracy, macro-F1, per label and the confusion matrix. Texts labelled none are answered
    five ways (``allow_none``) by a model that has none: four ways, they could not be right."""
    if not records:
        return {"n": 0}
    truth = [r.source_category for r in records]
    five = predictor.none and NONE in truth
    answers = predictor.predict([r.full_text for r in records], allow_none=five)
    answers = [NONE if a is None else a for a in answers]
    known = list(predictor.classes if five else predictor.topics)
    labels = known + sorted(set(truth) - set(known))
    return {**classification_metrics(truth, answers, labels), "allow_none": five}
