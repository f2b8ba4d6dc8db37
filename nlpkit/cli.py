"""The ``nlpkit`` command: predict, explain, train, evaluate, compare, weak-report.

Exit status: 0 on success, 2 for bad usage or an input that cannot be read (one line on
standard error saying what), 1 for any other failure.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

__all__ = ["main"]


class UsageError(Exception):
    """Bad usage or unreadable input: exit status 2 with a one-line message."""


def _read_texts(args: argparse.Namespace) -> list[str]:
    from .pages import parse_page

    if args.text and args.file:
        raise UsageError("give a text or --file, not both")
    if args.file:
        path = Path(args.file)
        try:
            raw = sys.stdin.read() if args.file == "-" else path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"file not found: {args.file}") from None
        except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {args.file}: {exc}") from None
        texts = [raw]
    elif args.text:
        texts = list(args.text)
    elif not sys.stdin.isatty():
        texts = [sys.stdin.read()]
    else:
        raise UsageError("no text: give a text, --file FILE, or pipe text to standard input")
    if not all(t.strip() for t in texts):
        raise UsageError("the text is empty")
    if args.page:
        try:
            texts = [parse_page(t).text for t in texts]
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return texts


def _load(args: argparse.Namespace):
    import nlpkit

    try:
        return nlpkit.load(args.model)
    except nlpkit.ModelError as exc:
        raise UsageError(str(exc)) from None


def cmd_predict(args: argparse.Namespace) -> int:
    if args.input or args.output:
        return _predict_file(args)
    predictor = _load(args)
    texts = _read_texts(args)
    if args.proba:
        for probs in predictor.predict_proba(texts):
            print(json.dumps({"topic": max(probs, key=probs.get), "probabilities": probs}))
    else:
        for topic in predictor.predict(texts):
            print(topic)
    return 0


def _predict_file(args: argparse.Namespace) -> int:
    from .batch import predict_file

    if not (args.input and args.output):
        raise UsageError("--input and --output go together")
    if args.text or args.file:
        raise UsageError("give texts or --input FILE, not both")
    if args.input != "-" and not Path(args.input).is_file():
        raise UsageError(f"file not found: {args.input}")
    if args.workers < 1 or args.batch_size < 1:
        raise UsageError("--workers and --batch-size must be at least 1")
    predictor = _load(args)  # fails early, with exit status 2, on a bad model
    report = predict_file(
        args.input,
        args.output,
        resume=args.resume,
        predictor=predictor if args.workers == 1 else None,
        model_path=args.model,
        text_field=args.text_field,
        title_field=args.title_field,
        workers=args.workers,
        batch_size=args.batch_size,
        **({"jsonl": args.format == "jsonl"} if args.format else {}),
    )
    print(f"nlpkit predict: {report.summary()}", file=sys.stderr)
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    predictor = _load(args)
    for i, text in enumerate(_read_texts(args)):
        explanation = predictor.explain(text, k=args.k)
        if args.json:
            print(json.dumps(explanation.to_dict(), ensure_ascii=False))
        else:
            print(("\n" if i else "") + str(explanation))
    return 0


def _config(path: str):
    from .train import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def cmd_train(args: argparse.Namespace) -> int:
    from . import modelfile
    from .card import confusion_png, model_card, run_summary
    from .corpus import CorpusError
    from .train import ConfigError, train, validate_config, write_metrics

    cfg = _config(args.config)
    if args.corpus:
        cfg["data"]["corpora"] = args.corpus
    if args.cv is not None:
        cfg["cv"] = args.cv
        try:
            validate_config(cfg)
        except ConfigError as exc:
            raise UsageError(f"--cv: {exc}") from None
    model_dir = Path(
        args.model or cfg["output"]["model"] or f"experiments/results/{cfg['name']}/model"
    )
    results = Path(args.results or cfg["output"]["results"] or model_dir.parent)
    try:
        predictor, metrics = train(cfg)
    except (CorpusError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    extra = {
        "training_config": cfg,
        "corpus": metrics["corpus"],
        "metrics": {
            "heldout": metrics["heldout"],
            "training": metrics["training"],
            "cross_validation": metrics["cross_validation"],
        },
    }
    picture = (
        confusion_png(
            metrics["heldout"]["distant"],
            f"{cfg['name']}: held-out part against its {cfg['data']['labels']} labels",
        )
        if metrics["heldout"]["distant"].get("n")
        else None
    )
    card_picture = "confusion_matrix.png" if picture else None
    modelfile.save(
        predictor,
        model_dir,
        name=cfg["name"],
        extra=extra,
        card=model_card(cfg["name"], list(predictor.topics), extra, picture=card_picture),
        attachments={"confusion_matrix.png": picture} if picture else None,
    )
    results.mkdir(parents=True, exist_ok=True)
    write_metrics(metrics, results / "metrics.json")
    if picture:
        (results / "confusion_matrix.png").write_bytes(picture)
    (results / "summary.md").write_text(run_summary(metrics, card_picture) + "\n", encoding="utf-8")
    heldout = metrics["heldout"]
    print(f"model: {model_dir}\nresults: {results}")
    print(
        f"held-out, {cfg['data']['labels']} labels: accuracy {heldout['accuracy']}, "
        f"macro-F1 {heldout['macro_f1']} (n={heldout['distant'].get('n', 0)})"
    )
    hand = heldout["hand"]
    if hand["n"]:
        print(
            f"held-out, hand labels: accuracy {hand['accuracy']}, macro-F1 {hand['macro_f1']} (n={hand['n']})"
        )
    return 0


def cmd_weak_report(args: argparse.Namespace) -> int:
    from .corpus import CorpusError, is_heldout, read_corpus
    from .evaluate import read_labels
    from .weak import report

    try:
        records = [r for r in read_corpus(args.corpus) if not is_heldout(r)]
        dev = read_labels(args.dev)
    except (CorpusError, OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    text = report(records, dev, args.dev)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .card import compare_hand_table, compare_table

    runs = []
    for run in args.runs:
        path = Path(run)
        path = path / "metrics.json" if path.is_dir() else path
        try:
            runs.append(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise UsageError(f"no metrics.json at {run}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UsageError(f"{path}: not a metrics file ({exc})") from None
    try:
        print(compare_hand_table(runs) if args.hand else compare_table(runs))
    except (KeyError, TypeError) as exc:
        raise UsageError(f"a metrics file lacks a field: {exc}") from None
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .corpus import CorpusError
    from .train import DEFAULTS, evaluate_model, heldout_records

    predictor = _load(args)
    if args.config:
        cfg = _config(args.config)
    else:  # the data settings the model was trained with, over the defaults
        cfg = copy.deepcopy(DEFAULTS)
        for key, value in predictor.manifest.get("training_config", {}).items():
            if isinstance(value, dict) and isinstance(cfg.get(key), dict):
                cfg[key].update(value)
    cfg["data"]["max_chars"] = predictor.max_chars
    cfg["features"]["segment"] = predictor.segment
    if args.corpus:
        cfg["data"]["corpora"] = args.corpus
    if args.labels:
        cfg["data"]["eval_labels"] = args.labels
    try:
        records, report = heldout_records(cfg)
    except CorpusError as exc:
        raise UsageError(str(exc)) from None
    result = evaluate_model(predictor, records, cfg)
    result["corpus_malformed_lines"] = report.skipped
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def _parser() -> argparse.ArgumentParser:
    from . import __version__, compiled

    parser = argparse.ArgumentParser(
        prog="nlpkit",
        description="File Vietnamese news under geopolitics, energy, domestic or sports.",
    )
    parser.add_argument(
        "--version", action="version", version=f"nlpkit {__version__} ({compiled.describe()})"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def corpus_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--corpus",
            action="append",
            help="corpus JSONL file (repeatable; default: ../shared/data)",
        )

    def text_args(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "text", nargs="*", help="text(s) to classify; or use --file or standard input"
        )
        p.add_argument("-f", "--file", help="read the text from FILE ('-' for standard input)")
        p.add_argument(
            "--page",
            action="store_true",
            help="the input is a news page: classify its title and body, not its related-news list",
        )
        p.add_argument("-m", "--model", help="model folder (default: the shipped model)")

    p = sub.add_parser(
        "predict",
        help="print the topic of each text",
        description="Print the topic of each text, one per line.",
    )
    text_args(p)
    p.add_argument(
        "--proba", action="store_true", help="print JSON lines with the probability of each topic"
    )
    batch = p.add_argument_group(
        "files of any size",
        "stream --input to --output (JSON lines: each record plus 'topic' and 'probabilities'; "
        "an unusable line gets an 'error' field), in order, in bounded memory",
    )
    batch.add_argument(
        "--input",
        metavar="FILE",
        help="JSONL (.jsonl) or plain text, one text per line; '-': stdin",
    )
    batch.add_argument("--output", metavar="OUT", help="output JSONL file ('-': stdout)")
    batch.add_argument(
        "--format", choices=["jsonl", "text"], help="input format (default: by file name)"
    )
    batch.add_argument(
        "--text-field", default="text", help="JSON field with the text (default: text)"
    )
    batch.add_argument(
        "--title-field", default="title", help="JSON field with the title, if any (default: title)"
    )
    batch.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    batch.add_argument("--batch-size", type=int, default=256, help="texts per batch (default: 256)")
    batch.add_argument(
        "--resume", action="store_true", help="keep OUT's complete lines and continue after them"
    )
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser(
        "explain",
        help="show the terms that decided the topic",
        description="Show the topic and the terms that pushed the text toward it and away from the runner-up.",
    )
    text_args(p)
    p.add_argument("-k", type=int, default=10, help="how many terms to show (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser(
        "train",
        help="train a model from an experiment config",
        description="Train a model as an experiment config (TOML) says; write the model folder and metrics.json.",
    )
    p.add_argument("config", help="experiment config, e.g. experiments/default.toml")
    p.add_argument(
        "--model", help="where to write the model folder (default: the config's output.model)"
    )
    p.add_argument(
        "--results", help="where to write metrics.json (default: the config's output.results)"
    )
    corpus_arg(p)
    p.add_argument("--cv", type=int, help="folds of cross-validation (overrides the config's cv)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "compare",
        help="compare training runs side by side",
        description="Print a markdown table of several runs: settings, scores and times.",
    )
    p.add_argument("runs", nargs="+", help="run folders (with metrics.json) or metrics files")
    p.add_argument(
        "--hand",
        action="store_true",
        help="hand-labelled scores: dev, held-out by era, energy, titles",
    )
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser(
        "weak-report",
        help="coverage, overlaps, conflicts and accuracy of the labelling functions",
        description="Analyse the labelling functions on the corpus and a hand-labelled development sample.",
    )
    p.add_argument(
        "--dev", default="experiments/labels/dev.tsv", help="hand-labelled TSV (id, topic)"
    )
    corpus_arg(p)
    p.add_argument("--out", help="also write the report (markdown) to this file")
    p.set_defaults(func=cmd_weak_report)

    p = sub.add_parser(
        "evaluate",
        help="score a model on the held-out part of the corpus",
        description="Score a model on the held-out part of the corpus, against weak labels and hand labels.",
    )
    p.add_argument("model", help="model folder")
    p.add_argument("--config", help="experiment config whose data settings to use")
    corpus_arg(p)
    p.add_argument(
        "--labels",
        action="append",
        help="hand-labelled TSV (id, topic) to score against (repeatable)",
    )
    p.set_defaults(func=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"nlpkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
