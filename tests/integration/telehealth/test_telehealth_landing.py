"""The shipped telehealth sample on the real stack: exactly its rows land, exactly its rejects are reported."""
from __future__ import annotations

import pytest
from psycopg import sql

from producers.rejects import load_rejects
from tests.integration.conftest import count
from tests.integration.telehealth.conftest import ENTITIES, LANDED, produce_and_land

pytestmark = pytest.mark.services


def test_the_sample_lands_exactly_its_rows_and_rejects(scratch, running_stack, admin):
    produce_and_land(running_stack, scratch, scratch.app_id)
    assert {e: count(admin, scratch.table(e)) for e in ENTITIES} == LANDED
    rejects = {e: [(r.get("line", r.get("index")), r["field"], r["outcome"])
                   for r in load_rejects(scratch.tmp / "rejects" / f"{e}.rejects.jsonl")] for e in ENTITIES}
    assert rejects == {"appointments": [(26, "scheduled_at", "rejected"), (53, "status", "rejected")],
                       "doctors": [(22, "doctor_id", "rejected")],
                       "patients": [(202, "birth_year", "rejected"), (403, None, "skipped")]}

    table = scratch.table("appointments")
    versions, appointments, positions = admin.execute(sql.SQL(
        "SELECT count(*), count(DISTINCT appointment_id), count(DISTINCT (_partition, _offset)) FROM {}").format(
        table)).fetchone()
    assert versions == positions == LANDED["appointments"]
    assert versions - appointments > 100  # the repeated appointments, each version kept in raw
    off_slot = admin.execute(sql.SQL(
        "SELECT count(*) FROM {} WHERE extract(second FROM scheduled_at) <> 0 "
        "OR extract(minute FROM scheduled_at)::int % 15 <> 0").format(table)).fetchone()[0]
    assert off_slot == 0  # every format read to the same quarter-hour slots, in UTC
    with_late_columns = admin.execute(sql.SQL(
        "SELECT count(*) FROM {} WHERE rating IS NOT NULL").format(table)).fetchone()[0]
    assert with_late_columns > 0
