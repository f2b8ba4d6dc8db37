"""Weak supervision: labelling functions and the label model that turns their votes into labels.

No record of the corpora carries one of our four topics. Each labelling function reads a record
and votes for a topic or abstains (returns None); `label_record` combines the votes into one
training label and a confidence, which the trainer uses as a sample weight.

The functions follow the topic definitions (README, "The four topics"): the source section is a hint; energy is decided by the
text (no section is energy); world-economy and diplomacy stories filed under domestic sections
are geopolitics. A passing mention is not the main subject, so body rules ask for repeated
evidence, title rules for a term in the headline.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .corpus import Record
from .text import LOWER_LETTERS, UPPER_LETTERS
from .topics import section_topic

__all__ = [
    "LabellingFunction",
    "LABELLING_FUNCTIONS",
    "WeakLabel",
    "votes",
    "label_record",
    "priority_label",
    "WeightedVote",
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
    "than đá", "khai thác than", "ngành than", "tấn than", "nhập khẩu than", "xuất khẩu than",
    "vinacomin", "tkv", r"dầu(?! (?:ăn|gội|thực vật|cá|dừa|ô liu|oliu|xả|thơm|gió|massage|mè|lạc))",
    "petrolimex", "petrovietnam", "petro vietnam", "pvn", "pv gas", "pv oil", "pv power",
    "dung quất", "opec", "gazprom", "rosneft", "aramco", "exxonmobil", "chevron",
)  # fmt: skip

# Foreign states, capitals, blocs and markets: in a business section, a headline about one of
# these and not about Vietnam is world-economy news (geopolitics by the topic definitions). Matched with
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
    "Toàn cầu", "thế giới", "Thế giới", "châu Á", "Châu Á", "USD", "đồng USD", "Trump", "Biden",
    "Obama", "Putin", "Tập Cận Bình", "Dow Jones", "Nikkei",
    lower=False,
)  # fmt: skip
VIETNAM_TERMS = _lexicon(
    "việt nam", "vn", "hà nội", "tp hcm", "tp.hcm", "tphcm", "sài gòn", "đà nẵng",
    "hải phòng", "cần thơ", "trong nước", "nội địa", "chính phủ", "thủ tướng", "quốc hội",
    "ngân hàng nhà nước", "bộ tài chính", "bộ công thương", "tỉnh", "doanh nghiệp việt",
    "hàng việt", "người việt",
)  # fmt: skip
# Vietnam's diplomacy and foreign relations (geopolitics by the topic definitions), by its headline words.
DIPLOMACY_TERMS = _lexicon(
    "thăm chính thức", "thăm cấp nhà nước", "hội đàm", "hội kiến", "điện đàm", "ngoại giao",
    "ngoại trưởng", "bộ ngoại giao", "đại sứ", "đại sứ quán", "thượng đỉnh", "hội nghị cấp cao",
    "quan hệ song phương", "đối tác chiến lược", "liên hợp quốc", "lhq", "asean", "nato",
    "biển đông",
)  # fmt: skip

SPORTS_TERMS = _lexicon(
    "bóng đá", "bóng chuyền", "bóng rổ", "quần vợt", "tennis", "cầu lông", "bơi lội", "điền kinh",
    "cờ vua", "golf", "võ sĩ", "quyền anh", "boxing", "ufc", "đua xe", "f1", "marathon",
    "hlv", "huấn luyện viên", "cầu thủ", "tiền đạo", "tiền vệ", "hậu vệ", "thủ môn", "vận động viên",
    "đội tuyển", "tuyển việt nam", "u23", "u22", "u19", "v-league", "v.league", "sea games",
    "asiad", "olympic", "world cup", "euro 2020", "euro 2024", "aff cup", "aff suzuki cup",
    "champions league", "ngoại hạng anh", "premier league", "la liga", "serie a", "bundesliga",
    "fifa", "vff", "ghi bàn", "bàn thắng", "vòng loại", "tứ kết", "bán kết", "chung kết",
    "huy chương vàng", "hcv", "man utd", "man city", "real madrid", "barcelona", "arsenal",
    "chelsea", "liverpool", "juventus", "messi", "ronaldo",
)  # fmt: skip
CRIME_TERMS = _lexicon(
    "khởi tố", "truy tố", "xét xử", "hầu tòa", "tuyên án", "bị can", "bị cáo", "vụ án", "bắt giữ",
    "bắt tạm giam", "tạm giam", "tham ô", "tham nhũng", "nhận hối lộ", "hối lộ", "lừa đảo",
    "buôn lậu", "gian lận", "trộm", "cướp", "chiếm đoạt", "sai phạm", "xử phạt", "điều tra",
)  # fmt: skip
# Crime and courts in the strict sense: an inspection's findings ("sai phạm", "xử phạt") at an
# energy company stay energy news by the topic definitions; an arrest or a trial does not.
ENERGY_CRIME_TERMS = _lexicon(
    "khởi tố", "truy tố", "xét xử", "hầu tòa", "tuyên án", "bị can", "bị cáo", "vụ án", "bắt giữ",
    "bắt tạm giam", "tạm giam", "tham ô", "tham nhũng", "nhận hối lộ", "hối lộ", "lừa đảo",
    "buôn lậu", "hàng lậu", "dầu lậu", "xăng lậu", "xăng giả", "xăng kém chất lượng", "trộm",
    "trộm cắp", "ăn cắp", "cướp", "chiếm đoạt", "gian lận", "rút ruột", "vận chuyển trái phép",
    "bắt quả tang", "công an", "cảnh sát", "phạt tù", "án tù", "lãnh án",
)  # fmt: skip
# An energy company's money and its oversight: bonds, audits, inspections, profits, losses.
ENERGY_FIRMS = _lexicon(
    "evn", "điện lực", "tập đoàn điện lực", "pvn", "petrovietnam", "petro vietnam", "dầu khí",
    "tập đoàn dầu khí", "petrolimex", "pv gas", "pv oil", "pv power", "pvep", "bsr", "lọc hóa dầu",
    "tkv", "vinacomin", "than - khoáng sản", "genco", "evnnpt", "evnhanoi", "evnhcmc", "evnspc",
    "gazprom", "rosneft", "aramco", "exxonmobil", "chevron", "shell", "bp", "total", "totalenergies",
)  # fmt: skip
FINANCE_TERMS = _lexicon(
    "kiểm toán", "kiểm toán nhà nước", "thanh tra", "kiểm tra", "trái phiếu", "nợ", "vay",
    "lợi nhuận", "lãi", "lỗ", "thua lỗ", "doanh thu", "cổ phần hóa", "thoái vốn",
    "ipo", "niêm yết", "vốn điều lệ", "tăng vốn", "đầu tư", "quyết toán", "báo cáo tài chính",
)  # fmt: skip
KNOCK_ON_TERMS = _lexicon(
    "cước", "giá cước", "giá vé", "vé máy bay", "taxi", "xe buýt", "vận tải", "hàng hóa", "giá cả",
    "lạm phát", "cpi", "chỉ số giá", "chứng khoán", "cổ phiếu", "thị trường chứng khoán",
)  # fmt: skip

# News events: disasters, weather, accidents, epidemics, crime and the acts of authorities.
# In a section that is mostly out of scope (science, health, life), such a headline is news.
EVENT_TERMS = _lexicon(
    "bão", "áp thấp nhiệt đới", "lũ", "lũ quét", "lụt", "ngập", "ngập lụt", "mưa lớn", "sạt lở",
    "lốc xoáy", "mưa đá", "hạn hán", "xâm nhập mặn", "động đất", "sóng thần", "cháy", "hỏa hoạn",
    "cháy rừng", "nổ", "tai nạn", "va chạm", "lật", "chìm", "đắm", "thiệt mạng", "tử vong",
    "mất tích", "cứu hộ", "cứu nạn", "sơ tán", "ngộ độc", "ổ dịch", "dịch bệnh", "ca mắc",
    "ca nhiễm", "covid", "covid-19", "ncov", "sars", "cúm a", "h5n1", "sốt xuất huyết",
    "tay chân miệng", "tiêm chủng", "vaccine", "vắc xin", "bộ y tế", "sở y tế", "bảo hiểm y tế",
    "quá tải", "ô nhiễm", "xả thải", "khởi tố", "bắt giữ", "tạm giam", "xét xử", "công an",
    "cảnh sát", "ubnd", "chủ tịch tỉnh", "quốc hội", "chính phủ", "thủ tướng", "bộ trưởng",
    "nghị định", "thông tư", "dự thảo", "thời tiết", "nắng nóng", "rét đậm", "không khí lạnh",
)  # fmt: skip
# Headline words of what the topic definitions put out of scope: entertainment and celebrities,
# gadgets and software, pure science, lifestyle, food, beauty, travel. Only strong ones: a
# weaker word ("ô tô", "sức khỏe") is as common in the news of the four topics.
OUT_OF_SCOPE_TERMS = _lexicon(
    "phim", "bộ phim", "điện ảnh", "ca sĩ", "diễn viên", "hoa hậu", "á hậu", "người mẫu", "mv",
    "album", "ca khúc", "showbiz", "sao việt", "nghệ sĩ", "danh hài", "gameshow", "liveshow",
    "hollywood", "oscar", "k-pop", "kpop", "idol", "smartphone", "điện thoại thông minh",
    "iphone", "ipad", "macbook", "galaxy", "laptop", "máy tính bảng", "tai nghe", "camera",
    "ứng dụng", "phần mềm", "windows", "android", "ios", "game", "trò chơi", "chatgpt",
    "trí tuệ nhân tạo", "robot", "khủng long", "hóa thạch", "hành tinh", "thiên hà", "vũ trụ",
    "nasa", "kính thiên văn", "tiểu hành tinh", "sao hỏa", "nhà khoa học", "làm đẹp", "mỹ phẩm",
    "thời trang", "giảm cân", "ăn kiêng", "món ăn", "món ngon", "công thức", "ẩm thực",
    "đặc sản", "điểm đến", "du lịch", "du khách", "khách sạn", "resort", "tình yêu", "hẹn hò",
    "ngoại tình", "mẹo", "bí quyết", "triệu chứng", "ung thư", "tiểu đường", "dinh dưỡng",
    "vitamin", "giấc ngủ", "tập thể dục", "yoga",
)  # fmt: skip

_BUSINESS_SECTIONS = {
    ("vntc", "Kinh doanh"),
    ("baomoi_tc201805", "Kinh doanh và Công nghiệp"),
    ("baomoi_tc201805", "Tài chính"),
    ("vnexpress_2020s", "Kinh doanh"),
}

# Law, society and current-affairs sections: their foreign stories are crimes, disasters and
# social news set abroad.
_SOCIETY_SECTIONS = {
    ("vntc", "Chinh tri Xa hoi"),
    ("vntc", "Phap luat"),
    ("baomoi_tc201805", "Chính trị và Pháp luật"),
    ("baomoi_tc201805", "Con người & Xã hội"),
    ("vnexpress_2020s", "Thời sự"),
    ("vnexpress_2020s", "Pháp luật"),
}

_DATELINE_SECTIONS = {
    ("vnexpress_2020s", section)
    for section in ("Thời sự", "Pháp luật", "Giáo dục", "Kinh doanh", "Bất động sản", "Đời sống")
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


def _foreign_headline(record: Record) -> re.Match[str] | None:
    """The first foreign name in the headline (case kept: "Anh" is Britain, "anh" a pronoun),
    or None, also when the headline names Vietnam or one of its places or bodies."""
    headline = fold(record.title or record.text[:160], lower=False)
    if VIETNAM_TERMS.search(headline.lower()):
        return None
    return FOREIGN_TERMS.search(headline)


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
    # The foreign name must open the headline, where its subject stands: "Phố Wall giảm
    # điểm" is world news, "Ưu đãi thuế nhập khẩu xe máy từ EU" is Vietnam's.
    match = _foreign_headline(record)
    return "geopolitics" if match and match.start() < 25 else None


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
    news, not energy."""
    headline, lead = _headline(record), _lead(record)
    if ENERGY_CRIME_TERMS.search(headline) and ENERGY_TERMS.search(lead):
        return "domestic"
    if ENERGY_TERMS.search(headline) and len(ENERGY_CRIME_TERMS.findall(lead)) >= 2:
        return "domestic"
    return None


def lf_fuel_knock_on(record: Record) -> LFResult:
    """Domestic when the headline is about fares, freight or consumer prices and the headline or
    lead says fuel or power prices moved them: the subject is transport or the cost of living,
    not energy."""
    headline = _headline(record)
    if KNOCK_ON_TERMS.search(headline) and ENERGY_TERMS.search(_lead(record, 200)):
        return "domestic"
    return None


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
    if not EVENT_TERMS.search(_headline(record)):
        return None
    return "geopolitics" if _foreign_headline(record) else "domestic"


def lf_out_of_scope_headline(record: Record) -> LFResult:
    """None (out of scope) when the headline is about entertainment, celebrities, gadgets and
    software, pure science, beauty, food, travel or health advice."""
    return "none" if OUT_OF_SCOPE_TERMS.search(_headline(record)) else None


def lf_foreign_story(record: Record) -> LFResult:
    """Geopolitics for a story in a domestic law, society or current-affairs section whose
    headline is set in a foreign state and not in Vietnam (a crime or a disaster abroad)."""
    if (record.source_dataset, record.source_category) not in _SOCIETY_SECTIONS:
        return None
    return "geopolitics" if _foreign_headline(record) else None


# VnExpress leads open with a dateline in capitals, glued to the first word ("MỸMột người đàn
# ông ...", "TP HCMSáng nay ..."): where the story happens.
_LEAD_DATELINE = re.compile(
    rf"^([{UPPER_LETTERS}][{UPPER_LETTERS} .\-]{{1,30}}?)(?=[{UPPER_LETTERS}][{LOWER_LETTERS}])"
)
FOREIGN_DATELINES = frozenset(
    (
        "MỸ", "ANH", "PHÁP", "ĐỨC", "NGA", "ÁO", "BỈ", "ITALY", "Ý", "TÂY BAN NHA", "BỒ ĐÀO NHA",
        "HÀ LAN", "THỤY ĐIỂN", "THỤY SĨ", "NA UY", "ĐAN MẠCH", "PHẦN LAN", "BA LAN", "HY LẠP",
        "SERBIA", "UKRAINE", "BELARUS", "TRUNG QUỐC", "NHẬT BẢN", "HÀN QUỐC", "TRIỀU TIÊN",
        "ĐÀI LOAN", "HONG KONG", "ẤN ĐỘ", "PAKISTAN", "AFGHANISTAN", "IRAN", "IRAQ", "SYRIA",
        "ISRAEL", "PALESTINE", "THỔ NHĨ KỲ", "ARAB SAUDI", "UAE", "QATAR", "AI CẬP", "NAM PHI",
        "KENYA", "NIGERIA", "ETHIOPIA", "THÁI LAN", "LÀO", "CAMPUCHIA", "MYANMAR", "MALAYSIA",
        "SINGAPORE", "INDONESIA", "PHILIPPINES", "AUSTRALIA", "NEW ZEALAND", "CANADA", "MEXICO",
        "BRAZIL", "ARGENTINA", "CHILE", "PERU", "COLOMBIA", "VENEZUELA", "CUBA", "KAZAKHSTAN",
        "PARIS", "LONDON", "NEW YORK", "WASHINGTON", "TOKYO", "BẮC KINH", "THƯỢNG HẢI", "MOSKVA",
        "SEOUL", "BANGKOK",
    )
)  # fmt: skip


def _foreign_dateline(text: str) -> bool:
    match = _LEAD_DATELINE.match(text)
    if not match:
        return False
    dateline = match.group(1).strip()
    # "ANHHLV ..." is "ANH" glued to "HLV": a foreign name may be followed by more capitals,
    # but not by a space ("LÀO CAI" is a Vietnamese province, "LÀO" is Laos).
    return any(
        dateline == name or (dateline.startswith(name) and dateline[len(name)] != " ")
        for name in FOREIGN_DATELINES
    )


def lf_foreign_dateline(record: Record) -> LFResult:
    """Geopolitics when the lead's dateline names a foreign country or city (VnExpress prints
    where a story happens before its first word), outside the sports, science, technology,
    entertainment and travel sections, whose stories abroad stay in their own topic or out of
    scope."""
    if (record.source_dataset, record.source_category) not in _DATELINE_SECTIONS:
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
    )
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


def priority_label(v: dict[str, str]) -> WeakLabel:
    """The rule-ordered label model: the most specific evidence first.

    Crime and knock-on evidence beat energy terms; an energy company's finances and energy
    evidence beat the section (no section is energy); sports terms beat a non-sports section;
    diplomacy, world-economy and abroad evidence turns a domestic section's story into
    geopolitics; a news event takes a story out of a mostly out-of-scope section; out-of-scope
    headline words take it out of a domestic one; otherwise the section decides. Agreement
    between text and section raises the confidence; a label resting on one body rule alone is
    the least sure.
    """
    section = v.get("section")
    if "energy_crime" in v or "fuel_knock_on" in v:
        return WeakLabel("domestic", 0.8, v)
    if "energy_finance" in v:
        return WeakLabel("energy", 0.9, v)
    if "energy_headline" in v and "energy_body" in v:
        return WeakLabel("energy", 1.0, v)
    if "energy_headline" in v:
        return WeakLabel("energy", 0.8, v)
    if "energy_body" in v:
        return WeakLabel("energy", 0.6, v)
    if "sports_headline" in v:
        return WeakLabel("sports", 1.0 if section == "sports" else 0.7, v)
    geo = [
        name
        for name in ("diplomacy", "world_business", "foreign_story", "foreign_dateline")
        if name in v
    ]
    if section == "domestic" and geo:
        return WeakLabel("geopolitics", 0.7, v)
    if section == "none" and "news_event" in v:
        return WeakLabel(v["news_event"], 0.7, v)
    if section == "domestic" and "out_of_scope_headline" in v:
        return WeakLabel("none", 0.6, v)
    if section is not None and section != "none":
        return WeakLabel(section, 1.0, v)
    if "diplomacy" in v or "foreign_dateline" in v:
        return WeakLabel("geopolitics", 0.6, v)
    if section == "none":
        return WeakLabel("none", 1.0 if "out_of_scope_headline" in v else 0.8, v)
    return WeakLabel(None, 0.0, v)


def label_record(record: Record) -> WeakLabel:
    """The training label of a record: the label model over all labelling functions' votes."""
    return priority_label(votes(record))


class WeightedVote:
    """A learned label model: each labelling function's vote counts with the log-odds of its
    accuracy on a hand-labelled development sample (Laplace-smoothed), and the topic with the
    largest sum wins. Confidence is the winner's share of the softmax over the sums.

    `fit` takes records and their hand labels; functions that never vote on the sample keep
    the weight of a 75%-accurate one.
    """

    def __init__(self, lfs: Iterable[LabellingFunction] = LABELLING_FUNCTIONS, prior: float = 0.75):
        self.lfs = tuple(lfs)
        self.prior = prior

    def fit(self, records: Iterable[Record], labels: dict[str, str]) -> WeightedVote:
        right = dict.fromkeys((lf.name for lf in self.lfs), 0)
        seen = dict.fromkeys(right, 0)
        for record in records:
            truth = labels.get(record.id)
            if truth is None:
                continue
            for name, vote in votes(record, self.lfs).items():
                seen[name] += 1
                right[name] += vote == truth
        self.weights_ = {}
        for name in right:
            # Smoothing pulls a function seen a few times toward the prior accuracy.
            accuracy = (right[name] + 4 * self.prior) / (seen[name] + 4)
            accuracy = min(max(accuracy, 0.05), 0.99)
            self.weights_[name] = math.log(accuracy / (1 - accuracy))
        return self

    def label(self, record: Record) -> WeakLabel:
        v = votes(record, self.lfs)
        scores: dict[str, float] = {}
        for name, vote in v.items():
            scores[vote] = scores.get(vote, 0.0) + self.weights_[name]
        if not scores:
            return WeakLabel(None, 0.0, v)
        top = max(scores, key=scores.get)
        exp = {t: math.exp(s - scores[top]) for t, s in scores.items()}
        return WeakLabel(top, exp[top] / sum(exp.values()), v)


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
    """How a label model does on hand-labelled records: coverage (share it labels), and
    accuracy on the in-scope ones it labels."""
    judged = [(model(r).topic, labels[r.id]) for r in records if r.id in labels]
    in_scope = [(p, t) for p, t in judged if t != "none"]
    labelled = [(p, t) for p, t in in_scope if p is not None]
    return {
        "texts": len(judged),
        "in_scope": len(in_scope),
        "coverage": len(labelled) / max(len(in_scope), 1),
        "accuracy": sum(p == t for p, t in labelled) / max(len(labelled), 1),
        "none_labelled": sum(1 for p, t in judged if t == "none" and p is not None),
    }


def report(records: list[Record], dev: dict[str, str], source: str) -> str:
    """The markdown of `nlpkit weak-report`: every labelling function's coverage, overlaps,
    conflicts and accuracy on the hand-labelled development texts (``dev``: id -> topic, read
    from ``source``), and the label models compared there. ``records``: the non-held-out
    part of the corpora."""
    dev_records = [r for r in records if r.id in dev]
    lines = [
        "# Labelling functions",
        "",
        f"Over the {len(records):,} non-held-out records; accuracy on the {len(dev_records)} "
        f"hand-labelled development texts of `{source}` where the function votes (a vote on "
        "an out-of-scope text, labelled none, counts as wrong). Produced by `nlpkit weak-report`.",
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
    weighted = WeightedVote().fit(dev_records, dev)
    lines += [
        "",
        "## Label models on the development texts",
        "",
        "| label model | in-scope texts labelled | accuracy where labelled | out-of-scope texts labelled |",
        "| --- | --- | --- | --- |",
    ]
    for name, model in (
        ("priority rules (used)", label_record),
        ("weighted vote (log-odds of dev accuracy)", weighted.label),
    ):
        m = label_model_scores(dev_records, dev, model)
        lines.append(
            f"| {name} | {m['coverage']:.1%} of {m['in_scope']} | {m['accuracy']:.3f} | {m['none_labelled']} |"
        )
    lines += [
        "",
        "The weighted vote is fitted and scored on the same development texts, which flatters it;",
        "the priority rules still score higher, so they stay the label model.",
    ]
    return "\n".join(lines) + "\n"
