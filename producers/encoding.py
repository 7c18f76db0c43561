"""Records → Avro single-object bytes, prepared once per contract.

fastavro writes a decimal, timestamp or date field through its generic
logical-type path (find the logical type in the schema, pick its writer) for
every value, which costs about half of encoding an orders record. The encoder
converts those top-level fields itself with the very functions fastavro would
pick (``fastavro.logical_writers``), then writes the record with the same
schema made plain (``plain_top_level``): the bytes are the same, which a unit
test checks. A value of another Python type than the logical type's (a default
given as text, say) leaves the whole record to fastavro's own typed path, so
odd values are accepted or refused exactly as before.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastavro import parse_schema, schemaless_writer
from fastavro.logical_writers import LOGICAL_WRITERS

from schemas.registry import Schema
from schemas.wire import MAGIC
from stream_processors.logical_types import plain_top_level

Prepare = Callable[[Any, Any], Any]

#: The Python type a prepared logical type expects (datetime is a date: it is checked first).
_EXPECTED = {"timestamp-millis": datetime, "timestamp-micros": datetime, "date": date, "decimal": Decimal}


def _logical(avro_type: Any) -> dict[str, Any]:
    """The logical type of a field made plain, through a ``["null", T]`` union."""
    if isinstance(avro_type, list):
        return next(t for t in avro_type if isinstance(t, dict) and "logicalType" in t)
    return avro_type


class EventEncoder:
    """Encodes one contract's records; ``encode`` reuses one buffer, so one encoder serves one thread."""

    def __init__(self, schema: Schema):
        self.schema = schema
        plain, converted = plain_top_level(schema.definition)
        self._plain = parse_schema(plain)
        types = {f["name"]: _logical(f["type"]) for f in schema.fields if f["name"] in converted}
        self._prepared: list[tuple[str, type, Prepare, dict[str, Any]]] = [
            (name, _EXPECTED[t["logicalType"]], LOGICAL_WRITERS[f"{t['type']}-{t['logicalType']}"], t)
            for name, t in types.items()]
        self._header = MAGIC + schema.fingerprint
        self._buffer = io.BytesIO()

    def encode(self, record: dict[str, Any]) -> bytes:
        plain = self._plain_values(record)
        buffer = self._buffer
        buffer.seek(0)
        buffer.truncate()
        buffer.write(self._header)
        if plain is None:
            schemaless_writer(buffer, self.schema.parsed, record)
        else:
            schemaless_writer(buffer, self._plain, plain)
        return buffer.getvalue()

    def _plain_values(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """The record with its logical values converted, or None when one is not of its logical type."""
        plain = dict(record)
        for name, expected, prepare, avro_type in self._prepared:
            value = plain.get(name)
            if value is None:
                continue
            if not isinstance(value, expected) or (expected is date and isinstance(value, datetime)):
                return None
            plain[name] = prepare(value, avro_type)
        return plain
