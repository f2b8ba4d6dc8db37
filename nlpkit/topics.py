"""The four topics and what each corpus section hints about them.

A source section is a hint, not a label: the table says which topic most of a section's
stories belong to, or "none" for the sections whose stories are mostly outside the four topics
(entertainment, lifestyle, travel, science, computing, health advice, vehicles, opinion), and
`nlpkit.weak` overrules it where the text says otherwise (energy stories live in every section;
business sections also carry world-economy news; a health section carries hospital news).
"""

from __future__ import annotations

__all__ = ["TOPICS", "NONE", "SECTION_TOPICS", "section_topic"]

TOPICS: tuple[str, ...] = ("geopolitics", "energy", "domestic", "sports")
# The label of a text outside the four topics.
NONE = "none"

# (source_dataset, source_category) -> topic, or "none" where the section is mostly out of scope
# (science, computing, culture, lifestyle, health advice, travel, opinion).
SECTION_TOPICS: dict[tuple[str, str], str] = {
    # VNTC, 2005-2007, full articles
    ("vntc", "The gioi"): "geopolitics",
    ("vntc", "The thao"): "sports",
    ("vntc", "Chinh tri Xa hoi"): "domestic",
    ("vntc", "Phap luat"): "domestic",
    ("vntc", "Kinh doanh"): "domestic",
    ("vntc", "Suc khoe"): NONE,
    ("vntc", "Doi song"): NONE,
    ("vntc", "Van hoa"): NONE,
    ("vntc", "Khoa hoc"): NONE,
    ("vntc", "Vi tinh"): NONE,
    # baomoi, 2017-2018, title + lead
    ("baomoi_tc201805", "Chính trị và Pháp luật"): "domestic",
    ("baomoi_tc201805", "Con người & Xã hội"): "domestic",
    ("baomoi_tc201805", "Thể Thao - Thể thao đồng đội - Bóng Đá"): "sports",
    ("baomoi_tc201805", "Thể thao - Thể thao đối kháng"): "sports",
    ("baomoi_tc201805", "Kinh doanh và Công nghiệp"): "domestic",
    ("baomoi_tc201805", "Tài chính"): "domestic",
    ("baomoi_tc201805", "Giáo dục và Việc làm - Giáo dục"): "domestic",
    ("baomoi_tc201805", "Giáo dục và Việc làm - Việc làm"): "domestic",
    ("baomoi_tc201805", "Bất động sản"): "domestic",
    ("baomoi_tc201805", "Sức khoẻ"): NONE,
    # Storms, floods, pollution and the weather in Vietnam, more than science.
    ("baomoi_tc201805", "Khoa học - Sinh thái & Môi trường"): "domestic",
    ("baomoi_tc201805", "Con người & Xã hội - Khoa học xã hội - Văn hoá"): NONE,
    ("baomoi_tc201805", "Mạng máy tính và Viễn thông"): NONE,
    # VnExpress, 2020-2023, title + lead
    ("vnexpress_2020s", "Thế giới"): "geopolitics",
    ("vnexpress_2020s", "Thể thao"): "sports",
    ("vnexpress_2020s", "SEA Games 2019"): "sports",
    ("vnexpress_2020s", "U23 Châu Á 2020"): "sports",
    ("vnexpress_2020s", "Thời sự"): "domestic",
    ("vnexpress_2020s", "Pháp luật"): "domestic",
    ("vnexpress_2020s", "Kinh doanh"): "domestic",
    ("vnexpress_2020s", "Bất động sản"): "domestic",
    ("vnexpress_2020s", "Giáo dục"): "domestic",
    ("vnexpress_2020s", "Sức khỏe"): NONE,
    ("vnexpress_2020s", "Đời sống"): NONE,
    ("vnexpress_2020s", "Giải trí"): NONE,
    ("vnexpress_2020s", "Du lịch"): NONE,
    ("vnexpress_2020s", "Khoa học"): NONE,
    ("vnexpress_2020s", "Số hóa"): NONE,
    ("vnexpress_2020s", "Ý kiến"): NONE,
    ("vnexpress_2020s", "Góc nhìn"): NONE,
    # Today's news, 2025-26: VnExpress's section feeds, for one item in five. A business item
    # can be energy or world economy, a world item science: the functions overrule the hint.
    ("news_2025_26", "the-gioi"): "geopolitics",
    ("news_2025_26", "the-thao"): "sports",
    ("news_2025_26", "kinh-doanh"): "domestic",
    ("news_2025_26", "cong-nghe"): NONE,
}


def section_topic(source_dataset: str, source_category: str) -> str | None:
    """The topic a source section hints at, "none" for a mostly out-of-scope section, or None
    for a section we do not know."""
    return SECTION_TOPICS.get((source_dataset, source_category))
