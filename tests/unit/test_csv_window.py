"""The CSV reader's batched lines give exactly the records a line-by-line reading gives, on hostile files."""
from __future__ import annotations

import csv
import random

import pytest

from producers.sources.base import Position, RawRecord
from producers.sources.csv import CsvSource, LineWindow
from producers.sources.text import as_read, column_with_bad_bytes, open_text, undecodable


def reference_records(source: CsvSource):
    """Line by line, every line handed to csv.reader through Python: the straightforward reading."""
    handle, encoding = open_text(source.path, source.encoding)
    taken: list[str] = []

    def tracked():
        for line in handle:
            taken.append(line)
            yield line

    with handle:
        reader = csv.reader(tracked(), strict=True, **source.dialect)
        header = [h.strip() for h in next(reader)]
        while True:
            first, taken[:] = reader.line_num + 1, []
            position = Position(source.path.name, line=first)
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield RawRecord(position, {}, error=CsvSource._unreadable(exc, first, reader.line_num),
                                raw=as_read("".join(taken).removesuffix("\n").removesuffix("\r")))
                continue
            text = "".join(taken).removesuffix("\n").removesuffix("\r")
            if not text.strip():
                yield RawRecord(position, {}, raw=text, skipped="blank line")
            elif bad := undecodable(text, encoding):
                yield RawRecord(position, {}, error=bad, raw=as_read(text),
                                field=column_with_bad_bytes(dict(zip(header, row))))
            elif len(row) != len(header):
                yield RawRecord(position, {}, error=f"expected {len(header)} fields, found {len(row)}", raw=text)
            else:
                yield RawRecord(position, dict(zip(header, row)), raw=text)


ENDINGS = [b"\n", b"\r\n", b"\r"]


def hostile_row(rng: random.Random, number: int, delimiter: bytes) -> bytes:
    fields = [str(number).encode(), f"name {number}".encode(), b"x" * rng.randint(0, 30)]
    kind = rng.random()
    if kind < 0.08:
        fields[1] = b'"multi' + rng.choice(ENDINGS) + b'line, ""quoted"""'
    elif kind < 0.12:
        fields[1] = b"caf\xe9"  # not utf-8
    elif kind < 0.15:
        fields = fields[:2]
    elif kind < 0.18:
        fields[2] = b'"a"b'
    elif kind < 0.21:
        return rng.choice([b"", b"   ", b"\t", b'""'])
    elif kind < 0.23:
        fields[2] = "ünï €".encode()
    return delimiter.join(fields)


def hostile_file(rng: random.Random, rows: int, delimiter: bytes) -> bytes:
    lines = [delimiter.join([b"id", b"name", b"note"])]
    lines += [hostile_row(rng, number, delimiter) for number in range(1, rows)]
    body = b"".join(line + rng.choice(ENDINGS) for line in lines)
    return body + (b'9,"never closed' if rng.random() < 0.5 else b"")


def fields_of(records):
    return [(str(r.position), r.position, r.data, r.error, r.raw, r.skipped, r.field) for r in records]


@pytest.mark.parametrize("seed", range(12))
def test_same_records_as_reading_line_by_line(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    delimiter = b"\t" if seed % 3 == 0 else b","
    path = tmp_path / "hostile.csv"
    path.write_bytes(hostile_file(rng, 400, delimiter))
    monkeypatch.setattr(LineWindow, "BATCH_CHARS", rng.choice([1, 40, 300, 100_000]))
    source = CsvSource(path, delimiter=delimiter.decode())
    assert fields_of(source.records()) == fields_of(reference_records(source))


def test_a_quoted_field_across_many_batches_keeps_its_text(tmp_path, monkeypatch):
    path = tmp_path / "long.csv"
    note = "\n".join(f"line {n}" for n in range(200))
    path.write_text(f'id,name,note\n1,a,"{note}"\n2,b,c\n')
    monkeypatch.setattr(LineWindow, "BATCH_CHARS", 50)
    records = list(CsvSource(path).records())
    assert [str(r.position) for r in records] == ["long.csv:2", "long.csv:202"]
    assert records[0].raw == f'1,a,"{note}"' and records[0].data["note"] == note


@pytest.mark.parametrize("seed", range(4))
def test_a_one_column_file_skips_its_blank_lines_as_reading_line_by_line_does(tmp_path, seed):
    """With one column a whitespace-only line is a one-field row: the reader must still call it blank."""
    rng = random.Random(seed)
    rows = [rng.choice([b"7", b"   ", b"\t", b"", b'""', b'" "', b"caf\xe9", b"x y"]) for _ in range(300)]
    path = tmp_path / "one.csv"
    path.write_bytes(b"id\n" + b"".join(row + rng.choice(ENDINGS) for row in rows))
    source = CsvSource(path)
    records = list(source.records())
    assert fields_of(records) == fields_of(reference_records(source))
    assert all(type(r) is RawRecord and type(r.position) is Position for r in records)
