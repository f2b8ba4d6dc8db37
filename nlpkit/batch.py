"""Streaming batch prediction: classify a file of any size in bounded memory, in order.

Input is JSON lines (one record per line; the text in ``text_field``, an optional title in
``title_field``) or plain text (one text per line). Every non-empty input line gives exactly one
output line, whatever it holds: the input record plus ``topic`` and ``probabilities``, or, for a
line that cannot be used (not UTF-8, not JSON, no usable text), the record or its line number
with an ``error`` field and the ``line`` number. Lines are split on ``\\n`` only: a carriage
return or a Unicode line separator inside a JSON line is part of that line. That one-to-one
order is what lets ``resume`` skip the lines an interrupted run already wrote, after checking
that they were written for this input.
"""

from __future__ import annotations

import io
import json
import multiprocessing as mp
import signal
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import IO, Any

from .predictor import Predictor
from .text import check_text, join_title

__all__ = [
    "BatchReport",
    "InputError",
    "predict_stream",
    "predict_file",
    "probabilities_or_errors",
    "topic_of",
    "OUTPUT_FIELDS",
]

# The fields nlpkit adds to a record (behind the ``prefix`` of `predict_stream`).
OUTPUT_FIELDS = ("topic", "probabilities", "error", "line")
_BOM = b"\xef\xbb\xbf"


class InputError(ValueError):
    """An input or output file cannot be used at all (binary, UTF-16, a JSON array, an output
    written for another input); the message says which and why."""


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


# (input line number, output record, text to classify or None when the record has an error)
Item = tuple[int, dict[str, Any], str | None]


def _not_a_number(constant: str) -> None:
    # JSON has no NaN or Infinity; Python's parser takes them, and writing them back would make
    # the output invalid JSON. They become null.
    return None


def _decode(line: bytes | str, line_no: int) -> str:
    if isinstance(line, str):
        return line
    if line_no == 1 and line.startswith(_BOM):
        line = line[len(_BOM) :]
    return line.decode("utf-8")


def _items(
    lines: Iterable[bytes | str], jsonl: bool, text_field: str, title_field: str, prefix: str
) -> Iterator[Item]:
    error_key, line_key = prefix + "error", prefix + "line"
    for line_no, raw in enumerate(lines, start=1):
        try:
            line = _decode(raw, line_no)
        except UnicodeDecodeError as exc:
            error = f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
            yield line_no, {line_key: line_no, error_key: error}, None
            continue
        if not line.strip():
            continue
        if not jsonl:
            text = line.rstrip("\r\n")
            yield line_no, {line_key: line_no, "text": text}, text
            continue
        try:
            record = json.loads(line, parse_constant=_not_a_number)
        except json.JSONDecodeError as exc:
            yield line_no, {line_key: line_no, error_key: f"not valid JSON ({exc.msg})"}, None
            continue
        except RecursionError:
            yield line_no, {line_key: line_no, error_key: "not valid JSON (nested too deep)"}, None
            continue
        if not isinstance(record, dict):
            yield line_no, {line_key: line_no, error_key: "not a JSON object"}, None
            continue
        text, title = record.get(text_field), record.get(title_field) or ""
        if not isinstance(text, str):
            error = f"field {text_field!r} missing or not a string"
        elif not isinstance(title, str):
            error = f"field {title_field!r} is not a string"
        else:
            # A text with nothing to read gets its error where the batch is classified.
            yield line_no, record, join_title(title, text)
            continue
        yield line_no, {**record, line_key: line_no, error_key: error}, None


def probabilities_or_errors(
    predictor: Predictor, texts: list[object], allow_none: bool = False
) -> list[dict | str]:
    """For each text, its topic probabilities (with ``"none"`` when ``allow_none``), or the
    message saying why it has none (not a string, nothing to read): one bad text never costs
    the others their answers."""
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


def _classify(
    predictor: Predictor, batch: list[Item], prefix: str, allow_none: bool = False
) -> list[dict[str, Any]]:
    texts = [t for _, _, t in batch if t is not None]
    answers = iter(probabilities_or_errors(predictor, texts, allow_none))
    out = []
    for line_no, record, text in batch:
        if text is None:
            out.append(record)
            continue
        p = next(answers)
        if isinstance(p, str):
            out.append({**record, prefix + "line": line_no, prefix + "error": p})
        else:
            out.append({**record, prefix + "topic": topic_of(p), prefix + "probabilities": p})
    return out


def _dumps(record: dict[str, Any]) -> bytes:
    text = json.dumps(record, ensure_ascii=False)
    # U+2028 and U+2029 are legal in JSON strings but end lines for many readers: escaped, so
    # that one record stays one line for everyone.
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate escape in the input ("\ud83d") decodes to a string UTF-8 cannot
        # hold: written as JSON escapes, it round-trips exactly.
        return (json.dumps(record, ensure_ascii=True) + "\n").encode("ascii")


# Each worker process loads the model once, in its initializer, not once per batch.
_worker_predictor: Predictor | None = None


def _init_worker(model_path: str | None) -> None:
    global _worker_predictor
    # The parent decides what an interruption means: Ctrl-C reaches the whole process group, so
    # workers ignore it; a SIGTERM sent to a worker ends it at once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from . import load

    _worker_predictor = load(model_path)


def _classify_in_worker(batch: list[Item], prefix: str, allow_none: bool) -> list[dict[str, Any]]:
    assert _worker_predictor is not None
    return _classify(_worker_predictor, batch, prefix, allow_none)


def _batches(items: Iterator[Item], size: int) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


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
    skip: int = 0,
    done: Iterable[bytes] | None = None,
    total: int | None = None,
    progress: bool = False,
    report: BatchReport | None = None,
) -> BatchReport:
    """Classify the texts of ``lines`` (bytes, split on newlines, or str) and write one JSON
    line per non-empty input line to ``out``, in input order.

    ``skip`` output lines are taken as already written (resume); ``done``, the lines of that
    earlier output, are checked against the input they claim to answer. Output fields are
    named ``prefix`` + ``topic``, ``probabilities``, ``error``, ``line``; with ``allow_none``,
    ``topic`` is null for a text outside the model's topics. With ``workers > 1``,
    batches go to that many processes, each loading the model from ``model_path`` once; at
    most two batches per worker are in flight, so memory stays bounded whatever the input size.
    ``report`` is filled as the run goes, so an interrupted caller knows what is on disk.
    """
    if workers < 1 or batch_size < 1:
        raise ValueError("workers and batch_size must be at least 1")
    report = report if report is not None else BatchReport()
    report.resumed = skip
    started = time.monotonic()
    items = _items(lines, jsonl, text_field, title_field, prefix)
    _skip(items, skip, done, prefix)
    ours = {prefix + name for name in OUTPUT_FIELDS}
    binary = not isinstance(out, io.TextIOBase)

    def write(records: list[dict[str, Any]]) -> None:
        for record in records:
            data = _dumps(record)
            out.write(data if binary else data.decode("utf-8"))
            report.written += 1
            report.errors += prefix + "error" in record
        out.flush()
        if progress:
            _show(report, time.monotonic() - started, total)

    def checked(batch: list[Item]) -> list[Item]:
        for _, record, text in batch:
            if text is not None and not ours.isdisjoint(record):
                report.replaced += 1
        return batch

    if workers == 1:
        if predictor is None:
            from . import load

            predictor = load(model_path)
        if allow_none:
            predictor.predict_proba([], allow_none=True)  # a model without none says so here
        for batch in _batches(items, batch_size):
            write(_classify(predictor, checked(batch), prefix, allow_none))
    else:
        arg = None if model_path is None else str(model_path)
        context = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        # multiprocessing.Pool rather than concurrent.futures: its terminate() ends the workers
        # and its own threads at once, which an interrupted run needs.
        pool = context.Pool(workers, initializer=_init_worker, initargs=(arg,))
        try:
            pending: deque[AsyncResult] = deque()
            for batch in _batches(items, batch_size):
                pending.append(
                    pool.apply_async(_classify_in_worker, (checked(batch), prefix, allow_none))
                )
                if len(pending) >= 2 * workers:
                    write(pending.popleft().get())
            while pending:
                write(pending.popleft().get())
        except BaseException:
            pool.terminate()
            raise
        finally:
            pool.close()
            pool.join()
    report.seconds = time.monotonic() - started
    if progress:
        print(file=sys.stderr)
    return report


def _skip(items: Iterator[Item], skip: int, done: Iterable[bytes] | None, prefix: str) -> None:
    """Pass over the first ``skip`` items, checking each against the output line an earlier
    run wrote for it (when ``done`` is given)."""
    ours = {prefix + name for name in OUTPUT_FIELDS}
    earlier = iter(done) if done is not None else None
    for n in range(1, skip + 1):
        item = next(items, None)
        if item is None:
            raise InputError(
                f"the output holds {skip:,} lines but the input gives only {n - 1:,} records: "
                "it was not written for this input"
            )
        if earlier is None:
            continue
        line_no, record, _ = item
        try:
            written = json.loads(next(earlier), parse_constant=_not_a_number)
        except (StopIteration, json.JSONDecodeError, UnicodeDecodeError):
            written = None
        mine = {k: v for k, v in record.items() if k not in ours}
        theirs = (
            {k: v for k, v in written.items() if k not in ours}
            if isinstance(written, dict)
            else None
        )
        if theirs != mine or (prefix + "line" in written and written[prefix + "line"] != line_no):
            raise InputError(
                f"line {n:,} of the output does not answer input line {line_no:,}: the output "
                "was written for another input (or other --text-field/--prefix options)"
            )


def _show(report: BatchReport, elapsed: float, total: int | None) -> None:
    done = report.complete
    rate = report.written / elapsed if elapsed > 0 else 0.0
    text = f"{done:,} records, {rate:,.0f}/s"
    if total and rate:
        text += f", {done / total:.0%}, ETA {max(total - done, 0) / rate:,.0f} s"
    # Padded, so that a shorter line does not leave the end of a longer one on the terminal.
    print(f"\r{text:<60}", end="", file=sys.stderr, flush=True)


def sniff(head: bytes) -> str:
    """'jsonl' or 'text' from the first bytes of an input; `InputError` for what cannot be
    read as lines of text (binary data, UTF-16, a JSON array)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("it is UTF-16 (byte-order mark): convert it to UTF-8 first")
    if b"\0" in head:
        raise InputError("it is not a text file (it holds NUL bytes)")
    first = head.removeprefix(_BOM).lstrip()
    if first.startswith(b"["):
        raise InputError(
            "it is a JSON array, not JSON lines: convert it first, e.g. jq -c '.[]' FILE"
        )
    return "jsonl" if first.startswith(b"{") else "text"


def _count_lines(path: Path) -> int:
    with path.open("rb") as data:
        return sum(1 for line in data if line.strip())


def completed_lines(path: Path) -> int:
    """Count the complete lines of an earlier run's output; cut a half-written last line."""
    if not path.exists():
        return 0
    count, end, offset = 0, 0, 0
    with path.open("rb+") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            count += block.count(b"\n")
            last = block.rfind(b"\n")
            if last >= 0:
                end = offset + last + 1
            offset += len(block)
        if end < offset:
            data.truncate(end)
    return count


class _Peeked:
    """A binary stream's first bytes, read to sniff its format, then the stream as lines."""

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.head = stream.read(1 << 16)

    def lines(self) -> Iterator[bytes]:
        rest = self.head
        while True:
            cut = rest.find(b"\n")
            if cut >= 0:
                yield rest[: cut + 1]
                rest = rest[cut + 1 :]
                continue
            more = self.stream.read(1 << 16)
            if not more:
                if rest:
                    yield rest
                return
            rest += more


def predict_file(
    input: str | Path,
    output: str | Path,
    *,
    resume: bool = False,
    progress: bool | None = None,
    jsonl: bool | None = None,
    report: BatchReport | None = None,
    **options: Any,
) -> BatchReport:
    """`predict_stream` from a file (or '-' for standard input) to a file (or '-').

    The format is read from the input's first bytes unless ``jsonl`` is given: JSON lines when
    it opens with ``{``, plain text otherwise; binary data, UTF-16 and JSON arrays are refused
    (`InputError`). With ``resume``, the lines already in ``output`` are checked against the
    input, kept, and skipped.
    """
    from_stdin, to_stdout = str(input) == "-", str(output) == "-"
    if progress is None:
        progress = sys.stderr.isatty()
    source: IO[bytes] = sys.stdin.buffer if from_stdin else Path(input).open("rb")
    try:
        peeked = _Peeked(source)
        try:
            kind = sniff(peeked.head)
        except InputError as exc:
            raise InputError(f"{input}: {exc}") from None
        if jsonl is None:
            jsonl = kind == "jsonl"
        total = None if from_stdin else _count_lines(Path(input))
        skip = completed_lines(Path(output)) if resume and not to_stdout else 0
        done = Path(output).open("rb") if skip else None
        try:
            sink_mode = "ab" if skip else "wb"
            sink: IO[bytes] = sys.stdout.buffer if to_stdout else Path(output).open(sink_mode)
            try:
                return predict_stream(
                    peeked.lines(),
                    sink,
                    jsonl=jsonl,
                    skip=skip,
                    done=_first_lines(done, skip) if done else None,
                    total=total,
                    progress=progress,
                    report=report,
                    **options,
                )
            finally:
                if not to_stdout:
                    sink.close()
        finally:
            if done:
                done.close()
    finally:
        if not from_stdin:
            source.close()


def _first_lines(data: IO[bytes], n: int) -> Iterator[bytes]:
    for i, line in enumerate(data):
        if i >= n:
            return
        yield line
