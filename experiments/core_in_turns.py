"""Two or more builds of the compiled core, by turns in one process, on the three kinds of text.

    python experiments/core_in_turns.py OLD.so NEW.so [MORE.so ...] [--turns 30] [--data DIR]

Each build (an ``nlpkit/_core*.so`` file, from any checkout) gets its own segmenter and its
own scorer of the shipped model, and all of them run the same texts by turns, ``--turns``
times each, who goes first rotating: on a machine shared with other work, the speed moves with
its load from one second to the next, and builds timed apart can land on different moments.
Per kind, the median CPU time per text of a batch (the list in one call, `Scorer.topic`) and of
single calls (one call a text); the last columns divide each build's median by the first
build's. Passing the same build twice (two copies of the file) shows the noise of the
comparison itself. The builds must answer alike: the script checks that every build gives the
first build's topics before it times them.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import nlpkit
from nlpkit import compiled
from nlpkit.corpus import default_data_dir, sample_texts
from nlpkit.predictor import _compiled_scorer

KINDS = {"headline": 1000, "title_lead": 1000, "full_article": 200}


def load_build(path: Path, tag: int):
    """The extension module in ``path``, loaded apart from nlpkit's own (from a copy of the
    file under a name of its own: the loader keeps one module per file)."""
    copy = Path(tempfile.mkdtemp()) / f"build{tag}_{path.name}"
    shutil.copy(path, copy)
    spec = importlib.util.spec_from_file_location("nlpkit._core", copy)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if getattr(module, "ABI", None) != compiled.ABI:
        raise SystemExit(f"{path}: a core of another interface (ABI {module.ABI})")
    return module


def scorer_of(module, predictor):
    """A scorer of the predictor's model on ``module``, with a segmenter of its own."""
    saved = compiled.core, compiled._segmenter
    compiled.core, compiled._segmenter = module, None
    try:
        return _compiled_scorer(
            predictor._tfidf,
            predictor._coef,
            predictor._intercept,
            predictor.max_chars,
            predictor.topics,
        )
    finally:
        compiled.core, compiled._segmenter = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("builds", nargs="+", type=Path)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--data", type=Path, default=None, help="the corpora's folder")
    args = parser.parse_args()
    predictor = nlpkit.load()
    scorers = [scorer_of(load_build(p, i), predictor) for i, p in enumerate(args.builds)]
    print("builds:", ", ".join(f"{i}={p}" for i, p in enumerate(args.builds)))
    print(
        f"{'kind':<13} {'mode':<7}"
        + "".join(f" {'µs/text ' + str(i):>12}" for i in range(len(scorers)))
        + "".join(f" {'ratio ' + str(i) + '/0':>11}" for i in range(1, len(scorers)))
    )
    for kind, n in KINDS.items():
        texts = sample_texts(kind, n, folder=args.data or default_data_dir())
        answers = [s.topic(texts, 1, False) for s in scorers]
        if any(a != answers[0] for a in answers):
            raise SystemExit(f"{kind}: the builds answer differently")
        runs = {
            "batch": lambda s, texts=texts: s.topic(texts, 1, False),
            "single": lambda s, texts=texts: [s.topic(t, 1, False) for t in texts],
        }
        for mode, run in runs.items():
            times: list[list[float]] = [[] for _ in scorers]
            for r in range(args.turns):
                order = [(r + j) % len(scorers) for j in range(len(scorers))]
                for i in order:
                    started = time.process_time()
                    run(scorers[i])
                    times[i].append(time.process_time() - started)
            med = [statistics.median(t) / len(texts) * 1e6 for t in times]
            print(
                f"{kind:<13} {mode:<7}"
                + "".join(f" {m:>12.3f}" for m in med)
                + "".join(f" {m / med[0]:>11.3f}" for m in med[1:])
            )


if __name__ == "__main__":
    main()
