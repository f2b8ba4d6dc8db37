"""Streaming batch prediction: classify a file of any size in bounded memory, in order.

Input is JSON lines (one record per line; the text in ``text_field``, an optional title in
``title_field``) or plain text (one text per line). Every non-empty input line gives exactly one
output line: the input record plus ``topic`` and ``probabilities``, or, for a line that cannot
be used, the record (or line number) with an ``error`` field. That one-to-one order is what
lets ``resume`` skip the lines an interrupted run already wrote.
"""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .predictor import Predictor
from .text import join_title

__all__ = ["BatchReport", "predict_stream", "predict_file"]


@dataclass
class BatchReport:
    """What a batch run did: lines written, lines skipped by resume, lines with errors."""

    written: int = 0
    resumed: int = 0
    errors: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        rate = self.written / self.seconds if self.seconds else 0.0
        return (
            f"{self.written:,} records written ({self.errors:,} with errors), "
            f"{self.resumed:,} skipped as already done; {self.seconds:.1f} s, {rate:,.0f} records/s"
        )


# (input line number, output record, text to classify or None when the record has an error)
Item = tuple[int, dict[str, Any], str | None]


def _items(lines: Iterable[str], jsonl: bool, text_field: str, title_field: str) -> Iterator[Item]:
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if not jsonl:
            text = line.rstrip("\n")
            yield line_no, {"line": line_no, "text": text}, text
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield line_no, {"line": line_no, "error": f"not valid JSON ({exc.msg})"}, None
            continue
        if not isinstance(record, dict):
            yield line_no, {"line": line_no, "error": "not a JSON object"}, None
            continue
        text, title = record.get(text_field), record.get(title_field) or ""
        if not isinstance(text, str) or not isinstance(title, str):
            error = f"field {text_field!r} missing or not a string"
            if not isinstance(title, str):
                error = f"field {title_field!r} is not a string"
            yield line_no, {**record, "error": error}, None
            continue
        full = join_title(title, text)
        if not full.strip():
            yield line_no, {**record, "error": "empty text"}, None
            continue
        yield line_no, record, full


def _classify(predictor: Predictor, batch: list[Item]) -> list[dict[str, Any]]:
    texts = [text for _, _, text in batch if text is not None]
    probs = iter(predictor.predict_proba(texts) if texts else [])
    out = []
    for _, record, text in batch:
        if text is None:
            out.append(record)
            continue
        p = next(probs)
        out.append({**record, "topic": max(p, key=p.get), "probabilities": p})
    return out


# Each worker process loads the model once, in its initializer, not once per batch.
_worker_predictor: Predictor | None = None


def _init_worker(model_path: str | None) -> None:
    global _worker_predictor
    from . import load

    _worker_predictor = load(model_path)


def _classify_in_worker(batch: list[Item]) -> list[dict[str, Any]]:
    assert _worker_predictor is not None
    return _classify(_worker_predictor, batch)


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
    lines: Iterable[str],
    out: IO[str],
    *,
    predictor: Predictor | None = None,
    model_path: str | Path | None = None,
    jsonl: bool = True,
    text_field: str = "text",
    title_field: str = "title",
    workers: int = 1,
    batch_size: int = 256,
    skip: int = 0,
    total: int | None = None,
    progress: bool = False,
) -> BatchReport:
    """Classify the texts of ``lines`` and write one JSON line per non-empty input line to
    ``out``, in input order. ``skip`` output lines are taken as already written (resume).

    With ``workers > 1``, batches go to that many processes, each loading the model from
    ``model_path`` once; at most two batches per worker are in flight, so memory stays bounded
    whatever the input size.
    """
    if workers < 1 or batch_size < 1:
        raise ValueError("workers and batch_size must be at least 1")
    report = BatchReport(resumed=skip)
    started = time.monotonic()
    items = _items(lines, jsonl, text_field, title_field)
    for _ in range(skip):
        if next(items, None) is None:
            break

    def write(records: list[dict[str, Any]]) -> None:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            report.errors += "error" in record
        report.written += len(records)
        if progress:
            _show(report, time.monotonic() - started, total)

    if workers == 1:
        if predictor is None:
            from . import load

            predictor = load(model_path)
        for batch in _batches(items, batch_size):
            write(_classify(predictor, batch))
    else:
        arg = None if model_path is None else str(model_path)
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(arg,)) as pool:
            pending: deque[Future] = deque()
            for batch in _batches(items, batch_size):
                pending.append(pool.submit(_classify_in_worker, batch))
                if len(pending) >= 2 * workers:
                    write(pending.popleft().result())
            while pending:
                write(pending.popleft().result())
    out.flush()
    report.seconds = time.monotonic() - started
    if progress:
        print(file=sys.stderr)
    return report


def _show(report: BatchReport, elapsed: float, total: int | None) -> None:
    done = report.written + report.resumed
    rate = report.written / elapsed if elapsed > 0 else 0.0
    text = f"\r{done:,} records, {rate:,.0f}/s"
    if total and rate:
        text += f", {done / total:.0%}, ETA {max(total - done, 0) / rate:,.0f} s"
    print(text, end="", file=sys.stderr, flush=True)


def _count_lines(path: Path) -> int:
    with path.open("rb") as data:
        return sum(1 for line in data if line.strip())


def _completed_lines(path: Path) -> int:
    """Count the complete lines of an earlier run's output; cut a half-written last line."""
    if not path.exists():
        return 0
    with path.open("rb+") as data:
        content = data.read()
        end = content.rfind(b"\n") + 1
        if end < len(content):
            data.truncate(end)
    return content[:end].count(b"\n")


def predict_file(
    input: str | Path,
    output: str | Path,
    *,
    resume: bool = False,
    progress: bool | None = None,
    **options: Any,
) -> BatchReport:
    """`predict_stream` from a file (or '-' for standard input) to a file (or '-').

    A ``.jsonl``/``.json`` input is read as JSON lines, anything else as plain text, unless
    ``jsonl`` is given. With ``resume``, lines already in ``output`` are kept and skipped.
    """
    jsonl = options.pop("jsonl", None)
    if jsonl is None:
        jsonl = str(input).endswith((".jsonl", ".json"))
    from_stdin, to_stdout = str(input) == "-", str(output) == "-"
    if progress is None:
        progress = sys.stderr.isatty()
    total = None if from_stdin else _count_lines(Path(input))
    skip = _completed_lines(Path(output)) if resume and not to_stdout else 0
    source = sys.stdin if from_stdin else Path(input).open(encoding="utf-8", errors="replace")
    sink = sys.stdout if to_stdout else Path(output).open("a" if skip else "w", encoding="utf-8")
    try:
        return predict_stream(
            source, sink, jsonl=jsonl, skip=skip, total=total, progress=progress, **options
        )
    finally:
        if not from_stdin:
            source.close()
        if not to_stdout:
            sink.close()
