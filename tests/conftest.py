"""Shared fixtures: the seed pages, a small corpus written for the tests, and the real corpus
when it is beside the checkout."""

from __future__ import annotations

import html
import html.entities
import json
import os
import re
import signal
import threading
import unicodedata
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # The project's settings disable benchmark timing, so that the normal run executes each
    # benchmark once; asking for the benchmarks only (`pytest tests/benchmarks
    # --benchmark-only`) turns it back on.
    if config.getoption("benchmark_only", default=False):
        config.option.benchmark_disable = False


@pytest.fixture(scope="session", autouse=True)
def _the_runs_own_files_and_nlpkit(tmp_path_factory):
    """The run's segment cache and temporary files in a folder of its own: the user's cache is
    neither read (a test's answer would depend on it) nor written, and what libraries leave in
    the temporary folder (pyvi's model, a crfsuite file per process that loads it) goes with
    pytest's own folders. And the Python processes the tests start import the same nlpkit."""
    import tempfile

    folder = tmp_path_factory.mktemp("run")
    names = ("NLPKIT_CACHE_DIR", "TMPDIR", "PYTHONSAFEPATH")
    saved = {name: os.environ.get(name) for name in names}
    os.environ["NLPKIT_CACHE_DIR"] = str(folder / "cache")
    os.environ["TMPDIR"] = str(folder)
    # The Python processes the tests start import the nlpkit these tests import (the installed
    # one), not the source folder that `python -m` or `-c` would find first in the working
    # directory: without its compiled core, that one runs on pure Python.
    os.environ["PYTHONSAFEPATH"] = "1"
    saved_tempdir, tempfile.tempdir = tempfile.tempdir, str(folder)
    # Ctrl-C as in a terminal's foreground job, in this process and those it starts: a run
    # started with it ignored (`nohup`, a script's `pytest &`) passes that on to every
    # process, and the tests of what an interruption does would interrupt nothing.
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    if ignored:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    tempfile.tempdir = saved_tempdir
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
# The corpora where the command line looks for them: $NLPKIT_DATA_DIR, else ../shared/data.
SHARED_DATA = Path(os.environ.get("NLPKIT_DATA_DIR") or ROOT.parent / "shared" / "data")

# Seed texts and their topics, as the topic definitions label them.
SEED_TITLES = {
    "Tổng thống Nga và Thổ Nhĩ Kỳ thảo luận các đề xuất đảm bảo an ninh": "geopolitics",
    "Tổng thống Nga Putin tuyên bố ưu tiên thỏa thuận với phương Tây": "geopolitics",
    "Nga bắt đầu tập trận trong đợt triển khai lớn nhất đến Belarus": "geopolitics",
    "Toàn cảnh khí đốt EU: Tâm điểm của cuộc khủng hoảng Nga-Ukraina": "energy",
    "Nga tuyên bố không có nghĩa vụ giải quyết vấn đề khí đốt của EU": "energy",
    "Nở rộ dịch vụ cho thuê người yêu về nhà ra mắt dịp Tết": "domestic",
    "Nhìn lại diễn biến vụ bé trai rơi xuống trụ bê tông ở Đồng Tháp": "domestic",
    "Khoảnh khắc AFF Cup: Khép lại hành trình của ông Park Hang-seo": "sports",
    "Khởi tố Giám đốc Trung tâm đăng kiểm duy nhất ở Hòa Bình": "domestic",
    "Rung lắc thượng tầng tại Eximbank: Thập kỷ rối ren chưa kết thúc": "domestic",
}


@contextmanager
def pure():
    """Every call in the block on the pure-Python path (the compiled core set aside)."""
    from nlpkit import compiled

    saved = compiled.core
    compiled.core = None
    try:
        yield
    finally:
        compiled.core = saved


def in_threads(work: Callable[[int], object], n: int) -> None:
    """``work(0)``, ..., ``work(n - 1)``, each in a thread of its own, all at once; the first
    exception any of them raised is raised here, once all have ended."""
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            work(k)
        except BaseException as exc:  # raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


# An HTML character reference, with its semicolon (a name by HTML's own table).
_REFERENCE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _referenced(match: re.Match) -> str:
    if match[1][0] == "#":
        return html.unescape(match[0])
    return html.entities.html5.get(match[0][1:], match[0])


@pytest.fixture
def markup_reads(monkeypatch) -> list[int]:
    """The length of each piece of text Python's text preparation and the page's highlights
    read HTML in (`nlpkit.markup.read_markup`), as they call it."""
    import nlpkit.serve.highlight as highlight
    import nlpkit.text as nlptext

    read: list[int] = []
    real = nlptext.read_markup
    for module in (nlptext, highlight):
        monkeypatch.setattr(module, "read_markup", lambda t: read.append(len(t)) or real(t))
    return read


# An HTML tag of an element's name (the names nlpkit's markup lists hold): "<p>", '<a href="x">';
# a name of 16 characters at most, then a space, tab or "/" before its attributes, and no "<",
# ">" or newline before the ">" that ends it, within 1,000 characters.
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]{0,15})([ \t\r\f\v/][^<>\n]{0,1000})?>")
_ELEMENTS = {
    line.split("#")[0].strip()
    for name in ("line_elements.txt", "inline_elements.txt")
    for line in (Path(__file__).parents[1] / "nlpkit/data/markup" / name).read_text().splitlines()
} - {""}


def readable(text: str) -> bool:
    """Whether ``text`` holds anything but white space, control characters and invisible format
    characters, written as they are or as HTML character references (twice over at most),
    outside HTML tags (an independent statement of what nlpkit reads as an empty text)."""
    text = _TAG.sub(lambda m: " " if m[2].lower() in _ELEMENTS else m[0], text)
    for _ in range(2):
        text = _REFERENCE.sub(_referenced, text)
    return any(not (c.isspace() or unicodedata.category(c) == "Cc" or invisible(c)) for c in text)


def invisible(c: str) -> bool:
    """The format characters nlpkit removes (soft hyphen, zero-width, joiners, direction marks,
    byte-order mark): all of Unicode's format characters ``Cf`` of these blocks."""
    blocks = [(0xAD, 0xAD), (0x61C, 0x61C), (0x180E, 0x180E), (0x2000, 0x206F), (0xFEFF, 0xFEFF)]
    code = ord(c)
    return unicodedata.category(c) == "Cf" and any(lo <= code <= hi for lo, hi in blocks)


# A tiny corpus in the corpora's format, written for the tests (no corpus text is copied).
SMALL_CORPUS = {
    "geopolitics": [
        "Tổng thống Nga điện đàm với Tổng thống Mỹ về an ninh châu Âu và NATO",
        "Liên Hợp Quốc kêu gọi ngừng bắn tại Syria sau các cuộc không kích",
        "Bộ Ngoại giao Nga công bố dự thảo hiệp ước an ninh với Mỹ",
        "Quân đội Ukraina tập trận gần biên giới với Nga và Belarus",
        "Thủ tướng Nhật Bản hội đàm với Tổng thống Hàn Quốc tại Tokyo",
        "Bầu cử tổng thống Pháp bước vào vòng hai",
        "NATO họp thượng đỉnh bàn về căng thẳng với Nga",
        "Lực lượng Israel và Hamas giao tranh ở Dải Gaza",
    ],
    "energy": [
        "Giá xăng dầu tăng mạnh từ chiều nay theo quyết định của liên bộ",
        "EVN đề xuất tăng giá điện bán lẻ bình quân",
        "Nga cắt nguồn cung khí đốt cho châu Âu qua đường ống Nord Stream",
        "OPEC quyết định giảm sản lượng dầu thô khiến giá dầu tăng",
        "Nhà máy thủy điện lớn nhất miền Bắc phát điện trở lại",
        "Petrolimex báo lãi nhờ giá xăng tăng",
        "Thiếu điện mùa khô, ngành điện yêu cầu tiết kiệm điện",
        "Giá khí đốt tại châu Âu lập kỷ lục mới vì khủng hoảng năng lượng",
    ],
    "domestic": [
        "Công an tỉnh Đồng Tháp khởi tố vụ án nhận hối lộ tại trung tâm đăng kiểm",
        "Ngân hàng Eximbank thay đổi chủ tịch hội đồng quản trị",
        "Hà Nội thông xe cầu vượt để giảm ùn tắc giao thông",
        "Bộ Giáo dục công bố phương án thi tốt nghiệp trung học phổ thông",
        "Tòa án nhân dân TP HCM xét xử vụ lừa đảo chiếm đoạt tài sản",
        "Người dân miền Tây về quê ăn Tết, bến xe đông đúc",
        "Cứu hộ bé trai rơi xuống trụ bê tông tại công trường cầu",
        "Quốc hội thảo luận dự án luật đất đai sửa đổi",
    ],
    "sports": [
        "Tuyển Việt Nam thắng Thái Lan ở chung kết AFF Cup",
        "Huấn luyện viên Park Hang-seo chia tay bóng đá Việt Nam",
        "Câu lạc bộ Hà Nội vô địch V-League sau trận hòa",
        "Cầu thủ Quang Hải ghi bàn đẹp mắt cho đội tuyển",
        "Võ sĩ Việt Nam giành huy chương vàng SEA Games",
        "Manchester United thua đậm trên sân nhà ở Ngoại hạng Anh",
        "Vận động viên điền kinh phá kỷ lục quốc gia",
        "Đội tuyển nữ Việt Nam giành vé dự World Cup",
    ],
}
# Out of scope: what a newsroom's feed also carries (written for the tests).
SMALL_NONE = [
    "Đánh giá điện thoại thông minh mới với camera chụp đêm tốt",
    "Công thức nấu món phở bò ngon tại nhà",
    "Nữ ca sĩ ra mắt album nhạc mới vào cuối tuần",
    "Bộ phim hoạt hình mới đứng đầu phòng vé",
    "Các nhà khoa học phát hiện hành tinh mới ngoài hệ mặt trời",
    "Mẹo chăm sóc da mặt vào mùa hanh khô",
    "Điểm đến du lịch biển đẹp cho mùa hè này",
    "Ứng dụng chỉnh ảnh mới trên điện thoại",
]
_SECTIONS = {
    "geopolitics": "Thế giới",
    "domestic": "Thời sự",
    "sports": "Thể thao",
    "energy": "Kinh doanh",  # energy has no section: the labelling functions must find it
    "none": "Giải trí",
}


def write_small_corpus(
    path: Path, copies: int = 3, heldout_copies: int = 0, none: bool = False
) -> Path:
    """Write SMALL_CORPUS as a VnExpress-style JSONL file, ``copies`` times over (so that
    terms reach min_df) in the training split, and ``heldout_copies`` times in the held-out one;
    with ``none``, out-of-scope texts too."""
    lines = []
    groups = {**SMALL_CORPUS, **({"none": SMALL_NONE} if none else {})}
    for topic, texts in groups.items():
        for copy in range(copies + heldout_copies):
            for i, text in enumerate(texts):
                lines.append(
                    {
                        "id": f"test-{topic}-{copy}-{i}",
                        "source_dataset": "vnexpress_2020s",
                        "source_category": _SECTIONS[topic],
                        "title": text,
                        # (a held-out copy's text differs by a number, which no feature reads:
                        # the same title and text in both parts would be held out twice over)
                        "text": text + "." if copy < copies else f"{text}. {copy}",
                        "split": "train" if copy < copies else "validate",
                        "text_kind": "title_sapo",
                    }
                )
    path.write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8"
    )
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real corpora; tests that use this fixture skip when they are absent."""
    if not all(
        (SHARED_DATA / name).is_file() for name in ("raw_corpus.jsonl", "vnexpress_2020s.jsonl")
    ):
        pytest.skip(
            f"corpus not found: {SHARED_DATA} (../shared/data beside the checkout, or "
            "$NLPKIT_DATA_DIR)"
        )
    return SHARED_DATA


def small_cfg(tmp_path: Path, **changes) -> dict:
    """An experiment config over the small corpus (written in ``tmp_path``), with ``changes``
    (a table's keys updated, or a top-level value set)."""
    import copy

    from nlpkit.training.config import DEFAULTS

    cfg = copy.deepcopy(DEFAULTS)
    cfg["name"] = "small"
    cfg["data"]["corpora"] = [str(write_small_corpus(tmp_path / "corpus.jsonl"))]
    cfg["data"]["eval_labels"] = []
    # (the repository's samples by their full paths: the tests run from any folder)
    for key in ("dev_labels", "boundary_labels"):
        cfg["data"][key] = [str(ROOT / path) for path in cfg["data"][key]]
    cfg["features"].update(min_df=1, max_features=0)
    cfg["n_jobs"] = 1
    for section, values in changes.items():
        if isinstance(values, dict):
            cfg[section].update(values)
        else:
            cfg[section] = values
    return cfg


def _train_small(folder: Path, none: bool, head: str = "class", none_offset: float = 0.0):
    import copy

    from nlpkit.cache import SegmentCache
    from nlpkit.training import train_config as train
    from nlpkit.training.config import DEFAULTS

    corpus = write_small_corpus(folder / "corpus.jsonl", none=none)
    cfg = copy.deepcopy(DEFAULTS)
    cfg["name"] = "small-none" if none else "small"
    cfg["data"]["corpora"] = [str(corpus)]
    cfg["data"]["eval_labels"] = []
    cfg["data"]["dev_labels"] = []
    cfg["data"]["boundary_labels"] = []
    cfg["data"]["out_of_scope"] = head if none else "drop"
    cfg["classifier"]["none_offset"] = none_offset
    cfg["features"].update(min_df=1, max_features=0)
    cfg["n_jobs"] = 1
    predictor, metrics = train(cfg, cache=SegmentCache(folder / "cache.sqlite"))
    return predictor, metrics, cfg


@pytest.fixture(scope="session")
def small_model(tmp_path_factory):
    """A model trained in-process on the tests' own small corpus (a second or two)."""
    return _train_small(tmp_path_factory.mktemp("small"), none=False)


@pytest.fixture(scope="session", params=["class", "detector"])
def small_none_model(request, tmp_path_factory):
    """The same, with out-of-scope texts: none as a fifth class, or an out-of-scope detector
    beside a classifier of the topics (every test of the none API runs on both)."""
    return _train_small(tmp_path_factory.mktemp("small-none"), none=True, head=request.param)


@pytest.fixture(scope="session")
def small_none_folder(small_none_model, tmp_path_factory):
    """small_none_model saved as a model folder, for the command line, streams and Dask."""
    from nlpkit import modelfile

    return modelfile.save(small_none_model[0], tmp_path_factory.mktemp("m") / "small-none")
