"""Scoring a model: metrics against distant labels and against hand-labelled samples.

Two kinds of truth: the weak labels of held-out records (plentiful, but only as right as the
labelling functions), and hand-labelled samples in ``experiments/labels/`` (few, but read
against the topic definitions by reading them). Metrics are reported for both, overall and per era and text kind.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

__all__ = ["classification_metrics", "read_labels", "grouped_metrics"]


def classification_metrics(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-label precision/recall/F1/support and the confusion matrix."""
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


def read_labels(path: str | Path) -> dict[str, str]:
    """A hand-labelled sample: a TSV with columns ``id`` and ``topic`` (more columns ignored).

    A topic is one of the four or ``none`` (out of scope); a row with another value, no id, or
    an id given twice with two topics is an error naming the file and line.
    """
    from .topics import TOPICS

    path = Path(path)
    known = (*TOPICS, "none")
    labels: dict[str, str] = {}
    try:
        with path.open(encoding="utf-8", newline="") as rows:
            reader = csv.DictReader(rows, delimiter="\t")
            if not reader.fieldnames or not {"id", "topic"} <= set(reader.fieldnames):
                raise ValueError(f"{path}: expected a header with 'id' and 'topic' columns")
            for line, row in enumerate(reader, start=2):
                rid, topic = row.get("id") or "", row.get("topic") or ""
                if not rid or topic not in known:
                    raise ValueError(
                        f"{path}:{line}: expected an id and one of {', '.join(known)}, "
                        f"got {rid!r} and {topic!r}"
                    )
                if labels.get(rid, topic) != topic:
                    raise ValueError(f"{path}:{line}: {rid} is labelled twice, differently")
                labels[rid] = topic
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 ({exc.reason})") from None
    return labels
