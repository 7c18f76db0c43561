"""The msk sample on the real stack: every readable row lands once, every unreadable one is a reject with its place."""
from __future__ import annotations

import csv

import pytest
from psycopg import sql

from producers.rejects import load_rejects
from producers.samples import msk
from tests.integration.conftest import count
from tests.integration.msk_landing import ENTITIES, MSK_SAMPLE, produce_and_land

pytestmark = pytest.mark.services

EXPECTED_REJECTS = [
    ("encounters.csv", 502, "encounter_date", "unparseable date '2024-02-30' (tried iso8601)"),
    ("encounters.csv", 1002, "amount", "expected an amount, got 'n/a'"),
    ("providers.csv", 32, "npi", "required value is blank ('')"),
    ("referrals.csv", 202, None, "expected 7 fields, found 5"),
]


def data_rows(name: str) -> int:
    with (MSK_SAMPLE / name).open(newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def test_msk_sample_lands_exactly_its_readable_rows_and_rejects_the_rest(scratch, settings, admin):
    rejects = produce_and_land(settings, scratch)

    for entity in ENTITIES:
        name = f"{entity}.csv"
        expected = data_rows(name) - msk.BAD_ROWS.get(name, 0)
        table = scratch.table(entity)
        assert count(admin, table) == expected, entity
        distinct = admin.execute(sql.SQL("SELECT count(DISTINCT (_partition, _offset)) FROM {}").format(
            table)).fetchone()[0]
        assert distinct == expected, entity

    found = sorted((r["file"], r["line"], r["field"], r["reason"])
                   for path in rejects.glob("*.rejects.jsonl") for r in load_rejects(path))
    assert found == EXPECTED_REJECTS


def test_msk_values_land_as_read_with_the_packed_npis_as_a_list(scratch, settings, admin):
    produce_and_land(settings, scratch, entities=("patients", "network_providers"))
    padded = admin.execute(sql.SQL("SELECT count(*) FROM {} WHERE patient_id LIKE '=\"PT%\"'").format(
        scratch.table("patients"))).fetchone()[0]
    assert padded == data_rows("patients.csv") // msk.PADDED_EVERY
    lists = dict(admin.execute(sql.SQL("SELECT employer_id, in_network_npis FROM {}").format(
        scratch.table("network_providers"))).fetchall())
    with (MSK_SAMPLE / "network_providers.csv").open(newline="", encoding="utf-8") as handle:
        shipped = {row["employer_id"]: [n.strip() for n in row["in_network_npis"].split(",") if n.strip()]
                   for row in csv.DictReader(handle)}
    assert {k: list(v) for k, v in lists.items()} == shipped
