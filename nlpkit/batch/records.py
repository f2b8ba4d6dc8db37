"""JSON lines, one line at a time: an input line to its item (the record, the text to classify,
or the error that line gets) and a record to its output line, with orjson where it reads a
line exactly and the standard library where it does not (NaN, lone surrogates, integers beyond
64 bits); and the check, before anything is written, that the input's records have the text
field asked for.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..fastjson import load_orjson
from ..text import join_title
from .naming import option
from .reading import _BOM, LINE_LIMIT, InputError, _Reader, _split

# JSON in C, several times the standard library's speed on these records (without it, where
# it is not installed, the standard library's reading is exact too)
orjson = load_orjson()


class _Replaced(dict):
    """A record whose fields named like nlpkit's were taken out (to be counted)."""


# The fields nlpkit adds to a record (behind the ``prefix`` of `predict_stream`).
OUTPUT_FIELDS = ("topic", "probabilities", "error", "line")

# How many records the check of --text-field/--title-field reads before anything is written,
# and at most how many bytes of the input, when its first block holds too few.
FIELD_SAMPLE = 1000
FIELD_BYTES = 16 << 20


def records(n: int) -> str:
    """A count of records as a reader says it: "1 record", "2 records"."""
    return f"{n:,} record" if n == 1 else f"{n:,} records"


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
_SURROGATE = re.compile("[\ud800-\udfff]")


def _dumps(record: dict[str, Any]) -> bytes:
    """One JSON line, UTF-8."""
    data = None
    if orjson is not None:
        try:
            data = orjson.dumps(record)
        except TypeError:  # a lone surrogate, an integer beyond 64 bits: the standard library
            data = None
    if data is None:
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        # A lone surrogate escape in the input ("\ud83d") decodes to a string UTF-8 cannot
        # hold: written as a JSON escape again (only a string holds one), it round-trips.
        text = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
        data = text.encode("utf-8")
    # U+2028 and U+2029 are legal in JSON strings but end lines for many readers: escaped, so
    # that one record stays one line for everyone.
    if _SEPARATORS[0] in data or _SEPARATORS[1] in data:
        data = data.replace(_SEPARATORS[0], b"\\u2028").replace(_SEPARATORS[1], b"\\u2029")
    return data + b"\n"


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
        # (a title field that is the text field: the text read once, not after itself)
        self.titled = title_field != text_field
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
            read = exact
        except orjson.JSONDecodeError:
            read = False
        if not read:
            try:
                record, clean = self._not_json(raw, line_no)
            except _Unreadable as exc:
                return exc.item
            # A lone surrogate escape, an integer beyond 64 bits or a number beyond a float's
            # range is valid JSON: the line is kept as it was written. NaN and Infinity are
            # not, and the record is written anew with null for them.
            exact = exact and clean
        if type(record) is not dict:
            return self.failed(line_no, "not a JSON object")
        if exact and (
            not record
            or not self.ours.isdisjoint(record)
            or (separators and (_SEPARATORS[0] in raw or _SEPARATORS[1] in raw))
        ):
            exact = False  # (the record is written anew: fields replaced, separators escaped)
        text = record.get(self.text_field)
        title = (record.get(self.title_field) or "") if self.titled else ""
        if not self.ours.isdisjoint(record):
            # Fields named like nlpkit's are replaced, all of them (an input's "error" beside
            # nlpkit's topic, or its "topic" beside nlpkit's error, would be an answer nlpkit
            # never gave); `_answer` counts them.
            record = _Replaced((k, v) for k, v in record.items() if k not in self.ours)
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

    def _not_json(self, raw: bytes, line_no: int) -> tuple[Any, bool]:
        """What the standard library makes of a line orjson refused (lone surrogate escapes,
        integers beyond 64 bits, numbers beyond a float's range, NaN as null): the value, and
        whether it held no NaN or Infinity; `_Unreadable` with the item of the error."""
        if (unusable := self._unusable(raw, line_no)) is not None:
            raise _Unreadable(unusable)
        constants: list[str] = []

        def constant(name: str) -> None:
            constants.append(name)
            return _not_a_number(name)

        try:
            return json.loads(raw.decode("utf-8"), parse_constant=constant), not constants
        except UnicodeDecodeError as exc:
            raise _Unreadable(self.failed(line_no, _not_utf8(raw, exc))) from None
        except json.JSONDecodeError as exc:
            raise _Unreadable(self.failed(line_no, f"not valid JSON ({exc.msg})")) from None
        except (RecursionError, ValueError):
            raise _Unreadable(
                self.failed(line_no, "not valid JSON (nested too deep or out of range)")
            ) from None

    def failed(self, line_no: int, error: str) -> Item:
        return line_no, {self.line: line_no, self.error: error}, None, None


class _Unreadable(Exception):
    """A line no reading can use; ``item``: its error item."""

    def __init__(self, item: Item):
        self.item = item


def _not_utf8(raw: bytes, exc: UnicodeDecodeError) -> str:
    return f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"


def _fields(head: bytes, sep: bytes) -> tuple[set[str], int]:
    """The fields of the JSON objects among the first `FIELD_SAMPLE` whole lines of ``head``,
    and how many objects they are."""
    keys: set[str] = set()
    objects = 0
    for raw in _split(head[: head.rfind(sep) + 1], sep)[:FIELD_SAMPLE]:
        try:
            record = _loads(raw)
        except (ValueError, RecursionError):
            continue
        if type(record) is dict:
            objects += 1
            keys.update(record)
    return keys, objects


def _check_fields(
    reader: _Reader, settings: _Settings, title_given: bool, text_given: bool = True
) -> None:
    """A usage error, before anything is written, when none of the first `FIELD_SAMPLE`
    records (within `FIELD_BYTES` of the input) has the text field (or a title field given
    outright); ``text_given``: whether the text field was named, or is the default."""
    wanted = {settings.text_field, *([settings.title_field] if title_given else [])}
    # (the first records mostly settle it: the input is read further only when they do not)
    keys, objects = _fields(reader.head[: 1 << 18], reader.sep)
    if not wanted <= keys:
        reader.read_ahead(FIELD_SAMPLE, FIELD_BYTES)
        keys, objects = _fields(reader.head, reader.sep)
    if not objects:
        return
    seen = ", ".join(sorted(keys)[:12]) + (", ..." if len(keys) > 12 else "")
    for name, field, check in (
        ("text_field", settings.text_field, True),
        ("title_field", settings.title_field, title_given),
    ):
        if check and field not in keys:
            named = (
                option(name, field)
                if name != "text_field" or text_given
                else f"the text field {field!r} (the default; {option(name)} names another)"
            )
            raise InputError(
                f"{named}: none of the first {records(objects)} has that field "
                f"(their fields: {seen})"
            )
