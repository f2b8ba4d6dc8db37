from conftest import SMALL_CORPUS

from nlpkit.card import compare_era_table


def _scores(macro: float, n: int) -> dict:
    return {
        "n": n,
        "macro_f1": macro,
        "accuracy": macro,
        "per_label": {t: {"f1": macro} for t in ("geopolitics", "energy", "none")},
    }


def test_the_era_table_reads_one_eras_figures():
    heldout = {
        key: {"by_era": {"2025-26": _scores(0.9, 813), "2005-2007": _scores(0.5, 292)}}
        for key in ("hand", "hand_none", "hand_title_only")
    }
    run = {"name": "r", "heldout": heldout, "dev": {"hand": {"by_era": {}}}}
    rows = compare_era_table([run], "2025-26").splitlines()
    assert rows[0].startswith("| run | dev macro-F1 |") and len(rows) == 3
    # The era's figures, a dash where the run has none (its dev sample has no such era).
    assert rows[2] == "| r | – | – | 0.900 | 0.900 | 0.900 | 0.900 | 0.900 | 0.900 | 813 |"
    assert "| 0.500 |" in compare_era_table([run], "2005-2007")


def test_a_label_the_font_lacks_draws_without_a_warning():
    # (matplotlib warns once per missing glyph: noise in a training run's output)
    import warnings

    import pytest

    from nlpkit.card import confusion_png

    pytest.importorskip("matplotlib")
    metrics = {"confusion_matrix": {"labels": ["a\x00", "中文"], "matrix": [[1, 0], [0, 1]]}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        picture = confusion_png(metrics, "labels of other scripts")
    assert picture.startswith(b"\x89PNG")


def test_the_picture_of_many_labels_is_of_bounded_size():
    # (a cell numbered and an inch a label: 200 labels made a picture of 13,000 pixels a
    # side, minutes to draw)
    import struct

    import pytest

    pytest.importorskip("matplotlib")
    from nlpkit.card import confusion_png

    n = 120
    matrix = [[9 if i == j else (i * j) % 3 for j in range(n)] for i in range(n)]
    metrics = {"confusion_matrix": {"labels": [f"label {i}" for i in range(n)], "matrix": matrix}}
    picture = confusion_png(metrics, "many labels")
    width, height = struct.unpack(">II", picture[16:24])  # (the PNG header's IHDR)
    assert width <= 1700 and height <= 1600


def test_a_label_holding_a_bar_stays_in_its_cell(tmp_path):
    import re

    import nlpkit

    texts = [t for ts in SMALL_CORPUS.values() for t in ts] * 3
    names = {"energy": "Kinh doanh | Tài chính", "sports": "Thể thao"}
    labels = [names.get(label, label) for label, ts in SMALL_CORPUS.items() for _ in ts] * 3
    texts = [f"{t} ({i})" for i, t in enumerate(texts)]
    model = nlpkit.train(texts, labels, holdout=0.25, min_df=1, seed=3)
    card = model.save(tmp_path / "m").joinpath("README.md").read_text("utf-8")
    assert "Kinh doanh \\| Tài chính" in card
    for table in re.findall(r"(?:^\|.*\|\n)+", card, flags=re.M):
        rows = table.strip().splitlines()
        cells = [len(re.findall(r"(?<!\\)\|", row)) for row in rows]
        assert len(set(cells)) == 1, rows
