"""A user's labelled texts read in: a file (JSON lines or CSV, gzipped or not), lists given in
Python, or an unlabelled feed. What comes out is the texts, labels and titles as given, with
where each came from; `nlpkit.training.userdata` checks and splits them. Every problem is one
line naming the file, the line and what is wrong.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import warnings
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path
from typing import Any

from ..arguments import empty_cell
from ..text import has_content, is_sequence

__all__ = [
    "DataError",
    "LabelledTexts",
    "data_name",
    "read_file",
    "from_lists",
    "read_texts",
]


class DataError(ValueError):
    """A user's labelled data cannot be trained on as it is (one line saying why)."""


@dataclass
class LabelledTexts:
    """Texts, their labels, optional titles and split values, and where each came from."""

    texts: list[str]
    labels: list[str]
    titles: list[str]
    parts: list[str] | None = None  # the split field's values, when one is named
    where: list[str] = field(default_factory=list)  # "file:line" of each text
    path: Path | None = None
    fields: dict[str, str | None] = field(default_factory=dict)


class _Replay(io.RawIOBase):
    """A stream whose first bytes were read already: those bytes, then the rest of it."""

    def __init__(self, head: bytes, rest: Any):
        self._head, self._rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return self._rest.readinto(buffer)


@contextmanager
def _open_text(path: Path) -> Iterator[tuple[io.TextIOWrapper, str]]:
    """The file as text, and its first characters (what its format is told by), read once
    from its start: a pipe, standard input or a shell's ``<(...)`` cannot be read twice, and
    may give its first bytes a few at a time."""
    with path.open("rb") as raw:
        # gzip data is known by its first bytes, whatever the name (.GZ, none at all)
        magic = raw.read(2)
        stream: Any = io.BufferedReader(_Replay(magic, raw))
        if magic == b"\x1f\x8b":
            stream = gzip.GzipFile(fileobj=stream, mode="rb")
        first = stream.read(4096)
        if first.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
            # (a spreadsheet's "Unicode Text" export: UTF-16, its byte-order mark first)
            wide = "UTF-32" if first.startswith((b"\xff\xfe\x00\x00", b"\x00\x00")) else "UTF-16"
            raise DataError(f"{path}: {wide} (byte-order mark), not UTF-8: save it as UTF-8")
        text = io.TextIOWrapper(
            io.BufferedReader(_Replay(first, stream), 1 << 16), encoding="utf-8-sig", newline=""
        )
        try:
            yield text, first.decode("utf-8", "ignore").lstrip("\ufeff")
        finally:
            text.close()


@contextmanager
def _long_fields() -> Iterator[None]:
    # The csv module refuses a field over 128 KiB (a long article is one): up to the line
    # limit of archives, for this reading only.
    before = csv.field_size_limit()
    csv.field_size_limit(max(before, 10_000_000))
    try:
        yield
    finally:
        csv.field_size_limit(before)


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """A file's reading, its failures (missing, unreadable, not UTF-8, damaged gzip) a
    `DataError` naming it."""
    try:
        yield
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 ({exc.reason})") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: damaged gzip file ({exc})") from None


_TABLES = (".csv", ".tsv")


def _format(path: Path, first: str) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    last = suffixes[-1] if suffixes else ""
    if last in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if last in _TABLES:
        return last[1:]
    if first.lstrip().startswith("{"):
        return "jsonl"
    # (no name to tell, as standard input: a header of tabs and no comma is tab-separated)
    header = first.split("\n", 1)[0]
    return "tsv" if not suffixes and "\t" in header and "," not in header else "csv"


def _rows(path: Path):
    """(line number, dict, the file's format: "jsonl", "csv" or "tsv") of every record of the
    file."""
    with _reading(path), _open_text(path) as (data, head):
        kind = _format(path, head)
        if kind == "jsonl":
            for number, line in enumerate(data, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    where = exc.msg if exc.msg.endswith(" at") else f"{exc.msg} at"
                    array = (
                        "; a file of JSON lines holds one object a line, not an array"
                        if number == 1 and line.lstrip().startswith("[")
                        else ""
                    )
                    raise DataError(
                        f"{path}:{number}: not valid JSON ({where} column {exc.colno}){array}"
                    ) from None
                if not isinstance(row, dict):
                    array = (
                        ": the file is a JSON array, where JSON lines hold one object a line "
                        "(jq -c '.[]' FILE converts it)"
                        if number == 1 and isinstance(row, list)
                        else ""
                    )
                    raise DataError(
                        f"{path}:{number}: expected a JSON object, got {type(row).__name__}" + array
                    )
                yield number, row, kind
            return
        reader = csv.DictReader(data, delimiter="\t" if kind == "tsv" else ",", strict=True)
        done = 0  # the last line of the last record read whole (1: the header)
        try:
            with _long_fields():
                if not reader.fieldnames:
                    raise DataError(f"{path}: empty file, expected a header line")
                done = 1
                # (a header written "title, text, label": its names are the words, not the
                # spaces a spreadsheet or a hand left around them)
                reader.fieldnames = [name.strip() for name in reader.fieldnames]
                columns = len(reader.fieldnames)
                # Blank header cells (a spreadsheet's trailing empty columns) name nothing
                # that is read; a name twice would keep the last column of it, silently.
                named = [n for n in reader.fieldnames if n.strip()]
                twice = sorted({n for n in named if named.count(n) > 1})
                if twice:
                    raise DataError(f"{path}:1: the header names {twice[0]!r} twice")
                if columns == 1 and _separator(head, kind):
                    raise DataError(
                        f"{path}:1: one column named {reader.fieldnames[0]!r}: "
                        f"{_separator(head, kind)}"
                    )
                for row in reader:
                    if None not in row and not any((v or "").strip() for v in row.values()):
                        # (a spreadsheet's trailing rows, ",,": as a blank line, nothing)
                        done = reader.line_num
                        continue
                    if None in row:
                        raise DataError(
                            f"{path}:{reader.line_num}: more values than the header has columns"
                        )
                    if None in row.values():
                        given = sum(value is not None for value in row.values())
                        raise DataError(
                            f"{path}:{reader.line_num}: {given} value(s) where the header has "
                            f"{columns} columns"
                        )
                    yield reader.line_num, row, kind
                    done = reader.line_num
        except csv.Error as exc:
            if not done and _separator(head, kind):
                raise DataError(f"{path}:1: {_separator(head, kind)}") from None
            raise DataError(
                f"{path}:{done + 1}: malformed CSV ({str(exc).replace(chr(9), 'tab')}): a stray "
                'quote? A field that holds quotes is quoted, with its quotes doubled: "say '
                '""hi"""'
            ) from None


def _separator(head: str, kind: str) -> str:
    """What is wrong with the separator of a CSV file's header line, if that is the matter:
    semicolons (a spreadsheet's export where the comma is the decimal mark), or tabs in a
    file not named .tsv; "" otherwise."""
    line = head.split("\n", 1)[0]
    if kind == "csv" and "," not in line and "\t" in line:
        return "its values are separated by tabs: name the file .tsv (or .tsv.gz)"
    if "," not in line and "\t" not in line and ";" in line:
        mark, name = ("tabs", "a .tsv file's") if kind == "tsv" else ("commas", "a CSV file's")
        return (
            f"its values are separated by semicolons; {name} are separated by {mark}: export "
            f"it again with {mark}"
        )
    return ""


def _say_odd_titles(odd: list[str], title_field: str | None) -> None:
    """A warning that counts the records (``odd``: where each is) whose default title field
    held something else than a string, which were read without it."""
    if odd:
        warnings.warn(
            f"{len(odd):,} record{'s' * (len(odd) != 1)} with a {title_field!r} that is not a "
            f"string read without it, e.g. {odd[0]}",
            stacklevel=3,
        )


def _string(value: Any, where: str, name: str, what: str) -> str:
    if isinstance(value, str):
        return value
    if what == "label" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    got = "null" if value is None else type(value).__name__
    raise DataError(f"{where}: field {name!r} ({what}) must be a string, got {got}")


def clean_label(label: str) -> str:
    """A label as it is typed, whatever its encoding: composed (NFC) Unicode, without invisible
    format characters or white space at its ends. "Thể thao" typed composed or decomposed (a
    Mac, Unikey's "Unicode tổ hợp"), or with a zero-width space, is one label, as the texts
    are one text; case and inner spacing are kept (a user's "Sports" and "sports" may be two
    classes: `spelling` says when they look alike)."""
    import unicodedata

    from ..text import INVISIBLE

    return unicodedata.normalize("NFC", INVISIBLE.sub("", label)).strip()


def spelling(label: str) -> str:
    """A label as it reads whatever its case and spacing: two labels of one spelling are most
    likely one label written two ways ("Sports", "sports ")."""
    return " ".join(label.casefold().split())


def data_name(path: str | Path) -> str:
    """The name of a data file without its kind (``news.2024.csv.gz``: ``news.2024``): what
    names the model trained on it, and its folder by default."""
    from ..folders import is_descriptor

    if is_descriptor(path):  # (/dev/stdin, a shell's <(...): a number, not a name)
        return "stream"
    name = Path(path).name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    stem, dot, kind = name.rpartition(".")
    if dot and kind.lower() in ("jsonl", "json", "ndjson", "csv", "tsv", "txt"):
        name = stem
    # (a name's bytes that are no UTF-8 come as lone surrogates, which no model card, manifest
    # or picture can write: each a replacement character)
    name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return name.lstrip(".") or "data"


def read_file(
    path: str | Path,
    text_field: str = "text",
    label_field: str = "label",
    title_field: str | None = None,
    split_field: str | None = None,
    title_optional: bool = False,
) -> LabelledTexts:
    """Read a labelled file: JSON lines (one object a line) or CSV with a header (``.tsv``:
    tab-separated), either gzipped (``.gz``). Fields are named by the arguments; a title field
    no record has is an error unless ``title_optional`` (a default the caller chose); a title
    field that is the text field is read once, as the text."""
    path = Path(path)
    if title_field == text_field:
        # (its text is its title: read once, not put before itself)
        title_field = None
    wanted = {"text": text_field, "label": label_field, "title": title_field, "split": split_field}
    for what, name in wanted.items():
        if name is not None and (not isinstance(name, str) or not name):
            # (an empty name read no field, and failed on the first record's look-up)
            raise ValueError(f"{what}_field must be the name of a field, got {name!r}")
    out = LabelledTexts([], [], [], [] if split_field else None, [], path, wanted)
    # (a record without the title field has no title; no record with it, a typo)
    titled, first = False, None
    odd: list[str] = []
    for number, row, kind in _rows(path):
        where = f"{path}:{number}"
        titled = titled or title_field in row
        first = first if first is not None else row
        for what, name in wanted.items():
            if name and name not in row and what != "title":
                option = {"text": "--text-field", "label": "--label-field"}.get(
                    what, f"--{what}-field"
                )
                raise DataError(
                    f"{where}: no field {name!r} (fields: {', '.join(map(str, row))}); "
                    f"name the {what} field with {option}"
                    + (
                        "; the file is read as CSV, its first line the header (labelled data "
                        "is JSON lines, or CSV with a header line)"
                        if kind != "jsonl"
                        else ""
                    )
                )
        out.texts.append(_string(row[text_field], where, text_field, "text"))
        out.labels.append(clean_label(_string(row[label_field], where, label_field, "label")))
        title = row.get(title_field) if title_field else ""
        if title_optional and title is not None and not isinstance(title, str):
            # (a default's field of something else: the record is read without it, and said)
            odd.append(where)
            title = None
        out.titles.append("" if title is None else _string(title, where, title_field, "title"))
        if split_field:
            out.parts.append(_string(row[split_field], where, split_field, "split").strip().lower())
        out.where.append(where)
    if not out.texts:
        raise DataError(f"{path}: no records")
    _say_odd_titles(odd, title_field)
    if title_field and not titled and not title_optional:
        raise DataError(
            f"{path}: no record has the title field {title_field!r} (fields of the first: "
            f"{', '.join(map(str, first or {}))}); name the title field with --title-field"
        )
    return out


def from_lists(
    texts: Sequence[str], labels: Sequence[Any], titles: Sequence[str] | None = None
) -> LabelledTexts:
    """Texts and labels given in Python (lists, arrays, Series)."""
    for name, value in (("texts", texts), ("labels", labels), ("titles", titles)):
        # (a string is a sequence of characters, a dict one of its keys: neither is meant)
        if value is not None and not is_sequence(value):
            raise TypeError(
                f"{name} must be a list, tuple, numpy array or pandas Series, "
                f"not {type(value).__name__}"
            )
    if hasattr(texts, "iloc") and hasattr(labels, "iloc") and not texts.index.equals(labels.index):
        # (as scikit-learn's fit pairs X and y: by position; pandas would pair them by label)
        warnings.warn(
            "texts and labels are pandas objects with different indexes: they are paired by "
            "position, not by index (reset_index(drop=True) both, or align them first)",
            stacklevel=3,
        )
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise DataError(f"{len(texts)} texts but {len(labels)} labels")
    titles = [""] * len(texts) if titles is None else list(titles)
    if len(titles) != len(texts):
        raise DataError(f"{len(texts)} texts but {len(titles)} titles")
    where = [f"texts[{i}]" for i in range(len(texts))]
    for i, (text, label, title) in enumerate(zip(texts, labels, titles)):
        if empty_cell(title):
            # (no title: pandas gives NaN, or None, for an empty cell of a title column)
            titles[i] = title = ""
        for name, value in (("texts", text), ("titles", title), ("labels", label)):
            # (numbered classes are names, numpy's integers too: a label array as scikit-learn
            # takes it; numpy's bool is no Integral)
            if isinstance(value, str) or (
                name == "labels" and isinstance(value, Integral) and not isinstance(value, bool)
            ):
                continue
            if value is None or (isinstance(value, float) and value != value):
                # (pandas gives NaN, or None, for an empty cell)
                raise DataError(f"{name}[{i}] is missing ({value!r})")
            kind = "a string or a whole number" if name == "labels" else "a string"
            raise TypeError(f"{name}[{i}] must be {kind}, got {type(value).__name__}")
        labels[i] = clean_label(str(label))
    if not texts:
        raise DataError("no texts")
    return LabelledTexts(texts, labels, titles, None, where, None, {})


def once_cleaned(text: str) -> str:
    """How a text with nothing to read is empty: as written, or once cleaned (as
    `nlpkit.text.check_text` says it)."""
    if not text.strip():
        return ""
    return (
        " once cleaned (only white space and control characters, HTML tags, or HTML references "
        "to white space)"
    )


def read_texts(
    path: str | Path, text_field: str = "text", title_field: str | None = None
) -> tuple[list[str], list[str]]:
    """The texts (and titles) of an unlabelled file, in the formats of `read_file`, or plain
    text (``.txt``, gzipped or not: one text a line, blank lines skipped): a feed.

    Without ``title_field``, a record's ``title`` is read when it has one, as `nlpkit predict
    --input` reads it. A record with nothing to read (its text and title empty) is left out
    with a warning that counts them: one empty record of a feed does not stop the rest."""
    path = Path(path)
    name_of_file = path.name.lower().removesuffix(".gz")
    if name_of_file.endswith(".txt"):
        return _plain_texts(path)
    texts: list[str] = []
    titles: list[str] = []
    empty: list[str] = []
    odd: list[str] = []
    given = title_field
    # (the default, as predict --input's: "title" where a record has it, unless it is the text)
    title_field = title_field or ("title" if text_field != "title" else "")
    for number, row, kind in _rows(path):
        where = f"{path}:{number}"
        for what, name in (("text", text_field), ("title", given)):
            if name and name not in row:
                # (plain text under a name of no format is read as CSV, its first line the
                # header: the hint is for that file, not for JSON or a file named .csv)
                plain = (
                    "; a file of plain text, one text a line, is read so when its name ends in .txt"
                    + ("" if path.is_file() else " (save the stream to such a file)")
                    if what == "text" and kind != "jsonl" and not name_of_file.endswith(_TABLES)
                    else ""
                )
                raise DataError(
                    f"{where}: no field {name!r} (fields: {', '.join(map(str, row))}); "
                    f"name the {what} field with --{what}-field{plain}"
                )
        text = _string(row[text_field], where, text_field, "text")
        title = row.get(title_field) if title_field else None
        if title is not None and not isinstance(title, str) and not given:
            # (a default's field of something else: the record is read without it, and said)
            odd.append(where)
            title = None
        title = "" if title is None else _string(title, where, title_field, "title")
        if not (has_content(text) or has_content(title)):
            empty.append(where + _empty_once_cleaned(text + title))
            continue
        texts.append(text)
        titles.append(title)
    _check_some(path, texts, empty)
    _say_odd_titles(odd, title_field)
    return texts, titles


def _plain_texts(path: Path) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    empty: list[str] = []
    with _reading(path), _open_text(path) as (data, _):
        for number, line in enumerate(data, start=1):
            if not line.strip():
                continue
            text = line.rstrip("\r\n")
            if not has_content(text):
                # (named by its line: blank lines skipped, a text's place in the list is not
                # its line)
                empty.append(f"{path}:{number}" + _empty_once_cleaned(text))
                continue
            texts.append(text)
    _check_some(path, texts, empty)
    return texts, [""] * len(texts)


def _empty_once_cleaned(text: str) -> str:
    return once_cleaned(text).replace(" once", ", empty once")


def _check_some(path: Path, texts: list[str], empty: list[str]) -> None:
    """A `DataError` for a feed with no text to read; a warning counting the records left
    out for having none."""
    if not texts:
        raise DataError(
            f"{path}: no records" + (f" with a text (e.g. {empty[0]})" if empty else "")
        )
    if empty:
        warnings.warn(
            f"{len(empty):,} record{'s' * (len(empty) != 1)} with nothing to read (an empty "
            f"text and no title) left out, e.g. {empty[0]}",
            stacklevel=3,
        )
