"""Copies of marts in a scratch database: their shape (to show "no data yet") and their rows."""
from __future__ import annotations

import psycopg
from psycopg import sql


def _identifier(relation: str) -> sql.Identifier:
    return sql.Identifier(*relation.split("."))


def copy_relation_shape(source: psycopg.Connection, target: psycopg.Connection, relation: str, reader: str) -> None:
    """``relation`` created in ``target`` with its columns (names and types) in ``source``, empty, and
    readable by ``reader`` the way dbt's grants make the real marts."""
    columns = source.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (relation,)).fetchall()
    schema = sql.Identifier(relation.split(".")[0])
    target.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
    target.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, sql.Identifier(reader)))
    target.execute(sql.SQL("CREATE TABLE {} ({})").format(_identifier(relation), sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(kind)) for column, kind in columns)))
    target.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(_identifier(relation), sql.Identifier(reader)))


def copy_relation_rows(source: psycopg.Connection, target: psycopg.Connection, relation: str) -> None:
    """Every row of ``relation`` in ``source`` into the same relation in ``target``."""
    with source.cursor().copy(sql.SQL("COPY {} TO STDOUT (FORMAT BINARY)").format(_identifier(relation))) as out, \
            target.cursor().copy(sql.SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(_identifier(relation))) as into:
        for block in out:
            into.write(block)
