"""The four topics and what each corpus section hints about them.

A source section is a hint, not a label: the table says which topic most of a section's
stories belong to, and `nlpkit.weak` overrules it where the text says otherwise (energy
stories live in every section; business sections also carry world-economy news).
"""

from __future__ import annotations

__all__ = ["TOPICS", "SECTION_TOPICS", "section_topic"]

TOPICS: tuple[str, ...] = ("geopolitics", "energy", "domestic", "sports")

# (source_dataset, source_category) -> topic, or None where the section is mostly out of scope
# (science, computing, culture, lifestyle, health advice, travel, opinion): those records only
# become training data when a labelling function finds a topic in their text.
SECTION_TOPICS: dict[tuple[str, str], str | None] = {
    # VNTC, 2005-2007, full articles
    ("vntc", "The gioi"): "geopolitics",
    ("vntc", "The thao"): "sports",
    ("vntc", "Chinh tri Xa hoi"): "domestic",
    ("vntc", "Phap luat"): "domestic",
    ("vntc", "Kinh doanh"): "domestic",
    ("vntc", "Suc khoe"): None,
    ("vntc", "Doi song"): None,
    ("vntc", "Van hoa"): None,
    ("vntc", "Khoa hoc"): None,
    ("vntc", "Vi tinh"): None,
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
    ("baomoi_tc201805", "Sức khoẻ"): None,
    ("baomoi_tc201805", "Khoa học - Sinh thái & Môi trường"): None,
    ("baomoi_tc201805", "Con người & Xã hội - Khoa học xã hội - Văn hoá"): None,
    ("baomoi_tc201805", "Mạng máy tính và Viễn thông"): None,
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
    ("vnexpress_2020s", "Sức khỏe"): None,
    ("vnexpress_2020s", "Đời sống"): None,
    ("vnexpress_2020s", "Giải trí"): None,
    ("vnexpress_2020s", "Du lịch"): None,
    ("vnexpress_2020s", "Khoa học"): None,
    ("vnexpress_2020s", "Số hóa"): None,
    ("vnexpress_2020s", "Ý kiến"): None,
    ("vnexpress_2020s", "Góc nhìn"): None,
}


def section_topic(source_dataset: str, source_category: str) -> str | None:
    """The topic a source section hints at, or None (out of scope, or a section we do not know)."""
    return SECTION_TOPICS.get((source_dataset, source_category))
