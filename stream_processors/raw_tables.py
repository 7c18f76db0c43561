"""Raw-table DDL generated from the Avro contracts, and its evolution.

``raw.<domain>__<entity>`` holds one row per event: the contract's fields plus
ingest metadata. ``UNIQUE (_topic, _partition, _offset)`` is what makes landing
idempotent: a redelivered message can never land twice. New optional fields in
a contract become added nullable columns (no rewrite, no downtime).

Two lookup indexes serve the incremental marts, whose cost must follow the new
rows rather than the size of raw: one on ``_landed_at`` (the rows landed since a
mart's watermark) and one on the declared natural key, as staging reads it
(``btrim`` of a text key), to fetch every version of the keys that changed.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from typing import Any

import psycopg
from psycopg import sql

from schemas.postgres_types import Column, columns
from schemas.registry import Schema
from streammart.contract import (
    DEAD_LETTERS_TABLE,
    LANDED_AT,
    OFFSETS_TABLE,
    POSITION_COLUMNS,
    RAW_SCHEMA,
    WRITTEN_METADATA,
    metadata_clashes,
    qualified,
)


@dataclass(frozen=True)
class RawTable:
    """A raw table: its name and the columns a landed row fills, in COPY order."""

    name: str
    business: list[Column]
    #: the source's natural key (contract field names); indexed for the marts' lookups
    key: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        clashes = metadata_clashes(c.name for c in self.business)
        if clashes:  # a row is built by column name: one name cannot carry two values
            raise ValueError(f"{qualified(self.name)}: contract fields named like landing metadata: "
                             f"{', '.join(clashes)}")

    @classmethod
    def for_schema(cls, name: str, schema: Schema, key: Sequence[str] = ()) -> "RawTable":
        return cls(name, columns(schema.fields), tuple(key))

    @property
    def copy_columns(self) -> list[Column]:
        return [*self.business, *WRITTEN_METADATA]

    @cached_property
    def row(self) -> Callable[[Mapping[str, Any]], tuple]:
        """``row(values_by_column_name)``: the COPY row, in :attr:`copy_columns` order.

        Built once per table, so the hot path pays one C-level lookup per column and
        no value can land under another column's name, whatever the order.
        """
        return itemgetter(*(c.name for c in self.copy_columns))  # never one name: metadata come too

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(RAW_SCHEMA, self.name)


def _column_def(column: Column) -> sql.Composed:
    null = sql.SQL("") if column.nullable else sql.SQL(" NOT NULL")
    return sql.SQL("{} {}{}").format(sql.Identifier(column.name), sql.SQL(column.sql_type), null)


def position_columns() -> sql.Composed:
    """``_topic, _partition, _offset``: the unique key that makes landing idempotent."""
    return sql.SQL(", ").join(sql.Identifier(c.name) for c in POSITION_COLUMNS)


def create_table_sql(table: RawTable) -> sql.Composed:
    parts = [_column_def(c) for c in table.copy_columns]
    parts.append(sql.SQL("{} DEFAULT clock_timestamp()").format(_column_def(LANDED_AT)))
    parts.append(sql.SQL("UNIQUE ({})").format(position_columns()))
    return sql.SQL("CREATE TABLE IF NOT EXISTS {} (\n  {}\n)").format(table.identifier, sql.SQL(",\n  ").join(parts))


def _key_expression(column: Column) -> sql.Composable:
    """A key column as staging compares it: text keys are trimmed there (``trim(order_id)``)."""
    identifier = sql.Identifier(column.name)
    return sql.SQL("btrim({})").format(identifier) if column.sql_type == "text" else identifier


def lookup_indexes(table: RawTable) -> dict[str, sql.Composable]:
    """Index name -> what it indexes: ``_landed_at``, and the natural key when declared.

    Without them, a mart finding the rows landed since its watermark, or every version
    of a changed key, scans all of raw on every cycle.
    """
    by_name = {c.name: c for c in table.business}
    unknown = [name for name in table.key if name not in by_name]
    if unknown:
        raise ValueError(f"{qualified(table.name)}: key fields not in the contract: {', '.join(unknown)}")
    indexes: dict[str, sql.Composable] = {f"{table.name}__landed_at": sql.Identifier(LANDED_AT.name)}
    if table.key:
        indexes[f"{table.name}__key"] = sql.SQL(", ").join(_key_expression(by_name[name]) for name in table.key)
    return indexes


def create_indexes_sql(table: RawTable) -> list[sql.Composed]:
    """``CREATE INDEX IF NOT EXISTS`` for each of :func:`lookup_indexes`."""
    return [sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(sql.Identifier(name), table.identifier, what)
            for name, what in lookup_indexes(table).items()]


BOOKKEEPING_SQL = [
    sql.SQL("""CREATE TABLE IF NOT EXISTS {} (
  topic text NOT NULL,
  partition integer NOT NULL,
  next_offset bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (topic, partition)
)""").format(sql.Identifier(RAW_SCHEMA, OFFSETS_TABLE)),
    sql.SQL("""CREATE TABLE IF NOT EXISTS {} (
  id bigserial PRIMARY KEY,
  topic text NOT NULL,
  partition integer NOT NULL,
  "offset" bigint NOT NULL,
  key bytea,
  value bytea,
  headers jsonb,
  error text NOT NULL,
  stage text NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (topic, partition, "offset")
)""").format(sql.Identifier(RAW_SCHEMA, DEAD_LETTERS_TABLE)),
    # a letter sent back to its topic: when it was taken for replay, and where it went
    sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS replayed_at timestamptz, "
            "ADD COLUMN IF NOT EXISTS replayed_to text").format(sql.Identifier(RAW_SCHEMA, DEAD_LETTERS_TABLE)),
]


def existing_columns(conn: psycopg.Connection, table: RawTable) -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
        (RAW_SCHEMA, table.name),
    ).fetchall()
    return {r[0] for r in rows}


def evolve_sql(table: RawTable, present: set[str]) -> list[sql.Composed]:
    """ALTERs adding the contract's new fields as nullable columns."""
    return [
        sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
            table.identifier, sql.Identifier(c.name), sql.SQL(c.sql_type))
        for c in table.copy_columns if c.name not in present
    ]


DDL_LOCK = 0x5354_524D  # advisory lock key: one worker at a time changes raw DDL


def ensure_raw_tables(conn: psycopg.Connection, tables: list[RawTable]) -> None:
    """Create the bookkeeping tables and every raw table with its indexes; add new contract fields.

    Workers starting together would race in ``CREATE TABLE IF NOT EXISTS`` (Postgres
    then fails one of them on its catalog's unique index), so the DDL runs under a
    transaction-scoped advisory lock.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
        for statement in BOOKKEEPING_SQL:
            conn.execute(statement)
        for table in tables:
            conn.execute(create_table_sql(table))
            for statement in create_indexes_sql(table):
                conn.execute(statement)
            for statement in evolve_sql(table, existing_columns(conn, table)):
                conn.execute(statement)
