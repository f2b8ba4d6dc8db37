"""A run from its lines to its output: `predict_stream` from given lines, `predict_file` from a
file (its format sniffed, its output checked and locked, resumed or started afresh), each job
answered here or by worker processes and written in input order, with a `BatchReport` of what
was done.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .. import heap
from ..arguments import check_count
from ..folders import is_descriptor, write_file
from ..predictor import Predictor, check_flag
from .answering import Answer, _read_ahead, _run
from .naming import option
from .output import (
    _after,
    _fingerprint,
    _lines_of,
    _lock,
    _model_identity,
    _resumable,
    _same_file,
    run_record_path,
)
from .reading import _BLOCK, DamagedInput, InputError, Job, _line_jobs, _Reader, sniff
from .records import _check_fields, _Settings, records
from .workers import _Workers


class OutputError(OSError):
    """Writing the output failed (a full disk, a closed pipe); the lines written before are
    complete, so the run can be resumed."""

    @classmethod
    def of(cls, exc: OSError) -> OutputError:
        return cls(f"cannot write the output: {exc.strerror or exc}")


@dataclass
class BatchReport:
    """What a batch run did: lines written, lines skipped by resume, lines with errors, and
    records whose own fields had the names of nlpkit's output fields. ``started`` (a file's
    run, `predict_file`): whether the output file was touched yet (cut or written to); until
    then it is as it was before the run, its lines not yet checked by a resume."""

    written: int = 0
    resumed: int = 0
    resumed_errors: int = 0  # (of the lines kept by resume: an earlier run's errors)
    errors: int = 0
    replaced: int = 0
    seconds: float = 0.0
    started: bool = False

    def summary(self) -> str:
        rate = self.written / self.seconds if self.seconds else 0.0
        text = (
            f"{records(self.written)} written ({self.errors:,} with errors), "
            f"{self.resumed:,} skipped as already done"
            + (f" ({self.resumed_errors:,} with errors)" if self.resumed_errors else "")
            + f"; {self.seconds:.1f} s, {rate:,.0f} records/s"
        )
        if self.replaced:
            text += (
                f"; {records(self.replaced)} had fields named like nlpkit's output, which "
                f"replaced them ({option('prefix')} keeps both)"
            )
        return text

    @property
    def complete(self) -> int:
        """Output lines complete on disk: those kept by resume and those written."""
        return self.resumed + self.written


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
    # (None, which `predict_file` reads as "decide", is no setting here: it read as False)
    check_flag("jsonl", jsonl)
    check_flag("progress", progress)
    _string("title_field", title_field, empty=False)
    _check_options(jsonl, text_field, title_field, prefix, allow_none, batch_size, progress)
    settings = _Settings(jsonl, text_field, title_field, prefix, allow_none)
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


def _check_options(
    jsonl: bool | None,
    text_field: object,
    title_field: object,
    prefix: object,
    allow_none: bool,
    batch_size: object,
    progress: bool | None,
) -> None:
    """The options `predict_stream` and `predict_file` share, each refused with its name
    (``jsonl``, ``progress`` and ``title_field`` may be None: `predict_file` decides them)."""
    check_flag("allow_none", allow_none)
    if jsonl is not None:
        check_flag("jsonl", jsonl)
    if progress is not None:
        check_flag("progress", progress)
    _string("text_field", text_field, empty=False)
    if title_field is not None:
        _string("title_field", title_field, empty=False)
    _string("prefix", prefix)
    check_count("batch_size", batch_size)


def _string(name: str, value: object, empty: bool = True) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if not value and not empty:
        raise ValueError(f"{name} is empty: name the field")


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
    read_ahead: bool = False,
) -> BatchReport:
    """``read_ahead``: with one worker, read the next chunk on a thread of its own (for jobs of
    nlpkit's own reading, never a caller's iterable, which may belong to one thread)."""
    workers = check_count("workers", workers)
    if workers > 1:
        from ..pools import may_start_processes
        from ..training.parallel import usable_cores

        cores = usable_cores()
        if not may_start_processes():
            warnings.warn(
                f"workers={workers} in a daemonic process (a multiprocessing.Pool's worker), "
                "which may not start processes of its own; using 1",
                stacklevel=3,
            )
            workers = 1
        elif workers > cores:
            # (more processes than cores only take turns on them, each with its own model:
            # 64 on two cores ran a fifth slower than two)
            warnings.warn(
                f"workers={workers} is more than the {cores} cores this process may use; "
                f"using {cores}",
                stacklevel=3,
            )
            workers = cores
    report = report if report is not None else BatchReport()
    started = time.monotonic()
    binary = not isinstance(out, io.TextIOBase)
    if predictor is None:
        from .. import load

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

    # The workers are forked before the writing thread starts: a process forked while another
    # thread runs may inherit a lock that thread holds.
    pool = None
    if workers > 1:
        pool = _Workers(
            workers, None if model_path is None else str(model_path), settings, predictor
        )
    try:
        # Where this process is nlpkit's own (`nlpkit predict`), each chunk read and written
        # reuses the memory of the one before (nlpkit.heap).
        with heap.kept_heap(), _Writer(write) as writer:
            if pool is not None:
                answers = pool.answers(jobs)
            elif read_ahead:
                answers = _read_ahead(predictor, settings, jobs)
            else:
                answers = (_run(predictor, settings, job) for job in jobs)
            for answer in answers:
                writer.put(answer)
    except BaseException:
        if pool is not None:
            pool.stop(now=True)
        raise
    if pool is not None:
        pool.stop()
    report.seconds = time.monotonic() - started
    if progress:
        print(file=sys.stderr)
    return report


class _Writer:
    """Answers written in order by a thread of their own, so that the next chunk is classified
    while one is written (writing lets other threads run); an answer given as a function
    (`_classified`) is made there too. On leaving normally, the answers given so far are
    written, and an error in writing (a full disk) is raised, in the caller's thread."""

    def __init__(self, write: Callable[[Answer], None]):
        import queue
        import threading

        self.write, self.error, self.stopped = write, None, False
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        # Held while an answer is written (by this thread only): an interruption waits on it
        # for the write under way, so that nothing is written once the caller closes the
        # output (a gzip stream closed during a write would be corrupt).
        self.writing = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (answer := self.queue.get()) is not None:
            with self.writing:
                if self.error is None and not self.stopped:
                    try:
                        self.write(answer() if callable(answer) else answer)
                    except BrokenPipeError as exc:
                        self.error = exc  # (a reader gone, as in `| head`: ends quietly)
                    except OSError as exc:
                        self.error = OutputError.of(exc)
                    except BaseException as exc:
                        self.error = exc

    def put(self, answer: Answer | Callable[[], Answer]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(answer)

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # (damaged input is no interruption: the answers of the lines before it are written)
        if exc_info[0] is not None and not issubclass(exc_info[0], DamagedInput):
            # Interrupted (Ctrl-C, SIGTERM, an error): the signal may have come inside the
            # queue's own lock, so the queue is not touched again; the write under way ends
            # (a while at most: a pipe's reader may have stalled), and none starts after it.
            self.stopped = True
            if self.writing.acquire(timeout=10):
                self.writing.release()
            return
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def _show(report: BatchReport, elapsed: float, total: int | None) -> None:
    done = report.complete
    rate = report.written / elapsed if elapsed > 0 else 0.0
    text = f"{done:,} records, {rate:,.0f}/s"
    if total and rate:
        text += f", {done / total:.0%}, ETA {max(total - done, 0) / rate:,.0f} s"
    # Padded, so that a shorter line does not leave the end of a longer one on the terminal.
    print(f"\r{text:<60}", end="", file=sys.stderr, flush=True)


def _unlock(fd: int) -> None:
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)
    except (ImportError, OSError):
        pass


def _check_record_name(output: Path) -> None:
    """Refuse, before the output is made, an output whose run record's name is longer than a
    file's name may be (the output was made, then the run failed)."""
    record = run_record_path(output)
    try:
        most = os.pathconf(record.parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        most = 255
    if len(os.fsencode(record.name)) > most:
        raise InputError(
            f"{option('output', output)}: its name is too long for the run record beside it "
            f"({record.name!r} would be over {most} bytes); choose a shorter name"
        )


@contextmanager
def _sink(fd: int, mode: str) -> Iterator[IO[bytes]]:
    """The output file, whose closing (the flush of its last bytes) fails as an `OutputError`,
    or quietly when another error is on its way already (a full disk says so once)."""
    sink = open(fd, mode)
    try:
        yield sink
    except BaseException:
        try:
            sink.close()
        except OSError:
            pass
        raise
    try:
        sink.close()
    except OSError as exc:
        raise OutputError.of(exc) from None


def _cut_to_last_line(fd: int) -> None:
    """The file cut after its last line end (to nothing if it has none); left as it is when
    that fails too."""
    try:
        end = os.fstat(fd).st_size
        while end > 0:
            start = max(0, end - _BLOCK)
            at = os.pread(fd, end - start, start).rfind(b"\n")
            if at >= 0:
                end = start + at + 1
                break
            end = start
        os.ftruncate(fd, end)
    except OSError:
        pass


def predict_file(
    input: str | Path,
    output: str | Path,
    *,
    resume: bool = False,
    progress: bool | None = None,
    jsonl: bool | None = None,
    text_field: str | None = None,
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
    outright) that none of the first `FIELD_SAMPLE` records has. gzip data that ends early or
    is damaged raises `DamagedInput` (an `InputError`) once every line before the damage is
    answered and written. An output whose name ends in ``.gz`` is written gzip-compressed.
    ``text_field`` is "text" unless given; a field given (text or title) for an input read as
    plain text is an `InputError`: the user meant JSON lines.

    One job per output: the output is locked while it is written, and an output that is the
    input (however named, standard input included) is refused. A run record beside the output
    (`run_record_path`) says what made it; with ``resume``, an output is continued only when its
    record names the same input, model and settings and each line already there answers the
    input line it stands for, all checked before anything is written.
    """
    check_flag("resume", resume)
    # (refused before the output is opened: it would be made, or cut, for nothing)
    check_count("workers", workers)
    fields_given = text_field is not None or title_field is not None
    text_given = text_field is not None
    text_field = "text" if text_field is None else text_field
    _check_options(jsonl, text_field, title_field, prefix, allow_none, batch_size, progress)
    if jsonl is False and fields_given:
        # (read as plain text, every record's raw JSON would be its text, and be answered)
        given = option("text_field") if text_given else option("title_field")
        raise InputError(
            f"{option('format', 'text')} reads each line as a text, where {given} names a "
            f"field of JSON lines: leave it out, or give {option('format', 'jsonl')}"
        )
    from_stdin, to_stdout = str(input) == "-", str(output) == "-"
    if progress is None:
        progress = sys.stderr.isatty()
    output = Path(output)
    compress = not to_stdout and output.name.endswith(".gz")
    if resume and to_stdout:
        raise InputError(f"{option('resume')} needs an output file, not standard output")
    if resume and compress:
        raise InputError(
            f"{output}: {option('resume')} cannot continue a compressed output; write it "
            "uncompressed and compress it when done"
        )
    try:
        source: IO[bytes] = sys.stdin.buffer if from_stdin else open(input, "rb")
    except OSError as exc:  # (missing, a folder, no permission: as the command says it)
        what = "is a folder" if Path(input).is_dir() else (exc.strerror or str(exc)).lower()
        raise InputError(f"{input}: {what}") from None
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
                f"{option('output', output)} is the input file: it would be overwritten; "
                "choose another"
            )
        try:
            reader = _Reader(source, batch_size)
            reader.check_start()
            kind = sniff(reader.head[: 1 << 16])
        except InputError as exc:
            raise InputError(f"{input}: {exc}") from None
        if jsonl is None and kind == "text" and not from_stdin:
            if Path(input).name.lower().removesuffix(".gz").endswith((".csv", ".tsv")):
                # (a quoted field may hold line ends: read as lines, one record would answer
                # as several, and its header as a text)
                raise InputError(
                    f"{input}: CSV is not read here, only JSON lines or plain text (one text "
                    f"a line): convert it to JSON lines, or give {option('format', 'text')} to "
                    "read each of its lines as a text"
                )
        if jsonl is None:
            jsonl = kind == "jsonl"
            if not jsonl and fields_given:
                # (fields name parts of JSON records: read as plain text, a line such as a
                # header before them would make every record's raw JSON its text)
                raise InputError(
                    f"{input}: its first line is not JSON, so it reads as plain text (one "
                    f"text a line), where {option('text_field')}/{option('title_field')} name "
                    f"fields of JSON lines; give {option('format', 'jsonl')} to read it as JSON "
                    "lines (a line that is not JSON then gets an error record), or leave the "
                    "field options out"
                )
        settings = _Settings(jsonl, text_field, title_field or "title", prefix, allow_none)
        if jsonl:
            _check_fields(reader, settings, title_field is not None, text_given)
        if predictor is None:
            from .. import load

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
            own = lock = None
            try:
                out_fd = sys.stdout.fileno()
            except (AttributeError, io.UnsupportedOperation):  # (replaced, as in a test)
                out_fd = None
            if out_fd is not None and stat.S_ISREG(os.fstat(out_fd).st_mode):
                # A file the shell opened: another job sent to it too would mix their lines.
                # Locked through a descriptor of this process's own: the shell's, shared with
                # the commands after this one, would hold the lock after it ends.
                try:
                    own = os.open(f"/proc/self/fd/{out_fd}", os.O_WRONLY | os.O_APPEND)
                except OSError:  # (no /proc, or no right to open the file again)
                    own = None
                lock = out_fd if own is None else own
            try:
                if lock is not None:
                    _lock(lock, "standard output's file")
                report.started = True
                return _stream(
                    reader.jobs(), sys.stdout.buffer, predictor, model_path, settings, workers,
                    progress=progress, total=total, report=report, read_ahead=True,
                )  # fmt: skip
            finally:
                if own is not None:
                    os.close(own)
                elif lock is not None:  # (the shell's descriptor outlives this job)
                    _unlock(lock)
        # A stream (a pipe, a device, a descriptor's name such as /dev/stdout, whatever file
        # the shell sent it to) is written to as it is, after what it holds, with no run
        # record; opened for writing alone, so that a reader that goes away ends the run (as
        # with --output -), where this process, reading it too, would wait for ever.
        stream_out = is_descriptor(output) or (output.exists() and not output.is_file())
        if not stream_out:
            _check_record_name(output)
            record = run_record_path(output)
            if record.exists() and _same_file(in_stat, record.stat()):
                raise InputError(
                    f"{option('output', output)}: its run record {record} is the input file: "
                    "it would be overwritten; choose another"
                )
        elif resume:
            # (before opening: a named pipe's opening waits for a reader)
            raise InputError(f"{option('resume')} needs an output file; {output} is not one")
        try:
            if stream_out:
                fd = os.open(output, os.O_WRONLY | os.O_APPEND)
            else:
                fd = os.open(output, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:  # (a read-only place, no permission, a system folder)
            raise InputError(
                f"{option('output', output)}: cannot write it ({exc.strerror})"
            ) from None
        regular = stat.S_ISREG(os.fstat(fd).st_mode) and not stream_out
        # A write that failed (a full disk) may leave a part of a line: cut back to the last
        # whole one once the output is closed, through a descriptor of its own that keeps the
        # lock (a compressed output is no file of lines).
        mend = os.dup(fd) if regular and not compress else None
        try:
            with _sink(fd, "r+b" if regular else "wb") as sink:
                _lock(fd, str(output))
                if _same_file(in_stat, os.fstat(fd)):  # (created since the check above)
                    raise InputError(
                        f"{option('output', output)} is the input file; choose another"
                    )
                jobs = reader.jobs()
                record_path = run_record_path(output)
                if not regular:
                    if resume:
                        raise InputError(
                            f"{option('resume')} needs an output file; {output} is not one"
                        )
                    report.started = True
                elif resume and os.fstat(fd).st_size:
                    skip, end = _resumable(sink, record_path, run, output)
                    jobs, failed = _after(jobs, skip, _lines_of(fd, skip), settings, predictor)
                    report.resumed, report.resumed_errors, report.started = skip, failed, True
                    sink.truncate(end)  # a half-written last line
                    sink.seek(end)
                else:
                    write_file(record_path, json.dumps(run, indent=2) + "\n")
                    report.started = True
                    sink.truncate(0)
                writer: IO[bytes] = sink
                if compress:
                    writer = gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=6)
                try:
                    return _stream(
                        jobs, writer, predictor, model_path, settings, workers,
                        progress=progress, total=total, report=report, read_ahead=True,
                    )  # fmt: skip
                finally:
                    if compress:
                        try:
                            writer.close()
                        except OSError as exc:
                            raise OutputError.of(exc) from None
        except OutputError:
            if mend is not None:
                _cut_to_last_line(mend)
            raise
        finally:
            if mend is not None:
                os.close(mend)
    finally:
        if not from_stdin:
            source.close()
