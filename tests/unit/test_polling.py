"""Incremental polls without Kafka: only new or changed records are published, the cursor
survives in its file and moves only after a complete poll, a backfill leaves it alone."""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from producers.demo_api import make_server
from producers.polling import Cursor, Window, cursor_path, load_cursor, poll_source, save_cursor
from producers.rejects import load_rejects
from streammart.pipeline import PipelineConfigError, SourceConfig, load_pipeline


class Recording:
    """A sink keeping the keys it was given, all acknowledged."""

    def __init__(self):
        self.keys: list[str] = []
        self.delivered = 0

    def publish(self, topic: str, key: bytes, value: bytes, headers) -> None:
        self.keys.append(key.decode())
        self.delivered += 1

    def flush(self, timeout: float = 60.0) -> None:
        return None


def appointment(n: int, updated: str, status: str = "booked") -> dict:
    return {"appointment_id": f"A{n}", "patient_id": "P1", "doctor_id": "D1", "status": status,
            "scheduled_at": "2024-06-10T10:00:00Z", "created_at": "2024-06-01T10:00:00Z",
            "updated_at": f"2024-06-{updated}:00Z"}


@dataclass
class Api:
    folder: Path
    url: str


@pytest.fixture
def api(tmp_path) -> Iterator[Api]:
    """The demo API over a folder of the test (``serve`` writes its appointments)."""
    folder = tmp_path / "api"
    folder.mkdir()
    (folder / "appointments.json").write_text("[]")
    server = make_server(folder, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Api(folder, f"http://127.0.0.1:{server.server_address[1]}/api/appointments")
    server.shutdown()
    server.server_close()


def serve(api: Api, records: list[dict]) -> None:
    path = api.folder / "appointments.json"
    path.write_text(json.dumps(records))
    stamp = path.stat().st_mtime_ns + 1_000_000  # a rewrite within the same tick is still new
    os.utime(path, ns=(stamp, stamp))


def source(url: str) -> SourceConfig:
    return SourceConfig.model_validate({
        "name": "appointments", "domain": "telehealth", "entity": "appointments",
        "schema": "telehealth.appointments.v1", "format": "http", "url": url, "records_path": "data",
        "pagination": {"style": "cursor", "next_cursor_path": "next_cursor", "page_size": 2},
        "incremental": {"param": "updated_since", "field": "updated_at"}, "key": ["appointment_id"],
        "event_time": "updated_at"})


def poll(api: Api, tmp_path: Path, **window):
    sink = Recording()
    result = poll_source(source(api.url), sink, tmp_path / "rejects", tmp_path / "state", **window)
    return result, sorted(sink.keys)


def test_the_first_poll_publishes_everything_and_keeps_the_cursor(api, tmp_path):
    serve(api, [appointment(1, "01T10:00"), appointment(2, "02T10:00"), appointment(3, "02T10:00")])
    result, keys = poll(api, tmp_path)
    assert keys == ["A1", "A2", "A3"] and result.saved
    cursor = load_cursor(tmp_path / "state", "appointments")
    assert cursor.at == datetime(2024, 6, 2, 10, tzinfo=timezone.utc) and len(cursor.event_ids) == 2


def test_a_poll_without_changes_publishes_nothing(api, tmp_path):
    serve(api, [appointment(1, "01T10:00"), appointment(2, "02T10:00")])
    poll(api, tmp_path)
    result, keys = poll(api, tmp_path)
    assert keys == [] and not result.saved
    assert (result.summary.read, result.summary.skipped) == (1, 1)  # the API's "at or after" sends A2 again
    [skip] = load_rejects(tmp_path / "rejects" / "appointments.rejects.jsonl")
    assert skip["reason"] == "published by an earlier poll (same event id)" and skip["outcome"] == "skipped"


def test_only_changed_and_new_records_are_published(api, tmp_path):
    records = [appointment(n, f"0{n}T10:00") for n in range(1, 6)]
    serve(api, records)
    poll(api, tmp_path)
    records[1] = appointment(2, "07T09:00", "confirmed")  # changed: a later updated_at
    records += [appointment(6, "05T10:00"),  # new, at the cursor's very instant
                appointment(7, "08T11:00")]  # new
    serve(api, records)
    result, keys = poll(api, tmp_path)
    assert keys == ["A2", "A6", "A7"]
    assert result.cursor_after.at == datetime(2024, 6, 8, 11, tzinfo=timezone.utc)


def test_a_failed_poll_leaves_the_cursor(api, tmp_path):
    serve(api, [appointment(1, "01T10:00")])
    poll(api, tmp_path)
    before = cursor_path(tmp_path / "state", "appointments").read_text()
    serve(api, [appointment(1, "01T10:00"), appointment(2, "03T10:00")])
    broken = source("http://127.0.0.1:9/api/appointments").model_copy()
    broken.pagination.attempts = 1
    result = poll_source(broken, Recording(), tmp_path / "rejects", tmp_path / "state")
    assert result.summary.failure and not result.saved
    assert cursor_path(tmp_path / "state", "appointments").read_text() == before
    _, keys = poll(api, tmp_path)
    assert keys == ["A2"]  # nothing lost


def test_a_backfill_publishes_its_window_and_leaves_the_cursor(api, tmp_path):
    serve(api, [appointment(n, f"0{n}T10:00") for n in range(1, 8)])
    poll(api, tmp_path)
    before = load_cursor(tmp_path / "state", "appointments")
    result, keys = poll(api, tmp_path, since=datetime(2024, 6, 3, tzinfo=timezone.utc),
                        until=datetime(2024, 6, 5, tzinfo=timezone.utc))
    assert keys == ["A3", "A4"] and not result.saved
    assert result.summary.skipped == 3  # A5-A7: after the window
    assert load_cursor(tmp_path / "state", "appointments") == before


def test_the_cursor_file_round_trips_and_is_replaced_whole(tmp_path):
    cursor = Cursor(datetime(2024, 6, 2, 10, tzinfo=timezone.utc), frozenset({"e2", "e1"}))
    save_cursor(tmp_path, "s", cursor)
    save_cursor(tmp_path, "s", cursor)
    assert load_cursor(tmp_path, "s") == cursor
    assert [p.name for p in tmp_path.iterdir()] == ["s.cursor.json"]
    assert load_cursor(tmp_path, "other") == Cursor()


def test_a_record_older_than_the_cursor_is_skipped_not_republished():
    window = Window("updated_at", Cursor(datetime(2024, 6, 2, tzinfo=timezone.utc), frozenset()))
    assert "older than the cursor" in window.skip_reason({"updated_at": datetime(2024, 6, 1, tzinfo=timezone.utc)},
                                                         "e")
    assert window.next_cursor() == window.cursor


@pytest.mark.parametrize(("incremental", "message"), [
    ("{param: updated_since, field: status}", "incremental.field: status must be a timestamp field"),
    ("{param: per_page, field: updated_at}", "incremental.param: per_page clashes"),
])
def test_incremental_settings_are_checked_against_the_contract(tmp_path, incremental, message):
    config = tmp_path / "pipeline.yml"
    config.write_text(f"""sources:
  - name: appointments
    domain: telehealth
    entity: appointments
    schema: telehealth.appointments.v1
    format: http
    url: http://127.0.0.1:1/api/appointments
    records_path: data
    incremental: {incremental}
    key: [appointment_id]
""")
    with pytest.raises(PipelineConfigError, match=message):
        load_pipeline(config)


def test_incremental_is_for_http_sources_only():
    with pytest.raises(ValueError, match="incremental do\\(es\\) not apply to csv sources"):
        SourceConfig.model_validate({"name": "a", "domain": "d", "entity": "e", "schema": "retail.orders.v1",
                                     "format": "csv", "path": "x.csv", "key": ["order_id"],
                                     "incremental": {"param": "since", "field": "order_ts"}})
