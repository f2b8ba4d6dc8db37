import io
import json

import pytest
from conftest import ROOT

import nlpkit
from nlpkit.batch import InputError, predict_file, predict_stream, run_record_path
from nlpkit.cli import main


@pytest.fixture(autouse=True)
def _two_cores_at_least(monkeypatch):
    # The runs in this process with two workers run two on a machine of one core too (the
    # command and the functions run no more workers than cores: they would test one).
    from nlpkit.training import parallel

    cores = parallel.usable_cores
    monkeypatch.setattr(parallel, "usable_cores", lambda: max(2, cores()))


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
        if not line.strip():  # a blank line: an error record
            out.append(None)
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
    assert report.written == 40 and report.errors == 3
    assert rows[12] == {"line": 13, "error": "blank line"}
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
    assert [r["topic"] for r in rows[:4]] == nlpkit.predict(TEXTS)
    assert rows[1] == {**rows[1], "line": 2, "text": TEXTS[1]}
    assert rows[4] == {"line": 5, "error": "blank line"}  # the blank line has its line too


def test_resume_skips_finished_lines_and_cuts_a_half_written_one(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    predict_file(src, out)
    full = out.read_text(encoding="utf-8")
    lines = full.splitlines(keepends=True)
    out.write_text("".join(lines[:10]) + lines[10][:15], encoding="utf-8")  # interrupted mid-line
    report = predict_file(src, out, resume=True)
    assert report.resumed == 10 and report.written == 30
    assert out.read_text(encoding="utf-8") == full
    # (of the lines kept, lines 6 and 10 are errors; of those written, line 13)
    assert (report.resumed_errors, report.errors) == (2, 1)


def test_a_resumed_runs_exit_status_counts_the_errors_of_the_lines_it_kept(tmp_path, capsys):
    # (an interrupted run's errors were left out: resumed, the command said 0 and exited 0)
    src = write_jsonl(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    args = ["predict", "--input", str(src), "--output", str(out)]
    assert main(args) == 1
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    for kept, status in ((11, 1), (30, 1)):
        out.write_text("".join(lines[:kept]), encoding="utf-8")
        assert main([*args, "--resume"]) == status
        err = capsys.readouterr().err
        assert "3 records failed" in err
    out.write_text("".join(lines[:11]), encoding="utf-8")
    assert main([*args, "--resume", "--max-errors", "3"]) == 0
    assert "skipped as already done (2 with errors)" in capsys.readouterr().err
    # A text with nothing to read: its error comes from the classification, not the reading.
    src.write_text(json.dumps({"text": TEXTS[0]}) + "\n" + json.dumps({"text": "   "}) + "\n")
    assert main(args) == 1
    capsys.readouterr()
    assert main([*args, "--resume"]) == 1  # (both lines kept, one of them an error)
    assert "2 skipped as already done (1 with errors)" in capsys.readouterr().err


def test_stream_to_a_buffer_with_a_given_predictor():
    buffer = io.StringIO()
    predict_stream(TEXTS, buffer, predictor=nlpkit.load(), jsonl=False)
    assert [json.loads(x)["topic"] for x in buffer.getvalue().splitlines()] == nlpkit.predict(TEXTS)


def test_command_line(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", n=14)
    out = tmp_path / "out.jsonl"
    # Records failed: every line is written, and the exit status says so.
    assert main(["predict", "--input", str(src), "--output", str(out), "--workers", "2"]) == 1
    assert [r.get("topic") for r in read_out(out)] == expected(src)
    err = capsys.readouterr().err
    assert "14 records written (3 with errors)" in err
    assert "3 records failed" in err and "--max-errors 0" in err
    args = ["predict", "--input", str(src), "--output", str(out), "--max-errors", "3"]
    assert main(args) == 0
    assert main([*args[:-1], "2"]) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--input", "x.jsonl"], "--input needs --output: a file, or - for standard output"),
        (["--output", "o.jsonl"], "--output needs --input: a file, or - for standard input"),
        (["--input", "no/such.jsonl", "--output", "o.jsonl"], "--input no/such.jsonl: not found"),
        (
            ["--input", "/dev/null", "--output", "o.jsonl"],
            "--input /dev/null: is not a regular file (a pipe or a device): give a file, or - "
            "with it on standard input",
        ),
        (["--input", "-", "--output", "-", "--workers", "0"], "at least 1"),
    ],
)
def test_command_line_errors(capsys, args, message):
    assert main(["predict", *args]) == 2
    assert message in capsys.readouterr().err


# -- whatever a record holds, it gets a topic or an error, and one output line --------------


def run_cli(*args, stdin=None, cwd=None):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "nlpkit.cli", *args],
        **({"input": stdin} if stdin is None or isinstance(stdin, bytes) else {"stdin": stdin}),
        capture_output=True,
        cwd=cwd,
        timeout=300,
    )


ODD_LINES = [
    b'{"id": 1, "text": "Gi\\u00e1 x\\u0103ng t\\u0103ng \\ud83d"}',  # a lone surrogate escape
    json.dumps({"id": 2, "text": "\n" * 5000 + TEXTS[0]}).encode(),  # white space before the text
    json.dumps({"id": 3, "text": "\x00\x07 \u200b"}).encode(),  # nothing to read
    b'{"id": 4,\r "text":\r "' + TEXTS[1].encode() + b'"}',  # bare CRs: JSON white space
    b'{"id": 5, "text": "' + "Gi\xe1 x\xe2ng".encode("latin-1") + b'"}',  # not UTF-8
    b'{"id": 6, "score": NaN, "text": "' + TEXTS[2].encode() + b'"}',  # NaN is not JSON
    json.dumps({"id": 7, "text": "Tin\u2028" + TEXTS[3]}).encode(),  # a Unicode line separator
    json.dumps({"id": 8, "title": 5, "text": "x"}).encode(),
]


@pytest.mark.parametrize("workers", [1, 2])
def test_every_odd_record_gets_a_topic_or_an_error_and_one_line(tmp_path, workers):
    src = tmp_path / "in.ndjson"  # any name: JSON lines are known by their content
    src.write_bytes(b"\xef\xbb\xbf" + b"\n".join(ODD_LINES) + b"\n")
    out = tmp_path / "out.jsonl"
    report = predict_file(src, out, workers=workers, batch_size=3)
    raw = out.read_bytes().split(b"\n")
    assert raw[-1] == b"" and len(raw) == len(ODD_LINES) + 1  # one line per input line
    rows = [json.loads(line) for line in raw[:-1]]
    assert [r.get("id") for r in rows] == [1, 2, 3, 4, None, 6, 7, 8]
    assert rows[0]["text"].endswith("\ud83d") and rows[0]["topic"] in nlpkit.TOPICS
    # Valid JSON (a lone surrogate escape is): kept as it was written, as every such line.
    assert raw[0].startswith(ODD_LINES[0][:-1] + b',"topic":')
    assert rows[1]["topic"] == "energy"
    assert rows[2]["line"] == 3 and "empty" in rows[2]["error"]
    assert rows[3]["topic"] == "sports"
    assert rows[4] == {"line": 5, "error": "not UTF-8 (byte 0xe1 at column 22)"}
    assert rows[5]["score"] is None and rows[5]["topic"] == "geopolitics"
    assert rows[6]["topic"] == "domestic"
    assert rows[7]["line"] == 8 and rows[7]["error"] == "field 'title' is not a string"
    assert report.written == 8 and report.errors == 3


def test_plain_text_lines_are_not_said_to_have_fields_of_ours(tmp_path, capsys):
    # Each line of plain text becomes {"line": n, "text": ...}: its fields are nlpkit's own,
    # and the summary must not say they replaced any of the input's.
    src = tmp_path / "in.txt"
    src.write_text("\n".join(TEXTS[:3]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--input", str(src), "--output", str(out)]) == 0
    assert [row["line"] for row in read_out(out)] == [1, 2, 3]
    err = capsys.readouterr().err
    assert "3 records written" in err and "named like nlpkit's" not in err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_every_field_named_like_ours_is_replaced_not_left_beside_the_answer(
    tmp_path, capsys, workers
):
    # An input's "error" beside nlpkit's topic, or its "topic" beside nlpkit's error, would be
    # an answer nlpkit never gave.
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n".join(
            [
                json.dumps({"text": TEXTS[0], "error": "scrape failed", "line": 99}),
                json.dumps({"text": 5, "line": 99, "topic": "sports"}),
                json.dumps({"id": 3, "text": TEXTS[1], "probabilities": 1}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    main(["predict", "--input", str(src), "--output", str(out), "--workers", workers])
    first, second, third = read_out(out)
    assert "error" not in first and "line" not in first and first["topic"] == "energy"
    assert second == {"text": 5, "line": 2, "error": "field 'text' missing or not a string"}
    assert third["id"] == 3 and set(third["probabilities"]) == set(nlpkit.TOPICS)
    assert "3 records had fields named like nlpkit's output" in capsys.readouterr().err


def test_fields_named_like_ours_are_reported_or_kept_with_a_prefix(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"text": TEXTS[0], "topic": "old", "error": None}) + "\n", encoding="utf-8"
    )
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--input", str(src), "--output", str(out)]) == 0
    assert read_out(out)[0]["topic"] == "energy"
    assert "1 record had fields named like nlpkit's output" in capsys.readouterr().err
    assert main(["predict", "--input", str(src), "--output", str(out), "--prefix", "nlpkit_"]) == 0
    row = read_out(out)[0]
    assert (
        row["topic"] == "old" and row["nlpkit_topic"] == "energy" and "nlpkit_probabilities" in row
    )


def test_an_output_that_cannot_be_opened_is_one_line(tmp_path, monkeypatch, capsys):
    import nlpkit.batch.streaming as streaming

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": TEXTS[0]}) + "\n", encoding="utf-8")
    opened = streaming.os.open

    def refused(path, *args, **kwargs):
        if str(path).endswith("out.jsonl"):
            raise PermissionError(13, "Permission denied", str(path))
        return opened(path, *args, **kwargs)

    monkeypatch.setattr(streaming.os, "open", refused)
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--input", str(src), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"nlpkit predict: error: --output {out}: cannot write it (Permission denied)\n"


def test_a_csv_file_is_refused_before_anything_is_written(tmp_path, capsys):
    src = tmp_path / "news.csv"
    src.write_text('text,label\n"' + TEXTS[0] + '\nmore of it",energy\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--input", str(src), "--output", str(out)]) == 2
    assert "CSV is not read here" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["news.csv"]  # no output, run record or lock
    # --format text: its lines are texts all the same (the header too)
    assert main(["predict", "--input", str(src), "--output", str(out), "--format", "text"]) == 0
    assert [row["text"] for row in read_out(out)][0] == "text,label"


def test_input_that_is_not_lines_of_text_is_refused(tmp_path, capsys):
    utf16 = tmp_path / "utf16.txt"
    utf16.write_text(TEXTS[0], encoding="utf-16")
    binary = tmp_path / "binary"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00" * 50)
    array = tmp_path / "array.json"
    array.write_text(json.dumps([{"text": TEXTS[0]}]), encoding="utf-8")
    utf32 = tmp_path / "utf32.txt"
    utf32.write_text(TEXTS[0], encoding="utf-32")
    utf32be = tmp_path / "utf32be.txt"
    utf32be.write_bytes(b"\x00\x00\xfe\xff" + TEXTS[0].encode("utf-32-be"))
    for path, message in (
        (utf16, "UTF-16"),
        (utf32, "it is UTF-32 (byte-order mark)"),
        (utf32be, "it is UTF-32 (byte-order mark)"),
        (binary, "it is a program (ELF), not lines of text"),
        (array, "a JSON array, not JSON lines"),
    ):
        assert main(["predict", "--input", str(path), "--output", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1


def test_latin1_lines_are_errors_not_garbage(tmp_path):
    src = tmp_path / "in.txt"
    src.write_bytes("Giá xăng tăng\n".encode() + "Giá xâng\n".encode("latin-1"))
    predict_file(src, tmp_path / "out.jsonl")
    rows = read_out(tmp_path / "out.jsonl")
    assert rows[0]["topic"] == "energy" and rows[1]["error"].startswith("not UTF-8")


def test_format_is_read_from_the_content_of_standard_input():
    result = run_cli(
        "predict", "--input", "-", "--output", "-", stdin=json.dumps({"text": TEXTS[1]}).encode()
    )
    assert result.returncode == 0
    assert json.loads(result.stdout)["topic"] == "sports"
    result = run_cli("predict", "--input", "-", "--output", "-", stdin=TEXTS[1].encode())
    assert json.loads(result.stdout) == {**json.loads(result.stdout), "line": 1, "text": TEXTS[1]}


def test_output_onto_the_input_is_refused_however_it_is_named(tmp_path, capsys):
    import os

    src = write_jsonl(tmp_path / "in.jsonl")
    before = src.read_bytes()
    os.symlink(src, tmp_path / "link.jsonl")
    os.link(src, tmp_path / "hard.jsonl")
    for output in (
        src,
        tmp_path / "link.jsonl",
        tmp_path / "hard.jsonl",
        tmp_path / "." / "in.jsonl",
    ):
        assert main(["predict", "--input", str(src), "--output", str(output)]) == 2
        assert "is the input file" in capsys.readouterr().err
    # standard input redirected from the output file
    with src.open("rb") as stdin:
        result = run_cli(
            "predict", "--input", "-", "--output", str(tmp_path / "hard.jsonl"), stdin=stdin
        )
    assert result.returncode == 2 and b"is the input file" in result.stderr
    # standard output appending to the input file
    with open(src, "ab") as stdout:
        import subprocess
        import sys

        result = subprocess.run(
            [sys.executable, "-m", "nlpkit.cli", "predict", "--input", str(src), "--output", "-"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            timeout=300,
        )
    assert result.returncode == 2 and b"standard output is the input file" in result.stderr
    assert src.read_bytes() == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["--output", "{tmp}/missing/out.jsonl"], "folder {tmp}/missing not found"),
        (["--output", "{tmp}"], "is a folder"),
        (["--output", "-", "--resume"], "--resume needs an output file"),
        (["--output", "{tmp}/o", "--page"], "--page does not apply to --input"),
        (["--output", "{tmp}/o", "--proba"], "--proba does not apply to --input"),
    ],
)
def test_file_mode_usage_errors(tmp_path, capsys, args, message):
    src = write_jsonl(tmp_path / "in.jsonl")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(["predict", "--input", str(src), *args]) == 2
    err = capsys.readouterr().err
    assert message.replace("{tmp}", str(tmp_path)) in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "option", [["--resume"], ["--workers", "2"], ["--batch-size", "9"], ["--format", "text"]]
)
def test_file_options_without_input_are_refused(capsys, option):
    assert main(["predict", *option, TEXTS[0]]) == 2
    assert f"{option[0]} applies to --input/--output only" in capsys.readouterr().err


def test_resume_refuses_the_output_of_another_input(tmp_path, capsys):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl(first)
    second.write_text(
        "".join(json.dumps({"id": i, "text": TEXTS[0]}) + "\n" for i in range(50)), encoding="utf-8"
    )
    out = tmp_path / "out.jsonl"
    predict_file(first, out)
    lines = out.read_bytes().split(b"\n")
    out.write_bytes(b"\n".join(lines[:10]) + b"\n")
    before = out.read_bytes()
    assert main(["predict", "--input", str(second), "--output", str(out), "--resume"]) == 2
    assert "was written for another input than" in capsys.readouterr().err
    assert out.read_bytes() == before
    # Even with the run record of the second input, its lines are checked one by one.
    import shutil

    shutil.copy(first, tmp_path / "keep")
    shutil.copy(second, first)
    record = json.loads(run_record_path(out).read_text())
    record["input"] = json.loads(json.dumps(record["input"]))
    import os

    from nlpkit.batch.output import _fingerprint

    fd = os.open(first, os.O_RDONLY)
    record["input"].update(_fingerprint(fd))
    os.close(fd)
    run_record_path(out).write_text(json.dumps(record))
    assert main(["predict", "--input", str(first), "--output", str(out), "--resume"]) == 2
    assert "does not answer input line 1" in capsys.readouterr().err
    assert out.read_bytes() == before


def test_progress_line_is_padded(capsys):
    from nlpkit.batch import BatchReport
    from nlpkit.batch.streaming import _show

    _show(BatchReport(written=5), 1.0, None)
    line = capsys.readouterr().err
    assert line.startswith("\r5 records") and len(line) >= 61


def _children(pid: int) -> set[int]:
    from pathlib import Path

    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text() if (task / "children").exists() else ""
        found |= {int(x) for x in text.split()}
    return found


# Records in the inputs of the tests that interrupt a run: enough that it is still running
# when the first lines are out, however fast it is.
RECORDS = 30_000


def _interruptible() -> None:
    """In the command's process before it starts: SIGINT handled as in a terminal's
    foreground job, where Ctrl-C comes from. Tests run as a shell's background job (``pytest
    &``) start with SIGINT ignored, and the command keeps it so, as Unix programs do (nohup):
    the test would not be of an interruption."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _running(tmp_path, out_name: str, workers: str, at_least: int = 20_000, **popen):
    """A `predict --input` run of `RECORDS` records in a child process, once the first
    ``at_least`` bytes of its output are out: the process, its arguments and its output."""
    import subprocess
    import sys
    import time

    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"id": i, "text": TEXTS[i % 4] * 10}) + "\n" for i in range(RECORDS)),
        encoding="utf-8",
    )
    out = tmp_path / out_name
    args = ["predict", "--input", str(src), "--output", str(out), "--workers", workers]
    proc = subprocess.Popen([sys.executable, "-m", "nlpkit.cli", *args, "--batch-size", "64"],
                            **popen)  # fmt: skip
    deadline = time.monotonic() + 120
    while (not out.exists() or out.stat().st_size < at_least) and time.monotonic() < deadline:
        time.sleep(0.01)
    return proc, args, out


# (the command runs no more workers than the cores this process may use)
one_core = pytest.mark.skipif(
    __import__("nlpkit.training.parallel").training.parallel.usable_cores() < 2,
    reason="two workers need two usable cores",
)


def _file_size_limit(size: int):
    def limit() -> None:  # (in the child: writes past `size` bytes fail, as on a full disk)
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


@pytest.mark.skipif(__import__("os").name != "posix", reason="POSIX's file size limit")
def test_a_write_that_fails_leaves_whole_lines_that_resume_continues(tmp_path):
    # A full disk left the output ending in a part of a record: broken JSON for any reader
    # but --resume.
    import subprocess
    import sys

    records = [json.dumps({"id": i, "text": TEXTS[i % 4]}, ensure_ascii=False) for i in range(600)]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(records) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    args = ["predict", "--input", str(src), "--output", str(out), "--batch-size", "16"]
    proc = subprocess.run(
        [sys.executable, "-m", "nlpkit", *args], capture_output=True, text=True,
        cwd=ROOT / "tests", preexec_fn=_file_size_limit(50_000), timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1 and "cannot write the output: File too large" in proc.stderr
    data = out.read_bytes()
    assert 0 < len(data) <= 50_000 and data.endswith(b"\n")
    assert all(json.loads(line)["id"] == i for i, line in enumerate(data.splitlines()))
    assert main([*args, "--resume"]) == 0
    assert [r["id"] for r in read_out(out)] == list(range(600))


@one_core
@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/task"), reason="needs /proc")
@pytest.mark.parametrize("sig, status", [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_ends_the_workers_keeps_complete_lines_and_says_how_to_resume(
    tmp_path, sig, status
):
    import os
    import signal
    import subprocess
    import time

    proc, args, out = _running(
        tmp_path, "out.jsonl", "2", stderr=subprocess.PIPE, text=True, preexec_fn=_interruptible
    )
    workers = _children(proc.pid)
    assert workers, "the workers should be running"
    proc.send_signal(getattr(signal, sig))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    assert "records are complete in" in err and "--resume" in err
    time.sleep(0.5)
    assert not any(os.path.exists(f"/proc/{pid}") for pid in workers), "orphaned workers"
    assert out.read_bytes().endswith(b"\n")
    done = len(out.read_bytes().split(b"\n")) - 1
    assert 0 < done < RECORDS
    assert main([*args, "--resume"]) == 0
    rows = read_out(out)
    assert [r["id"] for r in rows] == list(range(RECORDS))


@one_core
@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="Linux's /proc")
def test_workers_end_with_a_parent_that_is_killed_and_the_output_can_be_resumed(tmp_path):
    # SIGKILL (the out-of-memory killer, kill -9) gives the parent no time to end its workers:
    # the system must, or they wait forever holding the output's lock.
    import os
    import signal
    import subprocess
    import time

    proc, args, out = _running(tmp_path, "out.jsonl", "2", stderr=subprocess.DEVNULL)
    workers = _children(proc.pid)
    assert workers, "the workers should be running"
    proc.kill()
    proc.wait()
    from pathlib import Path

    def running(pid):  # (a zombie has ended: this machine's first process may not reap it)
        try:
            state = Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0]
        except (FileNotFoundError, IndexError):
            return False
        return state != "Z"

    deadline = time.monotonic() + 10
    while any(running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in workers if running(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "workers outlived their killed parent"
    assert main([*args, "--resume"]) == 0
    assert [r["id"] for r in read_out(out)] == list(range(RECORDS))


def test_an_interruption_while_resume_checks_says_the_output_is_untouched(
    tmp_path, monkeypatch, capsys
):
    # Ctrl-C while --resume reads the lines already there: nothing was cut or written yet, and
    # the message must not say that none of them is complete.
    import nlpkit.batch.streaming as streaming

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    args = ["predict", "--input", str(src), "--output", str(out)]
    assert main(args) == 0
    before = out.read_bytes()

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(streaming, "_resumable", interrupted)
    capsys.readouterr()
    assert main([*args, "--resume"]) == 130
    err = capsys.readouterr().err
    assert f"interrupted; nothing was written, and {out} is as it was" in err
    assert "records are complete" not in err
    assert out.read_bytes() == before


@pytest.mark.parametrize("sig, status", [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_to_one_worker_keeps_complete_lines_and_says_how_to_resume(tmp_path, sig, status):
    # One worker, in this process: a signal ends the run with complete lines only.
    import signal
    import subprocess
    import sys
    import time

    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"id": i, "text": TEXTS[i % 4] * 10}) + "\n" for i in range(RECORDS)),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    args = ["predict", "--input", str(src), "--output", str(out), "--batch-size", "64"]
    proc = subprocess.Popen([sys.executable, "-m", "nlpkit.cli", *args], stderr=subprocess.PIPE,
                            text=True, preexec_fn=_interruptible)  # fmt: skip
    deadline = time.monotonic() + 120
    while (not out.exists() or out.stat().st_size < 20_000) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(getattr(signal, sig))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    assert "records are complete in" in err and "--resume" in err
    assert out.read_bytes().endswith(b"\n")
    assert 0 < len(out.read_bytes().split(b"\n")) - 1 < RECORDS
    assert main([*args, "--resume"]) == 0
    assert [r["id"] for r in read_out(out)] == list(range(RECORDS))


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_interrupted_gzip_output_is_whole_and_says_it_cannot_be_resumed(tmp_path, workers):
    # The writing thread's last write ends before the gzip stream is closed: a stream closed
    # during a write is corrupt (a CRC error), however many lines it holds.
    import gzip
    import re
    import signal
    import subprocess

    proc, _, out = _running(tmp_path, "out.jsonl.gz", workers, at_least=5_000,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_interruptible)  # fmt: skip
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "a whole gzip file. A compressed output cannot be resumed" in err
    lines = gzip.decompress(out.read_bytes()).decode("utf-8").splitlines()
    said = int(re.search(r"([\d,]+) records are complete", err).group(1).replace(",", ""))
    assert 0 < len(lines) == said < RECORDS
    assert [json.loads(line)["id"] for line in lines] == list(range(said))


@pytest.mark.parametrize("workers", [1, 2])
def test_damaged_gzip_input_is_one_line_after_the_complete_records(tmp_path, capsys, workers):
    import gzip

    lines = "".join(json.dumps({"id": i, "text": TEXTS[i % 4]}) + "\n" for i in range(20_000))
    packed = gzip.compress(lines.encode(), compresslevel=1)
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(packed[: len(packed) // 2] + b"\0" * 64 + packed[len(packed) // 2 :])
    out = tmp_path / "out.jsonl"
    status = main(["predict", "--input", str(src), "--output", str(out),
                   "--workers", str(workers)])  # fmt: skip
    err = capsys.readouterr().err
    assert status != 0 and "damaged gzip data after line" in err
    assert len(err.strip().splitlines()) <= 2 and "Traceback" not in err
    data = out.read_bytes()
    assert data.endswith(b"\n") or not data


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_gzip_input_cut_short_answers_every_complete_line_then_exits_1(tmp_path, capsys, workers):
    # Lines were answered: not "nothing done" (2), and every line the data holds whole is in
    # the output (gzip's reader dropped what it had decompressed in the read that failed).
    import gzip
    import zlib

    lines = "".join(json.dumps({"id": i, "text": TEXTS[i % 4]}) + "\n" for i in range(20_000))
    packed = gzip.compress(lines.encode(), compresslevel=1)
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(packed[: len(packed) // 2])
    whole = zlib.decompressobj(31).decompress(packed[: len(packed) // 2]).count(b"\n")
    out = tmp_path / "out.jsonl"
    status = main(["predict", "--input", str(src), "--output", str(out), "--workers", workers])
    err = capsys.readouterr().err
    assert status == 1, err
    assert f"damaged gzip data after line {whole:,}" in err
    assert f"the {whole:,} records before it are complete in {out}" in err
    assert [row["id"] for row in read_out(out)] == list(range(whole))


def test_closed_pipe_ends_quietly(tmp_path):
    import subprocess
    import sys

    src = write_jsonl(tmp_path / "in.jsonl", n=2000)
    command = f'"{sys.executable}" -m nlpkit.cli predict --input "{src}" --output - | head -n 1'
    result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 1
    assert result.stderr == ""


@pytest.mark.parametrize("workers", [1, 2])
def test_allow_none_in_a_stream_writes_topic_null(tmp_path, small_none_folder, workers):
    src = tmp_path / "in.jsonl"
    texts = ["Nữ ca sĩ ra mắt album nhạc mới và bộ phim hoạt hình", TEXTS[0]]
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    args = ["--input", str(src), "--output", str(out), "--model", str(small_none_folder)]
    assert main(["predict", *args, "--allow-none", "--workers", str(workers)]) == 0
    rows = read_out(out)
    assert [r["topic"] for r in rows] == [None, "energy"]
    assert "none" in rows[0]["probabilities"]
    assert main(["predict", *args]) == 0
    assert None not in [r["topic"] for r in read_out(out)]


# -- one job per output ------------------------------------------------------------------------


def _jsonl(path, texts):
    path.write_text(
        "".join(
            json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts)
        ),
        encoding="utf-8",
    )
    return path


def test_a_second_job_on_the_same_output_is_refused_and_changes_nothing(tmp_path, capsys):
    import fcntl
    import os

    src = _jsonl(tmp_path / "in.jsonl", TEXTS)
    out = tmp_path / "out.jsonl"
    predict_file(src, out)
    before = out.read_bytes()
    # Another job holds the output (as a running nlpkit predict does), under another name too.
    os.symlink(out, tmp_path / "alias.jsonl")
    with open(out, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        for name in (out, tmp_path / "alias.jsonl"):
            for resume in ([], ["--resume"]):
                assert main(["predict", "--input", str(src), "--output", str(name), *resume]) == 2
                err = capsys.readouterr().err
                assert "another nlpkit predict is writing this output" in err
                assert err.count("\n") == 1
        assert out.read_bytes() == before
    assert main(["predict", "--input", str(src), "--output", str(out)]) == 0


def test_a_crashed_job_leaves_no_lock_behind(tmp_path):
    import signal
    import subprocess
    import sys

    src = _jsonl(tmp_path / "in.jsonl", TEXTS)
    out = tmp_path / "out.jsonl"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, sys, time; f = open(sys.argv[1], 'ab'); fcntl.flock(f, fcntl.LOCK_EX); "
         "print('held', flush=True); time.sleep(300)", str(out)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline() == "held\n"
    with pytest.raises(nlpkit.batch.InputError, match="another nlpkit predict"):
        predict_file(src, out)
    holder.send_signal(signal.SIGKILL)  # the job dies without cleaning up
    holder.wait()
    assert predict_file(src, out).written == 4


# -- resume: only the same input, model and settings, checked before anything is written -------


def test_a_setting_resume_refuses_is_named_as_its_caller_gave_it(tmp_path, capsys):
    src = _jsonl(tmp_path / "in.jsonl", TEXTS)
    out = tmp_path / "out.jsonl"
    predict_file(src, out)
    with pytest.raises(
        InputError, match="written with allow_none=False, this run has allow_none=True"
    ):
        predict_file(src, out, resume=True, allow_none=True)
    args = ["predict", "--input", str(src), "--output", str(out), "--resume"]
    assert main([*args, "--allow-none"]) == 2
    assert "written with no --allow-none, this run has --allow-none:" in capsys.readouterr().err
    assert main([*args, "--format", "text"]) == 2
    assert "written with --format jsonl, this run has --format text:" in capsys.readouterr().err
    assert main([*args, "--prefix", "my answers "]) == 2  # (a value to quote)
    assert (
        "written with --prefix '', this run has --prefix 'my answers ':" in capsys.readouterr().err
    )


@pytest.mark.parametrize("workers, error", [(0, ValueError), (True, TypeError), (1.5, TypeError)])
def test_a_bad_worker_count_leaves_the_output_as_it_was(tmp_path, workers, error):
    src = _jsonl(tmp_path / "in.jsonl", TEXTS)
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"an earlier run's lines\n")
    with pytest.raises(error, match="workers must be a whole number"):
        predict_file(src, out, workers=workers)
    assert out.read_bytes() == b"an earlier run's lines\n"


def test_messages_name_python_arguments_to_python_and_options_to_the_command(tmp_path, capsys):
    src = _jsonl(tmp_path / "in.jsonl", TEXTS)
    out = tmp_path / "mine.jsonl"
    out.write_bytes(b"notes of my own\n")
    with pytest.raises(InputError) as caught:
        predict_file(src, out, resume=True)
    said = str(caught.value)
    assert said.startswith("resume: ") and "call again with resume=False" in said
    assert "--" not in said
    with pytest.raises(InputError, match=r"^text_field='body': none of the first"):
        predict_file(src, tmp_path / "out.jsonl", text_field="body")
    assert main(["predict", "--input", str(src), "--output", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "error: --resume: " in err and "run the same command without --resume" in err
    args = ["predict", "--input", str(src), "--output", str(tmp_path / "o.jsonl")]
    assert main([*args, "--text-field", "body"]) == 2
    assert "error: --text-field body: none of the first" in capsys.readouterr().err


def test_resume_refuses_a_file_that_is_not_one_of_our_outputs(tmp_path, capsys):
    src = _jsonl(tmp_path / "in.jsonl", TEXTS)
    for content in (b'{"id": 0, "text": "notes of my own"}', b"x" * 100 + b"\n" * 3):
        out = tmp_path / "mine.jsonl"
        out.write_bytes(content)  # one line without a newline; lines that answer nothing
        assert main(["predict", "--input", str(src), "--output", str(out), "--resume"]) == 2
        err = capsys.readouterr().err
        assert "was not written by nlpkit predict" in err and err.count("\n") == 1
        assert out.read_bytes() == content
    # Our output once, its run record left beside it, then a file of one's own without a line
    # end in its place: nothing in it can be checked against the input, so nothing is cut.
    out = tmp_path / "ours.jsonl"
    args = ["predict", "--input", str(src), "--output", str(out)]
    assert main(args) == 0
    out.write_bytes(b"my own notes, no line end")
    capsys.readouterr()
    assert main([*args, "--resume"]) == 2
    assert "holds no complete line to check against the input" in capsys.readouterr().err
    assert out.read_bytes() == b"my own notes, no line end"


def _interrupted(tmp_path, *args):
    src = _jsonl(tmp_path / "in.jsonl", TEXTS * 10)
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--input", str(src), "--output", str(out), *args]) == 0
    lines = out.read_bytes().split(b"\n")
    out.write_bytes(b"\n".join(lines[:12]) + b"\n" + lines[12][:9])  # cut mid-line
    return src, out, out.read_bytes()


def test_resume_refuses_other_settings(tmp_path, capsys, small_none_folder):
    src, out, before = _interrupted(tmp_path, "--model", str(small_none_folder))
    capsys.readouterr()
    for args, message in (
        (["--allow-none"], "no --allow-none, this run has --allow-none"),
        (["--prefix", "p_"], "--prefix '', this run has --prefix p_"),
        (["--format", "text"], "--format jsonl, this run has --format text"),
    ):
        cmd = ["predict", "--input", str(src), "--output", str(out), "--resume"]
        assert main([*cmd, "--model", str(small_none_folder), *args]) == 2
        err = capsys.readouterr().err
        assert message in err and "not resumed" in err and err.count("\n") == 1
        assert out.read_bytes() == before
    # another model
    assert main(["predict", "--input", str(src), "--output", str(out), "--resume"]) == 2
    assert "was written by another model" in capsys.readouterr().err
    assert out.read_bytes() == before
    # the same input, model and settings: resumed, and the file is whole
    args = ["predict", "--input", str(src), "--output", str(out), "--model", str(small_none_folder)]
    assert main([*args, "--resume"]) == 0
    assert "12 skipped as already done" in capsys.readouterr().err
    resumed = out.read_bytes()
    assert main(args) == 0
    assert out.read_bytes() == resumed


def test_resume_through_another_name_of_the_file_keeps_one_kind_of_answer(tmp_path, capsys):
    # A run through a link wrote the file whose own name's run record said otherwise.
    import os

    src, out, _ = _interrupted(tmp_path)
    os.symlink(out, tmp_path / "soft.jsonl")
    os.link(out, tmp_path / "hard.jsonl")
    base = ["predict", "--input", str(src), "--resume"]
    # Through the symbolic link: no record of its own; the file is not resumed.
    assert main([*base, "--output", str(tmp_path / "soft.jsonl"), "--allow-none"]) == 2
    assert "not resumed" in capsys.readouterr().err
    # A fresh run with --allow-none through the hard link, interrupted; then resumed through
    # the file's first name, whose record is of the first run: the lines say otherwise.
    again = ["predict", "--input", str(src), "--output", str(tmp_path / "hard.jsonl")]
    assert main([*again, "--allow-none"]) == 0
    lines = out.read_bytes().split(b"\n")
    with open(out, "r+b") as cut:
        cut.truncate(len(b"\n".join(lines[:12])) + 1)
    capsys.readouterr()
    before = out.read_bytes()
    assert main([*base, "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "line 1 of the output has probabilities of" in err and "none" in err
    assert out.read_bytes() == before


def test_resume_refuses_lines_another_model_of_the_same_topics_wrote(
    tmp_path, capsys, small_none_folder
):
    # A run through a link, with another model, left the file's own record as it was: the
    # lines name the same topics, but their probabilities are another model's.
    import os

    src, out, _ = _interrupted(tmp_path)
    os.symlink(out, tmp_path / "link.jsonl")
    again = ["predict", "--input", str(src), "--output", str(tmp_path / "link.jsonl")]
    assert main([*again, "--model", str(small_none_folder)]) == 0
    lines = out.read_bytes().split(b"\n")
    out.write_bytes(b"\n".join(lines[:12]) + b"\n")
    capsys.readouterr()
    assert main(["predict", "--input", str(src), "--output", str(out), "--resume"]) == 2
    assert "was answered otherwise than this run answers it" in capsys.readouterr().err
    # A probability that is no number: said the same way, not a traceback.
    last = json.loads(lines[11])
    last["probabilities"] = {k: "x" for k in last["probabilities"]}
    out.write_bytes(b"\n".join([*lines[:11], json.dumps(last).encode()]) + b"\n")
    assert main(["predict", "--input", str(src), "--output", str(out), "--resume"]) == 2
    assert "was answered otherwise" in capsys.readouterr().err


def test_an_output_whose_run_record_is_the_input_is_refused(tmp_path, capsys):
    src = _jsonl(tmp_path / "rr.jsonl.nlpkit.json", TEXTS)
    before = src.read_bytes()
    assert main(["predict", "--input", str(src), "--output", str(tmp_path / "rr.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "its run record" in err and "is the input file" in err
    assert src.read_bytes() == before and not (tmp_path / "rr.jsonl").exists()


def test_resume_refuses_an_input_changed_since(tmp_path, capsys):
    src, out, before = _interrupted(tmp_path)
    capsys.readouterr()
    with src.open("a", encoding="utf-8") as more:
        more.write(json.dumps({"id": 99, "text": TEXTS[0]}) + "\n")
    assert main(["predict", "--input", str(src), "--output", str(out), "--resume"]) == 2
    assert "written for another input than" in capsys.readouterr().err
    assert out.read_bytes() == before


def test_the_run_record_is_written_beside_the_output(tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", TEXTS)
    out = tmp_path / "out.jsonl"
    predict_file(src, out)
    record = json.loads(run_record_path(out).read_text())
    assert record["input"]["path"] == str(src.resolve()) and record["input"]["size"] > 0
    assert record["model"] == nlpkit.load().manifest["seal"]
    assert record["settings"]["allow_none"] is False
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "in.jsonl",
        "out.jsonl",
        "out.jsonl.nlpkit.json",
    ]


# -- exactly one output line per input line ----------------------------------------------------


def _rows(path):
    data = path.read_bytes()
    assert data.endswith(b"\n")
    return [json.loads(line) for line in data.split(b"\n")[:-1]]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_nul_byte_anywhere_is_that_lines_error_only(tmp_path, workers):
    lines = [
        json.dumps({"id": i, "text": TEXTS[i % 4] + " " + "x" * 100}).encode() for i in range(2000)
    ]
    for bad in (0, 1500):  # in the first 64 KB and long after them
        lines[bad] = b'{"id": %d, "text": "Gi\x00a"}' % bad
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    report = predict_file(src, tmp_path / "out.jsonl", workers=workers, batch_size=64)
    rows = _rows(tmp_path / "out.jsonl")
    assert len(rows) == 2000 and report.errors == 2
    assert rows[0] == {"line": 1, "error": "a NUL byte (at column 22)"}
    assert rows[1500] == {"line": 1501, "error": "a NUL byte (at column 25)"}
    assert all("topic" in r for i, r in enumerate(rows) if i not in (0, 1500))


def test_a_nul_byte_or_a_block_of_zeros_in_a_small_file_is_that_lines_error_only(tmp_path):
    # (1% of a small file's bytes: the whole file was refused as binary)
    good = [json.dumps({"text": t}).encode() for t in TEXTS]
    for bad, end in (
        (b'{"text": "B\x00ng"}', b"\n"),
        (b"\x00" * 4096, b"\n"),
        (b"\x00" * 4096, b"\r"),
    ):
        src = tmp_path / "in.jsonl"
        src.write_bytes(end.join([*good[:2], bad, *good[2:]]) + end)
        report = predict_file(src, tmp_path / "out.jsonl")
        rows = _rows(tmp_path / "out.jsonl")
        assert len(rows) == len(good) + 1 and report.errors == 1
        assert rows[2]["error"].startswith("a NUL byte")
    # Two lines, one of them bad; a text that starts as a picture's first bytes do.
    for content, errors in (
        (good[0] + b"\n" + b'{"text": "B\x00ng"}\n', 1),
        ("GIF89a là định dạng ảnh động\n%PDF-1.7 là gì\n".encode(), 0),
    ):
        src.write_bytes(content)
        assert predict_file(src, tmp_path / "out.jsonl").errors == errors


def _compiled_module() -> bytes:
    import importlib.util
    import json as module

    return (
        importlib.util.MAGIC_NUMBER
        + b"\0" * 12
        + __import__("marshal").dumps(
            compile(open(module.__file__, encoding="utf-8").read(), "json", "exec")
        )
    )


def test_a_binary_file_is_refused_before_anything_is_written(tmp_path, capsys):
    import bz2
    import lzma

    lines = "".join(json.dumps({"text": TEXTS[i % 4]}) + "\n" for i in range(3000)).encode()
    for name, data, said in [
        ("in.jsonl.bz2", bz2.compress(lines), "it is bzip2 data: decompress it first"),
        ("in.jsonl.xz", lzma.compress(lines), "it is xz data: decompress it first"),
        ("in.jsonl.zst", b"\x28\xb5\x2f\xfd" + lines[:100], "it is zstd data"),
        ("in.bin", b"".join(i.to_bytes(4, "little") for i in range(20_000)), "not a text file"),
        # (zeros bunched in a few lines, the others not UTF-8: a numpy array, compiled Python)
        (
            "array.bin",
            b"X" + (ROOT / "models/default/intercept.npy").read_bytes()[1:],
            "not a text",
        ),
        ("json.pyc", _compiled_module(), "not a text file"),
        # (few NUL bytes, under 1%)
        ("picture.png", (ROOT / "models/default/confusion_matrix.png").read_bytes(), "PNG"),
        ("coef.npy", (ROOT / "models/default/coef.npy").read_bytes(), "a numpy array, not lines"),
        # (a PDF of ASCII alone: known by its objects)
        ("plain.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n", "a PDF"),
    ]:
        src = tmp_path / name
        src.write_bytes(data)
        out = tmp_path / "out.jsonl"
        assert main(["predict", "--input", str(src), "--output", str(out)]) == 2
        assert said in capsys.readouterr().err
        assert not out.exists()


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
def test_the_input_is_cut_into_jobs_of_whole_lines_numbered_in_order(end):
    # Lines of every length around the reading's 1 MiB block and the batch size: each job holds
    # whole lines, at most batch_size of them, numbered from where the one before stopped, and
    # together they are the input, byte for byte.
    from nlpkit.batch.reading import _Reader

    lengths = [0, 1, 5, 300, 70_000, 1 << 20, 3, (1 << 20) - 2, 7] + [40] * 3000
    lines = [b"x" * n for n in lengths]
    data = end.join(lines) + end
    for size in (1, 2, 3, 256, 4000):
        jobs = list(_Reader(io.BytesIO(data), size).jobs())
        assert b"".join(chunk for _, chunk, _ in jobs) == data
        number = 1
        for first, chunk, sep in jobs:
            count = chunk.count(sep)
            assert first == number and 1 <= count <= size and chunk.endswith(sep)
            number += count
        assert number == len(lines) + 1


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("kind", ["jsonl", "text"])
def test_lf_crlf_and_cr_line_ends(tmp_path, end, kind):
    texts = [TEXTS[1], TEXTS[0], TEXTS[2]]
    if kind == "jsonl":
        lines = [json.dumps({"text": t}, ensure_ascii=False).encode() for t in texts]
    else:
        lines = [t.encode() for t in texts]
    src = tmp_path / "in"
    src.write_bytes(end.join([lines[0], b"", lines[1], lines[2]]))  # a blank line, no final end
    predict_file(src, tmp_path / "out.jsonl")
    rows = _rows(tmp_path / "out.jsonl")
    assert [r.get("topic") for r in rows] == ["sports", None, "energy", "geopolitics"]
    assert rows[1] == {"line": 2, "error": "blank line"}
    if kind == "text":
        assert rows[0]["text"] == texts[0]  # no CR left at the end of a text


def test_a_cr_inside_a_json_record_is_white_space_not_a_line_end(tmp_path):
    # (a CR before the first LF made the whole file read as of CR line ends: 51 records, 2
    # answers)
    first = b'{"id": 0,\r"text": "' + TEXTS[1].encode() + b'"}'
    rest = [json.dumps({"id": i, "text": TEXTS[i % 4]}).encode() for i in range(1, 51)]
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join([first, *rest]) + b"\n")
    predict_file(src, tmp_path / "out.jsonl")
    rows = _rows(tmp_path / "out.jsonl")
    assert [r["id"] for r in rows] == list(range(51)) and rows[0]["topic"] == "sports"


def test_a_line_over_the_limit_is_an_error_read_in_bounded_memory(tmp_path):
    import subprocess
    import sys

    src = tmp_path / "in.jsonl"
    with src.open("wb") as data:
        data.write(json.dumps({"text": TEXTS[0]}).encode() + b"\n")
        data.write(b'{"text": "' + b"a" * 40_000_000 + b'"}\n')  # 40 MB, over the 10 MB limit
        data.write(json.dumps({"text": TEXTS[1]}).encode() + b"\n")
        data.write(b'{"text": "' + b"b" * 12_000_000)  # over the limit, and no line end
    out = tmp_path / "out.jsonl"
    code = (
        "import re, sys\n"
        "from nlpkit.cli import main\n"
        "status = main(sys.argv[1:])\n"
        "print(re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1), file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "predict", "--input", str(src), "--output", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1  # two records failed
    rows = _rows(out)
    assert [r.get("topic") for r in rows] == ["energy", None, "sports", None]
    assert rows[1] == {"line": 2, "error": "line longer than 10,000,000 bytes"}
    assert rows[3] == {"line": 4, "error": "line longer than 10,000,000 bytes"}
    assert int(result.stderr.split()[-1]) / 1024 < 250  # MB: the 40 MB line is never held


def _set_everywhere(monkeypatch, name, value):
    """Set a module-level name of nlpkit.batch in each of its modules that binds it."""
    import importlib
    import pkgutil

    import nlpkit.batch

    found = 0
    for info in pkgutil.iter_modules(nlpkit.batch.__path__, "nlpkit.batch."):
        module = importlib.import_module(info.name)
        if hasattr(module, name):
            monkeypatch.setattr(module, name, value)
            found += 1
    assert found, name


def test_lines_just_over_the_limit_across_reads(tmp_path, monkeypatch):
    for name, value in (("LINE_LIMIT", 300), ("_BLOCK", 64)):
        _set_everywhere(monkeypatch, name, value)
    lines = [
        json.dumps({"id": i, "text": TEXTS[i % 4]}, ensure_ascii=False).encode() for i in range(30)
    ]
    for i in (3, 17):
        lines[i] = b'{"text": "' + b"x" * (280 + 40 * i) + b'"}'
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    predict_file(src, tmp_path / "out.jsonl")
    rows = _rows(tmp_path / "out.jsonl")
    assert len(rows) == 30 and [r["line"] for r in rows if "error" in r] == [4, 18]
    assert all(r["id"] == i for i, r in enumerate(rows) if i not in (3, 17))


def test_gzip_input_and_output(tmp_path):
    import gzip

    src = tmp_path / "in.jsonl.gz"
    with gzip.open(src, "wt", encoding="utf-8") as data:
        for i, t in enumerate(TEXTS):
            data.write(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n")
    plain, packed = tmp_path / "out.jsonl", tmp_path / "out.jsonl.gz"
    predict_file(src, plain)
    predict_file(src, packed)
    assert [r["topic"] for r in _rows(plain)] == nlpkit.predict(TEXTS)
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    # standard input, known by its bytes
    result = run_cli("predict", "--input", "-", "--output", "-", stdin=src.read_bytes())
    assert result.returncode == 0 and result.stdout == plain.read_bytes()
    # a compressed output cannot be resumed: said before anything is written
    assert main(["predict", "--input", str(src), "--output", str(packed), "--resume"]) == 2


def test_without_orjson_the_records_are_the_same(tmp_path, monkeypatch):
    src = tmp_path / "in.ndjson"
    src.write_bytes(b"\n".join(ODD_LINES) + b"\n")
    predict_file(src, tmp_path / "fast.jsonl")
    _set_everywhere(monkeypatch, "orjson", None)
    predict_file(src, tmp_path / "slow.jsonl")
    assert _rows(tmp_path / "fast.jsonl") == _rows(tmp_path / "slow.jsonl")


@pytest.mark.parametrize("workers, allow_none, prefix", [(1, False, ""), (2, False, ""),
                                                        (1, True, "x},{")])  # fmt: skip
def test_the_cores_reader_writes_what_orjson_would(
    tmp_path, monkeypatch, workers, allow_none, prefix
):
    # With the compiled core, the common line's text goes from its bytes to the classifier
    # without orjson (nlpkit._core.json_lines); every line's output must be the one orjson's
    # reading gives, byte for byte, whichever reads it.
    from nlpkit import compiled

    if compiled.core is None or not hasattr(compiled.core, "json_lines"):
        pytest.skip(f"no compiled core: {compiled.describe()}")
    lines = [
        *ODD_LINES,
        b'{"id": 9, "title": "Gi\\u00e1 \\"x\\u0103ng\\"", "text": "t\\u0103ng\\nm\\u1ea1nh \\ud83d\\ude00"}',
        b'{"text": "first", "id": 10, "text": "' + TEXTS[1].encode() + b'"}',
        b'{"inner": {"text": "' + TEXTS[0].encode() + b'"}, "text": "' + TEXTS[2].encode() + b'"}',
        b'{"title": null, "text": "' + TEXTS[3].encode() + b'"}  ',
        b'{"title": "' + TEXTS[0].encode() + b'", "text": ""}',
        b'{"title": "", "text": "   "}',
        b'{"te\\u0078t": "' + TEXTS[0].encode() + b'"}',
        b'{"text": "' + TEXTS[1].encode() + b'", "topic": "old"}',
        b'{"text": "x", "n": 123456789012345678901234}',
        b"[1, 2]",
        b'{"text": "e\\u0301 \\u0111i\\u1ec7n, not NFC"}',
        json.dumps({"text": TEXTS[0] + " " + "x" * 9000}).encode(),
    ]
    # (and chunks of common records only)
    lines += [json.dumps({"id": i, "text": t}).encode() for i, t in enumerate(TEXTS * 3)]
    data = b"\r\n".join(lines) + b"\r\n"
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + data)
    options = dict(workers=workers, batch_size=5, allow_none=allow_none, prefix=prefix)
    predict_file(src, tmp_path / "core.jsonl", **options)
    monkeypatch.delattr(compiled.core, "json_lines")
    predict_file(src, tmp_path / "orjson.jsonl", **options)
    out = (tmp_path / "core.jsonl").read_bytes()
    assert out == (tmp_path / "orjson.jsonl").read_bytes()
    assert out.count(b"\n") == len(lines) and b'topic":"sports"' in out


def test_output_lines_keep_the_input_record_as_it_was_written(tmp_path):
    line = b'{"id": 1,   "text": "Gi\\u00e1 x\\u0103ng t\\u0103ng m\\u1ea1nh", "x": 1.50}  '
    src = tmp_path / "in.jsonl"
    src.write_bytes(line + b"\n")
    predict_file(src, tmp_path / "out.jsonl")
    out = (tmp_path / "out.jsonl").read_bytes()
    assert out.startswith(line.rstrip()[:-1] + b',"topic":"energy","probabilities":{')


# -- exit status ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option, message",
    [
        (["--text-field", "body"], "--text-field body: none of the first 4 records has that field"),
        (["--title-field", "headline"], "--title-field headline: none of the first 4 records"),
    ],
)
def test_a_field_no_record_has_is_a_usage_error_before_anything_is_written(
    tmp_path, capsys, option, message
):
    src = _jsonl(tmp_path / "in.jsonl", TEXTS)
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--input", str(src), "--output", str(out), *option]) == 2
    err = capsys.readouterr().err
    assert message in err and "(their fields: id, text)" in err and err.count("\n") == 1
    assert not out.exists()


def test_the_default_text_field_no_record_has_is_said_as_the_default(tmp_path, capsys):
    # (the message named an option the user never gave: "--text-field text")
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"body": t}) + "\n" for t in TEXTS), encoding="utf-8")
    assert main(["predict", "--input", str(src), "--output", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err == (
        "nlpkit predict: error: the text field 'text' (the default; --text-field names "
        "another): none of the first 4 records has that field (their fields: body)\n"
    )


def test_a_field_first_met_beyond_the_first_block_is_found(tmp_path, capsys):
    # The check reads up to FIELD_SAMPLE records, past the first MiB when the records are
    # long: a field the 300th record brings is no typo.
    pad = " ".join(["Hà Nội"] * 700)  # (about 5 KB a record)
    records = [{"id": i, "text": f"{TEXTS[i % 4]} {pad}"} for i in range(300)]
    records += [{"id": 300 + i, "text": "x", "body": t} for i, t in enumerate(TEXTS)]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    assert src.stat().st_size > 1 << 20
    out = tmp_path / "out.jsonl"
    args = ["predict", "--input", str(src), "--output", str(out), "--text-field", "body"]
    assert main([*args, "--max-errors", "300"]) == 0, capsys.readouterr().err
    rows = read_out(out)
    assert len(rows) == 304 and all("error" in r for r in rows[:300])
    assert [r["topic"] for r in rows[300:]] == ["energy", "sports", "geopolitics", "domestic"]


def test_damaged_gzip_met_while_the_field_check_reads_ahead_comes_in_its_turn(tmp_path, capsys):
    # The check reads past the first block for a title field the first records lack, and the
    # data breaks off there: the records before the break are still answered, then exit 1.
    import gzip
    import random
    import zlib

    rng = random.Random(0)
    lines = []
    for i in range(2000):
        record = {
            "id": i,
            "text": TEXTS[i % 4] + " " + " ".join(str(rng.random()) for _ in range(200)),
        }
        if i >= 300:
            record["headline"] = "Giá xăng tăng"
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    packed = gzip.compress("".join(lines).encode(), compresslevel=1)
    cut = packed[: len(packed) * 2 // 5]
    whole = zlib.decompressobj(31).decompress(cut).count(b"\n")
    assert 300 < whole < 1000 and len("".join(lines[:300])) > 1 << 20
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(cut)
    out = tmp_path / "out.jsonl"
    args = ["predict", "--input", str(src), "--output", str(out), "--title-field", "headline"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"damaged gzip data after line {whole:,}" in err
    assert [row["id"] for row in read_out(out)] == list(range(whole))


def test_workers_above_the_cores_are_capped_with_a_note(tmp_path, capsys, monkeypatch):
    from nlpkit.cli import archives

    monkeypatch.setattr(archives, "_cores", lambda: 2)
    src = _jsonl(tmp_path / "in.jsonl", TEXTS)
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--input", str(src), "--output", str(out), "--workers", "64"]) == 0
    assert (
        "--workers 64 is more than the 2 cores this process may use; using 2"
        in capsys.readouterr().err
    )


def test_workers_above_the_cores_are_capped_with_a_warning_in_python(tmp_path, monkeypatch):
    from nlpkit.training import parallel

    monkeypatch.setattr(parallel, "usable_cores", lambda: 2)
    src = _jsonl(tmp_path / "in.jsonl", TEXTS)
    with pytest.warns(UserWarning, match="workers=64 is more than the 2 cores .*; using 2"):
        report = predict_file(src, tmp_path / "o.jsonl", workers=64)
    assert report.written == len(TEXTS)


def test_flags_must_be_true_or_false(tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", TEXTS)
    for call in (
        lambda: predict_file(src, tmp_path / "o.jsonl", allow_none="no"),
        lambda: predict_file(src, tmp_path / "o.jsonl", resume=1),
        lambda: predict_stream(TEXTS, io.BytesIO(), jsonl="false"),
        # (None, predict_file's "decide", read as False here: JSON lines as plain text)
        lambda: predict_stream(TEXTS, io.BytesIO(), jsonl=None),
        lambda: predict_stream(TEXTS, io.BytesIO(), progress=None),
    ):
        with pytest.raises(TypeError, match="must be True or False"):
            call()
    assert not (tmp_path / "o.jsonl").exists()


def test_output_to_a_device_is_written_without_a_run_record(tmp_path, capsys):
    import os

    src = _jsonl(tmp_path / "in.jsonl", TEXTS)
    assert main(["predict", "--input", str(src), "--output", os.devnull]) == 0
    assert "4 records written" in capsys.readouterr().err
    assert not run_record_path(os.devnull).exists()
    assert main(["predict", "--input", str(src), "--output", os.devnull, "--resume"]) == 2


@pytest.mark.skipif(
    "fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork"
)
def test_a_worker_that_dies_is_one_line_and_exit_1(tmp_path, capsys, monkeypatch):
    import os

    from nlpkit.batch import workers
    from nlpkit.training import parallel

    def dies(predictor, settings, job):
        os._exit(3)

    monkeypatch.setattr(parallel, "usable_cores", lambda: 2)  # (two workers, never this process)
    monkeypatch.setattr(workers, "_run", dies)  # (the workers are forked with it)
    src = _jsonl(tmp_path / "in.jsonl", TEXTS)
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--input", str(src), "--output", str(out), "--workers", "2"]) == 1
    err = capsys.readouterr().err
    # (no line complete: resume would refuse an output with nothing to check)
    assert "a worker process ended unexpectedly; 0 records are complete" in err
    assert "Run the same command again to start afresh" in err and "--resume" not in err


@pytest.mark.skipif(
    "fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork"
)
def test_jobs_and_answers_larger_than_a_pipe_never_hang_and_keep_their_order(tmp_path):
    # Pipes left at the system's smallest buffer, jobs of very different sizes (a worker with a
    # long job while the other runs ahead): every line answered, in order, in bounded time.
    import subprocess
    import sys
    import textwrap

    lines = []
    for i in range(60):
        text = TEXTS[i % 4] + (" thêm chữ" * (20_000 if i % 7 == 0 else 50))
        lines.append(json.dumps({"id": i, "text": text}, ensure_ascii=False))
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code = textwrap.dedent(f"""
        from nlpkit.batch import predict_file, workers
        workers._widen = lambda conn: None
        predict_file({str(src)!r}, {str(out)!r}, workers=2, batch_size=3)
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
    got = read_out(out)
    assert [r["id"] for r in got] == list(range(60))
    assert [r["topic"] for r in got] == nlpkit.predict([json.loads(line)["text"] for line in lines])


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("workers", [1, 2])
def test_a_full_disk_is_one_line_and_exit_1(tmp_path, capsys, workers):
    from nlpkit.batch import OutputError

    src = _jsonl(tmp_path / "in.jsonl", TEXTS * 50)
    with pytest.raises(OutputError, match="No space left"):
        predict_file(src, "/dev/full", workers=workers)
    assert main(["predict", "--input", str(src), "--output", "/dev/full"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "nlpkit predict: error: cannot write the output: No space left on device."
    ), err


def test_a_callers_lines_are_read_in_the_callers_thread(tmp_path):
    # A caller's iterable may belong to its thread (a database cursor): predict_stream reads
    # it there, never on a reading thread of its own.
    import threading

    seen = set()

    def lines():
        for text in TEXTS * 100:
            seen.add(threading.current_thread())
            yield text

    buffer = io.BytesIO()
    predict_stream(lines(), buffer, jsonl=False, batch_size=7)
    assert seen == {threading.current_thread()}
    assert len(buffer.getvalue().splitlines()) == 400


def test_a_failure_making_the_output_lines_on_the_writing_thread_reaches_the_caller(
    tmp_path, monkeypatch
):
    # One worker makes a chunk's output lines on its writing thread (the compiled core's
    # reading); a failure there is raised where the stream was called, and the lines before
    # it are whole.
    from nlpkit import compiled
    from nlpkit.batch import answering

    if compiled.core is None:
        pytest.skip(f"no compiled core: {compiled.describe()}")
    made = answering._core_answer
    calls = []

    def fails_second(*args):
        calls.append(None)
        if len(calls) == 2:
            raise RuntimeError("output lines failed")
        return made(*args)

    monkeypatch.setattr(answering, "_core_answer", fails_second)
    src = _jsonl(tmp_path / "in.jsonl", TEXTS * 10)
    out = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError, match="output lines failed"):
        predict_file(src, out, workers=1, batch_size=8)
    assert len(calls) >= 2
    assert [r["id"] for r in read_out(out)] == list(range(8))


def test_an_input_that_cannot_be_opened_is_an_input_error(tmp_path):
    # The command exits with 2 for these; Python callers get the documented InputError.
    from nlpkit.batch import InputError, predict_file

    for source, message in [
        (tmp_path / "missing.jsonl", "no such file"),
        (tmp_path, "is a folder"),
    ]:
        with pytest.raises(InputError, match=message):
            predict_file(source, tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()


def test_predict_stream_checks_its_options_as_predict_file_does():
    import io

    line = [json.dumps({"text": TEXTS[0]})]
    for options, error, message in [
        ({"progress": "yes"}, TypeError, "progress must be True or False"),
        ({"batch_size": 0}, ValueError, "batch_size must be a whole number"),
        ({"batch_size": 1.5}, TypeError, "batch_size must be a whole number"),
        ({"prefix": None}, TypeError, "prefix must be a string, not NoneType"),
        ({"text_field": None}, TypeError, "text_field must be a string"),
        ({"text_field": ""}, ValueError, "text_field is empty"),
    ]:
        with pytest.raises(error, match=message):
            predict_stream(line, io.BytesIO(), **options)
    with pytest.raises(TypeError, match="line 2 must be bytes or str, not NoneType"):
        predict_stream([*line, None], io.BytesIO())


def test_an_empty_field_option_is_a_usage_error(tmp_path, capsys):
    # (an unset shell variable: it meant the default field, silently)
    src = write_jsonl(tmp_path / "in.jsonl")
    for option in ("--text-field", "--title-field"):
        args = ["predict", "--input", str(src), "--output", str(tmp_path / "o.jsonl")]
        with pytest.raises(SystemExit) as caught:  # (as argparse says a bad option)
            main([*args, option, ""])
        assert caught.value.code == 2
        assert f"{option} is empty: name the field" in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists()


def test_valid_json_that_orjson_refuses_is_kept_as_it_was_written(tmp_path):
    # A number beyond a float's range or an integer beyond 64 bits is valid JSON: re-encoding
    # the record made 1e400 null. NaN is not JSON: that record is written anew, NaN as null.
    lines = [
        b'{"text": "Gi\\u00e1 x\\u0103ng t\\u0103ng", "n": -0.0, "f": 1e400, "g": 1.5E+3}',
        b'{"text": "Nga", "id": 123456789012345678901234567890}',
        b'{"text": "Nga", "score": NaN}',
    ]
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out.jsonl"
    predict_file(src, out)
    written = out.read_bytes().split(b"\n")
    assert written[0].startswith(lines[0][:-1] + b',"topic":"energy"')
    assert written[1].startswith(lines[1][:-1] + b',"topic":')
    assert written[2].startswith(b'{"text":"Nga","score":null,"topic":')


@pytest.mark.parametrize("cut", [20, 100, "inside the first line"])
def test_gzip_damaged_before_its_first_line_is_nothing_done_and_the_output_stays(
    tmp_path, capsys, cut
):
    # (cut within its first block, the data decompressed to nothing: an empty input, exit 0,
    # the old output emptied; cut inside the first line, exit 2 with the output emptied)
    import gzip
    import random

    rng = random.Random(1)
    first = {"id": 0, "text": " ".join(str(rng.random()) for _ in range(20_000))}
    lines = [json.dumps(first)] + [
        json.dumps({"id": i, "text": TEXTS[i % 4]}) for i in range(1, 50)
    ]
    packed = gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=1)
    size = len(packed) // 4 if cut == "inside the first line" else cut
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(packed[:size])
    out = tmp_path / "out.jsonl"
    out.write_text("kept\n", encoding="utf-8")
    assert main(["predict", "--input", str(src), "--output", str(out)]) == 2
    assert "damaged gzip data before its first line" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "kept\n"


def test_field_options_on_an_input_read_as_plain_text_are_a_usage_error(tmp_path, capsys):
    # A header line before the JSON lines makes the input plain text by its first bytes: the
    # raw JSON of every record would be its text. Field options say the user meant JSON.
    records = [json.dumps({"text": t, "title": "x"}, ensure_ascii=False) for t in TEXTS]
    src = tmp_path / "in.jsonl"
    src.write_text("# exported 2026-04-01\n" + "\n".join(records) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    for option in (["--title-field", "title"], ["--text-field", "body"], ["--text-field", "text"]):
        assert main(["predict", "--input", str(src), "--output", str(out), *option]) == 2
        assert "its first line is not JSON, so it reads as plain text" in capsys.readouterr().err
        assert not out.exists()
    args = ["predict", "--input", str(src), "--output", str(out), "--title-field", "title"]
    assert main([*args, "--format", "jsonl", "--max-errors", "1"]) == 0
    rows = read_out(out)
    assert "error" in rows[0] and [r["topic"] for r in rows[1:]] == [
        "energy",
        "sports",
        "geopolitics",
        "domestic",
    ]


def test_field_options_with_format_text_are_a_usage_error(tmp_path, capsys):
    # Given the format outright, the check was skipped: every record's raw JSON was its text,
    # answered with exit 0.
    src = write_jsonl(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    for option in (["--text-field", "body"], ["--title-field", "title"]):
        args = ["predict", "--input", str(src), "--output", str(out), "--format", "text"]
        assert main([*args, *option]) == 2
        assert f"--format text reads each line as a text, where {option[0]}" in (
            capsys.readouterr().err
        )
        assert not out.exists()
    with pytest.raises(InputError, match="jsonl=False reads each line as a text, where text_fi"):
        predict_file(src, out, jsonl=False, text_field="body")
    assert not out.exists()


def test_gzip_damaged_midway_answers_the_lines_before_the_damage(tmp_path, capsys):
    # A failed decompression call gives nothing of what it decoded: up to a block (a MiB) of
    # lines before the damage went unanswered, and the message named an earlier line.
    import gzip
    import random
    import zlib

    rng = random.Random(2)
    lines = "".join(
        json.dumps({"id": i, "text": f"{TEXTS[i % 4]} {rng.random()}"}) + "\n"
        for i in range(30_000)
    )
    packed = bytearray(gzip.compress(lines.encode(), compresslevel=1))
    at = len(packed) * 2 // 5
    packed[at : at + 20] = bytes(b ^ 0x55 for b in packed[at : at + 20])
    # What a reader fed a few bytes at a time gets before the damage: the lines it holds whole.
    unzip, decoded = zlib.decompressobj(31), b""
    try:
        for k in range(0, len(packed), 64):
            decoded += unzip.decompress(bytes(packed[k : k + 64]))
    except zlib.error:
        pass
    whole = decoded.count(b"\n")
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(bytes(packed))
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--input", str(src), "--output", str(out)]) == 1
    answered = len(read_out(out))
    assert whole - 100 <= answered <= whole  # (at most the last 4 KiB before the damage lost)
    assert f"damaged gzip data after line {answered:,}" in capsys.readouterr().err


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="forked workers")
def test_a_ctrl_c_as_a_worker_is_forked_ends_that_worker_too(tmp_path, monkeypatch, capsys):
    # Ctrl-C the moment a worker has been forked, before the command knows of it: the worker
    # must still be among those the interruption stops, not left waiting for work.
    import multiprocessing.context
    import os
    import signal
    import threading

    started = []
    start = multiprocessing.context.ForkProcess.start

    def start_then_interrupt(self):
        start(self)
        started.append(self)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", start_then_interrupt)
    from nlpkit.training import parallel

    monkeypatch.setattr(parallel, "usable_cores", lambda: 2)  # (two workers on a machine of one)
    # Another thread, as a BLAS library starts: the system may hand it the signal.
    idle = threading.Event()
    threading.Thread(target=idle.wait, daemon=True).start()
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS), encoding="utf-8")
    args = ["predict", "--input", str(src), "--output", str(tmp_path / "out.jsonl")]
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        assert main([*args, "--workers", "2"]) == 130
    finally:
        signal.signal(signal.SIGINT, previous)
        idle.set()
    left = [proc for proc in started if proc.is_alive()]
    for proc in left:  # (so that a failure here leaves no process to the tests after it)
        proc.kill()
        proc.join()
    assert started and not left, "a worker forked as the Ctrl-C came was left running"
    assert "interrupted" in capsys.readouterr().err


def test_output_to_a_descriptors_name_appends_to_what_the_shell_opened(tmp_path):
    # `--output /dev/stdout >> log`: written after what the file holds, with no run record,
    # as --output - is (the file was cut to nothing, and a record written in /dev).
    import subprocess
    import sys
    import time
    from pathlib import Path

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS), encoding="utf-8")
    log = tmp_path / "log.jsonl"
    log.write_text("keep\n", encoding="utf-8")
    started = time.time()
    with open(log, "ab") as stdout:
        result = subprocess.run(
            [sys.executable, "-m", "nlpkit.cli", "predict", "--input", str(src),
             "--output", "/dev/stdout"],
            stdout=stdout, stderr=subprocess.PIPE, timeout=300,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "keep" and len(lines) == 1 + len(src.read_bytes().splitlines())
    record = Path("/dev/stdout.nlpkit.json")
    assert not record.exists() or record.stat().st_mtime < started


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="named pipes")
def test_a_named_pipe_whose_reader_goes_away_ends_the_run(tmp_path):
    # (opened for reading too, the pipe never lost its last reader: the run waited for ever)
    import os
    import subprocess
    import sys

    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"text": TEXTS[i % 4]}) + "\n" for i in range(RECORDS)), "utf-8"
    )
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [sys.executable, "-m", "nlpkit.cli", "predict", "--input", str(src), "--output", str(fifo)],
        stderr=subprocess.PIPE,
    )
    with open(fifo, "rb") as reader:
        assert reader.read(100)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail("the run went on writing to a pipe no one reads")
    assert proc.returncode != 0


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="flock")
def test_a_second_job_sent_to_the_same_file_by_the_shell_is_refused(tmp_path):
    import subprocess
    import sys
    import time

    out = tmp_path / "out.jsonl"
    # The first job writes there by --output, and waits for more input.
    first = subprocess.Popen(
        [sys.executable, "-m", "nlpkit.cli", "predict", "--input", "-", "--output", str(out)],
        stdin=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        first.stdin.write((json.dumps({"text": TEXTS[0]}) + "\n").encode() * 50_000)
        first.stdin.flush()
        deadline = time.monotonic() + 60
        while (not out.exists() or not out.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(out, "ab") as stdout:
            second = subprocess.run(
                [sys.executable, "-m", "nlpkit.cli", "predict", "--input", "-", "--output", "-"],
                input=(json.dumps({"text": TEXTS[1]}) + "\n").encode(),
                stdout=stdout, stderr=subprocess.PIPE, timeout=300,
            )  # fmt: skip
    finally:
        first.kill()
        first.wait()
    assert second.returncode == 2, second.stderr
    assert b"another nlpkit predict is writing this output" in second.stderr


def test_long_output_names_are_written_or_refused_before_anything_is_made(tmp_path, capsys):
    # (a name of 241 characters: the run record's temporary file was too long a name, and an
    # empty output was left behind)
    src = _jsonl(tmp_path / "in.jsonl", TEXTS)
    long = tmp_path / ("b" * 235 + ".jsonl")
    assert main(["predict", "--input", str(src), "--output", str(long)]) == 0
    assert len(read_out(long)) == len(TEXTS) and run_record_path(long).exists()
    assert main(["predict", "--input", str(src), "--output", str(long), "--resume"]) == 0
    # Vietnamese letters take two or three bytes: 234 bytes of name
    viet = tmp_path / ("ễ" * 76 + ".jsonl")
    assert main(["predict", "--input", str(src), "--output", str(viet)]) == 0
    assert len(read_out(viet)) == len(TEXTS)
    longer = tmp_path / ("c" * 245 + ".jsonl")
    assert main(["predict", "--input", str(src), "--output", str(longer)]) == 2
    assert "its name is too long for the run record beside it" in capsys.readouterr().err
    assert not longer.exists()


def test_after_a_failed_write_the_file_says_what_is_complete(tmp_path):
    # A full disk: lines the run had not counted yet may have reached the file, and a gzip
    # file whose write failed is not whole (it was said to be).
    from nlpkit.batch import BatchReport
    from nlpkit.cli.archives import _complete

    out = tmp_path / "out.jsonl"
    out.write_bytes(b"{}\n" * 7 + b"{")
    report = BatchReport(written=5)
    assert _complete(str(out), report, failed=True).startswith(f"7 records are complete in {out}")
    assert _complete(str(out), report).startswith(f"5 records are complete in {out}")
    gz = str(tmp_path / "out.jsonl.gz")
    assert _complete(gz, report, failed=True).startswith("the gzip file is not whole")
    assert "a whole gzip file" in _complete(gz, report)
    out.write_bytes(b"{")  # (nothing complete: resume would refuse it)
    assert _complete(str(out), BatchReport(), failed=True).endswith("again to start afresh")


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/fd"), reason="needs /proc")
def test_the_lock_on_standard_outputs_file_ends_with_the_job(tmp_path):
    # (locked through the shell's descriptor, which the commands after it share, the file
    # stayed locked after the job ended)
    import subprocess
    import sys
    import time

    src = _jsonl(tmp_path / "in.jsonl", TEXTS)
    out = tmp_path / "out.jsonl"
    job = f'"{sys.executable}" -m nlpkit.cli predict --input "{src}" --output -'
    shell = subprocess.Popen(["sh", "-c", f'({job}; sleep 30) > "{out}"'], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            out.exists() and len(out.read_bytes().splitlines()) >= len(TEXTS)
        ):
            time.sleep(0.05)
        time.sleep(1)  # (the job's process gone; the shell's sleep holds the file open)
        assert main(["predict", "--input", str(src), "--output", str(out)]) == 0
    finally:
        __import__("os").killpg(shell.pid, 9)
        shell.wait()


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("given", [[], ["--title-field", "title"]])
def test_headlines_named_as_the_text_field_are_read_once(tmp_path, workers, given):
    # An archive of headlines alone, `--text-field title`: the title is the text, not a title
    # put before itself (which doubles every term's count and moves the probabilities).
    src = tmp_path / "heads.jsonl"
    rows = [{"id": i, "title": t} for i, t in enumerate(TEXTS * 3)]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    out = tmp_path / "out.jsonl"
    args = ["predict", "--input", str(src), "--output", str(out), "--text-field", "title"]
    assert main([*args, *given, "--workers", str(workers)]) == 0
    got = [r["probabilities"] for r in read_out(out)]
    assert got == nlpkit.predict_proba(TEXTS * 3)


@pytest.mark.parametrize("workers", [1, 2])
def test_html_character_references_in_an_archive_are_read_as_their_characters(tmp_path, workers):
    # (the compiled reader of JSON lines hands such a text to the str path, which decodes them)
    escaped = [
        "Gi&#225; x&#259;ng d&#7847;u t&#259;ng m&#7841;nh t&#7915; chi&#7873;u nay",
        "Tuy&#7875;n Vi&#7879;t Nam th&#7855;ng Th&#225;i Lan &#7903; AFF Cup",
        "T&#7893;ng th&#7889;ng Nga &#273;i&#7879;n &#273;&#224;m v&#7899;i T&#7893;ng th&#7889;ng M&#7929;",
        "C&ocirc;ng an kh&#7903;i t&#7889; gi&aacute;m &#273;&#7889;c &amp;quot;&#273;&#259;ng ki&#7875;m&amp;quot;",
    ]
    src = tmp_path / "feed.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in escaped * 50), "utf-8")
    predict_file(src, tmp_path / "out.jsonl", workers=workers)
    got = [r["probabilities"] for r in read_out(tmp_path / "out.jsonl")]
    plain = [*TEXTS[:3], 'Công an khởi tố giám đốc "đăng kiểm"']
    assert got == nlpkit.predict_proba(plain * 50)


def test_an_interruption_while_the_model_loads_says_nothing_was_written(
    tmp_path, monkeypatch, capsys
):
    # (it said "interrupted." alone: the line of what was left came only once the run began)
    import nlpkit.cli.archives as archives

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(archives, "_load", interrupted)
    src, out = write_jsonl(tmp_path / "in.jsonl"), tmp_path / "out.jsonl"
    assert main(["predict", "--input", str(src), "--output", str(out)]) == 130
    assert f"interrupted; nothing was written (there is no {out})." in capsys.readouterr().err
    out.write_text("kept\n")
    assert main(["predict", "--input", str(src), "--output", str(out)]) == 130
    assert f"nothing was written, and {out} is as it was." in capsys.readouterr().err
    assert out.read_text() == "kept\n"
