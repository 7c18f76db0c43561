"""The drug mentions sample on the real stack: every record lands as read, or is a reject with its line."""
from __future__ import annotations

import csv
import json
import re

import pytest
from psycopg import sql

from tests.integration.conftest import land, run_producers
from tests.integration.drug_mentions.conftest import SAMPLE, drug_mentions_sources

pytestmark = pytest.mark.services


def file_records() -> dict[str, list[tuple]]:
    """Per entity, the records the files hold that have an id, as (id, text, date, journal) read here."""
    pubmed_json = json.loads(re.sub(r",\s*\]\s*$", "]", (SAMPLE / "pubmed.json").read_text()))
    with (SAMPLE / "pubmed.csv").open(newline="") as handle:
        pubmed_csv = [row for row in csv.DictReader(handle) if row["id"] != "\t"]
    with (SAMPLE / "clinical_trials.csv").open(newline="") as handle:
        trials = list(csv.DictReader(handle))
    with (SAMPLE / "drugs.csv").open(newline="") as handle:
        drugs = list(csv.DictReader(handle))
    return {
        "drugs": sorted((d["atccode"], d["drug"]) for d in drugs),
        "pubmed": sorted((str(r["id"]), r["title"], r["date"], r["journal"])
                         for r in [*pubmed_csv, *pubmed_json] if str(r["id"]).strip()),
        "clinical_trials": sorted((r["id"], r["scientific_title"], r["date"], r["journal"])
                                  for r in trials if r["id"].strip()),
    }


COLUMNS = {"drugs": ("atccode", "drug_name"), "pubmed": ("pubmed_id", "title", "published_on", "journal"),
           "clinical_trials": ("trial_id", "scientific_title", "published_on", "journal")}


def test_sample_lands_exactly_its_records_as_read_and_reports_its_rejects(scratch, admin, settings):
    pipeline = scratch.pipeline_of(*drug_mentions_sources(scratch.domain))
    rejects_dir = scratch.tmp / "rejects"
    produced = run_producers(pipeline, rejects_dir)
    assert produced.returncode == 0, produced.stdout + produced.stderr
    land(settings, pipeline, scratch.app_id, [scratch.topic(e) for e in COLUMNS], scratch.tmp / "worker.log")

    expected = file_records()
    for entity, columns in COLUMNS.items():
        rows = admin.execute(sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), scratch.table(entity))).fetchall()
        assert sorted(rows) == expected[entity], entity
    assert [len(expected[e]) for e in COLUMNS] == [12, 60, 30]

    reported = {path.name: [json.loads(line) for line in path.read_text().splitlines()]
                for path in rejects_dir.glob("*.jsonl")}
    outcomes = sorted((r["file"], r["line"], r["field"], r["outcome"]) for lines in reported.values() for r in lines)
    assert outcomes == [("clinical_trials.csv", 18, "trial_id", "rejected"), ("pubmed.csv", 42, None, "skipped"),
                        ("pubmed.json", 12, "pubmed_id", "rejected")]
