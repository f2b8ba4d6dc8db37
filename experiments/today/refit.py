"""Refit a recipe's final model with other weights, scored on the development sample: the
quick way to compare weightings that a whole run (self-training, two clean-ups) would take ten
minutes or more each to try. ``examples`` runs the recipe up to its final fit and keeps that
fit's examples (prepared texts, labels, weights and what decided each label) in a file outside
the repository; ``fit`` refits them with the weights changed and scores the 2025-26 texts of
the development sample and the older ones apart. Never the held-out part.

    python experiments/today/refit.py examples experiments/default.toml EXAMPLES.pkl
    python experiments/today/refit.py fit EXAMPLES.pkl --hand 5
    python experiments/today/refit.py fit EXAMPLES.pkl --boundary 3 --keep-boundary
    python experiments/today/refit.py fit EXAMPLES.pkl --today 2
    python experiments/today/refit.py fit EXAMPLES.pkl --weight energy_headline=0.5
    python experiments/today/refit.py fit EXAMPLES.pkl --max-features 300000
    python experiments/today/refit.py fit EXAMPLES.pkl --ngram-max 3 --min-df 3 --max-df 0.3

The figures are those of `experiments/README.md` ("Today's news": against energy's precision).
``--hand 5`` is the recipe's ``train_label_weight`` times 5; a whole run with the new weight
differs a little from its refit, as the first fit and the clean-up see the weights too.
"""

from __future__ import annotations

import argparse
import pickle
import sys

import numpy as np
from at_random import scores  # (this folder: the script's own)

from nlpkit.cache import SegmentCache
from nlpkit.training import pipeline
from nlpkit.training.config import load_config
from nlpkit.training.fit import fit
from nlpkit.training.labels import prepare_records, read_parts
from nlpkit.training.progress import Progress
from nlpkit.training.tuning import tune_none_offset
from nlpkit.weak import BOUNDARY_RULES

_TODAY = "news_2025_26.jsonl"  # the corpus file of today's news


class _Done(Exception):
    pass


def examples(config: str, out: str) -> None:
    cfg = load_config(config)
    clean_up, prepare, calls, prepared = pipeline.clean_up, pipeline.prepare_records, [], []
    last = 2 if cfg["data"]["self_training"]["files"] else 1

    def seen(records, *args, **kwargs):
        prepared[:] = [records]
        return prepare(records, *args, **kwargs)

    def keep(texts, labels, weights, sources, cfg, progress=None):
        before = list(labels)
        records = prepared[0]
        kept = clean_up(texts, labels, weights, sources, cfg, progress)
        calls.append(None)
        if len(calls) == last:  # the final fit's clean-up: its examples are the fit's
            texts, labels, weights, _ = kept
            with open(out, "wb") as f:
                pickle.dump(
                    {"texts": texts, "labels": labels, "weights": weights,
                     "before": before, "sources": sources, "cfg": cfg,
                     "files": [r.file for r in records]}, f,
                )  # fmt: skip
            raise _Done
        return kept

    pipeline.clean_up, pipeline.prepare_records = keep, seen
    try:
        pipeline.run(cfg, progress=Progress(log=lambda m: print(m, flush=True)))
    except _Done:
        print(f"examples of the final fit: {out}")


def refit(args: argparse.Namespace) -> None:
    with open(args.examples, "rb") as f:
        d = pickle.load(f)
    labels, weights, cfg = list(d["labels"]), np.array(d["weights"]), d["cfg"]
    sources = np.asarray(d["sources"])
    boundary = np.isin(sources, list(BOUNDARY_RULES))
    if args.keep_boundary:  # the boundary rules' labels as they were before clean-up
        for i in np.flatnonzero(boundary):
            labels[i] = d["before"][i]
    weights[boundary] *= args.boundary
    for name, factor in [("hand", args.hand), ("teacher", args.teacher), *args.weight]:
        weights[sources == name] *= factor
    weights[(np.asarray(d["files"]) == _TODAY) & (sources != "hand")] *= args.today
    if args.max_features is not None:
        cfg["features"]["max_features"] = args.max_features
    if args.ngram_max is not None:
        cfg["features"]["ngram_range"] = [1, args.ngram_max]
    if args.min_df is not None:
        cfg["features"]["min_df"] = args.min_df
    if args.max_df is not None:
        cfg["features"]["max_df"] = args.max_df
    if args.C is not None:
        cfg["classifier"]["C"] = args.C
    if args.class_weight is not None:
        cfg["classifier"]["class_weight"] = "" if args.class_weight == "none" else "balanced"
    predictor = fit(d["texts"], labels, weights, cfg)
    score_dev(predictor, cfg)


def score_dev(predictor, cfg: dict, what: str = "") -> None:
    """Set a refitted model's none line on the development sample, as the recipe does, and
    print its figures there: the 2025-26 texts and the older ones apart."""
    parts = read_parts(cfg)
    truth = [parts.dev_labels[r.id] for r in parts.dev]
    chosen = tune_none_offset(predictor, prepare_records(parts.dev, cfg, SegmentCache()), truth)
    print(f"{what}none offset {chosen['offset']:+g}")
    for era, today in (("2025-26", True), ("older", False)):
        idx = [i for i, r in enumerate(parts.dev) if (r.file == _TODAY) == today]
        texts = [parts.dev[i].full_text for i in idx]
        m4, m5 = scores(predictor, texts, [truth[i] for i in idx])
        print(
            f"{era}: n {len(idx)}, macro-F1 {m4['macro_f1']:.3f}, "
            f"energy F1 {m4['per_label']['energy']['f1']:.3f}, five-way {m5['accuracy']:.3f}, "
            f"none F1 {m5['per_label']['none']['f1']:.3f}"
        )


def _source_factor(text: str) -> tuple[str, float]:
    name, _, factor = text.partition("=")
    try:
        return name, float(factor)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected SOURCE=FACTOR, got {text!r}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("examples", help="run a recipe up to its final fit; keep the examples")
    ex.add_argument("config")
    ex.add_argument("out", help="the file to write (outside the repository)")
    fi = sub.add_parser("fit", help="refit the examples with other weights; score dev")
    fi.add_argument("examples")
    fi.add_argument("--hand", type=float, default=1.0, help="hand labels' weight times this")
    fi.add_argument("--boundary", type=float, default=1.0, help="boundary rules' weight times")
    fi.add_argument("--teacher", type=float, default=1.0, help="self-training's weight times")
    fi.add_argument(
        "--today", type=float, default=1.0, help="2025-26 texts' weight times (hand labels apart)"
    )
    fi.add_argument(
        "--weight",
        action="append",
        default=[],
        type=_source_factor,
        metavar="SOURCE=FACTOR",
        help="the weight of the examples a labelling function decided, times FACTOR",
    )
    fi.add_argument("--keep-boundary", action="store_true", help="undo clean-up's changes of them")
    fi.add_argument("--C", type=float, default=None)
    fi.add_argument("--max-features", type=int, default=None, help="terms kept (150,000 shipped)")
    fi.add_argument("--class-weight", choices=["balanced", "none"], default=None)
    fi.add_argument("--ngram-max", type=int, choices=[1, 2, 3], default=None, help="2 shipped")
    fi.add_argument("--min-df", type=int, default=None, help="2 shipped")
    fi.add_argument("--max-df", type=float, default=None, help="0.5 shipped")
    args = parser.parse_args()
    if getattr(args, "max_features", None) is not None and args.max_features < 1:
        parser.error(f"--max-features must be at least 1, got {args.max_features}")
    if args.command == "examples":
        examples(args.config, args.out)
    else:
        refit(args)


if __name__ == "__main__":
    sys.exit(main())
