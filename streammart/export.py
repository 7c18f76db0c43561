"""Marts written out as files: CSV and Parquet per mart, a domain's JSON documents, a manifest.

Exports are read with the ``reader`` role, like the dashboard. Rows are sorted
on each mart's key and landing metadata (``_…`` columns) is left out, so the
same business data always gives the same bytes. A file is written only when its
bytes change (then atomically, through a temporary file): re-running an export
with nothing new rewrites nothing, and whoever picks the files up can rely on
their modification times. ``manifest.json`` lists every file with its rows, size
and SHA-256.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from psycopg import sql

from streammart import mentions_graph
from streammart.settings import Settings

MARTS_SCHEMA = "marts"
MANIFEST = "manifest.json"
# Postgres type OIDs of the mart columns → Parquet column types (anything else is text).
ARROW_TYPES = {16: pa.bool_(), 20: pa.int64(), 21: pa.int16(), 23: pa.int32(), 700: pa.float32(),
               701: pa.float64(), 1082: pa.date32()}
Document = Callable[[psycopg.Connection], tuple[dict[str, Any], int]]


@dataclass(frozen=True)
class MartExport:
    """A mart written as CSV and Parquet, its rows in ``order_by`` order."""

    table: str
    order_by: tuple[str, ...]


@dataclass(frozen=True)
class DomainExport:
    marts: tuple[MartExport, ...]
    documents: dict[str, Document] = field(default_factory=dict)


EXPORTS = {
    "drug_mentions": DomainExport(
        marts=(
            MartExport("fct_drug_mentions", ("atccode", "publication_kind", "publication_id")),
            MartExport("fct_drug_journal_mentions", ("atccode", "journal")),
            MartExport("dim_journals", ("distinct_drugs_rank", "journal")),
            MartExport("fct_drug_pubmed_only_related_drugs", ("atccode", "related_atccode")),
        ),
        documents={"drug_mentions_graph.json": mentions_graph.read_graph},
    ),
}


@dataclass
class ExportResult:
    folder: Path
    manifest: dict[str, Any]
    written: list[str]
    unchanged: list[str]


@dataclass(frozen=True)
class Table:
    columns: list[str]
    type_codes: list[int]
    rows: list[tuple]


def _null_first(value: Any) -> tuple[bool, Any]:
    return value is not None, value if value is not None else ""


def read_mart(conn: psycopg.Connection, mart: MartExport) -> Table:
    """The mart's business columns, rows sorted on ``order_by`` (nulls first, text by code point)."""
    cursor = conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(MARTS_SCHEMA, mart.table)))
    keep = [i for i, column in enumerate(cursor.description) if not column.name.startswith("_")]
    columns = [cursor.description[i].name for i in keep]
    positions = [columns.index(name) for name in mart.order_by]
    rows = sorted((tuple(row[i] for i in keep) for row in cursor.fetchall()),
                  key=lambda row: tuple(_null_first(row[p]) for p in positions))
    return Table(columns, [cursor.description[i].type_code for i in keep], rows)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def csv_bytes(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows([_text(v) for v in row] for row in table.rows)
    return buffer.getvalue().encode("utf-8")


def parquet_bytes(table: Table) -> bytes:
    types = [ARROW_TYPES.get(code, pa.string()) for code in table.type_codes]
    arrays = [pa.array([row[i] if t != pa.string() or row[i] is None else _text(row[i]) for row in table.rows],
                       type=t) for i, t in enumerate(types)]
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, names=table.columns), buffer, compression="zstd")
    return buffer.getvalue()


def json_bytes(document: Any) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` atomically unless the file already holds exactly it; True when written."""
    if path.exists() and path.read_bytes() == data:
        return False
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
    return True


def _entry(name: str, data: bytes, rows: int, source: str) -> dict[str, Any]:
    return {"file": name, "source": source, "rows": rows, "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}


def export_domain(domain: str, settings: Settings, out: Path | None = None) -> ExportResult:
    """Write ``domain``'s exports under ``out`` (default ``<home>/exports/<domain>``)."""
    spec = EXPORTS[domain]
    folder = out or settings.home / "exports" / domain
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, tuple[bytes, int, str]] = {}
    with psycopg.connect(settings.conninfo("reader")) as conn:
        for name, build in spec.documents.items():
            document, rows = build(conn)
            files[name] = (json_bytes(document), rows, "document")
        for mart in spec.marts:
            table = read_mart(conn, mart)
            source = f"{MARTS_SCHEMA}.{mart.table}"
            files[f"{mart.table}.csv"] = (csv_bytes(table), len(table.rows), source)
            files[f"{mart.table}.parquet"] = (parquet_bytes(table), len(table.rows), source)
    manifest = {"domain": domain,
                "files": [_entry(name, data, rows, source) for name, (data, rows, source) in sorted(files.items())]}
    files[MANIFEST] = (json_bytes(manifest), 0, "")
    written = [name for name, (data, _, _) in files.items() if write_if_changed(folder / name, data)]
    return ExportResult(folder, manifest, written, [name for name in files if name not in written])


def missing_marts(settings: Settings, domain: str) -> list[str]:
    """The domain's exported marts that do not exist (yet): a first cycle has not built them."""
    names = [mart.table for mart in EXPORTS[domain].marts]
    with psycopg.connect(settings.conninfo("reader")) as conn:
        return [name for name in names
                if conn.execute("SELECT to_regclass(%s)", (f"{MARTS_SCHEMA}.{name}",)).fetchone()[0] is None]


def export_all_for_task(settings: Settings) -> dict[str, Any]:
    """The body of the DAG's export task: every domain whose marts exist, a line each in the task log,
    per domain the files written and unchanged returned for XCom."""
    summary: dict[str, Any] = {}
    for domain in sorted(EXPORTS):
        missing = missing_marts(settings, domain)
        if missing:
            print(f"{domain}: not exported, marts not built yet: {', '.join(missing)}")
            summary[domain] = {"skipped": missing}
            continue
        result = export_domain(domain, settings)
        print(f"{domain}: {len(result.written)} files written, {len(result.unchanged)} unchanged in {result.folder}")
        summary[domain] = {"folder": str(result.folder), "written": result.written, "unchanged": result.unchanged}
    return summary
