"""CSV and JSON readers on hostile files: every record read ends as a record, a reject or a skip,
at its true line, and a file broken as a whole fails its source."""
import json

import pytest

from producers.sources import SourceReadError, open_source
from producers.sources.csv import CsvSource
from producers.sources.json import JsonArraySource, JsonObjectSource, NdjsonSource

HEADER = "id,name,note\n"


def outcomes(records):
    """(position, 'ok'|'error'|'skipped') per record."""
    return [(str(r.position), "error" if r.error else "skipped" if r.skipped else "ok") for r in records]


def test_csv_positions_are_physical_lines_and_bad_rows_are_flagged(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(b'\xef\xbb\xbfid,name,note\r\n1,a,"multi\nline"\r\n\r\n2,b\r\n3,c,x ')
    records = list(CsvSource(path).records())
    assert outcomes(records) == [("orders.csv:2", "ok"), ("orders.csv:4", "skipped"), ("orders.csv:5", "error"),
                                 ("orders.csv:6", "ok")]
    assert records[0].data == {"id": "1", "name": "a", "note": "multi\nline"}
    assert records[0].raw == '1,a,"multi\nline"'  # as read, quotes kept
    assert records[2].error == "expected 3 fields, found 2"
    assert records[3].data["note"] == "x "  # trailing space before EOF, no final newline


@pytest.mark.parametrize("bad_line", [3, 502])
def test_one_bad_byte_rejects_exactly_its_row_at_its_real_line(tmp_path, bad_line):
    """Defect 1: a bad byte used to drop a whole 8 KB decode chunk (~120 rows), or the header."""
    rows = [f"{n},name {n},{'x' * 40}\n".encode() for n in range(1, 1000)]
    rows[bad_line - 2] = f"{bad_line - 1},caf\xe9 au lait,{'x' * 40}\n".encode("latin-1")
    path = tmp_path / "orders.csv"
    path.write_bytes(HEADER.encode() + b"".join(rows))
    records = list(CsvSource(path).records())
    assert len(records) == 999
    bad = [r for r in records if r.error]
    assert [str(r.position) for r in bad] == [f"orders.csv:{bad_line}"]
    column = len(f"{bad_line - 1},caf") + 1
    assert (bad[0].error, bad[0].field) == (f"byte 0xe9 at column {column} is not valid utf-8", "name")
    assert bad[0].raw.startswith(f"{bad_line - 1},caf\\xe9 au lait")
    assert [r.data["id"] for r in records if not r.error] == [str(n) for n in range(1, 1000) if n != bad_line - 1]


def test_blank_and_whitespace_only_lines_are_skipped_and_counted(tmp_path):
    """Defect 5: a line of spaces or a tab was skipped and counted nowhere."""
    path = tmp_path / "drugs.csv"
    path.write_text(HEADER + "1,a,b\n   \n\t\n2,c,d\n\t")
    records = list(CsvSource(path).records())
    assert outcomes(records) == [("drugs.csv:2", "ok"), ("drugs.csv:3", "skipped"), ("drugs.csv:4", "skipped"),
                                 ("drugs.csv:5", "ok"), ("drugs.csv:6", "skipped")]
    assert records[-1].skipped == "blank line" and records[-1].raw == "\t"


def test_utf16_with_byte_order_mark_and_crlf(tmp_path):
    path = tmp_path / "doctors.csv"
    path.write_bytes("\ufeffid,name,note\r\n1,Dr Müller,ok\r\n2,Dr Ünal,\r\n".encode("utf-16-le"))
    records = list(CsvSource(path).records())  # encoding left at utf-8: the mark decides
    assert [r.data["name"] for r in records] == ["Dr Müller", "Dr Ünal"]
    assert [str(r.position) for r in records] == ["doctors.csv:2", "doctors.csv:3"]


def test_delimiter_and_quote_character(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("id;name;note\n1;'a;b';c\n")
    assert list(CsvSource(path, delimiter=";", quotechar="'").records())[0].data == {
        "id": "1", "name": "a;b", "note": "c"}


def test_bad_quoting_is_a_reject_and_an_unclosed_quote_does_not_swallow_rows_silently(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(HEADER + '1,"a"b,c\n2,b,c\n3,"open,c\n4,d,e\n')
    records = list(CsvSource(path).records())
    assert outcomes(records) == [("q.csv:2", "error"), ("q.csv:3", "ok"), ("q.csv:4", "error")]
    assert "unreadable row" in records[0].error
    assert records[2].error == "a quoted field never closes: the file ends inside it (lines 4-5 are this one record)"
    assert records[2].raw == '3,"open,c\n4,d,e'


def test_broken_header_fails_the_file(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "bad.csv").write_bytes(b"id,n\xffme\n1,2\n")
    with pytest.raises(SourceReadError, match="the file is empty"):
        list(CsvSource(tmp_path / "empty.csv").records())
    with pytest.raises(SourceReadError, match="cannot read the header: byte 0xff"):
        list(CsvSource(tmp_path / "bad.csv").records())


def test_header_check_runs_before_the_first_row(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(HEADER + "1,a,b\n")

    def refuse(columns, where):
        raise ValueError(f"{where}: no column for required field(s) x")

    with pytest.raises(SourceReadError, match="h.csv:1: no column for required field"):
        next(CsvSource(path, check_header=refuse).records())


def test_missing_file_is_a_read_error(tmp_path):
    with pytest.raises(SourceReadError, match="cannot read"):
        list(CsvSource(tmp_path / "nope.csv").records())


def test_json_array_keeps_lines_tolerates_trailing_comma_and_survives_a_broken_element(tmp_path):
    path = tmp_path / "pubmed.json"
    path.write_text('[\n  {"id": 1, "title": "a"},\n  {"id": "2",\n   "title": "b"},\n'
                    '  {"id": 3, "title": oops},\n  {"id": 4, "title": "d"},\n  7,\n]\n')
    records = list(JsonArraySource(path).records())
    assert [str(r.position) for r in records] == ["pubmed.json:2", "pubmed.json:3", "pubmed.json:5",
                                                  "pubmed.json:6", "pubmed.json:7"]
    assert records[1].data == {"id": "2", "title": "b"}
    assert records[2].error.startswith("broken JSON: Expecting value")
    assert records[2].raw == '{"id": 3, "title": oops},'
    assert records[3].data["id"] == 4
    assert records[4].error == "item is int, not an object"


def test_json_array_that_never_closes_fails_after_counting_what_came_before(tmp_path):
    """Defect 9: a truncated array exited 0 as if the file were whole."""
    path = tmp_path / "cut.json"
    path.write_text('[\n  {"id": 1},\n  {"id": 2, "ti')
    reader = JsonArraySource(path).records()
    assert next(reader).data == {"id": 1}
    assert next(reader).error.startswith("broken JSON")
    with pytest.raises(SourceReadError, match="cut.json:3: the array is not closed"):
        next(reader)


@pytest.mark.parametrize(("text", "message"), [
    ('{"id": 1}', r"expected a JSON array, found '\{' \(set records_path, or record_per_file\)"),
    ('[{"id": 1},', "the array is not closed"),
    ('[{"id": 1}]\n[{"id": 2}]', "more data after the array's closing"),
])
def test_json_file_broken_as_a_whole_is_a_read_error(tmp_path, text, message):
    (tmp_path / "a.json").write_text(text)
    with pytest.raises(SourceReadError, match=message):
        list(JsonArraySource(tmp_path / "a.json").records())


def test_records_path_walks_into_an_object_and_keeps_lines(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"meta": {"count": 2, "note": "x"},
                                "payload": {"skip": [1, 2], "items": [{"id": 1}, {"id": 2}]}}, indent=2))
    records = list(JsonArraySource(path, records_path="payload.items").records())
    assert [r.data for r in records] == [{"id": 1}, {"id": 2}]
    assert [r.position.line for r in records] == [12, 15]
    with pytest.raises(SourceReadError, match="no key 'items' in this object"):
        list(JsonArraySource(path, records_path="meta.items").records())


def test_one_record_per_file(tmp_path):
    (tmp_path / "m1.json").write_text('\n{"id": 1, "title": "Amélie"}\n')
    (tmp_path / "m2.json").write_text('{"id": 2} {"id": 3}')
    (tmp_path / "m3.json").write_text("  ")
    assert [r.data for r in JsonObjectSource(tmp_path / "m1.json").records()] == [{"id": 1, "title": "Amélie"}]
    assert next(JsonObjectSource(tmp_path / "m1.json").records()).position.line == 2
    assert next(JsonObjectSource(tmp_path / "m2.json").records()).error == "more data after the object (line 1)"
    assert next(JsonObjectSource(tmp_path / "m3.json").records()).error == "empty file: no JSON object"


def test_bad_bytes_in_json_reject_the_record_holding_them(tmp_path):
    path = tmp_path / "titles.ndjson"
    path.write_bytes(b'{"id": 1, "t": "ok"}\n{"id": 2, "t": "caf\xe9"}\n{"id": 3}\n')
    assert outcomes(NdjsonSource(path).records()) == [("titles.ndjson:1", "ok"), ("titles.ndjson:2", "error"),
                                                      ("titles.ndjson:3", "ok")]
    array = tmp_path / "titles.json"
    array.write_bytes(b'[\n{"id": 1, "t": "caf\xe9"},\n{"id": 2}\n]')
    records = list(JsonArraySource(array).records())
    assert (records[0].error, records[0].field) == ("byte 0xe9 at column 20 is not valid utf-8", "t")
    assert records[1].data == {"id": 2}


def test_ndjson_lines_end_at_newline_only_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "m.ndjson"
    path.write_text('{"id": 1, "t": "a\u2028b"}\r\n\n{"id": 2\n', encoding="utf-8")
    records = list(NdjsonSource(path).records())
    assert outcomes(records) == [("m.ndjson:1", "ok"), ("m.ndjson:2", "skipped"), ("m.ndjson:3", "error")]
    assert records[0].data["t"] == "a\u2028b"


def test_globbed_files_in_name_order(tmp_path, make_source):
    (tmp_path / "m1.ndjson").write_text('{"id": 1}\n')
    (tmp_path / "m2.ndjson").write_text('{"id": 3}')
    config = make_source(format="ndjson", path=str(tmp_path / "m*.ndjson"))
    assert [(str(r.position), r.data) for r in open_source(config).records()] == [
        ("m1.ndjson:1", {"id": 1}), ("m2.ndjson:1", {"id": 3})]
    with pytest.raises(SourceReadError, match="no file matches"):
        open_source(make_source(format="ndjson", path=str(tmp_path / "none*.ndjson")))
