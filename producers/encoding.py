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

fastavro's writer costs about as much per call as per field. For a record
whose fields are all strings, bytes, ints, longs or ``["null", one of
those]`` once made plain (the orders contract), the encoder writes the Avro
binary encoding itself (``FlatWriter``) for values of exactly those Python
types; any other value leaves the record to fastavro, and a unit test checks
the bytes are fastavro's. Decimal fields remember the bytes of the decimal
objects they last wrote: the parser hands out one object per distinct amount
text, and amounts repeat.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import repeat
from operator import add, attrgetter, floordiv, lshift, sub
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
            (name, _EXPECTED[t["logicalType"]], _converter(t), t) for name, t in types.items()]
        self._header = MAGIC + schema.fingerprint
        self._buffer = io.BytesIO()
        self._flat = FlatWriter.for_schema(plain, self._header, {
            name: (expected, prepare, avro_type) for name, expected, prepare, avro_type in self._prepared})

    def encode(self, record: dict[str, Any]) -> bytes:
        if self._flat is not None:
            written = self._flat.write(record)
            if written is not None:
                return written
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

    def encode_columns(self, columns: dict[str, list[Any]]) -> list[bytes]:
        """``encode`` of every record of a run given field by field (``RecordParser.parse_columns``).

        A flat contract is written a column at a time (``FlatWriter.write_columns``);
        otherwise, or when a value is one fastavro must decide about, record by record.
        """
        if self._flat is not None:
            written = self._flat.write_columns(columns)
            if written is not None:
                return written
        names = list(columns)
        return [self.encode(dict(zip(names, values))) for values in zip(*columns.values())]

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


def _converter(avro_type: dict[str, Any]) -> Prepare:
    """fastavro's conversion for a logical type, with a shortcut where one is exact."""
    prepare = LOGICAL_WRITERS[f"{avro_type['type']}-{avro_type['logicalType']}"]
    if avro_type["logicalType"] == "decimal":
        return _remembering(prepare, avro_type)
    unit = _TIMESTAMP_UNITS.get(avro_type["logicalType"])
    return _timestamp_converter(prepare, unit) if unit else prepare


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_TIMESTAMP_UNITS = {"timestamp-millis": timedelta(milliseconds=1), "timestamp-micros": timedelta(microseconds=1)}


def _timestamp_converter(prepare: Prepare, unit: timedelta) -> Prepare:
    """An aware datetime as whole units since the epoch in one C operation.

    fastavro computes ``(days * 86400 + seconds) * units a second + microseconds
    // units``: with microseconds always in [0, 10**6), that is exactly the floor
    of the time since the epoch over the unit, which ``//`` gives without a
    Python call per part. A naive datetime keeps fastavro's own (local time) rule.
    """

    def prepare_timestamp(value: Any, schema: Any) -> Any:
        if type(value) is datetime and value.tzinfo is not None:
            return (value - _EPOCH) // unit
        return prepare(value, schema)

    return prepare_timestamp


#: Decimal objects whose bytes a decimal field remembers; past this it starts again.
DECIMALS_REMEMBERED = 4096


def _remembering(prepare: Prepare, avro_type: dict[str, Any]) -> Prepare:
    """``prepare`` for a decimal field, answering a decimal object it saw last time from memory.

    Keyed by the object's identity, which the memory keeps alive with it: equal
    decimals of another exponent (``1.5`` and ``1.50``) may be refused
    differently, the very same object cannot.
    """
    seen: dict[int, tuple[Decimal, Any]] = {}

    def prepare_decimal(value: Any, schema: Any) -> Any:
        entry = seen.get(id(value))
        if entry is not None and entry[0] is value:
            return entry[1]
        result = prepare(value, schema)
        if len(seen) >= DECIMALS_REMEMBERED:
            seen.clear()
        seen[id(value)] = (value, result)
        return result

    return prepare_decimal


class Unsupported(Exception):
    """A value FlatWriter does not write itself: the record goes to fastavro."""


_INT_RANGE = range(-2 ** 31, 2 ** 31)
_LONG_RANGE = range(-2 ** 63, 2 ** 63)
#: Avro's zig-zag varints of the numbers whose encoding fits in two bytes (most lengths and counts).
_SHORT_VARINTS = [bytes([z]) if z < 0x80 else bytes([(z & 0x7F) | 0x80, z >> 7]) for z in range(1 << 14)]
#: Two 7-bit groups of a longer varint, both marked "more follows".
_GROUP_PAIRS = [bytes([(z & 0x7F) | 0x80, (z >> 7) | 0x80]) for z in range(1 << 14)]


def avro_long(number: int) -> bytes:
    """Avro's encoding of an int or long: zig-zag, then 7 bits a byte, lowest first.

    Up to 42 bits (millisecond timestamps) by table, 14 bits at a time.
    """
    zigzag = (number << 1) ^ (number >> 63)
    if zigzag < 1 << 14:
        return _SHORT_VARINTS[zigzag]
    if zigzag < 1 << 28:
        return _GROUP_PAIRS[zigzag & 0x3FFF] + _SHORT_VARINTS[zigzag >> 14]
    if zigzag < 1 << 42:
        return _GROUP_PAIRS[zigzag & 0x3FFF] + _GROUP_PAIRS[(zigzag >> 14) & 0x3FFF] + _SHORT_VARINTS[zigzag >> 28]
    out = bytearray()
    while zigzag > 0x7F:
        out.append((zigzag & 0x7F) | 0x80)
        zigzag >>= 7
    out.append(zigzag)
    return bytes(out)


def _write_string(value: Any) -> bytes:
    if type(value) is not str:
        raise Unsupported
    data = value.encode()  # a lone surrogate raises UnicodeEncodeError: fastavro decides about it
    size = len(data)  # the length written as _length does, inline: strings are most fields
    return (_SHORT_VARINTS[size << 1] if size < 1 << 13 else avro_long(size)) + data


def _write_bytes(value: Any) -> bytes:
    if type(value) is not bytes:
        raise Unsupported
    return _length(len(value)) + value


def _length(size: int) -> bytes:
    """A length as Avro writes it: a long, by table for the usual sizes (zig-zag of a size is twice it)."""
    return _SHORT_VARINTS[size << 1] if size < 1 << 13 else avro_long(size)


def _write_int(value: Any) -> bytes:
    if type(value) is not int or value not in _INT_RANGE:
        raise Unsupported
    return avro_long(value)


def _write_long(value: Any) -> bytes:
    if type(value) is not int or value not in _LONG_RANGE:
        raise Unsupported
    return avro_long(value)


_PRIMITIVE_WRITERS: dict[str, Callable[[Any], bytes]] = {
    "string": _write_string, "bytes": _write_bytes, "int": _write_int, "long": _write_long}


def _primitive_writer(avro_type: Any) -> Callable[[Any], bytes] | None:
    if isinstance(avro_type, dict) and set(avro_type) == {"type"}:
        avro_type = avro_type["type"]
    return _PRIMITIVE_WRITERS.get(avro_type) if isinstance(avro_type, str) else None


def _field_writer(avro_type: Any) -> Callable[[Any], bytes] | None:
    """The writer of one plain field type, or None when FlatWriter does not write that type."""
    if not isinstance(avro_type, list):
        return _primitive_writer(avro_type)
    if len(avro_type) != 2 or "null" not in avro_type:
        return None
    null_index = avro_type.index("null")
    write = _primitive_writer(avro_type[1 - null_index])
    if write is None:
        return None
    null_branch, value_branch = avro_long(null_index), avro_long(1 - null_index)

    def write_nullable(value: Any) -> bytes:
        return null_branch if value is None else value_branch + write(value)

    return write_nullable


def _converting(write: Callable[[Any], bytes], expected: type, prepare: Prepare,
                avro_type: dict[str, Any]) -> Callable[[Any], bytes]:
    """``write`` for a logical field: its value converted first, as ``EventEncoder._plain_values`` does.

    A value of another type than the logical type's raises Unsupported: fastavro's typed path takes the record.
    """

    def write_logical(value: Any) -> bytes:
        if value is not None:
            if not isinstance(value, expected) or (expected is date and isinstance(value, datetime)):
                raise Unsupported
            value = prepare(value, avro_type)
        return write(value)

    return write_logical


ColumnWrite = Callable[[list[Any]], list[bytes]]
_SHORT_VARINT = _SHORT_VARINTS.__getitem__
_aware = attrgetter("tzinfo")


def _doubled(numbers: "map[int] | list[int]") -> "map[int]":
    return map(lshift, numbers, repeat(1))


def _string_column(values: list[Any]) -> list[bytes]:
    if set(map(type, values)) != {str}:
        raise Unsupported
    data = list(map(str.encode, values))  # a lone surrogate raises UnicodeEncodeError: fastavro decides about it
    sizes = list(map(len, data))
    if max(sizes) >= 1 << 13:
        return list(map(_write_string, values))
    return list(map(add, map(_SHORT_VARINT, _doubled(sizes)), data))


def _bytes_column(values: list[Any]) -> list[bytes]:
    if set(map(type, values)) != {bytes}:
        raise Unsupported
    sizes = list(map(len, values))
    if max(sizes) >= 1 << 13:
        return list(map(_write_bytes, values))
    return list(map(add, map(_SHORT_VARINT, _doubled(sizes)), values))


def _number_column(limits: range) -> ColumnWrite:
    def write_numbers(values: list[Any]) -> list[bytes]:
        if set(map(type, values)) != {int}:
            raise Unsupported
        low, high = min(values), max(values)
        if low not in limits or high not in limits:
            raise Unsupported
        if low >= 0 and high < 1 << 13:  # zig-zag of a small non-negative number: twice it, one table entry
            return list(map(_SHORT_VARINT, _doubled(values)))
        return list(map(avro_long, values))

    return write_numbers


_COLUMN_WRITERS: dict[str, ColumnWrite] = {
    "string": _string_column, "bytes": _bytes_column, "int": _number_column(_INT_RANGE),
    "long": _number_column(_LONG_RANGE)}


def _column_writer(avro_type: Any, write: Callable[[Any], bytes]) -> ColumnWrite:
    """The column form of one plain field type's writer ``write``: in C passes over the column where it can."""
    if isinstance(avro_type, list):
        value_type = avro_type[1 - avro_type.index("null")]
        write_values = _column_writer(value_type, write)
        branch = avro_long(1 - avro_type.index("null"))

        def write_nullable(values: list[Any]) -> list[bytes]:
            if None in values:
                return list(map(write, values))
            return list(map(add, repeat(branch), write_values(values)))

        return write_nullable
    if isinstance(avro_type, dict):
        avro_type = avro_type["type"]
    return _COLUMN_WRITERS[avro_type]


def _converting_column(write: ColumnWrite, expected: type, prepare: Prepare, avro_type: dict[str, Any]) -> ColumnWrite:
    """``write`` for a logical field's column: values converted first, as ``_converting`` does one by one."""
    unit = _TIMESTAMP_UNITS.get(avro_type["logicalType"])

    def convert(values: list[Any]) -> list[Any]:
        if set(map(type, values)) - {expected}:
            raise Unsupported
        if unit is not None and all(map(_aware, values)):
            return list(map(floordiv, map(sub, values, repeat(_EPOCH)), repeat(unit)))
        return [prepare(value, avro_type) for value in values]

    def write_logical(values: list[Any]) -> list[bytes]:
        if None in values:
            converted = iter(convert([value for value in values if value is not None]))
            return write([None if value is None else next(converted) for value in values])
        return write(convert(values))

    return write_logical


class FlatWriter:
    """Writes a record of primitive fields (logical ones converted first) in Avro's binary encoding."""

    def __init__(self, header: bytes, fields: list[tuple[str, Callable[[Any], bytes]]],
                 column_writers: list[ColumnWrite]):
        self._header = header
        self._fields = fields
        self._column_writers = column_writers

    @classmethod
    def for_schema(cls, plain: dict[str, Any], header: bytes,
                   logical: dict[str, tuple[type, Prepare, dict[str, Any]]]) -> "FlatWriter | None":
        """For a plain record schema every field of which it writes, else None; ``logical`` as EventEncoder's."""
        fields, column_writers = [], []
        for field in plain["fields"]:
            write = _field_writer(field["type"])
            if write is None:
                return None
            write_column = _column_writer(field["type"], write)
            if field["name"] in logical:
                write = _converting(write, *logical[field["name"]])
                write_column = _converting_column(write_column, *logical[field["name"]])
            fields.append((field["name"], write))
            column_writers.append(write_column)
        return cls(header, fields, column_writers)

    def write(self, record: dict[str, Any]) -> bytes | None:
        """The event's bytes, or None when a value is one fastavro must decide about.

        A logical value of another type than expected also gives None (fastavro's
        typed path takes the record); a logical conversion refusing its value
        raises as EventEncoder does. Fields are written in order, so the first
        refusal is the one EventEncoder meets.
        """
        try:
            return self._header + b"".join([write(record[name]) for name, write in self._fields])
        except (Unsupported, KeyError, UnicodeError):
            return None

    def write_columns(self, columns: dict[str, list[Any]]) -> list[bytes] | None:
        """``write`` of every record of a run given field by field; None when ``write`` would give None for one.

        Each column is written in one go, then each record's bytes are joined in C.
        """
        try:
            written = [write(columns[name]) for (name, _), write in zip(self._fields, self._column_writers)]
        except (Unsupported, KeyError, UnicodeError):
            return None
        return list(map(b"".join, zip(repeat(self._header), *written)))
