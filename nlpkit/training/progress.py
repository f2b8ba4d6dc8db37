"""How training says what it is doing: short messages, and progress through its long steps.

Every step reports to a `Progress`: Python callers give it a callback (or nothing, and training
is silent); the command line gives it a terminal, where steps are redrawn in place, or a pipe,
where only the messages go (a CI log stays short).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress", "ProgressCallback", "terminal"]

# progress(step, done, total): ``step`` names what is being done ("segmentation", "features",
# "fitting", "clean-up", "cross-validation", "evaluation"); ``done`` of ``total`` units of it.
ProgressCallback = Callable[[str, int, int], None]


class Progress:
    """Messages go to ``log`` (a function of one string), progress to ``callback``."""

    def __init__(
        self,
        callback: ProgressCallback | None = None,
        log: Callable[[str], None] | None = None,
    ):
        self.callback = callback
        self._log = log

    def log(self, message: str) -> None:
        if self._log:
            self._log(message)

    def step(self, name: str) -> Callable[[int, int], None]:
        """A ``(done, total)`` function for one step (what `nlpkit.cache.prepare_many` takes)."""
        callback = self.callback

        def report(done: int, total: int) -> None:
            # (a step with nothing to do, the scoring of no held-out text, is not one to show)
            if callback and total:
                callback(name, done, total)

        return report


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def terminal(mode: str = "auto", stream: TextIO | None = None) -> Progress:
    """The command line's reporter. ``mode``: "auto" (progress lines on a terminal, messages
    only when piped), "progress" (progress lines always, one per step's end when piped too),
    "quiet" (nothing)."""
    stream = stream or sys.stderr
    if mode == "quiet":
        return Progress()
    tty = stream.isatty()
    show_steps = tty or mode == "progress"
    state: dict[str, float] = {}

    def log(message: str) -> None:
        print(message, file=stream, flush=True)

    def callback(step: str, done: int, total: int) -> None:
        now = time.monotonic()
        started = state.setdefault(step, now)
        if done >= total:
            state.pop(step, None)
            state.pop(step + "/last", None)
            lead = "\r" if tty else ""
            what = f"{total:,} texts" if step == "segmentation" else "done"
            print(f"{lead}  {step}: {what} in {now - started:.0f} s" + " " * 20, file=stream)
        elif tty and now - state.get(step + "/last", 0.0) > 0.5:
            state[step + "/last"] = now
            rate = done / max(now - started, 1e-9)
            eta = f", ETA {(total - done) / rate:.0f} s" if rate and done else ""
            print(f"\r  {step}: {done:,}/{total:,}{eta} ", end="", file=stream, flush=True)

    return Progress(callback if show_steps else None, log)
