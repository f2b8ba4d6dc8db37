"""The commands about models: `nlpkit evaluate` (on the corpus's held-out part, or `--data`),
`nlpkit compare` (runs' metrics) and `nlpkit diff` (two model folders, and their answers)."""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

from ..usage import UsageError
from .common import (
    _allow_none,
    _config,
    _load,
    _not_a_file,
    _stdin_named,
    _stdin_said,
    _warnings_said,
)


def _evaluate_data(args: argparse.Namespace, predictor) -> int:
    from ..evaluate import score_file
    from ..training.reading import DataError

    if args.config or args.corpus or args.labels:
        raise UsageError("--data scores a file of your own: --config, --corpus and --labels "
                         "are for the corpus's held-out part")  # fmt: skip
    # Texts are read title first, as the model was trained: unless told, the file's title is
    # the field the model was trained with (a model of one's own file), else "title", where
    # its records have it (as predict --input reads it).
    trained = ((predictor.manifest.get("metrics") or {}).get("user_data") or {}).get("fields")
    text_field = args.text_field or "text"
    title_field = args.title_field or (trained or {}).get("title") or "title"
    if title_field == text_field and not args.title_field:
        title_field = None
    data = _stdin_named(args.data)
    try:
        with _warnings_said("evaluate"):
            result = score_file(
                predictor,
                data,
                text_field=text_field,
                label_field=args.label_field or "label",
                title_field=title_field,
                allow_none=_allow_none(args, predictor),
                title_optional=not args.title_field,
            )
    except (DataError, ValueError) as exc:
        raise UsageError(_stdin_said(str(exc))) from None
    lacking = result.get("labels_the_model_lacks")
    if lacking:
        print(
            f"nlpkit evaluate: warning: {sum(lacking.values()):,} texts have labels the model "
            f"does not have ({', '.join(map(repr, list(lacking)[:5]))}): never answered, so "
            "always wrong"
            + ("; --allow-none lets it answer none" if "none" in lacking and predictor.none else "")
            + "".join(
                f"; {label!r} is spelt {known!r} by the model"
                for label, known in list(result.get("labels_spelt_otherwise", {}).items())[:3]
            ),
            file=sys.stderr,
        )
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..corpus import CorpusError
    from ..evaluate import evaluate_model, heldout_records
    from ..training.config import DEFAULTS
    from ..training.labels import check_label_files

    predictor = _load(args)
    if args.data:
        return _evaluate_data(args, predictor)
    own = [f for f, v in _EVALUATE_DATA_OPTIONS.items() if getattr(args, v) is not None]
    if own:
        raise UsageError(f"{own[0]} applies to --data only")
    if args.config:
        cfg = _config(args.config, "--data", "score a labelled file")
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
        # (the hand labels given, and those alone: the recipe's boundary slice is its own)
        cfg["data"]["eval_labels"] = args.labels
        cfg["data"]["boundary_labels"] = []
    try:
        check_label_files(cfg, ("eval_labels", "boundary_labels"))
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


def cmd_compare(args: argparse.Namespace) -> int:
    from ..card import compare_era_table, compare_hand_table, compare_table

    if args.era and args.hand:
        raise UsageError(
            "--era gives the hand-labelled scores of one era; --hand those of all: choose one"
        )
    if args.era:
        table = lambda runs: compare_era_table(runs, args.era)  # noqa: E731
    else:
        table = compare_hand_table if args.hand else compare_table
    runs = []
    for run in args.runs:
        path = Path(run)
        path = path / "metrics.json" if path.is_dir() else path
        try:
            metrics = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UsageError(f"no metrics.json at {run}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UsageError(f"{path}: not a metrics file ({exc})") from None
        if not isinstance(metrics, dict):
            what = type(metrics).__name__
            raise UsageError(f"{path}: not a metrics file (a JSON {what}, not an object)")
        try:
            table([metrics])  # (each run alone first: a field it lacks is said with its file)
        except KeyError as exc:
            raise UsageError(f"{path}: not a metrics file of a run (no field {exc})") from None
        except (TypeError, AttributeError, ValueError) as exc:
            # (a field of another type than a run writes: a string where a table of figures is)
            raise UsageError(
                f"{path}: not a metrics file of a run (a field of the wrong type: {exc})"
            ) from None
        runs.append(metrics)
    if args.era and not any(_has_era(run, args.era) for run in runs):
        raise UsageError(f"--era {args.era}: no run has hand-labelled texts of that era")
    print(table(runs))
    return 0


def _has_era(metrics: dict, era: str) -> bool:
    for part in ("heldout", "dev"):
        if era in ((metrics.get(part) or {}).get("hand") or {}).get("by_era", {}):
            return True
    return False


def cmd_diff(args: argparse.Namespace) -> int:
    from ..modeldiff import differences
    from ..modelfile import ModelError

    # The options are checked before the folders are compared: a misspelt --texts is a usage
    # error whether or not the folders turn out to differ.
    if not 0 <= args.tolerance < 1:
        raise UsageError(f"--tolerance must be within [0, 1), got {args.tolerance}")
    for path in args.texts or []:
        _check_texts(Path(path))
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


def _check_texts(path: Path) -> None:
    """A --texts file that cannot be read as texts, said before any folder is compared: its
    first bytes are looked at (decompressed), as `predict --input` looks at its input's."""
    import codecs
    import gzip
    import zlib

    from ..batch.reading import InputError, sniff

    if not path.is_file():
        raise UsageError(f"--texts {path}: {_not_a_file(path, stdin=False)}")
    if path.name.lower().removesuffix(".gz").endswith((".csv", ".tsv")):
        # (read as lines, its header would be a text, and every text would hold its label)
        raise UsageError(
            f"--texts {path}: CSV is not read here, only JSON lines (text and title fields) or "
            "plain text, one text a line: convert it to JSON lines"
        )
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as data:
            head = data.read(1 << 16)
        sniff(head)
        # (a character cut at the end of the bytes read is no error)
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except InputError as exc:
        raise UsageError(f"--texts {path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"--texts {path}: not UTF-8 ({exc.reason})") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise UsageError(f"--texts {path}: damaged gzip file ({exc})") from None
    except OSError as exc:  # (no permission)
        raise UsageError(f"--texts {path}: cannot read it ({exc.strerror or exc})") from None
    if not head.strip():
        raise UsageError(f"--texts {path}: no text in it")


def _diff_answers(args: argparse.Namespace) -> int:
    """Folders that differ may still answer the same: compare on the texts given."""
    import nlpkit

    from ..modeldiff import compare, read_texts

    texts: list[str] = []
    for path in args.texts:
        try:
            texts.extend(read_texts(path))
        except FileNotFoundError:
            raise UsageError(f"--texts {path}: not found") from None
        except UnicodeDecodeError as exc:
            raise UsageError(f"--texts {path}: not UTF-8 ({exc.reason})") from None
        except (OSError, ValueError) as exc:
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
            # (out of scope as `nlpkit predict` prints it: "none")
            first, second = (example[k] or "none" for k in ("first", "second"))
            # (a title and its text on one line, as the rest of the report is a line each)
            text = " ".join(example["text"].split())
            print(f"  {first} / {second}: {text}")
    if found["same"]:
        print(f"same answers within tolerance {args.tolerance:g}")
        return 0
    print(f"different (tolerance {args.tolerance:g})")
    return 1
