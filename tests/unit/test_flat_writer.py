"""The encoder's own Avro writer gives fastavro's bytes, and leaves to fastavro every value it does not write."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from fastavro import parse_schema

from producers.encoding import EventEncoder, FlatWriter, avro_long
from schemas.registry import Schema
from schemas.wire import encode

DEFINITION = {"type": "record", "name": "Flat", "namespace": "test", "fields": [
    {"name": "id", "type": "string"},
    {"name": "maybe", "type": ["null", "string"], "default": None},
    {"name": "maybe_last", "type": ["string", "null"]},
    {"name": "count", "type": "int"},
    {"name": "total", "type": {"type": "long"}},
    {"name": "blob", "type": "bytes"},
    {"name": "maybe_long", "type": ["null", "long"]},
    {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2}},
    {"name": "at", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "status", "type": "string", "default": "new"},
]}
SCHEMA = Schema("test.flat.v1", "test", "flat", 1, DEFINITION, parse_schema(DEFINITION), b"\x02" * 8)
UTC = timezone.utc

GOOD = {"id": ["", "O1", "é€𝄞", "x" * 70, "y" * 9000], "maybe": [None, "", "P1", "é" * 5000], "maybe_last": [None, "a"],
        "count": [0, 1, -1, 63, 64, -65, 8191, 8192, 2 ** 31 - 1, -2 ** 31],
        "total": [0, 2 ** 63 - 1, -2 ** 63, 1_717_903_905_000, -1],
        "blob": [b"", b"\x00\xff", b"z" * 200], "maybe_long": [None, 5, -2 ** 40],
        "amount": [Decimal("0.00"), Decimal("-0.01"), Decimal("9999.99"), Decimal("1.5"), Decimal("-128.00")],
        "at": [None, datetime(2024, 6, 9, 3, 31, 45, tzinfo=UTC), datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)],
        "day": [date(2024, 6, 9), date(1, 1, 1), date(1970, 1, 1)], "status": ["shipped", " Pending "]}
HOSTILE = {"id": [None, 7, b"O1", "bad \udcff byte", True], "maybe": [3, "\ud800"], "maybe_last": [1.5],
           "count": [True, 2 ** 31, -2 ** 31 - 1, 1.0, "3", None], "total": [2 ** 63, -2 ** 63 - 1, False, 2.5],
           "blob": ["text", bytearray(b"x"), None], "maybe_long": [2 ** 64, True, "5"],
           "amount": [Decimal("1.234"), Decimal("1e20"), Decimal("123456.78"), "1.00", 1, Decimal("NaN")],
           "at": ["2024-06-09", 1_717_903_905_000, datetime(2024, 6, 9)],
           "day": [datetime(2024, 6, 9, 3, tzinfo=UTC), "2024-06-09", 19000, None], "status": [None, 0]}


def reference():
    """The same encoder without its own writer: fastavro writes every record."""
    encoder = EventEncoder(SCHEMA)
    encoder._flat = None
    return encoder


def outcome(encode_record, record):
    try:
        return encode_record(record)
    except Exception as exc:  # noqa: BLE001 - the very exception is what must match
        return f"{type(exc).__name__}: {exc}"


def sample_records(rng: random.Random, count: int):
    for number in range(count):
        record = {name: rng.choice(values) for name, values in GOOD.items()}
        for _ in range(rng.choice([0, 0, 1, 2])):
            name = rng.choice(list(HOSTILE))
            record[name] = rng.choice(HOSTILE[name])
        if number % 17 == 0:
            del record[rng.choice(list(record))]
        if number % 13 == 0:
            record["not_in_schema"] = number
        yield record


def test_same_bytes_and_same_refusals_as_fastavro():
    encoder, straight = EventEncoder(SCHEMA), reference()
    assert encoder._flat is not None
    for record in sample_records(random.Random(7), 4000):
        assert outcome(encoder.encode, record) == outcome(straight.encode, record), record


def test_good_records_are_written_by_the_flat_writer_as_fastavro_writes_them():
    encoder = EventEncoder(SCHEMA)
    rng = random.Random(11)
    for _ in range(1000):
        record = {name: rng.choice(values) for name, values in GOOD.items()}
        written = encoder._flat.write(record)
        assert written is not None and written == encode(SCHEMA, record), record


def test_a_decimal_object_seen_before_gives_its_bytes_again_and_an_equal_one_of_other_exponent_is_judged_alone():
    encoder = EventEncoder(SCHEMA)
    record = {name: values[0] for name, values in GOOD.items()}
    first = encoder.encode({**record, "amount": Decimal("1.50")})
    assert encoder.encode({**record, "amount": Decimal("1.50")}) == first
    with pytest.raises(ValueError):
        encoder.encode({**record, "amount": Decimal("1.500")})


@pytest.mark.parametrize("number", [0, -1, 1, 63, -64, 64, 8191, -8192, 8192, 2 ** 27 - 1, -2 ** 27, 2 ** 27,
                                    2 ** 41 - 1, -2 ** 41, 2 ** 41, 1_717_903_905_000, 2 ** 31 - 1, -2 ** 63,
                                    2 ** 63 - 1])
def test_avro_long_is_zigzag_varint(number):
    assert avro_long(number) == zigzag_varint(number)


def test_avro_long_at_every_width():
    rng = random.Random(3)
    for bits in range(64):
        for _ in range(50):
            number = rng.randrange(-2 ** bits, 2 ** bits)
            assert avro_long(number) == zigzag_varint(number), number


def zigzag_varint(number: int) -> bytes:
    """Avro's long encoding written out the plain way."""
    zigzag, expected = (number << 1) ^ (number >> 63), bytearray()
    while True:
        expected.append((zigzag & 0x7F) | (0x80 if zigzag > 0x7F else 0))
        zigzag >>= 7
        if not zigzag:
            return bytes(expected)


def test_schemas_with_other_types_are_left_to_fastavro():
    plain = {"type": "record", "name": "R", "fields": [{"name": "ratio", "type": "double"}]}
    assert FlatWriter.for_schema(plain, b"", {}) is None
    union = {"type": "record", "name": "R", "fields": [{"name": "x", "type": ["null", "int", "string"]}]}
    assert FlatWriter.for_schema(union, b"", {}) is None
