"""Streaming batch prediction: classify a file of any size in bounded memory, in order.

Input is JSON lines (one record per line; the text in ``text_field``, an optional title in
``title_field``) or plain text (one text per line), plain or gzip-compressed. Every input line
gives exactly one output line, in order, whatever it holds: the input record plus ``topic`` and
``probabilities``, or, for a line that cannot be used (blank, a NUL byte, not UTF-8, not JSON,
no usable text, longer than `LINE_LIMIT`), the record or its line number with an ``error``
field and the ``line`` number. Lines end with LF, CRLF or CR: the first line end of the input
says which (a file of CR line ends is split on CR; in any other, a CR inside a JSON line is
JSON white space). That one-to-one order is what lets ``resume`` skip the lines an interrupted
run already wrote, after checking that they were written for this input, model and settings.

Reading, decoding, encoding and writing go by chunks of whole lines: the process that reads
the input cuts it into chunks without decoding a line, and the one that classifies a chunk
(itself, or a worker process) decodes, classifies and encodes all of it; with several workers
the reading process only moves bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import json
import multiprocessing as mp
import os
import signal
import stat
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from . import compiled
from .predictor import Predictor, check_flag
from .text import check_text, join_title

try:  # JSON in C, several times the standard library's speed on these records
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; the fallback is exact too
    orjson = None

__all__ = [
    "BatchReport",
    "InputError",
    "WorkerError",
    "LINE_LIMIT",
    "predict_stream",
    "predict_file",
    "probabilities_or_errors",
    "topic_of",
    "run_record_path",
    "OUTPUT_FIELDS",
]

# The fields nlpkit adds to a record (behind the ``prefix`` of `predict_stream`).
OUTPUT_FIELDS = ("topic", "probabilities", "error", "line")
# A line longer than this many bytes is an error record: it is never held in memory whole, and
# reading past it costs time in proportion to its length.
LINE_LIMIT = 10_000_000
# Bytes read at a time, and the most a chunk of lines holds beyond its last line's start.
_BLOCK = 1 << 20
# How many records the check of --text-field/--title-field reads before anything is written.
FIELD_SAMPLE = 1000
_BOM = b"\xef\xbb\xbf"
_GZIP = b"\x1f\x8b"


class WorkerError(RuntimeError):
    """A worker process failed or ended (killed, out of memory); the lines written so far are
    complete."""


class InputError(ValueError):
    """An input or output file cannot be used at all (binary, UTF-16, a JSON array, a field no
    record has, an output another job is writing or written by another run); the message says
    which and why."""


@dataclass
class BatchReport:
    """What a batch run did: lines written, lines skipped by resume, lines with errors, and
    records whose own fields had the names of nlpkit's output fields."""

    written: int = 0
    resumed: int = 0
    errors: int = 0
    replaced: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        rate = self.written / self.seconds if self.seconds else 0.0
        text = (
            f"{self.written:,} records written ({self.errors:,} with errors), "
            f"{self.resumed:,} skipped as already done; {self.seconds:.1f} s, {rate:,.0f} records/s"
        )
        if self.replaced:
            text += (
                f"; {self.replaced:,} records had fields named like nlpkit's output, which "
                "replaced them (--prefix keeps both)"
            )
        return text

    @property
    def complete(self) -> int:
        """Output lines complete on disk: those kept by resume and those written."""
        return self.resumed + self.written


# -- JSON --------------------------------------------------------------------------------------


def _not_a_number(constant: str) -> None:
    # JSON has no NaN or Infinity; Python's parser takes them, and writing them back would make
    # the output invalid JSON. They become null.
    return None


def _loads(line: bytes) -> Any:
    """A JSON value from one line; UnicodeDecodeError or ValueError (with the standard
    library's message) when it is not one."""
    if orjson is not None:
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError:
            # NaN, a lone surrogate escape, an integer beyond 64 bits, or a real error: the
            # standard library decides, and says what is wrong in its own words.
            pass
    return json.loads(line.decode("utf-8"), parse_constant=_not_a_number)


_SEPARATORS = ("\u2028".encode(), "\u2029".encode())


def _dumps(record: dict[str, Any]) -> bytes:
    """One JSON line, UTF-8."""
    data = None
    if orjson is not None:
        try:
            data = orjson.dumps(record)
        except TypeError:  # a lone surrogate, an integer beyond 64 bits: the standard library
            data = None
    if data is None:
        try:
            data = json.dumps(record, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate escape in the input ("\ud83d") decodes to a string UTF-8 cannot
            # hold: written as JSON escapes, it round-trips exactly.
            data = json.dumps(record, ensure_ascii=True).encode("ascii")
    # U+2028 and U+2029 are legal in JSON strings but end lines for many readers: escaped, so
    # that one record stays one line for everyone.
    if _SEPARATORS[0] in data or _SEPARATORS[1] in data:
        data = data.replace(_SEPARATORS[0], b"\\u2028").replace(_SEPARATORS[1], b"\\u2029")
    return data + b"\n"


# -- one line, one item ------------------------------------------------------------------------

# (input line number, output record, text to classify or None when the record has an error,
# and the input line up to its closing brace when the output line may be made of it: the record
# parsed exactly, so the output line is the input line with nlpkit's fields added at its end,
# not a re-encoding)
Item = tuple[int, dict[str, Any], "str | None", "bytes | memoryview | None"]


def _head(raw: bytes) -> memoryview:
    return memoryview(raw)[: raw.rfind(b"}")]


class _Settings:
    """What turns lines into items and answers into output records."""

    def __init__(
        self, jsonl: bool, text_field: str, title_field: str, prefix: str, allow_none: bool
    ):
        self.jsonl, self.text_field, self.title_field = jsonl, text_field, title_field
        self.prefix, self.allow_none = prefix, allow_none
        self.topic, self.probabilities = prefix + "topic", prefix + "probabilities"
        self.error, self.line = prefix + "error", prefix + "line"
        self.ours = frozenset(prefix + name for name in OUTPUT_FIELDS)
        # The same names as the compiled core's reader of JSON lines takes them (UTF-8).
        self.keys = (
            text_field.encode("utf-8", "surrogatepass"),
            title_field.encode("utf-8", "surrogatepass"),
            tuple(name.encode("utf-8", "surrogatepass") for name in sorted(self.ours)),
        )

    def item(self, raw: bytes, line_no: int, separators: bool = True) -> Item:
        """The item of one input line (without its line end); ``separators``: whether the line
        may hold U+2028 or U+2029 (False when its chunk holds none)."""
        if len(raw) > LINE_LIMIT:
            return self.failed(line_no, f"line longer than {LINE_LIMIT:,} bytes ({len(raw):,})")
        if line_no == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        if not self.jsonl:
            return self._text_item(raw, line_no)
        # (orjson refuses a NUL byte, as JSON does: such a line takes the path below)
        exact = orjson is not None
        try:
            record = orjson.loads(raw) if exact else None
        except orjson.JSONDecodeError:
            exact = False
        if not exact:
            failed = self._not_json(raw, line_no)
            if type(failed) is tuple:
                return failed
            record = failed
        if type(record) is not dict:
            return self.failed(line_no, "not a JSON object")
        if exact and (
            not record
            or not self.ours.isdisjoint(record)
            or (separators and (_SEPARATORS[0] in raw or _SEPARATORS[1] in raw))
        ):
            exact = False  # (the record is written anew: fields replaced, separators escaped)
        text, title = record.get(self.text_field), record.get(self.title_field) or ""
        if type(text) is not str:
            error = f"field {self.text_field!r} missing or not a string"
        elif type(title) is not str:
            error = f"field {self.title_field!r} is not a string"
        else:
            # A text with nothing to read gets its error where the batch is classified.
            text = join_title(title, text) if title else text
            return line_no, record, text, _head(raw) if exact else None
        record[self.line], record[self.error] = line_no, error
        return line_no, record, None, _head(raw) if exact else None

    def _unusable(self, raw: bytes, line_no: int) -> Item | None:
        """The error item of a line no reading can use (blank, or with a NUL byte), else None."""
        if not raw.strip():
            return self.failed(line_no, "blank line")
        nul = raw.find(b"\0")
        if nul >= 0:
            return self.failed(line_no, f"a NUL byte (at column {nul + 1})")
        return None

    def _text_item(self, raw: bytes, line_no: int) -> Item:
        if (unusable := self._unusable(raw, line_no)) is not None:
            return unusable
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return self.failed(line_no, _not_utf8(raw, exc))
        return line_no, {self.line: line_no, "text": text}, text, None

    def _not_json(self, raw: bytes, line_no: int) -> Any:
        """What the standard library makes of a line orjson refused: the value (NaN as null,
        lone surrogate escapes, integers beyond 64 bits), or the item of the error."""
        if (unusable := self._unusable(raw, line_no)) is not None:
            return unusable
        try:
            return json.loads(raw.decode("utf-8"), parse_constant=_not_a_number)
        except UnicodeDecodeError as exc:
            return self.failed(line_no, _not_utf8(raw, exc))
        except json.JSONDecodeError as exc:
            return self.failed(line_no, f"not valid JSON ({exc.msg})")
        except (RecursionError, ValueError):
            return self.failed(line_no, "not valid JSON (nested too deep or out of range)")

    def failed(self, line_no: int, error: str) -> Item:
        return line_no, {self.line: line_no, self.error: error}, None, None


def _not_utf8(raw: bytes, exc: UnicodeDecodeError) -> str:
    return f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"


def probabilities_or_errors(
    predictor: Predictor, texts: list[object], allow_none: bool = False
) -> list[dict | str]:
    """For each text, its topic probabilities (with ``"none"`` when ``allow_none``), or the
    message saying why it has none (not a string, nothing to read): one bad text never costs
    the others their answers."""
    check_flag("allow_none", allow_none)
    answers: list[dict | str] = []
    good: list[int] = []
    for i, text in enumerate(texts):
        try:
            check_text(text)
        except (TypeError, ValueError) as exc:
            answers.append(str(exc))
        else:
            answers.append("")
            good.append(i)
    if good:
        try:
            probs = predictor.predict_proba([texts[i] for i in good], allow_none=allow_none)
        except (TypeError, ValueError):
            # Should a text pass the check and still fail, only that one goes without.
            probs = []
            for i in good:
                try:
                    probs.append(predictor.predict_proba(texts[i], allow_none=allow_none))
                except (TypeError, ValueError) as exc:
                    probs.append(str(exc))
        for i, p in zip(good, probs):
            answers[i] = p
    return answers


def topic_of(probabilities: dict[str, float]) -> str | None:
    """The most probable topic, or None when "none" (out of scope) is the most probable."""
    best = max(probabilities, key=probabilities.get)
    return None if best == "none" else best


# A chunk's answer: its output lines, how many, how many records have an error, how many
# records had fields named like nlpkit's.
Answer = tuple[bytes, int, int, int]


# The text of an item the compiled core classified already (its answer comes with the items).
_READY: Any = object()


def _answer(
    predictor: Predictor,
    settings: _Settings,
    items: list[Item],
    ready: Iterable[dict | str] = (),
) -> Answer:
    """The output of ``items``; ``ready``: the answers of those whose text is `_READY`, in
    order (always kept as their input line: their raw line is given)."""
    texts = [t for _, _, t, _ in items if t is not None and t is not _READY]
    slow = iter(probabilities_or_errors(predictor, texts, settings.allow_none))
    ready = iter(ready)
    # The output as pieces joined once: an input line kept as it is is not copied till then.
    out: list[bytes | memoryview] = []
    errors, replaced = 0, 0
    ours, line_key, error_key = settings.ours, settings.line, settings.error
    topic_key, probabilities_key = settings.topic, settings.probabilities
    for line_no, record, text, raw in items:
        if text is not None:
            p = next(ready) if text is _READY else next(slow)
            if isinstance(p, str):
                added = {line_key: line_no, error_key: p}
                errors += 1
            else:
                added = {topic_key: topic_of(p), probabilities_key: p}
            if raw is not None:
                # The input line up to its closing brace, then nlpkit's fields.
                out += (raw, b",", orjson.dumps(added)[1:], b"\n")
                continue
            if not ours.isdisjoint(record):
                replaced += 1
            record.update(added)
        else:
            errors += 1
            if raw is not None:
                added = {line_key: record[line_key], error_key: record[error_key]}
                out += (raw, b",", orjson.dumps(added)[1:], b"\n")
                continue
        out.append(_dumps(record))
    return b"".join(out), len(items), errors, replaced


def _split(chunk: bytes, sep: bytes) -> list[bytes]:
    """The lines of a chunk of whole lines, each ended by ``sep``, without their line ends."""
    lines = chunk.split(sep)
    lines.pop()  # (after the last line end)
    if sep == b"\n":
        return [line[:-1] if line.endswith(b"\r") else line for line in lines]
    return lines


# A job: the first line's number, and the lines (a chunk of whole lines with its line end, or a
# list of lines without them), or None for one line over the limit.
Job = tuple[int, "bytes | list[bytes] | None", bytes]


def _run(predictor: Predictor, settings: _Settings, job: Job) -> Answer:
    first, lines, sep = job
    if lines is None:
        _, record, _, _ = settings.failed(first, f"line longer than {LINE_LIMIT:,} bytes")
        return _dumps(record), 1, 1, 0
    if isinstance(lines, bytes):
        scanned = _scan(predictor, settings, job)
        items = _chunk_work(predictor, lines, first, sep, settings, scanned)
        return _answer(predictor, settings, *items)
    item = settings.item
    return _answer(predictor, settings, [item(raw, first + i) for i, raw in enumerate(lines)])


def _scan(predictor: Predictor, settings: _Settings, job: Job) -> Any:
    """What the compiled core's reader of JSON lines makes of a job's chunk
    (`nlpkit._core.json_lines`: where each line is, and the text of those it takes, as code
    points), or None where the core does not read it (no core, plain text, a model the core
    does not predict for)."""
    first, chunk, sep = job
    core = compiled.core
    if (
        not isinstance(chunk, bytes)
        or not settings.jsonl
        or core is None
        or orjson is None
        or not hasattr(core, "json_lines")
        or settings.text_field == settings.title_field
        or predictor._scorer() is None
    ):
        return None
    bom = first == 1 and chunk.startswith(_BOM)  # (line 1 then goes the long way)
    return core.json_lines(chunk, sep, *settings.keys, LINE_LIMIT, bom)


def _chunk_work(
    predictor: Predictor,
    chunk: bytes,
    first: int,
    sep: bytes,
    settings: _Settings,
    scanned: Any = None,
) -> tuple[list[Item], list[dict | str]]:
    """The items of a chunk of whole lines, and the answers of those the compiled core read and
    classified: with the core, the common line's text goes from the line's bytes to the
    classifier without becoming a Python object (``scanned``, the chunk's `_scan`, then
    `Predictor._proba_cp`), and any other line (one the core's reader does not take, in JSON
    or in its fields) goes through `_Settings.item`, as without the core."""
    if scanned is None:
        return _chunk_items(chunk, first, sep, settings), []
    marks, data, bounds = scanned
    got = predictor._proba_cp(data, bounds, settings.allow_none)
    if got is None:  # (a model the core does not predict for)
        return _chunk_items(chunk, first, sep, settings), []
    names, probs, failed = got
    ready: list[dict | str] = [dict(zip(names, row)) for row in probs.tolist()]
    for i, message in failed.items():
        ready[i] = message
    view, item = memoryview(chunk), settings.item
    at = memoryview(marks).cast("q").tolist()
    items: list[Item] = []
    append = items.append
    line_no = first
    for i in range(0, len(at), 3):
        start, stop, close = at[i], at[i + 1], at[i + 2]
        if close >= 0:
            append((line_no, None, _READY, view[start:close]))
        else:
            append(item(chunk[start:stop], line_no))
        line_no += 1
    return items, ready


def _chunk_items(chunk: bytes, first: int, sep: bytes, settings: _Settings) -> list[Item]:
    """The items of a chunk of whole lines. The common line, a JSON object that orjson reads
    and that is kept as it is, is read in place (a view of the chunk, no copy of the line);
    any other goes through `_Settings.item`."""
    view = memoryview(chunk)
    separators = _SEPARATORS[0] in chunk or _SEPARATORS[1] in chunk
    fast = settings.jsonl and orjson is not None and not separators
    bom = first == 1 and chunk.startswith(_BOM)  # (line 1 then goes the long way)
    loads, item, find, rfind = (
        (orjson.loads if fast else None),
        settings.item,
        chunk.find,
        chunk.rfind,
    )
    text_field, title_field, ours = settings.text_field, settings.title_field, settings.ours
    items: list[Item] = []
    append = append_item = items.append
    start, line_no, size = 0, first, len(chunk)
    crlf = sep == b"\n"
    while start < size:
        end = find(sep, start)
        stop = end - 1 if crlf and end > start and chunk[end - 1] == 13 else end
        if fast and stop - start <= LINE_LIMIT and not (bom and start == 0):
            try:
                record = loads(view[start:stop])
            except orjson.JSONDecodeError:
                record = None
            if type(record) is dict and record and ours.isdisjoint(record):
                text, title = record.get(text_field), record.get(title_field) or ""
                if type(text) is str and type(title) is str:
                    append((line_no, record, join_title(title, text) if title else text,
                            view[start : rfind(b"}", start, stop)]))  # fmt: skip
                    start, line_no = end + 1, line_no + 1
                    continue
        append_item(item(chunk[start:stop], line_no, separators))
        start, line_no = end + 1, line_no + 1
    return items


# Each worker process has the model and the settings once: inherited from the parent where
# processes fork, loaded from the model folder where they spawn.
_inherited: tuple[Predictor, _Settings] | None = None


def _worker_main(conn, model_path: str | None, settings: _Settings) -> None:
    """A worker: answer the jobs that come on ``conn``, in order, until None comes."""
    # The parent decides what an interruption means: Ctrl-C reaches the whole process group, so
    # workers ignore it; the parent ends them with SIGTERM, at once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if _inherited is not None:
        predictor, settings = _inherited
    else:
        from . import load

        predictor = load(model_path)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            answer = ("ok", _run(predictor, settings, job))
        except Exception as exc:  # a bug: the parent stops and says what
            answer = ("error", f"{type(exc).__name__}: {exc}")
        conn.send(answer)


class _Workers:
    """Worker processes, each with its own pipe, fed by a thread in turn and read in the same
    turn, so that answers come back in input order. (Not multiprocessing.Pool: its terminate()
    can wait forever for a lock that an idle worker holds; these are ended by a signal.)"""

    def __init__(self, n: int, model_path: str | None, settings: _Settings, predictor: Predictor):
        global _inherited
        fork = "fork" in mp.get_all_start_methods()
        context = mp.get_context("fork" if fork else "spawn")
        self.conns, self.procs = [], []
        _inherited = (predictor, settings) if fork else None
        try:
            for _ in range(n):
                ours, theirs = context.Pipe()
                proc = context.Process(
                    target=_worker_main, args=(theirs, model_path, settings), daemon=True
                )
                proc.start()
                theirs.close()
                self.conns.append(ours)
                self.procs.append(proc)
        except BaseException:
            self.stop()
            raise
        finally:
            _inherited = None

    def answers(self, jobs: Iterator[Job]) -> Iterator[Answer]:
        """The answers of ``jobs``, in order; at most two jobs per worker in flight."""
        import queue
        import threading

        n = len(self.conns)
        turns: queue.Queue = queue.Queue(maxsize=2 * n)

        def feed() -> None:
            try:
                for i, job in enumerate(jobs):
                    self.conns[i % n].send(job)
                    turns.put(i % n)
                turns.put(None)
            except BaseException as exc:  # (reading the input failed, or the workers ended)
                turns.put(exc)

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        while True:
            turn = turns.get()
            if turn is None:
                break
            if isinstance(turn, BaseException):
                raise turn
            try:
                status, answer = self.conns[turn].recv()
            except EOFError:
                raise WorkerError("a worker process ended unexpectedly") from None
            if status != "ok":
                raise WorkerError(f"a worker failed: {answer}")
            yield answer
        feeder.join()

    def stop(self, now: bool = False) -> None:
        for conn in self.conns:
            if not now:
                try:
                    conn.send(None)
                except OSError:
                    pass
        for proc in self.procs:
            if now:
                proc.terminate()
            proc.join(timeout=None if not now else 5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for conn in self.conns:
            conn.close()


# -- reading an input as chunks of whole lines -------------------------------------------------


class _Reader:
    """A binary stream (gzip-compressed or not) as jobs of whole lines, in bounded memory: a
    line longer than `LINE_LIMIT` is dropped as it is read, and its job says so."""

    def __init__(self, stream: IO[bytes], batch_size: int = 256):
        head = stream.read(_BLOCK)
        self.compressed = head.startswith(_GZIP)
        if self.compressed:
            self.stream: IO[bytes] = gzip.GzipFile(fileobj=_Prepend(head, stream), mode="rb")
            head = self._read()
        else:
            self.stream = stream
        self.head = head[len(_BOM) :] if head.startswith(_BOM) else head
        self.batch_size = batch_size
        self.sep = b"\r" if _cr_line_ends(self.head) else b"\n"
        self.lines = 0  # lines handed out in jobs so far

    def _read(self) -> bytes:
        try:
            return self.stream.read(_BLOCK)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            where = getattr(self, "lines", 0)
            raise InputError(f"damaged gzip data after line {where:,} ({exc})") from None

    def jobs(self) -> Iterator[Job]:
        sep, limit = self.sep, LINE_LIMIT
        parts: list[bytes] = []  # the start of a line whose end has not come yet
        size = 0
        long = False  # the current line is over the limit: its bytes are dropped
        block, self.head = self.head, b""
        while block:
            cut = block.rfind(sep)
            if cut < 0:
                if not long:
                    parts.append(block)
                    size += len(block)
                    long = size > limit
                    if long:
                        parts, size = [], 0
                block = self._read()
                continue
            if long:
                end = block.find(sep)
                self.lines += 1
                yield self.lines, None, sep
                long, block, cut = False, block[end + 1 :], cut - end - 1
                if cut < 0:
                    parts, size = [block], len(block)
                    block = self._read()
                    continue
            chunk = b"".join((*parts, block[: cut + 1])) if parts else block[: cut + 1]
            rest = block[cut + 1 :]
            parts, size = ([rest], len(rest)) if rest else ([], 0)
            yield from self._batches(chunk)
            block = self._read()
        if long:
            self.lines += 1
            yield self.lines, None, sep
        elif parts:
            yield from self._batches(b"".join(parts) + sep)

    def _batches(self, chunk: bytes) -> Iterator[Job]:
        """``chunk`` as jobs of at most ``batch_size`` lines."""
        sep, size = self.sep, self.batch_size
        n = chunk.count(sep)
        start = 0
        while n > size:
            end = start
            for _ in range(size):
                end = chunk.find(sep, end) + 1
            yield self.lines + 1, chunk[start:end], sep
            self.lines += size
            n -= size
            start = end
        if n:
            yield self.lines + 1, chunk[start:] if start else chunk, sep
            self.lines += n


def _cr_line_ends(head: bytes) -> bool:
    """Whether the first line end of the data is a lone CR (a file of CR line ends)."""
    lf, cr = head.find(b"\n"), head.find(b"\r")
    return cr >= 0 and (lf < 0 or cr < lf) and head[cr + 1 : cr + 2] not in (b"\n", b"")


class _Prepend(io.RawIOBase):
    """The bytes already read from a stream, then the rest of it."""

    def __init__(self, head: bytes, stream: IO[bytes]):
        self.head, self.stream = head, stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n], self.head = self.head[:n], self.head[n:]
            return n
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def sniff(head: bytes) -> str:
    """'jsonl' or 'text' from the first bytes of an input; `InputError` for what cannot be
    read as lines of text (binary data, UTF-16, a JSON array). A stray NUL byte is a bad line,
    not a binary file: binary data is known by NUL bytes making 1% of the first bytes."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("it is UTF-16 (byte-order mark): convert it to UTF-8 first")
    if head.count(b"\0") * 100 > len(head):
        raise InputError("it is not a text file (it holds NUL bytes)")
    first = head.removeprefix(_BOM).lstrip()
    if first.startswith(b"["):
        raise InputError(
            "it is a JSON array, not JSON lines: convert it first, e.g. jq -c '.[]' FILE"
        )
    return "jsonl" if first.startswith(b"{") else "text"


# -- streaming ---------------------------------------------------------------------------------


def _line_jobs(lines: Iterable[bytes | str], batch_size: int) -> Iterator[Job]:
    """Jobs from given lines (each one line, its line end optional)."""
    batch: list[bytes] = []
    first = 1
    for n, line in enumerate(lines, start=1):
        raw = line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        batch.append(raw)
        if len(batch) >= batch_size:
            yield first, batch, b"\n"
            first, batch = n + 1, []
    if batch:
        yield first, batch, b"\n"


def predict_stream(
    lines: Iterable[bytes | str],
    out: IO[bytes] | IO[str],
    *,
    predictor: Predictor | None = None,
    model_path: str | Path | None = None,
    jsonl: bool = True,
    text_field: str = "text",
    title_field: str = "title",
    prefix: str = "",
    allow_none: bool = False,
    workers: int = 1,
    batch_size: int = 256,
    progress: bool = False,
    report: BatchReport | None = None,
) -> BatchReport:
    """Classify ``lines`` (each one line: bytes or str, its line end optional) and write one
    JSON line per input line to ``out``, in input order.

    Output fields are named ``prefix`` + ``topic``, ``probabilities``, ``error``, ``line``; with
    ``allow_none``, ``topic`` is null for a text outside the model's topics. With
    ``workers > 1``, batches go to that many processes; at most two batches per worker are in
    flight, so memory stays bounded whatever the input size. ``report`` is filled as the run
    goes, so an interrupted caller knows what is on disk.
    """
    check_flag("jsonl", jsonl)
    settings = _Settings(
        jsonl, text_field, title_field, prefix, check_flag("allow_none", allow_none)
    )
    return _stream(
        _line_jobs(lines, batch_size),
        out,
        predictor,
        model_path,
        settings,
        workers,
        progress=progress,
        report=report,
    )


def _stream(
    jobs: Iterator[Job],
    out: IO[bytes] | IO[str],
    predictor: Predictor | None,
    model_path: str | Path | None,
    settings: _Settings,
    workers: int,
    *,
    progress: bool = False,
    total: int | None = None,
    report: BatchReport | None = None,
) -> BatchReport:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number, at least 1, got {workers!r}")
    report = report if report is not None else BatchReport()
    started = time.monotonic()
    binary = not isinstance(out, io.TextIOBase)
    if predictor is None:
        from . import load

        predictor = load(model_path)
    if settings.allow_none:
        predictor.predict_proba([], allow_none=True)  # a model without none says so here

    def write(answer: Answer) -> None:
        data, lines, errors, replaced = answer
        out.write(data if binary else data.decode("utf-8"))
        out.flush()
        report.written += lines
        report.errors += errors
        report.replaced += replaced
        if progress:
            _show(report, time.monotonic() - started, total)

    if workers == 1:
        for job in jobs:
            write(_run(predictor, settings, job))
    else:
        pool = _Workers(
            workers, None if model_path is None else str(model_path), settings, predictor
        )
        try:
            for answer in pool.answers(jobs):
                write(answer)
        except BaseException:
            pool.stop(now=True)
            raise
        pool.stop()
    report.seconds = time.monotonic() - started
    if progress:
        print(file=sys.stderr)
    return report


def _show(report: BatchReport, elapsed: float, total: int | None) -> None:
    done = report.complete
    rate = report.written / elapsed if elapsed > 0 else 0.0
    text = f"{done:,} records, {rate:,.0f}/s"
    if total and rate:
        text += f", {done / total:.0%}, ETA {max(total - done, 0) / rate:,.0f} s"
    # Padded, so that a shorter line does not leave the end of a longer one on the terminal.
    print(f"\r{text:<60}", end="", file=sys.stderr, flush=True)


# -- files: one job per output, resume only what the same run would write ---------------------


def run_record_path(output: str | Path) -> Path:
    """The run record beside an output file: what made it (input, model, settings), for
    ``resume`` to check."""
    output = Path(output)
    return output.with_name(output.name + ".nlpkit.json")


def _fingerprint(fd: int) -> dict[str, Any]:
    """The identity of an input file by its content: its size and the SHA-256 of 1 MiB at
    17 places (start, end and evenly between), read without reading the whole file."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):  # a pipe or a device: known by its lines alone
        return {}
    size = info.st_size
    digest = hashlib.sha256()
    places = sorted({min(size * i // 16, max(size - _BLOCK, 0)) for i in range(17)})
    for offset in places:
        digest.update(os.pread(fd, _BLOCK, offset))
    return {"size": size, "sampled_sha256": digest.hexdigest()}


def _model_identity(predictor: Predictor) -> str:
    """What answers: a saved model's seal (its manifest, with every file's checksum), else a
    digest of the weights and settings of an unsaved one."""
    seal = predictor.manifest.get("seal")
    if isinstance(seal, str):
        return seal
    digest = hashlib.sha256()
    digest.update(repr((predictor.classes, predictor.temperature, predictor.max_chars)).encode())
    for array in (predictor.coef, predictor.intercept):
        digest.update(memoryview(array).tobytes())
    return "sha256:" + digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _lock(fd: int, name: str) -> None:
    """An exclusive lock on the open output: the kernel drops it when the process ends, however
    it ends, so a crashed job never leaves it stuck."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise InputError(
            f"{name}: another nlpkit predict is writing this output; wait for it to end or "
            "choose another --output"
        ) from None


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _check_fields(head: bytes, sep: bytes, settings: _Settings, title_given: bool) -> None:
    """A usage error, before anything is written, when none of the first records has the
    text field (or a title field given outright)."""
    keys: set[str] = set()
    objects = 0
    head = head[: 1 << 18]  # (a quarter of a MiB: enough records to know their fields)
    for raw in _split(head[: head.rfind(sep) + 1], sep)[:FIELD_SAMPLE]:
        try:
            record = _loads(raw)
        except (ValueError, RecursionError):
            continue
        if type(record) is dict:
            objects += 1
            keys.update(record)
    if not objects:
        return
    seen = ", ".join(sorted(keys)[:12]) + (", ..." if len(keys) > 12 else "")
    for option, field, check in (
        ("--text-field", settings.text_field, True),
        ("--title-field", settings.title_field, title_given),
    ):
        if check and field not in keys:
            raise InputError(
                f"{option} {field}: none of the first {objects:,} records has that field "
                f"(their fields: {seen})"
            )


def predict_file(
    input: str | Path,
    output: str | Path,
    *,
    resume: bool = False,
    progress: bool | None = None,
    jsonl: bool | None = None,
    text_field: str = "text",
    title_field: str | None = None,
    prefix: str = "",
    allow_none: bool = False,
    predictor: Predictor | None = None,
    model_path: str | Path | None = None,
    workers: int = 1,
    batch_size: int = 256,
    report: BatchReport | None = None,
) -> BatchReport:
    """`predict_stream` from a file (or '-' for standard input) to a file (or '-').

    The format is read from the input's first bytes unless ``jsonl`` is given: JSON lines when
    it opens with ``{``, plain text otherwise; gzip data is decompressed, binary data, UTF-16
    and JSON arrays are refused (`InputError`), as is a text field (or a title field given
    outright) that none of the first `FIELD_SAMPLE` records has. An output whose name ends in
    ``.gz`` is written gzip-compressed.

    One job per output: the output is locked while it is written, and an output that is the
    input (however named, standard input included) is refused. A run record beside the output
    (`run_record_path`) says what made it; with ``resume``, an output is continued only when its
    record names the same input, model and settings and each line already there answers the
    input line it stands for, all checked before anything is written.
    """
    for name, value in (("resume", resume), ("allow_none", allow_none)):
        check_flag(name, value)
    if jsonl is not None:
        check_flag("jsonl", jsonl)
    if progress is not None:
        check_flag("progress", progress)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a whole number, at least 1, got {batch_size!r}")
    from_stdin, to_stdout = str(input) == "-", str(output) == "-"
    if progress is None:
        progress = sys.stderr.isatty()
    output = Path(output)
    compress = not to_stdout and output.name.endswith(".gz")
    if resume and to_stdout:
        raise InputError("--resume needs an output file, not standard output")
    if resume and compress:
        raise InputError(
            f"{output}: --resume cannot continue a compressed output; write it uncompressed "
            "and compress it when done"
        )
    source: IO[bytes] = sys.stdin.buffer if from_stdin else open(input, "rb")
    try:
        in_stat = os.fstat(source.fileno())
        if to_stdout:
            try:
                same = _same_file(in_stat, os.fstat(sys.stdout.fileno()))
            except (OSError, AttributeError, io.UnsupportedOperation):
                same = False
            if same and in_stat.st_size:
                raise InputError("standard output is the input file: it would be overwritten")
        elif output.exists() and _same_file(in_stat, output.stat()):
            raise InputError(
                f"--output {output} is the input file: it would be overwritten; choose another"
            )
        reader = _Reader(source, batch_size)
        try:
            kind = sniff(reader.head[: 1 << 16])
        except InputError as exc:
            raise InputError(f"{input}: {exc}") from None
        if jsonl is None:
            jsonl = kind == "jsonl"
        settings = _Settings(jsonl, text_field, title_field or "title", prefix, allow_none)
        if jsonl:
            _check_fields(reader.head, reader.sep, settings, title_field is not None)
        if predictor is None:
            from . import load

            predictor = load(model_path)
        if allow_none:
            predictor.predict_proba([], allow_none=True)  # a model without none says so here
        run = {
            "nlpkit": "predict",
            "input": (
                {"path": "-"}
                if from_stdin
                else {"path": str(Path(input).resolve()), **_fingerprint(source.fileno())}
            ),
            "model": _model_identity(predictor),
            "settings": {
                "format": "jsonl" if jsonl else "text",
                "text_field": text_field,
                "title_field": title_field or "title",
                "prefix": prefix,
                "allow_none": allow_none,
            },
        }
        total = None
        if progress and not from_stdin and not reader.compressed:
            with open(input, "rb") as data:
                total = sum(
                    block.count(reader.sep) for block in iter(lambda: data.read(_BLOCK), b"")
                )
        report = report if report is not None else BatchReport()
        if to_stdout:
            return _stream(
                reader.jobs(), sys.stdout.buffer, predictor, model_path, settings, workers,
                progress=progress, total=total, report=report,
            )  # fmt: skip
        fd = os.open(output, os.O_RDWR | os.O_CREAT, 0o666)
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
        # (a device or a pipe, such as /dev/null: written to as it is, with no run record)
        with open(fd, "r+b" if regular else "wb") as sink:
            _lock(fd, str(output))
            if _same_file(in_stat, os.fstat(fd)):  # (created since the check above)
                raise InputError(f"--output {output} is the input file; choose another")
            jobs = reader.jobs()
            record_path = run_record_path(output)
            if not regular:
                if resume:
                    raise InputError(f"--resume needs an output file; {output} is not one")
            elif resume and os.fstat(fd).st_size:
                skip, end = _resumable(sink, record_path, run, output)
                jobs = _after(jobs, skip, _lines_of(fd, skip), settings)
                report.resumed = skip
                sink.truncate(end)  # a half-written last line
                sink.seek(end)
            else:
                _write_atomically(record_path, (json.dumps(run, indent=2) + "\n").encode())
                sink.truncate(0)
            writer: IO[bytes] = sink
            if compress:
                writer = gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=6)
            try:
                return _stream(
                    jobs, writer, predictor, model_path, settings, workers,
                    progress=progress, total=total, report=report,
                )  # fmt: skip
            finally:
                if compress:
                    writer.close()
    finally:
        if not from_stdin:
            source.close()


def _resumable(
    sink: IO[bytes], record_path: Path, run: dict[str, Any], output: Path
) -> tuple[int, int]:
    """(complete lines, bytes they take) of an earlier output that this run may continue; an
    `InputError` saying why not otherwise. Reads only."""
    start_afresh = "run the same command without --resume to start afresh"
    try:
        earlier = json.loads(record_path.read_bytes())
    except FileNotFoundError:
        raise InputError(
            f"--resume: {output} was not written by nlpkit predict (no {record_path.name} beside "
            f"it): not resumed; {start_afresh}, or choose another --output"
        ) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"--resume: {record_path}: damaged run record ({exc})") from None
    if not isinstance(earlier, dict) or earlier.get("nlpkit") != "predict":
        raise InputError(f"--resume: {record_path}: not an nlpkit predict run record")
    was, now = earlier.get("settings") or {}, run["settings"]
    for key in now:
        if was.get(key) != now[key]:
            raise InputError(
                f"--resume: {output} was written with {key} {was.get(key)!r}, this run has "
                f"{now[key]!r}: not resumed, so that one file holds one kind of answer; "
                f"{start_afresh}"
            )
    if earlier.get("model") != run["model"]:
        raise InputError(
            f"--resume: {output} was written by another model ({earlier.get('model')}, this "
            f"one is {run['model']}): not resumed; {start_afresh}"
        )
    was, now = earlier.get("input") or {}, run["input"]
    if was != now:
        what = "standard input" if now["path"] == "-" else now["path"]
        raise InputError(
            f"--resume: {output} was written for another input than {what} (it was "
            f"{'standard input' if was.get('path') == '-' else was.get('path')}"
            f"{', since changed' if was.get('path') == now['path'] else ''}): not resumed; "
            f"{start_afresh}"
        )
    count, end, offset = 0, 0, 0
    sink.seek(0)
    for block in iter(lambda: sink.read(_BLOCK), b""):
        count += block.count(b"\n")
        last = block.rfind(b"\n")
        if last >= 0:
            end = offset + last + 1
        offset += len(block)
    return count, end


def _lines_of(fd: int, n: int) -> Iterator[bytes]:
    """The first ``n`` lines of an open file, read at their offsets (the file's position is the
    writer's)."""
    offset, rest = 0, b""
    while n > 0:
        block = os.pread(fd, _BLOCK, offset)
        if not block:
            return
        offset += len(block)
        lines = (rest + block).split(b"\n")
        rest = lines.pop()
        yield from lines[:n]
        n -= len(lines)


def _after(
    jobs: Iterator[Job], skip: int, done: Iterator[bytes], settings: _Settings
) -> Iterator[Job]:
    """The jobs after the first ``skip`` lines, once each of those has been checked against the
    line an earlier run wrote for it (here, before anything is written)."""
    n = 0
    leftover: list[Job] = []
    while n < skip:
        job = next(jobs, None)
        if job is None:
            raise InputError(
                f"--resume: the output holds {skip:,} lines but the input gives only {n:,}: it "
                "was not written for this input"
            )
        first, lines, sep = job
        if lines is None:
            items, lines = [settings.failed(first, "")], []
        else:
            lines = _split(lines, sep) if isinstance(lines, bytes) else lines
            items = [settings.item(raw, first + i) for i, raw in enumerate(lines)]
        take = min(skip - n, len(items))
        for line_no, record, _, _ in items[:take]:
            _check_done(next(done, None), line_no, record, settings)
        n += take
        if take < len(items):
            leftover.append((first + take, lines[take:], sep))
    return itertools.chain(leftover, jobs)


def _check_done(
    written_line: bytes | None, line_no: int, record: dict, settings: _Settings
) -> None:
    try:
        written = _loads(written_line) if written_line is not None else None
    except (ValueError, RecursionError):
        written = None
    ours = settings.ours
    mine = {k: v for k, v in record.items() if k not in ours}
    theirs = {k: v for k, v in written.items() if k not in ours} if type(written) is dict else None
    if theirs != mine or written.get(settings.line, line_no) != line_no:
        raise InputError(
            f"--resume: line {line_no:,} of the output does not answer input line {line_no:,}: "
            "the output was written for another input"
        )
