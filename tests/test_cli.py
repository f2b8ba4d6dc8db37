import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT, SEEDS, SMALL_CORPUS, write_small_corpus

import nlpkit
from nlpkit.cli import main


def run(*args, stdin=None):
    # Run from the tests folder, so that the installed package is the one imported.
    return subprocess.run(
        [sys.executable, "-m", "nlpkit", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT / "tests",
        timeout=300,
    )


def test_predict_a_text(capsys):
    assert main(["predict", "Giá xăng dầu tăng mạnh từ chiều nay"]) == 0
    assert capsys.readouterr().out == "energy\n"


def test_predict_several_texts_and_proba(capsys):
    assert main(["predict", "--proba", "Giá điện tăng", "Tuyển Việt Nam thắng"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["topic"] for x in lines] == ["energy", "sports"]
    assert sum(lines[0]["probabilities"].values()) == pytest.approx(1)


def test_predict_a_file_and_a_page(capsys):
    assert main(["predict", "-f", str(SEEDS[0])]) == 0
    assert main(["predict", "--page", "-f", str(SEEDS[1])]) == 0
    assert capsys.readouterr().out == "geopolitics\ngeopolitics\n"


def test_predict_from_standard_input():
    result = run("predict", stdin="Đội tuyển bóng đá Việt Nam vô địch AFF Cup")
    assert result.returncode == 0 and result.stdout == "sports\n"


def test_each_piped_line_is_a_text_with_its_answer():
    lines = ["Đội tuyển bóng đá Việt Nam vô địch AFF Cup", "Giá xăng dầu tăng mạnh"]
    result = run("predict", stdin="\r\n".join(lines) + "\r\n")
    assert result.returncode == 0 and result.stdout == "sports\nenergy\n"
    # -f - reads it all as one text
    result = run("predict", "-f", "-", stdin="\n".join(lines))
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 1
    # a blank piped line is named, with what to do
    result = run("predict", stdin=lines[0] + "\n\n" + lines[1])
    assert result.returncode == 2
    assert "line 2 of standard input is empty" in result.stderr and "-f -" in result.stderr
    # Lines past what is read of standard input got no answer, and the last a part's (exit 0).
    for command in ("predict", "explain"):
        result = run(command, stdin=(lines[1] + "\n") * 200_000)
        assert result.returncode == 2 and result.stdout == ""
        assert "standard input holds more than 4 MiB of lines: stream them with --input -" in (
            result.stderr
        )


def test_explain(capsys):
    assert main(["explain", "-k", "4", "Giá xăng dầu tăng mạnh"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("topic: energy")
    # both sides: up to 4 terms for the answer and up to 4 against it, then the rest
    assert " for energy:" in out and " against energy (for " in out
    assert out.rstrip().splitlines()[-1].lstrip().startswith("(intercept)")
    assert main(["explain", "--json", "Giá xăng dầu tăng mạnh"]) == 0
    assert json.loads(capsys.readouterr().out)["topic"] == "energy"


def test_ctrl_c_while_the_arguments_are_read_is_one_line(monkeypatch, capsys):
    # (a traceback of 14 to 23 lines, when Ctrl-C came in the command's first moments)
    import nlpkit.cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(nlpkit.cli, "_parser", interrupted)
    assert main(["predict", "Giá xăng"]) == 130
    assert capsys.readouterr().err == "\nnlpkit: interrupted; nothing was done.\n"


def test_standard_output_without_vietnamese_letters_is_one_line_saying_what_to_set():
    import os

    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    result = subprocess.run(
        [sys.executable, "-m", "nlpkit", "explain", "Giá xăng dầu tăng mạnh"],
        capture_output=True, text=True, cwd=ROOT / "tests", env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("nlpkit explain: error: standard output's encoding (ascii)")
    assert "set PYTHONIOENCODING=utf-8" in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("command", ["predict", "explain"])
def test_a_text_empty_once_cleaned_is_refused_before_anything_is_printed(command, capsys):
    # explain printed the first text's explanation, then exited 2 ("nothing done").
    assert main([command, "Giá xăng dầu tăng mạnh", "&nbsp;"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "text 2: text is empty once cleaned" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["predict", "-f", "no/such/file.txt"], "file not found: no/such/file.txt"),
        (["predict", "--model", "no/such/model", "x"], "model folder not found"),
        (["predict", "  "], "argument 1 is empty"),
        (["predict", "Giá điện", "", "Bóng đá"], "argument 2 is empty"),
        (["explain", "Giá điện", " "], "argument 2 is empty"),
        (["predict", "a", "-f", "x"], "not both"),
        (["train", "no/such.toml"], "config not found"),
        (["evaluate", "no/such/model"], "model folder not found"),
        (["compare", "no/such/run"], "no metrics.json at no/such/run"),
        (
            ["compare", str(ROOT / "tests" / "conftest.py")],
            "conftest.py: not a metrics file (",
        ),
        (
            ["compare", "--era", "1999", str(ROOT / "experiments" / "results" / "default")],
            "--era 1999: no run has hand-labelled texts of that era",
        ),
        (
            [
                "compare",
                "--era",
                "2025-26",
                "--hand",
                str(ROOT / "experiments" / "results" / "default"),
            ],
            "--era gives the hand-labelled scores of one era; --hand those of all: choose one",
        ),
        (
            ["train", str(ROOT / "experiments" / "default.toml"), "--cv", "1"],
            "--cv: 'cv' must be 0 (none) or from 2",
        ),
        (
            # (the config's train_files name corpora that --corpus replaced: said before reading)
            ["train", str(ROOT / "experiments" / "default.toml"), "--corpus", "/nowhere/c.jsonl"],
            "--corpus: 'data.self_training.files' names 'news_2025_26.jsonl', which data.corpora",
        ),
    ],
)
def test_bad_usage_exits_2_with_one_line(capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_argparse_errors_exit_2():
    result = run("predict", "--no-such-option")
    assert result.returncode == 2 and "unrecognized arguments" in result.stderr
    assert run("frobnicate").returncode == 2


@pytest.mark.parametrize("command", ["predict", "explain", "train", "evaluate", "compare"])
def test_help(command):
    result = run(command, "--help")
    assert result.returncode == 0 and "usage: nlpkit " + command in result.stdout


def test_console_script_is_installed():
    exe = os.path.join(os.path.dirname(sys.executable), "nlpkit")
    result = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("nlpkit ")


def test_train_then_predict_with_the_new_model(tmp_path, capsys, monkeypatch):
    """End to end through the command line: train on a small corpus, then predict with it."""
    monkeypatch.setenv("NLPKIT_CACHE_DIR", str(tmp_path / "cache"))
    corpus = write_small_corpus(tmp_path / "corpus.jsonl", heldout_copies=1)
    config = tmp_path / "small.toml"
    config.write_text(
        "n_jobs = 1\n[features]\nmin_df = 1\n[data]\neval_labels = []\ndev_labels = []\n"
        "boundary_labels = []\n",
        encoding="utf-8",
    )
    model, results = tmp_path / "model", tmp_path / "results"
    assert (
        main(
            [
                "train",
                str(config),
                "--corpus",
                str(corpus),
                "--model",
                str(model),
                "--results",
                str(results),
            ]
        )
        == 0
    )
    metrics = json.loads((results / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["config"]["features"]["min_df"] == 1 and metrics["training"]["labelled"] == 96
    assert metrics["heldout"]["distant"]["n"] == 32
    card = (model / "README.md").read_text(encoding="utf-8")
    assert card.startswith("# nlpkit model `small`") and "confusion_matrix.png" in card
    for folder in (model, results):
        assert (folder / "confusion_matrix.png").read_bytes().startswith(b"\x89PNG")
    assert "## Held-out" in (results / "summary.md").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["compare", str(results), str(results / "metrics.json")]) == 0
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 4 and table[2].startswith("| small | weak | pyvi | 1-2 |")
    assert main(["compare", "--hand", str(results)]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("| run | dev macro-F1 |")
    # Files that are JSON but not a run's metrics name themselves.
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    (tmp_path / "other.json").write_text('{"name": "x"}', encoding="utf-8")
    assert main(["compare", str(results), str(tmp_path / "list.json")]) == 2
    assert "list.json: not a metrics file (a JSON list, not an object)" in capsys.readouterr().err
    assert main(["compare", str(results), str(tmp_path / "other.json")]) == 2
    assert "other.json: not a metrics file of a run (no field" in capsys.readouterr().err
    # A run's metrics with a field of another type: one line, not a traceback.
    metrics = json.loads((results / "metrics.json").read_text(encoding="utf-8"))
    metrics["heldout"]["hand"] = "x"
    (tmp_path / "damaged.json").write_text(json.dumps(metrics), encoding="utf-8")
    for args in ([], ["--hand"]):
        assert main(["compare", *args, str(results), str(tmp_path / "damaged.json")]) == 2
        err = capsys.readouterr().err
        assert "damaged.json: not a metrics file of a run (a field of the wrong type" in err
        assert err.count("\n") == 1
    capsys.readouterr()
    assert main(["predict", "--model", str(model), "Giá xăng dầu tăng mạnh"]) == 0
    assert capsys.readouterr().out == "energy\n"


def test_train_reports_a_missing_corpus(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text(  # (no hand labels: the repository's are found from its root only)
        "[data]\ndev_labels = []\neval_labels = []\nboundary_labels = []\n", encoding="utf-8"
    )
    assert main(["train", str(config), "--corpus", str(tmp_path / "none.jsonl")]) == 2
    assert "corpus file not found" in capsys.readouterr().err


def test_weak_report(tmp_path, capsys):
    corpus = write_small_corpus(tmp_path / "corpus.jsonl")
    dev = tmp_path / "dev.tsv"
    dev.write_text(
        "id\ttopic\ntest-energy-0-0\tenergy\ntest-sports-0-1\tsports\n", encoding="utf-8"
    )
    out = tmp_path / "report.md"
    args = ["weak-report", "--corpus", str(corpus), "--dev", str(dev), "--train", ""]
    assert main([*args, "--out", str(out)]) == 0
    report = out.read_text(encoding="utf-8")
    assert report == capsys.readouterr().out
    assert (
        "| `energy_headline` |" in report
        and '| priority rules (`label_model = "rules"`) |' in report
    )
    assert main(["weak-report", "--corpus", str(corpus), "--dev", str(tmp_path / "none.tsv")]) == 2


def test_weak_report_refuses_what_it_cannot_report_on_or_write(tmp_path, capsys):
    corpus = write_small_corpus(tmp_path / "corpus.jsonl")
    dev = tmp_path / "dev.tsv"
    dev.write_text("id\ttopic\ntest-energy-0-0\tenergy\n", encoding="utf-8")
    plain = tmp_path / "plain.txt"
    plain.write_text("Giá xăng tăng\nNga và Mỹ hội đàm\n", encoding="utf-8")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    base = ["weak-report", "--dev", str(dev), "--train", ""]
    for args, message in [
        (["--corpus", str(plain)], "--corpus: no corpus record read (0 records read, 2 malformed"),
        (["--corpus", str(empty)], "--corpus: no corpus record read (0 records read, 0 malformed"),
        (["--corpus", str(corpus), "--out", str(tmp_path)], "is a folder; name a file"),
        (["--corpus", str(corpus), "--out", str(tmp_path / "no" / "r.md")], "does not exist"),
        (["--corpus", str(corpus), "--dev", str(tmp_path / "no.tsv")], "--dev "),
        (
            ["--corpus", str(corpus), "--out", str(plain / "r.md")],
            "plain.txt is a file, not a folder",
        ),
        # the report written over what it reads: the sample, the corpus (by another name too)
        (["--corpus", str(corpus), "--out", str(dev)], "which the report reads"),
        (["--corpus", str(corpus), "--out", str(corpus)], "which the report reads"),
        (["--corpus", str(corpus), "--out", str(tmp_path / "link")], "which the report reads"),
    ]:
        if args[-1].endswith("link"):
            (tmp_path / "link").symlink_to(corpus)
        assert main([*base, *args]) == 2, args
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
    assert not (tmp_path / "no").exists()
    assert dev.read_text(encoding="utf-8").startswith("id\ttopic")
    # A sample of which no id is in the corpus has no accuracy to give (0.000 of nothing).
    other = tmp_path / "other.tsv"
    other.write_text("id\ttopic\nnot-in-the-corpus\tenergy\n", encoding="utf-8")
    assert main(["weak-report", "--corpus", str(corpus), "--dev", str(other), "--train", ""]) == 2
    assert "none of its 1 ids is a record of the corpus read" in capsys.readouterr().err


def test_a_report_that_cannot_be_written_is_shown_all_the_same(tmp_path, capsys, monkeypatch):
    from nlpkit import folders

    corpus = write_small_corpus(tmp_path / "corpus.jsonl")
    dev = tmp_path / "dev.tsv"
    dev.write_text("id\ttopic\ntest-energy-0-0\tenergy\n", encoding="utf-8")
    out = tmp_path / "report.md"
    out.write_text("the report before", encoding="utf-8")

    def full(path, text):  # the disk filling up while the report is written
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(folders, "write_file", full)
    args = [
        "weak-report",
        "--corpus",
        str(corpus),
        "--dev",
        str(dev),
        "--train",
        "",
        "--out",
        str(out),
    ]
    assert main(args) == 1
    shown, err = capsys.readouterr()
    assert "| `energy_headline` |" in shown and "cannot write the report" in err
    # (written whole or not at all: the file before is as it was)
    assert out.read_text(encoding="utf-8") == "the report before"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["explain", "-k", "0", "Giá xăng"], "argument -k: must be at least 1, got 0"),
        (["explain", "-k", "x", "Giá xăng"], "argument -k: not a whole number: 'x'"),
        (["predict", "--no-such-option"], "unrecognized arguments: --no-such-option"),
        # named by the command it was given to, with that command's help
        (
            ["evaluate", "--model", "m", "x"],
            "nlpkit evaluate: error: unrecognized arguments: --model",
        ),
        (["diff", "a", "b", "--bogus"], "(see nlpkit diff --help)"),
    ],
)
def test_argument_errors_are_one_line(args, message):
    result = run(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_unreadable_files_get_one_line(tmp_path, capsys):
    utf16 = tmp_path / "a.txt"
    utf16.write_text("Giá xăng tăng", encoding="utf-16")
    latin1 = tmp_path / "b.txt"
    latin1.write_bytes("Giá xâng".encode("latin-1"))
    binary = tmp_path / "c.bin"
    binary.write_bytes(b"\x00\x01\x02" * 200)  # (no known first bytes: by its NUL bytes)
    for path, message in (
        (utf16, "UTF-16"),
        (latin1, "not UTF-8 (byte 0xe1 at offset 2)"),
        (binary, "not a text file"),
        (tmp_path, "Is a directory"),
    ):
        assert main(["predict", "-f", str(path)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert main(["train", str(tmp_path)]) == 2
    assert "Is a directory" in capsys.readouterr().err


def test_a_file_of_json_lines_given_as_one_text_is_refused(tmp_path, capsys):
    # -f reads a file as one text: an archive's records would get one answer, of their JSON.
    records = tmp_path / "archive.jsonl"
    records.write_text('{"text": "Giá xăng tăng"}\n{"text": "Đội tuyển thắng"}\n', "utf-8")
    assert main(["predict", "-f", str(records)]) == 2
    assert capsys.readouterr().err == (
        f"nlpkit predict: error: {records} holds JSON lines: -f reads a file as one text; "
        f"--input {records} answers each record\n"
    )
    assert main(["explain", "-f", str(records)]) == 2
    assert "--input" not in capsys.readouterr().err  # (explain has none)
    # One record too: its answer would be of its JSON, field names and all.
    one = tmp_path / "one.json"
    one.write_text('{"text": "Giá xăng tăng"}\n', "utf-8")
    assert main(["predict", "-f", str(one)]) == 2
    assert f"--input {one} answers each record" in capsys.readouterr().err
    # One object printed over several lines: each line, or its JSON, would be answered.
    pretty = tmp_path / "pretty.json"
    pretty.write_text('{\n  "id": "a1",\n  "text": "Giá xăng tăng"\n}\n', "utf-8")
    assert main(["predict", "-f", str(pretty)]) == 2
    assert capsys.readouterr().err == (
        f"nlpkit predict: error: {pretty} holds a JSON object: -f reads a file as one text; "
        "--input reads records as JSON lines, an object a line\n"
    )
    result = run("predict", stdin=pretty.read_text("utf-8"))
    assert result.returncode == 2 and result.stdout == ""
    assert "standard input holds a JSON object: each piped line is read as a text" in result.stderr
    # A JSON array, on one line or several: its lines, brackets and all, were answered.
    for array in ('[{"text": "Giá xăng tăng"}, {"text": "Đội tuyển thắng"}]\n',
                  '[\n {"text": "Giá xăng tăng"},\n {"text": "Đội tuyển thắng"}\n]\n'):  # fmt: skip
        result = run("predict", stdin=array)
        assert result.returncode == 2 and result.stdout == ""
        assert "standard input holds a JSON array" in result.stderr
    # One larger than what is read of standard input: known by its start.
    big = json.dumps([{"text": "Giá xăng tăng mạnh " * 20}] * 12_000, ensure_ascii=False, indent=1)
    result = run("predict", stdin=big)
    assert result.returncode == 2 and "standard input holds a JSON array" in result.stderr
    # Headlines that start in brackets are news, a quoted word in them too.
    for headline in ("[Video] Messi ghi bàn\n", '["Video"] Messi ghi bàn\n', '[ "Hà Nội" ] mưa\n'):
        assert run("predict", stdin=headline).returncode == 0, headline
    # Nothing piped at all: no "line 1" to name.
    result = run("predict", stdin="")
    assert result.returncode == 2 and "standard input is empty" in result.stderr
    # (a text in braces that is no JSON object is a text like any)
    braces = tmp_path / "braces.txt"
    braces.write_text("{Giá xăng tăng}\n", "utf-8")
    assert main(["predict", "-f", str(braces)]) == 0
    for piped in (records.read_text("utf-8"), '{"text": "Giá xăng tăng"}\n'):
        for args, how in [([], "each piped line is read as a text"), (["-f", "-"], "-f - reads")]:
            result = run("predict", *args, stdin=piped)
            assert result.returncode == 2 and result.stdout == ""
            assert f"standard input holds JSON lines: {how}" in result.stderr
            assert "--input - answers each record" in result.stderr


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
def test_a_huge_file_is_read_in_bounded_memory(tmp_path):
    page = tmp_path / "page.txt"
    with page.open("w", encoding="utf-8") as out:
        out.write("Giá xăng dầu tăng mạnh\n\n")
        for _ in range(50_000):  # 50 MB
            out.write("Giá xăng dầu trong nước tăng theo giá thế giới. " * 20 + "\n")
    # The command in a child process that reports its own peak memory when it is done (the
    # kernel's high-water mark of its own memory: getrusage would count the parent's too).
    code = (
        "import re, sys\n"
        "from nlpkit.cli import main\n"
        "status = main(sys.argv[1:])\n"
        "status_file = open('/proc/self/status').read()\n"
        "print(re.search(r'VmHWM:\\s*(\\d+)', status_file).group(1), file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "predict", "--page", "-f", str(page)],
        capture_output=True,
        text=True,
        cwd=ROOT / "tests",
        timeout=300,
    )
    assert result.returncode == 0 and result.stdout == "energy\n"
    peak_mb = int(result.stderr.split()[-1]) / 1024
    assert peak_mb < 400


def test_python_dash_m_nlpkit():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("nlpkit ")


def test_python_dash_m_in_a_checkout_runs_the_installed_nlpkit(tmp_path):
    """From a checkout whose source folder shadows an installed nlpkit, `python -m nlpkit`
    runs the installed one, as the `nlpkit` script does."""
    site = tmp_path / "site" / "nlpkit"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text("")
    (site / "__main__.py").write_text("import sys\nprint('installed', sys.argv[1:])\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    result = subprocess.run(
        [sys.executable, "-m", "nlpkit", "--version"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0 and result.stdout == "installed ['--version']\n"
    # Without an installed copy elsewhere, the checkout runs.
    result = subprocess.run(
        [sys.executable, "-m", "nlpkit", "--version"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0 and result.stdout.startswith("nlpkit ")


def test_the_processes_the_tests_start_run_the_nlpkit_they_test():
    # From the checkout's root, `python -m nlpkit.cli` found the source folder first: on a
    # machine where nlpkit is installed (compiled), the tests of commands ran pure Python.
    from nlpkit import compiled

    result = subprocess.run(
        [sys.executable, "-m", "nlpkit.cli", "--version"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert ("(compiled core)" in result.stdout) == (compiled.core is not None), result.stdout


def test_diff_says_whether_two_model_folders_are_the_same(tmp_path, small_model, capsys):
    import numpy as np

    from nlpkit import modelfile

    predictor = small_model[0]
    first = modelfile.save(predictor, tmp_path / "a", name="small")
    second = modelfile.save(predictor, tmp_path / "b", name="small")
    assert main(["diff", str(first), str(second)]) == 0
    assert capsys.readouterr().out == "identical\n"
    before = predictor.coef
    moved = before.copy()
    moved[0, 0] += 0.5
    predictor.coef = moved
    try:
        modelfile.save(predictor, second, name="small")
    finally:
        predictor.coef = before
    assert main(["diff", str(first), str(second)]) == 1
    out = capsys.readouterr().out
    assert "coef.npy: differs (largest difference 0.5)" in out and out.endswith("1 file differs\n")
    assert main(["diff", str(first), str(tmp_path / "none")]) == 2
    assert np.isfinite(predictor.coef).all()
    # The manifests count too, but for how long things took.
    timed = {"metrics": {"training": {"fit_seconds": 1.0}, "texts_per_second": 9.0}}
    modelfile.save(predictor, first, name="small", extra=timed)
    timed["metrics"] = {"training": {"fit_seconds": 2.0}, "texts_per_second": 7.0}
    modelfile.save(predictor, second, name="small", extra=timed)
    assert main(["diff", str(first), str(second)]) == 0
    # And the processes it was trained with: the same model whatever their number.
    modelfile.save(
        predictor, first, name="small", extra={**timed, "training_config": {"n_jobs": 1}}
    )
    modelfile.save(
        predictor, second, name="small", extra={**timed, "training_config": {"n_jobs": 2}}
    )
    assert main(["diff", str(first), str(second)]) == 0
    modelfile.save(predictor, first, name="small", extra=timed)
    capsys.readouterr()
    modelfile.save(predictor, second, name="small", extra={**timed, "temperature": 2.0})
    assert main(["diff", str(first), str(second)]) == 1
    assert "manifest.json: differs (keys temperature)" in capsys.readouterr().out


def test_evaluate_names_missing_label_files(tmp_path, capsys):
    corpus = write_small_corpus(tmp_path / "corpus.jsonl", heldout_copies=1)
    model = ROOT / "models" / "default"
    args = ["evaluate", str(model), "--corpus", str(corpus)]
    assert main([*args, "--labels", str(tmp_path / "none.tsv")]) == 2
    err = capsys.readouterr().err
    assert "hand labels not found:" in err and "none.tsv" in err and err.count("\n") == 1
    # said before the corpus is read: a missing corpus is not what stops it
    args = ["evaluate", str(model), "--corpus", str(tmp_path / "no-corpus.jsonl")]
    assert main([*args, "--labels", str(tmp_path / "none.tsv")]) == 2
    assert "hand labels not found:" in capsys.readouterr().err


def test_evaluate_with_hand_labels_given_needs_no_file_of_the_repository(
    tmp_path, capsys, monkeypatch
):
    # From a folder of one's own: the labels given, not the recipe's boundary slice too.
    corpus = write_small_corpus(tmp_path / "corpus.jsonl", heldout_copies=1)
    records = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    held = [r for r in records if r.get("split") == "validate"][:2]
    assert len(held) == 2
    labels = tmp_path / "mine.tsv"
    labels.write_text("id\ttopic\n" + "".join(f"{r['id']}\tenergy\n" for r in held), "utf-8")
    monkeypatch.chdir(tmp_path)
    model = str(ROOT / "models" / "default")
    assert main(["evaluate", model, "--corpus", str(corpus), "--labels", str(labels)]) == 0
    assert json.loads(capsys.readouterr().out)["hand"]["n"] == len(held)


OUT_OF_SCOPE = "Nữ ca sĩ ra mắt album nhạc mới và bộ phim hoạt hình"


def test_allow_none_on_the_command_line(small_none_folder, capsys):
    model = ["--model", str(small_none_folder)]
    assert main(["predict", *model, "--allow-none", OUT_OF_SCOPE, "Giá xăng dầu tăng mạnh"]) == 0
    assert capsys.readouterr().out == "none\nenergy\n"
    assert main(["predict", *model, OUT_OF_SCOPE]) == 0
    assert capsys.readouterr().out.strip() in ("geopolitics", "energy", "domestic", "sports")
    assert main(["predict", *model, "--allow-none", "--proba", OUT_OF_SCOPE]) == 0
    row = json.loads(capsys.readouterr().out)
    assert (
        row["topic"] is None and max(row["probabilities"], key=row["probabilities"].get) == "none"
    )
    assert main(["explain", *model, "--allow-none", "-k", "2", OUT_OF_SCOPE]) == 0
    assert capsys.readouterr().out.startswith("topic: none")


def test_allow_none_with_a_model_without_none_is_one_line(small_model, tmp_path, capsys):
    from nlpkit import modelfile

    folder = modelfile.save(small_model[0], tmp_path / "small")
    assert main(["predict", "--model", str(folder), "--allow-none", "Giá xăng"]) == 2
    err = capsys.readouterr().err
    assert "has no out-of-scope class" in err and err.count("\n") == 1


# -- nlpkit evaluate --data: a labelled file of one's own ----------------------------------


def _labelled(tmp_path, rows):
    path = tmp_path / "test.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_evaluate_scores_a_labelled_file_as_the_model_answers_it(tmp_path, capsys):
    rows = [{"text": t, "label": label} for label, texts in SMALL_CORPUS.items() for t in texts]
    rows[0]["label"] = "business"  # a label the model does not have
    path = _labelled(tmp_path, rows)
    assert main(["evaluate", str(ROOT / "models" / "default"), "--data", str(path)]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    answers = nlpkit.predict([r["text"] for r in rows])
    right = sum(a == r["label"] for a, r in zip(answers, rows))
    assert result["n"] == len(rows) and result["accuracy"] == round(right / len(rows), 4)
    assert result["labels_the_model_lacks"] == {"business": 1}
    assert result["confusion_matrix"]["labels"][-1] == "business"
    assert "1 texts have labels the model does not have ('business')" in err
    # How far its probabilities hold, on the texts of its topics (the one of another left out).
    calibration = result["calibration"]
    assert calibration["n"] == len(rows) - 1
    assert calibration["accuracy"] == round(right / (len(rows) - 1), 4)
    probs = nlpkit.predict_proba([r["text"] for r in rows[1:]])
    top = sum(max(p.values()) for p in probs) / len(probs)
    assert calibration["mean_top_probability"] == pytest.approx(top, abs=1e-4)


def test_evaluate_reads_the_title_field_the_model_was_trained_with(tmp_path, capsys):
    # (a model of titles and leads, scored on its leads alone, scores lower: nothing said)
    from nlpkit.text import join_title

    rows = [
        {"title": t, "text": f"Tin số {i}", "label": label}
        for label, texts in SMALL_CORPUS.items()
        for i, t in enumerate(texts)
    ]
    train = _labelled(tmp_path, rows * 3)
    model = str(tmp_path / "m")
    args = ["--title-field", "title", "--holdout", "0", "--quiet", "--output", model]
    assert main(["train", "--data", str(train), *args]) == 0
    capsys.readouterr()
    assert main(["evaluate", model, "--data", str(train)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["fields"]["title"] == "title"
    answers = nlpkit.load(model).predict([join_title(r["title"], r["text"]) for r in rows * 3])
    right = sum(a == r["label"] for a, r in zip(answers, rows * 3))
    assert result["accuracy"] == round(right / len(answers), 4)
    # A file without that field is read without titles, as it is.
    bare = tmp_path / "bare.jsonl"
    bare.write_text(
        "".join(json.dumps({"text": r["title"], "label": r["label"]}) + "\n" for r in rows)
    )
    assert main(["evaluate", model, "--data", str(bare)]) == 0
    assert json.loads(capsys.readouterr().out)["fields"]["title"] is None


def test_evaluate_reads_titles_by_default_as_predict_does_and_reads_a_pipe(tmp_path, capsys):
    rows = [{"title": t, "text": "", "label": x} for x, ts in SMALL_CORPUS.items() for t in ts]
    path = _labelled(tmp_path, rows)
    model = str(ROOT / "models" / "default")
    assert main(["evaluate", model, "--data", str(path)]) == 0
    result = json.loads(capsys.readouterr().out)
    answers = nlpkit.predict([r["title"] for r in rows])
    assert result["fields"]["title"] == "title"
    assert result["accuracy"] == round(
        sum(a == r["label"] for a, r in zip(answers, rows)) / len(rows), 4
    )
    done = subprocess.run(
        [sys.executable, "-m", "nlpkit", "evaluate", model, "--data", "-"],
        input=path.read_text("utf-8"),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["accuracy"] == result["accuracy"]


def test_evaluate_reads_a_record_whose_default_title_is_no_string_without_it(tmp_path, capsys):
    rows = [
        {"title": {"rendered": "x"}, "text": t, "label": x}
        for x, ts in SMALL_CORPUS.items()
        for t in ts
    ]
    assert (
        main(
            ["evaluate", str(ROOT / "models" / "default"), "--data", str(_labelled(tmp_path, rows))]
        )
        == 0
    )
    out, err = capsys.readouterr()
    result = json.loads(out)
    answers = nlpkit.predict([r["text"] for r in rows])
    assert result["accuracy"] == round(
        sum(a == r["label"] for a, r in zip(answers, rows)) / len(rows), 4
    )
    # (said, in one line of the command's own, not in Python's form naming nlpkit's code)
    assert err.startswith(
        f"nlpkit evaluate: warning: {len(rows)} records with a 'title' that is not a string "
        "read without it, e.g. "
    )


def test_evaluate_errors_are_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)  # (the shipped recipe's hand labels, named from the root)
    path = _labelled(
        tmp_path, [{"text": "Giá xăng tăng", "label": "energy"}, {"text": "\x01 ", "label": "x"}]
    )
    model = str(ROOT / "models" / "default")
    for args, message in [
        (["--data", str(path)], f"{path}:2: "),
        (["--text-field", "body"], "--text-field applies to --data only"),
        (["--data", str(path), "--label-field", "topic"], "no field 'topic'"),
        (["--corpus", str(path)], "no held-out record of the corpus was read"),
    ]:
        assert main(["evaluate", model, *args]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


def test_evaluate_refuses_an_empty_label_and_names_a_label_spelt_otherwise(tmp_path, capsys):
    model = str(ROOT / "models" / "default")
    rows = [{"text": "Giá xăng tăng", "label": "energy"}, {"text": "Giá điện tăng", "label": ""}]
    assert main(["evaluate", model, "--data", str(_labelled(tmp_path, rows))]) == 2
    assert f"{tmp_path / 'test.jsonl'}:2: empty label" in capsys.readouterr().err
    rows[1]["label"] = "Energy "
    assert main(["evaluate", model, "--data", str(_labelled(tmp_path, rows))]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["labels_spelt_otherwise"] == {"Energy": "energy"}
    assert "'Energy' is spelt 'energy' by the model" in err


def test_evaluate_scores_out_of_scope_with_allow_none(tmp_path, capsys):
    from conftest import SMALL_NONE

    rows = [{"text": t, "label": "none"} for t in SMALL_NONE]
    rows += [{"text": t, "label": "sports"} for t in SMALL_CORPUS["sports"]]
    path = _labelled(tmp_path, rows)
    model = str(ROOT / "models" / "default")
    assert main(["evaluate", model, "--data", str(path)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["labels_the_model_lacks"] == {"none": len(SMALL_NONE)}
    assert "--allow-none lets it answer none" in err
    assert main(["evaluate", model, "--data", str(path), "--allow-none"]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    answers = nlpkit.predict([r["text"] for r in rows], allow_none=True)
    right = sum((a or "none") == r["label"] for a, r in zip(answers, rows))
    assert "labels_the_model_lacks" not in result and err == ""
    assert result["accuracy"] == round(right / len(rows), 4)
    assert "none" in result["per_label"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a full device)")
@pytest.mark.parametrize(
    "args",
    [
        ["predict", "Giá xăng tăng"],
        ["predict", "--proba", "Giá xăng tăng"],
        ["explain", "--json", "Giá xăng tăng"],
    ],
)
def test_standard_output_on_a_full_device_is_one_line_and_exit_1(args):
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "nlpkit", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT / "tests",
            timeout=300,
        )
    assert result.returncode == 1
    assert result.stderr == (
        f"nlpkit {args[0]}: error: cannot write standard output (No space left on device)\n"
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a full device)")
def test_an_output_file_on_a_full_device_is_one_line_and_exit_1(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "Giá xăng tăng"}\n', encoding="utf-8")
    result = run("predict", "--input", str(src), "--output", "/dev/full")
    assert result.returncode == 1
    assert (
        result.stderr
        == "nlpkit predict: error: cannot write the output: No space left on device.\n"
    )


@pytest.mark.parametrize(
    "args, name",
    [
        (["train", "--data", "x.jsonl", "--output", ""], "--output"),
        (["predict", "--model", "", "Giá xăng"], "-m/--model"),
        (["predict", "-f", ""], "-f/--file"),
        (["evaluate", ""], "model"),
        (["diff", "", "models/default"], "first"),
        (["predict", "--input", "x.jsonl", "--output", ""], "--output"),
    ],
)
def test_an_empty_path_is_a_usage_error(capsys, args, name):
    # An unset shell variable gives "": read as the current folder, or as no option at all.
    with pytest.raises(SystemExit) as exit:
        main(args)
    assert exit.value.code == 2
    assert f"error: {name} is empty: name a file or folder" in capsys.readouterr().err


def test_a_late_ctrl_c_or_sigterm_leaves_a_finished_command_finished():
    # The process's own command, done: a Ctrl-C or SIGTERM while it ends is not an exit 130
    # or a silent 143. A caller that passes its arguments keeps its own handlers.
    import signal
    import subprocess
    import sys

    code = (
        "import signal, sys; from nlpkit.cli import main; sys.argv = ['nlpkit', 'predict', "
        "'Giá xăng tăng']; status = main(); "
        "print(status, signal.getsignal(signal.SIGINT) is signal.SIG_IGN, "
        "signal.getsignal(signal.SIGTERM) is signal.SIG_IGN)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines()[-1] == "0 True True", done.stderr
    before = signal.getsignal(signal.SIGTERM)
    assert main(["predict", "Giá xăng tăng"]) == 0
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_worker_that_dies_is_one_line_and_exit_1(monkeypatch, capsys, tmp_path):
    from nlpkit.pools import WorkerDied
    from nlpkit.training import api

    def killed(*args, **kwargs):
        raise WorkerDied("a worker process ended without an answer (killed? out of memory?)")

    monkeypatch.setattr(api, "train_file", killed)
    data = tmp_path / "x.jsonl"
    data.write_text('{"text": "a", "label": "x"}\n', encoding="utf-8")
    assert main(["train", "--data", str(data), "--output", str(tmp_path / "m")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nlpkit train: error: a worker process ended without an answer")
    assert "nothing was written; with --n-jobs 1 it needs less memory" in err
