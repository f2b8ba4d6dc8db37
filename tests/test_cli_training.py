"""`nlpkit train --data FILE`: a user's own labelled file through the command line."""

import json
import subprocess
import sys
import warnings

import pytest
from conftest import ROOT

import nlpkit
from nlpkit.cli import main


def run(*args, cwd, env=None, input=None, script=None):
    """`nlpkit ARGS` in a process of its own; with ``script``, that `python -c` program, given
    ARGS as its own (it runs `nlpkit.cli.main` itself)."""
    head = ["-c", script, "nlpkit"] if script else ["-m", "nlpkit"]
    return subprocess.run(
        [sys.executable, *head, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env=env,
        input=input,
    )


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The documentation's example file, written by its script outside the repository."""
    folder = tmp_path_factory.mktemp("own")
    path = folder / "sections.jsonl"
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / "make_example.py"), str(path)], check=True
    )
    return path


def _env(tmp_path):
    import os

    return {**os.environ, "NLPKIT_CACHE_DIR": str(tmp_path / "cache")}


@pytest.mark.slow
def test_train_on_a_file_outside_the_repository(example, tmp_path):
    result = run("train", "--data", str(example), cwd=tmp_path, env=_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "model: sections-model"
    assert result.stdout.splitlines()[1].startswith("held-out: accuracy ")
    model = nlpkit.load(tmp_path / "sections-model")
    assert set(model.topics) == {"business", "education", "health", "travel"}
    assert model.predict("Bệnh viện khám sàng lọc miễn phí cho người cao tuổi") == "health"
    manifest = json.loads((tmp_path / "sections-model" / "manifest.json").read_text("utf-8"))
    user = manifest["metrics"]["user_data"]
    assert (user["train"], user["heldout"]) == (128, 32)
    assert manifest["metrics"]["heldout"]["distant"]["n"] == 32
    assert (tmp_path / "sections-model" / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    card = (tmp_path / "sections-model" / "README.md").read_text("utf-8")
    assert "The held-out texts of the file, against their labels" in card
    assert "labels as the file gives them" in card
    # Piped, the progress lines stay away; --quiet silences the messages too.
    assert "\r" not in result.stderr and "training labels" in result.stderr
    quiet = run(
        "train",
        "--data",
        str(example),
        "--holdout",
        "0",
        "--output",
        "all",
        "--quiet",
        cwd=tmp_path,
        env=_env(tmp_path),
    )
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert "every text trained" in quiet.stdout
    shown = run(
        "train",
        "--data",
        str(example),
        "--output",
        "shown",
        "--progress",
        "--results",
        "r",
        cwd=tmp_path,
        env=_env(tmp_path),
    )
    assert "  segmentation: 128 texts in" in shown.stderr and "  fitting: done in" in shown.stderr
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text("utf-8"))
    assert metrics["training"]["fit_seconds"] >= 0 and (tmp_path / "r" / "summary.md").exists()


@pytest.mark.parametrize(
    "content, args, message",
    [
        (
            '{"text": "a", "topic": "x"}\n',
            [],
            "x.jsonl:1: no field 'label' (fields: text, topic); name the label field with --label-field",
        ),
        (
            '{"text": "a", "label": "x"}\n{"text": "b", "label": "x"}\n',
            [],
            "only one label ('x') in 2 texts: training needs two or more",
        ),
        (
            '{"text": "a", "label": "none"}\n{"text": "b", "label": "x"}\n',
            [],
            "one label ('x') besides none (out of scope) in 2 texts: training needs two or more "
            "besides none",
        ),
        (
            '{"text": "a", "label": "x"}\n{"text": "b", "label": "ener\\ngy"}\n',
            [],
            "x.jsonl:2: label 'ener\\ngy' holds a line end, tab or other control character",
        ),
        (
            '{"text": "a", "label": "x"}\n',
            ["--holdout", "1.5"],
            "--holdout must be a share in [0, 1), got 1.5",
        ),
        ('{"text": "a", "label": "x"}\n', ["--weight", "2"], "--weight applies to --base only"),
        (
            '{"text": "a", "label": "x"}\n',
            ["--base", "default", "--weight", "nan"],
            "--weight must be from 1e-06 to 1e+06, got nan",
        ),
        (
            '{"text": "a", "label": "x"}\n',
            ["--base", "default", "--weight", "1e308"],
            "--weight must be from 1e-06 to 1e+06, got 1e+308",
        ),
        (
            '{"text": "a", "label": "x"}\n',
            ["--output", "m", "--results", "./m"],
            "--results ./m is the model's folder: name another",
        ),
        (
            '{"text": "a", "label": "x"}\n',
            ["--output", "m", "--results", "m/results"],
            "--results m/results is inside the model's folder: name another",
        ),
        (
            '{"text": "a", "label": "x"}\n',
            ["--corpus", "/nowhere.jsonl"],
            "--corpus applies to --base only: with --data alone, no corpus is read",
        ),
        ('{"text": "", "label": "x"}\n', [], "x.jsonl:1: empty text"),
        (
            '{"text": "a", "label": "x"}\n{"text": "\\u200b \\u0000", "label": "y"}\n',
            [],
            "x.jsonl:2: empty text once cleaned (only white space and control characters, HTML "
            "tags, or HTML references to white space)",
        ),
        (
            '{"text": "a", "label": "x"}\n{"text": "<p></p>", "label": "y"}\n',
            [],
            "x.jsonl:2: empty text once cleaned (only white space and control characters, HTML "
            "tags, or HTML references to white space)",
        ),
        (
            '{"text": "a", "label": "x"}\n',
            ["--n-jobs", "-1"],
            "--n-jobs must be a number of processes (at least 1), or 0 for the machine's "
            "cores; got -1",
        ),
        (
            '{"text": "a b", "label": "x"}\n{"text": "c d", "label": "y"}\n' * 2,
            ["--n-jobs", "1000"],
            "--n-jobs: 'n_jobs' must be a number of processes (1 to 256), or 0 for the "
            "machine's cores; got 1000",
        ),
        (
            '{"text": "a b", "label": "x"}\n{"text": "c d", "label": "y"}\n' * 2,
            ["--cv", "1"],
            "--cv: 'cv' must be 0 (none) or from 2 to 20 folds, got 1",
        ),
    ],
)
def test_bad_data_is_one_line_and_exit_2(tmp_path, content, args, message, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.jsonl").write_text(content, encoding="utf-8")
    assert main(["train", "--data", "x.jsonl", *args]) == 2
    assert capsys.readouterr().err.splitlines() == [f"nlpkit train: error: {message}"]
    assert not (tmp_path / "x-model").exists()


def test_a_label_with_one_example_is_a_warning(tmp_path, example, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NLPKIT_CACHE_DIR", str(tmp_path / "cache"))
    lines = example.read_text("utf-8").splitlines()
    lines.append(json.dumps({"text": "Một nhãn lẻ, chỉ một lần.", "label": "odd"}))
    (tmp_path / "y.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["train", "--data", "y.jsonl", "--quiet"]) == 0
    assert "nlpkit train: warning: 1 label(s) with one example ('odd')" in capsys.readouterr().err


def test_base_needs_labels_of_the_base_models_classes(tmp_path, example, capsys):
    assert main(["train", "--data", str(example), "--base", "default"]) == 2
    assert "label 'business' is not one of the base model's classes" in capsys.readouterr().err


def test_a_labelled_file_given_as_a_config_says_to_use_data(example, capsys):
    assert main(["train", str(example)]) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1
        and f"to train on a labelled file, give it with --data: --data {example}" in err
    )


def test_a_config_and_data_options_do_not_mix(capsys):
    assert main(["train", "x.toml", "--holdout", "0.1"]) == 2
    assert "--holdout applies to --data only" in capsys.readouterr().err
    assert main(["train"]) == 2
    assert "give an experiment config, or --data FILE" in capsys.readouterr().err


def test_an_output_that_cannot_be_written_is_refused_before_training(tmp_path, example, capsys):
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("years of work", encoding="utf-8")
    for output, message in [
        (tmp_path / "a-file" / "model", "a-file is a file, not a folder"),
        (tmp_path / "a-file", "is a file; name a folder"),
        # (a folder of one's own, which the model would have replaced, files and all)
        (tmp_path / "mine", "holds other files, not a model folder"),
    ]:
        assert main(["train", "--data", str(example), "--output", str(output), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "fitting" not in err
    # The check left nothing, and took nothing.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "mine"]
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["thesis.txt"]


def test_a_disk_that_fails_at_the_end_is_one_line_and_exit_1(
    tmp_path, example, monkeypatch, capsys
):
    import errno

    import nlpkit.training.output as output

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "m" / "coef.npy"))

    monkeypatch.setenv("NLPKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(output, "write_results", full)
    assert main(["train", "--data", str(example), "--output", str(tmp_path / "m"), "--quiet"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (
        f"nlpkit train: error: cannot write the model or its results "
        f"({tmp_path / 'm' / 'coef.npy'}: No space left on device)"
    )
    assert "Traceback" not in "\n".join(err)

    # A write that fails midway names no file: the folder it went to is named.
    def midway(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output, "write_results", midway)
    assert main(["train", "--data", str(example), "--output", str(tmp_path / "m"), "--quiet"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"nlpkit train: error: cannot write the model or its results "
        f"({tmp_path / 'm'}: No space left on device)"
    )


@pytest.mark.parametrize("exc, status", [(KeyboardInterrupt, 130), ("Terminated", 143)])
def test_an_interrupted_training_says_nothing_was_written(
    tmp_path, example, monkeypatch, capsys, exc, status
):
    import nlpkit.training.api as api
    from nlpkit.usage import Terminated

    exc = Terminated if exc == "Terminated" else exc

    def interrupted(*args, **kwargs):
        raise exc

    monkeypatch.setattr(api, "train_file", interrupted)
    out = tmp_path / "m"
    assert main(["train", "--data", str(example), "--output", str(out), "--quiet"]) == status
    err = capsys.readouterr().err
    assert err.strip() == "nlpkit train: interrupted; nothing was written."
    assert list(tmp_path.iterdir()) == []


def test_a_warning_of_the_data_is_said_when_it_comes_before_the_fit_ends(
    tmp_path, example, monkeypatch, capsys
):
    # (a long training is stopped once its warning is read: said then, not at its end)
    import nlpkit.training.api as api

    said_before_the_end = []

    def warned_then_interrupted(*args, **kwargs):
        warnings.warn("3 texts repeat an earlier one with another label", stacklevel=1)
        said_before_the_end.append(capsys.readouterr().err)
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "_fit", warned_then_interrupted)
    out = tmp_path / "m"
    assert main(["train", "--data", str(example), "--output", str(out), "--quiet"]) == 130
    assert said_before_the_end == [
        "nlpkit train: warning: 3 texts repeat an earlier one with another label\n"
    ]
    assert capsys.readouterr().err.strip() == "nlpkit train: interrupted; nothing was written."


def test_an_interruption_while_writing_says_what_it_may_have_left(
    tmp_path, example, monkeypatch, capsys
):
    # The model folder is saved whole first; the results are written after it.
    import nlpkit.training.output as output

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setenv("NLPKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(output, "write_metrics", interrupted)
    out, results = tmp_path / "m", tmp_path / "results"
    args = ["train", "--data", str(example), "--output", str(out), "--results", str(results)]
    assert main([*args, "--quiet"]) == 130
    err = capsys.readouterr().err
    assert err.strip() == (
        "nlpkit train: interrupted; while writing the model or its results; run the command again."
    )
    assert "Traceback" not in err
    model = nlpkit.load(out)
    assert model.predict("Giá xăng tăng") in model.topics


def test_no_held_out_part_says_why(tmp_path, example, monkeypatch, capsys):
    # Not "--holdout 0" when it was not given: every label had one example, none to hold out.
    import warnings

    monkeypatch.setenv("NLPKIT_CACHE_DIR", str(tmp_path / "cache"))
    rows = [json.loads(line) for line in example.read_text(encoding="utf-8").splitlines()]
    unique = tmp_path / "unique.jsonl"
    unique.write_text(
        "".join(
            json.dumps({"text": r["text"], "label": f"l{i}"}) + "\n"
            for i, r in enumerate(rows[:20])
        ),
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (labels of one example each: warned of, rightly)
        assert (
            main(["train", "--data", str(unique), "--output", str(tmp_path / "m"), "--quiet"]) == 0
        )
    out = capsys.readouterr().out
    assert "held-out: none: --holdout 0.2 of each label's texts rounds to none" in out
    # A share too small for any label says so the same way, where the labels have examples
    # to spare.
    many = tmp_path / "many.jsonl"
    many.write_text(
        "".join(json.dumps({"text": f"{r['text']} {k}", "label": r["label"]}) + "\n"
                for k, r in enumerate(rows * 3)),
        encoding="utf-8",
    )  # fmt: skip
    args = ["train", "--data", str(many), "--output", str(tmp_path / "n"), "--quiet"]
    assert main([*args, "--holdout", "1e-9"]) == 0
    assert "held-out: none: --holdout 1e-09 of each label's texts rounds to none" in (
        capsys.readouterr().out
    )


def test_a_run_without_held_out_texts_is_summed_up_and_compared(
    example, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NLPKIT_CACHE_DIR", str(tmp_path / "cache"))
    args = ["--data", str(example), "--holdout", "0", "--output", "m", "--results", "r"]
    assert main(["train", *args, "--quiet"]) == 0
    summary = (tmp_path / "r" / "summary.md").read_text(encoding="utf-8")
    # What the model was trained on: the file, not the corpora of the recipe's defaults.
    assert "- Data: sections.jsonl, 160 texts trained and 0 held out" in summary
    assert "vntc" not in summary and "No held-out texts were scored" in summary
    capsys.readouterr()
    assert main(["compare", "r"]) == 0
    row = capsys.readouterr().out.splitlines()[-1]
    assert row.startswith("| sections |") and "| – | – |" in row


@pytest.mark.parametrize(
    "command, hint",
    [
        (["adapt", "--unlabeled", "x.jsonl", "--config"], "to adapt from a feed, give it with --unlabeled"),
        (["evaluate", str(ROOT / "models" / "default"), "--config"], "to score a labelled file, give it with --data"),
    ],
)  # fmt: skip
def test_a_data_file_given_as_a_config_is_named_with_the_commands_own_option(
    example, tmp_path, monkeypatch, capsys, command, hint
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.jsonl").write_text('{"text": "a"}\n', encoding="utf-8")
    assert main([*command, str(example)]) == 2
    assert hint in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="named pipes: POSIX only")
def test_training_on_a_stream_reads_it_once(example, tmp_path, monkeypatch, capsys):
    import os
    import threading

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NLPKIT_CACHE_DIR", str(tmp_path / "cache"))
    fifo = tmp_path / "stream"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(example.read_bytes()))
    writer.start()
    try:
        # (it hung after the fit, opening the stream again for the data's fingerprint)
        assert main(["train", "--data", str(fifo), "--output", "m", "--quiet"]) == 0
    finally:
        writer.join(timeout=10)
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["corpus"]["fingerprint"] is None
    assert manifest["training_inputs"]["corpus"] == {"stream": "not recorded: read from a stream"}


def test_results_interrupted_as_they_are_made_leave_the_runs_before_whole(
    tmp_path, example, monkeypatch
):
    # (a new metrics.json had been left beside the summary and picture of the run before)
    import nlpkit.card as card
    from nlpkit.training.api import train_file
    from nlpkit.training.output import write_results

    predictor, metrics, cfg = train_file(example, holdout=0.2)
    results = tmp_path / "r"
    write_results(predictor, metrics, cfg, tmp_path / "m", results)
    before = {p.name: p.read_bytes() for p in results.iterdir()}
    assert set(before) == {"metrics.json", "summary.md", "confusion_matrix.png"}
    model_before = {p.name: p.read_bytes() for p in (tmp_path / "m").iterdir()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(card, "run_summary", interrupted)
    metrics["heldout"]["distant"]["accuracy"] = 0.5  # (another run's figures)
    with pytest.raises(KeyboardInterrupt):
        write_results(predictor, metrics, cfg, tmp_path / "m", results)
    assert {p.name: p.read_bytes() for p in results.iterdir()} == before
    # (the model folder, the results' parent by default, had been saved first)
    assert {p.name: p.read_bytes() for p in (tmp_path / "m").iterdir()} == model_before


def test_the_commands_own_process_sets_its_imports_aside_from_the_collector(tmp_path, example):
    # (some 125,000 objects of scikit-learn and scipy, which the collector's full passes went
    # over during training and again at exit); a caller of main keeps its collector as it is
    import gc

    frozen = gc.get_freeze_count()
    assert main(["train", "--data", str(example), "--output", str(tmp_path / "a"), "--quiet"]) == 0
    assert gc.get_freeze_count() == frozen
    script = (
        "import atexit, gc, sys; from nlpkit.cli import main; "
        "atexit.register(lambda: print(gc.get_freeze_count(), file=sys.stderr)); "
        "sys.argv[1:] = sys.argv[2:]; sys.exit(main())"
    )
    args = ["train", "--data", str(example), "--output", str(tmp_path / "b"), "--quiet"]
    done = run(*args, cwd=tmp_path, env=_env(tmp_path), script=script)
    assert done.returncode == 0, done.stderr
    assert int(done.stderr.split()[-1]) > 10_000


def test_standard_input_is_read_as_the_data(tmp_path, example):
    args = ["train", "--data", "-", "--holdout", "0", "--quiet"]
    done = run(*args, cwd=tmp_path, env=_env(tmp_path), input=example.read_text("utf-8"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "model: stream-model"
    assert nlpkit.load(tmp_path / "stream-model").predict("Bệnh viện tiếp nhận bệnh nhân")


@pytest.mark.parametrize(
    "args",
    [["train", "--data", "missing.jsonl"], ["train", "--data", "x.jsonl", "--holdout", "2"]],
)
def test_a_mistake_in_the_arguments_is_said_before_trainings_imports(tmp_path, args):
    # (scikit-learn's import is a second: a typo is said at once)
    (tmp_path / "x.jsonl").write_text('{"text": "a", "label": "x"}\n', encoding="utf-8")
    script = (
        "import atexit, sys; from nlpkit.cli import main; "
        "atexit.register(lambda: print('sklearn' in sys.modules, file=sys.stderr)); "
        "sys.argv[1:] = sys.argv[2:]; sys.exit(main())"
    )
    done = run(*args, cwd=tmp_path, env=_env(tmp_path), script=script)
    assert done.returncode == 2 and done.stderr.splitlines()[-1] == "False", done.stderr


def test_standard_inputs_errors_name_it_so(tmp_path):
    done = run(
        "train",
        "--data",
        "-",
        cwd=tmp_path,
        env=_env(tmp_path),
        input='{"text": "a", "label": "x"}\nnot json\n',
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "nlpkit train: error: standard input:2: not valid JSON (Expecting value at column 1)"
    )
    # and its warnings
    rows = '{"text": "a b", "label": "x"}\n' * 2 + '{"text": "c d", "label": "y"}\n' * 2
    args = ["train", "--data", "-", "--holdout", "0", "--quiet"]
    done = run(*args, cwd=tmp_path, env=_env(tmp_path), input=rows)
    assert "(e.g. standard input:2 = standard input:1)" in done.stderr, done.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="a file name of bytes that are no UTF-8")
def test_a_data_file_named_in_bytes_that_are_no_utf8_trains(tmp_path, example, monkeypatch):
    # The model was named after the file, and its card, picture and manifest failed to write
    # the name's lone surrogates, after the whole training.
    import os

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NLPKIT_CACHE_DIR", str(tmp_path / "cache"))
    name = os.fsdecode(b"tin\xe9.jsonl")
    (tmp_path / name).write_bytes(example.read_bytes())
    assert main(["train", "--data", name, "--quiet"]) == 0
    folder = tmp_path / "tin\ufffd-model"  # (named as the model is)
    assert nlpkit.load(folder).manifest["name"] == "tin\ufffd"
