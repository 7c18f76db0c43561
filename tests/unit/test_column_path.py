"""Runs of records read, checked and encoded a column at a time give what record by record gives, byte for byte."""
from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from producers import events
from producers.encoding import EventEncoder
from producers.parsing import DateReader, RecordParser, timestamp_parser
from producers.publisher import DryRun
from producers.replay import SourceReplay
from tests.unit import test_flat_writer as flat
from tests.unit.conftest import VISITS

ORDER_VALUES = {
    "order_id": ["O1", "O2", " O3 ", "é€𝄞"], "customer_id": ["C1", "C 2"], "product_id": ["P1", "", "  "],
    "order_ts": ["2024-06-09 03:31:45", "2024-06-09", " 2024-06-09 03:31:45 ", "2024-06-09T03:31:45",
                 "1969-12-31 23:59:59"],
    "quantity": ["1", "0", "2147483647", "007"], "unit_price": ["1.00", "$1,234.50", "(2.00)", "92.97"],
    "amount": ["278.91", "0", "-0.01"], "currency": ["USD", "", "EUR"], "status": ["shipped", " Pending "]}
ODD_VALUES = {
    "order_id": ["", " "], "customer_id": [""], "order_ts": ["2024-02-30", "2024-6-9 3:31:45", "soon", "",
                                                             "2024-06-09T03:31:45+02:00"],
    "quantity": ["three", "2147483648", " 7 ", "７", "1.0", ""], "unit_price": ["1.234", "1,5", "", "NaN"],
    "amount": ["999999999999999.99"], "status": ["", "  "]}


def order_rows(rng: random.Random, count: int, odd_share: float) -> list[dict[str, str]]:
    rows = []
    for _ in range(count):
        row = {name: rng.choice(values) for name, values in ORDER_VALUES.items()}
        if rng.random() < odd_share:
            name = rng.choice(list(ODD_VALUES))
            row[name] = rng.choice(ODD_VALUES[name])
        rows.append(row)
    return rows


def one_by_one(parser: RecordParser, rows: list[dict]) -> list[dict] | None:
    try:
        return [parser.parse(row) for row in rows]
    except ValueError:
        return None


@pytest.mark.parametrize("blanks", ["null", "keep"])
def test_columns_hold_what_parse_gives_each_record(make_source, blanks):
    parser = RecordParser(make_source(blanks=blanks, date_formats=["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]))
    rng = random.Random(5)
    by_columns = 0
    for _ in range(300):
        rows = order_rows(rng, rng.choice([1, 2, 7, 40]), odd_share=rng.choice([0, 0, 0.02, 0.3]))
        columns = parser.parse_columns(rows)
        records = one_by_one(parser, rows)
        if columns is None:
            continue
        by_columns += 1
        assert records is not None, rows  # a run taken by columns is one every record of which parses
        assert [dict(zip(columns, values)) for values in zip(*columns.values())] == records
        for name, values in columns.items():  # the very types too: a datetime's zone object, a Decimal's exponent
            assert [repr(v) for v in values] == [repr(r[name]) for r in records]
    assert by_columns > 100


def test_a_run_with_blanks_nulls_defaults_and_typed_json_values_parses_as_records_do(make_source):
    parser = RecordParser(make_source(VISITS, format="ndjson", path="x.ndjson", fields={"npis": {
        "split": {"delimiter": ";"}}}))
    rows = [{"visit_id": "V1", "npis": "1; 2", "scores": [1, 2], "visit_date": "2024-06-01", "note": None},
            {"visit_id": "V2", "npis": [], "scores": None, "visit_date": "2024-06-02", "note": "  "},
            {"visit_id": "V3", "npis": "", "scores": [], "visit_date": " 2024-06-03", "note": 5}]
    columns = parser.parse_columns(rows)
    assert columns is not None
    assert [dict(zip(columns, values)) for values in zip(*columns.values())] == [parser.parse(r) for r in rows]


def test_records_of_other_columns_or_a_missing_key_go_record_by_record(make_source):
    parser = RecordParser(make_source(VISITS, format="ndjson", path="x.ndjson"))
    assert parser.parse_columns([{"visit_id": "V1", "visit_date": "2024-06-01"},
                                 {"visit_id": "V2", "visit_date": "2024-06-01", "note": "n"}]) is None
    assert parser.parse_columns([{"visit_id": "V1", "visit_date": "2024-06-01"},
                                 {"visit_id": None, "visit_date": "2024-06-01"}]) is None
    assert parser.parse_columns([{"visit_id": "V1", "visit_date": "2024-06-01"}]) is not None


@pytest.mark.parametrize("zone", [timezone.utc, timezone(timedelta(hours=-5)), ZoneInfo("Europe/Paris"),
                                  ZoneInfo("America/New_York")])
def test_a_timestamp_column_reads_as_each_value_does(zone):
    parse = timestamp_parser(DateReader(["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]), zone)
    texts = ["2024-03-31 02:30:00", "2024-10-27 02:30:00", "2024-11-03 01:30:00", "1950-01-01",
             " 2024-06-04 03:31:45", "0001-01-01 00:00:00", "9999-12-31 23:59:59"]
    column = parse.column(texts)
    for text, value in zip(texts, column):
        expected = parse(text)
        assert (value, value.tzinfo, value.fold, value.utcoffset()) == (
            expected, expected.tzinfo, expected.fold, expected.utcoffset())
    with pytest.raises(ValueError):
        parse.column(["2024-06-04", "2024-02-30"])


def test_encoded_columns_are_the_bytes_of_each_record():
    encoder, straight = EventEncoder(flat.SCHEMA), flat.reference()
    rng = random.Random(3)
    for _ in range(400):
        records = [{name: rng.choice(values) for name, values in flat.GOOD.items()} for _ in range(rng.choice([1, 5, 30]))]
        if rng.random() < 0.3:  # values fastavro must judge: the run is then encoded record by record
            name = rng.choice(list(flat.HOSTILE))
            records[rng.randrange(len(records))][name] = rng.choice(flat.HOSTILE[name])
        names = list(flat.GOOD)
        columns = {name: [record[name] for record in records] for name in names}
        expected = [flat.outcome(straight.encode, record) for record in records]
        if any(isinstance(value, str) for value in expected):  # some record is refused: so is the run
            with pytest.raises(Exception):  # noqa: B017,PT011 - whichever fastavro raises for that record
                encoder.encode_columns(columns)
        else:
            assert encoder.encode_columns(columns) == expected


def test_a_good_run_of_a_flat_contract_is_written_by_columns():
    encoder = EventEncoder(flat.SCHEMA)
    records = [{name: values[i % len(values)] for name, values in flat.GOOD.items()} for i in range(50)]
    columns = {name: [record[name] for record in records] for name in flat.GOOD}
    assert encoder._flat.write_columns(columns) == [encoder._flat.write(record) for record in records]


def test_natural_keys_of_a_run_are_each_records_key():
    columns = {"a": ["x", "y"], "b": [1, None]}
    records = [{"a": "x", "b": 1}, {"a": "y", "b": None}]
    assert events.natural_keys(columns, ["a", "b"]) == [events.natural_key(r, ["a", "b"]).encode() for r in records]
    assert events.natural_keys(columns, ["a"]) == [b"x", b"y"]


class Capture(DryRun):
    """Every event as handed to Kafka."""

    def __init__(self, limit: int):
        super().__init__({"message.max.bytes": str(limit)})
        self.events: list[tuple] = []

    def publish(self, topic, key, value, headers):
        super().publish(topic, key, value, headers)
        self.events.append((topic, key, value, headers))


def replayed(config, tmp_path, by_runs: bool, limit: int):
    sink = Capture(limit)
    replay = SourceReplay(config, sink, tmp_path / ("runs" if by_runs else "records"))
    replay._by_runs = by_runs
    summary = replay.run()
    return summary, sink.events, replay.rejects.path.read_bytes() if replay.rejects.path.exists() else b""


def test_a_hostile_file_by_runs_gives_the_events_and_rejects_of_record_by_record(make_source, tmp_path):
    rng = random.Random(9)
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(row.values() for row in order_rows(rng, 3000, odd_share=0.01))
    lines = text.getvalue().splitlines()
    lines[100] = ""
    lines[200] = "A,B"  # too few columns
    lines[300] = lines[300].rsplit(",", 1)[0] + "," + "x" * 3000  # over the message limit
    lines[400] = '"A1",C1,P1,2024-06-01,1,1.00,1.00,"US\nD",paid'  # one record on two lines
    (tmp_path / "input.csv").write_bytes(
        ("order_id,customer_id,product_id,order_ts,quantity,unit_price,amount,currency,status\n"
         + "\n".join(lines) + "\n").encode().replace(b"C 2,", b"C\xff2,", 3))
    config = make_source(date_formats=["%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"])
    runs, run_events, run_rejects = replayed(config, tmp_path, by_runs=True, limit=2500)
    records, record_events, record_rejects = replayed(config, tmp_path, by_runs=False, limit=2500)
    assert run_events == record_events and run_rejects == record_rejects
    assert (runs.read, runs.produced, runs.rejected, runs.skipped) == (
        records.read, records.produced, records.rejected, records.skipped)
    assert runs.accounted and runs.rejected > 20 and runs.skipped == 1 and runs.produced > 2800
