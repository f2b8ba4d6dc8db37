"""`nlpkit.folders`: a folder or a file written in place of another, whole or not at all."""

import os

import pytest

from nlpkit.folders import write_file


def test_a_file_is_written_whole_with_the_umasks_permissions(tmp_path):
    path = tmp_path / "report.md"
    old = os.umask(0o022)
    try:
        write_file(path, "Giá xăng tăng\n")
    finally:
        os.umask(old)
    assert path.read_text(encoding="utf-8") == "Giá xăng tăng\n"
    assert path.stat().st_mode & 0o777 == 0o644
    write_file(path, "again")
    assert path.read_text(encoding="utf-8") == "again"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_a_write_that_fails_leaves_the_file_before_and_nothing_else(tmp_path):
    path = tmp_path / "report.md"
    write_file(path, "before")
    with pytest.raises(UnicodeEncodeError):
        write_file(path, "a lone surrogate \ud800 cannot be written")
    assert path.read_text(encoding="utf-8") == "before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_a_link_writes_the_file_it_points_to(tmp_path):
    (tmp_path / "real.md").write_text("before", encoding="utf-8")
    (tmp_path / "link.md").symlink_to("real.md")
    write_file(tmp_path / "link.md", "after")
    assert (tmp_path / "link.md").is_symlink()
    assert (tmp_path / "real.md").read_text(encoding="utf-8") == "after"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes: POSIX only")
def test_a_stream_is_written_to_as_it_is(tmp_path):
    import threading

    fifo = tmp_path / "stream"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text(encoding="utf-8")))
    reader.start()
    write_file(fifo, "Giá xăng tăng\n")
    reader.join(timeout=10)
    assert got == ["Giá xăng tăng\n"] and fifo.is_fifo()


def test_a_file_already_there_keeps_its_permissions(tmp_path):
    path = tmp_path / "report.md"
    path.write_text("before", encoding="utf-8")
    path.chmod(0o600)
    write_file(path, "after")
    assert path.read_text(encoding="utf-8") == "after"
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(not os.path.exists("/proc/self/fd"), reason="descriptor names: Linux")
@pytest.mark.parametrize("name", ["/dev/stderr", "/proc/self/fd/2", "/dev/fd/2"])
def test_standard_error_sent_to_a_file_is_written_after_what_it_holds(tmp_path, name):
    # (``2>> run.log``: the log must not be replaced by the report, nor lose what it held)
    import subprocess
    import sys

    log = tmp_path / "run.log"
    log.write_text("earlier log\n", encoding="utf-8")
    with log.open("a", encoding="utf-8") as err:
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from nlpkit.folders import write_file; "
                "print('said first', file=sys.stderr, flush=True); "
                f"write_file(Path({name!r}), 'Giá xăng tăng\\n')",
            ],
            stderr=err,
            check=True,
        )
    assert log.read_text(encoding="utf-8") == "earlier log\nsaid first\nGiá xăng tăng\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.log"]


def test_a_half_written_file_of_a_killed_run_is_removed(tmp_path):
    import subprocess
    import sys

    from nlpkit import folders

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = folders._host()
    left = tmp_path / f".report.md.{host}.{dead.pid}.0123abcd.tmp"
    left.write_text("half", encoding="utf-8")
    write_file(tmp_path / "report.md", "whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_bytes_are_written_as_they_are(tmp_path):
    path = tmp_path / "picture.png"
    write_file(path, b"\x89PNG\r\n\x1a\n\x00")
    assert path.read_bytes() == b"\x89PNG\r\n\x1a\n\x00"
