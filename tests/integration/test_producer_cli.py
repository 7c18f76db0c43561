"""`producers run` and `validate` on hostile input, against the real Kafka: what the summary says
is what the topic holds, and broken input fails the run."""
from __future__ import annotations

import os
import subprocess

import pytest

from producers.rejects import load_rejects
from stream_processors.lag import high_watermarks
from streammart.settings import PROJECT_ROOT
from tests.integration.conftest import BIN, orders_source, run_producers

pytestmark = pytest.mark.services
HEADER = "order_id,customer_id,product_id,order_ts,quantity,unit_price,amount,currency,status\n"


def order_row(n: int, status: str = "paid") -> str:
    return f"O{n:05d},C{n % 50},P1,2024-06-01 10:00:00,1,2.50,2.50,USD,{status}\n"


def in_kafka(kafka_config, topic: str) -> int:
    return sum(high_watermarks(kafka_config, topic).values())


def summary_row(stdout: str, source: str) -> list[str]:
    """The summary table's cells for ``source``: source, topic, read, produced, rejected, skipped, …"""
    line = next(row for row in stdout.splitlines() if row.startswith(f"│ {source} "))
    return [cell.strip() for cell in line.split("│")[1:-1]]


def test_one_bad_byte_at_line_502_of_1000_rejects_that_row_only(scratch, kafka_config):
    body = [order_row(n).encode() for n in range(1, 1000)]
    body[500] = order_row(501, "pay\xe9").encode("latin-1")  # file line 502
    path = scratch.tmp / "orders.csv"
    path.write_bytes(HEADER.encode() + b"".join(body))
    run = run_producers(scratch.pipeline_of(orders_source(scratch.domain, path)), scratch.tmp / "rejects")
    assert run.returncode == 0, run.stderr
    assert summary_row(run.stdout, "orders")[2:6] == ["999", "998", "1", "0"]
    assert "orders.csv:502: status: byte 0xe9 at column 53 is not valid utf-8" in run.stderr
    assert in_kafka(kafka_config, scratch.topic("orders")) == 998
    [reject] = load_rejects(scratch.tmp / "rejects" / "orders.rejects.jsonl")
    assert (reject["line"], reject["field"], reject["raw"]) == (502, "status", order_row(501, "pay\\xe9").strip())


def test_a_record_over_kafkas_limit_is_rejected_and_the_rest_is_produced(scratch, kafka_config):
    path = scratch.tmp / "orders.csv"
    path.write_text(HEADER + order_row(1) + order_row(2, "x" * 1_100_000) + order_row(3))
    run = run_producers(scratch.pipeline_of(orders_source(scratch.domain, path)), scratch.tmp / "rejects")
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "orders.csv:3: record is 11" in run.stderr and "limit 1000000" in run.stderr
    assert in_kafka(kafka_config, scratch.topic("orders")) == 2


def test_broken_input_fails_the_run_and_the_other_sources_still_go(scratch, kafka_config):
    header_short = scratch.tmp / "short.csv"
    header_short.write_text("order_id,customer_id\nA1,C1\n")
    truncated = scratch.tmp / "cut.json"
    truncated.write_text('[\n{"order_id": "J1", "customer_id": "C1", "order_ts": "2024-06-01", "quantity": 1,'
                         ' "unit_price": "1.00", "amount": "1.00", "status": "paid"},\n{"order_id": "J2"')
    good = scratch.tmp / "good.csv"
    good.write_text(HEADER + order_row(1) + order_row(2))
    all_bad = scratch.tmp / "bad.csv"
    all_bad.write_text(HEADER + order_row(1).replace("2024-06-01 10:00:00", "never"))
    sources = [
        {**orders_source(scratch.domain, header_short), "name": "short"},
        {**orders_source(scratch.domain, truncated), "name": "cut", "format": "json"},
        {**orders_source(scratch.domain, all_bad), "name": "all_bad"},
        {**orders_source(scratch.domain, good), "name": "good"},
    ]
    run = run_producers(scratch.pipeline_of(*sources), scratch.tmp / "rejects")
    assert run.returncode == 1
    assert "short: failed:" in run.stderr and "no column for required field(s) order_ts" in run.stderr
    assert "cut: failed:" in run.stderr and "the array is not closed" in run.stderr
    assert "all_bad: failed: every record was rejected (1)" in run.stderr
    assert summary_row(run.stdout, "good")[2:4] == ["2", "2"]
    assert summary_row(run.stdout, "cut")[2:5] == ["2", "1", "1"]
    assert in_kafka(kafka_config, scratch.topic("orders")) == 3  # J1 and the two good rows


def test_validate_reads_everything_and_needs_no_kafka(scratch):
    path = scratch.tmp / "orders.csv"
    path.write_text(HEADER + order_row(1) + order_row(2).replace("1,2.50", "one,2.50") + "\t\n")
    env = {**os.environ, "STREAMMART_KAFKA_BOOTSTRAP": "127.0.0.1:9"}  # nothing listens there
    run = subprocess.run([BIN / "producers", "--config", str(scratch.pipeline_of(orders_source(scratch.domain, path))),
                          "validate", "--rejects-dir", str(scratch.tmp / "rejects"), "--no-progress"],
                         capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT, env=env)
    assert run.returncode == 0, run.stderr
    assert "validation summary" in run.stdout
    assert summary_row(run.stdout, "orders")[2:6] == ["3", "1", "1", "1"]
    entries = load_rejects(scratch.tmp / "rejects" / "orders.rejects.jsonl")
    assert [(e["line"], e["outcome"]) for e in entries] == [(3, "rejected"), (4, "skipped")]
    strict = subprocess.run([BIN / "producers", "--config", str(scratch.pipeline_of({
        **orders_source(scratch.domain, path), "columns": {"Status": "status"}})), "validate", "--strict",
        "--rejects-dir", str(scratch.tmp / "rejects"), "--no-progress"],
        capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT, env=env)
    assert strict.returncode == 1
    assert "'Status' matches no column of the header (nearest: 'status')" in strict.stderr
