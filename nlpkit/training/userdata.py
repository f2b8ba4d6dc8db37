"""A user's own labelled texts: read from a file (JSON lines or CSV, gzipped or not) or given as
lists, checked, and split into a training and a held-out part.

What comes out is records of the corpora's kind (`nlpkit.corpus.Record`, ``source_dataset``
"file", the label as their section), so the rest of training treats them as any other source.
Every problem is one line naming the file, the line and what is wrong.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import random
import unicodedata
import warnings
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import Any

from ..corpus import Record
from ..text import _is_sequence, has_content, join_title, normalize
from ..topics import NONE
from .labels import Example

__all__ = [
    "DataError",
    "LabelledTexts",
    "UserSplit",
    "data_name",
    "read_file",
    "from_lists",
    "split",
]

# Values of a split field: these train; those are held out. Any other value is an error.
TRAIN_VALUES = ("train", "training")
HELDOUT_VALUES = (
    "test",
    "heldout",
    "held-out",
    "held_out",
    "validation",
    "valid",
    "validate",
    "dev",
    "eval",
)


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


def _open_text(path: Path):
    # gzip data is known by its first bytes, whatever the name (.GZ, none at all)
    with path.open("rb") as probe:
        packed = probe.read(2) == b"\x1f\x8b"
    raw = gzip.open(path, "rb") if packed else path.open("rb")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


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


def _format(path: Path, first: str) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    last = suffixes[-1] if suffixes else ""
    if last in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if last in (".csv", ".tsv"):
        return last[1:]
    return "jsonl" if first.lstrip().startswith("{") else "csv"


def _rows(path: Path):
    """(line number, dict) of every record of the file."""
    with _reading(path), _open_text(path) as data:
        head = data.read(4096)
        data.seek(0)
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
                    raise DataError(
                        f"{path}:{number}: expected a JSON object, got {type(row).__name__}"
                    )
                yield number, row
            return
        reader = csv.DictReader(data, delimiter="\t" if kind == "tsv" else ",", strict=True)
        done = 1  # the last line of the last record read whole
        try:
            with _long_fields():
                if not reader.fieldnames:
                    raise DataError(f"{path}: empty file, expected a header line")
                columns = len(reader.fieldnames)
                if columns == 1 and ";" in reader.fieldnames[0]:
                    raise DataError(
                        f"{path}:1: one column named {reader.fieldnames[0]!r}: a CSV file's "
                        "values are separated by commas (tabs in .tsv), not semicolons"
                    )
                for row in reader:
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
                    yield reader.line_num, row
                    done = reader.line_num
        except csv.Error as exc:
            raise DataError(
                f"{path}:{done + 1}: malformed CSV ({exc}): a stray quote? A field that "
                'holds quotes is quoted, with its quotes doubled: "say ""hi"""'
            ) from None


def _string(value: Any, where: str, name: str, what: str) -> str:
    if isinstance(value, str):
        return value
    if what == "label" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    got = "null" if value is None else type(value).__name__
    raise DataError(f"{where}: field {name!r} ({what}) must be a string, got {got}")


def data_name(path: str | Path) -> str:
    """The name of a data file without its kind (``news.2024.csv.gz``: ``news.2024``): what
    names the model trained on it, and its folder by default."""
    name = Path(path).name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    stem, dot, kind = name.rpartition(".")
    if dot and kind.lower() in ("jsonl", "json", "ndjson", "csv", "tsv", "txt"):
        name = stem
    return name.lstrip(".") or "data"


def read_file(
    path: str | Path,
    text_field: str = "text",
    label_field: str = "label",
    title_field: str | None = None,
    split_field: str | None = None,
) -> LabelledTexts:
    """Read a labelled file: JSON lines (one object a line) or CSV with a header (``.tsv``:
    tab-separated), either gzipped (``.gz``). Fields are named by the arguments."""
    path = Path(path)
    wanted = {"text": text_field, "label": label_field, "title": title_field, "split": split_field}
    for what, name in wanted.items():
        if name is not None and (not isinstance(name, str) or not name):
            # (an empty name read no field, and failed on the first record's look-up)
            raise ValueError(f"{what}_field must be the name of a field, got {name!r}")
    out = LabelledTexts([], [], [], [] if split_field else None, [], path, wanted)
    for number, row in _rows(path):
        where = f"{path}:{number}"
        for what, name in wanted.items():
            if name and name not in row:
                option = {"text": "--text-field", "label": "--label-field"}.get(
                    what, f"--{what}-field"
                )
                raise DataError(
                    f"{where}: no field {name!r} (fields: {', '.join(map(str, row))}); "
                    f"name the {what} field with {option}"
                )
        out.texts.append(_string(row[text_field], where, text_field, "text"))
        out.labels.append(_string(row[label_field], where, label_field, "label").strip())
        title = row.get(title_field) if title_field else ""
        out.titles.append("" if title is None else _string(title, where, title_field, "title"))
        if split_field:
            out.parts.append(_string(row[split_field], where, split_field, "split").strip().lower())
        out.where.append(where)
    if not out.texts:
        raise DataError(f"{path}: no records")
    return out


def from_lists(
    texts: Sequence[str], labels: Sequence[Any], titles: Sequence[str] | None = None
) -> LabelledTexts:
    """Texts and labels given in Python (lists, arrays, Series)."""
    for name, value in (("texts", texts), ("labels", labels), ("titles", titles)):
        # (a string is a sequence of characters, a dict one of its keys: neither is meant)
        if value is not None and not _is_sequence(value):
            raise TypeError(
                f"{name} must be a list, tuple, numpy array or pandas Series, "
                f"not {type(value).__name__}"
            )
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise DataError(f"{len(texts)} texts but {len(labels)} labels")
    titles = [""] * len(texts) if titles is None else list(titles)
    if len(titles) != len(texts):
        raise DataError(f"{len(texts)} texts but {len(titles)} titles")
    where = [f"texts[{i}]" for i in range(len(texts))]
    for i, (text, label, title) in enumerate(zip(texts, labels, titles)):
        for name, value in (("texts", text), ("titles", title), ("labels", label)):
            # (numbered classes are names, numpy's integers too: a label array as scikit-learn
            # takes it; numpy's bool is no Integral)
            if not isinstance(value, str) and not (
                name == "labels" and isinstance(value, Integral) and not isinstance(value, bool)
            ):
                raise DataError(f"{name}[{i}] must be a string, got {type(value).__name__}")
        labels[i] = str(label).strip()
    if not texts:
        raise DataError("no texts")
    return LabelledTexts(texts, labels, titles, None, where, None, {})


def _once_cleaned(text: str) -> str:
    return " once cleaned (only white space and control characters)" if text.strip() else ""


def _head(text: str) -> str:
    # (white space at the start is cut after the slice: a text that opens with more than the
    # slice only meets others like it, which are then compared whole)
    return " ".join(unicodedata.normalize("NFC", text[:120]).split())[:40]


def _copy_keys(data: LabelledTexts) -> list[Any]:
    """A key per text, the same for two texts the model reads as one: the same words in
    another Unicode form (NFC or NFD) or with other white space. Normalising every text would
    cost as much as segmenting it: only texts whose starts, so normalised, meet another's are
    normalised whole."""
    heads = [(_head(title), _head(text)) for title, text in zip(data.titles, data.texts)]
    met = Counter(heads)
    keys: list[Any] = []
    for head, title, text in zip(heads, data.titles, data.texts):
        if met[head] > 1 and has_content(title + text):
            keys.append(" ".join(normalize(join_title(title, text)).split()))
        else:
            keys.append((title.strip(), text.strip()))
    return keys


def check(data: LabelledTexts) -> list[int]:
    """Refuse what cannot be trained on (an empty text or label, a single label, a text both
    trained on and held out by the file's split field) and warn of what may be a mistake
    (texts given more than once, with one label or several; labels with one example). Returns
    each text's group: the index of the first text equal to it (in another Unicode form or
    white space too), so that a text and its copies are always on the same side of a split."""
    first: dict[Any, int] = {}
    group: list[int] = []
    repeats: list[int] = []
    conflicts: list[tuple[int, int]] = []
    keys = _copy_keys(data)
    for i, (text, title, label) in enumerate(zip(data.texts, data.titles, data.labels)):
        if not has_content(text) and not has_content(title):
            raise DataError(f"{data.where[i]}: empty text{_once_cleaned(text + title)}")
        if not label:
            raise DataError(f"{data.where[i]}: empty label")
        j = first.setdefault(keys[i], i)
        group.append(j)
        if j == i:
            continue
        if data.parts is not None and data.parts[j] != data.parts[i]:
            raise DataError(
                f"{data.where[i]}: the same text as {data.where[j]}, one in the training "
                "part and one held out (a held-out text must be new to the model)"
            )
        if data.labels[j] != label:
            conflicts.append((i, j))
        else:
            repeats.append(i)
    if repeats:
        i = repeats[0]
        warnings.warn(
            f"{len(repeats)} texts repeat an earlier one with the same label (e.g. "
            f"{data.where[i]} = {data.where[group[i]]}); copies are trained as given",
            stacklevel=3,
        )
    if conflicts:
        i, j = conflicts[0]
        warnings.warn(
            f"{len(conflicts)} texts repeat an earlier one with another label (e.g. "
            f"{data.where[i]} {data.labels[i]!r} = {data.where[j]} {data.labels[j]!r}); "
            "trained as given",
            stacklevel=3,
        )
    data.fields = {**data.fields, "repeated": len(repeats), "relabelled_copies": len(conflicts)}
    counts = Counter(data.labels)
    if len(counts) < 2:
        label = next(iter(counts))
        raise DataError(
            f"only one label ({label!r}) in {len(data.texts)} texts: training needs two or more"
        )
    # (a label whose one text the split field holds out is not trained on: the warning of
    # held-out labels no training text has says so, after the fit)
    trained = (
        counts
        if data.parts is None
        else Counter(label for label, part in zip(data.labels, data.parts) if part in TRAIN_VALUES)
    )
    single = sorted(label for label, n in counts.items() if n == 1 and trained[label])
    if single:
        warnings.warn(
            f"{len(single)} label(s) with one example ({', '.join(map(repr, single[:5]))}): "
            "they are trained on but cannot be held out, and are poorly learned",
            stacklevel=3,
        )
    for label in sorted(counts):
        if label != NONE and label.casefold().strip() == NONE:
            warnings.warn(
                f"label {label!r} is a class of its own: out of scope, which a model answers "
                f"None for with allow_none, is the label {NONE!r}",
                stacklevel=3,
            )
    spellings = defaultdict(list)
    for label in sorted(counts):
        spellings[" ".join(label.casefold().split())].append(label)
    alike = [names for names in spellings.values() if len(names) > 1]
    if alike:
        # (trained as given: two classes, each with part of what is likely one)
        warnings.warn(
            f"labels that differ only in case or spacing are different classes: "
            f"{', '.join(' and '.join(map(repr, names)) for names in alike[:3])}",
            stacklevel=3,
        )
    return group


@dataclass
class UserSplit:
    """A user's records, split; ``weight``: the sample weight of their labels."""

    train: list[Record]
    heldout: list[Record]
    path: Path | None
    holdout: float | None  # None: the file's split field decided
    seed: int
    fields: dict[str, Any]
    weight: float = 1.0

    def examples(self) -> list[Example]:
        return [(r, (r.source_category, self.weight, "file")) for r in self.train]

    def inputs(self) -> dict[str, str]:
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest() if self.path else ""
        return {self.path.name: "sha256:" + digest} if self.path else {}

    def describe(self) -> dict[str, Any]:
        return {
            "file": self.path.name if self.path else None,
            "fields": self.fields,
            "holdout": self.holdout,
            "seed": self.seed,
            "weight": self.weight,
            "train": len(self.train),
            "heldout": len(self.heldout),
            "labels": dict(sorted(Counter(r.source_category for r in self.train).items())),
        }


def split(
    data: LabelledTexts, holdout: float = 0.2, seed: int = 0, weight: float = 1.0
) -> UserSplit:
    """Check ``data`` and split it: by its split field when it has one, else a stratified,
    seeded share ``holdout`` of each label held out (a label's last example always trains)."""
    if isinstance(holdout, bool) or not isinstance(holdout, Real) or not 0 <= holdout < 1:
        raise DataError(f"holdout must be a share in [0, 1), got {holdout!r}")
    group = check(data)
    n = len(data.texts)
    if data.parts is not None:
        unknown = sorted(set(data.parts) - set(TRAIN_VALUES) - set(HELDOUT_VALUES))
        if unknown:
            i = data.parts.index(unknown[0])
            raise DataError(
                f"{data.where[i]}: split value {unknown[0]!r} is neither training "
                f"({', '.join(TRAIN_VALUES)}) nor held out ({', '.join(HELDOUT_VALUES)})"
            )
        held = {i for i, part in enumerate(data.parts) if part in HELDOUT_VALUES}
        if len(held) == n:
            raise DataError("every text is in the held-out part: nothing to train on")
    else:
        # Stratified by label, a text and its copies as one (under the first one's label).
        by_label: dict[str, list[int]] = defaultdict(list)
        for i, label in enumerate(data.labels):
            if group[i] == i:
                by_label[label].append(i)
        rng = random.Random(seed)
        chosen = set()
        for label in sorted(by_label):
            members = by_label[label]
            rng.shuffle(members)
            take = min(round(len(members) * holdout), len(members) - 1)
            chosen.update(members[:take])
        held = {i for i in range(n) if group[i] in chosen}
        # A label whose only texts are copies of another label's held-out texts would be
        # held out whole, and never learned: the first of its copies trains.
        trained = {data.labels[i] for i in range(n) if i not in held}
        for i in range(n):
            if data.labels[i] not in trained:
                chosen.discard(group[i])
                members = {k for k in range(n) if group[k] == group[i]}
                held -= members
                trained.update(data.labels[k] for k in members)
    records = [
        Record(
            id=f"file-{i}",
            source_dataset="file",
            source_category=label,
            text=text,
            title=title,
        )
        for i, (text, title, label) in enumerate(zip(data.texts, data.titles, data.labels))
    ]
    train = [r for i, r in enumerate(records) if i not in held]
    heldout = [r for i, r in enumerate(records) if i in held]
    train_labels = {r.source_category for r in train}
    if len(train_labels) < 2:
        raise DataError(f"the training part has one label only ({next(iter(train_labels))!r})")
    share = None if data.parts is not None else holdout
    return UserSplit(train, heldout, data.path, share, seed, data.fields, weight)


def read_texts(
    path: str | Path, text_field: str = "text", title_field: str | None = None
) -> tuple[list[str], list[str]]:
    """The texts (and titles) of an unlabelled file, in the formats of `read_file`, or plain
    text (``.txt``, gzipped or not: one text a line, blank lines skipped): a feed."""
    path = Path(path)
    name_of_file = path.name.lower().removesuffix(".gz")
    if name_of_file.endswith(".txt"):
        return _plain_texts(path)
    texts: list[str] = []
    titles: list[str] = []
    for number, row in _rows(path):
        where = f"{path}:{number}"
        for what, name in (("text", text_field), ("title", title_field)):
            if name and name not in row:
                plain = (
                    "; a file of plain text, one text a line, is read so when its name ends in .txt"
                    if what == "text" and not name_of_file.endswith((".jsonl", ".json", ".ndjson"))
                    else ""
                )
                raise DataError(
                    f"{where}: no field {name!r} (fields: {', '.join(map(str, row))}); "
                    f"name the {what} field with --{what}-field{plain}"
                )
        text = _string(row[text_field], where, text_field, "text")
        title = row.get(title_field) if title_field else ""
        title = "" if title is None else _string(title, where, title_field, "title")
        if not (has_content(text) or has_content(title)):
            raise DataError(f"{where}: empty text{_once_cleaned(text + title)}")
        texts.append(text)
        titles.append(title)
    if not texts:
        raise DataError(f"{path}: no records")
    return texts, titles


def _plain_texts(path: Path) -> tuple[list[str], list[str]]:
    with _reading(path), _open_text(path) as data:
        texts = [line.rstrip("\r\n") for line in data if line.strip()]
    if not texts:
        raise DataError(f"{path}: no records")
    return texts, [""] * len(texts)
