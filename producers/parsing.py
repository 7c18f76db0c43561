"""Turn loosely typed source values into values of the Avro contract.

Real exports carry currency symbols, thousands separators, several date formats
in one column and numbers as strings; those are repaired here. What cannot be
repaired raises FieldError naming the field, so the record becomes a reject with
a reason a person can act on.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from schemas.registry import Schema

_CURRENCY = re.compile(r"[\s$€£¥]|USD|EUR|GBP", re.IGNORECASE)
_MISSING = object()


class FieldError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_text(value: Any, _: Sequence[str]) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected text, got {type(value).__name__} {_describe(value)}")


def parse_int(value: Any, _: Sequence[str]) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"expected a whole number, got {_describe(value)}") from None
        if number == number.to_integral_value():
            return int(number)
    raise ValueError(f"expected a whole number, got {_describe(value)}")


def parse_float(value: Any, _: Sequence[str]) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(_CURRENCY.sub("", value).replace(",", ""))
        except ValueError:
            pass
    raise ValueError(f"expected a number, got {_describe(value)}")


def parse_bool(value: Any, _: Sequence[str]) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "t", "yes", "y", "1"}:
        return True
    if text in {"false", "f", "no", "n", "0"}:
        return False
    raise ValueError(f"expected true/false, got {_describe(value)}")


def decimal_parser(precision: int, scale: int) -> Callable[[Any, Sequence[str]], Decimal]:
    quantum = Decimal(1).scaleb(-scale)

    def parse_decimal(value: Any, _: Sequence[str]) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            raise ValueError(f"expected an amount, got {_describe(value)}")
        text = _CURRENCY.sub("", str(value)).replace(",", "")
        negative = text.startswith("(") and text.endswith(")")
        try:
            number = Decimal(text.strip("()")).quantize(quantum, rounding=ROUND_HALF_EVEN)
        except InvalidOperation:
            raise ValueError(f"expected an amount, got {_describe(value)}") from None
        if len(number.as_tuple().digits) > precision:
            raise ValueError(f"{number} does not fit decimal({precision},{scale})")
        return -number if negative else number

    return parse_decimal


def parse_timestamp(value: Any, formats: Sequence[str]) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        parsed = _parse_datetime_text(value.strip(), formats)
    else:
        raise ValueError(f"expected a date/time, got {_describe(value)}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def parse_date(value: Any, formats: Sequence[str]) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        return _parse_datetime_text(value.strip(), formats).date()
    raise ValueError(f"expected a date, got {_describe(value)}")


def _parse_datetime_text(text: str, formats: Sequence[str]) -> datetime:
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"unparseable date {text!r} (tried {', '.join(formats) or 'ISO 8601'})") from None


_PRIMITIVE_PARSERS: dict[str, Callable[[Any, Sequence[str]], Any]] = {
    "string": parse_text,
    "enum": parse_text,
    "int": parse_int,
    "long": parse_int,
    "float": parse_float,
    "double": parse_float,
    "boolean": parse_bool,
}
_LOGICAL_PARSERS = {
    "timestamp-millis": parse_timestamp,
    "timestamp-micros": parse_timestamp,
    "date": parse_date,
}


def _parser_for(avro_type: Any) -> tuple[Callable[[Any, Sequence[str]], Any], bool]:
    """(parser, nullable) for one field type."""
    if isinstance(avro_type, list):
        branches = [t for t in avro_type if t != "null"]
        parser, _ = _parser_for(branches[0]) if len(branches) == 1 else (lambda v, _: v, False)
        return parser, len(branches) < len(avro_type)
    if isinstance(avro_type, dict):
        logical = avro_type.get("logicalType")
        if logical == "decimal":
            return decimal_parser(avro_type["precision"], avro_type.get("scale", 0)), False
        if logical in _LOGICAL_PARSERS:
            return _LOGICAL_PARSERS[logical], False
        return _parser_for(avro_type["type"])
    return _PRIMITIVE_PARSERS.get(avro_type, lambda v, _: v), False


class RecordParser:
    """Maps one source record onto a schema: renames, repairs, required checks."""

    def __init__(self, schema: Schema, date_formats: Sequence[str] = (), renames: dict[str, str] | None = None):
        self.schema = schema
        self.date_formats = list(date_formats)
        self.renames = renames or {}
        self._fields = []
        for f in schema.fields:
            parser, nullable = _parser_for(f["type"])
            self._fields.append((f["name"], parser, nullable, f.get("default", _MISSING)))

    def parse(self, data: dict[str, Any]) -> dict[str, Any]:
        source = {self.renames.get(k, k): v for k, v in data.items()}
        record: dict[str, Any] = {}
        for name, parser, nullable, default in self._fields:
            value = source.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                if nullable:
                    record[name] = None
                elif default is not _MISSING:
                    record[name] = default
                else:
                    raise FieldError(name, "required value is missing")
                continue
            try:
                record[name] = parser(value, self.date_formats)
            except ValueError as exc:
                raise FieldError(name, str(exc)) from None
        return record
