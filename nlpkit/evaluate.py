"""Scoring a model: metrics against distant labels and against hand-labelled samples.

Two kinds of truth: the weak labels of held-out records (plentiful, but only as right as the
labelling functions), and hand-labelled samples in ``experiments/labels/`` (few, but read
against the topic definitions by reading them). Metrics are reported for both, overall and per
era and text kind. A user's own labelled file is scored against its own labels.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from .cache import SegmentCache, prepare_many
from .corpus import CorpusReport, Record, read_corpus
from .topics import NONE, TOPICS
from .training.calibration import calibration_figures
from .training.labels import (
    corpus_paths,
    hand_labels,
    label_column,
    prepare_records,
    read_labels,
    split_records,
    truth_of,
)
from .training.parallel import fork_map
from .training.progress import Progress

if TYPE_CHECKING:
    from .predictor import Predictor

__all__ = [
    "classification_metrics",
    "score_file",
    "read_labels",
    "grouped_metrics",
    "evaluate_model",
    "heldout_records",
]


def classification_metrics(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-label precision/recall/F1/support and the confusion matrix.
    Macro-F1 is the mean over the labels ``y_true`` has: one that is only ever answered
    (no text has it) is left out of the mean, where scikit-learn's default counts it as 0."""
    labels = list(labels)
    if not len(y_true):
        return {"n": 0}
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    present = [lab for lab in labels if lab in set(y_true)]
    return {
        "n": len(y_true),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(
            float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)), 4
        ),
        "per_label": {
            lab: {
                "precision": round(float(p[i]), 4),
                "recall": round(float(r[i]), 4),
                "f1": round(float(f[i]), 4),
                "support": int(s[i]),
            }
            for i, lab in enumerate(labels)
        },
        "confusion_matrix": {
            "labels": labels,
            "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        },
    }


def score_file(
    predictor: Predictor,
    path: str,
    text_field: str = "text",
    label_field: str = "label",
    title_field: str | None = None,
    allow_none: bool = False,
    title_optional: bool = False,
) -> dict[str, Any]:
    """`classification_metrics` of ``predictor`` on a labelled file of one's own, read as
    `nlpkit train --data` reads it: every text, title first, as the model answers it (with
    ``allow_none``, out of scope is the label "none"). A label the model does not have is
    scored as it is, always wrong, and counted in ``labels_the_model_lacks``. `DataError` or
    `ValueError` for a file or a text that cannot be read, naming where. ``title_optional``:
    the title field is a default of the caller's (a file without it, or a record whose title
    is no string, is read without titles)."""
    from .arguments import check_flag
    from .text import join_title
    from .training.reading import DataError, clean_label, read_file, spelling

    check_flag("allow_none", allow_none)
    data = read_file(path, text_field, label_field, title_field, title_optional=title_optional)
    for where, label in zip(data.where, data.labels):
        if not label:  # (as training refuses it: it would be scored as always wrong)
            raise DataError(f"{where}: empty label")
    texts = [join_title(title, text) for title, text in zip(data.titles, data.texts)]
    started = time.monotonic()
    try:
        # The scores once: the answers as `predict` gives them, and the topic probabilities.
        batch, _ = predictor._as_batch(texts)
    except ValueError as exc:  # a text with nothing to read: where it is in the file
        i = getattr(exc, "batch_index", None)
        if i is None:
            raise
        raise ValueError(f"{data.where[i]}: {exc.reason}") from None
    scores = predictor._batch_scores(batch, 1)
    # (the model's names read as the file's labels are, whatever their encoding: a model
    # trained on labels typed decomposed, before labels were read so, keeps them so)
    classes = [clean_label(c) for c in (predictor.classes if allow_none else predictor.topics)]
    predicted = [classes[i] for i in predictor._decide(scores, allow_none).tolist()]
    seconds = time.monotonic() - started
    lacking = sorted(set(data.labels) - set(classes))
    result = {
        "data": str(path),
        # (the fields read: a reader of the figures knows whether titles were)
        "fields": {
            "text": text_field,
            "label": label_field,
            # (read_file's own title field: None where it is the text field)
            "title": (data.fields["title"] if any(data.titles) or not title_optional else None),
        },
        **classification_metrics(data.labels, predicted, classes + lacking),
        "texts_per_second": round(len(texts) / seconds, 1) if seconds else None,
        # (the texts labelled with one of the model's topics: how far its probabilities hold)
        "calibration": _calibration_of(predictor, scores, data.labels),
    }
    if lacking:
        result["labels_the_model_lacks"] = {label: data.labels.count(label) for label in lacking}
        # (a label the model has, spelt another way: "Sports" for "sports")
        spelt = {spelling(c): c for c in classes}
        alike = {label: spelt[spelling(label)] for label in lacking if spelling(label) in spelt}
        if alike:
            result["labels_spelt_otherwise"] = alike
    return result


def grouped_metrics(
    groups: Sequence[str], y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """`classification_metrics` for each group (era, text kind...), without the matrices."""
    out = {}
    g = np.asarray(groups)
    t, p = np.asarray(y_true), np.asarray(y_pred)
    for name in sorted(set(groups)):
        mask = g == name
        m = classification_metrics(t[mask].tolist(), p[mask].tolist(), labels)
        m.pop("confusion_matrix", None)
        out[name] = m
    return out


def evaluate_model(
    predictor: Predictor,
    records: list[Record],
    cfg: dict[str, Any],
    cache: SegmentCache | None | bool = None,
    hand_files: list[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Score ``predictor`` on held-out ``records``: against the labels of the config's recipe
    (``distant``; also given as the top-level ``accuracy`` and ``macro_f1``), against every
    hand-labelled sample of ``cfg['data']['eval_labels']`` (``hand``: the in-scope texts and
    the topic the model gives them; ``hand_none``: all texts, out of scope included, for a
    model with a none class), and against the boundaries slice (``boundaries``)."""
    # (False: no cache at all)
    cache = SegmentCache() if cache is None else cache or None
    # Scored over the four topics even when the model lacks one (a model trained on section
    # names alone never says energy): the gap must show, not vanish from the average.
    topics = list(predictor.topics)
    if cfg["data"]["labels"] != "section":
        topics = list(TOPICS) + [t for t in topics if t not in TOPICS]
    classes = topics + ["none"] if predictor.none else topics
    # (the labelling functions over every record: in as many processes as the config allows)
    truths = fork_map(partial(truth_of, cfg=cfg), records, cfg["n_jobs"])
    # A user's held-out text keeps its label even when the model has no such class (one only
    # the held-out part has): always wrong, and counted, never left out of the figures.
    truth = {
        r.id: t
        for r, t in zip(records, truths)
        if t in classes or (r.source_dataset == "file" and t is not None)
    }
    lacking = sorted({t for t in truth.values() if t not in classes})
    hand = hand_labels(cfg["data"]["eval_labels"] if hand_files is None else hand_files)
    boundary_files = cfg["data"]["boundary_labels"] if hand_files is None else []
    boundaries = hand_labels(boundary_files, "boundary labels")
    kinds = label_column(boundary_files, "kind")
    labelled = {**hand, **boundaries}
    wanted = [r for r in records if r.id in truth or labelled.get(r.id) in classes]
    started = time.monotonic()
    texts = prepare_records(wanted, cfg, cache, progress)
    scores = predictor.scores_prepared(texts)
    topic_of, class_of = _decisions(predictor, scores, wanted)
    seconds = time.monotonic() - started

    def block(
        pairs: list[tuple[Record, str]],
        decide: dict[str, str],
        labels: list[str],
        groups: tuple[str, ...] = ("era", "text_kind"),
    ) -> dict[str, Any]:
        y_true = [t for _, t in pairs]
        y_pred = [decide[r.id] for r, _ in pairs]
        out = classification_metrics(y_true, y_pred, labels)
        if pairs and all(r.source_dataset == "file" for r, _ in pairs):
            groups = ()  # a user's texts have no era or text kind of the corpora
        for group in groups if pairs else ():
            keys = [kinds.get(r.id, "") if group == "kind" else getattr(r, group) for r, _ in pairs]
            out[f"by_{group}"] = grouped_metrics(keys, y_true, y_pred, labels)
        return out

    by_id = {r.id: r for r in wanted}

    def pairs_of(labels: dict[str, str], among: list[str]) -> list[tuple[Record, str]]:
        return [(by_id[i], t) for i, t in sorted(labels.items()) if t in among and i in by_id]

    distant_pairs = [(r, truth[r.id]) for r in wanted if r.id in truth]
    distant = block(distant_pairs, class_of, classes + lacking)
    if lacking:
        distant["labels_the_model_lacks"] = dict(
            sorted(Counter(t for _, t in distant_pairs if t in lacking).items())
        )
    if distant_pairs and all(r.source_dataset == "file" for r, _ in distant_pairs):
        # A user's file: its labels are read, not weak, and say how far the probabilities hold.
        distant["calibration"] = _calibration(predictor, scores, wanted, distant_pairs)
    hand_pairs = pairs_of(hand, topics)
    out = {
        "accuracy": distant.get("accuracy"),
        "macro_f1": distant.get("macro_f1"),
        "distant": distant,
        "hand": block(hand_pairs, topic_of, topics),
        "hand_none": block(pairs_of(hand, classes), class_of, classes) if predictor.none else None,
        "top_probability_threshold": _threshold_baseline(
            predictor, scores, wanted, pairs_of(hand, [*topics, NONE])
        ),
        "hand_calibration": _calibration(predictor, scores, wanted, hand_pairs),
        "hand_none_calibration": _calibration(
            predictor, scores, wanted, pairs_of(hand, classes), allow_none=True
        )
        if predictor.none
        else None,
        "boundaries": block(pairs_of(boundaries, topics), topic_of, topics, ("era", "kind")),
        "hand_labels_missing": sum(
            1 for i, t in labelled.items() if t in classes and i not in by_id
        ),
        "predict_seconds": round(seconds, 1),
        "texts_per_second": round(len(wanted) / seconds, 1) if seconds else None,
    }
    # Headlines alone, as news lists and feeds show them: the hand-labelled records' titles.
    titled = [r for r, _ in pairs_of(hand, classes) if r.title]
    if titled:
        titles = prepare_many(
            [r.title for r in titled],
            cache,
            segment=cfg["features"]["segment"],
            max_chars=cfg["data"]["max_chars"],
        )
        title_topic, title_class = _decisions(predictor, predictor.scores_prepared(titles), titled)
    else:
        title_topic = title_class = {}
    out["hand_title_only"] = block(
        [(r, t) for r, t in hand_pairs if r.title], title_topic, topics, ("era",)
    )
    if predictor.none:
        out["hand_none_title_only"] = block(
            [(r, t) for r, t in pairs_of(hand, classes) if r.title], title_class, classes, ("era",)
        )
    return out


def _calibration(
    predictor: Predictor,
    scores: np.ndarray,
    records: list[Record],
    pairs: list[tuple[Record, str]],
    allow_none: bool = False,
) -> dict[str, Any]:
    """`_calibration_of` the texts of ``pairs`` (hand-labelled, or of a user's file), overall
    and by era (the corpora's)."""
    names = predictor.classes if allow_none else predictor.topics
    # (a topic the model lacks has no column: its texts are not calibrated against it)
    pairs = [(r, t) for r, t in pairs if t in names]
    row = {r.id: i for i, r in enumerate(records)}
    scores = scores[[row[r.id] for r, _ in pairs]]
    labels = np.asarray([t for _, t in pairs], dtype=object)
    out = _calibration_of(predictor, scores, labels.tolist(), allow_none)
    if pairs and not all(r.source_dataset == "file" for r, _ in pairs):
        eras = np.asarray([r.era for r, _ in pairs])
        out["by_era"] = {}
        for era in sorted(set(eras.tolist())):
            mask = eras == era
            of_era = labels[mask].tolist()
            out["by_era"][era] = _calibration_of(predictor, scores[mask], of_era, allow_none)
    return out


def _calibration_of(
    predictor: Predictor, scores: np.ndarray, labels: Sequence[str], allow_none: bool = False
) -> dict[str, Any]:
    """`calibration_figures` of the topic probabilities of the texts whose label is one of
    the model's topics (``scores``: a row a text): whether a probability of 0.9 is right nine
    times in ten. With ``allow_none``, of the probabilities five ways (none included), of the
    texts labelled with any of its classes."""
    from .training.reading import clean_label

    names = [clean_label(c) for c in (predictor.classes if allow_none else predictor.topics)]
    keep = [i for i, label in enumerate(labels) if label in names]
    probs = predictor._probabilities(scores[keep], allow_none).reshape(len(keep), len(names))
    y = np.asarray([names.index(labels[i]) for i in keep], dtype=np.int64)
    return calibration_figures(probs, y)


def _threshold_baseline(
    predictor: Predictor,
    scores: np.ndarray,
    records: list[Record],
    pairs: list[tuple[Record, str]],
) -> dict[str, Any] | None:
    """What the old advice gets: "none" where the top probability of the four topics is below
    a threshold. The threshold that does best on these very texts (so an upper bound), its
    five-way accuracy, and the median top probability of the out-of-scope and in-scope texts."""
    if not any(t == NONE for _, t in pairs):
        return None
    row = {r.id: i for i, r in enumerate(records)}
    index = [row[r.id] for r, _ in pairs]
    probs = predictor._probabilities(scores[index], allow_none=False)
    top, best = probs.max(axis=1), probs.argmax(axis=1)
    truth = np.array([t for _, t in pairs])
    topic = np.array(predictor.topics)[best]
    results = []
    for threshold in np.round(np.arange(0.0, 1.0, 0.01), 2):
        answer = np.where(top < threshold, NONE, topic)
        results.append((float((answer == truth).mean()), float(threshold)))
    accuracy, threshold = max(results, key=lambda r: (r[0], -r[1]))
    return {
        "threshold": threshold,
        "accuracy": round(accuracy, 4),
        "median_top_probability_none": round(float(np.median(top[truth == NONE])), 3),
        "median_top_probability_in_scope": round(float(np.median(top[truth != NONE])), 3),
    }


def _decisions(
    predictor: Predictor, scores: np.ndarray, records: list[Record]
) -> tuple[dict[str, str], dict[str, str]]:
    """Each record's topic (the best of the topics) and class (the best of all classes, none
    included when the model has it), as `Predictor.predict` gives them."""
    topic = {r.id: predictor.topics[i] for r, i in zip(records, predictor._decide(scores, False))}
    best = predictor._decide(scores, predictor.none)
    return topic, {r.id: predictor.classes[i] for r, i in zip(records, best)}


def heldout_records(cfg: dict[str, Any]) -> tuple[list[Record], CorpusReport]:
    """The held-out records of the config's corpora and datasets."""
    report = CorpusReport()
    _, records, _ = split_records(list(read_corpus(corpus_paths(cfg), report)), cfg)
    return records, report
