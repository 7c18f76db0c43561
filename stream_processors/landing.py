"""Land decoded batches in Postgres: COPY into staging, INSERT … ON CONFLICT.

One batch is one transaction: the rows, the dead letters and the next offset of
every partition in it commit together, so Postgres alone says how far ingestion
got. Binary COPY into a temporary staging table is the fast path; the INSERT
from staging skips anything already landed (same topic, partition, offset), so a
redelivered batch changes nothing.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from stream_processors.decoding import DeadLetter, refused_letter
from stream_processors.raw_tables import RawTable, position_columns
from streammart.contract import DEAD_LETTERS_TABLE, OFFSETS_TABLE, RAW_SCHEMA, staging_table_name

log = logging.getLogger(__name__)

_COPY_TYPE = {"integer": "int4", "bigint": "int8", "boolean": "bool", "double precision": "float8",
              "real": "float4"}


def copy_type(sql_type: str) -> str:
    base = sql_type.split("(")[0]
    return _COPY_TYPE.get(base, base)


@dataclass
class Batch:
    """What one batch of Kafka messages turned into."""

    rows: dict[str, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    messages: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    dead_letters: list[DeadLetter] = field(default_factory=list)
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)

    def add_row(self, table: str, row: tuple, message: Any) -> None:
        """Keep the message beside its row: a row Postgres refuses becomes a dead letter."""
        self.rows[table].append(row)
        self.messages[table].append(message)

    def track(self, topic: str, partition: int, offset: int) -> None:
        current = self.next_offsets.get((topic, partition), -1)
        self.next_offsets[(topic, partition)] = max(current, offset + 1)

    def __len__(self) -> int:
        return sum(len(r) for r in self.rows.values()) + len(self.dead_letters)


@dataclass
class LandResult:
    landed: int = 0
    duplicates: int = 0
    letters: list[DeadLetter] = field(default_factory=list)  # as recorded: decode's and those Postgres refused
    by_table: dict[str, int] = field(default_factory=dict)  # rows landed per raw table

    @property
    def dead_letters(self) -> int:
        return len(self.letters)


def _staging_name(table: RawTable) -> sql.Identifier:
    return sql.Identifier(staging_table_name(table.name))


async def _ensure_staging(conn: psycopg.AsyncConnection, table: RawTable) -> None:
    """A session-local, constraint-free copy of the raw table's landed columns."""
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.sql_type)) for c in table.copy_columns)
    await conn.execute(sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS").format(
        _staging_name(table), columns))


async def _land_rows(conn: psycopg.AsyncConnection, table: RawTable, rows: list[tuple]) -> int:
    cols = sql.SQL(", ").join(sql.Identifier(c.name) for c in table.copy_columns)
    stage = _staging_name(table)
    await _ensure_staging(conn, table)
    async with conn.cursor() as cur:
        async with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(stage, cols)) as copy:
            copy.set_types([copy_type(c.sql_type) for c in table.copy_columns])
            for row in rows:
                await copy.write_row(row)
        await cur.execute(sql.SQL(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {} ON CONFLICT ({positions}) DO NOTHING"
        ).format(table.identifier, stage, cols=cols, positions=position_columns()))
        return cur.rowcount


async def _record_dead_letters(conn: psycopg.AsyncConnection, letters: list[DeadLetter]) -> None:
    async with conn.cursor() as cur:
        await cur.executemany(
            sql.SQL('INSERT INTO {} (topic, partition, "offset", key, value, headers, error, stage) '
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING").format(
                sql.Identifier(RAW_SCHEMA, DEAD_LETTERS_TABLE)),
            [(d.topic, d.partition, d.offset, d.key, d.value, json.dumps(d.headers), d.error, d.stage)
             for d in letters],
        )


async def _record_offsets(conn: psycopg.AsyncConnection, offsets: dict[tuple[str, int], int]) -> None:
    async with conn.cursor() as cur:
        await cur.executemany(
            sql.SQL("INSERT INTO {} (topic, partition, next_offset) VALUES (%s, %s, %s) "
                    "ON CONFLICT (topic, partition) DO UPDATE SET "
                    "next_offset = GREATEST({}.next_offset, EXCLUDED.next_offset), updated_at = clock_timestamp()"
                    ).format(sql.Identifier(RAW_SCHEMA, OFFSETS_TABLE), sql.Identifier(OFFSETS_TABLE)),
            [(topic, partition, offset) for (topic, partition), offset in offsets.items()],
        )


async def land_batch(conn: psycopg.AsyncConnection, tables: dict[str, RawTable], batch: Batch) -> LandResult:
    """Land ``batch`` in one transaction (rows by raw-table name in ``tables``).

    Should Postgres refuse a row (text holding a NUL byte, say), the batch is
    bisected until the refused rows are found; they become dead letters, so one
    bad event neither stops the stream nor takes its batch-mates with it, and
    costs a few COPYs (about 2·log2(batch) of them), not one per row.
    """
    try:
        return await _land_in_one_transaction(conn, tables, batch)
    except REFUSED as exc:
        log.warning("Postgres refused a row of the batch (%s): bisecting the batch to find it", exc)
        return await _land_in_one_transaction(conn, tables, await _sift(conn, tables, batch))


REFUSED = (psycopg.errors.DataError, psycopg.errors.IntegrityError)


async def _sift(conn: psycopg.AsyncConnection, tables: dict[str, RawTable], batch: Batch) -> Batch:
    """A copy of ``batch`` whose refused rows are turned into dead letters (nothing is kept: a trial run)."""
    sifted = Batch(dead_letters=list(batch.dead_letters), next_offsets=dict(batch.next_offsets))
    async with conn.transaction(force_rollback=True):
        for name, rows in batch.rows.items():
            await _bisect(conn, tables[name], list(zip(rows, batch.messages[name])), sifted)
    return sifted


async def _bisect(conn: psycopg.AsyncConnection, table: RawTable, pairs: list[tuple[tuple, Any]],
                  sifted: Batch) -> None:
    """Land ``pairs`` (row, message) in a savepoint; when refused, each half on its own, down to single rows."""
    try:
        async with conn.transaction():
            await _land_rows(conn, table, [row for row, _ in pairs])
    except REFUSED as exc:
        if len(pairs) > 1:
            middle = len(pairs) // 2
            await _bisect(conn, table, pairs[:middle], sifted)
            await _bisect(conn, table, pairs[middle:], sifted)
            return
        sifted.dead_letters.append(refused_letter(pairs[0][1], f"refused by Postgres: {exc}".strip(), stage="land"))
        return
    for row, message in pairs:
        sifted.add_row(table.name, row, message)


async def _land_in_one_transaction(conn: psycopg.AsyncConnection, tables: dict[str, RawTable],
                                   batch: Batch) -> LandResult:
    result = LandResult(letters=list(batch.dead_letters))
    async with conn.transaction():
        for name, rows in batch.rows.items():
            if rows:
                inserted = await _land_rows(conn, tables[name], rows)
                result.by_table[name] = inserted
                result.landed += inserted
                result.duplicates += len(rows) - inserted
        if batch.dead_letters:
            await _record_dead_letters(conn, batch.dead_letters)
        if batch.next_offsets:
            await _record_offsets(conn, batch.next_offsets)
    return result

