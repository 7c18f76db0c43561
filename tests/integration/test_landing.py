"""Producing to Kafka and landing in Postgres, for real."""
from __future__ import annotations

import csv
import json
import signal
import subprocess
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from confluent_kafka import ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from psycopg import sql

from producers.rejects import load_rejects
from producers.samples import retail
from schemas import load_registry
from schemas.wire import encode
from streammart.contract import DEAD_LETTERS_TABLE, EVENT_ID, LANDED_AT, OFFSETS_TABLE, RAW_SCHEMA, dead_letter_topic
from streammart.settings import PROJECT_ROOT
from stream_processors.lag import high_watermarks
from streammart.topics import ensure_topics
from tests.integration.conftest import (BIN, count, customers_source, land, orders_parser, read_topic, run_producers,
                                       wait_for)

pytestmark = pytest.mark.services
SAMPLE = PROJECT_ROOT / "data" / "retail"


def test_shipped_sample_lands_exactly_its_good_rows_with_sql_types(scratch, settings, admin, api_server):
    pipeline = scratch.pipeline(SAMPLE / "orders.csv", api_server(SAMPLE) + "/customers")
    produced = run_producers(pipeline, scratch.tmp / "rejects")
    assert produced.returncode == 0, produced.stderr

    with (SAMPLE / "orders.csv").open(newline="") as handle:
        order_rows = sum(1 for _ in csv.reader(handle)) - 1
    customer_records = len(json.loads((SAMPLE / "customers.json").read_text()))
    expected_orders = order_rows - retail.BAD_ORDER_ROWS
    expected_customers = customer_records - retail.BAD_CUSTOMER_RECORDS

    land(settings, pipeline, scratch.app_id, [scratch.topic("orders"), scratch.topic("customers")],
         scratch.tmp / "worker.log")

    assert count(admin, scratch.table("orders")) == expected_orders
    assert count(admin, scratch.table("customers")) == expected_customers
    types = dict(admin.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name = %s", (RAW_SCHEMA, scratch.table_name("orders"))).fetchall())
    assert types["order_ts"] == "timestamp with time zone"
    assert types["amount"] == "numeric" and types["unit_price"] == "numeric"
    assert types[LANDED_AT.name] == "timestamp with time zone"

    parser = orders_parser()
    with (SAMPLE / "orders.csv").open(newline="") as handle:
        total = Decimal(0)
        for row in csv.DictReader(handle):
            try:
                total += parser.parse(row)["amount"]
            except ValueError:
                pass
    landed_total = admin.execute(sql.SQL("SELECT sum(amount) FROM {}").format(scratch.table("orders"))).fetchone()[0]
    assert landed_total == total


def test_bad_rows_are_rejected_with_position_and_reason_and_good_rows_land(scratch, settings, admin, api_server):
    orders = scratch.tmp / "orders.csv"
    orders.write_text(
        "order_id,customer_id,product_id,order_ts,quantity,unit_price,amount,currency,status\n"
        "A1,C1,P1,2024-06-01 10:00:00,1,$5.00,$5.00,USD,paid\n"
        "A2,C1,P1,2024-06-01,2,5.00,10.00,USD,Shipped\n"
        "A3,C2,P2,31/13/2024,1,5.00,5.00,USD,paid\n"
        "A4,C2,P2,2024-06-02 09:00:00,1,5.00,5.00,USD,paid,extra\n"
        "A5,C3,P3,2024-06-03 08:00:00,3,\"1,000.00\",\"3,000.00\",USD,delivered\n")
    api_dir = scratch.tmp / "api"
    api_dir.mkdir()
    (api_dir / "customers.json").write_text(json.dumps(
        [{"customer_id": f"C{n}", "name": f"N{n}", "updated_at": "2024-05-01"} for n in range(1, 60)]
        + [{"customer_id": "C99", "name": "Bad", "updated_at": 1717200000}]))
    api = api_server(api_dir) + "/customers"
    produced = run_producers(scratch.pipeline(orders, api), scratch.tmp / "rejects")
    assert produced.returncode == 0, produced.stderr

    order_rejects = load_rejects(scratch.tmp / "rejects" / "orders.rejects.jsonl")
    assert [(r["file"], r["line"], r["field"], r["reason"]) for r in order_rejects] == [
        ("orders.csv", 4, "order_ts", "unparseable date '31/13/2024' (tried %Y-%m-%d %H:%M:%S, %Y-%m-%d)"),
        ("orders.csv", 5, None, "expected 9 fields, found 10"),
    ]
    assert order_rejects[1]["raw"] == "A4,C2,P2,2024-06-02 09:00:00,1,5.00,5.00,USD,paid,extra"
    customer_rejects = load_rejects(scratch.tmp / "rejects" / "customers.rejects.jsonl")
    assert [(r["url"], r["page"], r["index"], r["field"]) for r in customer_rejects] == [(api, 2, 9, "updated_at")]
    assert customer_rejects[0]["reason"] == "expected a date/time, got 1717200000"
    assert "2 rejected" in produced.stderr and "orders.csv:4: order_ts" in produced.stderr

    land(settings, scratch.pipeline(orders, api), scratch.app_id,
         [scratch.topic("orders"), scratch.topic("customers")], scratch.tmp / "worker.log")
    landed = admin.execute(sql.SQL("SELECT order_id, amount, status FROM {} ORDER BY order_id").format(
        scratch.table("orders"))).fetchall()
    assert landed == [("A1", Decimal("5.00"), "paid"), ("A2", Decimal("10.00"), "Shipped"),
                      ("A5", Decimal("3000.00"), "delivered")]
    assert count(admin, scratch.table("customers")) == 59


def test_redelivered_messages_add_no_rows(scratch, settings, admin, kafka_config, api_server):
    pipeline = scratch.pipeline(SAMPLE / "orders.csv", api_server(SAMPLE) + "/customers")
    assert run_producers(pipeline, scratch.tmp / "rejects").returncode == 0
    topics = [scratch.topic("orders"), scratch.topic("customers")]

    def land_all(log_name: str) -> None:
        land(settings, pipeline, scratch.app_id, topics, scratch.tmp / log_name)

    def snapshot() -> tuple[int, int, int]:
        query = sql.SQL("SELECT count(*), count(DISTINCT {}), max({}) IS NOT NULL FROM {}").format(
            sql.Identifier(EVENT_ID.name), sql.Identifier(LANDED_AT.name), scratch.table("orders"))
        orders = admin.execute(query).fetchone()
        return orders[0], orders[1], count(admin, scratch.table("customers"))

    land_all("first.log")
    before = snapshot()
    first_landed_at = admin.execute(sql.SQL("SELECT max({}) FROM {}").format(
        sql.Identifier(LANDED_AT.name), scratch.table("orders"))).fetchone()[0]

    # Rewind the consumer group to the start and forget the landed positions, so the
    # worker really reads every message again.
    client = AdminClient(kafka_config)
    partitions = [TopicPartition(t, p, 0) for t in topics
                  for p in client.list_topics(t, timeout=10).topics[t].partitions]
    for future in client.alter_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(scratch.app_id, partitions)]).values():
        future.result(timeout=30)
    admin.execute(sql.SQL("DELETE FROM {} WHERE topic = ANY(%s)").format(sql.Identifier(RAW_SCHEMA, OFFSETS_TABLE)),
                  (topics,))

    land_all("second.log")
    assert snapshot() == before
    later = admin.execute(sql.SQL("SELECT count(*) FROM {} WHERE {} > %s").format(
        scratch.table("orders"), sql.Identifier(LANDED_AT.name)), (first_landed_at,)).fetchone()[0]
    assert later == 0


def test_unreadable_input_and_reject_threshold_fail_the_run(scratch, api_server):
    api = api_server(SAMPLE) + "/customers"
    missing = run_producers(scratch.pipeline(scratch.tmp / "nope.csv", api), scratch.tmp / "rejects")
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr and "nope.csv" in missing.stderr

    bad = scratch.tmp / "bad.csv"
    bad.write_text("order_id,customer_id,product_id,order_ts,quantity,unit_price,amount,currency,status\n"
                   "A1,C1,P1,never,1,1.00,1.00,USD,paid\n"
                   "A2,C1,P1,never,1,1.00,1.00,USD,paid\n")
    over = run_producers(scratch.pipeline(bad, api), scratch.tmp / "rejects", "orders", "--max-rejects", "1")
    assert over.returncode == 1
    assert "more than 1 rejects" in over.stderr


def test_undecodable_events_go_to_dead_letters_and_the_rest_lands(scratch, settings, admin, kafka_config):
    topic = scratch.topic("orders")
    ensure_topics(kafka_config, [topic], 1)
    schema = load_registry().get("retail.orders.v1")
    good = {"order_id": "G1", "customer_id": "C1", "product_id": None,
            "order_ts": datetime(2024, 6, 1, tzinfo=timezone.utc), "quantity": 1, "unit_price": Decimal("1.00"), "amount": Decimal("1.00"), "currency": "USD", "status": "paid"}
    producer = Producer(kafka_config)
    producer.produce(topic, key=b"G1", value=encode(schema, good))
    producer.produce(topic, key=b"X", value=b"\x00garbage", headers=[("source", b"somewhere-else")])
    producer.produce(topic, key=b"G2", value=encode(schema, {**good, "order_id": "G2"}))
    assert producer.flush(30) == 0

    pipeline = scratch.pipeline(scratch.tmp / "unused.csv", "http://127.0.0.1:9/unused")
    land(settings, pipeline, scratch.app_id, [topic], scratch.tmp / "worker.log")

    assert count(admin, scratch.table("orders")) == 2
    letters = admin.execute(sql.SQL('SELECT "offset", value, headers, error, stage FROM {} WHERE topic = %s').format(
        sql.Identifier(RAW_SCHEMA, DEAD_LETTERS_TABLE)), (topic,)).fetchall()
    assert len(letters) == 1
    offset, value, headers, error, stage = letters[0]
    assert (offset, bytes(value), stage) == (1, b"\x00garbage", "decode")
    assert headers["source"] == "somewhere-else" and "C3 01" in error

    captured = read_topic(kafka_config, dead_letter_topic(topic), 1)
    dlq = dict(captured[0].headers())
    assert captured[0].value() == b"\x00garbage"
    assert dlq["stage"] == b"decode" and dlq["original_offset"] == b"1" and b"C3 01" in dlq["error"]


def test_ctrl_c_stops_the_replay_cleanly_with_a_summary(scratch, kafka_config, api_server):
    pipeline = scratch.pipeline(SAMPLE / "orders.csv", api_server(SAMPLE) + "/customers")
    # SIGINT at its default, as in a terminal: a suite started as a background job (`make test &`)
    # inherits SIGINT ignored, and Ctrl-C would then never reach the replay
    replay = subprocess.Popen([BIN / "producers", "--config", str(pipeline), "run", "orders", "--rate", "200",
                               "--no-progress", "--rejects-dir", str(scratch.tmp / "rejects")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        wait_for(lambda: sum(high_watermarks(kafka_config, scratch.topic("orders")).values()) > 0, 60,
                 "the first events of the paced replay")
        replay.send_signal(signal.SIGINT)
        out, err = replay.communicate(timeout=60)
    finally:
        if replay.poll() is None:
            replay.kill()
    assert replay.returncode == 130, err
    assert "interrupted" in err
    delivered = sum(high_watermarks(kafka_config, scratch.topic("orders")).values())
    line = next(row for row in out.splitlines() if "orders" in row and scratch.topic("orders") in row)
    produced = int(line.split("│")[4])
    assert 0 < produced < 3000 and produced == delivered


def test_a_date_event_time_lands_as_midnight_in_the_source_time_zone(scratch, settings, admin, api_server):
    """Defect 6: `_event_time` stayed NULL when `event_time` named a date field."""
    api_dir = scratch.tmp / "api"
    api_dir.mkdir()
    (api_dir / "customers.json").write_text(json.dumps([
        {"customer_id": "C1", "name": "Ann", "signup_date": "2024-07-01", "updated_at": "2024-07-02"},
        {"customer_id": "C2", "name": "Bo", "signup_date": None, "updated_at": "2024-07-02"}]))
    source = {**customers_source(scratch.domain, api_server(api_dir) + "/customers"), "event_time": "signup_date",
              "timezone": "Europe/Paris"}
    pipeline = scratch.pipeline_of(source)
    assert run_producers(pipeline, scratch.tmp / "rejects").returncode == 0
    land(settings, pipeline, scratch.app_id, [scratch.topic("customers")], scratch.tmp / "worker.log")
    landed = admin.execute(sql.SQL("SELECT customer_id, _event_time FROM {} ORDER BY customer_id").format(
        scratch.table("customers"))).fetchall()
    assert landed == [("C1", datetime(2024, 6, 30, 22, tzinfo=timezone.utc)), ("C2", None)]
