"""How the batch's messages name its settings: as the ``nlpkit predict`` command's options
(``--text-field body``) when the command runs it, and as the functions' arguments
(``text_field='body'``) when Python calls `predict_file` or `predict_stream`, so that each
caller reads the names it wrote."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["by_command", "option", "setting", "start_afresh"]

_BY_COMMAND: ContextVar[bool] = ContextVar("nlpkit_batch_by_command", default=False)

# The command's options whose Python argument is another name or value.
_ARGUMENTS = {("format", "text"): "jsonl=False", ("format", "jsonl"): "jsonl=True"}


@contextmanager
def by_command() -> Iterator[None]:
    """Within it, messages name the command's options (the ``nlpkit predict`` command runs the
    batch inside it)."""
    token = _BY_COMMAND.set(True)
    try:
        yield
    finally:
        _BY_COMMAND.reset(token)


def option(name: str, value: object = None) -> str:
    """``--text-field body`` for the command, ``text_field='body'`` for Python (``name`` in
    Python's spelling; without a value, the name alone)."""
    if _BY_COMMAND.get():
        flag = "--" + name.replace("_", "-")
        return flag if value is None else f"{flag} {shlex.quote(str(value))}"
    if value is None:
        return name
    return _ARGUMENTS.get((name, value)) or f"{name}={str(value)!r}"


def setting(name: str, value: object) -> str:
    """A setting of a run as its caller gave it: ``--allow-none`` (or ``no --allow-none``),
    ``--format text``, ``--text-field body`` to the command; ``allow_none=True``,
    ``jsonl=False``, ``text_field='body'`` to Python."""
    if value is None:  # (a record of another version, without the setting)
        return f"no {option(name)} recorded"
    if _BY_COMMAND.get() and isinstance(value, bool):
        return option(name) if value else f"no {option(name)}"
    if not _BY_COMMAND.get() and isinstance(value, bool):
        return f"{name}={value}"
    return option(name, value)


def start_afresh() -> str:
    """How to start an output afresh rather than resume it."""
    if _BY_COMMAND.get():
        return "run the same command without --resume to start afresh"
    return "call again with resume=False to start afresh"
