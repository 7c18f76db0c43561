"""The telehealth sample: deterministic, its dirt where the generator says, and read by the
shipped pipeline.yml entries into exactly the expected events, rejects and skips."""
from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
import yaml

from producers.demo_api import make_server
from producers.parsing import RecordParser
from producers.publisher import DryRun
from producers.rejects import load_rejects
from producers.replay import SourceReplay
from producers.samples import domains, generator, telehealth
from streammart.pipeline import SourceConfig, load_pipeline
from streammart.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "data" / "telehealth"
FILES = ("appointments.json", "doctors.csv", "patients.csv")


def listing() -> list[dict]:
    return json.loads((SHIPPED / "appointments.json").read_text(encoding="utf-8"))


def test_generator_reproduces_the_shipped_sample(tmp_path):
    counts = telehealth.write_sample(tmp_path)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), name
    assert counts[tmp_path / "appointments.json"] == len(listing())


def test_the_generator_is_found_by_domain_name():
    assert "telehealth" in domains()
    assert generator("telehealth") is telehealth.write_sample


def test_a_larger_scale_writes_proportionally_more(tmp_path):
    counts = telehealth.write_sample(tmp_path, scale=2)
    assert counts[tmp_path / "doctors.csv"] == 80 + telehealth.BAD_DOCTOR_ROWS


def test_scheduled_at_comes_in_three_formats_at_known_positions():
    kinds = Counter()
    for record in listing():
        value, number = record["scheduled_at"], int(record["appointment_id"][1:])
        if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value):
            kinds["iso"] += 1
            assert number % 10 != 3 and number % 5 != 1
        elif re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", value):
            kinds["space"] += 1
            assert number % 5 == 1
        elif re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", value):
            kinds["dmy"] += 1
            assert number % 10 == 3
        else:
            kinds["unreadable"] += 1
    assert kinds["unreadable"] == 1
    assert min(kinds["iso"], kinds["space"], kinds["dmy"]) > 100


def test_some_appointments_come_again_later_with_changed_fields():
    records = listing()
    by_id: dict[str, list[dict]] = {}
    for record in records:
        by_id.setdefault(record["appointment_id"], []).append(record)
    repeated = {k: v for k, v in by_id.items() if len(v) > 1}
    assert len(repeated) > 100
    assert all(int(k[1:]) % 7 == 0 for k in repeated)
    for versions in repeated.values():
        earlier, later = versions
        assert later["updated_at"] > earlier["updated_at"] and later["status"] != earlier["status"]
    assert len(records) == len(by_id) + len(repeated)


def test_late_columns_appear_only_in_the_later_two_thirds():
    records = listing()
    first_with = min(i for i, r in enumerate(records) if "rating" in r)
    assert first_with > len(records) // 4
    for record in records[first_with:]:
        if record["appointment_id"] not in ("A001501", "A001502"):  # the bad copies of early records
            assert set(telehealth.LATE_COLUMNS) <= set(record)
    assert not any(set(telehealth.LATE_COLUMNS) & set(r) for r in records[:first_with])


@pytest.mark.parametrize("name", ["doctors.csv", "patients.csv"])
def test_exports_are_utf16le_with_a_byte_order_mark_and_crlf(name):
    data = (SHIPPED / name).read_bytes()
    assert data.startswith(b"\xff\xfe")
    text = data[2:].decode("utf-16-le")
    assert text.count("\r\n") == text.count("\n") > 40


@pytest.fixture
def shipped_sources(monkeypatch) -> Iterator[dict]:
    """The telehealth sources of pipeline.yml, the appointments API served from the shipped sample."""
    server = make_server(SHIPPED, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("STREAMMART_DEMO_API_PORT", str(server.server_address[1]))
    yield {s.name: s for s in load_pipeline().sources if s.domain == "telehealth"}
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("source", "read", "produced", "rejected", "skipped"), [
    ("telehealth_appointments", 1707, 1705, 2, 0),
    ("telehealth_doctors", 41, 40, 1, 0),
    ("telehealth_patients", 602, 600, 1, 1),
])
def test_each_source_reads_into_exactly_the_expected_outcomes(shipped_sources, tmp_path, source, read, produced,
                                                             rejected, skipped):
    run = SourceReplay(shipped_sources[source], DryRun({}), tmp_path / "rejects")
    summary = run.run()
    assert summary.failure is None and summary.accounted
    assert (summary.read, summary.produced, summary.rejected, summary.skipped) == (read, produced, rejected, skipped)
    assert not summary.unknown_columns


def test_the_rejects_name_their_place_field_and_reason(shipped_sources, tmp_path):
    for name in shipped_sources:
        SourceReplay(shipped_sources[name], DryRun({}), tmp_path / "rejects").run()
    doctors = load_rejects(tmp_path / "rejects" / "telehealth_doctors.rejects.jsonl")
    assert [(r["file"], r["line"], r["field"]) for r in doctors] == [("doctors.csv", 22, "doctor_id")]
    patients = load_rejects(tmp_path / "rejects" / "telehealth_patients.rejects.jsonl")
    assert [(r["line"], r["field"], r["outcome"]) for r in patients] == [
        (202, "birth_year", "rejected"), (403, None, "skipped")]
    appointments = load_rejects(tmp_path / "rejects" / "telehealth_appointments.rejects.jsonl")
    assert [(r["index"], r["field"]) for r in appointments] == [(26, "scheduled_at"), (53, "status")]
    assert "tomorrow 10am" in appointments[0]["reason"]


@pytest.mark.parametrize("written", ["2024-06-05T14:15:00Z", "2024-06-05 14:15:00", "05/06/2024 14:15"])
def test_the_three_scheduled_at_formats_read_as_the_same_instant(written):
    """pipeline.yml's rules for scheduled_at: ISO 8601 (with Z, or without an offset: UTC) and d/m/Y."""
    [entry] = [s for s in yaml.safe_load((PROJECT_ROOT / "pipeline.yml").read_text())["sources"]
               if s["name"] == "telehealth_appointments"]
    parser = RecordParser(SourceConfig.model_validate(dict(entry, url="http://127.0.0.1:1/api/appointments")))
    record = parser.parse({**listing()[0], "scheduled_at": written})
    assert record["scheduled_at"] == datetime(2024, 6, 5, 14, 15, tzinfo=timezone.utc)
