"""Training: an experiment config in, a fitted `Predictor` and its metrics out.

A run reads the corpora, keeps the non-held-out records, labels them weakly (`nlpkit.weak`),
prepares their text (`nlpkit.text`, cached by `nlpkit.cache`), fits TF-IDF features and a linear
classifier, and scores the result once on the held-out part: against the weak labels, and
against the hand-labelled samples named in the config. The same data and config give the same
model: every random choice takes the config's seed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from .cache import SegmentCache, prepare_many
from .corpus import (
    DATASETS,
    DEFAULT_FILES,
    CorpusReport,
    Record,
    corpus_fingerprint,
    default_data_dir,
    is_heldout,
    read_corpus,
)
from .evaluate import classification_metrics, grouped_metrics, read_labels
from .features import TfidfFeatures
from .modelfile import library_versions
from .predictor import Predictor, softmax
from .topics import NONE, TOPICS, section_topic
from .weak import BOUNDARY_RULES, LABELLING_FUNCTIONS, LearnedVote, WeakLabel, label_record

__all__ = ["ConfigError", "load_config", "train", "evaluate_model", "DEFAULTS"]


class ConfigError(ValueError):
    """An experiment config has an unknown key or a value of the wrong kind."""


# Every key a config may set, with its default. A config names only what it changes.
DEFAULTS: dict[str, Any] = {
    "name": "",
    "seed": 0,
    "data": {
        "corpora": [],  # paths of corpus files; empty: `files` in the data folder
        "files": list(DEFAULT_FILES),  # corpus files read from the data folder
        # the files whose non-held-out records train the model (empty: all of them); the
        # others are read for their held-out and development texts only
        "train_files": [],
        "datasets": ["vntc", "baomoi_tc201805", "vnexpress_2020s"],
        # heldout: train on what the held-out rule leaves, copies skipped; vntc: VNTC's published
        # split (all of Train_Full, copies included; all of Test_Full), for the benchmark only
        "split": "heldout",
        "max_chars": 5000,
        "labels": "weak",  # weak: nlpkit.weak; mapped: section table only; section: raw section
        "snippets": [],  # globs of news pages whose related-news snippets join the training data
        "cleanup": "none",  # none, drop or relabel: one round of cross-validated clean-up
        "cleanup_threshold": 0.9,
        "cleanup_rounds": 1,  # rounds of clean-up, each on the labels the last one left
        # all: any weak label may be cleaned up; section: only those the section hint decided
        # (a boundary rule's or a hand label is never changed)
        "cleanup_scope": "all",
        # weight factor of the labels the boundary rules decide (nlpkit.weak.BOUNDARY_RULES)
        "boundary_weight": 1.0,
        "title_weight": 0.0,  # > 0: also train on each titled record's headline alone
        "dev_labels": ["experiments/labels/dev.tsv"],  # kept out of training, scored
        # hand-labelled training texts: their labels replace the weak ones, with this weight
        "train_labels": [],
        "train_label_weight": 1.0,
        # drop: texts out of the four topics are no training data; class: "none" is a fifth
        # class of the classifier; detector: the topics' classifier is fitted on the in-scope
        # texts alone and a second one (none against any topic) detects out of scope, so the
        # default four-topic answers are those of a model of the topics alone
        "out_of_scope": "drop",
        "min_confidence": 0.5,
        "without_functions": [],  # labelling functions left out (an ablation's step)
        # rules: the priority rules of nlpkit.weak; learned: a vote over the functions learned
        # from the hand-labelled training texts (data.train_labels)
        "label_model": "rules",
        "weights": {},  # source_dataset -> sample-weight factor
        "eval_labels": ["experiments/labels/heldout.tsv"],
        "boundary_labels": ["experiments/labels/boundaries.tsv"],  # scored on their own
    },
    "features": {
        "ngram_range": [1, 2],
        "min_df": 2,
        "max_df": 1.0,
        "max_features": 150000,
        "sublinear_tf": True,
        "segment": True,  # pyvi word segmentation; False: raw syllables
    },
    "classifier": {
        "kind": "logistic_regression",  # or linear_svc, sgd, complement_nb
        "C": 10.0,  # logistic_regression, linear_svc
        "alpha": 1e-4,  # sgd, complement_nb
        "max_iter": 2000,
        "class_weight": "balanced",  # "" for none; complement_nb takes none
        # added to the intercept of none (a class or a detector): where the line between out
        # of scope and the topics falls, chosen on the development sample
        "none_offset": 0.0,
    },
    "output": {"model": "", "results": ""},
    "cv": 0,  # folds of cross-validation on the training data; 0: none
    "n_jobs": 2,
}

_CLASSIFIERS = ("logistic_regression", "linear_svc", "sgd", "complement_nb")
# The datasets of the corpora (the `source_dataset` of their records).
_MARGIN_CLASSIFIERS = ("linear_svc", "sgd")


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


def validate_config(cfg: dict[str, Any]) -> None:
    """Raise `ConfigError` for a value out of its range (after a change to a loaded config)."""
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
    if not np.isfinite(c["none_offset"]):
        raise ConfigError(f"'classifier.none_offset' must be finite, got {c['none_offset']}")
    if c["none_offset"] and cfg["data"]["out_of_scope"] == "drop":
        raise ConfigError("'classifier.none_offset' needs 'data.out_of_scope' class or detector")
    if d["max_chars"] < 100:
        raise ConfigError(f"'data.max_chars' must be at least 100, got {d['max_chars']}")
    if not 0 <= d["min_confidence"] <= 1:
        raise ConfigError(f"'data.min_confidence' must be within [0, 1], got {d['min_confidence']}")
    if d["labels"] not in ("weak", "mapped", "section"):
        raise ConfigError(f"'data.labels' must be weak, mapped or section, got {d['labels']!r}")
    unread = [name for name in d["train_files"] if name not in d["files"]]
    if unread and not d["corpora"]:
        raise ConfigError(f"'data.train_files' names {unread[0]!r}, which data.files does not read")
    if d["split"] not in ("heldout", "vntc"):
        raise ConfigError(f"'data.split' must be heldout or vntc, got {d['split']!r}")
    if d["split"] == "vntc" and d["datasets"] != ["vntc"]:
        raise ConfigError("'data.split' vntc is VNTC's own split: set data.datasets to ['vntc']")
    if d["cleanup"] not in ("none", "drop", "relabel"):
        raise ConfigError(f"'data.cleanup' must be none, drop or relabel, got {d['cleanup']!r}")
    if not 0 <= cfg["cv"] <= 20 or cfg["cv"] == 1:
        raise ConfigError(f"'cv' must be 0 (none) or from 2 to 20 folds, got {cfg['cv']}")
    if c["alpha"] <= 0:
        raise ConfigError(f"'classifier.alpha' must be positive, got {c['alpha']}")
    if c["max_iter"] < 1:
        raise ConfigError(f"'classifier.max_iter' must be at least 1, got {c['max_iter']}")
    if c["class_weight"] not in ("", "balanced"):
        raise ConfigError(
            f'\'classifier.class_weight\' must be "balanced" or "", got {c["class_weight"]!r}'
        )
    if f["max_features"] < 0:
        raise ConfigError("'features.max_features' must be 0 (no limit) or positive")
    for key in ("min_df", "max_df"):
        # As in scikit-learn: a float is a share of the documents, an int a count of them.
        value = f[key]
        if not (0 < value <= 1 if isinstance(value, float) else value >= 1):
            raise ConfigError(
                f"'features.{key}' must be a share in (0, 1] or a count of at least 1, got {value}"
            )
    if type(f["min_df"]) is type(f["max_df"]) and f["min_df"] > f["max_df"]:
        raise ConfigError("'features.min_df' must not be above 'features.max_df'")
    unknown = [name for name in d["datasets"] if name not in DATASETS]
    if unknown or not d["datasets"]:
        raise ConfigError(
            f"'data.datasets' names unknown dataset {unknown[0]!r} (known: {', '.join(DATASETS)})"
            if unknown
            else "'data.datasets' must name at least one dataset"
        )
    known = {lf.name for lf in LABELLING_FUNCTIONS}
    for name in d["without_functions"]:
        if name not in known:
            raise ConfigError(
                f"'data.without_functions' names unknown function {name!r} "
                f"(known: {', '.join(sorted(known))})"
            )
    for name, factor in d["weights"].items():
        if name not in (*DATASETS, "snippets"):
            raise ConfigError(
                f"'data.weights' names unknown dataset {name!r} "
                f"(known: {', '.join((*DATASETS, 'snippets'))})"
            )
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor <= 0:
            raise ConfigError(f"'data.weights.{name}' must be a positive number, got {factor!r}")
    if not 0 < d["cleanup_threshold"] <= 1:
        raise ConfigError(
            f"'data.cleanup_threshold' must be within (0, 1], got {d['cleanup_threshold']}"
        )
    if d["cleanup_scope"] not in ("all", "section"):
        raise ConfigError(
            f"'data.cleanup_scope' must be all or section, got {d['cleanup_scope']!r}"
        )
    if not 1 <= d["cleanup_rounds"] <= 5:
        raise ConfigError(f"'data.cleanup_rounds' must be from 1 to 5, got {d['cleanup_rounds']}")
    if d["boundary_weight"] <= 0:
        raise ConfigError(f"'data.boundary_weight' must be positive, got {d['boundary_weight']}")
    if d["label_model"] not in ("rules", "learned"):
        raise ConfigError(f"'data.label_model' must be rules or learned, got {d['label_model']!r}")
    if d["label_model"] == "learned" and not d["train_labels"]:
        raise ConfigError("'data.label_model' learned needs hand-labelled training texts")
    if d["out_of_scope"] not in ("drop", "class", "detector"):
        raise ConfigError(
            f"'data.out_of_scope' must be drop, class or detector, got {d['out_of_scope']!r}"
        )
    if d["out_of_scope"] == "detector" and cfg["classifier"]["kind"] != "logistic_regression":
        # The detector's score is read as log-odds: only logistic regression gives them.
        raise ConfigError(
            "'data.out_of_scope' detector needs 'classifier.kind' logistic_regression, got "
            f"{cfg['classifier']['kind']!r}"
        )
    if d["train_label_weight"] <= 0:
        raise ConfigError(
            f"'data.train_label_weight' must be positive, got {d['train_label_weight']}"
        )
    if d["title_weight"] < 0:
        raise ConfigError(f"'data.title_weight' must not be negative, got {d['title_weight']}")
    if cfg["n_jobs"] < 1:
        raise ConfigError(f"'n_jobs' must be at least 1, got {cfg['n_jobs']}")


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
    except (IsADirectoryError, PermissionError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    try:
        cfg = _merge(DEFAULTS, raw, "")
        validate_config(cfg)
    except ConfigError as exc:
        raise ConfigError(f"{path}{_line_of(text, str(exc))}: {exc}") from None
    cfg["name"] = cfg["name"] or path.stem
    return cfg


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _progress(label: str) -> Callable[[int, int], None]:
    """A progress line for long steps: redrawn in place on a terminal; one line when done
    otherwise, so CI logs stay short."""
    tty = sys.stderr.isatty()
    started, last = time.monotonic(), [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total:
            end = "\r" if tty else ""
            _log(f"{end}  {label}: {total:,} in {now - started:.0f} s" + " " * 20)
        elif tty and now - last[0] > 0.5:
            last[0] = now
            rate = done / max(now - started, 1e-9)
            eta = (total - done) / rate if rate else 0
            print(f"\r  {label}: {done:,}/{total:,}, ETA {eta:.0f} s ", end="", file=sys.stderr)

    return show


def _corpus_paths(cfg: dict[str, Any]) -> list[Path]:
    d = cfg["data"]
    return [Path(p) for p in d["corpora"]] or [default_data_dir() / name for name in d["files"]]


def _split(
    records: list[Record], cfg: dict[str, Any]
) -> tuple[list[Record], list[Record], list[Record]]:
    """Training records, held-out records, and the held-out records that share no text with
    the training part (the benchmark's figure without copies; the held-out part otherwise)."""
    datasets = set(cfg["data"]["datasets"])
    records = [r for r in records if r.source_dataset in datasets]
    if cfg["data"]["split"] == "vntc":
        # VNTC's published protocol: every Train_Full file, copies of test files included.
        train = [r for r in records if r.split == "Train_Full"]
        test = [r for r in records if r.split == "Test_Full"]
        copied = {r.duplicate_of for r in train if r.duplicate_of is not None}
        unique = [r for r in test if r.duplicate_of is None and r.id not in copied]
        return train, test, unique
    heldout = [r for r in records if is_heldout(r)]
    # A copy of a training text adds nothing but weight; a copy of a held-out text is held out.
    train = [r for r in records if not is_heldout(r) and r.duplicate_of is None]
    return train, heldout, heldout


def _prepare(
    records: list[Record], cfg: dict[str, Any], cache: SegmentCache, what: str
) -> list[str]:
    return prepare_many(
        [r.full_text for r in records],
        cache,
        n_jobs=cfg["n_jobs"],
        progress=_progress(f"preparing {what}"),
        segment=cfg["features"]["segment"],
        max_chars=cfg["data"]["max_chars"],
    )


# A training label: the topic, the sample weight, and what decided it: "hand", "section", or
# the labelling function whose evidence did.
Label = tuple[str, float, str]


def _label(record: Record, cfg: dict[str, Any], weak: WeakLabel | None = None) -> Label | None:
    """The training label and sample weight of a record under the config's labels recipe
    (``weak``: its label from a learned label model, when the config asks for one)."""
    d = cfg["data"]
    factor = float(d["weights"].get(record.source_dataset, 1.0))
    recipe = d["labels"]
    if recipe == "section":
        return record.source_category, factor, "section"
    if recipe == "mapped":
        topic = section_topic(record.source_dataset, record.source_category)
        if topic is None or (topic == NONE and d["out_of_scope"] == "drop"):
            return None
        return topic, factor, "section"
    weak = weak or label_record(record, d["without_functions"])
    if weak.topic is None or weak.confidence < d["min_confidence"]:
        return None
    if weak.topic == NONE and d["out_of_scope"] == "drop":
        return None
    if weak.rule in BOUNDARY_RULES:
        factor *= d["boundary_weight"]
    return weak.topic, weak.confidence * factor, weak.rule


def _truth(record: Record, cfg: dict[str, Any]) -> str | None:
    """The distant label a held-out record is scored against: its section for the section
    recipe, else its weak label (the same for every topic recipe, so runs compare)."""
    if cfg["data"]["labels"] == "section":
        return record.source_category
    return label_record(record).topic


def snippet_records(patterns: list[str]) -> list[Record]:
    """The related-news snippets of the news pages matching ``patterns`` (globs), as records
    with no section, so that only the labelling functions can label them."""
    from glob import glob

    from .pages import read_page

    records = []
    for pattern in patterns:
        for path in sorted(glob(pattern)):
            for i, snippet in enumerate(read_page(path).related):
                records.append(
                    Record(
                        id=f"snippet-{Path(path).stem}-{i}",
                        source_dataset="snippets",
                        source_category="",
                        title=snippet.title,
                        text=snippet.lead,
                        text_kind="title_sapo",
                    )
                )
    return records


def clean_labels(
    texts: list[str],
    labels: list[str],
    weights: np.ndarray,
    cfg: dict[str, Any],
    protected: np.ndarray | None = None,
) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """One round of label clean-up: a linear SVM's cross-validated probabilities find the weak
    labels the rest of the data contradicts with confidence of at least
    ``data.cleanup_threshold``; those records are dropped or relabelled (``data.cleanup``),
    except the ``protected`` ones. Returns the indices kept, their labels, and what was done."""
    d = cfg["data"]
    features = _build_features(cfg)
    X = features.fit_transform(texts)
    topics = sorted(set(labels))
    y = np.asarray([topics.index(t) for t in labels])
    scores = np.zeros((len(texts), len(topics)))
    splitter = StratifiedKFold(5, shuffle=True, random_state=cfg["seed"])
    for train_idx, test_idx in splitter.split(texts, labels):
        clf = LinearSVC(C=0.5, class_weight="balanced", random_state=cfg["seed"])
        clf.fit(X[train_idx], y[train_idx], sample_weight=weights[train_idx])
        scores[test_idx] = clf.decision_function(X[test_idx])
    probs = softmax(_fit_temperature(scores, y) * scores)
    predicted = probs.argmax(axis=1)
    suspect = (predicted != y) & (probs.max(axis=1) >= d["cleanup_threshold"])
    if protected is not None:
        suspect &= ~protected
    changes = Counter(f"{labels[i]}->{topics[predicted[i]]}" for i in np.flatnonzero(suspect))
    if d["cleanup"] == "drop":
        keep = np.flatnonzero(~suspect)
        new_labels = [labels[i] for i in keep]
    else:
        keep = np.arange(len(texts))
        new_labels = [topics[predicted[i]] if suspect[i] else labels[i] for i in keep]
    return (
        keep,
        new_labels,
        {
            "mode": d["cleanup"],
            "changed": int(suspect.sum()),
            "changes": dict(changes.most_common()),
        },
    )


def _build_features(cfg: dict[str, Any]) -> TfidfFeatures:
    f = cfg["features"]
    return TfidfFeatures(
        ngram_range=tuple(f["ngram_range"]),
        min_df=f["min_df"],
        max_df=f["max_df"],
        max_features=f["max_features"] or None,
        sublinear_tf=f["sublinear_tf"],
    )


def _build_classifier(cfg: dict[str, Any]):
    c, seed = cfg["classifier"], cfg["seed"]
    class_weight = c["class_weight"] or None
    if c["kind"] == "logistic_regression":
        return LogisticRegression(
            C=c["C"], max_iter=c["max_iter"], class_weight=class_weight, random_state=seed
        )
    if c["kind"] == "linear_svc":
        return LinearSVC(
            C=c["C"], max_iter=c["max_iter"], class_weight=class_weight, random_state=seed
        )
    if c["kind"] == "sgd":
        return SGDClassifier(
            alpha=c["alpha"], max_iter=c["max_iter"], class_weight=class_weight, random_state=seed
        )
    return ComplementNB(alpha=c["alpha"])


def _linear_parts(clf, topics: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Weights and intercepts of a fitted linear classifier, one row per topic in ``topics``."""
    classes = list(clf.classes_)
    if isinstance(clf, ComplementNB):
        # Complement NB scores are X @ feature_log_prob_.T; its predict_proba is their softmax.
        coef, intercept = clf.feature_log_prob_, np.zeros(len(classes))
    else:
        coef, intercept = clf.coef_, np.atleast_1d(clf.intercept_)
        if len(classes) == 2:  # scikit-learn keeps one row for two classes
            coef, intercept = (
                np.vstack([-coef[0], coef[0]]),
                np.array([-intercept[0], intercept[0]]),
            )
    order = [classes.index(t) for t in topics]
    return np.asarray(coef)[order], np.asarray(intercept)[order]


def _fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The temperature T for which softmax(T * scores) has the least log-loss on (scores, y)."""
    best, best_loss = 1.0, np.inf
    for t in np.logspace(-1, 2.5, 71):
        z = t * scores
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -log_p[np.arange(len(y)), y].mean()
        if loss < best_loss:
            best, best_loss = float(t), loss
    return best


def _fit(
    texts: list[str], labels: list[str], weights: np.ndarray, cfg: dict[str, Any]
) -> Predictor:
    features = _build_features(cfg)
    X = features.fit_transform(texts)
    none = NONE in labels
    detector = none and cfg["data"]["out_of_scope"] == "detector"
    if detector:
        # The topics' classifier sees the in-scope texts alone (its rows are what a model of
        # the topics alone would be, over the same terms); the detector sees every text.
        scope = np.asarray([label != NONE for label in labels])
        clf = _build_classifier(cfg).fit(
            X[scope], [t for t in labels if t != NONE], sample_weight=weights[scope]
        )
        found = _build_classifier(cfg).fit(X, np.where(scope, "topic", NONE), sample_weight=weights)
    else:
        clf = _build_classifier(cfg).fit(X, labels, sample_weight=weights)
    topics = [t for t in TOPICS if t in clf.classes_]
    topics += sorted(t for t in clf.classes_ if t not in TOPICS and t != NONE)
    classes = topics + [NONE] if none else topics
    if detector:
        coef, intercept = _linear_parts(clf, topics)
        d_coef, d_intercept = _linear_parts(found, [NONE])
        coef, intercept = np.vstack([coef, d_coef]), np.concatenate([intercept, d_intercept])
    else:
        coef, intercept = _linear_parts(clf, classes)
    if none:
        intercept[-1] += cfg["classifier"]["none_offset"]
    temperature = 1.0
    if cfg["classifier"]["kind"] in _MARGIN_CLASSIFIERS:
        # Margins are not log-probabilities: fit a temperature on a tenth of the training data
        # with a model fitted on the rest, then keep it for the model fitted on everything.
        train_idx, cal_idx = next(
            StratifiedKFold(10, shuffle=True, random_state=cfg["seed"]).split(texts, labels)
        )
        part = _build_classifier(cfg).fit(
            X[train_idx], [labels[i] for i in train_idx], sample_weight=weights[train_idx]
        )
        c_coef, c_intercept = _linear_parts(part, classes)
        scores = np.asarray(X[cal_idx] @ c_coef.T) + c_intercept
        temperature = _fit_temperature(
            scores, np.asarray([classes.index(labels[i]) for i in cal_idx])
        )
    return Predictor(
        features,
        coef,
        intercept,
        topics,
        max_chars=cfg["data"]["max_chars"],
        segment=cfg["features"]["segment"],
        temperature=temperature,
        none=none,
        none_head="detector" if detector else "class",
    )


def cross_validate(
    texts: list[str], labels: list[str], weights: np.ndarray, cfg: dict[str, Any]
) -> dict[str, Any]:
    """Stratified k-fold scores on the training data (the non-held-out part): features and
    classifier are fitted anew on each fold, so the figures are fair for model selection."""
    folds = cfg["cv"]
    accuracy, macro_f1 = [], []
    started = time.monotonic()
    splitter = StratifiedKFold(folds, shuffle=True, random_state=cfg["seed"])
    for k, (train_idx, test_idx) in enumerate(splitter.split(texts, labels), start=1):
        model = _fit(
            [texts[i] for i in train_idx], [labels[i] for i in train_idx], weights[train_idx], cfg
        )
        scores = model.scores_prepared([texts[i] for i in test_idx])
        predicted = [model.classes[j] for j in scores.argmax(axis=1)]
        m = classification_metrics([labels[i] for i in test_idx], predicted, model.classes)
        accuracy.append(m["accuracy"])
        macro_f1.append(m["macro_f1"])
        _log(f"  cross-validation fold {k}/{folds}: macro-F1 {m['macro_f1']:.4f}")
    return {
        "folds": folds,
        "accuracy_mean": round(float(np.mean(accuracy)), 4),
        "accuracy_std": round(float(np.std(accuracy)), 4),
        "macro_f1_mean": round(float(np.mean(macro_f1)), 4),
        "macro_f1_std": round(float(np.std(macro_f1)), 4),
        "seconds": round(time.monotonic() - started, 1),
    }


def train(
    cfg: dict[str, Any], cache: SegmentCache | None = None
) -> tuple[Predictor, dict[str, Any]]:
    """Fit a model as ``cfg`` (from `load_config`) says; return it and its metrics."""
    started = time.monotonic()
    paths = _corpus_paths(cfg)
    report = CorpusReport()
    train_records, heldout, unique_heldout = _split(list(read_corpus(paths, report)), cfg)
    _log(f"corpus: {report.summary()}")
    dev_ids = set(_hand_labels(cfg["data"]["dev_labels"], "development labels"))
    dev_records = [r for r in train_records if r.id in dev_ids]
    excluded: set[str] = set()
    if cfg["data"]["train_files"]:
        allowed = set(cfg["data"]["train_files"])
        excluded = {r.id for r in train_records if r.file not in allowed}
        train_records = [r for r in train_records if r.file in allowed]
    # The development sample is hand-labelled for tuning: kept out of training, so that its
    # scores mean something.
    train_records = [r for r in train_records if r.id not in dev_ids]
    train_records += snippet_records(cfg["data"]["snippets"])
    hand = _training_hand_labels(cfg, train_records, heldout, dev_ids, excluded)
    weight = cfg["data"]["train_label_weight"]
    learned: dict[str, WeakLabel] = {}
    if cfg["data"]["label_model"] == "learned":
        lfs = [f for f in LABELLING_FUNCTIONS if f.name not in cfg["data"]["without_functions"]]
        vote = LearnedVote(lfs).fit([r for r in train_records if r.id in hand], hand)
        rest = [r for r in train_records if r.id not in hand]
        learned = {r.id: w for r, w in zip(rest, vote.label_many(rest))}

    def label(record: Record) -> Label | None:
        if record.id not in hand:
            return _label(record, cfg, learned.get(record.id))
        topic = hand[record.id]
        if topic == NONE and cfg["data"]["out_of_scope"] == "drop":
            return None
        return topic, weight, "hand"

    labelled = [(r, lab) for r in train_records if (lab := label(r)) is not None]
    if cfg["data"]["title_weight"] > 0:
        # Headlines on their own, as news lists and feeds show them, with the label of their
        # article: a model that has only seen whole texts under-reads short ones.
        labelled += [
            (
                replace(r, id=f"{r.id}#title", text=r.title, title="", text_kind="title"),
                (t, w * cfg["data"]["title_weight"], source),
            )
            for r, (t, w, source) in labelled
            if r.title and r.text_kind != "title"
        ]
    cache = cache or SegmentCache()
    texts = _prepare([r for r, _ in labelled], cfg, cache, "training texts")
    labels = [topic for _, (topic, _, _) in labelled]
    weights = np.asarray([weight for _, (_, weight, _) in labelled])
    cleanup = None
    if cfg["data"]["cleanup"] != "none":
        # Hand labels are the truth; with scope "section", so are the boundary rules' labels:
        # clean-up is for the noise of section hints.
        scope = cfg["data"]["cleanup_scope"]
        protected = np.asarray(
            [
                src == "hand" or (scope == "section" and src != "section")
                for _, (_, _, src) in labelled
            ]
        )
        changed = Counter()
        for _ in range(cfg["data"]["cleanup_rounds"]):
            keep, labels, cleanup = clean_labels(texts, labels, weights, cfg, protected)
            texts, weights, protected = [texts[i] for i in keep], weights[keep], protected[keep]
            changed.update(cleanup["changes"])
        cleanup["changes"] = dict(changed.most_common(12))
        cleanup["changed"] = sum(changed.values())
        done = {"drop": "dropped", "relabel": "relabelled"}[cfg["data"]["cleanup"]]
        _log(f"label clean-up: {cleanup['changed']:,} labels {done}")
    counts = Counter(labels)
    _log(f"training labels: {dict(sorted(counts.items()))} from {len(train_records):,} records")
    if len(counts) < 2:
        raise ValueError(f"training needs at least two topics with labels, got {dict(counts)}")
    cv = cross_validate(texts, labels, weights, cfg) if cfg["cv"] else None

    fit_started = time.monotonic()
    _log(f"fitting on {len(texts):,} texts")
    predictor = _fit(texts, labels, weights, cfg)
    fit_seconds = time.monotonic() - fit_started

    metrics = {
        "name": cfg["name"],
        "training": {
            "records": len(train_records),
            "labelled": len(texts),
            "snippets": sum(1 for r, _ in labelled if r.source_dataset == "snippets"),
            "headlines": sum(1 for r, _ in labelled if r.id.endswith("#title")),
            "hand_labelled": sum(1 for _, (_, _, src) in labelled if src == "hand"),
            "boundary_rules": sum(1 for _, (_, _, src) in labelled if src in BOUNDARY_RULES),
            "cleanup": cleanup,
            "labels": dict(sorted(counts.items())),
            "terms": len(predictor.features.terms_),
            "temperature": predictor.temperature,
            "fit_seconds": round(fit_seconds, 1),
        },
        "cross_validation": cv,
        "corpus": {
            "files": [p.name for p in paths],
            "fingerprint": corpus_fingerprint(paths),
            "malformed_lines": report.skipped,
        },
        "training_inputs": training_inputs(cfg, paths),
        "heldout": evaluate_model(predictor, heldout, cfg, cache),
        "heldout_without_copies": (
            evaluate_model(predictor, unique_heldout, cfg, cache)
            if unique_heldout is not heldout
            else None
        ),
        "dev": evaluate_model(predictor, dev_records, cfg, cache, cfg["data"]["dev_labels"]),
        "versions": library_versions(),
        "config": cfg,
    }
    metrics["training"]["total_seconds"] = round(time.monotonic() - started, 1)
    return predictor, metrics


_TIMES = {"seconds", "fit_seconds", "total_seconds", "predict_seconds", "texts_per_second"}


def without_times(data: Any) -> Any:
    """``data`` (nested dicts and lists) without its timings, which differ from run to run."""
    if isinstance(data, dict):
        return {k: without_times(v) for k, v in data.items() if k not in _TIMES}
    if isinstance(data, list):
        return [without_times(v) for v in data]
    return data


def _sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def training_inputs(cfg: dict[str, Any], corpus_paths: list[Path]) -> dict[str, dict[str, str]]:
    """The SHA-256 of every file a run reads besides its config: corpus files (by name), hand
    labels and news pages (by the path the config gives). A model whose record differs from
    the files at hand was trained on other data."""
    from glob import glob

    d = cfg["data"]
    labels = [*d["dev_labels"], *d.get("train_labels", [])]
    pages = sorted({page for pattern in d["snippets"] for page in glob(pattern)})
    return {
        "corpus": {path.name: _sha256(path) for path in corpus_paths},
        "hand_labels": {path: _sha256(path) for path in labels},
        "pages": {page: _sha256(page) for page in pages},
    }


def _training_hand_labels(
    cfg: dict[str, Any],
    train: list[Record],
    heldout: list[Record],
    dev_ids: set[str],
    excluded: set[str] = frozenset(),
) -> dict[str, str]:
    """The hand labels a config trains on, after checking that none of them is a held-out or a
    development text, and that every one is a record of the training part."""
    hand = _hand_labels(cfg["data"]["train_labels"], "training labels")
    for name, ids in (("held-out", {r.id for r in heldout}), ("development", dev_ids)):
        clash = sorted(ids & hand.keys())
        if clash:
            raise ValueError(f"training labels name {len(clash)} {name} texts, e.g. {clash[0]}")
    known = {r.id for r in train}
    missing = sorted(hand.keys() - known - excluded)
    if missing:
        raise ValueError(
            f"training labels name {len(missing)} texts the corpora do not hold, e.g. {missing[0]}"
        )
    # Texts of corpus files that data.train_files leaves out train nothing, hand-labelled or not.
    return {i: t for i, t in hand.items() if i in known}


def _hand_labels(paths: list[str], what: str = "hand labels") -> dict[str, str]:
    """The hand labels of every file named; a missing file is an error, never an empty sample
    (a development sample that silently vanished would leak into training)."""
    labels: dict[str, str] = {}
    for path in paths:
        if not Path(path).is_file():
            raise ValueError(
                f"{what} not found: {path} (relative paths of a config are read from the "
                "working directory: run from the repository's root, or give the path)"
            )
        labels.update(read_labels(path))
    return labels


def evaluate_model(
    predictor: Predictor,
    records: list[Record],
    cfg: dict[str, Any],
    cache: SegmentCache | None = None,
    hand_files: list[str] | None = None,
) -> dict[str, Any]:
    """Score ``predictor`` on held-out ``records``: against the labels of the config's recipe
    (``distant``; also given as the top-level ``accuracy`` and ``macro_f1``), against every
    hand-labelled sample of ``cfg['data']['eval_labels']`` (``hand``: the in-scope texts and
    the topic the model gives them; ``hand_none``: all texts, out of scope included, for a
    model with a none class), and against the boundaries slice (``boundaries``)."""
    cache = cache or SegmentCache()
    # Scored over the four topics even when the model lacks one (a model trained on section
    # names alone never says energy): the gap must show, not vanish from the average.
    topics = list(predictor.topics)
    if cfg["data"]["labels"] != "section":
        topics = list(TOPICS) + [t for t in topics if t not in TOPICS]
    classes = topics + ["none"] if predictor.none else topics
    truth = {r.id: t for r in records if (t := _truth(r, cfg)) in classes}
    hand = _hand_labels(cfg["data"]["eval_labels"] if hand_files is None else hand_files)
    boundary_files = cfg["data"]["boundary_labels"] if hand_files is None else []
    boundaries = _hand_labels(boundary_files, "boundary labels")
    kinds = _label_column(boundary_files, "kind")
    labelled = {**hand, **boundaries}
    wanted = [r for r in records if r.id in truth or labelled.get(r.id) in classes]
    started = time.monotonic()
    texts = _prepare(wanted, cfg, cache, "held-out texts")
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
        for group in groups if pairs else ():
            keys = [kinds.get(r.id, "") if group == "kind" else getattr(r, group) for r, _ in pairs]
            out[f"by_{group}"] = grouped_metrics(keys, y_true, y_pred, labels)
        return out

    by_id = {r.id: r for r in wanted}

    def pairs_of(labels: dict[str, str], among: list[str]) -> list[tuple[Record, str]]:
        return [(by_id[i], t) for i, t in sorted(labels.items()) if t in among and i in by_id]

    distant_pairs = [(r, truth[r.id]) for r in wanted if r.id in truth]
    distant = block(distant_pairs, class_of, classes)
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


def _label_column(paths: list[str], column: str) -> dict[str, str]:
    """One more column of hand-label files (the kind of a boundaries text), by id."""
    import csv

    out: dict[str, str] = {}
    for path in paths:
        with open(path, encoding="utf-8", newline="") as rows:
            for row in csv.DictReader(rows, delimiter="\t"):
                out[row["id"]] = row.get(column) or ""
    return out


def heldout_records(cfg: dict[str, Any]) -> tuple[list[Record], CorpusReport]:
    """The held-out records of the config's corpora and datasets."""
    report = CorpusReport()
    _, records, _ = _split(list(read_corpus(_corpus_paths(cfg), report)), cfg)
    return records, report


def write_metrics(metrics: dict[str, Any], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
