"""Weak supervision: labelling functions and the label model that turns their votes into labels.

No record of the corpora carries one of our four topics. Each labelling function reads a record
and votes for a topic or abstains (returns None); `label_record` combines the votes into one
training label and a confidence, which the trainer uses as a sample weight.

The functions follow ../docs topics.md: the source section is a hint; energy is decided by the
text (no section is energy); world-economy and diplomacy stories filed under domestic sections
are geopolitics. A passing mention is not the main subject, so body rules ask for repeated
evidence, title rules for a term in the headline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .corpus import Record
from .topics import section_topic

__all__ = [
    "LabellingFunction",
    "LABELLING_FUNCTIONS",
    "WeakLabel",
    "votes",
    "label_record",
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


def _lexicon(*terms: str, lower: bool = True) -> re.Pattern[str]:
    alternatives = sorted({fold(t, lower) for t in terms}, key=len, reverse=True)
    # A term is not matched when the next syllable makes it another word: "nhà máy điện tử"
    # (electronics), "điện thoại" (phone).
    return re.compile(
        r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)(?! (?:tử|thoại|ảnh|máy|toán)\b)"
    )


# Terms whose presence as the subject makes a story about energy. Single words that are also
# common outside energy ("điện" in "điện thoại", "hạt nhân" in nuclear weapons, "than" in
# "than phiền") are left out on purpose.
ENERGY_TERMS = _lexicon(
    "xăng", "xăng dầu", "giá xăng", "xăng e5", "xăng sinh học", "dầu diesel", "dầu hỏa",
    "giá dầu", "dầu thô", "dầu mỏ", "dầu khí", "mỏ dầu", "giàn khoan", "lọc dầu", "lọc hóa dầu",
    "khí đốt", "khí tự nhiên", "khí hóa lỏng", "lng", "lpg", "giá gas", "đường ống dẫn khí",
    "nord stream", "nhiên liệu", "năng lượng", "năng lượng tái tạo",
    "điện lực", "evn", "giá điện", "tiền điện", "cắt điện", "mất điện", "thiếu điện",
    "tiết kiệm điện", "lưới điện", "truyền tải điện", "đường dây 500", "sản lượng điện",
    "điện năng", "cung ứng điện", "cung cấp điện", "nguồn điện", "nhà máy điện", "thủy điện",
    "nhiệt điện", "điện than", "điện khí", "điện hạt nhân", "điện gió", "điện mặt trời",
    "than đá", "khai thác than", "ngành than", "vinacomin", "tkv",
    "petrolimex", "petrovietnam", "petro vietnam", "pvn", "pv gas", "pv oil", "pv power",
    "dung quất", "opec", "gazprom", "rosneft", "aramco", "exxonmobil", "chevron",
)  # fmt: skip

# Foreign states, capitals, blocs and markets: in a business section, a headline about one of
# these and not about Vietnam is world-economy news (geopolitics by topics.md). Matched with
# case, because several names are also common words in lower case ("mỹ phẩm", "giải pháp",
# "anh ấy", "ý kiến").
FOREIGN_TERMS = _lexicon(
    r"Mỹ(?! (?:phẩm|thuật|nghệ|nhân|Tho|Đình|Đức))", "Hoa Kỳ", "Washington", "Phố Wall",
    "Wall Street", "Fed", "Trung Quốc", "Bắc Kinh", "Nhật", "Nhật Bản", "Tokyo", "Hàn Quốc",
    "Triều Tiên", "Nga", "Moskva", "Mátxcơva", "Ukraine", "Ukraina", "EU", "châu Âu",
    "Châu Âu", "Anh", "London", "Pháp", "Đức", "Italy", "Tây Ban Nha", "Hy Lạp", "Ấn Độ",
    "Pakistan", "Iran", "Iraq", "Israel", "Syria", "Thổ Nhĩ Kỳ", "Ả Rập", "Saudi", "Venezuela",
    "Brazil", "Argentina", "Mexico", "Canada", "Australia", "Úc", "Indonesia", "Malaysia",
    "Thái Lan", "Singapore", "Philippines", "Campuchia", "Lào", "Myanmar", "Đài Loan",
    "Hong Kong", "Hồng Kông", "IMF", "World Bank", "WTO", "G7", "G20", "APEC", "toàn cầu",
    "Toàn cầu", "thế giới", "Thế giới", "châu Á", "Châu Á",
    lower=False,
)  # fmt: skip
VIETNAM_TERMS = _lexicon(
    "việt nam", "vn", "hà nội", "tp hcm", "tp.hcm", "tphcm", "sài gòn", "đà nẵng",
    "hải phòng", "cần thơ", "trong nước", "nội địa", "chính phủ", "thủ tướng", "quốc hội",
    "ngân hàng nhà nước", "bộ tài chính", "bộ công thương", "tỉnh", "doanh nghiệp việt",
    "hàng việt", "người việt",
)  # fmt: skip
# Vietnam's diplomacy and foreign relations (geopolitics by topics.md), by its headline words.
DIPLOMACY_TERMS = _lexicon(
    "thăm chính thức", "thăm cấp nhà nước", "hội đàm", "hội kiến", "điện đàm", "ngoại giao",
    "ngoại trưởng", "bộ ngoại giao", "đại sứ", "đại sứ quán", "thượng đỉnh", "hội nghị cấp cao",
    "quan hệ song phương", "đối tác chiến lược", "liên hợp quốc", "lhq", "asean", "nato",
    "biển đông",
)  # fmt: skip

_BUSINESS_SECTIONS = {
    ("vntc", "Kinh doanh"),
    ("baomoi_tc201805", "Kinh doanh và Công nghiệp"),
    ("baomoi_tc201805", "Tài chính"),
    ("vnexpress_2020s", "Kinh doanh"),
}

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


def _headline(record: Record) -> str:
    # Records without a title (some VNTC files) open with the headline as their first sentence.
    return fold(record.title or record.text[:160])


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
    if (record.source_dataset, record.source_category) not in _BUSINESS_SECTIONS:
        return None
    headline = fold(record.title or record.text[:160], lower=False)
    if FOREIGN_TERMS.search(headline) and not VIETNAM_TERMS.search(headline.lower()):
        return "geopolitics"
    return None


def lf_diplomacy(record: Record) -> LFResult:
    """Geopolitics when the headline is about diplomacy: visits, talks, ambassadors, summits."""
    return "geopolitics" if DIPLOMACY_TERMS.search(_headline(record)) else None


LABELLING_FUNCTIONS: tuple[LabellingFunction, ...] = tuple(
    LabellingFunction(fn.__name__.removeprefix("lf_"), fn)
    for fn in (lf_section, lf_energy_headline, lf_energy_body, lf_world_business, lf_diplomacy)
)


@dataclass(frozen=True)
class WeakLabel:
    """The label model's answer for one record: a topic (None: no training label) and how sure."""

    topic: str | None
    confidence: float
    votes: dict[str, str]


def votes(record: Record, lfs: Iterable[LabellingFunction] = LABELLING_FUNCTIONS) -> dict[str, str]:
    """The non-abstaining votes of each labelling function, by name."""
    return {lf.name: vote for lf in lfs if (vote := lf(record)) is not None}


def label_record(record: Record) -> WeakLabel:
    """Combine the votes into one label, most specific evidence first.

    Energy evidence wins over the section (no section is energy); diplomacy and world-economy
    evidence turns a domestic section's story into geopolitics; otherwise the section decides.
    Agreement between text and section raises the confidence; a label resting on one body rule
    alone is the least sure.
    """
    v = votes(record)
    section = v.get("section")
    if "energy_headline" in v and "energy_body" in v:
        return WeakLabel("energy", 1.0, v)
    if "energy_headline" in v:
        return WeakLabel("energy", 0.8, v)
    if "energy_body" in v:
        return WeakLabel("energy", 0.6, v)
    if section == "domestic" and ("diplomacy" in v or "world_business" in v):
        return WeakLabel("geopolitics", 0.7, v)
    if section is not None:
        return WeakLabel(section, 1.0, v)
    if "diplomacy" in v:
        return WeakLabel("geopolitics", 0.6, v)
    return WeakLabel(None, 0.0, v)
