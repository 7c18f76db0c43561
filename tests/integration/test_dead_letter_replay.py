"""Replaying dead letters on the real stack: after a fix the letter lands, exactly once."""
from __future__ import annotations

import subprocess

import psycopg
import pytest
from psycopg import sql

from stream_processors.app import landing_targets
from stream_processors.dead_letter_replay import REPLAY_OF_HEADER, LetterFilter, claim, list_letters
from stream_processors.raw_tables import ensure_raw_tables
from streammart.contract import DEAD_LETTERS_TABLE, RAW_SCHEMA
from streammart.pipeline import load_pipeline
from streammart.topics import ensure_topics
from tests.integration.conftest import BIN, PROJECT_ROOT, land, order, orders_source, produce, read_topic

pytestmark = pytest.mark.services
HELD = "held"  # a status the raw table refuses until the check below is dropped


def dead_letters_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BIN / "stream-processors", "dead-letters", *args], capture_output=True, text=True,
                          timeout=120, cwd=PROJECT_ROOT)


def letters(admin: psycopg.Connection, topic: str) -> list[tuple]:
    return admin.execute(sql.SQL('SELECT "offset", stage, replayed_to FROM {} WHERE topic = %s ORDER BY id').format(
        sql.Identifier(RAW_SCHEMA, DEAD_LETTERS_TABLE)), (topic,)).fetchall()


@pytest.fixture
def refusing_orders(scratch, settings, admin, kafka_config):
    """A scratch orders topic whose raw table refuses status 'held'; returns (pipeline, topic)."""
    pipeline = scratch.pipeline_of(orders_source(scratch.domain, scratch.tmp / "unused.csv"))
    target = landing_targets(load_pipeline(pipeline))[scratch.topic("orders")]
    with psycopg.connect(settings.conninfo("ingest"), autocommit=True) as conn:
        ensure_raw_tables(conn, [target.table])
    admin.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT no_held CHECK (status <> {})").format(
        scratch.table("orders"), sql.Literal(HELD)))
    ensure_topics(kafka_config, [target.topic], 1)
    return pipeline, target.topic


def test_a_letter_replayed_after_a_fix_lands_once_and_a_second_replay_does_nothing(
        scratch, settings, admin, kafka_config, refusing_orders):
    pipeline, topic = refusing_orders
    produce(kafka_config, topic, "retail.orders.v1", [order(1), order(2, status=HELD), order(3)], "order_id")
    land(settings, pipeline, scratch.app_id, [topic], scratch.tmp / "worker.log")
    assert letters(admin, topic) == [(1, "land", None)]

    listed = dead_letters_cli("list", "--topic", topic)
    assert listed.returncode == 0, listed.stderr
    assert "no_held" in listed.stdout and "pending" in listed.stdout

    admin.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT no_held").format(scratch.table("orders")))
    first = dead_letters_cli("replay", "--topic", topic)
    assert first.returncode == 0, first.stderr
    assert "1 replayed, 0 failed, 0 unknown, 0 already replayed" in first.stdout
    second = dead_letters_cli("replay", "--topic", topic)
    assert "0 replayed, 0 failed, 0 unknown, 1 already replayed" in second.stdout

    land(settings, pipeline, scratch.app_id, [topic], scratch.tmp / "worker.log")
    statuses = admin.execute(sql.SQL("SELECT order_id, status, _offset FROM {} ORDER BY order_id").format(
        scratch.table("orders"))).fetchall()
    assert [(s, o) for _, s, o in statuses] == [("paid", 0), (HELD, 3), ("paid", 2)]
    assert letters(admin, topic) == [(1, "land", f"{topic}/0/3")]
    replayed = read_topic(kafka_config, topic, 4)[3]
    assert dict(replayed.headers())[REPLAY_OF_HEADER] == f"{topic}/0/1".encode()
    assert "replayed to" in dead_letters_cli("list", "--topic", topic, "--state", "replayed").stdout


def test_an_interrupted_replay_is_not_repeated_unless_asked(scratch, settings, admin, kafka_config, refusing_orders):
    pipeline, topic = refusing_orders
    produce(kafka_config, topic, "retail.orders.v1", [order(1, status=HELD)], "order_id")
    land(settings, pipeline, scratch.app_id, [topic], scratch.tmp / "worker.log")
    chosen = LetterFilter(topic=topic)
    with psycopg.connect(settings.conninfo("ingest"), autocommit=True) as conn:
        claimed, skipped = claim(conn, chosen, include_unknown=False)  # then the run dies before producing
        assert (len(claimed), skipped) == (1, 0)
        assert [r.state for r in list_letters(conn, chosen, 10)] == ["unknown"]
    assert "0 replayed, 0 failed, 0 unknown, 1 already replayed" in dead_letters_cli("replay", "--topic", topic).stdout
    again = dead_letters_cli("replay", "--topic", topic, "--include-unknown")
    assert "1 replayed" in again.stdout, again.stdout + again.stderr


def test_replay_needs_a_choice(running_stack):
    refused = dead_letters_cli("replay")
    assert refused.returncode == 2 and "--all" in refused.stderr
