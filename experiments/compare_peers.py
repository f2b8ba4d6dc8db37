"""nlpkit against its peers, in one run on one machine and the same texts: accuracy on VNTC's
published split and prediction speed on three kinds of real text.

Three systems are trained on all of VNTC's ``Train_Full`` (33,759 files, copies included) to
predict the ten VNTC sections, and scored on all of ``Test_Full`` (50,373 files), as published
VNTC results are; beside that, on the test files that copy no training file and no other test
file (`nlpkit train`'s figure "without copies"). Every system reads the same string per file, title
and text as `Record.full_text` joins them:

- **nlpkit**: the recipe of ``experiments/vntc10.toml`` built with nlpkit's own training
  functions (the figures are those ``nlpkit train experiments/vntc10.toml`` reports; its
  cross-validation, which selects nothing here, is left out), predicting with a `Predictor`
  (on the compiled core when it is built);
- **underthesea-core** 3.3.2's ``TextClassifier``, the Rust engine behind underthesea's
  ``classify``, with the settings of underthesea's VNTC training (syllable 1-2 grams, 20,000
  features, linear SVM, C = 1, 2,000 iterations; no word segmentation, no normalisation);
- **plain pipeline**: what a user would write: ``pyvi.ViTokenizer.tokenize``, scikit-learn's
  ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_df=0.5)`` and
  ``LinearSVC()``.

Then each trained model is timed on `nlpkit.corpus.sample_texts` of three kinds (VnExpress
headlines, VnExpress title + lead, VNTC full articles): batch throughput (the whole sample in
one call) and single-call latency (median over one-text calls). The whole script runs on one
core (thread pools of numpy, BLAS and underthesea-core's rayon set to one thread, the process
pinned to the first CPU it may use), so training times compare engines, not thread counts;
times are wall clock (``time.perf_counter``).

Run from the repository root, with the corpora in ``../shared/data`` (or ``--data DIR``):

    pip install '.[compare]'
    python experiments/compare_peers.py --out experiments/results/peers.md

It prints the tables in markdown (``--out`` writes them to a file too) and its progress on
stderr. The full run took 57 minutes on a 2-core machine that other jobs kept busy, 52 of them
in the plain pipeline (pyvi's pure-Python segmenter on all 84,132 articles); nlpkit and
underthesea-core take about two minutes each. ``--limit 2000`` (2,000 training and 2,000 test
files) takes about 2 minutes, with figures that are not the benchmark's. Without
underthesea-core installed its row says so and the rest runs. Wall times on a shared machine
move with its load (a run's ratios compare figures measured minutes apart, not the same
instant): rerun the speed part on a quiet machine before quoting it.
"""

from __future__ import annotations

import os

# Before numpy, scikit-learn or underthesea-core start a thread pool: one thread each, and the
# process on one CPU, so that no system wins by using more cores than another.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_name] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import hashlib  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from importlib.metadata import PackageNotFoundError, version  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from nlpkit import compiled  # noqa: E402
from nlpkit.cache import prepare_many  # noqa: E402
from nlpkit.corpus import TEXT_KINDS, Record, default_data_dir, read_corpus, sample_texts  # noqa: E402
from nlpkit.evaluate import classification_metrics  # noqa: E402
from nlpkit.training.config import load_config  # noqa: E402
from nlpkit.training.fit import fit as _fit  # noqa: E402
from nlpkit.training.labels import label_of as _label  # noqa: E402
from nlpkit.training.labels import split_records as _split  # noqa: E402
from nlpkit.training.labels import truth_of as _truth  # noqa: E402

CONFIG = Path(__file__).with_name("vntc10.toml")
NOT_INSTALLED = "not installed (pip install '.[compare]')"
KIND_NAMES = {"headline": "headline", "title_lead": "title + lead", "full_article": "full article"}
# underthesea's VNTC model (sen-classifier-general, trained by sen-1's train_vntc.py): TF-IDF
# over syllable 1-2 grams, 20,000 features, a linear SVM with C = 1 and up to 2,000 iterations.
UNDERTHESEA_SETTINGS = {"max_features": 20000, "ngram_range": (1, 2), "c": 1.0, "max_iter": 2000}
PLAIN_SETTINGS = {"ngram_range": (1, 2), "sublinear_tf": True, "min_df": 2, "max_df": 0.5}

Batch = Callable[[list[str]], list[str]]
One = Callable[[str], str]


@dataclass
class System:
    """A trained system: its name, what it is, how it predicts, and what it scored."""

    name: str
    settings: str
    batch: Batch | None = None  # None: not available (not installed)
    one: One | None = None
    train_seconds: float = 0.0
    test_seconds: float = 0.0
    scores: dict[str, dict[str, Any]] | None = None


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the three systems ----------------------------------------------------------------------


def train_nlpkit(texts: list[str], labels: list[str], cfg: dict[str, Any]) -> tuple[Batch, One]:
    """The vntc10 recipe as `nlpkit train` fits it: the texts prepared as its `prepare_records`
    does them, then `fit` (features, classifier and the temperature of its probabilities)."""
    # No segment cache: a warm cache from earlier runs would make nlpkit's training time a
    # look-up rather than the work. One process: the run has one core.
    prepared = prepare_many(
        texts,
        None,
        n_jobs=1,
        segment=cfg["features"]["segment"],
        max_chars=cfg["data"]["max_chars"],
    )
    # Section labels weigh 1 each (no data.weights in the recipe); `_label` says so.
    weights = np.ones(len(texts))
    predictor = _fit(prepared, labels, weights, cfg)
    return predictor.predict, predictor.predict


def train_underthesea(texts: list[str], labels: list[str]) -> tuple[Batch, One] | None:
    try:
        import underthesea_core
    except ImportError:
        return None
    model = underthesea_core.TextClassifier(**UNDERTHESEA_SETTINGS)
    model.fit(texts, labels)
    return model.predict_batch, model.predict


def train_plain(texts: list[str], labels: list[str]) -> tuple[Batch, One]:
    from pyvi import ViTokenizer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(**PLAIN_SETTINGS)
    X = vectorizer.fit_transform([ViTokenizer.tokenize(t) for t in texts])
    clf = LinearSVC().fit(X, labels)

    def batch(items: list[str]) -> list[str]:
        return clf.predict(vectorizer.transform([ViTokenizer.tokenize(t) for t in items])).tolist()

    def one(text: str) -> str:
        return str(clf.predict(vectorizer.transform([ViTokenizer.tokenize(text)]))[0])

    return batch, one


def nlpkit_settings(cfg: dict[str, Any]) -> str:
    f, c, d = cfg["features"], cfg["classifier"], cfg["data"]
    words = "pyvi words (nlpkit's segmenter)" if f["segment"] else "syllables"
    terms = f"max {f['max_features']:,} terms" if f["max_features"] else "all terms"
    return (
        f"`{CONFIG.parent.name}/{CONFIG.name}`: {words}, first {d['max_chars']:,} characters, "
        f"TF-IDF {f['ngram_range'][0]}-{f['ngram_range'][1]} grams (min_df {f['min_df']}, "
        f"max_df {f['max_df']}, sublinear {str(f['sublinear_tf']).lower()}, {terms}), "
        f"{c['kind']} C = {c['C']:g}, class_weight {c['class_weight'] or 'none'}"
    )


def underthesea_settings() -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in UNDERTHESEA_SETTINGS.items())
    return f"`TextClassifier({args})`: syllables as written, no segmentation"


def plain_settings() -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in PLAIN_SETTINGS.items())
    return f"`ViTokenizer.tokenize` + `TfidfVectorizer({args})` + `LinearSVC()`"


# -- data and scores ------------------------------------------------------------------------


def _spread(records: list[Record], n: int) -> list[Record]:
    """``n`` records in the order of a hash of their id: spread over sections and outlets,
    the same on every run (as `sample_texts` picks them)."""
    return sorted(records, key=lambda r: hashlib.sha1(r.id.encode("utf-8")).digest())[:n]


def load_split(
    cfg: dict[str, Any], data: Path, limit: int | None
) -> tuple[list[Record], list[Record], list[Record]]:
    """Training files, test files, and the test files that are no copy of a training file or
    of another test file: `nlpkit.training.labels.split_records` with ``data.split = "vntc"``."""
    paths = [data / name for name in cfg["data"]["files"]]
    train, test, unique = _split(list(read_corpus(paths)), cfg)
    if limit:
        # The copies are found again among the files kept, as the full split finds them.
        train, test, unique = _split(_spread(train, limit) + _spread(test, limit), cfg)
    return train, test, unique


def score(
    predicted: list[str], test: list[Record], unique: list[Record], cfg: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Accuracy and macro-F1 on all test files and on those without copies, as
    `nlpkit.evaluate.evaluate_model` computes them (`classification_metrics`)."""
    truth = [_truth(r, cfg) for r in test]
    labels = sorted(set(truth))
    keep = {r.id for r in unique}
    rows = [i for i, r in enumerate(test) if r.id in keep]
    return {
        "all": classification_metrics(truth, predicted, labels),
        "unique": classification_metrics(
            [truth[i] for i in rows], [predicted[i] for i in rows], labels
        ),
    }


# -- timing ---------------------------------------------------------------------------------


def batch_rate(batch: Batch, texts: list[str], repeats: int) -> float:
    """Texts per second over the whole sample in one call: the median of ``repeats`` calls,
    after a warm-up (first-use tables, caches) on a part of it."""
    batch(texts[:50])
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        out = batch(texts)
        times.append(time.perf_counter() - started)
        assert len(out) == len(texts)
    return len(texts) / statistics.median(times)


def one_call_ms(one: One, texts: list[str], calls: int) -> float:
    """Median milliseconds of one call with one text, every call another text of the kind."""
    for text in texts[:20]:
        one(text)
    gc.collect()
    times = []
    for i in range(calls):
        text = texts[i % len(texts)]
        started = time.perf_counter()
        one(text)
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


# -- the report -----------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def versions() -> str:
    out = [f"Python {platform.python_version()}"]
    for name in ("nlpkit", "numpy", "scikit-learn", "pyvi", "underthesea-core"):
        try:
            out.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            out.append(f"{name} not installed")
    return ", ".join(out)


def fmt(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def accuracy_table(systems: list[System], n_test: int, n_unique: int) -> list[str]:
    lines = [
        f"| system | train s | predict test s | accuracy, all {n_test:,} | macro-F1, all | "
        f"accuracy, without copies ({n_unique:,}) | macro-F1, without copies | what it is |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in systems:
        if s.scores is None:
            lines.append(f"| {s.name} | {NOT_INSTALLED} | | | | | | {s.settings} |")
            continue
        a, u = s.scores["all"], s.scores["unique"]
        lines.append(
            f"| {s.name} | {s.train_seconds:,.1f} | {s.test_seconds:,.1f} | {a['accuracy']:.4f} | "
            f"{a['macro_f1']:.4f} | {u['accuracy']:.4f} | {u['macro_f1']:.4f} | {s.settings} |"
        )
    return lines


def speed_table(
    systems: list[System],
    samples: dict[str, list[str]],
    rates: dict[tuple[str, str], float],
    latencies: dict[tuple[str, str], float],
) -> list[str]:
    ours, peers = systems[0], systems[1:]
    head = "| text | measure | " + " | ".join(s.name for s in systems)
    head += "".join(f" | nlpkit / {p.name}" for p in peers) + " |"
    lines = [head, "|" + " --- |" * (2 + len(systems) + len(peers))]
    for kind, texts in samples.items():
        mean = sum(map(len, texts)) / len(texts)
        label = f"{KIND_NAMES[kind]} ({len(texts):,} texts, {mean:,.0f} chars)"
        for measure, table, spec in (
            ("batch, texts/s", rates, ",.0f"),
            ("one call, median ms", latencies, ".4f"),
        ):
            cells = [fmt(table.get((s.name, kind)), spec) for s in systems]
            mine = table.get((ours.name, kind))
            for p in peers:
                theirs = table.get((p.name, kind))
                if mine is None or theirs is None:
                    cells.append("–")
                else:
                    # As speed: above 1, nlpkit is faster.
                    ratio = mine / theirs if table is rates else theirs / mine
                    cells.append(f"{ratio:.2f}×")
            lines.append(f"| {label} | {measure} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="corpus folder")
    parser.add_argument("--out", type=Path, help="also write the markdown to this file")
    parser.add_argument(
        "--limit", type=int, default=0, help="only N training and N test files (a quick try)"
    )
    parser.add_argument("--headlines", type=int, default=2000, help="headlines timed")
    parser.add_argument("--title-leads", type=int, default=2000, help="title + lead texts timed")
    parser.add_argument("--articles", type=int, default=300, help="full articles timed")
    parser.add_argument("--calls", type=int, default=200, help="one-text calls timed per kind")
    parser.add_argument("--repeats", type=int, default=3, help="batch calls timed per kind")
    args = parser.parse_args()
    data = args.data or default_data_dir()
    command = shlex.join(["python", *sys.argv])
    run_started = time.perf_counter()
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None

    cfg = load_config(CONFIG)
    log(f"reading the corpora in {data}")
    train, test, unique = load_split(cfg, data, args.limit or None)
    texts = [r.full_text for r in train]
    labels = [lab[0] for r in train if (lab := _label(r, cfg)) is not None]
    assert len(labels) == len(texts), "every VNTC file has its section"
    test_texts = [r.full_text for r in test]
    log(f"{len(train):,} training files, {len(test):,} test files ({len(unique):,} no copies)")

    trainers: list[tuple[str, str, Callable[[], tuple[Batch, One] | None]]] = [
        ("nlpkit", nlpkit_settings(cfg), lambda: train_nlpkit(texts, labels, cfg)),
        ("underthesea-core", underthesea_settings(), lambda: train_underthesea(texts, labels)),
        ("plain pipeline", plain_settings(), lambda: train_plain(texts, labels)),
    ]
    systems = []
    for name, settings, fit in trainers:
        system = System(name, settings)
        systems.append(system)
        log(f"{name}: training")
        gc.collect()
        started = time.perf_counter()
        fitted = fit()
        system.train_seconds = time.perf_counter() - started
        if fitted is None:
            log(f"{name}: {NOT_INSTALLED}")
            continue
        system.batch, system.one = fitted
        log(f"{name}: trained in {system.train_seconds:.1f} s; predicting the test files")
        gc.collect()
        started = time.perf_counter()
        predicted = system.batch(test_texts)
        system.test_seconds = time.perf_counter() - started
        system.scores = score(list(predicted), test, unique, cfg)
        log(
            f"{name}: accuracy {system.scores['all']['accuracy']:.4f} in "
            f"{system.test_seconds:.1f} s"
        )

    sizes = {"headline": args.headlines, "title_lead": args.title_leads}
    sizes["full_article"] = args.articles
    assert set(sizes) == set(TEXT_KINDS)
    samples = {kind: sample_texts(kind, n, folder=data) for kind, n in sizes.items()}
    rates: dict[tuple[str, str], float] = {}
    latencies: dict[tuple[str, str], float] = {}
    ready = [(s.name, s.batch, s.one) for s in systems if s.batch and s.one]
    # Kind by kind, every system in turn: a change in the machine's load then hits all of them
    # rather than one.
    for kind, sample in samples.items():
        for name, batch, one in ready:
            log(f"timing {name} on {kind}")
            rates[name, kind] = batch_rate(batch, sample, args.repeats)
            latencies[name, kind] = one_call_ms(one, sample, args.calls)

    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    seconds = time.perf_counter() - run_started
    lines = ["# nlpkit and its peers: VNTC accuracy and prediction speed", ""]
    if args.limit:
        lines += [
            f"**`--limit {args.limit}`: {len(train):,} training and {len(test):,} test files "
            "only. A quick try: these figures are not the benchmark's.**",
            "",
        ]
    lines += [
        f"Command: `{command}`",
        "",
        f"Machine: {platform.platform()}; {cpu_model()}, {os.cpu_count()} CPUs, this run "
        f"pinned to one; {versions()}; nlpkit predicts on the {compiled.describe()}. "
        + (
            f"Load average {load_before[0]:.2f} at the start, {load_after[0]:.2f} at the end. "
            if load_before and load_after
            else ""
        )
        + f"{datetime.date.today().isoformat()}; the run took {seconds / 60:.1f} minutes.",
        "",
        "## VNTC, 10 sections",
        "",
        f"Trained on {len(train):,} `Train_Full` files (copies included), scored on "
        f"{len(test):,} `Test_Full` files, and on the {len(unique):,} of them that copy no "
        "training file and no other test file. Each system reads title and text of every file. "
        "Train s: wall time from the raw texts to a model, segmentation included (nlpkit: also "
        "the fit of its probability temperature, on 90% of the data; without its segment "
        "cache). Predict test s: all test files in one call, from raw text.",
        "",
        *accuracy_table(systems, len(test), len(unique)),
        "",
        "## Prediction speed",
        "",
        "The models above, on `nlpkit.corpus.sample_texts` (VnExpress headlines and title + "
        "lead, VNTC full articles). Batch: the whole sample in one call (median of "
        f"{args.repeats}). One call: one text per call, median of {args.calls} calls. One core, "
        "wall time. Ratios are of speed: above 1, nlpkit is faster.",
        "",
        *speed_table(systems, samples, rates, latencies),
        "",
    ]
    markdown = "\n".join(lines)
    print(markdown)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(markdown, encoding="utf-8")
        log(f"written to {args.out}")


if __name__ == "__main__":
    main()
