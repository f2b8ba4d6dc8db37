import gzip
import json
import os
import re
import threading
import time
import warnings

import numpy as np
import pytest
from conftest import SMALL_CORPUS

from nlpkit.training.reading import DataError, data_name, from_lists, read_file
from nlpkit.training.userdata import split


def jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def small_rows():
    return [{"text": t, "label": topic} for topic, texts in SMALL_CORPUS.items() for t in texts]


def test_jsonl_csv_and_gzip_read_the_same(tmp_path):
    import csv

    rows = small_rows()
    a = read_file(jsonl(tmp_path / "a.jsonl", rows))
    with open(tmp_path / "b.csv", "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, ["label", "text"])
        writer.writeheader()
        writer.writerows(rows)
    b = read_file(tmp_path / "b.csv")
    (tmp_path / "c.jsonl.gz").write_bytes(gzip.compress((tmp_path / "a.jsonl").read_bytes()))
    c = read_file(tmp_path / "c.jsonl.gz")
    (tmp_path / "d.csv.gz").write_bytes(gzip.compress((tmp_path / "b.csv").read_bytes()))
    d = read_file(tmp_path / "d.csv.gz")
    for other in (b, c, d):
        assert other.texts == a.texts and other.labels == a.labels
    assert a.where[3] == f"{tmp_path / 'a.jsonl'}:4"


def test_fields_are_named_by_the_user(tmp_path):
    rows = [
        {"body": r["text"], "section": r["label"], "head": "T", "part": "train"}
        for r in small_rows()
    ]
    data = read_file(jsonl(tmp_path / "x.jsonl", rows), "body", "section", "head", "part")
    assert data.titles[0] == "T" and data.parts[0] == "train" and data.labels[0] == "geopolitics"


@pytest.mark.parametrize(
    "content, message",
    [
        (
            '{"text": "a", "label": "x"}\n{"text": "b"}\n',
            "x.jsonl:2: no field 'label' (fields: text); name the label field with --label-field",
        ),
        (
            '{"text": "a", "label": "x"}\n{"text": "b", "label": "x"}\n',
            "only one label ('x') in 2 texts",
        ),
        ('{"text": "a", "label": "x"}\n{"text": "  ", "label": "y"}\n', "x.jsonl:2: empty text"),
        (
            '{"text": "a", "label": "x"}\n{"text": 3, "label": "y"}\n',
            "x.jsonl:2: field 'text' (text) must be a string, got int",
        ),
        (
            '{"text": "a", "label": null}\n',
            "x.jsonl:1: field 'label' (label) must be a string, got null",
        ),
        ('{"text": "a", "label": "x"}\n{"text": "b", "label": "y"\n', "x.jsonl:2: not valid JSON"),
        ("", "x.jsonl: no records"),
    ],
)
def test_bad_jsonl_gets_one_line_naming_the_problem(tmp_path, content, message):
    path = tmp_path / "x.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        split(read_file(path))
    text = str(caught.value).replace(str(tmp_path) + "/", "")
    assert message in text and "\n" not in text


@pytest.mark.parametrize(
    "content, message",
    [
        ('text,label\nhello,a\n"unclosed, b\nmore,c\n', r"x.csv:3: malformed CSV .*a stray quote"),
        ("text,label\nhello,a,extra\n", "x.csv:2: more values than the header has columns"),
        ("text,label,title\nhello,a\n", "x.csv:2: 2 value\\(s\\) where the header has 3 columns"),
        ("text;label\nhello;a\n", "x.csv:1: one column named 'text;label': .*separated by semicolons"),
        ('\ufeff"text";"label"\r\n"hello";"a"\r\n', "x.csv:1: its values are separated by semicolons"),
        ("text\tlabel\nhello\ta\n", "x.csv:1: .*separated by tabs: name the file .tsv"),
        ("text,text,label\nhello,bye,a\n", "x.csv:1: the header names 'text' twice"),
    ],
    ids=[
        "a stray quote", "more values", "fewer values", "semicolons", "semicolons quoted",
        "tabs", "a column twice",
    ],
)  # fmt: skip
def test_a_malformed_csv_is_one_line_naming_its_line(tmp_path, content, message):
    path = tmp_path / "x.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_file(path)


def test_a_header_with_spaces_around_its_names_names_its_fields(tmp_path):
    # "title, text, label" was refused as "no field 'text'", at line 2.
    path = tmp_path / "x.csv"
    path.write_text("title, text , label\nTin 1, Giá xăng tăng, a\nTin 2,Đội tuyển thắng,b\n")
    data = read_file(path, title_field="title")
    assert data.texts == [" Giá xăng tăng", "Đội tuyển thắng"] and data.labels == ["a", "b"]
    assert data.titles == ["Tin 1", "Tin 2"]


def test_a_spreadsheets_empty_rows_are_skipped_as_blank_lines(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_text("text,label\nGiá xăng,energy\n,\n , \nĐội tuyển,sports\n,\n", "utf-8")
    data = read_file(path)
    assert data.texts == ["Giá xăng", "Đội tuyển"] and data.where[1].endswith("sheet.csv:5")
    path.write_text("text,label\nGiá xăng,energy\n,sports\n", "utf-8")  # (a label: not blank)
    with pytest.raises(DataError, match="empty text"):
        split(read_file(path))


def test_a_record_without_its_title_has_none_and_a_title_no_record_has_is_said(tmp_path):
    path = tmp_path / "x.jsonl"
    rows = [{"title": "Giá xăng", "text": "tăng", "label": "energy"}, {"text": "b", "label": "y"}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    assert read_file(path, title_field="title").titles == ["Giá xăng", ""]
    with pytest.raises(DataError, match=r"x.jsonl: no record has the title field 'headline' \("):
        read_file(path, title_field="headline")
    # In Python, None or NaN (pandas' empty cell) is no title.
    import numpy as np

    data = from_lists(
        ["a", "b", "c", "d"], ["x", "y", "x", "y"], ["Tít", None, float("nan"), np.float32("nan")]
    )
    assert data.titles == ["Tít", "", "", ""]


def test_a_utf16_file_is_said_to_be_utf16(tmp_path):
    # (a spreadsheet's "Unicode Text" export)
    path = tmp_path / "u16.txt"
    path.write_bytes("text\tlabel\nGiá xăng\tenergy\n".encode("utf-16"))
    with pytest.raises(DataError, match=r"u16.txt: UTF-16 \(byte-order mark\), not UTF-8: save"):
        read_file(path)
    path.write_bytes("text\tlabel\nGiá xăng\tenergy\n".encode("utf-32"))
    with pytest.raises(DataError, match=r"u16.txt: UTF-32 \(byte-order mark\), not UTF-8: save"):
        read_file(path)
    # (and a .tsv of semicolons is told of tabs, not commas)
    path = tmp_path / "x.tsv"
    path.write_text("text;label\nGiá;x\n", encoding="utf-8")
    with pytest.raises(DataError, match="a .tsv file's are separated by tabs: export it again"):
        read_file(path)


def test_plain_text_given_as_labelled_data_is_said_to_be_read_as_csv(tmp_path):
    # (its first text was named as the header's field, and nothing said why)
    path = tmp_path / "texts.txt"
    path.write_text("Giá xăng tăng\nĐội tuyển thắng\n", encoding="utf-8")
    with pytest.raises(DataError, match="no field 'text' .*the file is read as CSV, its first"):
        read_file(path)
    # JSON lines under such a name are read as JSON lines, and not said to be CSV.
    path.write_text('{"body": "Giá xăng tăng", "label": "energy"}\n', encoding="utf-8")
    with pytest.raises(DataError, match="no field 'text'") as refused:
        read_file(path)
    assert "CSV" not in str(refused.value)


def test_a_spreadsheets_blank_trailing_columns_are_read_past(tmp_path):
    # Spreadsheets export columns left empty as blank header cells: not a name given twice.
    path = tmp_path / "x.csv"
    path.write_text("text,label,,\nGiá xăng tăng,energy,,\nĐội tuyển thắng,sports,,\n", "utf-8")
    data = read_file(path)
    assert list(data.texts) == ["Giá xăng tăng", "Đội tuyển thắng"]
    assert list(data.labels) == ["energy", "sports"]


def test_a_csv_field_of_a_long_article_is_read(tmp_path):
    import csv

    long = "Giá xăng tăng. " * 20_000  # (300,000 characters: the csv module's limit is 131,072)
    path = tmp_path / "x.csv"
    path.write_text(f'text,label\n"{long}",a\nshort,b\n', encoding="utf-8")
    before = csv.field_size_limit()
    assert read_file(path).texts == [long, "short"]
    assert csv.field_size_limit() == before


def test_gzip_is_known_by_its_bytes_not_its_name(tmp_path):
    rows = small_rows()
    for name in ("x.JSONL.GZ", "x-packed"):
        path = tmp_path / name
        path.write_bytes(gzip.compress(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
        ))  # fmt: skip
        assert read_file(path).texts == [r["text"] for r in rows]


def test_json_messages_name_the_problem_once(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('[\n  {"text": "a", "label": "x"}\n]\n', encoding="utf-8")
    with pytest.raises(DataError, match="one object a line, not an array"):
        read_file(path)
    path.write_text('{"text": "abc', encoding="utf-8")  # (no line end: the string is cut)
    with pytest.raises(DataError) as caught:
        read_file(path)
    assert "Unterminated string starting at column" in str(caught.value)


def test_missing_file_and_not_utf8(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_file(tmp_path / "none.jsonl")
    (tmp_path / "latin.csv").write_bytes("text,label\ncaf\xe9,a\n".encode("latin-1"))
    with pytest.raises(DataError, match="latin.csv: not UTF-8"):
        read_file(tmp_path / "latin.csv")


def test_lists_of_the_wrong_length_or_kind():
    with pytest.raises(DataError, match="2 texts but 1 labels"):
        from_lists(["a", "b"], ["x"])
    with pytest.raises(DataError, match=re.escape("texts[1] is missing (None)")):
        from_lists(["a", None], ["x", "y"])
    with pytest.raises(DataError, match=re.escape("labels[1] is missing (nan)")):
        from_lists(["a", "b"], ["x", float("nan")])
    with pytest.raises(TypeError, match=re.escape("texts[0] must be a string, got bytes")):
        from_lists([b"a", "b"], ["x", "y"])
    assert from_lists(["a", "b"], [1, 2]).labels == ["1", "2"]  # numbered classes are names
    assert from_lists(["a", "b"], np.array([1, 2])).labels == ["1", "2"]  # as scikit-learn takes y
    for wrong in ([True, False], np.array([True, False]), [1.0, 2.0]):
        with pytest.raises(TypeError, match=r"labels\[0\] must be a string or a whole number, got"):
            from_lists(["a", "b"], wrong)
    for wrong in (1.0, -0.1, "0.2", None, True, float("nan")):
        with pytest.raises(DataError, match="holdout must be a share in"):
            split(from_lists(["a", "b"], ["x", "y"]), holdout=wrong)


@pytest.mark.parametrize(
    "path, name",
    [
        ("news.jsonl", "news"),
        ("news.2024.csv", "news.2024"),  # (news.2025.csv must not write the same folder)
        ("v1.2.final.tsv.gz", "v1.2.final"),
        ("feed.TXT", "feed"),
        (".hidden.csv", "hidden"),
        ("plain", "plain"),
        (".jsonl", "data"),
    ],
)
def test_a_data_file_names_its_model_by_all_but_its_kind(path, name):
    assert data_name(path) == name


def test_damaged_gzip_data_is_one_line(tmp_path):
    # (bytes changed inside the data, not cut short: zlib's own error, which was a traceback)
    rows = small_rows() * 20
    packed = bytearray(gzip.compress(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    ))  # fmt: skip
    packed[len(packed) // 2 : len(packed) // 2 + 40] = bytes(40)
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(DataError, match="x.jsonl.gz: damaged gzip file"):
        read_file(path)


def test_field_names_must_name_a_field(tmp_path):
    path = jsonl(tmp_path / "x.jsonl", small_rows())
    for option in ("text_field", "label_field", "title_field", "split_field"):
        with pytest.raises(ValueError, match=f"{option} must be the name of a field, got ''"):
            read_file(path, **{option: ""})


def test_pandas_texts_and_labels_with_other_indexes_are_paired_by_position_with_a_warning():
    pandas = pytest.importorskip("pandas")
    texts = pandas.Series(["a", "b"], index=[0, 1])
    with pytest.warns(UserWarning, match="paired by position, not by index"):
        data = from_lists(texts, pandas.Series(["y", "x"], index=[1, 0]))
    assert data.labels == ["y", "x"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from_lists(texts, pandas.Series(["x", "y"], index=[0, 1]))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes: POSIX only")
@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("by_bits", [False, True], ids=["at once", "a byte first"])
def test_a_stream_is_read_once_from_its_start(tmp_path, packed, by_bits):
    # A pipe, standard input or a shell's <(...) cannot be opened twice nor read back, and may
    # give its first bytes a few at a time (its format is not told by the first few).
    content = (
        b"\n" + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in small_rows()).encode()
    )
    data = gzip.compress(content) if packed else content
    fifo = tmp_path / "stream"
    os.mkfifo(fifo)

    def write():
        with fifo.open("wb", buffering=0) as out:
            if by_bits:
                out.write(data[:1])
                time.sleep(0.3)
            out.write(data[1 if by_bits else 0 :])

    writer = threading.Thread(target=write)
    writer.start()
    try:
        data = read_file(fifo)
    finally:
        writer.join(timeout=10)
    assert data.texts == [r["text"] for r in small_rows()]


@pytest.mark.skipif(not os.path.exists("/dev/fd"), reason="descriptor names: Linux")
def test_a_stream_of_a_descriptor_is_named_stream_and_plain_text_of_a_stream_says_what_to_do(
    tmp_path,
):
    from nlpkit.training.reading import read_texts

    # (a shell's <(...) is /dev/fd/63: the number would name the model and its folder)
    assert data_name("/dev/fd/63") == data_name("/dev/stdin") == "stream"
    assert data_name(tmp_path / "news.2024.csv.gz") == "news.2024"
    read, write = os.pipe()
    os.write(write, "Giá xăng tăng\nĐội tuyển thắng\n".encode())
    os.close(write)
    try:
        with pytest.raises(DataError, match=r"ends in \.txt \(save the stream to such a file\)"):
            read_texts(f"/dev/fd/{read}")
    finally:
        os.close(read)


@pytest.mark.skipif(not os.path.exists("/dev/fd"), reason="descriptor names: Linux")
def test_a_tab_separated_stream_is_read_as_such(tmp_path):
    # A stream has no name to end in .tsv: "name the file .tsv" was all it was told.
    read, write = os.pipe()
    os.write(write, "text\tlabel\nGiá xăng, dầu tăng\ta\nĐội tuyển thắng\tb\n".encode())
    os.close(write)
    try:
        data = read_file(f"/dev/fd/{read}")
    finally:
        os.close(read)
    assert data.texts == ["Giá xăng, dầu tăng", "Đội tuyển thắng"] and data.labels == ["a", "b"]


def test_a_json_array_is_named_as_one(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps(small_rows(), ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DataError, match=r"x.json:1: expected a JSON object, got list: the file is"):
        read_file(path)


def test_a_feed_reads_its_titles_and_leaves_out_records_with_nothing_to_read(tmp_path):
    from nlpkit.training.reading import read_texts

    feed = tmp_path / "feed.jsonl"
    records = [
        {"title": "Giá xăng tăng", "text": ""},  # a headline without a lead: a text
        {"title": "", "text": "  "},  # nothing to read: left out, said
        {"text": "Tuyển Việt Nam thắng"},
    ]
    feed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    with pytest.warns(
        UserWarning, match=r"1 record with nothing to read .* e\.g\. \S*feed.jsonl:2$"
    ):
        texts, titles = read_texts(feed)
    assert (texts, titles) == (["", "Tuyển Việt Nam thắng"], ["Giá xăng tăng", ""])
    # A title field named outright must be there; with none to read at all, nothing is left.
    with pytest.raises(DataError, match=r"feed.jsonl:1: no field 'headline'"):
        read_texts(feed, title_field="headline")
    feed.write_text('{"text": ""}\n{"text": "\u200b"}\n', "utf-8")
    with pytest.raises(DataError, match=r"no records with a text \(e\.g\. \S*feed.jsonl:1\)"):
        read_texts(feed)


def test_a_feeds_default_title_is_never_its_text_nor_something_else_than_a_string(tmp_path):
    from nlpkit.training.reading import read_texts

    feed = tmp_path / "feed.jsonl"
    records = [
        {"title": "Giá xăng tăng", "text": "Lần 1"},
        {"title": {"rendered": "Tít"}, "text": "Lần 2"},  # (a CMS's export)
    ]
    feed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    with pytest.warns(UserWarning, match=r"1 record with a 'title' that is not a string read"):
        assert read_texts(feed) == (["Lần 1", "Lần 2"], ["Giá xăng tăng", ""])
    # The title as the text: read once, not as its own title too.
    feed.write_text(json.dumps({"title": "Giá xăng tăng"}, ensure_ascii=False) + "\n", "utf-8")
    assert read_texts(feed, text_field="title") == (["Giá xăng tăng"], [""])
    # Named outright, a title that is not a string is the record's error, as before.
    feed.write_text(json.dumps(records[1]) + "\n", "utf-8")
    with pytest.raises(DataError, match="field 'title' \\(title\\) must be a string"):
        read_texts(feed, title_field="title")


def test_the_plain_text_hint_is_for_a_file_read_as_csv_by_its_content_alone(tmp_path):
    from nlpkit.training.reading import read_texts

    hint = "is read so when its name ends in .txt"
    for name, content, hinted in [
        ("feed", "Giá xăng tăng\nĐội tuyển thắng\n", True),  # plain text, read as CSV
        ("feed", '{"body": "Giá xăng tăng"}\n', False),  # JSON lines: the field is the matter
        ("feed.csv", "body\nGiá xăng tăng\n", False),  # a table by its name
        ("feed.tsv", "body\nGiá xăng tăng\n", False),
    ]:
        (tmp_path / name).write_text(content, encoding="utf-8")
        with pytest.raises(DataError, match="no field 'text'") as caught:
            read_texts(tmp_path / name)
        assert (hint in str(caught.value)) is hinted, (name, content)


def test_a_line_of_plain_text_with_nothing_to_read_is_named_by_its_line(tmp_path):
    from nlpkit.training.reading import read_texts

    feed = tmp_path / "feed.txt"
    feed.write_text("Giá xăng tăng\n\nĐội tuyển thắng\n\n\u200b\n", encoding="utf-8")
    with pytest.warns(
        UserWarning, match=r"1 record with nothing to read .*/feed.txt:5, empty once cleaned"
    ):
        assert read_texts(feed) == (["Giá xăng tăng", "Đội tuyển thắng"], ["", ""])
    feed.write_text("Giá xăng tăng\n\n  \nĐội tuyển thắng\n", encoding="utf-8")
    assert read_texts(feed) == (["Giá xăng tăng", "Đội tuyển thắng"], ["", ""])


def test_a_title_field_that_is_the_text_field_is_read_once(tmp_path):
    path = tmp_path / "heads.jsonl"
    rows = [{"title": "Giá xăng tăng", "label": "energy"}, {"title": "Đội tuyển", "label": "x"}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    data = read_file(path, text_field="title", title_field="title")
    assert data.texts == ["Giá xăng tăng", "Đội tuyển"] and data.titles == ["", ""]


def test_a_labelled_files_default_title_that_is_no_string_is_said_not_dropped_silently(tmp_path):
    # As a feed's (`read_texts`): evaluate --data and train --data read "title" by default.
    path = tmp_path / "x.jsonl"
    rows = [
        {"title": "Giá xăng", "text": "tăng", "label": "energy"},
        {"title": {"rendered": "Tít"}, "text": "b", "label": "y"},
        {"title": 7, "text": "c", "label": "y"},
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    with pytest.warns(UserWarning, match=r"2 records with a 'title' that is not a string read"):
        data = read_file(path, title_field="title", title_optional=True)
    assert data.titles == ["Giá xăng", "", ""]
