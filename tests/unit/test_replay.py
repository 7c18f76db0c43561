"""The produce loop without Kafka (a DryRun sink): counts, failures and the rejects file."""
import json

import pytest

from producers.publisher import DryRun
from producers.rejects import load_rejects
from producers.replay import SourceReplay
from tests.unit.conftest import VISITS

ORDERS_HEADER = "order_id,customer_id,product_id,order_ts,quantity,unit_price,amount,currency,status\n"
GOOD_ORDER = "A{n},C1,P1,2024-06-01,1,1.00,1.00,USD,paid\n"


def replay(config, tmp_path, limit=1_000_000, max_rejects=None):
    run = SourceReplay(config, DryRun({"message.max.bytes": str(limit)}), tmp_path / "rejects", max_rejects)
    return run.run(), run.rejects.path


def write_orders(tmp_path, *rows):
    path = tmp_path / "input.csv"
    path.write_text(ORDERS_HEADER + "".join(rows))
    return path


def test_every_record_read_is_produced_rejected_or_skipped(make_source, tmp_path):
    path = tmp_path / "input.csv"
    path.write_bytes(ORDERS_HEADER.encode() + b"".join([
        GOOD_ORDER.format(n=1).encode(), b"A2,C1,P1,2024-06-01,1,1.00,1.00,USD,caf\xe9\n", b" \t \n",
        GOOD_ORDER.format(n=3).encode(), b"A4,C1,P1,soon,1,1.00,1.00,USD,paid\n", b"\n"]))
    summary, rejects_file = replay(make_source(), tmp_path)
    assert (summary.read, summary.produced, summary.rejected, summary.skipped) == (6, 2, 2, 2)
    assert summary.accounted and summary.failure is None
    entries = load_rejects(rejects_file)
    assert [(e["line"], e["outcome"], e["field"]) for e in entries] == [
        (3, "rejected", "status"), (4, "skipped", None), (6, "rejected", "order_ts"), (7, "skipped", None)]
    assert entries[0]["raw"] == "A2,C1,P1,2024-06-01,1,1.00,1.00,USD,caf\\xe9"
    assert entries[1] == {"file": "input.csv", "line": 4, "field": None, "reason": "blank line",
                          "outcome": "skipped", "raw": " \t "}


def test_a_source_whose_every_record_is_rejected_fails(make_source, tmp_path):
    write_orders(tmp_path, "A1,C1,P1,never,1,1.00,1.00,USD,paid\n", "A2,C1,P1,never,1,1.00,1.00,USD,paid\n")
    summary, _ = replay(make_source(), tmp_path)
    assert summary.failure.startswith("every record was rejected (2)")


def test_a_header_without_a_required_column_fails_before_any_row(make_source, tmp_path):
    """Defect 9: every row was rejected, and the run exited 0."""
    (tmp_path / "input.csv").write_text("order_id,customer_id\nA1,C1\n")
    summary, _ = replay(make_source(), tmp_path)
    assert summary.read == 0
    assert "no column for required field(s) order_ts, quantity, unit_price, amount, status" in summary.failure


def test_a_rename_typo_fails_a_csv_source_at_its_header(make_source, tmp_path):
    """Defect 3: a `columns` key matching no column left the field NULL in every row."""
    (tmp_path / "input.csv").write_text("visit_id,Visit Date,Npis\nV1,2024-06-01,\n")
    summary, _ = replay(make_source(VISITS, columns={"Visit Dat": "visit_date", "Npis": "npis"}), tmp_path)
    assert summary.read == 0
    assert "'Visit Dat' matches no column of the header (nearest: 'Visit Date')" in summary.failure


def test_unknown_columns_are_reported_by_name_and_count(make_source, tmp_path):
    """Defect 3: a column matching no contract field was dropped without a word."""
    (tmp_path / "input.ndjson").write_text(
        '{"visit_id": "V1", "visit_date": "2024-06-01", "colour": "red"}\n'
        '{"visit_id": "V2", "visit_date": "2024-06-01", "colour": "blue", "size": 3}\n'
        '{"visit_id": "V3", "visit_date": "2024-06-01", "Visit Dte": "x"}\n')
    config = make_source(VISITS, format="ndjson", path=str(tmp_path / "input.ndjson"),
                         columns={"Visit Date": "visit_date"})
    summary, _ = replay(config, tmp_path)
    assert summary.produced == 3 and summary.failure is None
    assert summary.unknown_columns == {"colour": 2, "size": 1, "Visit Dte": 1}
    assert summary.unmatched_renames == ["'Visit Date' (nearest: 'Visit Dte')"]
    strict, _ = replay(config.model_copy(update={"strict": True}), tmp_path)
    assert (strict.produced, strict.rejected) == (0, 3)
    assert strict.failure  # every record rejected


def test_a_record_over_the_message_limit_is_a_reject_and_the_run_goes_on(make_source, tmp_path):
    """Defect 10: the producer crashed with a traceback and no summary."""
    write_orders(tmp_path, GOOD_ORDER.format(n=1), f"A2,C1,P1,2024-06-01,1,1.00,1.00,USD,{'x' * 5000}\n",
                 GOOD_ORDER.format(n=3))
    summary, rejects_file = replay(make_source(), tmp_path, limit=2000)
    assert (summary.produced, summary.rejected) == (2, 1)
    [entry] = load_rejects(rejects_file)
    assert entry["line"] == 3
    assert entry["reason"].startswith("record is 5") and entry["reason"].endswith("bytes, limit 2000 "
                                                                                  "(message.max.bytes)")


def test_reject_threshold_fails_the_source(make_source, tmp_path):
    write_orders(tmp_path, *["A1,C1,P1,never,1,1.00,1.00,USD,paid\n"] * 3, GOOD_ORDER.format(n=9))
    summary, _ = replay(make_source(), tmp_path, max_rejects=1)
    assert summary.failure.startswith("more than 1 rejects (2)")
    assert summary.accounted


def test_a_truncated_json_array_fails_after_counting_its_records(make_source, tmp_path):
    (tmp_path / "input.json").write_text('[\n{"visit_id": "V1", "visit_date": "2024-06-01"},\n{"visit_id": "V2", ')
    summary, _ = replay(make_source(VISITS, format="json", path=str(tmp_path / "input.json")), tmp_path)
    assert (summary.read, summary.produced, summary.rejected) == (2, 1, 1)
    assert "the array is not closed" in summary.failure


def test_huge_csv_field_is_one_reject(make_source, tmp_path):
    write_orders(tmp_path, GOOD_ORDER.format(n=1), f'A2,C1,P1,2024-06-01,1,1.00,1.00,USD,"{"y" * 3_000_000}"\n',
                 GOOD_ORDER.format(n=3))
    summary, rejects_file = replay(make_source(), tmp_path)
    assert (summary.read, summary.produced, summary.rejected) == (3, 2, 1)
    entry = load_rejects(rejects_file)[0]
    assert entry["raw_length"] > 3_000_000 and len(entry["raw"]) == 1024 * 1024


def test_rejects_file_is_json_lines_with_the_raw_record(make_source, tmp_path):
    write_orders(tmp_path, 'A1,"C,1",P1,someday,1,1.00,1.00,USD,paid\n', GOOD_ORDER.format(n=2))
    _, rejects_file = replay(make_source(), tmp_path)
    line = rejects_file.read_text().splitlines()[0]
    assert json.loads(line)["raw"] == 'A1,"C,1",P1,someday,1,1.00,1.00,USD,paid'


@pytest.mark.parametrize("blanks", ["null", "keep"])
def test_empty_key_is_rejected_under_either_blank_rule(make_source, tmp_path, blanks):
    write_orders(tmp_path, ",C1,P1,2024-06-01,1,1.00,1.00,USD,paid\n", GOOD_ORDER.format(n=2))
    summary, rejects_file = replay(make_source(blanks=blanks), tmp_path)
    assert (summary.produced, summary.rejected) == (1, 1)
    assert load_rejects(rejects_file)[0]["field"] == "order_id"
