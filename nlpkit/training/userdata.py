"""A user's own labelled texts (`nlpkit.training.reading`), checked and split into a training
and a held-out part.

What comes out is records of the corpora's kind (`nlpkit.corpus.Record`, ``source_dataset``
"file", the label as their section), so the rest of training treats them as any other source.
Every problem is one line naming the file, the line and what is wrong.
"""

from __future__ import annotations

import random
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from typing import Any

from ..corpus import Record
from ..text import has_content, join_title, normalize
from ..topics import NONE, name_problem
from .labels import Example
from .reading import DataError, LabelledTexts, once_cleaned, spelling

__all__ = ["UserSplit", "check", "split"]

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


def _head(title: str, text: str) -> str:
    """The start of a text as the model reads it (title first), lower-cased, in single spaces:
    its HTML, invisible characters and Unicode form read by the model's own normalisation,
    which reads as far as the start needs (a cut of the text itself could fall inside a tag,
    or before a page of markup ends)."""
    joined = join_title(title.strip(), text.lstrip())
    if not has_content(joined):
        return ""
    return " ".join(normalize(joined, max_chars=80).casefold().split())[:40]


def _copy_keys(data: LabelledTexts) -> list[Any]:
    """A key per text, the same for two texts the model reads as one: the same words in
    another Unicode form (NFC or NFD), with other white space or letter case (the terms are
    lower-cased), with invisible characters, HTML character references or tags, or with the
    title given apart or as the text's first line (the model reads a title and its text as
    those two lines). Normalising every text whole would cost as much as segmenting it: only
    texts whose starts, so normalised, meet another's are normalised whole."""
    heads = [_head(t, x) for t, x in zip(data.titles, data.texts)]
    met = Counter(heads)
    keys: list[Any] = []
    for head, title, text in zip(heads, data.titles, data.texts):
        joined = join_title(title, text) if met[head] > 1 else ""
        if joined and has_content(joined):
            keys.append(" ".join(normalize(joined).casefold().split()))
        else:
            # (a text whose start meets no other's is its own: its position is its key)
            keys.append(len(keys))
    return keys


def check(data: LabelledTexts, alone: bool = True) -> list[int]:
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
            raise DataError(f"{data.where[i]}: empty text{once_cleaned(text + title)}")
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
    for label in counts:
        problem = name_problem(label)
        if problem:  # (a label is a topic's name: printed one a line, written into TSV files)
            raise DataError(f"{data.where[data.labels.index(label)]}: label {label!r} {problem}")
    if len(counts) < 2 and alone:  # (added to a recipe, the recipe has the other labels)
        label = next(iter(counts))
        raise DataError(
            f"only one label ({label!r}) in {len(data.texts)} texts: training needs two or more"
        )
    if len(counts) == 2 and NONE in counts and alone:
        (label,) = set(counts) - {NONE}
        raise DataError(
            f"one label ({label!r}) besides none (out of scope) in {len(data.texts)} texts: "
            "training needs two or more besides none"
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
        spellings[spelling(label)].append(label)
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
        if self.path is None:
            return {}
        if not self.path.is_file():
            # (a pipe, standard input: read once, already)
            return {self.path.name: "not recorded: read from a stream"}
        from ..modelfile import file_sha256

        return {self.path.name: "sha256:" + file_sha256(self.path)}

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
    data: LabelledTexts,
    holdout: float = 0.2,
    seed: int = 0,
    weight: float = 1.0,
    alone: bool = True,
) -> UserSplit:
    """Check ``data`` and split it: by its split field when it has one, else a stratified,
    seeded share ``holdout`` of each label held out (a label's last example always trains).
    ``alone``: the model learns from these texts alone (not added to a recipe's)."""
    if isinstance(holdout, bool) or not isinstance(holdout, Real) or not 0 <= holdout < 1:
        raise DataError(f"holdout must be a share in [0, 1), got {holdout!r}")
    # (numpy's float32 too: recorded in the model's manifest, which JSON writes)
    holdout, weight = float(holdout), float(weight)
    group = check(data, alone)
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
    topics = train_labels - {NONE}
    if len(topics) < 2 and alone:  # (added to a recipe, the recipe has the other topics)
        besides = " besides none" if NONE in train_labels else ""
        raise DataError(
            f"the training part has {'one label only' if topics else 'no label'}{besides} "
            f"({', '.join(map(repr, sorted(train_labels)))}): training needs two or more"
        )
    if alone and len(heldout) > len(train):
        # (a model of a few texts a label, scored on the rest: figures of little worth, said
        # before the fit, not met as a failure deep in it)
        asked = "the split field" if data.parts is not None else f"a holdout of {holdout:g}"
        warnings.warn(
            f"{asked} trains on {len(train):,} texts and holds out {len(heldout):,}: the "
            "model learns from fewer texts than it is scored on (a holdout of 0.1-0.3 is "
            "usual)",
            stacklevel=3,
        )
    share = None if data.parts is not None else holdout
    return UserSplit(train, heldout, data.path, share, seed, data.fields, weight)
