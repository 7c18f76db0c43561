"""Reading a contract's top-level logical types outside fastavro, cheaply.

fastavro turns decimals, timestamps and dates into Python objects field by field
through its generic logical-type machinery, which costs about two thirds of
reading an orders event. The worker reads those top-level fields as their
plain Avro type instead (bytes, long, int) and converts them itself with
converters prepared once per schema: a decimal's value is looked up by its
bytes (prices and amounts repeat), a timestamp or a date is one arithmetic step.
The results are the very objects fastavro returns (same formulas, same decimal
context), which a unit test checks. Logical types inside records, arrays and
maps, and the rarer ones (uuid, times of day, local timestamps), are left to
fastavro.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Context, Decimal
from typing import Any

Converter = Callable[[Any], Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_DAYS_SHIFT = date(1970, 1, 1).toordinal()
#: Distinct decimal values remembered per column before the memory starts again.
DECIMAL_CACHE_SIZE = 65_536


def _timestamp_millis(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value * 1000)


def _timestamp_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _date(value: int) -> date:
    return date.fromordinal(value + _DAYS_SHIFT)


def _decimal(precision: int, scale: int) -> Converter:
    """bytes → Decimal as fastavro reads it, remembering values already seen."""
    context = Context(prec=precision)
    seen: dict[bytes, Decimal] = {}

    def convert(value: bytes) -> Decimal:
        known = seen.get(value)
        if known is None:
            if len(seen) >= DECIMAL_CACHE_SIZE:
                seen.clear()
            known = seen[value] = context.create_decimal(int.from_bytes(value, "big", signed=True)).scaleb(
                -scale, context)
        return known

    return convert


def _converter(avro_type: Any) -> Converter | None:
    """The converter of a plain-typed logical type we read ourselves, or None."""
    if not isinstance(avro_type, dict):
        return None
    base, logical = avro_type.get("type"), avro_type.get("logicalType")
    if (base, logical) == ("long", "timestamp-millis"):
        return _timestamp_millis
    if (base, logical) == ("long", "timestamp-micros"):
        return _timestamp_micros
    if (base, logical) == ("int", "date"):
        return _date
    if (base, logical) == ("bytes", "decimal"):
        return _decimal(avro_type["precision"], avro_type.get("scale", 0))
    return None


def _plain(avro_type: dict[str, Any]) -> str:
    return avro_type["type"]


def plain_top_level(definition: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Converter]]:
    """(the record schema with its top-level handled logical types made plain, converter by field name).

    A field typed ``["null", <logical>]`` stays nullable: its converter is applied to non-null values.
    """
    fields, converters = [], {}
    for field in definition["fields"]:
        avro_type = field["type"]
        if isinstance(avro_type, list):
            branches = [_converter(t) for t in avro_type]
            handled = [c for c in branches if c is not None]
            if len(handled) == 1 and len(avro_type) == 2 and "null" in avro_type:
                converters[field["name"]] = handled[0]
                avro_type = [t if t == "null" else _plain(t) for t in avro_type]
        else:
            converter = _converter(avro_type)
            if converter is not None:
                converters[field["name"]] = converter
                avro_type = _plain(avro_type)
        fields.append({**field, "type": avro_type})
    return {**definition, "fields": fields}, converters
