import io
import json

import pytest

import nlpkit
from nlpkit.batch import predict_file, predict_stream
from nlpkit.cli import main

TEXTS = [
    "Giá xăng dầu tăng mạnh từ chiều nay",
    "Tuyển Việt Nam thắng Thái Lan ở AFF Cup",
    "Tổng thống Nga điện đàm với Tổng thống Mỹ",
    "Công an khởi tố giám đốc trung tâm đăng kiểm",
]


def write_jsonl(path, n=40):
    lines = []
    for i in range(n):
        lines.append(
            json.dumps({"id": i, "title": f"Tin {i}", "text": TEXTS[i % 4]}, ensure_ascii=False)
        )
    lines[5] = "{broken"
    lines[9] = json.dumps({"id": 9, "text": None})
    lines[12] = ""
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def expected(path):
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            out.append(None)
            continue
        out.append(
            nlpkit.predict(f"{r['title']}\n{r['text']}") if isinstance(r.get("text"), str) else None
        )
    return out


def read_out(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("workers", [1, 2])
def test_jsonl_in_order_with_errors_kept(tmp_path, workers):
    src = write_jsonl(tmp_path / "in.jsonl")
    report = predict_file(src, tmp_path / "out.jsonl", workers=workers, batch_size=7)
    rows = read_out(tmp_path / "out.jsonl")
    assert [r.get("topic") for r in rows] == expected(src)
    assert report.written == 39 and report.errors == 2
    assert rows[5] == {
        "line": 6,
        "error": "not valid JSON (Expecting property name enclosed in double quotes)",
    }
    assert rows[9]["id"] == 9 and "missing or not a string" in rows[9]["error"]
    assert rows[0]["id"] == 0 and rows[0]["title"] == "Tin 0"  # input fields are kept
    assert sum(rows[0]["probabilities"].values()) == pytest.approx(1)


def test_plain_text_lines(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("\n".join(TEXTS) + "\n\n", encoding="utf-8")
    predict_file(src, tmp_path / "out.jsonl")
    rows = read_out(tmp_path / "out.jsonl")
    assert [r["topic"] for r in rows] == nlpkit.predict(TEXTS)
    assert rows[1] == {**rows[1], "line": 2, "text": TEXTS[1]}


def test_resume_skips_finished_lines_and_cuts_a_half_written_one(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    predict_file(src, out)
    full = out.read_text(encoding="utf-8")
    lines = full.splitlines(keepends=True)
    out.write_text("".join(lines[:10]) + lines[10][:15], encoding="utf-8")  # interrupted mid-line
    report = predict_file(src, out, resume=True)
    assert report.resumed == 10 and report.written == 29
    assert out.read_text(encoding="utf-8") == full


def test_stream_to_a_buffer_with_a_given_predictor():
    buffer = io.StringIO()
    predict_stream(TEXTS, buffer, predictor=nlpkit.load(), jsonl=False)
    assert [json.loads(x)["topic"] for x in buffer.getvalue().splitlines()] == nlpkit.predict(TEXTS)


def test_command_line(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", n=14)
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--input", str(src), "--output", str(out), "--workers", "2"]) == 0
    assert [r.get("topic") for r in read_out(out)] == expected(src)
    assert "13 records written (2 with errors)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--input", "x.jsonl"], "--input and --output go together"),
        (["--input", "no/such.jsonl", "--output", "o.jsonl"], "file not found"),
        (["--input", "-", "--output", "-", "--workers", "0"], "at least 1"),
    ],
)
def test_command_line_errors(capsys, args, message):
    assert main(["predict", *args]) == 2
    assert message in capsys.readouterr().err
