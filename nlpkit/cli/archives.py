"""`nlpkit predict --input FILE --output FILE`: a whole archive streamed (`nlpkit.batch`), its
options checked first, its interruptions and failures said in one line with how to resume."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..usage import Terminated, UsageError
from .common import _allow_none, _load, _not_a_file

if TYPE_CHECKING:
    from ..batch import BatchReport

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


def _check_output(output: str) -> None:
    if output == "-":
        return
    path = Path(output)
    if path.is_dir():
        raise UsageError(f"--output {output} is a folder; name a file")
    if not path.parent.is_dir():
        raise UsageError(f"--output {output}: folder {path.parent} not found")


def _cores() -> int:
    from ..training.parallel import usable_cores

    return usable_cores()


def _untouched(output: str) -> str:
    """What an interruption before the output was touched left."""
    if output == "-":
        return "nothing was written"
    if Path(output).exists():
        return f"nothing was written, and {output} is as it was"
    return f"nothing was written (there is no {output})"


def _predict_file(args: argparse.Namespace) -> int:
    from .. import heap
    from ..batch import (
        BatchReport,
        DamagedInput,
        InputError,
        OutputError,
        WorkerError,
        predict_file,
    )
    from ..batch.records import records

    # (this process is nlpkit's own: malloc may keep a chunk's freed memory for the next one)
    heap.allow()
    if not args.output:
        raise UsageError("--input needs --output: a file, or - for standard output")
    if not args.input:
        raise UsageError("--output needs --input: a file, or - for standard input")
    if args.text or args.file:
        raise UsageError("give texts or --input FILE, not both")
    if args.proba:
        raise UsageError("--proba does not apply to --input (every output line has both)")
    if args.page:
        raise UsageError("--page does not apply to --input (each record is one text)")
    if args.input != "-" and not Path(args.input).is_file():
        raise UsageError(f"--input {args.input}: {_not_a_file(Path(args.input))}")
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
    try:
        predictor = _load(args)  # fails early, with exit status 2, on a bad model
    except (KeyboardInterrupt, Terminated) as exc:
        exc.left = _untouched(args.output)  # (`main` says it)
        raise
    allow_none = _allow_none(args, predictor)
    report = BatchReport()
    try:
        predict_file(
            args.input,
            args.output,
            resume=bool(args.resume),
            predictor=predictor,
            model_path=args.model,
            text_field=args.text_field,
            title_field=args.title_field,
            prefix=args.prefix or "",
            allow_none=allow_none,
            workers=workers,
            batch_size=batch_size,
            report=report,
            **({"jsonl": args.format == "jsonl"} if args.format else {}),
        )
    except DamagedInput as exc:
        if not report.complete:
            raise UsageError(f"{args.input}: {exc}") from None
        # (the lines before the damage were answered: not "nothing done", and no resume: the
        # same input would meet the same damage)
        print(
            f"nlpkit predict: error: {args.input}: {exc}; the {records(report.complete)} "
            f"before it {'is' if report.complete == 1 else 'are'} complete in {args.output}.",
            file=sys.stderr,
        )
        return 1
    except InputError as exc:
        raise UsageError(str(exc)) from None
    except (WorkerError, OutputError) as exc:
        where = (
            ""
            if args.output == "-" or not Path(args.output).is_file()  # (stdout, a device)
            else f"; {_complete(args.output, report, failed=isinstance(exc, OutputError))}"
        )
        print(f"nlpkit predict: error: {exc}{where}.", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Terminated) as exc:
        if args.output != "-":
            # (`main` says it; interrupted while a resume checks the lines already there, say:
            # nothing written)
            exc.left = _complete(args.output, report) if report.started else _untouched(args.output)
        raise
    print(f"nlpkit predict: {report.summary()}", file=sys.stderr)
    # (the lines a resumed run kept count too: the output holds their errors as it holds these)
    failed = report.errors + report.resumed_errors
    if failed > max_errors:
        print(
            f"nlpkit predict: {records(failed)} failed "
            f"({'its line has' if failed == 1 else 'their lines have'} an 'error' "
            f"field), more than --max-errors {max_errors:,}: exit status 1",
            file=sys.stderr,
        )
        return 1
    return 0


def _complete(output: str, report: BatchReport, failed: bool = False) -> str:
    """How many records an output stopped short holds, and how to go on from there;
    ``failed``: a write to it failed (a full disk), after which the file, not the run's count,
    says what it holds."""
    from ..batch.records import records

    if failed and output.endswith(".gz"):
        return (
            "the gzip file is not whole (a write to it failed); run the command again once it "
            "can be written"
        )
    complete = report.complete
    if failed:
        # (bytes of lines the run had not counted yet may have reached the file before the
        # write that failed)
        with contextlib.suppress(OSError), open(output, "rb") as data:
            complete = sum(block.count(b"\n") for block in iter(lambda: data.read(1 << 20), b""))
    done = f"{records(complete)} {'is' if complete == 1 else 'are'} complete in {output}"
    if output.endswith(".gz"):
        # (closed whole, but a compressed output is not continued: `predict_file`)
        return (
            f"{done}, a whole gzip file. A compressed output cannot be resumed: run the command "
            "again, or write it uncompressed and compress it when done"
        )
    if not complete:  # (resume refuses an output with no complete line to check)
        return f"{done}. Run the same command again to start afresh"
    return f"{done}. To continue, run the same command with --resume"
