"""Labelled training examples from the corpora: which records train, and with which labels.

Records are read and split by the held-out rule (`read_parts`); the training records get their
label from the config's recipe (weak labels of `nlpkit.weak`, the section table, or the raw
section), from hand labels, or from a label model learned from those (`label_records`). Each
way of labelling is a function from records to examples; a new source of labels (a user's
file, `nlpkit.training.userdata`) adds its examples to the list before headlines are copied.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from glob import glob
from pathlib import Path
from typing import Any

from ..cache import SegmentCache, prepare_many
from ..corpus import CorpusReport, Record, default_data_dir, is_heldout, read_corpus
from ..modelfile import file_sha256
from ..text import prepare
from ..topics import NONE, TOPICS, section_topic
from ..weak import BOUNDARY_RULES, LABELLING_FUNCTIONS, LearnedVote, WeakLabel, label_record, votes
from .parallel import fork_map, fork_strings, resolve_jobs
from .progress import Progress

__all__ = [
    "Label",
    "Example",
    "CorpusParts",
    "read_labels",
    "read_parts",
    "split_records",
    "label_records",
    "label_of",
    "truth_of",
    "snippet_records",
    "with_headlines",
    "hand_labels",
    "training_inputs",
    "prepare_records",
]

# A training label: the topic, the sample weight, and what decided it: "hand", "section",
# "file" (a user's file), or the labelling function whose evidence did.
Label = tuple[str, float, str]
Example = tuple[Record, Label]


def read_labels(path: str | Path) -> dict[str, str]:
    """A hand-labelled sample: a TSV with columns ``id`` and ``topic`` (more columns ignored).

    A topic is one of the four or ``none`` (out of scope); a row with another value, no id, or
    an id given twice with two topics is an error naming the file and line.
    """
    path = Path(path)
    known = (*TOPICS, NONE)
    labels: dict[str, str] = {}
    try:
        with path.open(encoding="utf-8", newline="") as rows:
            reader = csv.DictReader(rows, delimiter="\t")
            if not reader.fieldnames or not {"id", "topic"} <= set(reader.fieldnames):
                raise ValueError(f"{path}: expected a header with 'id' and 'topic' columns")
            for line, row in enumerate(reader, start=2):
                rid, topic = row.get("id") or "", row.get("topic") or ""
                if not rid or topic not in known:
                    raise ValueError(
                        f"{path}:{line}: expected an id and one of {', '.join(known)}, "
                        f"got {rid!r} and {topic!r}"
                    )
                if labels.get(rid, topic) != topic:
                    raise ValueError(f"{path}:{line}: {rid} is labelled twice, differently")
                labels[rid] = topic
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 ({exc.reason})") from None
    return labels


# The hand-label files of a config, and what each kind is called in an error.
LABEL_FILES = {
    "train_labels": "training labels",
    "dev_labels": "development labels",
    "eval_labels": "hand labels",
    "boundary_labels": "boundary labels",
}


def check_label_files(cfg: dict[str, Any], keys: Iterable[str] = LABEL_FILES) -> None:
    """Refuse a config whose hand-label files (those of ``keys``) are not all there: checked
    before the corpora are read, which takes a minute, rather than when the labels are."""
    for key in keys:
        for path in cfg["data"][key]:
            _exists(path, LABEL_FILES[key])


def check_inputs(cfg: dict[str, Any]) -> None:
    """Refuse, before any of them is read, a config whose corpora, hand labels or snippet
    pages are not all there (a typo found after the corpora were read cost a minute)."""
    from ..corpus import check_corpus_file

    check_label_files(cfg)
    for path in corpus_paths(cfg):
        check_corpus_file(path)
    for pattern in cfg["data"]["snippets"]:
        if not glob(pattern):
            raise ValueError(_no_snippets(pattern))


def _no_snippets(pattern: str) -> str:
    return (
        f"'data.snippets' pattern {pattern!r} matches no file (relative patterns are read from "
        "the working directory)"
    )


def _exists(path: str, what: str) -> None:
    if not Path(path).is_file():
        raise ValueError(
            f"{what} not found: {path} (relative paths of a config are read from the "
            "working directory: run from the repository's root, or give the path)"
        )


def hand_labels(paths: Iterable[str], what: str = "hand labels") -> dict[str, str]:
    """The hand labels of every file named; a missing file is an error, never an empty sample
    (a development sample that silently vanished would leak into training)."""
    labels: dict[str, str] = {}
    for path in paths:
        _exists(path, what)
        labels.update(read_labels(path))
    return labels


def label_column(paths: list[str], column: str) -> dict[str, str]:
    """One more column of hand-label files (the kind of a boundaries text), by id."""
    out: dict[str, str] = {}
    for path in paths:
        with open(path, encoding="utf-8", newline="") as rows:
            for row in csv.DictReader(rows, delimiter="\t"):
                out[row["id"]] = row.get(column) or ""
    return out


def corpus_paths(cfg: dict[str, Any]) -> list[Path]:
    d = cfg["data"]
    return [Path(p) for p in d["corpora"]] or [default_data_dir() / name for name in d["files"]]


def split_records(
    records: list[Record], cfg: dict[str, Any]
) -> tuple[list[Record], list[Record], list[Record]]:
    """Training records, held-out records, and the held-out records that share no text with
    the training part (the benchmark's figure without copies; the held-out part otherwise)."""
    datasets = set(cfg["data"]["datasets"])
    records = [r for r in records if r.source_dataset in datasets]
    if cfg["data"]["split"] == "vntc":
        # VNTC's published protocol: every Train_Full file, copies of test files included.
        train = [r for r in records if r.split == "Train_Full"]
        test = [r for r in records if r.split == "Test_Full"]
        copied = {r.duplicate_of for r in train if r.duplicate_of is not None}
        unique = [r for r in test if r.duplicate_of is None and r.id not in copied]
        return train, test, unique
    heldout = [r for r in records if is_heldout(r)]
    # A copy of a training text adds nothing but weight; a copy of a held-out text is held out,
    # whether the corpus says so (duplicate_of) or its title and text say so (today's news
    # repeats a few items of April in the months before).
    seen = {(r.title, r.text) for r in heldout}
    train = [
        r
        for r in records
        if not is_heldout(r) and r.duplicate_of is None and (r.title, r.text) not in seen
    ]
    return train, heldout, heldout


@dataclass
class CorpusParts:
    """The corpora of a config, split: what trains, what is held out, what is for tuning."""

    paths: list[Path]
    report: CorpusReport
    train: list[Record]
    heldout: list[Record]
    unique_heldout: list[Record]
    dev: list[Record]
    dev_ids: set[str]
    # ids of records that train nothing though they are not held out: copies of held-out
    # texts, and the records of corpus files that data.train_files leaves out
    excluded: set[str] = field(default_factory=set)
    # the development sample's hand labels (id -> topic)
    dev_labels: dict[str, str] = field(default_factory=dict)


def read_parts(cfg: dict[str, Any]) -> CorpusParts:
    """Read the config's corpora and split them by the held-out rule; the development sample
    (hand-labelled, for tuning) is kept out of the training records."""
    d = cfg["data"]
    paths = corpus_paths(cfg)
    report = CorpusReport()
    records = list(read_corpus(paths, report))
    train, heldout, unique = split_records(records, cfg)
    dev_labels = hand_labels(d["dev_labels"], "development labels")
    dev_ids = set(dev_labels)
    dev = [r for r in train if r.id in dev_ids]
    # Texts the corpora hold that train nothing: the training part's copies of a held-out
    # text (by title and text), and the records of files data.train_files leaves out.
    trained = {r.id for r in train}
    datasets = set(d["datasets"])
    excluded = {
        r.id
        for r in records
        if r.source_dataset in datasets
        and r.duplicate_of is None
        and not is_heldout(r)
        and r.id not in trained
    }
    if d["train_files"]:
        allowed = set(d["train_files"])
        excluded |= {r.id for r in train if r.file not in allowed}
        train = [r for r in train if r.file in allowed]
    train = [r for r in train if r.id not in dev_ids]
    return CorpusParts(paths, report, train, heldout, unique, dev, dev_ids, excluded, dev_labels)


def label_of(record: Record, cfg: dict[str, Any], weak: WeakLabel | None = None) -> Label | None:
    """The training label and sample weight of a record under the config's labels recipe
    (``weak``: its label from a learned label model, when the config asks for one)."""
    d = cfg["data"]
    factor = float(d["weights"].get(record.source_dataset, 1.0))
    recipe = d["labels"]
    if recipe == "section":
        return record.source_category, factor, "section"
    if recipe == "mapped":
        topic = section_topic(record.source_dataset, record.source_category)
        if topic is None or (topic == NONE and d["out_of_scope"] == "drop"):
            return None
        return topic, factor, "section"
    weak = weak or label_record(record, d["without_functions"])
    if weak.topic is None or weak.confidence < d["min_confidence"]:
        return None
    if weak.topic == NONE and d["out_of_scope"] == "drop":
        return None
    if weak.rule in BOUNDARY_RULES:
        factor *= d["boundary_weight"]
    return weak.topic, weak.confidence * factor, weak.rule


def truth_of(record: Record, cfg: dict[str, Any]) -> str | None:
    """The distant label a held-out record is scored against: its section for the section
    recipe, else its weak label (the same for every topic recipe, so runs compare); a record
    of a user's file, its own label."""
    if cfg["data"]["labels"] == "section" or record.source_dataset == "file":
        return record.source_category
    return label_record(record).topic


def snippet_records(patterns: list[str]) -> list[Record]:
    """The related-news snippets of the news pages matching ``patterns`` (globs), as records
    with no section, so that only the labelling functions can label them. A pattern that
    matches no page is an error: a recipe silently without its snippets is another recipe."""
    from ..pages import read_page

    records = []
    for pattern in patterns:
        paths = sorted(glob(pattern))
        if not paths:
            raise ValueError(_no_snippets(pattern))
        for path in paths:
            for i, snippet in enumerate(read_page(path).related):
                records.append(
                    Record(
                        id=f"snippet-{Path(path).stem}-{i}",
                        source_dataset="snippets",
                        source_category="",
                        title=snippet.title,
                        text=snippet.lead,
                        text_kind="title_sapo",
                    )
                )
    return records


def training_hand_labels(
    cfg: dict[str, Any], train: list[Record], parts: CorpusParts
) -> dict[str, str]:
    """The hand labels a config trains on, after checking that none of them is a held-out or a
    development text, and that every one is a record of the training part."""
    hand = hand_labels(cfg["data"]["train_labels"], "training labels")
    for name, ids in (("held-out", {r.id for r in parts.heldout}), ("development", parts.dev_ids)):
        clash = sorted(ids & hand.keys())
        if clash:
            raise ValueError(f"training labels name {len(clash)} {name} texts, e.g. {clash[0]}")
    known = {r.id for r in train}
    missing = sorted(hand.keys() - known - parts.excluded)
    if missing:
        raise ValueError(
            f"training labels name {len(missing)} texts the corpora do not hold, e.g. {missing[0]}"
        )
    # Texts of corpus files that data.train_files leaves out train nothing, hand-labelled or not.
    return {i: t for i, t in hand.items() if i in known}


def label_records(
    records: list[Record], hand: dict[str, str], cfg: dict[str, Any]
) -> list[Example]:
    """The examples of ``records``: a hand label where there is one (with the config's weight),
    else the recipe's label (from a label model learned from the hand labels, when the config
    asks for it); records without a label are left out."""
    d = cfg["data"]
    learned: dict[str, WeakLabel] = {}
    if d["label_model"] == "learned":
        lfs = [f for f in LABELLING_FUNCTIONS if f.name not in d["without_functions"]]
        vote = LearnedVote(lfs).fit([r for r in records if r.id in hand], hand)
        rest = [r for r in records if r.id not in hand]
        learned = {r.id: w for r, w in zip(rest, vote.label_many(rest, _votes(rest, lfs, cfg)))}
    weight = d["train_label_weight"]

    def label(record: Record) -> Label | None:
        if record.id not in hand:
            return label_of(record, cfg, learned.get(record.id))
        topic = hand[record.id]
        if topic == NONE and d["out_of_scope"] == "drop":
            return None
        return topic, weight, "hand"

    return [(r, lab) for r in records if (lab := label(r)) is not None]


def _votes(records: list[Record], lfs: list, cfg: dict[str, Any]) -> list[dict[str, str]]:
    """The labelling functions' votes of each record, in the config's processes: most of the
    labelling's time. The records are dealt to the processes in turn (the corpora come file by
    file, long articles apart from headlines), and the votes put back in order."""
    n = resolve_jobs(cfg["n_jobs"])
    order = [i for k in range(n) for i in range(k, len(records), n)]
    dealt = fork_map(partial(votes, lfs=lfs), [records[i] for i in order], n)
    out: list[dict[str, str]] = [{}] * len(records)
    for i, v in zip(order, dealt):
        out[i] = v
    return out


def with_headlines(examples: list[Example], title_weight: float) -> list[Example]:
    """``examples`` and, with a positive ``title_weight``, each titled record's headline alone
    with the label of its article: a model that has only seen whole texts under-reads short
    ones, as news lists and feeds show them."""
    if title_weight <= 0:
        return examples
    return examples + [
        (
            replace(r, id=f"{r.id}#title", text=r.title, title="", text_kind="title"),
            (t, w * title_weight, source),
        )
        for r, (t, w, source) in examples
        if r.title and r.text_kind != "title"
    ]


def corpus_examples(cfg: dict[str, Any], parts: CorpusParts) -> tuple[list[Example], int]:
    """The labelled examples of the corpora (and news pages) a config trains on, before
    headlines are added; and how many records they come from."""
    records = parts.train + snippet_records(cfg["data"]["snippets"])
    hand = training_hand_labels(cfg, records, parts)
    return label_records(records, hand, cfg), len(records)


def _sha256(path: str | Path) -> str:
    return "sha256:" + file_sha256(Path(path))


def training_inputs(cfg: dict[str, Any], corpus_paths: list[Path]) -> dict[str, dict[str, str]]:
    """The SHA-256 of every file a run reads besides its config: corpus files (by name), hand
    labels and news pages (by the path the config gives). A model whose record differs from
    the files at hand was trained on other data."""
    d = cfg["data"]
    labels = [*d["dev_labels"], *d.get("train_labels", [])]
    pages = sorted({page for pattern in d["snippets"] for page in glob(pattern)})
    return {
        "corpus": {path.name: _sha256(path) for path in corpus_paths},
        "hand_labels": {path: _sha256(path) for path in labels},
        "pages": {page: _sha256(page) for page in pages},
    }


def prepare_records(
    records: list[Record],
    cfg: dict[str, Any],
    cache: SegmentCache | None,
    progress: Progress | None = None,
) -> list[str]:
    """The records' title and text, normalised and segmented as the config says (cached)."""
    texts = [r.full_text for r in records]
    step = (progress or Progress()).step("segmentation")
    segment, max_chars = cfg["features"]["segment"], cfg["data"]["max_chars"]
    if cache is None and segment:
        # Without a cache the segmenter is the compiled one: the texts are shared out among
        # processes that see them without a copy and write what they make into shared memory
        # (sending texts to a process and back costs more than segmenting them).
        step(0, len(texts))
        # (room: a prepared text is read from the first max_chars of the normalised one)
        prepared = fork_strings(
            partial(prepare, max_chars=max_chars),
            texts,
            cfg["n_jobs"],
            room=lambda t: 4 * (min(len(t), 2 * max_chars) if max_chars else len(t)) + 64,
        )
        step(len(texts), len(texts))
        return prepared
    return prepare_many(
        texts,
        cache,
        n_jobs=resolve_jobs(cfg["n_jobs"]),
        progress=step,
        segment=segment,
        max_chars=max_chars,
    )
