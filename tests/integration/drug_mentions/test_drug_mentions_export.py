"""`streammart export drug_mentions` and the DAG's export task on the real stack: the document equals a
hand computation from the sample, the manifest tells the truth, an unchanged export rewrites nothing."""
from __future__ import annotations

import csv
import hashlib
import json
import subprocess

import pyarrow.parquet as pq
import pytest

from stack.airflow import run_airflow
from tests.integration.conftest import BIN
from tests.integration.drug_mentions import expected
from tests.integration.drug_mentions.conftest import SAMPLE
from streammart.settings import PROJECT_ROOT

pytestmark = pytest.mark.services
GRAPH = "drug_mentions_graph.json"


def export(out) -> subprocess.CompletedProcess:
    done = subprocess.run([BIN / "streammart", "export", "drug_mentions", "--out", str(out)], capture_output=True,
                          text=True, timeout=120, cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_exported_graph_equals_the_hand_computation_and_the_manifest_its_files(drug_mentions_marts, tmp_path):
    export(tmp_path)
    hand = expected.mentions(SAMPLE)
    document = json.loads((tmp_path / GRAPH).read_text(encoding="utf-8"))
    assert document == expected.graph_document(hand)
    assert document["top_journals"] == ["Psychopharmacology"]

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    files = {entry["file"]: entry for entry in manifest["files"]}
    assert sorted(files) == sorted(p.name for p in tmp_path.iterdir() if p.name != "manifest.json")
    for name, entry in files.items():
        data = (tmp_path / name).read_bytes()
        assert (entry["bytes"], entry["sha256"]) == (len(data), hashlib.sha256(data).hexdigest()), name
    assert files[GRAPH]["rows"] == len(hand)

    with (tmp_path / "fct_drug_mentions.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == files["fct_drug_mentions.csv"]["rows"] == len(hand)
    keys = [(r["atccode"], r["publication_kind"], r["publication_id"]) for r in rows]
    assert keys == sorted(keys)  # deterministic order: the mart's key
    assert "_max_landed_at" not in rows[0]
    parquet = pq.read_table(tmp_path / "fct_drug_mentions.parquet").to_pylist()
    assert [(r["atccode"], r["publication_kind"], r["publication_id"]) for r in parquet] == keys
    assert {str(r["published_on"]) for r in parquet} == {r["published_on"] for r in rows}
    journals = pq.read_table(tmp_path / "dim_journals.parquet").to_pylist()
    assert {j["journal"]: j["distinct_drugs_count"] for j in journals} == {
        j: len(codes) for j, codes in expected.journal_drugs(hand).items()}


def test_an_unchanged_export_rewrites_nothing(drug_mentions_marts, tmp_path):
    export(tmp_path)
    before = {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in tmp_path.iterdir()}
    again = export(tmp_path)
    assert "0 files written, 10 unchanged" in again.stdout
    assert {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in tmp_path.iterdir()} == before

    (tmp_path / "dim_journals.csv").write_text("tampered\n")
    repaired = export(tmp_path)
    assert "1 files written, 9 unchanged" in repaired.stdout
    assert (tmp_path / "dim_journals.csv").read_text().startswith("journal,")


def test_dag_export_task_writes_the_graph_under_the_stack_home(drug_mentions_marts, running_airflow):
    settings = running_airflow
    run = run_airflow(["tasks", "test", "streammart_microbatch", "export_marts"], settings, check=False,
                      capture_output=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    folder = settings.home / "exports" / "drug_mentions"
    document = json.loads((folder / GRAPH).read_text(encoding="utf-8"))
    assert document == expected.graph_document(expected.mentions(SAMPLE))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {e["file"]: e["sha256"] for e in manifest["files"]}[GRAPH] == hashlib.sha256(
        (folder / GRAPH).read_bytes()).hexdigest()
