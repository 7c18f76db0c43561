"""The worker's own reading of top-level logical types gives exactly what fastavro's gives."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from stream_processors.logical_types import plain_top_level

SCHEMA = {"type": "record", "name": "Sample", "namespace": "test", "fields": [
    {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 14, "scale": 2}},
    {"name": "rate", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 4}]},
    {"name": "whole", "type": {"type": "bytes", "logicalType": "decimal", "precision": 5}},
    {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "at_micros", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
    {"name": "day", "type": ["null", {"type": "int", "logicalType": "date"}]},
    {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "tags", "type": {"type": "array", "items": {"type": "int", "logicalType": "date"}}},
]}


def records():
    start = datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc)
    for i in range(-300, 300, 7):
        yield {"amount": Decimal(i * 1234567) / 100, "rate": None if i % 3 else Decimal(i) / 10_000,
               "whole": Decimal(i), "at": start + timedelta(milliseconds=i * 86_400_123),
               "at_micros": None if i % 2 else start + timedelta(microseconds=i * 17),
               "day": None if i % 5 == 0 else date(1970, 1, 1) + timedelta(days=i * 3),
               "id": "0b8e7d4c-3f51-4c1e-9a4e-6d2b0c1f8e7a", "tags": [date(2024, 1, 1)]}


def test_plain_reading_then_converting_equals_fastavro_logical_reading():
    parsed = parse_schema(SCHEMA)
    plain, converters = plain_top_level(SCHEMA)
    plain_parsed = parse_schema(plain)
    assert sorted(converters) == ["amount", "at", "at_micros", "day", "rate", "whole"]
    for record in records():
        buffer = io.BytesIO()
        schemaless_writer(buffer, parsed, record)
        expected = schemaless_reader(io.BytesIO(buffer.getvalue()), parsed, None)
        got = schemaless_reader(io.BytesIO(buffer.getvalue()), plain_parsed, None)
        for name, convert in converters.items():
            got[name] = None if got[name] is None else convert(got[name])
        assert got == expected
        assert {k: str(v) for k, v in got.items()} == {k: str(v) for k, v in expected.items()}  # same exponents too
