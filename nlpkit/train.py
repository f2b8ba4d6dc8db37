"""Training: an experiment config in, a fitted `Predictor` and its metrics out.

A run reads the corpora, keeps the non-held-out records, labels them weakly (`nlpkit.weak`),
prepares their text (`nlpkit.text`, cached by `nlpkit.cache`), fits TF-IDF features and a linear
classifier, and scores the result once on the held-out part: against the weak labels, and
against the hand-labelled samples named in the config. The same data and config give the same
model: every random choice takes the config's seed.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from .cache import SegmentCache, prepare_many
from .corpus import (
    CorpusReport,
    Record,
    corpus_fingerprint,
    default_corpus_paths,
    is_heldout,
    read_corpus,
)
from .evaluate import classification_metrics, grouped_metrics, read_labels
from .features import TfidfFeatures
from .predictor import Predictor
from .topics import TOPICS
from .weak import label_record

__all__ = ["ConfigError", "load_config", "train", "evaluate_model", "DEFAULTS"]


class ConfigError(ValueError):
    """An experiment config has an unknown key or a value of the wrong kind."""


# Every key a config may set, with its default. A config names only what it changes.
DEFAULTS: dict[str, Any] = {
    "name": "",
    "seed": 0,
    "data": {
        "corpora": [],  # empty: the default corpus files
        "datasets": ["vntc", "baomoi_tc201805", "vnexpress_2020s"],
        "max_chars": 5000,
        "min_confidence": 0.5,
        "weights": {},  # source_dataset -> sample-weight factor
        "eval_labels": ["experiments/labels/heldout.tsv"],
    },
    "features": {
        "ngram_range": [1, 2],
        "min_df": 2,
        "max_df": 1.0,
        "max_features": 150000,
        "sublinear_tf": True,
    },
    "classifier": {
        "kind": "logistic_regression",
        "C": 10.0,
        "max_iter": 2000,
        "class_weight": "balanced",
    },
    "output": {"model": "", "results": ""},
    "n_jobs": 2,
}

_CLASSIFIERS = ("logistic_regression",)


def _merge(base: dict[str, Any], update: dict[str, Any], where: str) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in update.items():
        path = f"{where}.{key}" if where else key
        if key not in base:
            raise ConfigError(f"unknown config key {path!r} (known: {', '.join(sorted(base))})")
        default = base[key]
        if isinstance(default, dict) and default and not isinstance(value, dict):
            raise ConfigError(f"{path!r} must be a table")
        if isinstance(default, dict) and default:
            out[key] = _merge(default, value, path)
            continue
        if isinstance(default, bool) != isinstance(value, bool) or (
            not isinstance(value, type(default))
            and not (isinstance(default, (int, float)) and isinstance(value, (int, float)))
        ):
            raise ConfigError(
                f"{path!r} must be {type(default).__name__}, got {type(value).__name__} {value!r}"
            )
        out[key] = value
    return out


def _validate(cfg: dict[str, Any]) -> None:
    f, d, c = cfg["features"], cfg["data"], cfg["classifier"]
    ngrams = f["ngram_range"]
    if not (
        len(ngrams) == 2
        and all(isinstance(n, int) for n in ngrams)
        and 1 <= ngrams[0] <= ngrams[1] <= 4
    ):
        raise ConfigError(
            f"'features.ngram_range' must be [low, high] with 1 <= low <= high <= 4, got {ngrams}"
        )
    if c["kind"] not in _CLASSIFIERS:
        raise ConfigError(f"'classifier.kind' must be one of {_CLASSIFIERS}, got {c['kind']!r}")
    if c["C"] <= 0:
        raise ConfigError(f"'classifier.C' must be positive, got {c['C']}")
    if d["max_chars"] < 100:
        raise ConfigError(f"'data.max_chars' must be at least 100, got {d['max_chars']}")
    if not 0 <= d["min_confidence"] <= 1:
        raise ConfigError(f"'data.min_confidence' must be within [0, 1], got {d['min_confidence']}")
    if f["max_features"] < 0:
        raise ConfigError("'features.max_features' must be 0 (no limit) or positive")


def _line_of(text: str, message: str) -> str:
    """':N', the line that sets the key a config error names, when it can be found."""
    match = re.search(r"'([\w.]+)'", message)
    if match:
        key = re.escape(match.group(1).rsplit(".", 1)[-1])
        for number, line in enumerate(text.splitlines(), start=1):
            if re.match(rf"\s*(?:{key}\s*=|\[{key}\])", line):
                return f":{number}"
    return ""


def load_config(path: str | Path) -> dict[str, Any]:
    """Read an experiment config (TOML) and fill in the defaults; raise `ConfigError` if wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except FileNotFoundError:
        raise ConfigError(f"config not found: {path}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    try:
        cfg = _merge(DEFAULTS, raw, "")
        _validate(cfg)
    except ConfigError as exc:
        raise ConfigError(f"{path}{_line_of(text, str(exc))}: {exc}") from None
    cfg["name"] = cfg["name"] or path.stem
    return cfg


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _progress(label: str) -> Callable[[int, int], None]:
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] > 10:
            last[0] = now
            _log(f"  {label}: {done:,}/{total:,}")

    return show


@dataclass
class Dataset:
    records: list[Record]
    texts: list[str]  # prepared (segmented) texts
    labels: list[str]
    weights: np.ndarray


def _corpus_paths(cfg: dict[str, Any]) -> list[Path]:
    return [Path(p) for p in cfg["data"]["corpora"]] or default_corpus_paths()


def _raw_input(record: Record, max_chars: int) -> str:
    return record.full_text[:max_chars]


def _prepare(
    records: list[Record], cfg: dict[str, Any], cache: SegmentCache, what: str
) -> list[str]:
    raw = [_raw_input(r, cfg["data"]["max_chars"]) for r in records]
    return prepare_many(raw, cache, n_jobs=cfg["n_jobs"], progress=_progress(f"segmenting {what}"))


def _build_classifier(cfg: dict[str, Any]):
    c = cfg["classifier"]
    return LogisticRegression(
        C=c["C"],
        max_iter=c["max_iter"],
        class_weight=c["class_weight"] or None,
        random_state=cfg["seed"],
    )


def train(
    cfg: dict[str, Any], cache: SegmentCache | None = None
) -> tuple[Predictor, dict[str, Any]]:
    """Fit a model as ``cfg`` (from `load_config`) says; return it and its metrics."""
    started = time.monotonic()
    paths = _corpus_paths(cfg)
    report = CorpusReport()
    datasets = set(cfg["data"]["datasets"])
    train_records, heldout_records = [], []
    for record in read_corpus(paths, report):
        if record.source_dataset in datasets:
            (heldout_records if is_heldout(record) else train_records).append(record)
    _log(f"corpus: {report.summary()}")

    labelled = []
    for record in train_records:
        weak = label_record(record)
        if weak.topic is not None and weak.confidence >= cfg["data"]["min_confidence"]:
            factor = float(cfg["data"]["weights"].get(record.source_dataset, 1.0))
            labelled.append((record, weak.topic, weak.confidence * factor))
    counts = Counter(topic for _, topic, _ in labelled)
    _log(f"training labels: {dict(sorted(counts.items()))} from {len(train_records):,} records")

    cache = cache or SegmentCache()
    records = [r for r, _, _ in labelled]
    texts = _prepare(records, cfg, cache, "training texts")
    labels = [t for _, t, _ in labelled]
    weights = np.asarray([w for _, _, w in labelled])

    fit_started = time.monotonic()
    f = cfg["features"]
    features = TfidfFeatures(
        ngram_range=tuple(f["ngram_range"]),
        min_df=f["min_df"],
        max_df=f["max_df"],
        max_features=f["max_features"] or None,
        sublinear_tf=f["sublinear_tf"],
    )
    X = features.fit_transform(texts)
    _log(f"features: {X.shape[1]:,} terms; fitting the classifier on {X.shape[0]:,} texts")
    clf = _build_classifier(cfg).fit(X, labels, sample_weight=weights)
    topics = [t for t in TOPICS if t in clf.classes_] + [t for t in clf.classes_ if t not in TOPICS]
    order = [list(clf.classes_).index(t) for t in topics]
    coef, intercept = clf.coef_, clf.intercept_
    if len(clf.classes_) == 2:  # scikit-learn keeps one row for two classes
        coef, intercept = np.vstack([-coef[0], coef[0]]), np.array([-intercept[0], intercept[0]])
    predictor = Predictor(
        features, coef[order], intercept[order], topics, max_chars=cfg["data"]["max_chars"]
    )
    fit_seconds = time.monotonic() - fit_started

    metrics = {
        "name": cfg["name"],
        "training": {
            "records": len(train_records),
            "labelled": len(labelled),
            "labels": dict(sorted(counts.items())),
            "terms": len(features.terms_),
            "fit_seconds": round(fit_seconds, 1),
        },
        "corpus": {
            "files": [p.name for p in paths],
            "fingerprint": corpus_fingerprint(paths),
            "malformed_lines": report.skipped,
        },
        "heldout": evaluate_model(predictor, heldout_records, cfg, cache),
    }
    metrics["training"]["total_seconds"] = round(time.monotonic() - started, 1)
    return predictor, metrics


def evaluate_model(
    predictor: Predictor,
    records: list[Record],
    cfg: dict[str, Any],
    cache: SegmentCache | None = None,
) -> dict[str, Any]:
    """Score ``predictor`` on held-out ``records``: against their weak labels, and against every
    hand-labelled sample of ``cfg['data']['eval_labels']`` (rows of other topics are skipped)."""
    cache = cache or SegmentCache()
    topics = list(predictor.topics)
    weak = [label_record(r).topic for r in records]
    hand: dict[str, str] = {}
    for path in cfg["data"]["eval_labels"]:
        if Path(path).is_file():
            hand.update(read_labels(path))
    wanted = [r for r, w in zip(records, weak) if w in topics or hand.get(r.id) in topics]
    started = time.monotonic()
    texts = _prepare(wanted, cfg, cache, "held-out texts")
    _, scores = predictor.scores_prepared(texts)
    predicted = {r.id: topics[i] for r, i in zip(wanted, scores.argmax(axis=1))}
    seconds = time.monotonic() - started

    def block(pairs: list[tuple[Record, str]]) -> dict[str, Any]:
        y_true = [t for _, t in pairs]
        y_pred = [predicted[r.id] for r, _ in pairs]
        out = classification_metrics(y_true, y_pred, topics)
        if pairs:
            out["by_era"] = grouped_metrics([r.era for r, _ in pairs], y_true, y_pred, topics)
            out["by_text_kind"] = grouped_metrics(
                [r.text_kind for r, _ in pairs], y_true, y_pred, topics
            )
        return out

    by_id = {r.id: r for r in wanted}
    return {
        "distant": block([(r, w) for r, w in zip(records, weak) if w in topics]),
        "hand": block(
            [(by_id[i], t) for i, t in sorted(hand.items()) if t in topics and i in by_id]
        ),
        "hand_labels_missing": sum(1 for i, t in hand.items() if t in topics and i not in by_id),
        "predict_seconds": round(seconds, 1),
    }


def heldout_records(cfg: dict[str, Any]) -> tuple[list[Record], CorpusReport]:
    """The held-out records of the config's corpora and datasets."""
    report = CorpusReport()
    datasets = set(cfg["data"]["datasets"])
    records = [
        r
        for r in read_corpus(_corpus_paths(cfg), report)
        if r.source_dataset in datasets and is_heldout(r)
    ]
    return records, report


def write_metrics(metrics: dict[str, Any], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
