"""Labels of an unlabelled feed: what a teacher model is sure of, and what the boundary rules
of the topic definitions settle. The label source of self-training (``data.self_training``)
and of `nlpkit.adapt`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..corpus import Record
from ..weak import BOUNDARY_RULES, label_record

if TYPE_CHECKING:
    from ..predictor import Predictor

__all__ = ["feed_labels", "feed_records"]

# A training label: the topic, the sample weight, and what decided it.
Label = tuple[str, float, str]


def feed_records(
    texts: Sequence[str], titles: Sequence[str] | None = None, source: str = "feed"
) -> list[Record]:
    """Records of a feed's texts (with their titles, where given), numbered in order, with no
    section: only their text speaks for them."""
    titles = titles if titles is not None else [""] * len(texts)
    if len(titles) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(titles)} titles")
    return [
        Record(
            id=f"{source}-{i}",
            source_dataset=source,
            source_category="",
            text=text,
            title=title or "",
            text_kind="title_sapo" if title else "full_article",
        )
        for i, (text, title) in enumerate(zip(texts, titles))
    ]


def feed_labels(
    teacher: Predictor,
    records: Sequence[Record],
    threshold: float = 0.9,
    functions: bool = True,
) -> list[Label | None]:
    """A training label for each record, or None where nothing is sure enough.

    A boundary rule of the topic definitions (fuel crime and price knock-on, an energy
    company's finances, diplomacy in the lead, a story set abroad) decides first: those are
    the cases a model trained on section hints gets wrong. Then the ``teacher``'s answer, where
    its probability is at least ``threshold`` (with its out-of-scope detector, where it has
    one: a feed has out-of-scope news too), but for a text with no term it knows. Then the
    other labelling functions. A record's section, if it has one, is not read: a feed has none.
    The functions label only with the teacher's own classes.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    records = list(records)
    if not records:
        return []
    probs = teacher.predict_proba([r.full_text for r in records], allow_none=teacher.none)
    # The labelling functions speak of the four topics and out of scope: their labels are
    # taken only where the teacher has that class (a model of a newsroom's own sections has
    # none of them, and would be given classes it never had).
    known = set(teacher.classes)
    out: list[Label | None] = []
    for record, p in zip(records, probs):
        weak = label_record(replace(record, source_category="")) if functions else None
        if weak is not None and weak.topic not in known:
            weak = None
        best = max(p, key=p.get)
        # A text with no term the teacher knows is "none" for want of evidence (nlpkit's
        # answer then: none 1, every topic 0), which says nothing of what it is about.
        blind = p.get("none") == 1.0 and not any(p[t] for t in teacher.topics)
        if weak is not None and weak.topic is not None and weak.rule in BOUNDARY_RULES:
            out.append((weak.topic, weak.confidence, weak.rule))
        elif p[best] >= threshold and not blind:
            # The weight to two decimals: the teacher's probabilities move by up to 2e-6 with
            # the machine's BLAS (its fit's last bits), and a weight that moves moves the
            # clean-up and the fit after it (`nlpkit.vocabulary.smooth_idf`).
            out.append((best, round(float(p[best]), 2), "teacher"))
        elif weak is not None and weak.topic is not None and weak.confidence >= 0.6:
            out.append((weak.topic, weak.confidence, weak.rule))
        else:
            out.append(None)
    return out
