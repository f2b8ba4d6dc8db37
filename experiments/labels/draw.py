"""How the texts of the hand-labelled samples were chosen (not how they were labelled: every text
is labelled by reading it against the topic definitions, never by these rules).

    python experiments/labels/draw.py POOL --out ids.tsv

Pools (each draws from records no sample holds yet, in the order of a hash of their id, so a
rerun gives the same texts):

- ``boundaries``: held-out texts of the kinds the topic definitions' boundary table settles:
  Vietnam's diplomacy, stories set abroad in domestic sections, crime and price knock-on next
  to energy words, energy companies' finances; spread over the three eras.
- ``none``: held-out texts of the sections that are mostly out of scope, for the eras whose
  held-out sample has fewest of them.
- ``train``: non-held-out texts for training: those the shipped model is least sure of, those
  on which the labelling functions disagree, the boundary kinds, and out-of-scope sections.
- ``dev``: non-held-out texts of the boundary kinds and out-of-scope sections for the
  development sample.
- ``today`` and ``today_dev``: today's news (news_2025_26.jsonl). ``today`` draws from its
  held-out month (April 2026): 600 texts at random, then the 150 the shipped model is least
  sure of (five-way, the out-of-scope detector included) and up to 100 of the boundary kinds;
  ``today_dev`` draws the development sample from the months before in the same way (300, 100,
  100), with another salt, and ``today_train`` hand-labelled training texts from what is left
  of those months (800, 500, 200), with a third (in `train_2025_26.tsv`, apart from the older
  training sample, so that a recipe can train without any 2025-26 label). ``today_fuel`` draws
  100 more training texts of February and March 2026, the fuel crisis, whose headline has an
  energy term, at random (in `train_fuel.tsv`, which no recipe reads yet: experiments/README.md).
  ``today_train2`` draws a second round of training texts from those months (600, 300, 100)
  with a fourth salt (in `train_2025_26b.tsv`).
- ``train2`` and ``dev2``: a second round, from what the labelling functions of the day say:
  texts on which each boundary rule votes, energy words under another section's hint, 2020s
  texts at random, and out-of-scope sections; the two pools are disjoint.

The "kind" column says which rule picked a text; it is a reason to read it, not a label.

The samples of the repository were drawn at commit 2bd6e08 (boundaries, none, train, dev),
4517d38 (the second none pool, ``--quota 2017-2018=60``), cb714ce (train2, dev2) and 5ac6c98
with its `train_2025_26b.tsv` set aside (today_train2, which found 22 texts of the boundary
kinds left): the pools depend on the shipped model, the labelling functions of their day and
the texts the samples already hold, so run it from those commits to draw the same texts again.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from collections import defaultdict
from pathlib import Path

from nlpkit.corpus import Record, is_heldout, read_corpus
from nlpkit.evaluate import read_labels
from nlpkit.weak import ENERGY_TERMS, fold, votes

LABELS = Path(__file__).resolve().parent


def _lexicon(*terms: str, lower: bool = True) -> re.Pattern[str]:
    """Terms (regular expressions allowed) as one pattern of whole words, as the labelling
    functions built their lexicons when the samples were drawn; the draw must stay the same."""
    alternatives = sorted({fold(t, lower) for t in terms}, key=len, reverse=True)
    return re.compile(
        r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)(?! (?:tử|thoại|ảnh|máy|toán)\b)"
    )


# Crime and courts in the wide sense (an inspection's findings too), as the draw read them.
CRIME_TERMS = _lexicon(
    "khởi tố", "truy tố", "xét xử", "hầu tòa", "tuyên án", "bị can", "bị cáo", "vụ án", "bắt giữ",
    "bắt tạm giam", "tạm giam", "tham ô", "tham nhũng", "nhận hối lộ", "hối lộ", "lừa đảo",
    "buôn lậu", "gian lận", "trộm", "cướp", "chiếm đoạt", "sai phạm", "xử phạt", "điều tra",
)  # fmt: skip

# Foreign names, as the labelling functions spelled them when the samples were drawn.
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

OUT_OF_SCOPE = (
    {("vntc", c) for c in ("Suc khoe", "Doi song", "Van hoa", "Khoa hoc", "Vi tinh")}
    | {
        ("baomoi_tc201805", c)
        for c in (
            "Sức khoẻ",
            "Khoa học - Sinh thái & Môi trường",
            "Con người & Xã hội - Khoa học xã hội - Văn hoá",
            "Mạng máy tính và Viễn thông",
        )
    }
    | {
        ("vnexpress_2020s", c)
        for c in ("Sức khỏe", "Đời sống", "Giải trí", "Du lịch", "Khoa học", "Số hóa", "Ý kiến")
    }
)
SOCIETY = (
    {("vntc", c) for c in ("Chinh tri Xa hoi", "Phap luat", "Doi song")}
    | {
        ("baomoi_tc201805", c)
        for c in ("Chính trị và Pháp luật", "Con người & Xã hội", "Giáo dục và Việc làm - Giáo dục")
    }
    | {("vnexpress_2020s", c) for c in ("Thời sự", "Pháp luật", "Giáo dục", "Đời sống")}
)

_VN_LEADER = re.compile(
    r"thủ tướng|chủ tịch nước|tổng bí thư|chủ tịch quốc hội|phó thủ tướng|bộ trưởng|"
    r"phó chủ tịch nước|bộ ngoại giao|đại sứ việt nam|lãnh đạo việt nam"
)
_MEET = re.compile(
    r"\b(?:tiếp|hội đàm|hội kiến|điện đàm|gặp|thăm|hội nghị|thượng đỉnh|đón|ký kết|"
    r"tuyên bố chung|hợp tác|song phương)\b"
)
_VN_PLACE = re.compile(
    r"việt nam|hà nội|tp hcm|tp\.hcm|sài gòn|đà nẵng|hải phòng|cần thơ|tỉnh|huyện|quận|"
    r"thành phố hồ chí minh|nghệ an|thanh hóa|quảng ninh|đồng nai|bình dương"
)
_KNOCK_ON = re.compile(
    r"giá cước|cước vận tải|giá vé|vé máy bay|taxi|xe buýt|giá cả|cpi|lạm phát|chỉ số giá|"
    r"giá thực phẩm|giá rau|giá thịt|hàng hóa tăng giá|tăng giá bán|phí vận chuyển"
)
_ENERGY_FIRM = re.compile(
    r"\bevn\b|điện lực|\bpvn\b|petrovietnam|dầu khí|petrolimex|pv gas|pv power|pv oil|"
    r"\btkv\b|vinacomin|bsr|lọc hóa dầu|xăng dầu"
)
_FINANCE = re.compile(
    r"kiểm toán|trái phiếu|\bnợ\b|thanh tra|lợi nhuận|\blãi\b|\blỗ\b|cổ phiếu|thoái vốn|"
    r"cổ phần hóa|\bipo\b|vốn điều lệ|doanh thu"
)


def _key(record: Record, salt: str = "") -> bytes:
    return hashlib.sha1((salt + record.id).encode("utf-8")).digest()


def kinds(record: Record) -> list[str]:
    """The boundary kinds a record's headline and lead look like (reasons to read it)."""
    head = fold(record.title or record.text[:160])
    lead = fold(record.full_text[:800])
    cased = fold(record.full_text[:800], lower=False)
    out = []
    foreign = len(FOREIGN_TERMS.findall(cased))
    if _MEET.search(lead) and _VN_LEADER.search(lead) and foreign:
        out.append("diplomacy")
    section = (record.source_dataset, record.source_category)
    if section in SOCIETY and foreign >= 2 and not _VN_PLACE.search(fold(record.full_text[:300])):
        out.append("abroad")
    if ENERGY_TERMS.search(lead) and CRIME_TERMS.search(head):
        out.append("energy_crime")
    if ENERGY_TERMS.search(lead) and _KNOCK_ON.search(lead):
        out.append("knock_on")
    if _ENERGY_FIRM.search(head) and _FINANCE.search(lead):
        out.append("energy_finance")
    return out


def _records() -> list[Record]:
    return [r for r in read_corpus() if r.duplicate_of is None]


def _taken() -> set[str]:
    ids: set[str] = set()
    for path in LABELS.glob("*.tsv"):
        ids |= set(read_labels(path))
    return ids


def _spread(groups: dict[tuple[str, str], list[Record]], quota: dict[str, int]) -> list:
    """Up to quota[kind] records of each kind, split evenly over the eras (an era short of
    texts leaves its share to the others)."""
    rows = []
    for kind, wanted in quota.items():
        eras = {era: sorted(rs, key=_key) for (k, era), rs in groups.items() if k == kind}
        chosen: list[Record] = []
        while len(chosen) < wanted and any(eras.values()):
            for era in sorted(eras):
                if eras[era] and len(chosen) < wanted:
                    chosen.append(eras[era].pop(0))
        rows += [(r, kind) for r in chosen]
    return rows


def _boundary_groups(records: list[Record]) -> dict[tuple[str, str], list[Record]]:
    groups: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in records:
        for kind in kinds(r):
            groups[(kind, r.era)].append(r)
    return groups


def _none_rows(records: list[Record], per_era: dict[str, int]) -> list:
    rows = []
    for era, wanted in per_era.items():
        pool = sorted(
            (
                r
                for r in records
                if r.era == era and (r.source_dataset, r.source_category) in OUT_OF_SCOPE
            ),
            key=_key,
        )
        rows += [(r, "out_of_scope_section") for r in pool[:wanted]]
    return rows


BOUNDARY_QUOTA = {
    "diplomacy": 80,
    "abroad": 80,
    "energy_crime": 40,
    "knock_on": 40,
    "energy_finance": 40,
}


NONE_QUOTA = {"2005-2007": 45, "2017-2018": 60, "2020s": 15}


SECOND_ROUND = (
    "energy_crime",
    "fuel_knock_on",
    "energy_finance",
    "diplomacy_lead",
    "abroad",
    "news_event",
    "out_of_scope_headline",
    "world_business",
    "foreign_story",
    "foreign_dateline",
)


def _second_round(rest: list[Record], salt: str, share: float) -> list[tuple[Record, str]]:
    """Texts each boundary rule votes on, energy words under another hint, 2020s texts at
    random and out-of-scope sections: ``share`` of the round's quotas, ordered by ``salt``."""
    from nlpkit.weak import label_record

    by_rule: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in rest:
        label = label_record(r)
        for name in SECOND_ROUND:
            if name in label.votes:
                by_rule[(name, r.era)].append(r)
        section = label.votes.get("section")
        if section in ("domestic", "geopolitics") and label.topic == "energy":
            by_rule[("energy_words", r.era)].append(r)
        if r.era == "2020s":
            by_rule[("random_2020s", r.era)].append(r)
        if (r.source_dataset, r.source_category) in OUT_OF_SCOPE:
            by_rule[("out_of_scope_section", r.era)].append(r)
    groups = {k: sorted(v, key=lambda r: _key(r, salt)) for k, v in by_rule.items()}
    quota = {name: 80 for name in SECOND_ROUND}
    quota.update(energy_words=100, random_2020s=150, out_of_scope_section=150)
    rows, used = [], set()
    for kind, n in quota.items():
        for r, k in _spread({g: [r for r in v if r.id not in used] for g, v in groups.items()},
                            {kind: round(n * share)}):  # fmt: skip
            used.add(r.id)
            rows.append((r, k))
    return rows


def _today(records: list[Record], salt: str, quota: tuple[int, int, int]) -> list:
    """Today's news: ``quota`` texts at random, least sure and of the boundary kinds."""
    import nlpkit

    at_random, least_sure, boundary = quota
    ordered = sorted(records, key=lambda r: _key(r, salt))
    rows = [(r, "random") for r in ordered[:at_random]]
    rest = ordered[at_random:]
    probs = nlpkit.predict_proba([r.full_text for r in rest], allow_none=True)
    sure = sorted(zip((max(p.values()) for p in probs), range(len(rest))))
    rows += [(rest[i], "least_sure") for _, i in sure[:least_sure]]
    used = {r.id for r, _ in rows}
    groups = _boundary_groups([r for r in rest if r.id not in used])
    rows += _spread(groups, {k: boundary // len(BOUNDARY_QUOTA) for k in BOUNDARY_QUOTA})
    return rows


def select(pool: str, none_quota: dict[str, int] | None = None) -> list[tuple[Record, str]]:
    taken = _taken()
    if pool in ("today", "today_dev", "today_train", "today_fuel", "today_train2"):
        today = [r for r in _records() if r.source_dataset == "news_2025_26" and r.id not in taken]
        if pool == "today_fuel":
            # The fuel crisis of February and March 2026, where most of energy's errors on
            # today's news are: training-part headlines with an energy term, at random.
            fuel = [
                r
                for r in today
                if not is_heldout(r)
                and r.date.startswith(("2026-02", "2026-03"))
                and ENERGY_TERMS.search(fold(r.title))
            ]
            return [(r, "fuel") for r in sorted(fuel, key=lambda r: _key(r, "today_fuel"))[:100]]
        if pool == "today":
            return _today([r for r in today if is_heldout(r)], "today", (600, 150, 100))
        if pool == "today_dev":
            return _today([r for r in today if not is_heldout(r)], "today_dev", (300, 100, 100))
        if pool == "today_train2":
            return _today([r for r in today if not is_heldout(r)], "today_train2", (600, 300, 100))
        return _today([r for r in today if not is_heldout(r)], "today_train", (800, 500, 200))
    records = [r for r in _records() if r.id not in taken]
    heldout = [r for r in records if is_heldout(r)]
    rest = [r for r in records if not is_heldout(r)]
    if pool in ("train2", "dev2"):
        dev2 = _second_round(rest, "dev2", 0.25)
        if pool == "dev2":
            return dev2
        used = {r.id for r, _ in dev2}
        return _second_round([r for r in rest if r.id not in used], "train2", 1.0)
    if pool == "boundaries":
        return _spread(_boundary_groups(heldout), BOUNDARY_QUOTA)
    if pool == "none":
        return _none_rows(heldout, none_quota or NONE_QUOTA)
    # The development and training pools are disjoint: dev draws first, with another salt.
    dev_groups = {
        k: sorted(rs, key=lambda r: _key(r, "dev")) for k, rs in _boundary_groups(rest).items()
    }
    dev = _spread(dev_groups, {kind: 30 for kind in BOUNDARY_QUOTA})
    dev += _none_rows(
        sorted(rest, key=lambda r: _key(r, "dev")),
        {"2005-2007": 20, "2017-2018": 20, "2020s": 20},
    )
    if pool == "dev":
        return dev
    if pool != "train":
        raise SystemExit(f"unknown pool {pool!r}")
    used = {r.id for r, _ in dev}
    rest = [r for r in rest if r.id not in used]
    rows = _spread(_boundary_groups(rest), {kind: 60 for kind in BOUNDARY_QUOTA})
    used |= {r.id for r, _ in rows}
    rows += _none_rows(
        [r for r in rest if r.id not in used], {"2005-2007": 70, "2017-2018": 70, "2020s": 60}
    )
    used |= {r.id for r, _ in rows}
    # Where the labelling functions disagree: a text rule against the section's hint.
    conflicts: dict[str, list[Record]] = defaultdict(list)
    for r in rest:
        if r.id in used:
            continue
        v = votes(r)
        if len(set(v.values())) > 1:
            conflicts[r.era].append(r)
    rows += _spread({("conflict", e): rs for e, rs in conflicts.items()}, {"conflict": 150})
    used |= {r.id for r, _ in rows}
    rows += _least_sure([r for r in rest if r.id not in used], 350)
    return rows


def _least_sure(records: list[Record], wanted: int) -> list:
    """The records the shipped model is least sure of (smallest top probability), per era."""
    import nlpkit

    probs = nlpkit.predict_proba([r.full_text for r in records])
    by_era: dict[tuple[str, str], list[tuple[float, bytes, Record]]] = defaultdict(list)
    for r, p in zip(records, probs):
        by_era[("least_sure", r.era)].append((max(p.values()), _key(r), r))
    groups = {k: [r for _, _, r in sorted(v)[:wanted]] for k, v in by_era.items()}
    # _spread sorts by the hash: keep the least sure by taking them first from each era.
    rows = []
    eras = {era: rs for (_, era), rs in groups.items()}
    while len(rows) < wanted and any(eras.values()):
        for era in sorted(eras):
            if eras[era] and len(rows) < wanted:
                rows.append((eras[era].pop(0), "least_sure"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "pool",
        choices=[
            "boundaries",
            "none",
            "train",
            "dev",
            "train2",
            "dev2",
            "today",
            "today_dev",
            "today_train",
            "today_fuel",
            "today_train2",
        ],
    )
    parser.add_argument("--out", required=True, help="TSV of id, era, kind")
    parser.add_argument(
        "--quota",
        action="append",
        metavar="ERA=N",
        help="texts per era for the none pool (repeatable; default: "
        + ", ".join(f"{e}={n}" for e, n in NONE_QUOTA.items())
        + ")",
    )
    args = parser.parse_args()
    quota = {e: int(n) for e, n in (q.split("=") for q in args.quota)} if args.quota else None
    rows = select(args.pool, quota)
    with open(args.out, "w", encoding="utf-8") as out:
        out.write("id\tera\tkind\n")
        for record, kind in rows:
            out.write(f"{record.id}\t{record.era}\t{kind}\n")
    print(f"{len(rows)} texts written to {args.out}")


if __name__ == "__main__":
    main()
