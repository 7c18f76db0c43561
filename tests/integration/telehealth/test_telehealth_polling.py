"""Incremental polls of the appointments API on the real stack: two polls with an update in
between publish exactly the changed records; a new poller process (a restart) repeats nothing;
the polling DAG does the same through Airflow."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from producers.polling import cursor_path, state_dir_of
from stack.airflow import run_airflow
from streammart.settings import PROJECT_ROOT
from tests.integration.conftest import BIN, Scratch, read_topic, serve_api
from tests.integration.telehealth.conftest import SAMPLE, LANDED, telehealth_sources

pytestmark = pytest.mark.services


def topic_size(kafka_config: dict[str, str], topic: str) -> int:
    """Messages in the topic, summed over its partitions (high minus low watermarks)."""
    consumer = Consumer({**kafka_config, "group.id": "test-topic-size", "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        marks = [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in partitions]
    finally:
        consumer.close()
    return sum(high - low for low, high in marks)


@pytest.fixture
def polled(scratch: Scratch, settings) -> Iterator[tuple[Scratch, Path, str]]:
    """A scratch appointments source served from a copy of the sample; yields (scratch, api folder, source name)."""
    folder = scratch.tmp / "api"
    folder.mkdir()
    shutil.copy(SAMPLE / "appointments.json", folder / "appointments.json")
    name = f"{scratch.domain}_appointments"
    with serve_api(folder) as api:
        [source] = [dict(s, name=name) for s in telehealth_sources(scratch.domain, api) if s["format"] == "http"]
        scratch.pipeline_of(source)
        yield scratch, folder, name
    cursor_path(state_dir_of(settings), name).unlink(missing_ok=True)


def poll(scratch: Scratch, *args: str) -> subprocess.CompletedProcess:
    """``producers poll`` in a process of its own, as a restarted poller would run."""
    run = subprocess.run([BIN / "producers", "--config", str(scratch.tmp / "pipeline.yml"), "poll",
                          "--rejects-dir", str(scratch.tmp / "rejects"), *args],
                         capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


def move_on(folder: Path) -> set[str]:
    """The API moves on: three appointments change status, two are booked; returns their ids."""
    path = folder / "appointments.json"
    listing = json.loads(path.read_text(encoding="utf-8"))
    changed = []
    for record in [r for r in listing if r.get("status") == "confirmed"][-3:]:
        changed.append(dict(record, status="completed", duration_minutes=21, updated_at="2024-08-02T09:00:00Z"))
    booked = [dict(changed[0], appointment_id=f"A9{n:05d}", status="booked", updated_at="2024-08-02T09:30:00Z")
              for n in range(2)]
    path.write_text(json.dumps(listing + changed + booked), encoding="utf-8")
    stamp = path.stat().st_mtime_ns + 1_000_000
    os.utime(path, ns=(stamp, stamp))
    return {r["appointment_id"] for r in changed + booked}


def test_two_polls_with_an_update_between_publish_exactly_the_changed_records(polled, kafka_config):
    scratch, folder, name = polled
    topic = scratch.topic("appointments")
    poll(scratch)
    assert topic_size(kafka_config, topic) == LANDED["appointments"]
    changed = move_on(folder)
    second = poll(scratch)
    assert topic_size(kafka_config, topic) == LANDED["appointments"] + len(changed)
    messages = read_topic(kafka_config, topic, LANDED["appointments"] + len(changed))
    newest = sorted(messages, key=lambda m: m.timestamp()[1])[-len(changed):]
    assert {m.key().decode() for m in newest} == changed
    assert "2024-08-02T09:30:00+00:00" in second.stderr  # the cursor moved to the newest update


def test_a_restarted_poller_repeats_nothing_and_a_backfill_leaves_the_cursor(polled, kafka_config, settings):
    scratch, _, name = polled
    topic = scratch.topic("appointments")
    poll(scratch)
    cursor = cursor_path(state_dir_of(settings), name).read_text()
    poll(scratch)  # a new process: only the cursor file carries the state
    assert topic_size(kafka_config, topic) == LANDED["appointments"]
    backfill = poll(scratch, "--since", "2024-07-01T00:00:00Z", "--until", "2024-07-02T00:00:00Z")
    listing = json.loads((SAMPLE / "appointments.json").read_text(encoding="utf-8"))
    in_window = [r for r in listing if "2024-07-01" <= r["updated_at"] < "2024-07-02" and r["status"]
                 and "tomorrow" not in r["scheduled_at"]]
    assert in_window and topic_size(kafka_config, topic) == LANDED["appointments"] + len(in_window)
    assert cursor_path(state_dir_of(settings), name).read_text() == cursor
    assert "(not moved)" in backfill.stderr


@pytest.fixture
def real_cursor(running_airflow) -> Iterator[Path]:
    """The telehealth_appointments cursor of the stack, removed for the test and put back after."""
    path = cursor_path(state_dir_of(running_airflow), "telehealth_appointments")
    saved = path.read_bytes() if path.exists() else None
    path.unlink(missing_ok=True)
    yield path
    if saved is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(saved)


def test_the_polling_dag_publishes_the_api_once_then_nothing(real_cursor, running_airflow, kafka_config):
    """Two runs of the DAG, each in an Airflow process of its own: the first publishes the demo API's
    appointments, the second (nothing changed) none; the cursor carries over in its file."""
    topic = "telehealth.appointments.v1"
    before = topic_size(kafka_config, topic)
    for expected in (LANDED["appointments"], 0):
        run = run_airflow(["dags", "test", "streammart_poll"], running_airflow, check=False, capture_output=True,
                          timeout=600)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert topic_size(kafka_config, topic) - before == expected
        before += expected
        assert json.loads(real_cursor.read_text())["at"] == "2024-07-28T14:56:34+00:00"
