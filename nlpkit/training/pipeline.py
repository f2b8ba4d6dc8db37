"""Training, in order: the corpora's examples and a user's, segmentation, clean-up, the fit,
and one scoring of the held-out part. Each step is a module of `nlpkit.training`; this one
only runs them and gathers their figures into the run's metrics.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import numpy as np

from ..cache import SegmentCache
from ..corpus import corpus_fingerprint
from ..evaluate import classification_metrics, evaluate_model
from ..modelfile import library_versions
from ..predictor import Predictor
from ..topics import NONE
from ..weak import BOUNDARY_RULES
from .cleanup import clean_up
from .fit import cross_validate, fit
from .labels import corpus_examples, prepare_records, read_parts, training_inputs, with_headlines
from .progress import Progress
from .userdata import UserSplit

__all__ = ["run"]


def run(
    cfg: dict[str, Any],
    cache: SegmentCache | None | bool = None,
    progress: Progress | None = None,
    user: UserSplit | None = None,
    base: Predictor | None = None,
) -> tuple[Predictor, dict[str, Any]]:
    """Fit a model as ``cfg`` (from `nlpkit.training.config`) says; return it and its metrics.

    ``user``: a user's labelled texts, already split; their training part joins the examples
    (labels from the file, weight ``user.weight``) and their held-out part is scored. ``base``:
    the model the user's texts are added to, scored on the same held-out part to say what the
    user's labels changed."""
    started = time.monotonic()
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
    examples = with_headlines(examples, cfg["data"]["title_weight"])
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
    progress.log(f"training labels: {dict(sorted(counts.items()))} from {n_records:,} records")
    if len(counts) < 2:
        raise ValueError(f"training needs at least two labels, got {dict(counts)}")
    cv = cross_validate(texts, labels, weights, cfg, progress) if cfg["cv"] else None

    fit_started = time.monotonic()
    progress.log(f"fitting on {len(texts):,} texts")
    info: dict[str, Any] = {}
    predictor = fit(texts, labels, weights, cfg, progress, info)
    fit_seconds = time.monotonic() - fit_started
    for solver in info.get("fits", []):
        if not solver["converged"]:
            progress.log(
                f"warning: the {solver['model']} classifier stopped after "
                f"{solver['iterations']} iterations without converging (classifier.max_iter)"
            )

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
        corpus["fingerprint"] = corpus_fingerprint([*paths, user.path])
    heldout = parts.heldout + (user.heldout if user is not None and base is None else [])
    unique = parts.unique_heldout
    metrics = {
        "name": cfg["name"],
        "training": {
            "records": n_records,
            "labelled": len(texts),
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


def score_texts(predictor: Predictor, records: list) -> dict[str, Any]:
    """A model's answers on labelled records (a user's held-out part) against their labels:
    accuracy, macro-F1, per label and the confusion matrix."""
    if not records:
        return {"n": 0}
    truth = [r.source_category for r in records]
    # Out-of-scope texts in the file are answered as the model answers them when asked to.
    allow_none = predictor.none and NONE in truth
    answers = [
        NONE if a is None else a
        for a in predictor.predict([r.full_text for r in records], allow_none=allow_none)
    ]
    labels = list(predictor.classes if allow_none else predictor.topics)
    labels += sorted(set(truth) - set(labels))
    return classification_metrics(truth, answers, labels)
