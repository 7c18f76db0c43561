"""Turn loosely typed source values into values of the Avro contract.

Real exports carry currency symbols, thousands separators, several date formats
in one column, lists packed into one text field and numbers as strings. Each
repair here is a documented rule (docs/sources.md); a value no rule reads
exactly raises FieldError naming the field, so the record becomes a reject with
a reason a person can act on — never a guess.
"""
from __future__ import annotations

import difflib
import re
from _strptime import TimeRE
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from functools import partial
from itertools import repeat
from operator import add, attrgetter, itemgetter, sub
from typing import TYPE_CHECKING, Any

from schemas.avro_types import kind, without_null
from schemas.registry import Schema

if TYPE_CHECKING:
    from streammart.pipeline import FieldRules, ListSplit, SourceConfig

ISO_8601 = "iso8601"
DAY_FIRST = ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y",
             ISO_8601)
MONTH_FIRST = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m-%d-%Y", "%B %d, %Y", "%b %d, %Y",
               "%d %B %Y", ISO_8601)
_CURRENCY = r"(?:[$€£¥]|USD|EUR|GBP)"
_CURRENCY_PREFIX = re.compile(rf"^{_CURRENCY}\s*", re.IGNORECASE)
_CURRENCY_SUFFIX = re.compile(rf"\s*{_CURRENCY}$", re.IGNORECASE)
_GROUPED = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d*)?$")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_DIRECTIVE = re.compile(r"%(.)")
_FIELD_NAMES = {"Y": "year", "m": "month", "d": "day", "H": "hour", "M": "minute", "S": "second"}
_DATETIME_ARGS = ("year", "month", "day", "hour", "minute", "second")
#: Formats whose zero-padded texts ``datetime.fromisoformat`` reads field for field as strptime does.
_ISO_SHAPED = frozenset({"%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"})
#: Taken out of a text for its shape (``format_shape``): ASCII digits and every ASCII character ``\s`` matches.
_NOT_IN_SHAPE = {code: None for code in range(128) if chr(code).isdigit() or chr(code).isspace()}
_MISSING = object()

Parse = Callable[[Any], Any]
#: A column's texts (all ``str``, none blank) → their values; raises ValueError where ``Parse`` would for any.
ColumnParse = Callable[[list[str]], list[Any]]
RenamePlan = tuple[list[tuple[str, str]] | None, list[str], list[str], tuple[str, str] | None]
#: Distinct column lists (JSON records vary) whose renaming is remembered before starting again.
RENAME_PLANS_KEPT = 1024
#: Distinct shapes of date texts (``format_shape``) whose candidate formats are remembered before starting again.
SHAPES_KEPT = 1024


class FieldError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def is_blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


def parse_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected text, got {type(value).__name__} {describe(value)}")


def number_text(value: str) -> str:
    """``" $1,234.50 "`` → ``"1234.50"``, ``"(12.00)"`` → ``"-12.00"``.

    Rules: surrounding spaces, one currency symbol or code before or after the
    number, accounting parentheses for negatives, and commas only as thousands
    separators in groups of three. Anything else (``"1,5"``, ``"12 34"``) is
    left for the number parser to refuse.
    """
    text = value.strip()
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1].strip()
    sign = ""
    if text.startswith(("+", "-")):
        sign, text = text[0], text[1:].lstrip()
    text = _CURRENCY_SUFFIX.sub("", _CURRENCY_PREFIX.sub("", text))
    if not sign and text.startswith(("+", "-")):
        sign, text = text[0], text[1:]
    if "," in text:
        if not _GROUPED.match(text):
            raise ValueError(f"expected a number, got {describe(value)}: a comma that is not a thousands separator")
        text = text.replace(",", "")
    if negative:
        if sign:
            raise ValueError(f"expected a number, got {describe(value)}")
        sign = "-"
    return sign + text


def with_column_form(parse: Parse, column: ColumnParse) -> Parse:
    """``parse`` carrying the function that reads a whole column the same way (``column_parser``)."""
    parse.column = column  # type: ignore[attr-defined]
    return parse


def column_parser(parse: Parse) -> ColumnParse:
    """The column form of ``parse``: its own when it has one, else ``parse`` mapped over the column."""
    return getattr(parse, "column", None) or partial(_each, parse)


def _each(parse: Parse, texts: list[str]) -> list[Any]:
    return list(map(parse, texts))


def parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        if value.isascii() and value.isdigit():
            return int(value)
        try:
            number = Decimal(number_text(value))
        except InvalidOperation:
            raise ValueError(f"expected a whole number, got {describe(value)}") from None
        if number.is_finite() and number == number.to_integral_value():
            return int(number)
    raise ValueError(f"expected a whole number, got {describe(value)}")


def parse_ints(texts: list[str]) -> list[int]:
    """``parse_int`` of every text: plain ASCII digits (the usual column) in one C pass each."""
    if all(map(str.isdigit, texts)) and all(map(str.isascii, texts)):
        return list(map(int, texts))
    return list(map(parse_int, texts))


with_column_form(parse_int, parse_ints)


def parse_float(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        text = number_text(value)
        try:
            return float(text)
        except ValueError:
            pass
    raise ValueError(f"expected a number, got {describe(value)}")


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "t", "yes", "y", "1"}:
        return True
    if text in {"false", "f", "no", "n", "0"}:
        return False
    raise ValueError(f"expected true/false, got {describe(value)}")


def decimal_parser(precision: int, scale: int) -> Parse:
    """Amounts repeat (prices, quantities × prices): text already read is answered from a memory."""
    quantum = Decimal(1).scaleb(-scale)
    seen: dict[str, Decimal | str] = {}

    def parse_decimal(value: Any) -> Decimal:
        if type(value) is str:
            result = seen.get(value)
            if result is None:
                if len(seen) >= DateReader.CACHE_LIMIT:
                    seen.clear()
                try:
                    result = seen[value] = read_decimal(value)
                except ValueError as exc:
                    result = seen[value] = str(exc)
            if isinstance(result, str):
                raise ValueError(result)
            return result
        return read_decimal(value)

    def read_decimal(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            raise ValueError(f"expected an amount, got {describe(value)}")
        if isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value):
            text = value
        else:
            text = number_text(value) if isinstance(value, str) else str(value)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"expected an amount, got {describe(value)}") from None
        if not number.is_finite():
            raise ValueError(f"expected an amount, got {describe(value)}")
        exact = number.quantize(quantum)
        if exact != number:
            raise ValueError(f"{number} has more decimals than decimal({precision},{scale}) keeps")
        if len(exact.as_tuple().digits) > precision:
            raise ValueError(f"{number} does not fit decimal({precision},{scale})")
        return exact

    return parse_decimal


class DateReader:
    """Reads date/time text with a list of formats; a value two formats read differently is refused.

    ``02/01/2019`` under ``%d/%m/%Y`` and ``%m/%d/%Y`` could be either day:
    picking the first format would alter the record without a word. Results
    are cached by text, since exports repeat the same dates many times.
    """

    CACHE_LIMIT = 100_000

    def __init__(self, formats: Sequence[str]):
        self.formats = tuple(formats)
        self._readers = [datetime.fromisoformat if fmt == ISO_8601 else format_reader(fmt) for fmt in self.formats]
        self._shapes = [format_shape(fmt) for fmt in self.formats]
        self._by_shape: dict[str | None, list[tuple[str, Callable[[str], datetime]]]] = {}
        self._cache: dict[str, datetime | str] = {}
        # Formats all ISO-shaped (year, month, day, then perhaps the time, in that order) cannot read one
        # text two ways, and fromisoformat reads a zero-padded text of any of them as strptime does:
        # such a text needs neither its shape nor the other formats tried.
        self._iso_padded = (re.compile("|".join(f"(?:{padded_pattern(fmt)})" for fmt in self.formats))
                            if set(self.formats) <= _ISO_SHAPED else None)

    def __call__(self, text: str) -> datetime:
        result = self._cache.get(text)
        if result is None:
            if len(self._cache) >= self.CACHE_LIMIT:
                self._cache.clear()
            result = self._cache[text] = self._read(text)
        if isinstance(result, str):
            raise ValueError(result)
        return result

    def read_all(self, texts: list[str]) -> list[datetime]:
        """``self(text)`` for every text; zero-padded ISO-shaped texts (the usual column) read in C at once."""
        if self._iso_padded is not None and all(map(self._iso_padded.fullmatch, texts)):
            return list(map(datetime.fromisoformat, texts))  # 2024-02-30 raises ValueError, as self(text) does
        return list(map(self, texts))

    def _read(self, text: str) -> datetime | str:
        if self._iso_padded is not None and self._iso_padded.fullmatch(text):
            try:
                return datetime.fromisoformat(text)
            except ValueError:  # digits in place but no such day or time (2024-02-30)
                return self._unparseable(text)
        candidates = self._candidates(text.translate(_NOT_IN_SHAPE).lower() if text.isascii() else None)
        if len(candidates) == 1:  # one format: nothing to be ambiguous with
            try:
                return candidates[0][1](text)
            except ValueError:
                return self._unparseable(text)
        readings: dict[datetime, str] = {}
        for fmt, read in candidates:
            try:
                value = read(text)
            except ValueError:
                continue
            readings.setdefault(value, fmt)
        if not readings:
            return self._unparseable(text)
        if len(readings) > 1:
            options = " or ".join(f"{v.isoformat()} ({f})" for v, f in readings.items())
            return f"ambiguous date {text!r}: {options}; keep one of the formats or set dayfirst"
        return next(iter(readings))

    def _candidates(self, shape: str | None) -> list[tuple[str, Callable[[str], datetime]]]:
        """The formats (and their readers) a text of this shape may match: all but those its shape rules out.

        A format's shape (``format_shape``) is what strptime leaves of a text it
        reads once digits and white space are taken out; None (a non-ASCII text,
        a format of other directives) rules nothing out.
        """
        candidates = self._by_shape.get(shape)
        if candidates is None:
            if len(self._by_shape) >= SHAPES_KEPT:
                self._by_shape.clear()
            candidates = self._by_shape[shape] = [
                (fmt, read) for fmt, read, fmt_shape in zip(self.formats, self._readers, self._shapes)
                if shape is None or fmt_shape is None or shape == fmt_shape]
        return candidates

    def _unparseable(self, text: str) -> str:
        return f"unparseable date {text!r} (tried {', '.join(self.formats)})"


def numeric_directives(fmt: str) -> list[str] | None:
    """The directives of a format of only ``%Y``, ``%m``, ``%d`` (all three), ``%H``, ``%M``, ``%S``, each
    once, in their order in ``fmt``; None for any other format."""
    directives = _DIRECTIVE.findall(fmt)
    if (not {"Y", "m", "d"} <= set(directives) or not set(directives) <= set(_FIELD_NAMES)
            or len(directives) != len(set(directives))):
        return None
    return directives


def format_shape(fmt: str) -> str | None:
    """What is left of a text strptime reads under ``fmt`` once digits and white space are taken out, lowered.

    For a numeric format (``numeric_directives``) strptime's expression matches
    digits (and a space before a one-digit day) for the directives, white space
    for white space, and the format's other characters case-insensitively, so
    an ASCII text whose rest (``text.translate(_NOT_IN_SHAPE).lower()``)
    differs cannot be read under it: DateReader skips such formats without
    trying them. None (always try) for other formats and non-ASCII formats.
    """
    if numeric_directives(fmt) is None or not fmt.isascii():
        return None
    return _DIRECTIVE.sub("", fmt).translate(_NOT_IN_SHAPE).lower()


def padded_pattern(fmt: str) -> str:
    """The expression of a numeric format's zero-padded texts: ``%Y`` four ASCII digits, the others two."""
    return _DIRECTIVE.sub(lambda m: r"([0-9]{4})" if m[1] == "Y" else r"([0-9]{2})", re.escape(fmt))


def format_reader(fmt: str) -> Callable[[str], datetime]:
    """``datetime.strptime(text, fmt)``, done in C for formats of only numeric date and time fields.

    strptime spends most of its time in Python after matching its regular
    expression. For ``%Y``, ``%m``, ``%d``, ``%H``, ``%M`` and ``%S`` the reader
    builds the datetime from the digits itself: zero-padded text (the usual
    case, which strptime reads the same way or refuses alike) by one simple
    expression, anything else by strptime's own expression for the format
    (``_strptime.TimeRE``, so it accepts exactly the same text). Any other
    format is left to strptime; a unit test compares both on many texts.
    """
    directives = numeric_directives(fmt)
    if directives is None:
        return lambda text: datetime.strptime(text, fmt)
    pattern = TimeRE().compile(fmt)
    padded = re.compile(padded_pattern(fmt))
    names = [_FIELD_NAMES[d] for d in directives]
    # datetime's positional arguments are year, month, day, hour, minute, second: the groups in that order
    in_order = itemgetter(*sorted(range(len(names)), key=lambda i: _DATETIME_ARGS.index(names[i])))
    positional = set(names) == set(_DATETIME_ARGS[:len(names)])
    iso = fmt in _ISO_SHAPED

    def read(text: str) -> datetime:
        fixed = padded.fullmatch(text)
        if fixed is not None:  # zero-padded digits: strptime reads (or refuses) them the same way
            if iso:  # digits where the format has them: the ISO reader in C reads the same fields
                return datetime.fromisoformat(text)
            if positional:
                return datetime(*map(int, in_order(fixed.groups())))
            return datetime(**dict(zip(names, map(int, fixed.groups()))))
        match = pattern.match(text)
        if match is None or match.end() != len(text):
            raise ValueError(f"time data {text!r} does not match format {fmt!r}")
        found = match.groupdict()
        return datetime(**{_FIELD_NAMES[d]: int(found[d]) for d in directives})

    return read


_NAIVE_EPOCH = datetime(1970, 1, 1)


def timestamp_parser(reader: DateReader, zone: tzinfo) -> Parse:
    # naive + the zone = the epoch in the zone + (naive - the naive epoch): an aware datetime plus a timedelta
    # moves its wall time and keeps its zone, so two C operations give replace(tzinfo=zone), whose keyword
    # argument costs a microsecond a value
    zone_epoch = _NAIVE_EPOCH.replace(tzinfo=zone)

    def parse_timestamp(value: Any) -> datetime:
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            raise ValueError(f"expected a date/time, got {describe(value)}")
        parsed = reader(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)

    def parse_timestamps(values: list[str]) -> list[datetime]:
        texts = list(map(str.strip, values))
        if "" in texts:
            raise ValueError("a blank date/time")  # parse_timestamp says which, record by record
        parsed = reader.read_all(texts)
        if not any(map(_zone_of, parsed)):
            return list(map(add, repeat(zone_epoch), map(sub, parsed, repeat(_NAIVE_EPOCH))))
        return [value if value.tzinfo else value.replace(tzinfo=zone) for value in parsed]

    return with_column_form(parse_timestamp, parse_timestamps)


_zone_of = attrgetter("tzinfo")


def date_parser(reader: DateReader) -> Parse:
    def parse_date(value: Any) -> date:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"expected a date, got {describe(value)}")
        return reader(value.strip()).date()

    return parse_date


def list_parser(item: Parse, split: "ListSplit | None") -> Parse:
    """A JSON list item by item; text only when the field declares how to split it."""

    def parse_list(value: Any) -> list:
        if isinstance(value, str):
            if split is None:
                raise ValueError(f"text {describe(value)} for a list field; declare `split` for it in the "
                                 "source config")
            items = [] if not value.strip() else value.split(split.delimiter)
            if split.trim:
                items = [i.strip(" \t") for i in items]
            if split.skip_empty:
                items = [i for i in items if i]
        elif isinstance(value, list):
            items = value
        else:
            raise ValueError(f"expected a list, got {type(value).__name__} {describe(value)}")
        parsed = []
        for number, element in enumerate(items, start=1):
            try:
                parsed.append(item(element))
            except ValueError as exc:
                raise ValueError(f"item {number}: {exc}") from None
        return parsed

    return parse_list


def passthrough(value: Any) -> Any:
    return value


_PRIMITIVE_PARSERS: dict[str, Parse] = {
    "string": parse_text,
    "enum": parse_text,
    "int": parse_int,
    "long": parse_int,
    "float": parse_float,
    "double": parse_float,
    "boolean": parse_bool,
}


def value_parser(avro_type: Any, rules: "FieldRules", zone: tzinfo) -> Parse:
    """The parser for one (non-null) field type under the field's rules."""
    avro_type, _ = without_null(avro_type)
    field_kind = kind(avro_type)
    if field_kind in ("timestamp", "date"):
        reader = DateReader(date_formats(rules))
        return timestamp_parser(reader, zone) if field_kind == "timestamp" else date_parser(reader)
    if field_kind == "decimal":
        return decimal_parser(avro_type["precision"], avro_type.get("scale", 0))
    if field_kind == "array":
        return list_parser(value_parser(avro_type["items"], rules, zone), rules.split)
    return _PRIMITIVE_PARSERS.get(field_kind, passthrough)


def date_formats(rules: "FieldRules") -> tuple[str, ...]:
    if rules.dayfirst is not None:
        return DAY_FIRST if rules.dayfirst else MONTH_FIRST
    return tuple(rules.date_formats or (ISO_8601,))


class RecordParser:
    """Maps one source record onto its contract: renames, repairs, required checks.

    It also keeps the tally a run reports: source columns that are not in the
    contract (by name, with how many records carried them) and which renames
    matched something.
    """

    def __init__(self, config: "SourceConfig"):
        self.schema: Schema = config.schema
        self.renames = dict(config.columns)
        self.ignored = set(config.ignore_columns)
        self.strict = config.strict
        self.key = list(config.key)
        zone = config.zone
        self._fields = []
        for f in self.schema.fields:
            rules = config.rules_for(f["name"])
            _, nullable = without_null(f["type"])
            self._fields.append((f["name"], value_parser(f["type"], rules, zone), nullable,
                                 f.get("default", _MISSING), rules.blanks == "null"))
        self._names = {name for name, *_ in self._fields}
        self._column_fields = [(*spec, column_parser(spec[1])) for spec in self._fields]
        self.unknown_columns: Counter[str] = Counter()
        self.renames_seen: set[str] = set()
        self._rename_plans: dict[tuple[str, ...], RenamePlan] = {}

    @property
    def required(self) -> list[str]:
        return [name for name, _, nullable, default, _ in self._fields if not nullable and default is _MISSING]

    def field_of(self, column: str) -> str | None:
        """The contract field a source column feeds, or None when it feeds none."""
        name = self.renames.get(column, column)
        return name if name in self._names else None

    def check_header(self, columns: Sequence[str], where: str) -> None:
        """Refuse a header that would lose or misplace data; raises ValueError saying why.

        Run once per file before its first row, so a typo fails the source
        instead of rejecting (or silently nulling) every row.
        """
        problems = []
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if repeated:
            problems.append(f"the header names {', '.join(map(repr, repeated))} more than once")
        fed = [self.field_of(c) for c in columns]
        clashing = sorted({f for f in fed if f and fed.count(f) > 1} - set(repeated))
        if clashing:
            problems.append(f"several columns feed field(s) {', '.join(clashing)}")
        for column in sorted(set(self.renames) - set(columns)):
            nearest = _nearest(column, columns)
            problems.append(f"columns: {column!r} matches no column of the header{nearest}")
        missing = [f for f in self.required if f not in fed]
        if missing:
            problems.append(f"no column for required field(s) {', '.join(missing)}")
        unknown = self.unknown_in(columns)
        if unknown and self.strict:
            problems.append(f"columns not in {self.schema.name} (strict): {', '.join(unknown)}")
        if problems:
            raise ValueError(f"{where}: " + "; ".join(problems) + f" (header: {', '.join(columns)})")

    def unknown_in(self, columns: Iterable[str]) -> list[str]:
        return [c for c in columns if self.field_of(c) is None and c not in self.ignored]

    def parse(self, data: dict[str, Any]) -> dict[str, Any]:
        source = self._rename(data)
        record: dict[str, Any] = {}
        for name, parser, nullable, default, blank_is_null in self._fields:
            value = source.get(name)
            # is_blank without stripping a copy: strip() removes exactly what isspace() sees
            if value is None or (blank_is_null and isinstance(value, str) and (not value or value.isspace())):
                record[name] = self._missing(name, value, nullable, default)
                continue
            if type(value) is str and parser is parse_text:  # text for a text field: nothing to read
                record[name] = value
                continue
            try:
                record[name] = parser(value)
            except ValueError as exc:
                raise FieldError(name, str(exc)) from None
        for name in self.key:
            if record[name] is None or is_blank(record[name]):
                raise FieldError(name, "key field is empty")
        return record

    @staticmethod
    def _missing(name: str, value: Any, nullable: bool, default: Any) -> Any:
        """What a missing (None) or blank value becomes: null, the field's default, or a FieldError."""
        if nullable:
            return None
        if default is not _MISSING:
            return default
        raise FieldError(name, "required value is missing" if value is None else
                         f"required value is blank ({describe(value)})")

    def parse_columns(self, records: list[dict[str, Any]]) -> dict[str, list[Any]] | None:
        """``parse`` of a run of records sharing one list of columns, field by field: {field: its values}.

        The same values ``parse`` gives each record, read a column at a time
        (``column_parser``); None when some record is not plain — other columns,
        a value refused, an empty key — and must go through ``parse`` one by one
        for its reject. Nothing is tallied: ``tally`` does it once the run is published.
        """
        columns = tuple(records[0])
        if any(map(columns.__ne__, map(tuple, records))):
            return None
        fed, _, _, error = self._plan(columns)
        if error is not None:
            return None
        column_of = {name: column for column, name in fed} if fed is not None else {c: c for c in columns}
        parsed: dict[str, list[Any]] = {}
        try:
            for name, parser, nullable, default, blank_is_null, column_parse in self._column_fields:
                column = column_of.get(name)
                values = [None] * len(records) if column is None else list(map(itemgetter(column), records))
                parsed[name] = self._parse_column(name, values, parser, column_parse, nullable, default, blank_is_null)
        except (FieldError, ValueError):
            return None
        for name in self.key:
            values = parsed[name]
            if None in values or any(is_blank(value) for value in values if type(value) is str):
                return None
        return parsed

    def _parse_column(self, name: str, values: list[Any], parser: Parse, column_parse: ColumnParse, nullable: bool,
                      default: Any, blank_is_null: bool) -> list[Any]:
        if set(map(type, values)) == {str} and not (blank_is_null and ("" in values or any(map(str.isspace, values)))):
            return values if parser is parse_text else column_parse(values)
        parsed = []
        for value in values:  # values of other types, or blanks among them: read one by one as parse does
            if value is None or (blank_is_null and isinstance(value, str) and (not value or value.isspace())):
                parsed.append(self._missing(name, value, nullable, default))
            elif type(value) is str and parser is parse_text:
                parsed.append(value)
            else:
                parsed.append(parser(value))
        return parsed

    def tally(self, record: dict[str, Any], records: int) -> None:
        """Count ``records`` records with the columns of ``record`` in the run's tally (``parse`` counts its own)."""
        _, unknown, renamed, _ = self._plan(tuple(record))
        for column in unknown:
            self.unknown_columns[column] += records
        if renamed:
            self.renames_seen.update(renamed)

    def _rename(self, data: dict[str, Any]) -> dict[str, Any]:
        """The record's values under contract field names; the tally is kept, a column conflict raised.

        Which column feeds which field depends only on the record's columns, so it
        is worked out once per distinct list of columns (one for a CSV file).
        """
        fed, unknown, renamed, error = self._plan(tuple(data))
        for column in unknown:
            self.unknown_columns[column] += 1
        if renamed:
            self.renames_seen.update(renamed)
        if error is not None:
            raise FieldError(*error)
        return data if fed is None else {name: data[column] for column, name in fed}

    def _plan(self, columns: tuple[str, ...]) -> RenamePlan:
        plan = self._rename_plans.get(columns)
        if plan is None:
            if len(self._rename_plans) >= RENAME_PLANS_KEPT:
                self._rename_plans.clear()
            plan = self._rename_plans[columns] = self._rename_plan(columns)
        return plan

    def _rename_plan(self, columns: tuple[str, ...]) -> RenamePlan:
        """(column → field pairs, unknown columns counted, renames used, (field, reason) of a conflict or None).

        The pairs are None when every column feeds the field of its own name.
        """
        fed: list[tuple[str, str]] = []
        unknown: list[str] = []
        renamed: list[str] = []
        fed_by: dict[str, str] = {}
        for column in columns:
            name = self.field_of(column)
            if name is None:
                if column not in self.ignored:
                    unknown.append(column)
                    if self.strict:
                        return fed, unknown, renamed, (column, f"column is not in {self.schema.name} (strict)")
                continue
            if column in self.renames:
                renamed.append(column)
            if name in fed_by:
                return fed, unknown, renamed, (name, f"both {fed_by[name]!r} and {column!r} give this field")
            fed_by[name] = column
            fed.append((column, name))
        if len(fed) == len(columns) and all(column == name for column, name in fed):
            return None, unknown, renamed, None  # every column is its field: the record is used as it is
        return fed, unknown, renamed, None

    def unmatched_renames(self) -> list[str]:
        """``columns`` keys no record carried, each with the nearest unknown column when there is one."""
        return [f"{column!r}{_nearest(column, self.unknown_columns)}"
                for column in sorted(set(self.renames) - self.renames_seen)]


def _nearest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (nearest: {close[0]!r})" if close else ""
