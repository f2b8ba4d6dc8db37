"""The `nlpkit` command's arguments: one parser, a subcommand each, usage errors on one line."""

from __future__ import annotations

import argparse

from .models import cmd_compare, cmd_diff, cmd_evaluate
from .predicting import cmd_explain, cmd_predict
from .training import cmd_adapt, cmd_train, cmd_weak_report


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line (the usage itself is what --help is for)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _parser() -> argparse.ArgumentParser:
    from .. import __version__, compiled

    parser = _Parser(
        prog="nlpkit",
        description="File Vietnamese news under geopolitics, energy, domestic or sports.",
    )
    parser.add_argument(
        "--version", action="version", version=f"nlpkit {__version__} ({compiled.describe()})"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def progress_args(p: argparse.ArgumentParser) -> None:
        # For the commands that train: progress shows on a terminal, not in a pipe, by default.
        shown = p.add_mutually_exclusive_group()
        shown.add_argument(
            "--quiet",
            action="store_true",
            help="no progress and no messages (errors, warnings and the result still)",
        )
        shown.add_argument(
            "--progress",
            action="store_true",
            help="progress lines even when standard error is not a terminal",
        )

    def labelled_fields(own) -> None:
        # A labelled file's fields, as train --data and evaluate --data read them.
        own.add_argument("--text-field", help="field with the text (default: text)")
        own.add_argument("--label-field", help="field with the label (default: label)")
        own.add_argument("--title-field", help="field with a title, read before the text")

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
        p.add_argument(
            "--allow-none",
            action="store_true",
            help="answer none for a text outside the model's topics (entertainment, gadgets, "
            "lifestyle, science...) instead of its nearest topic",
        )

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
        help="JSON lines or plain text (one text per line), UTF-8; '-': stdin",
    )
    batch.add_argument("--output", metavar="OUT", help="output JSONL file ('-': stdout)")
    batch.add_argument(
        "--format",
        choices=["jsonl", "text"],
        help="input format (default: JSON lines if the input opens with '{', else text)",
    )
    batch.add_argument("--text-field", help="JSON field with the text (default: text)")
    batch.add_argument("--title-field", help="JSON field with the title, if any (default: title)")
    batch.add_argument(
        "--prefix",
        help="prefix for the output fields topic, probabilities, error, line "
        "(default: none; use one when the input has fields of those names)",
    )
    batch.add_argument(
        "--workers",
        type=int,
        help="worker processes (default: 1; more than the cores are capped, with a note)",
    )
    batch.add_argument("--batch-size", type=int, help="texts per batch (default: 256)")
    batch.add_argument(
        "--resume",
        action="store_true",
        default=None,
        help="continue an interrupted run: only when OUT was written for the same input, "
        "model and settings (its run record OUT.nlpkit.json says) and its complete lines "
        "answer the input's; checked before anything is written",
    )
    batch.add_argument(
        "--max-errors",
        type=int,
        metavar="N",
        help="exit with status 0 though up to N records failed (default: 0; every line is "
        "written either way)",
    )
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser(
        "explain",
        help="show the terms that decided the topic",
        description="Show the topic and the terms that pushed the text toward it and away from the runner-up.",
    )
    text_args(p)
    p.add_argument("-k", type=_positive, default=10, help="how many terms to show (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser(
        "train",
        help="train a model on your own labelled file, or from an experiment config",
        description="Train a model on your own labelled texts (--data FILE), or as an "
        "experiment config (TOML) says; write the model folder, its card and metrics.",
    )
    p.add_argument("config", nargs="?", help="experiment config, e.g. experiments/default.toml")
    own = p.add_argument_group(
        "your own data",
        "train on a labelled file: JSON lines or CSV (.tsv: tab-separated), gzipped or not",
    )
    own.add_argument("--data", metavar="FILE", help="the labelled file ('-' for standard input)")
    labelled_fields(own)
    own.add_argument(
        "--split-field",
        help="field saying which texts are held out (train, training: trained; test, heldout, "
        "held-out, held_out, validation, valid, validate, dev, eval: held out)",
    )
    own.add_argument(
        "--holdout",
        type=float,
        metavar="FRACTION",
        help="share of each label held out and scored (default 0.2; 0: train on everything)",
    )
    own.add_argument(
        "--output", metavar="DIR", help="the model folder to write (default: FILE-model)"
    )
    own.add_argument(
        "--base",
        metavar="RECIPE",
        help="add your texts of the four topics to a recipe's training data: 'default' (the "
        "shipped model's; needs the corpora) or an experiment config",
    )
    own.add_argument(
        "--weight",
        type=float,
        help="sample weight of your labels with --base (default: the recipe's weight of its "
        "hand labels, data.train_label_weight: 200 in the shipped recipe)",
    )
    progress_args(p)
    p.add_argument(
        "--model", help="where to write the model folder (default: the config's output.model)"
    )
    p.add_argument(
        "--results",
        help="where to write metrics.json and summary.md (default: the config's output.results; "
        "with --data: not written, the model folder has its card and figures)",
    )
    corpus_arg(p)
    p.add_argument("--cv", type=int, help="folds of cross-validation (overrides the config's cv)")
    p.add_argument(
        "--n-jobs",
        type=int,
        metavar="N",
        help="processes to train with (default 0: the machine's cores, at most 4); the model "
        "is the same whatever the number",
    )
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "adapt",
        help="refresh a model from an unlabelled feed (self-training)",
        description="Refresh a model from unlabelled texts: the model labels the texts it is "
        "sure of, the boundary rules of the topic definitions those their text settles, and a "
        "new model is fitted on them, with a recipe's training data (--config) or on the feed "
        "alone. The feed: JSON lines or CSV (.tsv: tab-separated), gzipped or not.",
    )
    p.add_argument(
        "--unlabeled",
        required=True,
        metavar="FILE",
        help="the unlabelled texts: JSON lines, CSV, or plain text (.txt: one text a line); "
        "'-' for standard input (JSON lines or CSV)",
    )
    p.add_argument("--text-field", default="text", help="field with the text (default: text)")
    p.add_argument(
        "--title-field",
        help="field with a title, read before the text (default: title, where a record has it)",
    )
    p.add_argument(
        "--output", metavar="DIR", help="the model folder to write (default: FILE-adapted)"
    )
    p.add_argument(
        "--model", help="the model to refresh: a model folder (default: the shipped model)"
    )
    p.add_argument(
        "--config",
        metavar="RECIPE",
        help="an experiment config whose training data the feed joins (needs its corpora); "
        "without it the new model learns from the feed alone",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=0.7,
        help="the model's probability from which its answer labels a text (default: 0.7)",
    )
    p.add_argument("--results", help="also write metrics.json and summary.md to this folder")
    progress_args(p)
    corpus_arg(p)
    p.set_defaults(func=cmd_adapt)

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
    p.add_argument(
        "--era",
        help="hand-labelled scores on one era's texts (e.g. 2025-26): dev and held-out, "
        "topic F1s, titles alone, five-way",
    )
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser(
        "weak-report",
        help="coverage, overlaps, conflicts and accuracy of the labelling functions",
        description="Analyse the labelling functions on the corpus and a hand-labelled development sample.",
    )
    p.add_argument(
        "--dev",
        default="experiments/labels/dev.tsv",
        help="hand-labelled TSV (id, topic) (default: %(default)s, from the repository's root)",
    )
    p.add_argument(
        "--train",
        default="experiments/labels/train.tsv",
        help="hand-labelled training texts to fit the learned vote on ('' for none; default: "
        "%(default)s, from the repository's root)",
    )
    corpus_arg(p)
    p.add_argument("--out", help="also write the report (markdown) to this file")
    p.set_defaults(func=cmd_weak_report)

    p = sub.add_parser(
        "diff",
        help="compare two model folders file by file",
        description="Compare two model folders: exit 0 when every file is the same, byte for "
        "byte, and the manifests say the same but for timings (a rebuild of a model), 1 with a "
        "line per difference otherwise. With --texts, folders that differ are compared by "
        "their answers: exit 0 when every answer is the same and every probability within "
        "--tolerance ('same answers within tolerance'), 1 otherwise ('different'). A folder "
        "that load refuses (a file changed since it was saved, missing or damaged) is exit 2, "
        "naming the file: it is no model to compare.",
    )
    p.add_argument("first", help="model folder")
    p.add_argument("second", help="model folder")
    p.add_argument(
        "--texts",
        action="append",
        metavar="FILE",
        help="when the folders differ, compare the models' answers on these texts (JSON lines "
        "with text and title, a corpus file, or one text a line; .gz too; repeatable)",
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=1e-4,
        help="probabilities this close count as the same (default 1e-4)",
    )
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser(
        "evaluate",
        help="score a model on a labelled file of your own, or on the corpus's held-out part",
        description="Score a model on a labelled file of your own (--data FILE: accuracy, "
        "macro-F1, each label's figures and the confusion matrix), or on the held-out part of "
        "the corpus, against weak labels and hand labels.",
    )
    p.add_argument("model", help="model folder")
    own = p.add_argument_group("a labelled file of your own")
    own.add_argument(
        "--data",
        metavar="FILE",
        help="JSON lines or CSV, gzipped or not, as train --data reads ('-' for standard input; "
        "a record's title read first by default: the model's own title field, else title, "
        "where records have it)",
    )
    labelled_fields(own)
    own.add_argument(
        "--allow-none",
        action="store_true",
        default=None,
        help="the model may answer none (out of scope), scored against the label 'none'",
    )
    corpus = p.add_argument_group("the corpus's held-out part")
    corpus.add_argument("--config", help="experiment config whose data settings to use")
    corpus_arg(corpus)
    corpus.add_argument(
        "--labels",
        action="append",
        help="hand-labelled TSV (id, topic) to score against (repeatable; default: the "
        "recipe's, experiments/labels/heldout.tsv and boundaries.tsv, from the repository's root)",
    )
    p.set_defaults(func=cmd_evaluate)

    from ..serve.command import add_subcommand as add_serve

    add_serve(sub)
    parser.commands = sub.choices  # (the commands' parsers, by name)
    return parser
