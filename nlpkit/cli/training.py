"""`nlpkit train` (an experiment config, or `--data`: a labelled file of one's own), `nlpkit adapt`
and `nlpkit weak-report`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..usage import UsageError
from .common import (
    _apart,
    _config,
    _reporter,
    _settle_imports,
    _stdin_named,
    _stdin_said,
    _warnings_said,
    _within,
    _writable,
    _write,
)


def _there(path: str) -> None:
    """A file that is not there, said at once (its reading comes after training's imports)."""
    if not os.path.exists(path):
        raise UsageError(f"file not found: {path}")


def cmd_train(args: argparse.Namespace) -> int:
    if args.n_jobs is not None and args.n_jobs < 0:
        raise UsageError(
            f"--n-jobs must be a number of processes (at least 1), or 0 for the machine's "
            f"cores; got {args.n_jobs}"
        )
    from .. import heap

    # (this process is nlpkit's own: malloc may keep the features' freed arrays for reuse)
    heap.allow()
    if args.data:
        args.data = _stdin_named(args.data)
        _there(args.data)
        return _train_data(args)
    if args.config is None:
        raise UsageError(
            "give an experiment config, or --data FILE to train on your own labelled file"
        )
    given = [f for f, v in _DATA_OPTIONS.items() if getattr(args, v) is not None]
    if given:
        raise UsageError(f"{given[0]} applies to --data only")
    from ..corpus import CorpusError
    from ..training import train_config
    from ..training.config import ConfigError, validate_config
    from ..training.output import write_results

    cfg = _config(args.config)
    if args.corpus:
        cfg["data"]["corpora"] = args.corpus
    if args.n_jobs is not None:
        cfg["n_jobs"] = args.n_jobs
    if args.cv is not None:
        cfg["cv"] = args.cv
    overrides = [
        option
        for option, given in (
            ("--corpus", args.corpus),
            ("--n-jobs", args.n_jobs),
            ("--cv", args.cv),
        )
        if given is not None and given != []
    ]
    if overrides:
        # (the config was checked as read: what the options changed is checked before the work)
        try:
            validate_config(cfg)
        except ConfigError as exc:
            raise UsageError(f"{', '.join(overrides)}: {exc}") from None
    model_dir = Path(
        args.model or cfg["output"]["model"] or f"experiments/results/{cfg['name']}/model"
    )
    results = Path(args.results or cfg["output"]["results"] or model_dir.parent)
    _apart(model_dir, results)
    _writable(model_dir, "--model", model=True)
    _writable(results, "--results")
    _settle_imports(args)
    try:
        predictor, metrics = train_config(cfg, progress=_reporter(args))
    except (CorpusError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    _write(write_results, predictor, metrics, cfg, model_dir, results, to=model_dir)
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
    from ..adapt import adapt
    from ..corpus import CorpusError
    from ..modelfile import ModelError, default_model_path, file_sha256
    from ..training.config import ConfigError, validate_config
    from ..training.output import write_results
    from ..training.reading import data_name, read_texts

    if not 0 < args.threshold <= 1:
        raise UsageError(f"--threshold must be within (0, 1], got {args.threshold}")
    if args.corpus and not args.config:
        raise UsageError("--corpus applies to --config only: adapting a model reads no corpus")
    args.unlabeled = _stdin_named(args.unlabeled)
    _there(args.unlabeled)
    output = Path(args.output or f"{data_name(args.unlabeled)}-adapted")
    teacher = Path(args.model) if args.model else default_model_path()
    if not teacher.exists():  # (said at once: the model is read after training's imports)
        raise UsageError(f"model folder not found: {teacher}")
    if _within(output, teacher):
        # (the refreshed model would replace the one it learns from, and a second run would
        # learn from that one: what the first model knew is lost)
        raise UsageError(
            f"--output {output} is, or is in, the model being refreshed ({teacher}): name "
            "another folder"
        )
    if args.results and _within(args.results, teacher):
        raise UsageError(
            f"--results {args.results} is in the model being refreshed ({teacher}): "
            "name another folder"
        )
    _apart(output, args.results)
    _writable(output, "--output", model=True)
    if args.results:
        _writable(Path(args.results), "--results")
    try:
        with _warnings_said("adapt"):
            texts, titles = read_texts(args.unlabeled, args.text_field, args.title_field)
        config = _config(args.config, "--unlabeled", "adapt from a feed") if args.config else None
        if config is not None:
            # The recipe's run, with the feed: named for both, written where --output says.
            config["name"] = f"{config['name']}-adapted"
            config["output"] = {"model": "", "results": ""}
            if args.corpus:
                config["data"]["corpora"] = args.corpus
                try:
                    validate_config(config)
                except ConfigError as exc:
                    raise UsageError(f"--corpus: {exc}") from None
        _settle_imports(args)
        with _warnings_said("adapt"):
            predictor, metrics = adapt(
                texts,
                titles=titles,
                model=args.model,
                config=config,
                threshold=args.threshold,
                name=f"{data_name(args.unlabeled)}-adapted",
                progress=_reporter(args),
            )
    except (CorpusError, ModelError, ValueError, OSError) as exc:
        raise UsageError(_stdin_said(str(exc))) from None
    cfg = predictor.manifest["training_config"]
    feed = metrics["training"]["feed"]
    # (the card and manifest say which feed made the model)
    feed["file"] = Path(args.unlabeled).name
    # (a pipe or standard input was read once, already: no checksum of it)
    unlabeled = Path(args.unlabeled)
    feed["sha256"] = file_sha256(unlabeled) if unlabeled.is_file() else None
    _write(write_results, predictor, metrics, cfg, output, args.results, to=output)
    print(f"model: {output}")
    print(
        f"feed: {feed['labelled']:,} of {feed['records']:,} texts labelled "
        f"({', '.join(f'{k} {v:,}' for k, v in feed['labels'].items())}); by "
        f"{', '.join(f'{k} {v:,}' for k, v in feed['by'].items())}"
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

    from ..corpus import CorpusError
    from ..training.api import train_file
    from ..training.config import ConfigError, check_weight
    from ..training.output import write_results
    from ..training.reading import data_name

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
    if args.corpus and not args.base:
        # (own data alone reads no corpus: a --corpus given would be ignored)
        raise UsageError("--corpus applies to --base only: with --data alone, no corpus is read")
    if args.weight is not None:
        try:
            check_weight("--weight", args.weight)
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
    output = Path(args.output or f"{data_name(args.data)}-model")
    _apart(output, args.results)
    _writable(output, "--output", model=True)
    if args.results:
        _writable(Path(args.results), "--results")
    options = {
        key: getattr(args, key) for key in ("cv", "n_jobs") if getattr(args, key) is not None
    }
    _settle_imports(args)
    with _warnings_said("train"):
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
            said = str(exc)
            # (a value of --n-jobs or --cv is refused in the config's words: named as given)
            named = [f"--{k.replace('_', '-')}" for k in options if said.startswith(f"'{k}' must")]
            raise UsageError(_stdin_said(f"{named[0]}: {said}" if named else said)) from None
    _write(write_results, predictor, metrics, cfg, output, args.results, to=output)
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
    elif holdout == 0 or args.split_field:
        why = "--holdout 0" if holdout == 0 else "--split-field"
        print(f"held-out: none ({why}): every text trained")
    else:
        # (a share of each label, rounded, with its last example always trained)
        print(
            f"held-out: none: --holdout {holdout:g} of each label's texts rounds to none (a "
            "label's last example always trains, and copies count as one); every text trained"
        )
    return 0


def cmd_weak_report(args: argparse.Namespace) -> int:
    from ..corpus import CorpusError, CorpusReport, is_heldout, read_corpus
    from ..evaluate import read_labels
    from ..weak import report

    out = Path(args.out) if args.out else None
    if out is not None:
        # (checked before the corpus is read: the report is written at the end)
        if out.is_dir():
            raise UsageError(f"--out {out} is a folder; name a file")
        from ..corpus import default_corpus_paths
        from ..folders import is_stream

        # (the report in place of what it reads would destroy it, and exit 0)
        reads = [*(args.corpus or default_corpus_paths()), args.dev, args.train or None]
        for path in filter(None, reads):
            if out.exists() and Path(path).exists() and os.path.samefile(out, path):
                raise UsageError(
                    f"--out {out} is {path}, which the report reads; name another file"
                )
        # (a stream, `--out >(...)` or /dev/stderr, is written to as it is)
        if not is_stream(out):
            folder = (out.resolve() if out.is_symlink() else out).absolute().parent
            if folder.exists() and not folder.is_dir():
                raise UsageError(f"--out {out}: {folder} is a file, not a folder")
            if not folder.is_dir():
                raise UsageError(f"--out {out}: the folder {folder} does not exist")
            _writable(folder, "--out")
    read = CorpusReport()
    try:
        records = [r for r in read_corpus(args.corpus, read) if not is_heldout(r)]
        labels = {"--dev": args.dev, "--train": args.train}
        for option, path in labels.items():
            if path and not Path(path).is_file():
                raise UsageError(f"{option} {path}: no such file")
        dev = read_labels(args.dev)
        train = read_labels(args.train) if args.train else None
    except (CorpusError, OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if not read.records:
        # (a plain text file, an empty one, records of another kind: nothing to report on)
        raise UsageError(f"--corpus: no corpus record read ({read.summary()})")
    if read.skipped:
        print(f"nlpkit weak-report: warning: corpus: {read.summary()}", file=sys.stderr)
    ids = {r.id for r in records}
    if not any(rid in ids for rid in dev):
        # (its accuracy table would say 0.000 of nothing)
        raise UsageError(
            f"--dev {args.dev}: none of its {len(dev):,} ids is a record of the corpus read "
            "(outside the held-out part)"
        )
    text = report(records, dev, args.dev, train, args.train or "")
    # (shown first: a file that cannot be written loses none of it)
    print(text, end="", flush=True)
    if out is not None:
        from ..folders import write_file

        _write(write_file, out, text, what="the report", to=out)
    return 0
