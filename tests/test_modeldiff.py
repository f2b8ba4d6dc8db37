import json

import numpy as np
import pytest
from conftest import SMALL_CORPUS

from nlpkit.cli import main
from nlpkit.modeldiff import compare, read_texts
from nlpkit.predictor import Predictor

TEXTS = [t for texts in SMALL_CORPUS.values() for t in texts]


def nudged(predictor, by: float) -> Predictor:
    """The same model with the first topic's coefficients moved by ``by``."""
    coef = np.array(predictor.coef)
    coef[0] += by
    return Predictor(
        predictor.features,
        coef,
        predictor.intercept,
        predictor.topics,
        max_chars=predictor.max_chars,
        segment=predictor.segment,
        temperature=predictor.temperature,
        none=predictor.none,
        none_head=predictor.none_head,
    )


def test_a_nudge_is_the_same_answers_and_a_push_is_not(small_model):
    predictor = small_model[0]
    same = compare(predictor, nudged(predictor, 1e-9), TEXTS)
    assert same["same"] and same["answers_differ"] == 0 and same["texts"] == len(TEXTS)
    assert same["coef_max_difference"] == pytest.approx(1e-9, rel=1e-3)
    far = compare(predictor, nudged(predictor, 0.5), TEXTS, tolerance=1e-4)
    assert far["probability_max_difference"] > 1e-4 and not far["same"]


def test_the_command_tells_the_two_apart(small_model, tmp_path, capsys):
    predictor = small_model[0]
    predictor.save(tmp_path / "a")
    nudged(predictor, 1e-9).save(tmp_path / "b")
    nudged(predictor, 0.5).save(tmp_path / "c")
    texts = tmp_path / "texts.txt"
    texts.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "b"), "--texts", str(texts)]) == 0
    out = capsys.readouterr().out
    assert "coef.npy: differs" in out and "answers: 0 of 32 texts differ" in out
    assert out.rstrip().endswith("same answers within tolerance 0.0001")
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "c"), "--texts", str(texts)]) == 1
    assert capsys.readouterr().out.rstrip().endswith("different (tolerance 0.0001)")
    # Titled texts (JSON lines) are listed a line each, title and text together.
    titled = tmp_path / "titled.jsonl"
    titled.write_text(
        "".join(json.dumps({"title": t, "text": t}, ensure_ascii=False) + "\n" for t in TEXTS),
        encoding="utf-8",
    )
    nudged(predictor, 50.0).save(tmp_path / "d")  # (the first topic for every text)
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "d"), "--texts", str(titled)]) == 1
    listed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]
    shown = {line.split(": ", 1)[1] for line in listed}
    assert shown and shown <= {f"{t} {t}"[:80] for t in TEXTS}
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "a"), "--texts", str(texts)]) == 0
    assert capsys.readouterr().out == "identical\n"
    # A --texts that is not there is a usage error before anything is compared, whether or not
    # the folders would have differed.
    capsys.readouterr()
    for other in ("a", "b"):
        args = ["diff", str(tmp_path / "a"), str(tmp_path / other), "--texts", "none.txt"]
        assert main(args) == 2
        out, err = capsys.readouterr()
        assert out == "" and "--texts none.txt: not found" in err
    # So is one that cannot be read as texts: UTF-16, empty, blank, CSV (read a line a text,
    # its header would be a text and each text would hold its label).
    (tmp_path / "u16.txt").write_bytes("Giá xăng\n".encode("utf-16"))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_bytes(b"\n \n")
    (tmp_path / "train.csv").write_text("text,label\nGiá xăng tăng,energy\n", "utf-8")
    for name, message in [
        ("u16.txt", "it is UTF-16 (byte-order mark): convert it to UTF-8 first"),
        ("empty.txt", "no text in it"),
        ("blank.txt", "no text in it"),
        (
            "train.csv",
            "CSV is not read here, only JSON lines (text and title fields) or plain text, one "
            "text a line: convert it to JSON lines",
        ),
    ]:
        args = ["diff", str(tmp_path / "a"), str(tmp_path / "b"), "--texts", str(tmp_path / name)]
        assert main(args) == 2
        out, err = capsys.readouterr()
        assert out == "" and err == f"nlpkit diff: error: --texts {tmp_path / name}: {message}\n"


def test_texts_are_read_from_json_lines_and_plain_lines(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"title": "Tít", "text": "Thân bài"}\n\n{"text": "Hai"}\n', "utf-8")
    assert list(read_texts(path)) == ["Tít\nThân bài", "Hai"]
    plain = tmp_path / "t.txt"
    plain.write_text("một\n\nhai\n", "utf-8")
    assert list(read_texts(plain)) == ["một", "hai"]


def test_an_answer_of_out_of_scope_is_printed_none(small_model, tmp_path, capsys, monkeypatch):
    # As `nlpkit predict --allow-none` prints it, not Python's None.
    import nlpkit.modeldiff as modeldiff

    found = {"same_terms": False, "texts": 1, "answers_differ": 1, "same": False,
             "probability_max_difference": 0.5,
             "examples": [{"first": "domestic", "second": None, "text": "Lớp học miễn phí"}]}  # fmt: skip
    monkeypatch.setattr(modeldiff, "compare", lambda *args: found)
    (tmp_path / "t.txt").write_text("Lớp học miễn phí\n", encoding="utf-8")
    small_model[0].save(tmp_path / "a")
    nudged(small_model[0], 0.5).save(tmp_path / "b")
    main(["diff", str(tmp_path / "a"), str(tmp_path / "b"), "--texts", str(tmp_path / "t.txt")])
    assert "  domestic / none: Lớp học miễn phí" in capsys.readouterr().out.splitlines()


def test_unreadable_texts_are_one_line_and_exit_2(small_model, tmp_path, capsys):
    import gzip

    small_model[0].save(tmp_path / "a")
    nudged(small_model[0], 0.5).save(tmp_path / "b")
    lines = "".join(json.dumps({"title": "", "text": f"{t} {i}"}) + "\n" for i, t in
                    enumerate(TEXTS * 400)).encode()  # fmt: skip
    packed = gzip.compress(lines)
    cases = {
        "cut.jsonl.gz": (packed[:200], "damaged gzip file"),
        # (readable at its start, cut short after: found while the answers are compared)
        "late.jsonl.gz": (packed[: len(packed) // 2], "damaged gzip file"),
        "number.jsonl": (b'{"text": 5}\n', "num.jsonl:1: 'title' and 'text' must be strings"),
        "random.dat": (bytes(range(128, 256)) * 8, "not UTF-8"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        capsys.readouterr()
        code = main(["diff", str(tmp_path / "a"), str(tmp_path / "b"), "--texts", str(path)])
        assert code == 2, name
        err = capsys.readouterr().err
        assert message.replace("num.jsonl", name) in err and "Traceback" not in err, err
