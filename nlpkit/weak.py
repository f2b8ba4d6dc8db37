"""Weak supervision: labelling functions and the label model that turns their votes into labels.

No record of the corpora carries one of our four topics. Each labelling function reads a record
and votes for a topic or abstains (returns None); `label_record` combines the votes into one
training label and a confidence, which the trainer uses as a sample weight.

The functions follow the topic definitions (docs/topics.md): the source section is a hint;
energy is decided by the text (no section is energy); world-economy and diplomacy stories filed
under domestic sections are geopolitics. A passing mention is not the main subject, so body rules ask for repeated
evidence, title rules for a term in the headline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from .corpus import Record
from .text import LOWER_LETTERS, UPPER_LETTERS
from .topics import section_kinds, section_topic
from .wordlists import read_list

__all__ = [
    "LabellingFunction",
    "LABELLING_FUNCTIONS",
    "WeakLabel",
    "BOUNDARY_RULES",
    "votes",
    "label_record",
    "priority_label",
    "LearnedVote",
    "lf_analysis",
    "label_model_scores",
    "report",
    "fold",
]

# Old-style tone placement ("hoá", "thuỷ") and new-style ("hóa", "thủy") are both common in
# Vietnamese news; matching works on one spelling.
_OLD_STYLE = {
    "oá": "óa", "oà": "òa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
    "oé": "óe", "oè": "òe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
    "uý": "úy", "uỳ": "ùy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy",
}  # fmt: skip
_OLD_STYLE_RE = re.compile("|".join(_OLD_STYLE))


def fold(text: str, lower: bool = True) -> str:
    """Spell tone marks one way (and lower-case ``text``), for lexicon matching."""
    text = text.lower() if lower else text
    return _OLD_STYLE_RE.sub(lambda m: _OLD_STYLE[m.group(0)], text)


class _Lexicon:
    """The terms of a lexicon file of nlpkit/data/lexicons as one pattern, read and compiled on
    first use. A term matches as whole words; a ``re:`` entry is a regular expression.
    ``unless``: another lexicon, of phrases in which the terms mean something else ("xe xăng",
    a petrol car; "năng lượng tích cực", good spirits); its matches are not searched."""

    def __init__(self, name: str, lower: bool = True, unless: str | None = None) -> None:
        self.name = name
        self.lower = lower
        self.unless = _Lexicon(unless, lower) if unless else None

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        lengths: dict[str, int] = {}
        for entry in read_list(f"lexicons/{self.name}.txt"):
            if entry.startswith("re:"):
                source = fold(entry.removeprefix("re:").strip(), self.lower)
                lengths[source] = len(source)
            else:
                source = fold(entry, self.lower)
                lengths[re.escape(source)] = len(source)
        # Longest first, so that "xăng dầu" is matched whole rather than as "xăng".
        alternatives = sorted(lengths, key=lengths.__getitem__, reverse=True)
        # A term is not matched when the next syllable makes it another word: "nhà máy điện tử"
        # (electronics), "điện thoại" (phone).
        after = "|".join(map(re.escape, read_list("lexicons/next_syllables.txt")))
        return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + rf")(?!\w)(?! (?:{after})\b)")

    def _masked(self, text: str) -> str:
        if self.unless is None:
            return text
        # Blanked to spaces of the same length: match positions stay those of the text.
        return self.unless.pattern.sub(lambda m: " " * len(m.group()), text)

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern.search(self._masked(text))

    def findall(self, text: str) -> list[str]:
        return self.pattern.findall(self._masked(text))


@dataclass(frozen=True)
class PlaceCount:
    """What `PlaceMatcher.count` finds: foreign places, foreign bodies (UN, NATO, the White
    House...), Vietnamese places, and the word number of the first foreign place (or None)."""

    foreign: int
    bodies: int
    vietnam: int
    first_foreign: int | None


class PlaceMatcher:
    """Counts the foreign and the Vietnamese places a text names, from the gazetteer of
    `nlpkit.places`: whole words, with case ("Anh" is Britain, "anh" a pronoun), tone marks
    spelled one way. A name that is also a word, a given name or part of a Vietnamese place
    ("Anh", "Đức", "Nga", "Mỹ", "Lào") counts only after a word that makes it a country
    ("nước Anh", "tại Đức", "Tổng thống Nga", "phía Mỹ")."""

    # The words before an ambiguous name that make it a place ("nước Anh", "tại Đức").
    CONTEXT_FILE = "places/context_words.txt"
    _WORD = re.compile(r"\w+")

    def __init__(self) -> None:
        from . import places

        self.context = frozenset(read_list(self.CONTEXT_FILE))

        def keys(names) -> set[tuple[str, ...]]:
            return {tuple(self._WORD.findall(fold(name, lower=False))) for name in names}

        ambiguous = keys(places.AMBIGUOUS)
        foreign = keys(
            places.FOREIGN_COUNTRIES
            + places.FOREIGN_REGIONS
            + places.FOREIGN_EPITHETS
            + places.FOREIGN_HISTORICAL
        )
        self.foreign = foreign - ambiguous
        self.ambiguous = ambiguous & foreign
        self.bodies = keys(places.FOREIGN_BODIES) - ambiguous
        vietnam = keys(places.ALL_VIETNAM) | {("Việt", "Nam"), ("VN",), ("Việt",)}
        # "Lào Cai", "Thủ Đức", "Mỹ Tho" hold a foreign short name but are Vietnamese places
        # whole; the others of VIETNAM_AMBIGUOUS are also words ("hòa bình", "Thái Bình
        # Dương") or also foreign places (Tây Ninh, Xining).
        short = {k for k in ambiguous if len(k) == 1}
        doubtful = {
            k
            for k in keys(places.VIETNAM_AMBIGUOUS)
            if len(k) == 1 or not short & {(w,) for w in k}
        }
        self.vietnam = vietnam - doubtful - ambiguous
        self.longest = max(len(k) for k in self.foreign | self.vietnam | self.bodies)

    def _placed(self, words: list[str], i: int, n: int) -> bool:
        if i:
            return words[i - 1].lower() in self.context
        following = words[n] if n < len(words) else ""
        return not following[:1].isupper()

    def count(self, text: str) -> PlaceCount:
        """The foreign places, foreign bodies and Vietnamese places ``text`` names."""
        words = self._WORD.findall(fold(text, lower=False))
        foreign = bodies = vietnam = 0
        first = None
        i = 0
        while i < len(words):
            for n in range(min(self.longest, len(words) - i), 0, -1):
                key = tuple(words[i : i + n])
                if key in self.foreign or (key in self.ambiguous and self._placed(words, i, n)):
                    foreign += 1
                    first = i if first is None else first
                elif key in self.vietnam:
                    vietnam += 1
                elif key in self.bodies:
                    bodies += 1
                else:
                    continue
                i += n - 1
                break
            i += 1
        return PlaceCount(foreign, bodies, vietnam, first)


_places: PlaceMatcher | None = None


def places() -> PlaceMatcher:
    """The place matcher, built on first use (the gazetteer has some 2,000 names)."""
    global _places
    if _places is None:
        _places = PlaceMatcher()
    return _places


# The lexicons of the labelling functions, one file each in nlpkit/data/lexicons/ (what each
# list is for is said at its top). World names are matched with case ("Fed", "Bush").
ENERGY_TERMS = _Lexicon("energy_terms", unless="not_energy_terms")
WORLD_TERMS = _Lexicon("world_terms", lower=False)
VIETNAM_TERMS = _Lexicon("vietnam_terms")
DIPLOMACY_TERMS = _Lexicon("diplomacy_terms")
MEETING_TERMS = _Lexicon("meeting_terms")
VIETNAM_LEADERS = _Lexicon("vietnam_leaders")
SPORTS_TERMS = _Lexicon("sports_terms")
ENERGY_CRIME_TERMS = _Lexicon("energy_crime_terms")
ENERGY_FIRMS = _Lexicon("energy_firms")
FINANCE_TERMS = _Lexicon("finance_terms")
KNOCK_ON_TERMS = _Lexicon("knock_on_terms")
EVENT_TERMS = _Lexicon("event_terms")
OUT_OF_SCOPE_TERMS = _Lexicon("out_of_scope_terms")

LFResult = str | None


@dataclass(frozen=True)
class LabellingFunction:
    """A named rule that votes a topic for a record or abstains (None)."""

    name: str
    func: Callable[[Record], LFResult]

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or "").strip()

    def __call__(self, record: Record) -> LFResult:
        return self.func(record)


def _kinds(record: Record) -> frozenset[str]:
    """The kinds of the record's source section (business, society, education, dateline)."""
    return section_kinds(record.source_dataset, record.source_category)


def _headline(record: Record) -> str:
    # Records without a title (some VNTC files) open with the headline as their first sentence.
    return fold(record.title or record.text[:160])


def _foreign_headline(record: Record) -> int | None:
    """The word number of the first foreign place in the headline, or None, also when the
    headline names Vietnam or one of its places or bodies."""
    headline = fold(record.title or record.text[:160], lower=False)
    if VIETNAM_TERMS.search(headline.lower()):
        return None
    found = places().count(headline)
    if found.vietnam:
        return None
    world = WORLD_TERMS.search(headline)
    if world is not None:
        first_world = len(PlaceMatcher._WORD.findall(headline[: world.start()]))
        if found.first_foreign is None or first_world < found.first_foreign:
            return first_world
    return found.first_foreign


def _body(record: Record) -> str:
    return fold(record.text)


def lf_section(record: Record) -> LFResult:
    """The topic the record's source section hints at (see nlpkit.topics.SECTION_TOPICS)."""
    return section_topic(record.source_dataset, record.source_category)


def lf_energy_headline(record: Record) -> LFResult:
    """Energy when the headline names an energy good, market, plant or company."""
    return "energy" if ENERGY_TERMS.search(_headline(record)) else None


def lf_energy_body(record: Record) -> LFResult:
    """Energy when energy terms recur through the text: at least 2 in a lead, or at least 5
    (and one per 400 characters) in a full article. One mention is a side note, not the subject."""
    body = _body(record)
    hits = len(ENERGY_TERMS.findall(body))
    if record.text_kind != "full_article":
        return "energy" if hits >= 2 else None
    return "energy" if hits >= 5 and hits * 400 >= len(body) else None


def lf_world_business(record: Record) -> LFResult:
    """Geopolitics for a business-section story whose headline is about foreign states or
    markets and not about Vietnam: world-economy news, not the domestic economy."""
    if "business" not in _kinds(record):
        return None
    # The foreign name must open the headline, where its subject stands: "Phố Wall giảm
    # điểm" is world news, "Ưu đãi thuế nhập khẩu xe máy từ EU" is Vietnam's.
    first = _foreign_headline(record)
    return "geopolitics" if first is not None and first < 4 else None


def lf_diplomacy(record: Record) -> LFResult:
    """Geopolitics when the headline is about diplomacy: visits, talks, ambassadors, summits."""
    return "geopolitics" if DIPLOMACY_TERMS.search(_headline(record)) else None


def lf_sports_headline(record: Record) -> LFResult:
    """Sports when the headline names a sport, a competition or a sporting role, whatever the
    section (sport also turns up under society, entertainment or the world pages)."""
    return "sports" if SPORTS_TERMS.search(_headline(record)) else None


def _lead(record: Record, size: int = 400) -> str:
    """The headline and the start of the text: where a news story says what it is about."""
    return fold(record.title + "\n" + record.text[:size])


def lf_energy_crime(record: Record) -> LFResult:
    """Domestic for a crime or a court case (smuggling, theft, fraud, an arrest, a trial) whose
    headline or lead involves fuel or an energy company: by the topic definitions that is crime
    news, not energy; geopolitics when the headline sets it abroad."""
    headline, lead = _headline(record), _lead(record)
    crime = (ENERGY_CRIME_TERMS.search(headline) and ENERGY_TERMS.search(lead)) or (
        ENERGY_TERMS.search(headline) and len(ENERGY_CRIME_TERMS.findall(lead)) >= 2
    )
    if not crime:
        return None
    # A crime set abroad is news of that country (the boundary table): a bomb at a petrol
    # station in Thailand, an energy minister investigated in Ukraine.
    return "geopolitics" if _foreign_headline(record) is not None else "domestic"


def lf_fuel_knock_on(record: Record) -> LFResult:
    """Domestic when the headline is about fares, freight or consumer prices and the headline or
    lead says fuel or power prices moved them: the subject is transport or the cost of living,
    not energy."""
    headline = _headline(record)
    if KNOCK_ON_TERMS.search(headline) and ENERGY_TERMS.search(_lead(record, 200)):
        return "domestic"
    return None


# Vietnam's authorities at work, and study abroad: a story abroad that is Vietnam's own.
_VIETNAM_AUTHORITIES = _Lexicon("vietnam_authorities")
_STUDY_ABROAD = _Lexicon("study_abroad")


def lf_abroad(record: Record) -> LFResult:
    """Geopolitics for a law, society, education, business or current-affairs story whose
    headline and lead name foreign places (at least two) and no Vietnamese one, and no
    Vietnamese authority at work: a crime, trial, accident, social or economic story abroad,
    whatever its headline says."""
    if not _kinds(record) & {"society", "education", "business"}:
        return None
    lead = record.title + "\n" + record.text[:600]
    headline = _headline(record)
    if _STUDY_ABROAD.search(headline) or OUT_OF_SCOPE_TERMS.search(headline):
        return None
    found = places().count(lead)
    if found.foreign < 2 or found.vietnam or _VIETNAM_AUTHORITIES.search(fold(lead)):
        return None
    return "geopolitics"


def lf_diplomacy_lead(record: Record) -> LFResult:
    """Geopolitics when the headline and lead tell of a meeting, call, visit or summit between
    a leader of Vietnam (by title) and a foreign counterpart (a foreign country, place or
    body): Vietnam's foreign relations, however Vietnamese the names in the headline."""
    if section_topic(record.source_dataset, record.source_category) == "sports":
        return None  # teams "meet" too
    lead = record.title + "\n" + record.text[:400]
    folded = fold(lead)
    if not (MEETING_TERMS.search(folded) and VIETNAM_LEADERS.search(folded)):
        return None
    found = places().count(lead)
    return "geopolitics" if found.foreign or found.bodies else None


def lf_energy_finance(record: Record) -> LFResult:
    """Energy when the headline is about an energy company's money or its oversight: bonds,
    debts, profits and losses, audits, inspections, share sales, investment."""
    headline = _headline(record)
    if ENERGY_FIRMS.search(headline) and FINANCE_TERMS.search(headline):
        return "energy"
    return None


def lf_news_event(record: Record) -> LFResult:
    """In a section mostly out of scope (science, health, life, culture, computing): domestic
    when the headline reports a news event (a disaster, the weather, an accident, an epidemic, a
    crime, an act of the authorities), geopolitics when that event is set abroad."""
    if section_topic(record.source_dataset, record.source_category) != "none":
        return None
    headline = _headline(record)
    # A question or a guide ("Ăn hải sản thế nào để không bị ngộ độc?") is advice, not news.
    if not EVENT_TERMS.search(headline) or "?" in headline or OUT_OF_SCOPE_TERMS.search(headline):
        return None
    return "geopolitics" if _foreign_headline(record) is not None else "domestic"


def lf_out_of_scope_headline(record: Record) -> LFResult:
    """None (out of scope) when the headline is about entertainment, celebrities, gadgets and
    software, car launches, pure science, beauty, food, travel, language lessons, personal ads
    or health advice, and reports no news event (an actor's trial is crime news)."""
    headline = _headline(record)
    if not OUT_OF_SCOPE_TERMS.search(headline):
        return None
    if EVENT_TERMS.search(headline) or ENERGY_CRIME_TERMS.search(headline):
        return None
    return "none"


def lf_foreign_story(record: Record) -> LFResult:
    """Geopolitics for a story in a domestic law, society or current-affairs section whose
    headline is set in a foreign state and not in Vietnam (a crime or a disaster abroad)."""
    if "society" not in _kinds(record):
        return None
    return "geopolitics" if _foreign_headline(record) is not None else None


# VnExpress leads open with a dateline in capitals, glued to the first word ("MỸMột người đàn
# ông ...", "TP HCMSáng nay ..."): where the story happens.
_LEAD_DATELINE = re.compile(
    rf"^([{UPPER_LETTERS}][{UPPER_LETTERS} .\-]{{1,30}}?)(?=[{UPPER_LETTERS}][{LOWER_LETTERS}])"
)


@cache
def foreign_datelines() -> frozenset[str]:
    """The foreign countries and cities a VnExpress dateline names, in capitals."""
    return frozenset(read_list("lexicons/foreign_datelines.txt"))


def _foreign_dateline(text: str) -> bool:
    match = _LEAD_DATELINE.match(text)
    if not match:
        return False
    dateline = match.group(1).strip()
    # "ANHHLV ..." is "ANH" glued to "HLV": a foreign name may be followed by more capitals,
    # but not by a space ("LÀO CAI" is a Vietnamese province, "LÀO" is Laos).
    return any(
        dateline == name or (dateline.startswith(name) and dateline[len(name)] != " ")
        for name in foreign_datelines()
    )


def lf_foreign_dateline(record: Record) -> LFResult:
    """Geopolitics when the lead's dateline names a foreign country or city (VnExpress prints
    where a story happens before its first word), outside the sports, science, technology,
    entertainment and travel sections, whose stories abroad stay in their own topic or out of
    scope."""
    if "dateline" not in _kinds(record):
        return None
    return "geopolitics" if _foreign_dateline(record.text) else None


LABELLING_FUNCTIONS: tuple[LabellingFunction, ...] = tuple(
    LabellingFunction(fn.__name__.removeprefix("lf_"), fn)
    for fn in (
        lf_section,
        lf_energy_headline,
        lf_energy_body,
        lf_world_business,
        lf_diplomacy,
        lf_sports_headline,
        lf_energy_crime,
        lf_fuel_knock_on,
        lf_foreign_story,
        lf_foreign_dateline,
        lf_energy_finance,
        lf_news_event,
        lf_out_of_scope_headline,
        lf_abroad,
        lf_diplomacy_lead,
    )
)


@dataclass(frozen=True)
class WeakLabel:
    """The label model's answer for one record: a topic (None: no training label), how sure,
    the votes, and the labelling function whose evidence decided ("section" when the source
    section's hint did)."""

    topic: str | None
    confidence: float
    votes: dict[str, str]
    rule: str = "section"


# The rules of the topic definitions' boundary table: rare in the corpora, and what the section
# hints get wrong.
BOUNDARY_RULES = frozenset(
    {"energy_crime", "fuel_knock_on", "energy_finance", "diplomacy_lead", "abroad", "news_event"}
)


def votes(record: Record, lfs: Iterable[LabellingFunction] = LABELLING_FUNCTIONS) -> dict[str, str]:
    """The non-abstaining votes of each labelling function, by name."""
    return {lf.name: vote for lf in lfs if (vote := lf(record)) is not None}


def priority_label(v: dict[str, str]) -> WeakLabel:
    """The rule-ordered label model: the most specific evidence first.

    Crime (geopolitics when set abroad) and knock-on evidence beat energy terms; an energy
    company's finances and energy evidence beat the section (no section is energy); sports
    terms beat a non-sports section; diplomacy, world-economy and abroad evidence turns a
    domestic section's story into geopolitics; a news event takes a story out of a mostly
    out-of-scope section; out-of-scope headline words take it out of a domestic one; otherwise
    the section decides. Agreement between text and section raises the confidence; a label
    resting on one body rule alone is the least sure.
    """
    section = v.get("section")
    if "energy_crime" in v:
        return WeakLabel(v["energy_crime"], 0.8, v, "energy_crime")
    if "fuel_knock_on" in v:
        return WeakLabel("domestic", 0.8, v, "fuel_knock_on")
    if "energy_finance" in v:
        return WeakLabel("energy", 0.9, v, "energy_finance")
    if "energy_headline" in v and "energy_body" in v:
        return WeakLabel("energy", 1.0, v, "energy_headline")
    if "energy_headline" in v:
        return WeakLabel("energy", 0.8, v, "energy_headline")
    if "energy_body" in v:
        return WeakLabel("energy", 0.6, v, "energy_body")
    if "sports_headline" in v:
        return WeakLabel("sports", 1.0 if section == "sports" else 0.7, v, "sports_headline")
    geo = [
        name
        for name in (
            "diplomacy",
            "diplomacy_lead",
            "world_business",
            "foreign_story",
            "foreign_dateline",
            "abroad",
        )
        if name in v
    ]
    if section == "domestic" and geo:
        return WeakLabel("geopolitics", 0.7, v, geo[0])
    if section == "none" and "news_event" in v:
        return WeakLabel(v["news_event"], 0.7, v, "news_event")
    if section == "domestic" and "out_of_scope_headline" in v:
        return WeakLabel("none", 0.6, v, "out_of_scope_headline")
    if section is not None and section != "none":
        return WeakLabel(section, 1.0, v)
    if "diplomacy" in v or "diplomacy_lead" in v or "foreign_dateline" in v:
        rule = next(n for n in ("diplomacy", "diplomacy_lead", "foreign_dateline") if n in v)
        return WeakLabel("geopolitics", 0.6, v, rule)
    if section == "none":
        return WeakLabel("none", 1.0 if "out_of_scope_headline" in v else 0.8, v)
    return WeakLabel(None, 0.0, v, "")


def label_record(record: Record, without: Iterable[str] = ()) -> WeakLabel:
    """The training label of a record: the label model over the labelling functions' votes
    (all of them, or all but those named in ``without``, to measure what they add)."""
    if not without:
        return priority_label(votes(record))
    lfs = [lf for lf in LABELLING_FUNCTIONS if lf.name not in set(without)]
    return priority_label(votes(record, lfs))


def lf_analysis(
    records: list[Record],
    labels: dict[str, str],
    lfs: Iterable[LabellingFunction] = LABELLING_FUNCTIONS,
) -> list[dict[str, Any]]:
    """Per labelling function: coverage, overlaps and conflicts with the other functions over
    ``records``, and accuracy where it votes on the hand-labelled ones (``labels``: id -> topic;
    a vote on an out-of-scope text, labelled 'none', counts as wrong)."""
    lfs = tuple(lfs)
    all_votes = [votes(r, lfs) for r in records]
    rows = []
    for lf in lfs:
        voted = [(r, v) for r, v in zip(records, all_votes) if lf.name in v]
        overlap = sum(1 for _, v in voted if len(v) > 1)
        conflict = sum(1 for _, v in voted if any(x != v[lf.name] for x in v.values()))
        judged = [(v[lf.name], labels[r.id]) for r, v in voted if r.id in labels]
        right = sum(1 for vote, truth in judged if vote == truth)
        rows.append(
            {
                "name": lf.name,
                "doc": " ".join(lf.doc.split()),
                "coverage": len(voted) / max(len(records), 1),
                "overlaps": overlap / max(len(voted), 1),
                "conflicts": conflict / max(len(voted), 1),
                "dev_votes": len(judged),
                "dev_accuracy": right / len(judged) if judged else None,
            }
        )
    return rows


def label_model_scores(
    records: list[Record], labels: dict[str, str], model: Callable[[Record], WeakLabel]
) -> dict[str, Any]:
    """How a label model does on hand-labelled records: coverage (share it labels), accuracy
    over all the texts it labels (out of scope, ``none``, included), and over the in-scope ones."""
    judged = [(model(r).topic, labels[r.id]) for r in records if r.id in labels]
    labelled = [(p, t) for p, t in judged if p is not None]
    in_scope = [(p, t) for p, t in labelled if t != "none"]
    return {
        "texts": len(judged),
        "coverage": len(labelled) / max(len(judged), 1),
        "accuracy": sum(p == t for p, t in labelled) / max(len(labelled), 1),
        "in_scope": len(in_scope),
        "in_scope_accuracy": sum(p == t for p, t in in_scope) / max(len(in_scope), 1),
    }


class LearnedVote:
    """A learned label model: multinomial logistic regression over the functions' votes (one
    indicator per function and topic voted), fitted on hand-labelled training texts. Confidence
    is its probability for the topic it picks."""

    def __init__(self, lfs: Iterable[LabellingFunction] = LABELLING_FUNCTIONS, C: float = 3.0):
        self.lfs = tuple(lfs)
        self.C = C

    def _features(self, all_votes: list[dict[str, str]]):
        """One row of vote indicators per record, from the records' votes."""
        import numpy as np

        rows = []
        for record_votes in all_votes:
            row = np.zeros(len(self.lfs) * len(self.classes_))
            for name, vote in record_votes.items():
                if vote in self.classes_:
                    row[self._feature(name, vote)] = 1
            rows.append(row)
        return np.array(rows)

    def _feature(self, name: str, vote: str) -> int:
        """The column of "function ``name`` votes ``vote``" (one per function and topic)."""
        return self.names_.index(name) * len(self.classes_) + self.classes_.index(vote)

    def fit(self, records: Iterable[Record], labels: dict[str, str]) -> LearnedVote:
        from sklearn.linear_model import LogisticRegression

        records = [r for r in records if r.id in labels]
        self.classes_ = sorted({labels[r.id] for r in records})
        self.names_ = [lf.name for lf in self.lfs]
        self.model_ = LogisticRegression(C=self.C, max_iter=2000, random_state=0)
        features = self._features([votes(r, self.lfs) for r in records])
        self.model_.fit(features, [labels[r.id] for r in records])
        return self

    def label(self, record: Record) -> WeakLabel:
        return self.label_many([record])[0]

    def label_many(
        self, records: list[Record], all_votes: list[dict[str, str]] | None = None
    ) -> list[WeakLabel]:
        """`label` for many records at once (one matrix, one call of the model); each
        record's functions run once, for its features and its WeakLabel alike. ``all_votes``:
        the records' `votes` with these functions, when the caller has them already."""
        if not records:
            return []
        if all_votes is None:
            all_votes = [votes(r, self.lfs) for r in records]
        probs = self.model_.predict_proba(self._features(all_votes))
        best = probs.argmax(axis=1)
        out = []
        for v, p, b in zip(all_votes, probs, best):
            if not v:
                # No section and no function's vote: the model's intercepts alone would label
                # it (as the commonest topic), which is no evidence at all.
                out.append(WeakLabel(None, 0.0, v, ""))
                continue
            topic = str(self.model_.classes_[b])
            # Rounded: the confidence is a training weight, and the fit's last bits depend on
            # the machine's arithmetic (its BLAS), where a weight that differs by 1e-13 moves
            # every decision of training after it (`smooth_idf`).
            confidence = round(float(p[b]), 6)
            out.append(WeakLabel(topic, confidence, v, self._decided_by(v, topic)))
        return out

    def _decided_by(self, record_votes: dict[str, str], topic: str) -> str:
        """The function whose vote for ``topic`` the model weighs most: the evidence that
        decided, as the priority rules name it ("section" for the section's hint), so that
        training treats the label by its evidence (boundary weight, clean-up scope). "learned"
        when no function voted for the topic."""
        coef = self.model_.coef_
        k = list(self.model_.classes_).index(topic)
        if coef.shape[0] == 1:  # two classes: one row of weights, for the second
            row = coef[0] if k == 1 else -coef[0]
        else:
            row = coef[k]
        weighed = [
            (row[self._feature(name, topic)], name)
            for name, vote in record_votes.items()
            if vote == topic
        ]
        return max(weighed)[1] if weighed else "learned"


def report(
    records: list[Record],
    dev: dict[str, str],
    source: str,
    train: dict[str, str] | None = None,
    train_source: str = "",
) -> str:
    """The markdown of `nlpkit weak-report`: every labelling function's coverage, overlaps,
    conflicts and accuracy on the hand-labelled development texts (``dev``: id -> topic, read
    from ``source``), and the label models compared there: the priority rules, and, when
    hand-labelled training texts are given (``train``, read from ``train_source``), a vote
    learned from them. ``records``: the non-held-out part of the corpora."""
    dev_records = [r for r in records if r.id in dev]
    lines = [
        "# Labelling functions",
        "",
        f"Over the {len(records):,} non-held-out records; accuracy on the {len(dev_records)} "
        f"hand-labelled development texts of `{source}` where the function votes (out-of-scope "
        "texts are labelled none, and a vote of none on them is right). Produced by "
        "`nlpkit weak-report`.",
        "",
        "| function | coverage | overlaps | conflicts | dev votes | dev accuracy | what it encodes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in lf_analysis(records, dev):
        accuracy = "–" if row["dev_accuracy"] is None else f"{row['dev_accuracy']:.3f}"
        lines.append(
            f"| `{row['name']}` | {row['coverage']:.2%} | {row['overlaps']:.2%} | "
            f"{row['conflicts']:.2%} | {row['dev_votes']} | {accuracy} | {row['doc']} |"
        )
    models: list[tuple[str, Callable[[Record], WeakLabel]]] = [
        ('priority rules (`label_model = "rules"`)', label_record)
    ]
    train_records = [r for r in records if train and r.id in train and r.id not in dev]
    if train_records:
        learned = LearnedVote().fit(train_records, train)
        models.append(
            (f"learned vote (`label_model = \"learned\"`, fitted on the {len(train_records)} "
             f"texts of `{train_source}`)",
             learned.label)
        )  # fmt: skip
    lines += [
        "",
        "## Label models on the development texts",
        "",
        "| label model | texts labelled | accuracy where labelled | in-scope texts | "
        "accuracy on them |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, model in models:
        m = label_model_scores(dev_records, dev, model)
        lines.append(
            f"| {name} | {m['coverage']:.1%} of {m['texts']} | {m['accuracy']:.3f} "
            f"| {m['in_scope']} | {m['in_scope_accuracy']:.3f} |"
        )
    if len(models) > 1:
        scores = [label_model_scores(dev_records, dev, model)["accuracy"] for _, model in models]
        lines += [
            "",
            "The priority rules score higher on the development texts than the learned vote."
            if scores[0] >= max(scores)
            else "The learned vote scores higher on the development texts than the rules "
            "(the shipped recipe, `experiments/default.toml`, uses it).",
        ]
    return "\n".join(lines) + "\n"
