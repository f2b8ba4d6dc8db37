"""An on-disk cache of segmented texts, so experiments over the same corpus segment it once.

Entries are keyed by a hash of the exact input text, the length it is cut to, pyvi's version and
the source of the code that prepares text, so a new pyvi or any change to text preparation never
reuses stale output (a model rebuilt on another machine must see the same texts).
It is one SQLite file: safe to delete at any time, and safe for two runs writing at once
(SQLite's locking; WAL journal so readers do not block the writer).
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .text import prepare, segmenter_version

__all__ = ["SegmentCache", "default_cache_path", "prepare_many", "prepare_fingerprint"]

_TIMEOUT = 120.0  # seconds a run waits for another one's lock on the cache


def prepare_fingerprint() -> str:
    """A digest of the code that turns raw text into segmented text: part of every cache key."""
    digest = hashlib.sha256()
    for module in ("text.py", "markup.py", "segmenter.py", "pyvi_model.py"):
        digest.update((Path(__file__).with_name(module)).read_bytes())
    return digest.hexdigest()[:16]


def default_cache_path() -> Path:
    """$NLPKIT_CACHE_DIR/segments.sqlite, else the user's cache folder."""
    base = os.environ.get("NLPKIT_CACHE_DIR") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "nlpkit"
    )
    return Path(base) / "segments.sqlite"


class SegmentCache:
    """Maps raw text to its prepared (normalised, segmented) form, persistently."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=_TIMEOUT)
        # Switching a new file to WAL fails at once, without waiting, while another run
        # creates the same file: such a start is tried again until the timeout.
        deadline = time.monotonic() + _TIMEOUT
        for attempt in itertools.count():
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS seg (key BLOB PRIMARY KEY, value TEXT)"
                )
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(min(0.001 * 2**attempt, 0.5))
        self._salt = f"{segmenter_version()}/{prepare_fingerprint()}".encode()

    def key(self, text: str, max_chars: int | None = None) -> bytes:
        salt = self._salt + f"/{max_chars}\0".encode()
        return hashlib.blake2b(
            salt + text.encode("utf-8", "surrogatepass"), digest_size=16
        ).digest()

    def get_many(self, texts: Sequence[str], max_chars: int | None = None) -> list[str | None]:
        keys = [self.key(t, max_chars) for t in texts]
        found: dict[bytes, str] = {}
        for i in range(0, len(keys), 900):  # SQLite's limit on bound parameters
            chunk = keys[i : i + 900]
            marks = ",".join("?" * len(chunk))
            found.update(
                self._db.execute(f"SELECT key, value FROM seg WHERE key IN ({marks})", chunk)
            )
        return [found.get(k) for k in keys]

    def put_many(self, pairs: Sequence[tuple[str, str]], max_chars: int | None = None) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO seg VALUES (?, ?)",
                [(self.key(t, max_chars), v) for t, v in pairs],
            )

    def close(self) -> None:
        self._db.close()


def _prepare_chunk(texts: list[str], max_chars: int | None = None) -> list[str]:
    return [prepare(t, max_chars=max_chars) for t in texts]


def prepare_many(
    texts: Sequence[str],
    cache: SegmentCache | None = None,
    n_jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    segment: bool = True,
    max_chars: int | None = None,
) -> list[str]:
    """`nlpkit.text.prepare` over many texts, reusing and filling ``cache``, in ``n_jobs``
    processes. The result is in input order and equal to
    ``[prepare(t, segment, max_chars) for t in texts]``."""
    if not segment:  # splitting into syllables is cheaper than a cache look-up
        return [prepare(t, segment=False, max_chars=max_chars) for t in texts]
    out: list[str | None] = cache.get_many(texts, max_chars) if cache else [None] * len(texts)
    todo = [i for i, value in enumerate(out) if value is None]
    step = 500
    chunks = [todo[i : i + step] for i in range(0, len(todo), step)]
    done = len(texts) - len(todo)
    if progress:
        progress(done, len(texts))

    def collect(indices: list[int], prepared: list[str]) -> None:
        nonlocal done
        for i, value in zip(indices, prepared):
            out[i] = value
        if cache:
            cache.put_many([(texts[i], v) for i, v in zip(indices, prepared)], max_chars)
        done += len(indices)
        if progress:
            progress(done, len(texts))

    if n_jobs > 1 and len(chunks) > 1 and "fork" in multiprocessing.get_all_start_methods():
        from contextlib import closing

        from .pools import forked

        # (closed however the loop is left: a progress callback or the cache may fail)
        with closing(
            forked(lambda c: _prepare_chunk([texts[i] for i in c], max_chars), chunks, n_jobs)
        ) as results:
            for indices, prepared in zip(chunks, results):
                collect(indices, prepared)
    else:
        for indices in chunks:
            collect(indices, _prepare_chunk([texts[i] for i in indices], max_chars))
    return out  # type: ignore[return-value]
