"""Prediction benchmarks on real texts: `pytest tests/benchmarks --benchmark-only`.

Three kinds of text — headlines, title + lead, full articles — from the corpora in
``../shared/data`` when they are there (`nlpkit.corpus.sample_texts`), else from the pages the
repository ships (`seeds/`: page and related-news titles, related items' title + lead, the
articles). For each kind, in one run: a batch of texts in one call and single calls (one text
per call, going round the same texts), for

- ``nlpkit``: the shipped model on the compiled core;
- ``pure``: the same model on the pure-Python fallback (NLPKIT_PURE);
- ``plain``: the plain pipeline a user would write: ``pyvi.ViTokenizer.tokenize``, then the
  same fitted vectorizer and classifier as scikit-learn objects (`Predictor.to_pipeline`),
  given the same first 5,000 characters nlpkit reads;
- ``uts``: underthesea-core's ``TextClassifier``, the Rust engine behind underthesea's
  ``classify`` (TF-IDF over syllable 1-2 grams, 20,000 features, a linear SVM; no word
  segmentation), as its documentation builds it, trained here on corpus texts with
  nlpkit's weak labels; and ``uts-pre``: the same with its ``TextPreprocessor`` doing what
  nlpkit's normalisation does (NFC and lower-casing), for comparison;

when underthesea-core is installed. They measure and never assert a time;
`experiments/benchmark_table.py` turns the JSON into the tables of BENCHMARKS.md. On a shared
machine, time them by CPU time (``--benchmark-timer time.process_time``, the process's threads
included), as BENCHMARKS.md does; the startup rows time a child process by the wall clock.
"""

from __future__ import annotations

import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

import pytest
from conftest import SEEDS, SHARED_DATA, pure
from pyvi import ViTokenizer

import nlpkit
from nlpkit.modelfile import default_model_path
from nlpkit.pages import read_page

KINDS = {"headline": 1000, "title_lead": 1000, "full_article": 200}  # texts per batch
HAVE_CORPUS = (SHARED_DATA / "raw_corpus.jsonl").is_file() and (
    SHARED_DATA / "vnexpress_2020s.jsonl"
).is_file()


def _seed_texts(kind: str) -> list[str]:
    pages = [read_page(p) for p in SEEDS]
    if kind == "headline":
        return list(
            dict.fromkeys([p.title for p in pages] + [s.title for p in pages for s in p.related])
        )
    if kind == "title_lead":
        return list(dict.fromkeys(s.text for p in pages for s in p.related))
    return [p.text for p in pages]


def texts_of(kind: str) -> list[str]:
    if HAVE_CORPUS:
        from nlpkit.corpus import sample_texts

        return sample_texts(kind, KINDS[kind], folder=SHARED_DATA)
    return _seed_texts(kind)


TEXTS = {kind: texts_of(kind) for kind in KINDS}


@pytest.fixture(scope="module")
def predictor():
    return nlpkit.load()


def _plain(predictor):
    pipeline = predictor.to_pipeline()
    features, clf = pipeline.named_steps["features"], pipeline.named_steps["classifier"]
    cut = predictor.max_chars

    def predict(texts):
        return clf.predict(features.transform([ViTokenizer.tokenize(t[:cut]) for t in texts]))

    return predict


def _training_texts() -> tuple[list[str], list[str]]:
    """Texts and weak labels to train underthesea-core on: corpus texts of all three kinds
    outside the held-out part, or, without the corpora, the seed pages' snippets."""
    from nlpkit.weak import label_record

    if not HAVE_CORPUS:
        from conftest import SEED_TITLES

        pages = [read_page(p) for p in SEEDS]
        pairs = [(s.text, SEED_TITLES[s.title]) for p in pages for s in p.related]
        pairs += list(SEED_TITLES.items())
        return [t for t, _ in pairs], [y for _, y in pairs]
    from nlpkit.corpus import is_heldout, read_corpus

    texts, labels = [], []
    for name, n in (("vnexpress_2020s.jsonl", 8000), ("raw_corpus.jsonl", 4000)):
        taken = 0
        for record in read_corpus([SHARED_DATA / name]):
            label = label_record(record)
            if label.topic and not is_heldout(record):
                texts.append(record.full_text)
                labels.append(label.topic)
                taken += 1
                if taken == n:
                    break
    return texts, labels


@pytest.fixture(scope="module")
def underthesea():
    core = pytest.importorskip("underthesea_core")
    texts, labels = _training_texts()
    models = {}
    for name, pre in (
        ("uts", None),
        ("uts-pre", core.TextPreprocessor(
            lowercase=True, unicode_normalize=True, remove_urls=False,
            normalize_repeated_chars=False, normalize_punctuation=False, use_defaults=False,
        )),
    ):  # fmt: skip
        model = core.TextClassifier(max_features=20000, ngram_range=(1, 2), c=1.0, preprocessor=pre)
        model.fit(texts, labels)
        models[name] = model
    return models


def _system(name, predictor, underthesea):
    """(one text -> label, texts -> labels, context) for a system."""
    if name in ("nlpkit", "pure"):
        return predictor.predict, predictor.predict, pure if name == "pure" else _nothing
    if name == "plain":
        batch = _plain(predictor)
        return (lambda text: batch([text])[0]), batch, _nothing
    model = underthesea[name]
    return model.predict, model.predict_batch, _nothing


@contextmanager
def _nothing():
    yield


SYSTEMS = ["nlpkit", "pure", "plain", "uts", "uts-pre"]
# About a second a round or more: a few rounds are enough.
SLOW = {("pure", "full_article"), ("plain", "title_lead"), ("plain", "full_article")}


def _run(benchmark, f, *args, slow: bool):
    if slow:
        return benchmark.pedantic(f, args=args, rounds=3, iterations=1, warmup_rounds=1)
    return benchmark(f, *args)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("system", SYSTEMS)
def test_batch(benchmark, request, predictor, kind, system):
    underthesea = request.getfixturevalue("underthesea") if system.startswith("uts") else None
    _, batch, context = _system(system, predictor, underthesea)
    texts = TEXTS[kind]
    benchmark.group = f"{kind}: batch of {len(texts)}"
    benchmark.extra_info.update(kind=kind, system=system, texts=len(texts), mode="batch")
    with context():
        batch(texts)  # warm: the model, the segmenter's cache
        out = _run(benchmark, batch, texts, slow=(system, kind) in SLOW)
    assert len(out) == len(texts)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("system", SYSTEMS)
def test_single(benchmark, request, predictor, kind, system):
    underthesea = request.getfixturevalue("underthesea") if system.startswith("uts") else None
    one, _, context = _system(system, predictor, underthesea)
    texts = TEXTS[kind]
    benchmark.group = f"{kind}: one text per call"
    benchmark.extra_info.update(kind=kind, system=system, texts=1, mode="single")
    turn = itertools.cycle(texts)  # every call another text of the kind

    def call():
        return one(next(turn))

    with context():
        for text in texts[:50]:
            one(text)
        if system in ("pure", "plain"):  # a millisecond or more a call
            out = _run(benchmark, call, slow=False)
        else:
            # A few microseconds a call: the CPU-time clock is read around a block of calls
            # (its reading costs about as much as a call and is coarse on some machines);
            # the figure is the time of one call, the median over blocks.
            out = benchmark.pedantic(call, rounds=200, iterations=SINGLE_BLOCK, warmup_rounds=2)
    assert isinstance(out, str)


SINGLE_BLOCK = 20  # calls timed together in test_single, for the fast systems
ROUNDS = 50  # turns each in the interleaved comparison


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("mode", ["batch", "single"])
def test_in_turns_with_underthesea(benchmark, predictor, underthesea, kind, mode):
    """nlpkit and underthesea-core taking turns on the same texts, ROUNDS times each, who goes
    first alternating: on a machine shared with other work, their speed moves with its load
    from one second to the next, and separate tests can land on different moments. The
    medians per text of both are kept in the JSON's extra_info."""
    texts, uts = TEXTS[kind], underthesea["uts"]
    if mode == "batch":
        run = {"nlpkit": lambda: predictor.predict(texts), "uts": lambda: uts.predict_batch(texts)}
    else:
        run = {
            "nlpkit": lambda: [predictor.predict(t) for t in texts],
            "uts": lambda: [uts.predict(t) for t in texts],
        }
    assert run["nlpkit"]() and run["uts"]()  # warm
    times: dict[str, list[float]] = {"nlpkit": [], "uts": []}

    def turns():
        for r in range(ROUNDS):
            for name in ("nlpkit", "uts") if r % 2 == 0 else ("uts", "nlpkit"):
                started = time.process_time()
                run[name]()
                times[name].append(time.process_time() - started)

    benchmark.group = "nlpkit and underthesea-core in turns"
    benchmark.pedantic(turns, rounds=1, iterations=1)
    nlp, other = (statistics.median(times[n]) / len(texts) for n in ("nlpkit", "uts"))
    benchmark.extra_info.update(
        kind=kind, mode=mode, texts=len(texts), nlpkit=nlp, uts=other, ratio=other / nlp
    )


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_large_batch_nlpkit(benchmark, predictor, n_jobs):
    texts = TEXTS["title_lead"] * (4000 // len(TEXTS["title_lead"]) + 1)
    texts = texts[:4000]
    benchmark.extra_info.update(texts=len(texts))
    out = benchmark.pedantic(predictor.predict, (texts,), {"n_jobs": n_jobs}, rounds=3)
    assert len(out) == len(texts)


@pytest.mark.parametrize("kind", list(KINDS))
def test_explain(benchmark, predictor, kind):
    # `explain` of a batch: the answer, the terms on each side, their kinds and the title's.
    texts = TEXTS[kind][:200]
    benchmark.group = f"{kind}: explain {len(texts)}"
    benchmark.extra_info.update(kind=kind, system="nlpkit", texts=len(texts), mode="explain")
    predictor.explain(texts)  # warm
    out = benchmark(predictor.explain, texts)
    assert len(out) == len(texts)


def test_model_load(benchmark):
    predictor = benchmark(nlpkit.load, default_model_path())
    assert predictor.topics == nlpkit.TOPICS


# Startup, each in a fresh interpreter: the interpreter alone, `import nlpkit`, and the
# import plus a first prediction (model, segmenter and compiled tables included). Bytecode is
# cached, as after `pip install` (the warm-up round writes it where the install did not).
STARTUP = {
    "python": "pass",
    "import": "import nlpkit",
    "first_predict": "import nlpkit; nlpkit.predict('Giá xăng tăng 500 đồng')",
}


@pytest.mark.benchmark(timer=time.perf_counter)  # wall time: the work is in a child process
@pytest.mark.parametrize("what", list(STARTUP))
def test_startup(benchmark, what):
    benchmark.group = "startup, fresh interpreter"
    command = [sys.executable, "-c", STARTUP[what]]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    options = {"check": True, "env": env, "cwd": tempfile.gettempdir()}  # (not the checkout)
    benchmark.pedantic(subprocess.run, (command,), options, rounds=10, warmup_rounds=1)
