"""Map Avro field types to Postgres column types for the raw tables.

Logical types keep their meaning in SQL (timestamps become ``timestamptz``,
decimals ``numeric(p,s)``); nested records, arrays and maps land as ``jsonb``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_PRIMITIVES = {
    "string": "text",
    "int": "integer",
    "long": "bigint",
    "float": "real",
    "double": "double precision",
    "boolean": "boolean",
    "bytes": "bytea",
    "fixed": "bytea",
    "enum": "text",
}
_LOGICAL = {
    "timestamp-millis": "timestamptz",
    "timestamp-micros": "timestamptz",
    "local-timestamp-millis": "timestamp",
    "local-timestamp-micros": "timestamp",
    "date": "date",
    "time-millis": "time",
    "time-micros": "time",
    "uuid": "uuid",
}
_NESTED = {"record", "array", "map"}


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    nullable: bool

    @property
    def is_json(self) -> bool:
        return self.sql_type == "jsonb"


def sql_type(avro_type: Any) -> tuple[str, bool]:
    """(Postgres type, nullable) of one Avro type."""
    if isinstance(avro_type, list):
        branches = [t for t in avro_type if t != "null"]
        nullable = len(branches) < len(avro_type)
        if len(branches) == 1:
            return sql_type(branches[0])[0], nullable
        return "jsonb", nullable
    if isinstance(avro_type, str):
        if avro_type in _PRIMITIVES:
            return _PRIMITIVES[avro_type], False
        return "jsonb", False  # a named type defined elsewhere in the schema (record)
    logical = avro_type.get("logicalType")
    if logical == "decimal":
        return f"numeric({avro_type['precision']},{avro_type.get('scale', 0)})", False
    if logical in _LOGICAL:
        return _LOGICAL[logical], False
    base = avro_type["type"]
    if base in _NESTED:
        return "jsonb", False
    return sql_type(base)


def columns(fields: list[dict[str, Any]]) -> list[Column]:
    """Columns for a record's fields, in schema order."""
    result = []
    for f in fields:
        type_, nullable = sql_type(f["type"])
        result.append(Column(f["name"], type_, nullable))
    return result
