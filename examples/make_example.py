"""Write a small labelled file to try `nlpkit train --data` on: short Vietnamese news sentences
of four sections of our own choosing (business, education, health, travel), composed from the
phrases below, which were written for this example (no corpus text is copied).

    python examples/make_example.py                 # writes examples/sections.jsonl
    python examples/make_example.py out.csv         # the same as CSV (.gz: gzipped)

Each line is {"text": ..., "label": ...}; the same seed gives the same file.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
from pathlib import Path

PLACES = ["Hà Nội", "TP HCM", "Đà Nẵng", "Cần Thơ", "Hải Phòng", "Huế", "Nha Trang", "Quảng Ninh"]

SECTIONS = {
    "business": {
        "who": [
            "Ngân hàng",
            "Công ty chứng khoán",
            "Doanh nghiệp dệt may",
            "Tập đoàn bán lẻ",
            "Nhà máy thép",
            "Công ty bất động sản",
            "Hãng hàng không",
            "Doanh nghiệp xuất khẩu gạo",
        ],
        "did": [
            "báo lãi quý ba tăng mạnh",
            "phát hành thêm cổ phiếu để tăng vốn",
            "giảm lãi suất cho vay với khách hàng",
            "mở rộng nhà máy và tuyển thêm lao động",
            "ký hợp đồng xuất khẩu lớn",
            "công bố doanh thu nửa năm vượt kế hoạch",
            "chia cổ tức bằng tiền mặt",
            "niêm yết cổ phiếu trên sàn chứng khoán",
        ],
        "more": [
            "Giá cổ phiếu tăng trong phiên sáng.",
            "Lợi nhuận sau thuế đạt hơn nghìn tỷ đồng.",
            "Các nhà đầu tư kỳ vọng thị trường hồi phục.",
            "Tín dụng tăng trưởng ổn định.",
        ],
    },
    "education": {
        "who": [
            "Trường đại học",
            "Sở Giáo dục",
            "Trường trung học phổ thông",
            "Bộ Giáo dục",
            "Trường tiểu học",
            "Học viện kỹ thuật",
            "Trường mầm non",
            "Hội đồng tuyển sinh",
        ],
        "did": [
            "công bố điểm chuẩn năm nay",
            "mở thêm ngành đào tạo mới",
            "tổ chức kỳ thi tốt nghiệp an toàn",
            "cấp học bổng cho sinh viên nghèo",
            "thay sách giáo khoa lớp một",
            "tuyển thêm giáo viên tiếng Anh",
            "cho học sinh nghỉ học vì mưa lũ",
            "đổi mới cách kiểm tra học kỳ",
        ],
        "more": [
            "Thí sinh có thể tra cứu kết quả trực tuyến.",
            "Phụ huynh đồng tình với thay đổi.",
            "Năm học mới bắt đầu vào tháng chín.",
            "Giáo viên được tập huấn trong hè.",
        ],
    },
    "health": {
        "who": [
            "Bệnh viện",
            "Sở Y tế",
            "Trung tâm kiểm soát bệnh tật",
            "Bộ Y tế",
            "Bác sĩ khoa nhi",
            "Viện dinh dưỡng",
            "Trạm y tế xã",
            "Bệnh viện ung bướu",
        ],
        "did": [
            "cứu sống bệnh nhân bị đột quỵ",
            "khuyến cáo phòng bệnh sốt xuất huyết",
            "triển khai tiêm vắc xin cho trẻ em",
            "ghép thận thành công cho người bệnh",
            "cảnh báo ngộ độc thực phẩm mùa nắng",
            "khám sàng lọc miễn phí cho người cao tuổi",
            "mở thêm khoa hồi sức tích cực",
            "hướng dẫn chăm sóc sức khỏe tâm thần",
        ],
        "more": [
            "Người bệnh đã qua cơn nguy kịch.",
            "Số ca mắc tăng so với tuần trước.",
            "Người dân nên đi khám khi có triệu chứng.",
            "Thuốc và vật tư y tế được bổ sung.",
        ],
    },
    "travel": {
        "who": [
            "Khách du lịch",
            "Khu nghỉ dưỡng",
            "Công ty lữ hành",
            "Bãi biển",
            "Làng cổ",
            "Hãng tàu du lịch",
            "Khách sạn ven biển",
            "Điểm du lịch sinh thái",
        ],
        "did": [
            "đón lượng khách kỷ lục dịp lễ",
            "giảm giá tour mùa thấp điểm",
            "mở tuyến tham quan vịnh mới",
            "tổ chức lễ hội ẩm thực đường phố",
            "được bình chọn là điểm đến hấp dẫn",
            "ra mắt tour khám phá hang động",
            "thu hút du khách nước ngoài",
            "phục vụ khách cắm trại cuối tuần",
        ],
        "more": [
            "Phòng khách sạn kín chỗ đến cuối tháng.",
            "Du khách thích thú chụp ảnh check-in.",
            "Giá vé máy bay tăng dịp cao điểm.",
            "Đặc sản địa phương được nhiều người mua.",
        ],
    },
}


def rows(per_label: int = 40, seed: int = 0) -> list[dict[str, str]]:
    rng = random.Random(seed)
    out, seen = [], set()
    for label, parts in SECTIONS.items():
        while sum(1 for r in out if r["label"] == label) < per_label:
            title = f"{rng.choice(parts['who'])} ở {rng.choice(PLACES)} {rng.choice(parts['did'])}"
            if title in seen:
                continue
            seen.add(title)
            out.append({"text": f"{title}. {rng.choice(parts['more'])}", "label": label})
    rng.shuffle(out)
    return out


def write(path: Path, records: list[dict[str, str]]) -> None:
    buffer = io.StringIO(newline="")
    if ".csv" in path.suffixes:
        writer = csv.DictWriter(buffer, fieldnames=["text", "label"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    else:
        buffer.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    data = buffer.getvalue().encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "out",
        nargs="?",
        type=Path,
        default=Path(__file__).with_name("sections.jsonl"),
        help="the file to write: .jsonl or .csv, .gz to gzip it (default: examples/sections.jsonl)",
    )
    target = parser.parse_args().out
    write(target, rows())
    print(f"wrote {target}")
