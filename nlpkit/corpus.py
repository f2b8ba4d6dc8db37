"""Reading the news corpora, checking their records, and the held-out rule.

The held-out rule lives here and only here: whatever trains, tunes or selects must take its
records through `split_heldout` (or `is_heldout`), so no text of the evaluation part leaks into
a model.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from .text import join_title

__all__ = [
    "Record",
    "CorpusReport",
    "CorpusError",
    "read_corpus",
    "is_heldout",
    "check_corpus_file",
    "default_corpus_paths",
    "default_data_dir",
    "corpus_fingerprint",
    "sample_texts",
    "TEXT_KINDS",
]

# Where the corpora are looked for when no path is given: $NLPKIT_DATA_DIR, else ../shared/data
# relative to the working directory (a checkout with the data beside it). vntc_extra.jsonl holds
# the VNTC files raw_corpus.jsonl left out: with it, all of VNTC's published split is read.
# news_2025_26.jsonl is today's news (August 2025 to April 2026, April held out).
DEFAULT_FILES = (
    "raw_corpus.jsonl",
    "vnexpress_2020s.jsonl",
    "vntc_extra.jsonl",
    "news_2025_26.jsonl",
)

# The corpora (their source_dataset) and the period each covers, for figures by era.
ERAS = {
    "vntc": "2005-2007",
    "baomoi_tc201805": "2017-2018",
    "vnexpress_2020s": "2020s",
    "news_2025_26": "2025-26",
}
DATASETS = tuple(ERAS)

_REQUIRED = ("id", "source_dataset", "source_category", "text")
_KINDS = ("full_article", "title_sapo", "title")


class CorpusError(ValueError):
    """A corpus file cannot be read at all (missing, or not JSON lines)."""


@dataclass(frozen=True, slots=True)
class Record:
    """One news text of a corpus, with the fields the project uses."""

    id: str
    source_dataset: str
    source_category: str
    text: str
    title: str = ""
    split: str | None = None
    text_kind: str = "full_article"
    outlet: str = ""
    # The id of an earlier record with the same title and text (VNTC has such copies), and
    # whether that record is held out (None: it was not read with this one).
    duplicate_of: str | None = None
    original_heldout: bool | None = None
    # The name of the corpus file the record was read from ("" when made otherwise).
    file: str = ""
    # The publication day (YYYY-MM-DD) where the corpus gives one, else "".
    date: str = ""

    @property
    def full_text(self) -> str:
        """Title and text as one string, the input a classifier sees."""
        return join_title(self.title, self.text)

    @property
    def era(self) -> str:
        """'2005-2007', '2017-2018', '2020s' or '2025-26': the period the record's corpus
        covers."""
        return ERAS.get(self.source_dataset, "2020s")


@dataclass
class CorpusReport:
    """What reading a corpus met: how many records, and which lines were skipped and why."""

    records: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    max_errors: int = 20

    def skip(self, path: Path, line_no: int, reason: str) -> None:
        self.skipped += 1
        if len(self.errors) < self.max_errors:
            self.errors.append(f"{path.name}:{line_no}: {reason}")

    def summary(self) -> str:
        text = f"{self.records} records read, {self.skipped} malformed lines skipped"
        if self.errors:
            shown = "\n  ".join(self.errors)
            more = self.skipped - len(self.errors)
            text += f":\n  {shown}" + (f"\n  ... and {more} more" if more > 0 else "")
        return text


def _parse(line: str) -> Record:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    missing = [key for key in _REQUIRED if key not in obj]
    if missing:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    for key in ("id", "source_dataset", "source_category", "text", "title", "outlet", "date"):
        value = obj.get(key, "")
        # Today's news gives a section for one item in five: the rest have none.
        if value is None and key in ("title", "outlet", "source_category", "date"):
            continue
        if not isinstance(value, str):
            raise ValueError(f"field {key!r} must be a string, got {type(value).__name__}")
    if not obj["text"].strip() and not (obj.get("title") or "").strip():
        raise ValueError("empty text and title")
    split = obj.get("split")
    if split is not None and not isinstance(split, str):
        raise ValueError(f"field 'split' must be a string or null, got {type(split).__name__}")
    kind = obj.get("text_kind") or "full_article"
    if kind not in _KINDS:
        raise ValueError(f"unknown text_kind {kind!r}")
    duplicate_of = obj.get("duplicate_of")
    if duplicate_of is not None and not (isinstance(duplicate_of, str) and duplicate_of):
        raise ValueError("field 'duplicate_of' must be a record id or null")
    return Record(
        id=obj["id"],
        source_dataset=obj["source_dataset"],
        source_category=obj["source_category"] or "",
        text=obj["text"],
        title=obj.get("title") or "",
        split=split,
        text_kind=kind,
        outlet=obj.get("outlet") or "",
        duplicate_of=duplicate_of,
        date=obj.get("date") or "",
    )


def read_corpus(
    paths: Iterable[str | Path] | str | Path | None = None,
    report: CorpusReport | None = None,
) -> Iterator[Record]:
    """Yield the records of one or more JSON-lines corpus files, in file order.

    A malformed line (bad JSON, missing field, wrong type) is skipped and counted in ``report``
    with its file and line number; it never ends the read. A missing file raises `CorpusError`.
    A copy (``duplicate_of``) learns whether its original, read earlier, is held out: a copy of
    a held-out text is held out too (`is_heldout`).
    """
    if paths is None:
        paths = default_corpus_paths()
    elif isinstance(paths, (str, Path)):
        paths = [paths]
    report = report if report is not None else CorpusReport()
    seen: set[str] = set()
    heldout: set[str] = set()
    for path in map(Path, paths):
        check_corpus_file(path)
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line_no, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    record = _parse(line)
                except ValueError as exc:
                    report.skip(path, line_no, str(exc))
                    continue
                if record.id in seen:
                    report.skip(path, line_no, f"duplicate id {record.id!r}")
                    continue
                seen.add(record.id)
                original = None
                if record.duplicate_of is not None and record.duplicate_of in seen:
                    original = record.duplicate_of in heldout
                record = replace(record, original_heldout=original, file=path.name)
                if is_heldout(record):
                    heldout.add(record.id)
                report.records += 1
                yield record


def check_corpus_file(path: Path) -> None:
    """A `CorpusError` for a corpus path that is no file to read (missing, a folder, a pipe)."""
    if not path.is_file():
        what = "not a regular file" if path.exists() else "not found"
        raise CorpusError(f"corpus file {what}: {path}")


def is_heldout(record: Record) -> bool:
    """True for the held-out part, which no training, tuning or selection may see.

    The rule of the data documentation: VNTC's ``Test_Full`` split; the baomoi records whose
    SHA-1 of the id is 0 modulo 5; the ``validate`` split of VnExpress 2020s and of today's
    news (April 2026); a copy of a held-out record. A record of an unknown corpus counts as held out, and so does a copy whose original
    was not read with it, so new data never leaks into training by accident.
    """
    if record.duplicate_of is not None and record.original_heldout is not False:
        return True
    if record.source_dataset == "vntc":
        return record.split == "Test_Full"
    if record.source_dataset == "baomoi_tc201805":
        return int(hashlib.sha1(record.id.encode("utf-8")).hexdigest(), 16) % 5 == 0
    if record.source_dataset in ("vnexpress_2020s", "news_2025_26"):
        return record.split == "validate"
    return True


def default_data_dir() -> Path:
    """$NLPKIT_DATA_DIR, or ../shared/data from the working directory."""
    return Path(os.environ.get("NLPKIT_DATA_DIR") or Path("..", "shared", "data"))


def default_corpus_paths() -> list[Path]:
    """The corpus files in `default_data_dir`."""
    return [default_data_dir() / name for name in DEFAULT_FILES]


def corpus_fingerprint(paths: Iterable[str | Path]) -> str:
    """A SHA-256 over the corpus files' bytes: two models trained on equal data share it."""
    digest = hashlib.sha256()
    for path in map(Path, paths):
        with path.open("rb") as data:
            for block in iter(lambda: data.read(1 << 20), b""):
                digest.update(block)
    return "sha256:" + digest.hexdigest()


# The kinds of text users send, and where the corpora hold real examples of each: VnExpress
# headlines (~45 characters), VnExpress title + lead (~180), VNTC full articles (~1,900).
TEXT_KINDS = {
    "headline": ("vnexpress_2020s.jsonl", lambda r: r.title),
    "title_lead": ("vnexpress_2020s.jsonl", lambda r: r.full_text),
    "full_article": (
        "raw_corpus.jsonl",
        lambda r: r.full_text if r.source_dataset == "vntc" else "",
    ),
}


def sample_texts(kind: str, n: int = 1000, folder: str | Path | None = None) -> list[str]:
    """``n`` real texts of one kind (a key of `TEXT_KINDS`) from the corpora in ``folder``
    (default: `default_data_dir`), the same ones on every call: records in the order of a hash
    of their id, so the sample is spread over sections and years. For benchmarks and
    comparisons, never for training."""
    if kind not in TEXT_KINDS:
        raise ValueError(f"unknown text kind {kind!r} (known: {', '.join(TEXT_KINDS)})")
    name, text_of = TEXT_KINDS[kind]
    path = Path(folder or default_data_dir()) / name
    keyed = []
    for record in read_corpus(path):
        text = text_of(record)
        if text.strip():
            keyed.append((hashlib.sha1(record.id.encode("utf-8")).digest(), text))
    keyed.sort()
    return [text for _, text in keyed[:n]]
