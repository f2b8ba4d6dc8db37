"""The compiled core's reader of JSON lines (csrc/jsonfield.c, `nlpkit._core.json_lines`)
against orjson: a line it takes must be one orjson reads as an object, with the same text and
title, joined as the stream joins them; any other line is left to orjson. Hand-picked edge
cases, generated records and arbitrary bytes (hypothesis), and, marked ``corpus``, real lines.
"""

from __future__ import annotations

import itertools
import json
import sys

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlpkit import compiled
from nlpkit.batch import LINE_LIMIT, OUTPUT_FIELDS
from nlpkit.text import join_title

CORE = compiled.core
pytestmark = pytest.mark.skipif(
    CORE is None or not hasattr(CORE, "json_lines"),
    reason=f"no compiled core: {compiled.describe()}",
)
RESERVED = tuple(name.encode() for name in OUTPUT_FIELDS)
CODEC = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"
PROPERTY = settings(
    max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def read(chunk: bytes, sep: bytes = b"\n", text: str = "text", title: str = "title", **kw):
    """What json_lines makes of a chunk: for each line, (start, stop, close, text or None)."""
    marks, data, bounds = CORE.json_lines(
        chunk, sep, text.encode(), title.encode(), kw.get("reserved", RESERVED),
        kw.get("limit", LINE_LIMIT), kw.get("skip_first", False),
    )  # fmt: skip
    at = memoryview(marks).cast("q").tolist()
    starts = iter(memoryview(bounds).cast("q").tolist())
    lines, begin = [], next(starts)
    for i in range(0, len(at), 3):
        got = None
        if at[i + 2] >= 0:
            end = next(starts)
            got = data[4 * begin : 4 * end].decode(CODEC)
            begin = end
        lines.append((at[i], at[i + 1], at[i + 2], got))
    assert next(starts, None) is None  # (one text per line taken)
    return lines


def check_line(line: bytes, text: str = "text", title: str = "title") -> str | None:
    """The text json_lines takes from one line (None: left to orjson), checked against
    orjson's reading of it."""
    [(start, stop, close, got)] = read(line + b"\n", text=text, title=title)
    assert (start, stop) == (0, len(line) - line.endswith(b"\r"))  # (CRLF: the CR ends it)
    if got is None:
        return None
    record = orjson.loads(line)  # it must read what the core took
    assert type(record) is dict and record
    assert set(record).isdisjoint(OUTPUT_FIELDS)
    assert type(record[text]) is str
    assert close == line.rfind(b"}")
    assert got == join_title(record.get(title) or "", record[text])
    return got


TAKEN = [
    b'{"text": "Gi\\u00e1 x\\u0103ng"}',
    b'{"text": "\\ud83d\\ude00 emoji by a surrogate pair"}',
    b'{"text": "a\\nb\\tc\\"d\\\\e\\/f\\bg\\fh\\ri"}',
    b'{"text": "\\u0000 a NUL by escape"}',
    b'{"title": "T", "text": "x"}',
    b'{"title": "", "text": "x"}',
    b'{"title": null, "text": "x"}',
    b'{"title": "only a title", "text": ""}',
    b'{"text": ""}',
    b'{"text": "first", "text": "last"}',  # orjson takes the last
    b'{"title": 5, "title": "T", "text": "x"}',
    b'{"inner": {"text": "not this", "title": 1}, "text": "this"}',
    b'{"list": [1, -2.5e-3, true, false, null, {"a": []}, "s"], "text": "x"}',
    b' \t{ "text" : "x" }  \r ',
    b'{"id": 123456789012345678, "text": "x"}',
    b'{"text": "an escaped \\u2028 line separator"}',
    '{"text": "Tiếng Việt có dấu, 中文, emoji 😀"}'.encode(),
]

LEFT = [
    b'{"text": "\\ud83d lone"}',  # orjson refuses a lone surrogate
    b'{"text": "\\ude00"}',
    b'{"text": "x\\q"}',  # an escape JSON does not have
    b'{"text": "a\tb"}',  # a raw control character
    b'{"text": "x", "n": NaN}',
    b'{"text": "x", "n": 1e400}',
    b'{"text": "x", "n": 123456789012345678901}',
    b'{"text": "x", "n": 01}',
    b'{"text": "x",}',
    b'{"text": "x"} trailing',
    b'{"text": "x"',
    b'{"te\\u0078t": "x"}',  # a key with an escape
    b'{"text": 5}',
    b'{"text": null}',
    b'{"title": 5, "text": "x"}',  # the caller's error message
    b'{"title": [], "text": "x"}',
    b'{"text": "x", "topic": "old"}',  # a field named like nlpkit's
    b'{"other": "x"}',
    b"{}",
    b"[1]",
    b'"text"',
    b"",
    b'{"text": "\xe1 latin-1"}',
    b'{"text": "x", "other": "\xff"}',
    b'{"text": "\xed\xa0\x80 an encoded surrogate"}',
    b'{"text": "\xc0\xaf overlong"}',
    b'{"text": "x", "deep": ' + b"[" * 100 + b"]" * 100 + b"}",
    b'{"text": "\x80 not UTF-8, given again", "text": "x"}',
    b'{"title": "\xff", "title": null, "text": "x"}',
    '{"text": "\u2028", "text": "x"}'.encode(),
    '{"text": "a raw \u2028 line separator"}'.encode(),  # written anew, escaped
    '{"text": "x", "other": "\u2029"}'.encode(),
    '{"text\u2028": "x"}'.encode(),
]


@pytest.mark.parametrize("line", TAKEN)
def test_lines_taken_read_as_orjson_reads_them(line):
    assert check_line(line) is not None


@pytest.mark.parametrize("line", LEFT)
def test_unusual_lines_are_left_to_orjson(line):
    assert check_line(line) is None


def test_line_ends_limit_and_first_line():
    chunk = b'{"text": "a"}\r\n{"text": "b"}\n\n{"text": "c"}\r\n'
    lines = read(chunk)
    assert [t for *_, t in lines] == ["a", "b", None, "c"]
    assert [chunk[s:e] for s, e, _, _ in lines] == [b'{"text": "a"}', b'{"text": "b"}', b"",
                                                    b'{"text": "c"}']  # fmt: skip
    assert [t for *_, t in read(b'{"text": "a"}\r{"text": "b"}\r', sep=b"\r")] == ["a", "b"]
    assert [t for *_, t in read(b'{"text": "a"}\n{"text": "b"}\n', skip_first=True)] == [None, "b"]
    assert [t for *_, t in read(b'{"text": "abc"}\n{"text": "b"}\n', limit=14)] == [None, "b"]
    assert [t for *_, t in read(b'{"body": "a", "text": "b"}\n', text="body")] == ["a"]
    assert [t for *_, t in read(b'{"h": "T", "text": "b"}\n', title="h")] == ["T\nb"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
others = st.dictionaries(
    st.sampled_from(["text", "title", "id", "topic", "te\nxt", "Text", "x"]) | st.text(max_size=6),
    json_values | st.text(),
    max_size=5,
)
fields = st.fixed_dictionaries({"text": st.text()}, optional={"title": st.none() | st.text()})
# Records with a text and maybe a title, before or after other fields (which may replace them).
records = st.tuples(others, fields, st.booleans()).map(
    lambda t: {**t[0], **t[1]} if t[2] else {**t[1], **t[0]}
)


@PROPERTY
@given(records, st.booleans(), st.booleans())
def test_any_record_is_read_as_orjson_reads_it_or_left_to_it(record, ascii, indent):
    try:
        line = json.dumps(record, ensure_ascii=ascii, indent=None, separators=(
            (",", ":") if indent else (", ", ": ")))  # fmt: skip
    except ValueError:
        return
    data = line.encode("utf-8", "surrogatepass")
    got = check_line(data)
    plain = (
        type(record.get("text")) is str
        and type(record.get("title", "")) in (str, type(None))
        and set(record).isdisjoint(OUTPUT_FIELDS)
        and not any("\\" in json.dumps(k) for k in record)
        and not any(0xD800 <= ord(c) <= 0xDFFF for c in line)
        and "NaN" not in line
        and "\u2028" not in line
        and "\u2029" not in line
        and "Infinity" not in line
        and "e+" not in line
        and "e-" not in line
        and all(type(v) is not int or abs(v) < 10**18 for v in record.values())
        and all(type(v) in (str, type(None), bool) or type(v) is int for v in record.values())
    )
    if plain:  # the commonest records are taken, not only left alone
        assert got == join_title(record.get("title") or "", record["text"])


@PROPERTY
@given(
    st.sampled_from(TAKEN + LEFT),
    st.lists(st.tuples(st.integers(0, 200), st.binary(min_size=0, max_size=3)), max_size=3),
)
def test_damaged_lines_are_never_misread(line, edits):
    for at, piece in edits:  # bytes replaced or inserted anywhere, line ends excepted
        at = min(at, len(line))
        line = line[:at] + piece.replace(b"\n", b"") + line[at + len(piece) // 2 :]
    check_line(line)


@PROPERTY
@given(st.binary(max_size=60))
def test_arbitrary_bytes_are_never_misread(data):
    check_line(b'{"text": "' + data.replace(b"\n", b" ") + b'"}')
    check_line(data.replace(b"\n", b" "))


@pytest.mark.corpus
def test_real_lines_are_all_taken_as_orjson_reads_them(shared_data):
    with open(shared_data / "raw_corpus.jsonl", "rb") as f:
        lines = list(itertools.islice(f, 3000))
    chunk = b"".join(lines)
    got = read(chunk)
    assert len(got) == len(lines)
    for raw, (start, stop, close, text) in zip(lines, got):
        record = orjson.loads(raw)
        assert text == join_title(record.get("title") or "", record["text"])
        assert chunk[start:stop] == raw.rstrip(b"\r\n") and close == chunk.rfind(b"}", start, stop)
