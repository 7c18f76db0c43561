"""Telehealth fixtures: the shipped sample's sources as pipeline.yml configures them, produced and
landed into a scratch domain (exact counts) or into the real telehealth tables (for the marts)."""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml

from producers.parsing import FieldError, RecordParser
from streammart.pipeline import SourceConfig
from streammart.settings import PROJECT_ROOT
from tests.integration.conftest import Scratch, land, run_producers, serve_api

SAMPLE = PROJECT_ROOT / "data" / "telehealth"
ENTITIES = ("appointments", "doctors", "patients")
# What the shipped sample holds (see producers/samples/telehealth.py): rows landed per entity,
# and the rejects/skips each source reports, as (position, field).
LANDED = {"appointments": 1705, "doctors": 40, "patients": 600}


def telehealth_sources(domain: str, api: str) -> list[dict]:
    """pipeline.yml's telehealth entries, publishing to ``domain`` and reading appointments from ``api``."""
    entries = yaml.safe_load((PROJECT_ROOT / "pipeline.yml").read_text(encoding="utf-8"))["sources"]
    sources = []
    for entry in entries:
        if entry["domain"] != "telehealth":
            continue
        source = dict(entry, domain=domain, name=entry["entity"])
        if source["format"] == "http":
            source["url"] = f"{api}/{entry['entity']}"
        sources.append(source)
    return sources


def produce_and_land(settings, scratch: Scratch, app_id: str) -> None:
    with serve_api(SAMPLE) as api:
        pipeline = scratch.pipeline_of(*telehealth_sources(scratch.domain, api))
        run = run_producers(pipeline, scratch.tmp / "rejects")
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    land(settings, pipeline, app_id, [scratch.topic(e) for e in ENTITIES], scratch.tmp / "worker.log")


@pytest.fixture(scope="session")
def telehealth_landed(running_stack, tmp_path_factory) -> Scratch:
    """The shipped sample produced into the real telehealth topics and landed in raw.telehealth__*."""
    scratch = Scratch("telehealth", tmp_path_factory.mktemp("telehealth"))
    produce_and_land(running_stack, scratch, "test-telehealth-landing")
    return scratch


def appointments_parser() -> RecordParser:
    """Parses appointments exactly as pipeline.yml's telehealth_appointments source does."""
    [source] = [s for s in telehealth_sources("telehealth", "http://unused") if s["entity"] == "appointments"]
    return RecordParser(SourceConfig.model_validate(source))


def latest_appointments(listing: Path) -> dict[str, dict]:
    """appointment_id → its latest version (newest updated_at) among the records the producer accepts."""
    parser = appointments_parser()
    latest: dict[str, dict] = {}
    for item in json.loads(listing.read_text(encoding="utf-8")):
        try:
            record = parser.parse(item)
        except FieldError:
            continue
        known = latest.get(record["appointment_id"])
        if known is None or record["updated_at"] >= known["updated_at"]:
            latest[record["appointment_id"]] = record
    return latest


def expected_funnel(listing: Path) -> dict[tuple[date, str], tuple[int, int, int, int, int]]:
    """(week of the slot, doctor) → (booked, confirmed, completed, cancelled, no-show), computed here from
    the file with the rules the marts promise: the latest version wins, weeks start on Monday in UTC, an
    appointment was confirmed when it has a confirmation time or was completed or missed."""
    funnel: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for record in latest_appointments(listing).values():
        day = record["scheduled_at"].astimezone(timezone.utc).date()
        group = funnel[(day - timedelta(days=day.weekday()), record["doctor_id"])]
        status = record["status"]
        group[0] += 1
        group[1] += record["confirmed_at"] is not None or status in ("completed", "no_show")
        group[2] += status == "completed"
        group[3] += status == "cancelled"
        group[4] += status == "no_show"
    return {key: tuple(value) for key, value in funnel.items()}


def expected_duration_by_hour(listing: Path) -> dict[int, tuple[int, Decimal]]:
    """UTC hour of the slot → (completed consultations, average minutes rounded to 2 places)."""
    minutes: dict[int, list[int]] = defaultdict(list)
    for record in latest_appointments(listing).values():
        if record["status"] == "completed" and record["duration_minutes"] is not None:
            minutes[record["scheduled_at"].astimezone(timezone.utc).hour].append(record["duration_minutes"])
    return {hour: (len(values), (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"), ROUND_HALF_UP))
            for hour, values in minutes.items()}
