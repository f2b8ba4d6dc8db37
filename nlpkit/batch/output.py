"""The output file's safety: one job per output (a lock), the run record beside it (what made
it: the input's fingerprint, the model, the settings, written atomically), and the checks of
``resume``, which continues an output only where the same run would have written it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..predictor import Predictor
from .naming import option, setting, start_afresh
from .reading import _BLOCK, InputError, Job, _split
from .records import _loads, _Settings


def run_record_path(output: str | Path) -> Path:
    """The run record beside an output file: what made it (input, model, settings), for
    ``resume`` to check."""
    # (beside the name given, a link's too, where this process can write: a record found by
    # another name of the file may not be the lines', which resume checks line by line)
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
            f"choose another {option('output')}"
        ) from None


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _resumable(
    sink: IO[bytes], record_path: Path, run: dict[str, Any], output: Path
) -> tuple[int, int]:
    """(complete lines, bytes they take) of an earlier output that this run may continue; an
    `InputError` saying why not otherwise. Reads only."""
    afresh, resume = start_afresh(), option("resume")
    try:
        earlier = json.loads(record_path.read_bytes())
    except FileNotFoundError:
        raise InputError(
            f"{resume}: {output} was not written by nlpkit predict (no {record_path.name} "
            f"beside it): not resumed; {afresh}, or choose another {option('output')}"
        ) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{resume}: {record_path}: damaged run record ({exc})") from None
    if not isinstance(earlier, dict) or earlier.get("nlpkit") != "predict":
        raise InputError(f"{resume}: {record_path}: not an nlpkit predict run record")
    was, now = earlier.get("settings") or {}, run["settings"]
    for key in now:
        if was.get(key) != now[key]:
            raise InputError(
                f"{resume}: {output} was written with {setting(key, was.get(key))}, this run "
                f"has {setting(key, now[key])}: not resumed, so that one file holds one kind of "
                f"answer; {afresh}"
            )
    if earlier.get("model") != run["model"]:
        raise InputError(
            f"{resume}: {output} was written by another model ({earlier.get('model')}, this "
            f"one is {run['model']}): not resumed; {afresh}"
        )
    was, now = earlier.get("input") or {}, run["input"]
    if was != now:
        what = "standard input" if now["path"] == "-" else now["path"]
        raise InputError(
            f"{resume}: {output} was written for another input than {what} (it was "
            f"{'standard input' if was.get('path') == '-' else was.get('path')}"
            f"{', since changed' if was.get('path') == now['path'] else ''}): not resumed; "
            f"{afresh}"
        )
    count, end, offset = 0, 0, 0
    sink.seek(0)
    for block in iter(lambda: sink.read(_BLOCK), b""):
        count += block.count(b"\n")
        last = block.rfind(b"\n")
        if last >= 0:
            end = offset + last + 1
        offset += len(block)
    if not count and offset:
        # (no line of it can be checked against the input: a file of one's own, not ended by
        # a line end, would be cut to nothing)
        raise InputError(
            f"{resume}: {output} holds no complete line to check against the input: not "
            f"resumed; {afresh}"
        )
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
    jobs: Iterator[Job],
    skip: int,
    done: Iterator[bytes],
    settings: _Settings,
    predictor: Predictor,
) -> tuple[Iterator[Job], int]:
    """The jobs after the first ``skip`` lines, once each of those has been checked against the
    line an earlier run wrote for it (here, before anything is written): the same record,
    answered with probabilities of this run's classes, and the last answered one with this
    run's probabilities; and how many of those lines are errors."""
    n = failed = 0
    names = frozenset(predictor.classes if settings.allow_none else predictor.topics)
    last: tuple[Any, bytes] | None = None
    leftover: list[Job] = []
    while n < skip:
        job = next(jobs, None)
        if job is None:
            raise InputError(
                f"{option('resume')}: the output holds {skip:,} lines but the input gives only "
                f"{n:,}: it was not written for this input"
            )
        first, lines, sep = job
        if lines is None:
            items, lines = [settings.failed(first, "")], []
        else:
            lines = _split(lines, sep) if isinstance(lines, bytes) else lines
            items = [settings.item(raw, first + i) for i, raw in enumerate(lines)]
        take = min(skip - n, len(items))
        for item in items[:take]:
            written = next(done, None)
            error = _check_done(written, item[0], item[1], settings, names)
            failed += error
            if not error and written is not None:
                last = (item, written)
        n += take
        if take < len(items):
            leftover.append((first + take, lines[take:], sep))
    if last is not None:
        _check_answer(*last, predictor, settings)
    return itertools.chain(leftover, jobs), failed


def _check_answer(item: Any, written: bytes, predictor: Predictor, settings: _Settings) -> None:
    """An `InputError` unless this run answers ``item`` with the probabilities written for it:
    a run record found beside another name of the file (a link) may not be the lines' own, and
    another model with the same topics names the same classes."""
    from .answering import _answer

    mine = _loads(_answer(predictor, settings, [item])[0])
    theirs = _loads(written)
    p, q = (r.get(settings.probabilities) or {} for r in (mine, theirs))
    if (
        type(q) is not dict
        or p.keys() != q.keys()
        or any(not isinstance(q[k], float) or not abs(p[k] - q[k]) <= 1e-6 for k in p)
    ):
        raise InputError(
            f"{option('resume')}: line {item[0]:,} of the output was answered otherwise than "
            "this run answers it (another model or setting wrote it): not resumed; "
            f"{start_afresh()}"
        )


def _check_done(
    written_line: bytes | None,
    line_no: int,
    record: dict,
    settings: _Settings,
    names: frozenset[str],
) -> bool:
    """Whether the line written for an input line is an error; an `InputError` when it does
    not answer that line as this run would."""
    try:
        written = _loads(written_line) if written_line is not None else None
    except (ValueError, RecursionError):
        written = None
    ours = settings.ours
    mine = {k: v for k, v in record.items() if k not in ours}
    theirs = {k: v for k, v in written.items() if k not in ours} if type(written) is dict else None
    if theirs != mine or written.get(settings.line, line_no) != line_no:
        raise InputError(
            f"{option('resume')}: line {line_no:,} of the output does not answer input line "
            f"{line_no:,}: the output was written for another input"
        )
    probabilities = written.get(settings.probabilities)
    if probabilities is not None and (
        type(probabilities) is not dict or probabilities.keys() != names
    ):
        # (a run record may not be the file's own: one written through another name of it)
        raise InputError(
            f"{option('resume')}: line {line_no:,} of the output has probabilities of "
            f"{', '.join(map(str, probabilities)) if type(probabilities) is dict else '?'}, "
            f"this run gives {', '.join(sorted(names))}: another model or setting wrote it; "
            f"{start_afresh()}"
        )
    # (a text empty once cleaned is an error of the classification, not of the reading)
    return settings.error in written
