"""The ``nlpkit`` command: predict, explain, train, adapt, evaluate, compare, diff, weak-report,
serve (its own module, `nlpkit.serve.command`). One module a job: `parser` (the arguments),
`predicting` (texts), `archives` (`--input`/`--output`), `training` (train, adapt,
weak-report), `models` (evaluate, compare, diff), `common` (what they share); `main` here.

Exit status: 0 on success, 2 for bad usage or an input that cannot be read (one line on
standard error saying what), 1 for any other failure (for `predict --input`, more records
failed than --max-errors allows; for `diff`, folders that differ), 130 after Ctrl-C, 143 after
SIGTERM, 141 when the reader of standard output went away. An interruption is one line saying
what it left on disk.
"""

from __future__ import annotations

import errno
import os
import sys

from ..usage import Terminated, UsageError
from .common import _NOTHING_WRITTEN, _WriteFailed
from .parser import _parser

__all__ = ["main"]


# The arguments that name a file or folder (their argparse dest).
_PATHS = {"model", "output", "results", "out", "input", "data", "unlabeled", "base", "corpus"}
_PATHS |= {"texts", "file", "config", "runs", "first", "second"}
# Options naming a field of the records: empty, they would fall back to the default name.
_FIELDS = {"text_field", "label_field", "title_field", "split_field"}


def _terminate(signum, frame) -> None:
    raise Terminated


def _drop_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    import signal

    try:
        parser = _parser()
        args, extra = parser.parse_known_args(argv)
    except KeyboardInterrupt:  # (Ctrl-C as the command starts: before it did anything)
        print("\nnlpkit: interrupted; nothing was done.", file=sys.stderr)
        return 130
    if extra:
        # (said by the command's own parser: "nlpkit evaluate: error: ... (see nlpkit evaluate
        # --help)", where the top one named neither the command nor its help)
        parser.commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    command = parser.commands[args.command]
    for action in command._actions:
        value = getattr(args, action.dest, None) if action.dest in _PATHS else None
        if value == "" or (isinstance(value, list) and "" in value):
            # (an unset shell variable, say: read as the current folder, or as no option)
            name = "/".join(action.option_strings) or action.metavar or action.dest
            command.error(f"{name} is empty: name a file or folder")
        if action.dest in _FIELDS and getattr(args, action.dest, None) == "":
            command.error(f"{'/'.join(action.option_strings)} is empty: name the field")
    # (the process is the command's own: train and adapt may set their imports aside from the
    # collector once their arguments are checked, `common._settle_imports`)
    args.own_process = argv is None
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        status = args.func(args)
        sys.stdout.flush()  # (a full disk or a failing device says so here, not at exit)
        if argv is None:
            # The command's work is done and said: a Ctrl-C or SIGTERM while the process ends
            # (freeing a trained model's memory takes a moment) would turn it into a silent
            # exit 130 or 143. (Only as the process's own command: a caller passing argv keeps
            # its handlers.)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            previous = signal.SIG_IGN
        return status
    except UsageError as exc:
        print(f"nlpkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except _WriteFailed as exc:
        print(f"nlpkit {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:
        # (the pools' module is imported by the work that forks, not by every command)
        from ..pools import WorkerDied

        if not isinstance(exc, WorkerDied):
            raise
        left = _NOTHING_WRITTEN.get(args.command)
        fewer = "; with --n-jobs 1 it needs less memory" if hasattr(args, "n_jobs") else ""
        print(
            f"nlpkit {args.command}: error: {exc}{f'; {left}' if left else ''}{fewer}",
            file=sys.stderr,
        )
        return 1
    except (KeyboardInterrupt, Terminated) as exc:
        # (a command that knows what the interruption left says it; otherwise, for a command
        # that writes only at its end, nothing was written)
        left = getattr(exc, "left", None) or _NOTHING_WRITTEN.get(args.command)
        print(
            f"\nnlpkit {args.command}: interrupted{f'; {left}' if left else ''}.", file=sys.stderr
        )
        return 130 if isinstance(exc, KeyboardInterrupt) else 143
    except UnicodeEncodeError as exc:
        # Standard output in an encoding without Vietnamese's letters (PYTHONIOENCODING=ascii,
        # a C locale): one line saying what to set, not a traceback from inside print.
        if exc.encoding.replace("-", "").lower() == "utf8":
            raise  # (a lone surrogate: no setting of the user's to blame)
        print(
            f"nlpkit {args.command}: error: standard output's encoding ({exc.encoding}) cannot "
            f"write {exc.object[exc.start : exc.end]!r}: set PYTHONIOENCODING=utf-8, or a UTF-8 "
            "locale",
            file=sys.stderr,
        )
        _drop_stdout()
        return 1
    except BrokenPipeError:
        # The reader went away (`| head -n 1`): stop quietly, as other Unix tools do, and keep
        # Python from complaining when it flushes standard output at exit.
        _drop_stdout()
        return 141
    except OSError as exc:
        # What no command catches: standard output on a full disk or a failing device, say.
        # One line, and the output still buffered is dropped, not written again at exit.
        if exc.filename:
            what = f"{exc.filename}: {exc.strerror or exc}"
        elif exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO):
            what = f"cannot write standard output ({exc.strerror})"
        else:
            what = str(exc)
        print(f"nlpkit {args.command}: error: {what}", file=sys.stderr)
        _drop_stdout()
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
