"""What the commands share: loading the model, `--allow-none`, a config, progress, and checking
that an output folder can be written before any training (and saying so when writing fails)."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..usage import Terminated, UsageError


def _load(args: argparse.Namespace):
    import nlpkit

    try:
        return nlpkit.load(args.model)
    except nlpkit.ModelError as exc:
        raise UsageError(str(exc)) from None


@contextmanager
def _warnings_said(command: str) -> Iterator[None]:
    """The warnings of the work inside, each one line on standard error, named for the command
    (Python's own form names a file and line of nlpkit's code), said as they come: a warning of
    the data comes before a long training, while there is time to stop it and mend the file."""

    def say(message, *_: object, **__: object) -> None:
        said = _stdin_said(str(message))
        print(f"nlpkit {command}: warning: {said}", file=sys.stderr, flush=True)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = say
        yield


def _stdin_named(path: str) -> str:
    """'-', standard input, as the name the readers open (they read a stream once, from its
    start, as they read a shell's <(...))."""
    return "/dev/stdin" if path == "-" else path


def _stdin_said(message: str) -> str:
    """A message of the readers, which name standard input by the name they opened it by."""
    return message.replace("/dev/stdin", "standard input")


def _settle_imports(args: argparse.Namespace) -> None:
    """Training's imports made, and what they made set aside from the cyclic collector: some
    125,000 objects of scikit-learn, scipy and numpy that live as long as the process, which
    the collector's full passes went over a few times during training and again at exit
    (0.4-0.6 s of CPU of `train --data` on VNTC's Train_Full). Once the arguments are checked
    (a mistake in them is said at once), and only in a process that is the command's own: a
    caller of `main` keeps its collector as it is."""
    if not getattr(args, "own_process", False):
        return
    import gc

    from ..training import pipeline  # noqa: F401  (scikit-learn and scipy come with it)

    gc.freeze()


def _allow_none(args: argparse.Namespace, predictor) -> bool:
    if args.allow_none and not predictor.none:
        raise UsageError(
            f"--allow-none: the model {predictor.manifest.get('name', '')!r} has no out-of-scope "
            "class (it was trained without none)"
        )
    return bool(args.allow_none)


def _config(path: str, data_option: str = "--data", what: str = "train on a labelled file"):
    """The experiment config at ``path``; ``data_option``: the command's option for a data file
    (to ``what``), named when a data file is given where the config goes."""
    from ..training.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        hint = ""
        if not path.endswith(".toml") and "not valid TOML" in str(exc):
            # (a data file given where a config goes: `nlpkit train texts.jsonl`)
            hint = f"; to {what}, give it with {data_option}: {data_option} {path}"
        raise UsageError(f"{exc}{hint}") from None


def _reporter(args: argparse.Namespace):
    from ..training.progress import terminal

    return terminal("quiet" if args.quiet else "progress" if args.progress else "auto")


def _not_a_file(path: Path, stdin: bool = True) -> str:
    """Why ``path``, which is not a regular file, cannot be read as one."""
    if path.is_dir():
        return "is a folder"
    if os.path.exists(path):
        return "is not a regular file (a pipe or a device)" + (
            ": give a file, or - with it on standard input" if stdin else ": give a file"
        )
    return "not found"


def _within(path: str | Path, folder: str | Path) -> bool:
    """Whether ``path`` is ``folder`` or inside it, whatever the names (links, ./x/)."""
    inside, outer = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return inside == outer or outer in inside.parents


def _apart(model: Path, results: str | Path | None) -> None:
    """Refuse results written into the model folder: a model folder holds the model alone,
    and a folder with other files in it would be refused by the next save."""
    if not results or not _within(results, model):
        return
    if os.path.realpath(results) == os.path.realpath(model):
        raise UsageError(f"--results {results} is the model's folder: name another")
    raise UsageError(f"--results {results} is inside the model's folder: name another")


def _writable(folder: Path, option: str, model: bool = False) -> None:
    """Refuse, before any training, a folder that could not be written at the end: a file in
    its place or on its way, or a place this process cannot create things in; for a ``model``
    folder, a folder of the user's that saving would replace. Nothing is left behind by the
    check."""
    import tempfile

    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{option} {folder} is a file; name a folder")
    if model:
        from ..modelfile import check_replaceable

        try:
            check_replaceable(folder)
        except FileExistsError as exc:
            raise UsageError(f"{option} {exc}") from None
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


# What an interruption leaves, for the commands that write only when their work is done (train
# and adapt save their model at the end, in `_write`; weak-report writes its file at the end).
_NOTHING_WRITTEN = {cmd: "nothing was written" for cmd in ("train", "adapt", "weak-report")}


def _write(write, *args, what: str = "the model or its results", to: Any = None) -> None:
    """``write(*args)``, a failure of the disk (full, gone, read-only) one line naming
    ``what`` was written and where (the file, or else ``to``), exit 1; an interruption while
    it writes says what it may have left."""
    try:
        write(*args)
    except (KeyboardInterrupt, Terminated) as exc:
        # (a model folder is saved whole or not at all, `modelfile`; its results after it)
        exc.left = f"while writing {what}; run the command again"
        raise
    except OSError as exc:
        # (a write that fails midway names no file: the place it went to is named instead)
        place = exc.filename or to
        where = f"{place}: " if place else ""
        raise _WriteFailed(f"cannot write {what} ({where}{exc.strerror or exc})") from None


class _WriteFailed(Exception):
    """Writing a model or its results failed after training (exit 1: not a usage error)."""
