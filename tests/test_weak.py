from dataclasses import replace

import pytest

from nlpkit.corpus import Record
from nlpkit.topics import SECTION_TOPICS, TOPICS
from nlpkit.weak import LABELLING_FUNCTIONS, fold, label_record, report, votes


def rec(
    title="", text="Nội dung bài.", dataset="vnexpress_2020s", section="Thời sự", kind="title_sapo"
):
    return Record(
        id="t",
        source_dataset=dataset,
        source_category=section,
        title=title,
        text=text,
        text_kind=kind,
    )


def test_every_labelling_function_is_named_and_documented():
    names = [lf.name for lf in LABELLING_FUNCTIONS]
    assert len(names) == len(set(names))
    assert all(lf.doc for lf in LABELLING_FUNCTIONS)


def test_section_table_only_names_known_topics():
    assert set(SECTION_TOPICS.values()) <= set(TOPICS) | {"none"}


def test_fold_spells_tone_marks_one_way():
    assert fold("Khí hoá lỏng, THUỶ ĐIỆN") == fold("khí hóa lỏng, thủy điện")


def test_energy_headline_beats_the_section():
    w = label_record(rec("Giá xăng tăng 500 đồng mỗi lít", section="Kinh doanh"))
    assert w.topic == "energy" and "energy_headline" in w.votes


def test_energy_without_a_section():
    w = label_record(rec("Hoá đơn tiền điện tháng 6 tăng vọt", section="Đời sống"))
    assert w.topic == "energy"


def test_passing_mention_of_energy_is_not_energy():
    body = "Bộ trưởng nói về giáo dục. " * 30 + "Giá xăng cũng được nhắc tới."
    w = label_record(
        rec(
            "Bộ trưởng trả lời chất vấn về giáo dục",
            body,
            dataset="vntc",
            section="Chinh tri Xa hoi",
            kind="full_article",
        )
    )
    assert w.topic == "domestic"
    assert "energy_body" not in w.votes


def test_energy_body_needs_repeated_evidence_in_full_articles():
    body = "Giá dầu thô tăng. OPEC họp. Nhiên liệu đắt. Xăng dầu khan hiếm. Thủy điện cạn nước."
    w = label_record(
        rec("Thị trường tuần qua", body, dataset="vntc", section="Kinh doanh", kind="full_article")
    )
    assert w.topic == "energy" and w.confidence < 1


def test_world_business_becomes_geopolitics():
    w = label_record(rec("Phố Wall giảm điểm mạnh sau quyết định của Fed", section="Kinh doanh"))
    assert w.topic == "geopolitics"
    # A headline about Vietnam stays domestic, and lower-case words are not country names.
    assert (
        label_record(rec("Xuất khẩu của Việt Nam sang Mỹ tăng", section="Kinh doanh")).topic
        == "domestic"
    )
    assert (
        label_record(rec("Thị trường mỹ phẩm tăng trưởng", section="Kinh doanh")).topic
        == "domestic"
    )


def test_diplomacy_in_a_domestic_section_is_geopolitics():
    assert label_record(rec("Thủ tướng hội đàm với Thủ tướng Singapore")).topic == "geopolitics"


def test_sections_decide_otherwise_and_out_of_scope_is_none():
    assert label_record(rec("Tuyển Việt Nam thắng đậm", section="Thể thao")).topic == "sports"
    w = label_record(rec("Cách nấu phở bò ngon", section="Đời sống"))
    assert w.topic == "none" and w.votes == {"section": "none", "out_of_scope_headline": "none"}
    assert label_record(rec("Tin", section="Mục lạ")).topic is None  # a section nobody knows


@pytest.mark.parametrize(
    "title, lead, section, expected",
    [
        # Vietnam's diplomacy, told in the lead, under a domestic section.
        (
            "Thủ tướng Phạm Minh Chính tiếp đoàn",
            "Chiều 5/3, Thủ tướng tiếp Bộ trưởng Ngoại giao Australia tại Hà Nội.",
            "Thời sự",
            "geopolitics",
        ),
        # A crime abroad with no foreign name in the headline, and one that Vietnam's police
        # handle.
        (
            "Người đàn ông giết hàng xóm",
            "Cảnh sát bang Texas cho biết nghi phạm bị bắt ở Houston sau hai ngày.",
            "Pháp luật",
            "geopolitics",
        ),
        (
            "Triệt phá đường dây buôn người",
            "Bộ Công an phối hợp cảnh sát Campuchia giải cứu 20 người ở Phnom Penh.",
            "Pháp luật",
            "domestic",
        ),
        # Energy's neighbours: a fuel theft, fares after a fuel-price rise, a utility's bonds.
        ("Bắt quả tang nhóm trộm dầu", "Công an phát hiện 3 người hút trộm dầu diesel.", "Thời sự", "domestic"),
        ("Taxi tăng cước từ hôm nay", "Sau khi giá xăng tăng 1.000 đồng, các hãng taxi tăng cước.", "Kinh doanh", "domestic"),
        ("EVN phát hành trái phiếu 5.000 tỷ đồng", "Tập đoàn Điện lực Việt Nam huy động vốn.", "Kinh doanh", "energy"),
        # Fares after a fuel-price rise with the fare in the headline; an energy crime abroad.
        ("Vé tàu tăng 10% vì giá dầu diesel", "Đường sắt tăng giá vé từ tuần sau.", "Kinh doanh", "domestic"),
        ("Cựu bộ trưởng năng lượng Ukraine bị bắt vì tham nhũng", "Các công tố viên cho biết ông nhận hối lộ.", "Thời sự", "geopolitics"),
        # News in a mostly out-of-scope section; advice is not news.
        ("Bão số 5 đổ bộ Quảng Bình", "Mưa lớn gây ngập nhiều nơi.", "Sức khỏe", "domestic"),
        ("Ăn hải sản thế nào để không bị ngộ độc?", "Chuyên gia khuyên.", "Sức khỏe", "none"),
        # Out-of-scope headline words in a domestic section, unless a crime is the news.
        ("Mẹo học tiếng Anh hiệu quả", "Giáo viên chia sẻ.", "Giáo dục", "none"),
        ("Honda ra mắt mẫu xe tay ga mới", "Mẫu xe có thêm phiên bản thể thao.", "Thời sự", "none"),
        ("Khởi tố diễn viên lừa đảo", "Công an TP HCM khởi tố bị can.", "Pháp luật", "domestic"),
    ],
)  # fmt: skip
def test_boundary_evidence_from_headline_and_lead(title, lead, section, expected):
    assert label_record(rec(title, lead, section=section)).topic == expected


@pytest.mark.parametrize(
    "text, foreign, vietnam",
    [
        ("Thủ tướng Đức thăm Hà Nội", 1, 1),
        ("Ông Đức, chủ tịch xã, nói với anh Nga", 0, 0),  # given names
        ("Mưa lớn ở Lào Cai, gió Lào ở Nghệ An", 0, 2),
        ("Quan hệ với Lào và Campuchia", 2, 0),
        ("Mỹ điều tra vụ xả súng ở California", 2, 0),  # a headline's subject
        ("Mỹ Tâm ra album mới", 0, 0),  # a singer
        ("Cửa hàng mỹ phẩm ở TP.HCM", 0, 1),
    ],
)
def test_place_matcher_tells_countries_from_names_and_words(text, foreign, vietnam):
    from nlpkit.weak import places

    found = places().count(text)
    assert (found.foreign, found.vietnam) == (foreign, vietnam)


@pytest.mark.parametrize(
    "title",
    [
        "Điện thoại mới ra mắt",
        "Nhà máy điện tử Samsung",
        "Than phiền về dịch vụ",
        # Energy terms inside phrases that mean something else (not_energy_terms.txt).
        "Mẫu xe máy xăng tiết kiệm nhất năm",
        "Cuộc thi lan tỏa năng lượng tích cực",
        "Triển lãm tranh sơn dầu",
        "Thông xe cao tốc Phan Thiết - Dầu Giây",
    ],
)
def test_words_that_only_look_like_energy(title):
    assert "energy_headline" not in votes(rec(title))


@pytest.mark.parametrize(
    "lead, section, expected",
    [
        ("MỸMột người đàn ông bị bắt vì giết vợ.", "Pháp luật", "geopolitics"),
        ("TRUNG QUỐCCảnh sát phát hiện thi thể sau 19 năm.", "Thời sự", "geopolitics"),
        ("LÀOTiền đạo ghi bàn.", "Thể thao", "sports"),  # a foreign dateline in sport stays sport
        ("LÀO CAIMưa lớn gây sạt lở.", "Thời sự", "domestic"),  # a Vietnamese province
        ("TP HCMSáng nay giá vàng giảm.", "Kinh doanh", "domestic"),
        ("ANHMột phụ nữ khuyết tật tìm được hạnh phúc.", "Đời sống", "geopolitics"),
        ("MỸCác nhà khoa học phát hiện hành tinh mới.", "Khoa học", "none"),  # out of scope
    ],
)
def test_foreign_dateline(lead, section, expected):
    assert label_record(rec("Tin", lead, section=section)).topic == expected


def test_report_rows_and_dev_accuracy():
    records = [
        replace(rec("Giá xăng tăng mạnh"), id="a"),
        replace(rec("Hội đàm với Thủ tướng Nhật Bản"), id="b"),
        replace(rec("Mưa lớn ở Hà Nội"), id="c"),
    ]
    text = report(records, {"a": "energy", "b": "geopolitics", "c": "sports"}, "dev.tsv")
    rows = {
        line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `")
    }
    assert set(rows) == {f"`{lf.name}`" for lf in LABELLING_FUNCTIONS}
    # Three dev texts; the section votes domestic on all three and is right on none.
    assert "| 3 | 0.000 |" in rows["`section`"]
    assert "`dev.tsv`" in text and '| priority rules (`label_model = "rules"`) |' in text


def test_a_labelling_function_can_be_left_out():
    record = rec(
        "Người đàn ông giết hàng xóm",
        "Cảnh sát bang Texas bắt nghi phạm ở Houston.",
        section="Pháp luật",
    )
    assert label_record(record).topic == "geopolitics"
    assert label_record(record, without=["abroad"]).topic == "domestic"


def test_a_learned_vote_names_the_evidence_that_decided():
    # Training weighs and cleans a label by what decided it, learned or not: the boundary
    # rules' labels must carry their function's name, the sections' "section".
    from nlpkit.weak import LearnedVote

    crime = rec("Bắt quả tang nhóm trộm dầu", "Công an phát hiện 3 người hút trộm dầu diesel.")
    crime = replace(crime, source_category="Kinh doanh")
    sports = rec(
        "Tuyển Việt Nam thắng Thái Lan", "Đội tuyển giành chiến thắng.", section="Thể thao"
    )
    plain = rec("Hà Nội mở thêm tuyến buýt", "Thành phố mở tuyến mới.", section="Thời sự")
    energy = rec("Giá xăng tăng 500 đồng mỗi lít", "Giá xăng dầu tăng từ chiều nay.")
    records = [
        replace(r, id=f"{i}-{j}")
        for j in range(3)
        for i, r in enumerate([crime, sports, plain, energy])
    ]
    truth = {r.id: label_record(r).topic for r in records}
    model = LearnedVote().fit(records, truth)
    labels = model.label_many([crime, sports, plain, energy])
    assert [w.topic for w in labels] == ["domestic", "sports", "domestic", "energy"]
    assert labels[0].rule in ("energy_crime", "fuel_knock_on")
    assert labels[1].rule in ("section", "sports_headline")
    assert labels[2].rule == "section"
    assert labels[3].rule in ("energy_headline", "energy_body")
    # A record no function votes on (no section, no evidence) gets no label, not the commonest.
    silent = rec("Một ngày bình thường", "Không có gì.", section="")
    assert model.label_many([silent])[0].topic is None
    # Its confidences are training weights, rounded so that the last bits of the fit (its
    # BLAS's, which differ from machine to machine) do not reach training.
    assert all(w.confidence == round(w.confidence, 6) for w in labels)
    assert all(0 < w.confidence < 1 for w in labels)
