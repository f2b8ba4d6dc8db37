"""Large temporary buffers without a page fault per page (glibc on Linux).

Counting the terms of many texts makes arrays of tens of millions of entries one after the
other, and a stream reads, classifies and writes one chunk of lines after another. glibc's
malloc takes each such block from the kernel anew (mmap) and gives it back when freed, so every
page of every block is faulted in again: on VNTC's 33,759 texts, a third of the features' time;
in a stream of full articles, 5-12% of its CPU time (more on a virtual machine). Within
`kept_heap`, freed memory stays in malloc's heap for the next block; at its end the usual
settings are restored and the heap's free memory given back to the kernel (before any process
is forked, which would copy its page tables).

The setting is the process's, so it is made only where the process is nlpkit's own: the
``nlpkit train`` and ``nlpkit predict`` commands, and the worker processes of a stream, turn it
on (`allow`); a Python caller's process is left as it is.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["allow", "kept_heap"]

# glibc's mallopt parameters and their defaults (malloc.h); a trim threshold of the largest
# int (mallopt takes an int) keeps up to 2 GiB of freed memory at the heap's top
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_TRIM_DEFAULT, _MMAP_MAX_DEFAULT = 128 * 1024, 65536
_TRIM_KEEP = 2**31 - 1

_allowed = False


def allow(on: bool = True) -> None:
    """Let `kept_heap` change malloc's settings (for a process that is nlpkit's own)."""
    global _allowed
    _allowed = on


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):  # (another C library than glibc)
        return None


@contextmanager
def kept_heap() -> Iterator[None]:
    libc = _libc() if _allowed else None
    if libc is None or not libc.mallopt(_M_MMAP_MAX, 0):
        yield
        return
    libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_KEEP)
    try:
        yield
    finally:
        libc.mallopt(_M_MMAP_MAX, _MMAP_MAX_DEFAULT)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_DEFAULT)
        libc.malloc_trim(0)
