"""`nlpkit predict` and `nlpkit explain` of texts: from arguments, piped lines or a file (`--input`
and `--output`, a whole archive, go to `nlpkit.cli.archives`)."""

from __future__ import annotations

import argparse
import json
import sys

from ..usage import UsageError
from .archives import _FILE_OPTIONS, _predict_file
from .common import _allow_none, _load

# A text read from a file or standard input is read up to this many bytes: a model reads a few
# thousand characters of it, and a pasted archive must not cost its size in memory.
READ_LIMIT = 4 << 20


def _read_stream(data, name: str) -> str:
    """Up to `READ_LIMIT` bytes of a binary stream as UTF-8 text; a clear error otherwise."""
    return _read_part(data, name)[0]


def _read_part(data, name: str) -> tuple[str, bool]:
    """`_read_stream`'s text, and whether the stream held more than it read."""
    import codecs

    from ..batch import InputError, sniff

    raw = data.read(READ_LIMIT)
    more = len(raw) == READ_LIMIT and bool(data.read(1))
    try:
        sniff(raw[: 1 << 16])
    except InputError as exc:
        if "JSON array" not in str(exc):
            raise UsageError(f"cannot read {name}: {exc}") from None
    try:
        # Not final where the stream held more: the limit may cut a character in two; its
        # first bytes are dropped.
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(raw, final=not more)
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"cannot read {name}: not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    return text, more


def _is_object(line: str) -> bool:
    import json

    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


def _starts_an_array(text: str) -> bool:
    """Whether ``text`` starts as a JSON array of objects or strings does: its first item read
    whole (the text may be cut at the reading's limit; "[Video] ..." is a headline)."""
    import json

    start = text.lstrip()
    if not start.startswith("["):
        return False
    rest = start[1:].lstrip()
    if rest[:1] not in ("{", '"'):
        return False
    try:
        _, end = json.JSONDecoder().raw_decode(rest)
    except (ValueError, RecursionError):
        return False
    # (then a comma, or the end of the array and of the text: '["Video"] Messi...' is news)
    after = rest[end:].lstrip()
    return after.startswith(",") or (after.startswith("]") and not after[1:].strip())


def _not_records(text: str, name: str, how: str, args: argparse.Namespace) -> None:
    """Refuse JSON lines (two lines or more, each an object; or one line that is a JSON
    object), one JSON object over several lines, or a JSON array, where texts are expected."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > 1:
        records = all(line.lstrip().startswith("{") for line in lines[:2])
    else:
        # (one line: only a whole JSON object, which no news text is)
        records = bool(lines) and lines[0].lstrip().startswith("{") and _is_object(lines[0])
    where = "standard input" if name == "-" else name
    if not records and _starts_an_array(text):
        # (its lines, brackets and all, or its JSON would be answered as news)
        convert = (
            "convert it to JSON lines, an object a line (jq -c '.[]' FILE), for --input"
            if args.command == "predict"
            else "give its texts one a line (jq -r '.[]' FILE for strings, '.[].text' for objects)"
        )
        raise UsageError(f"{where} holds a JSON array: {how}; {convert}")
    if not records and len(lines) > 1 and lines[0].lstrip().startswith("{") and _is_object(text):
        # (a JSON object printed over several lines: each of its lines, or all its JSON, would
        # be answered as news)
        raise UsageError(
            f"{where} holds a JSON object: {how}"
            + (
                "; --input reads records as JSON lines, an object a line"
                if args.command == "predict"
                else ""
            )
        )
    if records:
        raise UsageError(
            f"{where} holds JSON lines: {how}"
            + (f"; --input {name} answers each record" if args.command == "predict" else "")
        )


def _read_texts(args: argparse.Namespace) -> list[str]:
    """The texts to answer: each argument, each line piped to standard input, or the whole of
    a file (-f; '-f -' for the whole of standard input as one text)."""
    from ..pages import parse_page

    if args.text and args.file:
        raise UsageError("give a text or --file, not both")
    if args.file == "-":
        texts = [_read_stream(sys.stdin.buffer, "standard input")]
        names = ["standard input"]
        _not_records(texts[0], "-", "-f - reads it as one text", args)
    elif args.file:
        try:
            with open(args.file, "rb") as data:
                texts = [_read_stream(data, args.file)]
        except FileNotFoundError:
            raise UsageError(f"file not found: {args.file}") from None
        except (IsADirectoryError, PermissionError) as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
        names = [args.file]
        # (a file of records read as one text would get one answer, of its JSON)
        _not_records(texts[0], args.file, "-f reads a file as one text", args)
    elif args.text:
        texts = list(args.text)
        names = [f"argument {i}" for i in range(1, len(texts) + 1)]
    elif not sys.stdin.isatty():
        # Piped lines are texts, one answer each, as an archive's lines are: a pasted article
        # goes through -f - (one text), a file of records through --input.
        if args.page:
            texts = [_read_stream(sys.stdin.buffer, "standard input")]
            names = ["standard input"]
        else:
            text, more = _read_part(sys.stdin.buffer, "standard input")
            # (each record's answer would be of its JSON: field names, other fields and all)
            _not_records(text, "-", "each piped line is read as a text", args)
            if more:
                # (the lines past the limit would get no answer, and the last one read is a
                # part of one)
                raise UsageError(
                    f"standard input holds more than {READ_LIMIT >> 20} MiB of lines: stream "
                    "them with --input - --output - (an answer record a line, in constant memory)"
                )
            if not text:
                raise UsageError("standard input is empty")
            texts = text.replace("\r\n", "\n").replace("\r", "\n").removesuffix("\n").split("\n")
            names = [f"line {i} of standard input" for i in range(1, len(texts) + 1)]
    else:
        raise UsageError("no text: give a text, --file FILE, or pipe text to standard input")
    for name, text in zip(names, texts):
        if not text.strip():
            hint = (
                " (each piped line is a text: -f - reads it all as one)" if "line" in name else ""
            )
            raise UsageError(f"{name} is empty{hint}")
    if args.page:
        try:
            texts = [parse_page(t).text for t in texts]
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return texts


def cmd_predict(args: argparse.Namespace) -> int:
    if args.input or args.output:
        from ..batch.naming import by_command

        # (the batch's messages then name this command's options, not Python's arguments)
        with by_command():
            return _predict_file(args)
    given = [flag for key, flag in _FILE_OPTIONS.items() if getattr(args, key) not in (None, False)]
    if given:
        raise UsageError(f"{given[0]} applies to --input/--output only")
    from ..batch import topic_of

    predictor = _load(args)
    allow_none = _allow_none(args, predictor)
    texts = _read_texts(args)
    if args.proba:
        for probs in _answer(predictor.predict_proba, texts, allow_none):
            print(json.dumps({"topic": topic_of(probs), "probabilities": probs}))
    else:
        for topic in _answer(predictor.predict, texts, allow_none):
            print("none" if topic is None else topic)
    return 0


def _answer(method, texts: list[str], allow_none: bool) -> list:
    try:
        return method(texts, allow_none=allow_none)
    except ValueError as exc:  # a text with nothing to read: say which, counting from 1
        i = getattr(exc, "batch_index", None)
        raise UsageError(str(exc) if i is None else f"text {i + 1}: {exc.reason}") from None


def cmd_explain(args: argparse.Namespace) -> int:
    predictor = _load(args)
    allow_none = _allow_none(args, predictor)
    texts = _read_texts(args)
    # Every text checked before the first is explained: a usage error (exit 2) prints nothing.
    explanations = _answer(
        lambda texts, allow_none: predictor.explain(texts, k=args.k, allow_none=allow_none),
        texts,
        allow_none,
    )
    for i, explanation in enumerate(explanations):
        if args.json:
            print(json.dumps(explanation.to_dict(), ensure_ascii=False))
        else:
            print(("\n" if i else "") + str(explanation))
    return 0
