"""The four topics and what each corpus section hints about them.

A source section is a hint, not a label: the table says which topic most of a section's
stories belong to, or "none" for the sections whose stories are mostly outside the four topics
(entertainment, lifestyle, travel, science, computing, health advice, vehicles, opinion), and
`nlpkit.weak` overrules it where the text says otherwise (energy stories live in every section;
business sections also carry world-economy news; a health section carries hospital news).
"""

from __future__ import annotations

import unicodedata
from functools import cache

from .wordlists import read_list

__all__ = [  # noqa: F822
    "TOPICS",
    "NONE",
    "SECTION_TOPICS",
    "section_topic",
    "section_kinds",
    "name_problem",
    "check_model_name",
    "check_topics",
]

TOPICS: tuple[str, ...] = ("geopolitics", "energy", "domestic", "sports")
# The label of a text outside the four topics.
NONE = "none"

# The table of sections lives in nlpkit/data/sections/sections.tsv: per (source_dataset,
# source_category), the topic it hints at ("none" where the section is mostly out of scope:
# science, computing, culture, lifestyle, health advice, travel, opinion) and the kinds of
# section some labelling functions look for (business, society, education, dateline).


def name_problem(name: object) -> str | None:
    """What keeps ``name`` from naming a topic, or None: a topic is printed one a line and
    written into tab-separated files, so it is a string with something to read and no line end,
    tab or other control character."""
    if not isinstance(name, str):
        return f"not a string ({type(name).__name__})"
    if not name.strip():
        return "empty"
    # (Cc: tabs, line ends, NUL...; Zl and Zp: the line and paragraph separators, U+2028 and
    # U+2029, which end a line for Python's splitlines and for many a reader)
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in name):
        return "holds a line end, tab or other control character"
    return None


def check_model_name(name: str) -> str:
    """``name``, a model's name, or a `ValueError` saying why not: it heads the model card and
    names the model in its errors, so it is a name as a topic's is (`name_problem`)."""
    problem = name_problem(name)
    if problem:
        raise ValueError(f"name {name!r} {problem}")
    return name


def check_topics(topics: object) -> tuple[str, ...]:
    """``topics`` as a tuple: two or more distinct names (`name_problem`), none of them
    "none" (out of scope is not a topic); a ValueError saying what is wrong otherwise."""
    if isinstance(topics, str) or not isinstance(topics, (list, tuple)):
        raise TypeError(f"topics must be a list or tuple of names, got {type(topics).__name__}")
    topics = tuple(topics)
    for name in topics:
        problem = name_problem(name)
        if problem:
            raise ValueError(f"topic {name!r}: {problem}")
    if len(topics) < 2 or len(set(topics)) != len(topics) or NONE in topics:
        raise ValueError(
            f"topics must be two or more distinct names (none is not a topic), got {list(topics)}"
        )
    return topics


@cache
def _sections() -> dict[tuple[str, str], tuple[str, frozenset[str]]]:
    table = {}
    for line in read_list("sections/sections.tsv"):
        dataset, section, topic, kinds = line.split("\t")
        table[dataset, section] = (topic, frozenset(kinds.split(",")) - {"-"})
    return table


def __getattr__(name: str) -> dict[tuple[str, str], str]:
    # SECTION_TOPICS, (source_dataset, source_category) -> topic, is read on first use (PEP 562).
    if name == "SECTION_TOPICS":
        return {key: topic for key, (topic, _) in _sections().items()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def section_topic(source_dataset: str, source_category: str) -> str | None:
    """The topic a source section hints at, "none" for a mostly out-of-scope section, or None
    for a section we do not know."""
    found = _sections().get((source_dataset, source_category))
    return found[0] if found else None


def section_kinds(source_dataset: str, source_category: str) -> frozenset[str]:
    """The kinds of a source section some labelling functions look for: "business",
    "society", "education", "dateline" (see nlpkit/data/sections/sections.tsv); empty for a
    section we do not know."""
    found = _sections().get((source_dataset, source_category))
    return found[1] if found else frozenset()
