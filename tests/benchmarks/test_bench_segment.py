"""pyvi against nlpkit's segmentation, pure Python and compiled, on the same texts: speed only,
nothing asserted about time.

Run with: python -m pytest tests/benchmarks --benchmark-enable --benchmark-only
(the project's pytest configuration disables benchmarks by default: each then runs once, as a
check that both give the same output). Compare the two rows of each group: on a busy machine
only ratios measured in the same run mean anything.
"""

from __future__ import annotations

import random

import pytest
from pyvi import ViTokenizer

from nlpkit import compiled, segmenter

# A news-like text written for this benchmark (not taken from any corpus): 780 characters.
TEXT_780 = (
    "Chiều 14/03, Ủy ban nhân dân thành phố Đà Nẵng tổ chức họp báo công bố kế hoạch nâng cấp "
    "hệ thống thoát nước tại các quận ven biển trước mùa mưa bão. Theo ông Trần Văn Minh, Giám "
    "đốc Sở Xây dựng, tổng vốn đầu tư cho giai đoạn đầu khoảng 1.250 tỷ đồng, trong đó ngân sách "
    "trung ương hỗ trợ 40%. Dự án gồm 12 tuyến cống chính dài hơn 35 km, ba trạm bơm mới và hồ "
    "điều hòa rộng 8,75 ha ở phường Hòa Xuân. Nhiều hộ dân cho biết mỗi khi triều cường kết hợp "
    "mưa lớn, nước ngập sâu tới nửa mét, gây thiệt hại cho hàng quán và xe cộ. Lãnh đạo thành "
    "phố yêu cầu các nhà thầu hoàn thành hạng mục trọng điểm trước tháng 9, đồng thời công khai "
    "tiến độ trên cổng thông tin điện tử để người dân cùng giám sát. Công trình dự kiến giúp "
    "giảm 70% diện tích ngập úng trong khu vực vào cuối năm 2026."
)

# Sentences written for this benchmark, filled in and shuffled into 100,000 characters.
_SENTENCES = [
    "Giá xăng RON 95 tăng {n} đồng mỗi lít từ {h} giờ chiều nay theo điều chỉnh của liên bộ "
    "Công Thương - Tài chính.",
    "Đội tuyển {team} thắng {a}-{b} trong trận đấu tối qua trên sân {stadium}, qua đó vươn lên "
    "dẫn đầu bảng.",
    "Bộ trưởng Ngoại giao {country} cho biết hai bên đã trao đổi về an ninh khu vực và hợp tác "
    "kinh tế trong {a} năm tới.",
    "Cơ quan cảnh sát điều tra Công an tỉnh {province} đã khởi tố {a} bị can liên quan đến sai "
    "phạm tại trung tâm đăng kiểm.",
    "Theo báo cáo của Tập đoàn Điện lực Việt Nam (EVN), sản lượng điện tiêu thụ trong tháng {m} "
    "đạt khoảng {x} tỷ kWh.",
    "Huấn luyện viên {coach} nói toàn đội sẽ tập trung hồi phục thể lực trước khi bước vào lượt "
    "trận thứ {a}.",
    "Người dân {province} đổ xô đi mua vàng khi giá vàng miếng SJC lên mức {x} triệu đồng mỗi "
    "lượng.",
    "Liên Hợp Quốc kêu gọi các bên kiềm chế, mở hành lang nhân đạo để đưa khoảng {a}.000 dân "
    "thường ra khỏi vùng giao tranh.",
    "Thông tin chi tiết đăng tại https://example.vn/tin-tuc/{n}.html, độc giả có thể liên hệ "
    "qua thư điện tử bandoc{a}@example.vn.",
    "Ông {name}, Phó giám đốc Sở Giao thông vận tải, cho biết tuyến đường dài {x} km sẽ thông "
    "xe trước Tết Nguyên đán.",
    "TP.HCM ghi nhận {n} ca mắc mới trong tuần, giảm {a}% so với tuần trước, phần lớn là trẻ em "
    "dưới 5 tuổi.",
    "OPEC+ quyết định giảm sản lượng thêm {a}.000 thùng mỗi ngày, khiến giá dầu Brent vượt {x} "
    'USD/thùng, theo "Reuters".',
]
_FILL = {
    "team": ["Việt Nam", "Thái Lan", "Indonesia", "Hà Nội FC", "Hoàng Anh Gia Lai"],
    "stadium": ["Mỹ Đình", "Thống Nhất", "Hàng Đẫy", "Lạch Tray"],
    "country": ["Nga", "Thổ Nhĩ Kỳ", "Nhật Bản", "Hàn Quốc", "Pháp", "Ấn Độ"],
    "province": ["Đồng Tháp", "Hòa Bình", "Nghệ An", "Quảng Ninh", "Cần Thơ", "Lào Cai"],
    "coach": ["Park Hang-seo", "Philippe Troussier", "Kiatisuk Senamuang"],
    "name": ["Nguyễn Văn An", "Lê Thị Hoa", "Trần Quốc Bảo", "Phạm Minh Đức"],
}


def _long_text(size: int, seed: int = 2024) -> str:
    rng = random.Random(seed)
    paragraphs, length = [], 0
    while length <= size:
        sentences = []
        for _ in range(rng.randint(3, 6)):
            values = {key: rng.choice(options) for key, options in _FILL.items()}
            values.update(
                n=rng.randint(100, 9999),
                h=rng.randint(13, 23),
                a=rng.randint(1, 99),
                b=rng.randint(0, 5),
                m=rng.randint(1, 12),
                x=f"{rng.randint(1, 999)},{rng.randint(0, 9)}",
            )
            sentences.append(rng.choice(_SENTENCES).format(**values))
        paragraphs.append(" ".join(sentences))
        length += len(paragraphs[-1]) + 1
    return "\n".join(paragraphs)[:size]


TEXT_100K = _long_text(100_000)


@pytest.fixture(scope="module", autouse=True)
def warm_up():
    """Load both models (and fill nlpkit's caches) before anything is timed."""
    assert len(TEXT_780) == 780 and len(TEXT_100K) == 100_000
    for text in (TEXT_780, TEXT_100K):
        assert segmenter.segment(text) == ViTokenizer.tokenize(text)
        if compiled.core is not None:
            assert compiled.segmenter().segment(text) == ViTokenizer.tokenize(text)


needs_core = pytest.mark.skipif(compiled.core is None, reason="no compiled core")


@pytest.mark.benchmark(group="segment 780 characters")
def test_pyvi_780(benchmark):
    benchmark(ViTokenizer.tokenize, TEXT_780)


@pytest.mark.benchmark(group="segment 780 characters")
def test_nlpkit_780(benchmark):
    benchmark(segmenter.segment, TEXT_780)


@pytest.mark.benchmark(group="segment 100,000 characters")
def test_pyvi_100k(benchmark):
    # About a second a call: a few rounds are enough.
    benchmark.pedantic(ViTokenizer.tokenize, args=(TEXT_100K,), rounds=5, iterations=1)


@pytest.mark.benchmark(group="segment 100,000 characters")
def test_nlpkit_100k(benchmark):
    benchmark(segmenter.segment, TEXT_100K)


@needs_core
@pytest.mark.benchmark(group="segment 780 characters")
def test_nlpkit_compiled_780(benchmark):
    benchmark(compiled.segmenter().segment, TEXT_780)


@needs_core
@pytest.mark.benchmark(group="segment 100,000 characters")
def test_nlpkit_compiled_100k(benchmark):
    benchmark(compiled.segmenter().segment, TEXT_100K)
