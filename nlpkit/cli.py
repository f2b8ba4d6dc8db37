"""The ``nlpkit`` command: predict, explain, train, adapt, evaluate, compare, diff, weak-report,
serve (its own module, `nlpkit.serve.command`).

Exit status: 0 on success, 2 for bad usage or an input that cannot be read (one line on
standard error saying what), 1 for any other failure (for `predict --input`, more records
failed than --max-errors allows; for `diff`, folders that differ), 130 after Ctrl-C, 143 after
SIGTERM, 141 when the reader of standard output went away.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from pathlib import Path

__all__ = ["main"]


from .usage import Terminated, UsageError

# A text read from a file or standard input is read up to this many bytes: a model reads a few
# thousand characters of it, and a pasted archive must not cost its size in memory.
READ_LIMIT = 4 << 20


def _read_stream(data, name: str) -> str:
    """Up to `READ_LIMIT` bytes of a binary stream as UTF-8 text; a clear error otherwise."""
    import codecs

    from .batch import InputError, sniff

    raw = data.read(READ_LIMIT)
    try:
        sniff(raw[: 1 << 16])
    except InputError as exc:
        if "JSON array" not in str(exc):
            raise UsageError(f"cannot read {name}: {exc}") from None
    try:
        # Not final: the limit may cut a character in two; its first bytes are dropped.
        return codecs.getincrementaldecoder("utf-8-sig")().decode(raw, final=len(raw) < READ_LIMIT)
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"cannot read {name}: not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None


def _not_records(text: str, name: str, how: str, args: argparse.Namespace) -> None:
    """Refuse JSON lines (two lines or more, each an object) where texts are expected."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and all(line.lstrip().startswith("{") for line in lines[:2]):
        where = "standard input" if name == "-" else name
        raise UsageError(
            f"{where} holds JSON lines: {how}"
            + (f"; --input {name} answers each record" if args.command == "predict" else "")
        )


def _read_texts(args: argparse.Namespace) -> list[str]:
    """The texts to answer: each argument, each line piped to standard input, or the whole of
    a file (-f; '-f -' for the whole of standard input as one text)."""
    from .pages import parse_page

    if args.text and args.file:
        raise UsageError("give a text or --file, not both")
    if args.file == "-":
        texts = [_read_stream(sys.stdin.buffer, "standard input")]
        names = ["standard input"]
        _not_records(texts[0], "-", "-f - reads it as one text", args)
    elif args.file:
        try:
            with open(args.file, "rb") as data:
                texts = [_read_stream(data, args.file)]
        except FileNotFoundError:
            raise UsageError(f"file not found: {args.file}") from None
        except (IsADirectoryError, PermissionError) as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
        names = [args.file]
        # (a file of records read as one text would get one answer, of its JSON)
        _not_records(texts[0], args.file, "-f reads a file as one text", args)
    elif args.text:
        texts = list(args.text)
        names = [f"argument {i}" for i in range(1, len(texts) + 1)]
    elif not sys.stdin.isatty():
        # Piped lines are texts, one answer each, as an archive's lines are: a pasted article
        # goes through -f - (one text), a file of records through --input.
        if args.page:
            texts = [_read_stream(sys.stdin.buffer, "standard input")]
            names = ["standard input"]
        else:
            text = _read_stream(sys.stdin.buffer, "standard input")
            # (each record's answer would be of its JSON: field names, other fields and all)
            _not_records(text, "-", "each piped line is read as a text", args)
            texts = text.replace("\r\n", "\n").replace("\r", "\n").removesuffix("\n").split("\n")
            names = [f"line {i} of standard input" for i in range(1, len(texts) + 1)]
    else:
        raise UsageError("no text: give a text, --file FILE, or pipe text to standard input")
    for name, text in zip(names, texts):
        if not text.strip():
            hint = (
                " (each piped line is a text: -f - reads it all as one)" if "line" in name else ""
            )
            raise UsageError(f"{name} is empty{hint}")
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


_FILE_OPTIONS = {
    "format": "--format",
    "text_field": "--text-field",
    "title_field": "--title-field",
    "prefix": "--prefix",
    "workers": "--workers",
    "batch_size": "--batch-size",
    "resume": "--resume",
    "max_errors": "--max-errors",
}


def cmd_predict(args: argparse.Namespace) -> int:
    if args.input or args.output:
        return _predict_file(args)
    given = [flag for key, flag in _FILE_OPTIONS.items() if getattr(args, key) not in (None, False)]
    if given:
        raise UsageError(f"{given[0]} applies to --input/--output only")
    from .batch import topic_of

    predictor = _load(args)
    allow_none = _allow_none(args, predictor)
    texts = _read_texts(args)
    if args.proba:
        for probs in _answer(predictor.predict_proba, texts, allow_none):
            print(json.dumps({"topic": topic_of(probs), "probabilities": probs}))
    else:
        for topic in _answer(predictor.predict, texts, allow_none):
            print("none" if topic is None else topic)
    return 0


def _allow_none(args: argparse.Namespace, predictor) -> bool:
    if args.allow_none and not predictor.none:
        raise UsageError(
            f"--allow-none: the model {predictor.manifest.get('name', '')!r} has no out-of-scope "
            "class (it was trained without none)"
        )
    return bool(args.allow_none)


def _answer(method, texts: list[str], allow_none: bool) -> list:
    try:
        return method(texts, allow_none=allow_none)
    except ValueError as exc:  # a text with nothing to read: say which, counting from 1
        i = getattr(exc, "batch_index", None)
        raise UsageError(str(exc) if i is None else f"text {i + 1}: {exc.reason}") from None


def _check_output(output: str) -> None:
    if output == "-":
        return
    path = Path(output)
    if path.is_dir():
        raise UsageError(f"--output {output} is a folder; name a file")
    if not path.parent.is_dir():
        raise UsageError(f"--output {output}: folder {path.parent} not found")


def _cores() -> int:
    from .training.parallel import usable_cores

    return usable_cores()


def _predict_file(args: argparse.Namespace) -> int:
    from .batch import BatchReport, InputError, OutputError, WorkerError, predict_file

    if not (args.input and args.output):
        raise UsageError("--input and --output go together")
    if args.text or args.file:
        raise UsageError("give texts or --input FILE, not both")
    for flag, on in (("--page", args.page), ("--proba", args.proba)):
        if on:
            raise UsageError(f"{flag} does not apply to --input (every output line has both)")
    if args.input != "-" and not Path(args.input).is_file():
        what = "is a folder" if Path(args.input).is_dir() else "not found"
        raise UsageError(f"--input {args.input}: {what}")
    _check_output(args.output)
    workers = 1 if args.workers is None else args.workers
    batch_size = 256 if args.batch_size is None else args.batch_size
    if workers < 1 or batch_size < 1:
        raise UsageError("--workers and --batch-size must be at least 1")
    max_errors = 0 if args.max_errors is None else args.max_errors
    if max_errors < 0:
        raise UsageError("--max-errors must be at least 0")
    if args.resume and args.output == "-":
        raise UsageError("--resume needs an output file, not standard output")
    cores = _cores()
    if workers > cores:
        # More processes than cores only take turns on them, each with its own model and
        # buffers: slower, not faster.
        print(
            f"nlpkit predict: note: --workers {workers} is more than the {cores} cores this "
            f"process may use; using {cores}",
            file=sys.stderr,
        )
        workers = cores
    predictor = _load(args)  # fails early, with exit status 2, on a bad model
    allow_none = _allow_none(args, predictor)
    report = BatchReport()
    try:
        predict_file(
            args.input,
            args.output,
            resume=bool(args.resume),
            predictor=predictor,
            model_path=args.model,
            text_field=args.text_field or "text",
            title_field=args.title_field,
            prefix=args.prefix or "",
            allow_none=allow_none,
            workers=workers,
            batch_size=batch_size,
            report=report,
            **({"jsonl": args.format == "jsonl"} if args.format else {}),
        )
    except InputError as exc:
        raise UsageError(str(exc)) from None
    except (WorkerError, OutputError) as exc:
        where = (
            ""
            if args.output == "-" or not Path(args.output).is_file()  # (stdout, a device)
            else f"; {report.complete:,} records are complete in {args.output}. To continue, "
            "run the same command with --resume"
        )
        print(f"nlpkit predict: error: {exc}{where}.", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Terminated):
        if args.output != "-":
            print(
                f"\nnlpkit predict: interrupted; {report.complete:,} records are complete in "
                f"{args.output}. To continue, run the same command with --resume.",
                file=sys.stderr,
            )
        raise
    print(f"nlpkit predict: {report.summary()}", file=sys.stderr)
    if report.errors > max_errors:
        print(
            f"nlpkit predict: {report.errors:,} records failed (their lines have an 'error' "
            f"field), more than --max-errors {max_errors:,}: exit status 1",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    predictor = _load(args)
    allow_none = _allow_none(args, predictor)
    texts = _read_texts(args)
    for i, text in enumerate(texts):
        try:
            explanation = predictor.explain(text, k=args.k, allow_none=allow_none)
        except ValueError as exc:
            raise UsageError(f"text {i + 1}: {exc}" if len(texts) > 1 else str(exc)) from None
        if args.json:
            print(json.dumps(explanation.to_dict(), ensure_ascii=False))
        else:
            print(("\n" if i else "") + str(explanation))
    return 0


def _config(path: str):
    from .training.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _reporter(args: argparse.Namespace):
    from .training.progress import terminal

    return terminal("quiet" if args.quiet else "progress" if args.progress else "auto")


def _writable(folder: Path, option: str) -> None:
    """Refuse, before any training, a folder that could not be written at the end: a file in
    its place or on its way, or a place this process cannot create things in. Nothing is left
    behind by the check."""
    import tempfile

    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{option} {folder} is a file; name a folder")
    ancestor = folder.absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"{option} {folder}: {ancestor} is a file, not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".nlpkit-check.", dir=ancestor))
    except OSError as exc:
        raise UsageError(
            f"{option} {folder}: cannot write in {ancestor} ({exc.strerror})"
        ) from None


def _write(write, *args) -> None:
    """``write(*args)``, a failure of the disk (full, gone, read-only) one line, exit 1."""
    try:
        write(*args)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise _WriteFailed(
            f"cannot write the model or its results ({where}{exc.strerror or exc})"
        ) from None


class _WriteFailed(Exception):
    """Writing a model or its results failed after training (exit 1: not a usage error)."""


def cmd_train(args: argparse.Namespace) -> int:
    if args.n_jobs is not None and args.n_jobs < 0:
        raise UsageError(
            f"--n-jobs must be a number of processes (at least 1), or 0 for the machine's "
            f"cores; got {args.n_jobs}"
        )
    from .training import heap

    # (this process is nlpkit's own: malloc may keep the features' freed arrays for reuse)
    heap.allow()
    if args.data:
        return _train_data(args)
    if args.config is None:
        raise UsageError(
            "give an experiment config, or --data FILE to train on your own labelled file"
        )
    given = [f for f, v in _DATA_OPTIONS.items() if getattr(args, v) is not None]
    if given:
        raise UsageError(f"{given[0]} applies to --data only")
    from .corpus import CorpusError
    from .training import train_config
    from .training.config import ConfigError, validate_config
    from .training.output import write_results

    cfg = _config(args.config)
    if args.corpus:
        cfg["data"]["corpora"] = args.corpus
    if args.n_jobs is not None:
        cfg["n_jobs"] = args.n_jobs
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
    _writable(model_dir, "--model")
    _writable(results, "--results")
    try:
        predictor, metrics = train_config(cfg, progress=_reporter(args))
    except (CorpusError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    _write(write_results, predictor, metrics, cfg, model_dir, results)
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


def cmd_adapt(args: argparse.Namespace) -> int:
    from .adapt import adapt
    from .corpus import CorpusError
    from .modelfile import ModelError
    from .training.output import write_results
    from .training.userdata import read_texts

    if not 0 < args.threshold <= 1:
        raise UsageError(f"--threshold must be within (0, 1], got {args.threshold}")
    output = Path(args.output or f"{Path(args.unlabeled).name.split('.')[0]}-adapted")
    _writable(output, "--output")
    if args.results:
        _writable(Path(args.results), "--results")
    try:
        texts, titles = read_texts(args.unlabeled, args.text_field, args.title_field)
        config = _config(args.config) if args.config else None
        if config is not None:
            # The recipe's run, with the feed: named for both, written where --output says.
            config["name"] = f"{config['name']}-adapted"
            config["output"] = {"model": "", "results": ""}
            if args.corpus:
                config["data"]["corpora"] = args.corpus
        predictor, metrics = adapt(
            texts,
            titles=titles,
            model=args.model,
            config=config,
            threshold=args.threshold,
            progress=_reporter(args),
        )
    except (CorpusError, ModelError, ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None
    cfg = predictor.manifest["training_config"]
    _write(write_results, predictor, metrics, cfg, output, args.results)
    feed = metrics["training"]["feed"]
    print(f"model: {output}")
    print(
        f"feed: {feed['labelled']:,} of {feed['records']:,} texts labelled "
        f"({', '.join(f'{k} {v:,}' for k, v in feed['labels'].items())})"
    )
    hand = metrics["heldout"]["hand"]
    if hand.get("n"):
        print(f"held-out, hand labels: macro-F1 {hand['macro_f1']} (n={hand['n']})")
    return 0


_DATA_OPTIONS = {
    "--text-field": "text_field",
    "--label-field": "label_field",
    "--title-field": "title_field",
    "--split-field": "split_field",
    "--output": "output",
    "--holdout": "holdout",
    "--base": "base",
    "--weight": "weight",
}


def _train_data(args: argparse.Namespace) -> int:
    import warnings

    from .corpus import CorpusError
    from .training.api import train_file
    from .training.output import write_results

    if args.config is not None:
        raise UsageError("give an experiment config or --data FILE, not both")
    if args.model:
        raise UsageError("--model is for configs; with --data, name the model folder with --output")
    holdout = 0.2 if args.holdout is None else args.holdout
    if not 0 <= holdout < 1:
        raise UsageError(f"--holdout must be a share in [0, 1), got {holdout}")
    if args.split_field and args.holdout is not None:
        raise UsageError(
            "--holdout and --split-field: the split field already says what is held out"
        )
    if args.weight is not None and not args.base:
        raise UsageError("--weight applies to --base only")
    if args.weight is not None and args.weight <= 0:
        raise UsageError(f"--weight must be positive, got {args.weight}")
    name = Path(args.data).name.split(".")[0]
    output = Path(args.output or f"{name}-model")
    _writable(output, "--output")
    if args.results:
        _writable(Path(args.results), "--results")
    options = {
        key: getattr(args, key) for key in ("cv", "n_jobs") if getattr(args, key) is not None
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            predictor, metrics, cfg = train_file(
                args.data,
                text_field=args.text_field or "text",
                label_field=args.label_field or "label",
                title_field=args.title_field,
                split_field=args.split_field,
                holdout=holdout,
                base=args.base,
                weight=args.weight,
                progress=_reporter(args),
                corpora=args.corpus,
                **options,
            )
        except (CorpusError, ValueError) as exc:
            raise UsageError(str(exc)) from None
        finally:
            for warning in caught:
                print(f"nlpkit train: warning: {warning.message}", file=sys.stderr)
    _write(write_results, predictor, metrics, cfg, output, args.results)
    print(f"model: {output}")
    heldout = metrics["heldout"]
    user = metrics.get("user_data", {})
    if args.base:
        before, after = user["heldout_scores"]["before"], user["heldout_scores"]["after"]
        if after.get("n"):
            print(
                f"your held-out texts (n={after['n']}): accuracy {before['accuracy']} -> "
                f"{after['accuracy']}, macro-F1 {before['macro_f1']} -> {after['macro_f1']} "
                "(base model -> with your labels)"
            )
    elif heldout["distant"].get("n"):
        print(
            f"held-out: accuracy {heldout['accuracy']}, macro-F1 {heldout['macro_f1']} "
            f"(n={heldout['distant']['n']})"
        )
    else:
        print("held-out: none (--holdout 0): every text trained")
    return 0


def cmd_weak_report(args: argparse.Namespace) -> int:
    from .corpus import CorpusError, is_heldout, read_corpus
    from .evaluate import read_labels
    from .weak import report

    try:
        records = [r for r in read_corpus(args.corpus) if not is_heldout(r)]
        dev = read_labels(args.dev)
        train = read_labels(args.train) if args.train else None
    except (CorpusError, OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    text = report(records, dev, args.dev, train, args.train or "")
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .card import compare_era_table, compare_hand_table, compare_table

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
        if args.era:
            print(compare_era_table(runs, args.era))
        else:
            print(compare_hand_table(runs) if args.hand else compare_table(runs))
    except (KeyError, TypeError) as exc:
        raise UsageError(f"a metrics file lacks a field: {exc}") from None
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from .modelfile import ModelError, differences

    try:
        found = differences(args.first, args.second)
    except ModelError as exc:
        raise UsageError(str(exc)) from None
    for line in found:
        print(line)
    n = len(found)
    if not n:
        print("identical")
        return 0
    print(f"{n} file{'s differ' if n > 1 else ' differs'}")
    if not args.texts:
        return 1
    return _diff_answers(args)


def _diff_answers(args: argparse.Namespace) -> int:
    """Folders that differ may still answer the same: compare on the texts given."""
    import nlpkit

    from .modeldiff import compare, read_texts

    if not 0 <= args.tolerance < 1:
        raise UsageError(f"--tolerance must be within [0, 1), got {args.tolerance}")
    texts: list[str] = []
    for path in args.texts:
        try:
            texts.extend(read_texts(path))
        except FileNotFoundError:
            raise UsageError(f"--texts {path}: not found") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise UsageError(f"--texts {path}: {exc}") from None
    if not texts:
        raise UsageError("--texts: no texts to compare the answers on")
    try:
        first, second = nlpkit.load(args.first), nlpkit.load(args.second)
    except nlpkit.ModelError as exc:
        raise UsageError(str(exc)) from None
    found = compare(first, second, texts, args.tolerance)
    if found["same_terms"]:
        print(
            f"weights: coefficients differ by at most {found['coef_max_difference']:.3g}, "
            f"intercepts {found['intercept_max_difference']:.3g}, idf "
            f"{found['idf_max_difference']:.3g}"
        )
    else:
        print("weights: the models have different terms or classes")
    if "texts" in found:
        print(
            f"answers: {found['answers_differ']:,} of {found['texts']:,} texts differ; "
            f"probabilities by at most {found['probability_max_difference']:.3g}"
        )
        for example in found["examples"]:
            print(f"  {example['first']} / {example['second']}: {example['text']}")
    if found["same"]:
        print(f"same answers within tolerance {args.tolerance:g}")
        return 0
    print(f"different (tolerance {args.tolerance:g})")
    return 1


def _evaluate_data(args: argparse.Namespace, predictor) -> int:
    from .evaluate import score_file
    from .training.userdata import DataError

    if args.config or args.corpus or args.labels:
        raise UsageError("--data scores a file of your own: --config, --corpus and --labels "
                         "are for the corpus's held-out part")  # fmt: skip
    try:
        result = score_file(
            predictor,
            args.data,
            text_field=args.text_field or "text",
            label_field=args.label_field or "label",
            title_field=args.title_field,
            allow_none=_allow_none(args, predictor),
        )
    except (DataError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    lacking = result.get("labels_the_model_lacks")
    if lacking:
        print(
            f"nlpkit evaluate: warning: {sum(lacking.values()):,} texts have labels the model "
            f"does not have ({', '.join(map(repr, list(lacking)[:5]))}): never answered, so "
            "always wrong"
            + (
                "; --allow-none lets it answer none" if "none" in lacking and predictor.none else ""
            ),
            file=sys.stderr,
        )
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .corpus import CorpusError
    from .evaluate import evaluate_model, heldout_records
    from .training.config import DEFAULTS

    predictor = _load(args)
    if args.data:
        return _evaluate_data(args, predictor)
    own = [f for f, v in _EVALUATE_DATA_OPTIONS.items() if getattr(args, v) is not None]
    if own:
        raise UsageError(f"{own[0]} applies to --data only")
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
        result = evaluate_model(predictor, records, cfg)
    except (CorpusError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if not result["distant"].get("n") and not result["hand"].get("n"):
        raise UsageError(
            "no held-out record of the corpus was read"
            + (f" ({report.skipped:,} lines are not corpus records)" if report.skipped else "")
            + ": to score a labelled file of your own, give it with --data FILE"
        )
    result["corpus_malformed_lines"] = report.skipped
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


_EVALUATE_DATA_OPTIONS = {
    "--text-field": "text_field",
    "--label-field": "label_field",
    "--title-field": "title_field",
    "--allow-none": "allow_none",
}


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
    from . import __version__, compiled

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
        shown.add_argument("--quiet", action="store_true", help="no progress and no messages")
        shown.add_argument(
            "--progress",
            action="store_true",
            help="progress lines even when standard error is not a terminal",
        )

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
    own.add_argument("--data", metavar="FILE", help="the labelled file")
    own.add_argument("--text-field", help="field with the text (default: text)")
    own.add_argument("--label-field", help="field with the label (default: label)")
    own.add_argument("--title-field", help="field with a title, read before the text")
    own.add_argument(
        "--split-field",
        help="field saying which texts are held out (train; test, heldout, validation, dev)",
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
        "--weight", type=float, help="sample weight of your labels with --base (default: 10)"
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
        help="the unlabelled texts: JSON lines, CSV, or plain text (.txt: one text a line)",
    )
    p.add_argument("--text-field", default="text", help="field with the text (default: text)")
    p.add_argument("--title-field", help="field with a title, read before the text")
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
        "--dev", default="experiments/labels/dev.tsv", help="hand-labelled TSV (id, topic)"
    )
    p.add_argument(
        "--train",
        default="experiments/labels/train.tsv",
        help="hand-labelled training texts to fit the learned vote on ('' for none)",
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
        "--tolerance ('same answers within tolerance'), 1 otherwise ('different').",
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
        "--data", metavar="FILE", help="JSON lines or CSV, gzipped or not, as train --data reads"
    )
    own.add_argument("--text-field", help="field with the text (default: text)")
    own.add_argument("--label-field", help="field with the label (default: label)")
    own.add_argument("--title-field", help="field with the title, if any")
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
        help="hand-labelled TSV (id, topic) to score against (repeatable)",
    )
    p.set_defaults(func=cmd_evaluate)

    from .serve.command import add_subcommand as add_serve

    add_serve(sub)
    parser.commands = sub.choices  # (the commands' parsers, by name)
    return parser


def _terminate(signum, frame) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    import signal

    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # (said by the command's own parser: "nlpkit evaluate: error: ... (see nlpkit evaluate
        # --help)", where the top one named neither the command nor its help)
        parser.commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"nlpkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except _WriteFailed as exc:
        print(f"nlpkit {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Terminated:
        return 143
    except BrokenPipeError:
        # The reader went away (`| head -n 1`): stop quietly, as other Unix tools do, and keep
        # Python from complaining when it flushes standard output at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
