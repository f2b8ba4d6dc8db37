"""Answering a job: its lines to items, the items' texts to the classifier (the compiled core's
reader of JSON lines and `Predictor._proba_cp` for the common line, `probabilities_or_errors`
for the others), and the answers to output lines, all of one chunk at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

from .. import compiled
from ..predictor import Predictor, check_flag
from ..text import check_text, join_title
from ..topics import NONE
from .reading import _BOM, LINE_LIMIT, Job
from .records import _SEPARATORS, Item, _dumps, _Replaced, _Settings, orjson


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
    return None if best == NONE else best


# A chunk's answer: its output lines, how many, how many records have an error, how many
# records had fields named like nlpkit's.
Answer = tuple[bytes, int, int, int]


# A job whose chunk the core's reader has not read yet.
_UNREAD: Any = object()

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
    line_key, error_key = settings.line, settings.error
    topic_key, probabilities_key = settings.topic, settings.probabilities
    for line_no, record, text, raw in items:
        replaced += type(record) is _Replaced
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
            record.update(added)
        else:
            errors += 1
            if raw is not None:
                added = {line_key: record[line_key], error_key: record[error_key]}
                out += (raw, b",", orjson.dumps(added)[1:], b"\n")
                continue
        out.append(_dumps(record))
    return b"".join(out), len(items), errors, replaced


def _run(predictor: Predictor, settings: _Settings, job: Job, scanned: Any = _UNREAD) -> Answer:
    """The answer of a job; ``scanned``: its `_scan`, when it was made already."""
    return _classified(predictor, settings, job, scanned)()


def _classified(
    predictor: Predictor, settings: _Settings, job: Job, scanned: Any = _UNREAD
) -> Callable[[], Answer]:
    """A job's texts classified, and what makes its answer of them (its output lines): a
    stream with one worker makes those on its writing thread while the next job is classified
    (the core lets other threads run while it classifies)."""
    first, lines, sep = job
    if lines is None:
        _, record, _, _ = settings.failed(first, f"line longer than {LINE_LIMIT:,} bytes")
        done: Answer = (_dumps(record), 1, 1, 0)
    elif isinstance(lines, bytes):
        if scanned is _UNREAD:
            scanned = _scan(predictor, settings, job)
        if scanned is not None:
            marks, data, bounds = scanned
            got = predictor._proba_cp(data, bounds, settings.allow_none)
            if got is not None:
                return partial(_core_answer, predictor, settings, lines, first, marks, got)
        done = _answer(predictor, settings, _chunk_items(lines, first, sep, settings))
    else:
        item = settings.item
        done = _answer(predictor, settings, [item(raw, first + i) for i, raw in enumerate(lines)])
    return partial(_given, done)


def _given(answer: Answer) -> Answer:
    return answer


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
        or not settings.titled
        or predictor._scorer() is None
    ):
        return None
    bom = first == 1 and chunk.startswith(_BOM)  # (line 1 then goes the long way)
    return core.json_lines(chunk, sep, *settings.keys, LINE_LIMIT, bom)


def _read_ahead(
    predictor: Predictor, settings: _Settings, jobs: Iterator[Job]
) -> Iterator[Callable[[], Answer]]:
    """``jobs`` classified (`_classified`), in order, each chunk's JSON lines read by the core
    on a thread of their own while the one before is classified: the core's reader lets other
    threads run, so reading costs little time on the clock where a second core is free."""
    import queue
    import threading

    ready: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    end = object()

    def read() -> None:
        try:
            for job in jobs:
                item = (job, _scan(predictor, settings, job))
                while not stop.is_set():
                    try:
                        ready.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        pass
                if stop.is_set():
                    return
            ready.put((end, None))
        except BaseException as exc:  # (reading the input failed): raised where it is waited for
            ready.put((end, exc))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        while True:
            job, scanned = ready.get()
            if job is end:
                if scanned is not None:
                    raise scanned
                break
            yield _classified(predictor, settings, job, scanned)
    finally:
        # Stopped early (an interruption may have come inside the queue's own lock): the
        # reading thread is told to stop and not waited for.
        stop.set()
    reader.join()


def _core_answer(
    predictor: Predictor,
    settings: _Settings,
    chunk: bytes,
    first: int,
    marks: bytes,
    got: tuple[tuple[str, ...], Any, dict[int, str]],
) -> Answer:
    """The answer of a chunk of whole lines that the compiled core read (``marks``, from its
    `_scan`) and classified (``got``, from `Predictor._proba_cp`): the common line's text went
    from the line's bytes to the classifier without becoming a Python object; any other line
    (one the core's reader does not take, in JSON or in its fields) goes through
    `_Settings.item`, as without the core."""
    names, probs, failed = got
    at = memoryview(marks).cast("q").tolist()
    if not failed and min(at[2::3], default=0) >= 0:
        return _all_read(settings, chunk, at, names, probs)
    ready: list[dict | str] = [dict(zip(names, row)) for row in probs.tolist()]
    for i, message in failed.items():
        ready[i] = message
    view, item = memoryview(chunk), settings.item
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
    return _answer(predictor, settings, items, ready)


def _all_read(
    settings: _Settings, chunk: bytes, at: list[int], names: tuple[str, ...], probs: Any
) -> Answer:
    """`_core_answer` of the common chunk, every line of which the core read and classified:
    each output line made in one step, its topic the first most probable (as `topic_of`)."""
    topics = [None if name == NONE else name for name in names]
    best = probs.argmax(axis=1).tolist()
    view, dumps = memoryview(chunk), orjson.dumps
    topic_key, probabilities_key = settings.topic, settings.probabilities
    out: list[bytes | memoryview] = []
    for i, row in enumerate(probs.tolist()):
        added = dumps({topic_key: topics[best[i]], probabilities_key: dict(zip(names, row))})
        out += (view[at[3 * i] : at[3 * i + 2]], b",", added[1:], b"\n")
    return b"".join(out), len(best), 0, 0


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
    titled = settings.titled
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
                text = record.get(text_field)
                title = (record.get(title_field) or "") if titled else ""
                if type(text) is str and type(title) is str:
                    append((line_no, record, join_title(title, text) if title else text,
                            view[start : rfind(b"}", start, stop)]))  # fmt: skip
                    start, line_no = end + 1, line_no + 1
                    continue
        append_item(item(chunk[start:stop], line_no, separators))
        start, line_no = end + 1, line_no + 1
    return items
