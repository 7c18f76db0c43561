"""The producer's prepared encoder writes exactly the bytes fastavro's typed writer writes."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from fastavro import parse_schema
from fastavro.logical_writers import LOGICAL_WRITERS

from producers.encoding import EventEncoder, _converter
from schemas.registry import Schema
from schemas.wire import encode

DEFINITION = {"type": "record", "name": "Sample", "namespace": "test", "fields": [
    {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 14, "scale": 2}},
    {"name": "rate", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 4}]},
    {"name": "whole", "type": {"type": "bytes", "logicalType": "decimal", "precision": 5}},
    {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "at_micros", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
    {"name": "day", "type": ["null", {"type": "int", "logicalType": "date"}]},
    {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "tags", "type": {"type": "array", "items": {"type": "int", "logicalType": "date"}}},
    {"name": "note", "type": ["null", "string"], "default": None},
]}
SCHEMA = Schema("test.sample.v1", "test", "sample", 1, DEFINITION, parse_schema(DEFINITION), b"\x01" * 8)
PARIS = timezone(timedelta(hours=2))


def records():
    start = datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc)
    for i in range(-300, 300, 7):
        yield {"amount": Decimal(i * 1234567) / 100, "rate": None if i % 3 else Decimal(i) / 10_000,
               "whole": Decimal(i * 128), "at": (start + timedelta(milliseconds=i * 86_400_123)).astimezone(PARIS),
               "at_micros": None if i % 2 else start + timedelta(microseconds=i * 17),
               "day": None if i % 5 == 0 else date(1970, 1, 1) + timedelta(days=i * 3),
               "id": "0b8e7d4c-3f51-4c1e-9a4e-6d2b0c1f8e7a", "tags": [date(2024, 1, 1)],
               "note": None if i % 4 else f"n{i}"}


def test_prepared_encoding_gives_fastavros_bytes():
    encoder = EventEncoder(SCHEMA)
    for record in records():
        assert encoder.encode(record) == encode(SCHEMA, record), record


def test_values_of_another_type_are_left_to_fastavro():
    encoder = EventEncoder(SCHEMA)
    record = next(records())
    odd = {**record, "at": 1_700_000_000_000, "day": datetime(2024, 1, 2, 3, tzinfo=timezone.utc)}
    assert encoder.encode(odd) == encode(SCHEMA, odd)


def outcome(encode_record, record):
    try:
        return encode_record(record)
    except ValueError as exc:
        return f"refused: {exc}"


@pytest.mark.parametrize("amount", [Decimal("1.234"), Decimal("1e20"), Decimal("-128"), Decimal("0"), Decimal("-0.01")])
def test_an_amount_is_accepted_or_refused_as_fastavro_does(amount):
    record = {**next(records()), "amount": amount}
    assert outcome(EventEncoder(SCHEMA).encode, record) == outcome(lambda r: encode(SCHEMA, r), record)


@pytest.mark.parametrize("logical", ["timestamp-millis", "timestamp-micros"])
def test_timestamp_shortcut_converts_as_fastavro_does(logical):
    """Whole units since the epoch, pre-epoch and sub-unit values and zones with DST included."""
    rng = random.Random(logical)
    avro_type = {"type": "long", "logicalType": logical}
    ours, theirs = _converter(avro_type), LOGICAL_WRITERS[f"long-{logical}"]
    zones = [timezone.utc, PARIS, timezone(timedelta(hours=-9, minutes=-30)), ZoneInfo("America/New_York"),
             ZoneInfo("Europe/Paris")]
    values = [datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=rng.randint(-6 * 10**16, 6 * 10**16))
              for _ in range(3000)]
    values += [datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc),
               datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc), datetime(2024, 3, 31, 2, 30)]
    for value in values:
        zoned = value.astimezone(rng.choice(zones)) if value.tzinfo else value
        assert ours(zoned, avro_type) == theirs(zoned, avro_type), zoned
