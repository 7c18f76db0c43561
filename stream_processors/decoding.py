"""Kafka message → raw-table row, or a dead letter saying why not."""
from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from operator import itemgetter
from typing import Any

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Message
from fastavro import parse_schema, schemaless_reader
from psycopg.types.json import Jsonb

from schemas.registry import SchemaRegistry
from schemas.wire import HEADER_LEN, MAGIC
from stream_processors.logical_types import plain_top_level
from stream_processors.raw_tables import RawTable
from streammart.contract import (EVENT_ID, EVENT_ID_HEADER, EVENT_TIME, KEY, OFFSET, PARTITION, PRODUCED_AT,
                                 SCHEMA_FINGERPRINT, SOURCE_POSITION, SOURCE_POSITION_HEADER, TOPIC,
                                 event_time_value)


@dataclass(frozen=True)
class LandingTarget:
    """Where one topic's events land and which field carries event time.

    ``schema_domain``/``schema_entity`` name the contract family the topic carries:
    any major version of it decodes, anything else is a dead letter. A date as event
    time means midnight in ``event_time_zone`` (the source's ``timezone``).
    """

    topic: str
    table: RawTable
    schema_domain: str
    schema_entity: str
    event_time_field: str | None
    event_time_zone: tzinfo = timezone.utc


@dataclass
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""
    stage: str = "decode"


def header_map(headers: Any) -> dict[str, str]:
    """Kafka headers (list of pairs or dict, bytes values) as text."""
    items = headers.items() if isinstance(headers, dict) else (headers or [])
    return {k: (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)) for k, v in items}


def refused_letter(message: Any, error: str, stage: str) -> DeadLetter:
    """The dead letter of a message (confluent-kafka ``Message`` or one with attributes)."""
    if isinstance(message, Message):
        return DeadLetter(message.topic(), message.partition(), message.offset(), message.key(), message.value(),
                          header_map(message.headers()), error, stage)
    return DeadLetter(message.topic, message.partition, message.offset, message.key, message.value,
                      header_map(message.headers), error, stage)


class RowDecoder:
    """Turns one target's Kafka messages into COPY rows (or dead letters), prepared once per writer schema.

    Everything that depends only on the schema and the table (which fields become
    which columns, which are JSON, which must be present, where event time is,
    how top-level logical types are converted: see ``logical_types``) is worked
    out the first time a writer fingerprint is seen; per event there is the Avro
    read of plain types, one C-level field lookup, the few conversions and the
    metadata of the message itself.
    Values are still gathered by column name, so no value can land under another
    column's name whatever the order of fields or columns.
    """

    def __init__(self, target: LandingTarget, registry: SchemaRegistry):
        self.target = target
        self.registry = registry
        self._by_fingerprint: dict[bytes, _WriterPlan | str] = {}

    def decode_at(self, message: Any, topic: str, partition: int, offset: int) -> tuple | DeadLetter:
        """Like :func:`decode_row`, for a confluent-kafka ``Message`` whose position the caller has already read.

        (Accessor methods, not attributes; each call costs, so none is made twice.)
        """
        kind, millis = message.timestamp()
        return self.row(topic, partition, offset, message.key(), message.value(), message.headers(),
                        millis / 1000 if kind != TIMESTAMP_NOT_AVAILABLE and millis > 0 else None)

    def row(self, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
            headers: Any, timestamp: float | None) -> tuple | DeadLetter:
        plan = self._plan(value)
        if isinstance(plan, str):
            return DeadLetter(topic, partition, offset, key, value, header_map(headers), plan)
        try:
            record = schemaless_reader(io.BytesIO(value[HEADER_LEN:]), plan.writer_parsed, plan.reader_parsed)
        except Exception as exc:  # fastavro raises EOFError, UnicodeDecodeError, SchemaResolutionError...
            return DeadLetter(topic, partition, offset, key, value, header_map(headers),
                              f"body does not match schema {plan.writer_name}: {exc!r}")
        business = plan.values(record)
        if plan.converters:
            cells = list(business)
            for i, convert in plan.converters:
                if cells[i] is not None:
                    cells[i] = convert(cells[i])
            business = tuple(cells)
        for i in plan.required:
            if business[i] is None:
                missing = [plan.names[j] for j in plan.required if business[j] is None]
                return DeadLetter(topic, partition, offset, key, value, header_map(headers),
                                  f"required fields missing for {self.target.table.name}: {', '.join(missing)}")
        event_time = (event_time_value(business[plan.event_time], self.target.event_time_zone)
                      if plan.event_time is not None else None)
        identity, position = event_id_and_position(headers, value)
        row = business + (
            identity, topic, partition, offset,
            key.decode("utf-8", "replace") if key is not None else None, plan.fingerprint_hex, event_time,
            datetime.fromtimestamp(timestamp, timezone.utc) if timestamp else None, position)
        return row if plan.in_table_order is None else plan.in_table_order(row)

    def _plan(self, value: bytes | None) -> _WriterPlan | str:
        """The prepared plan of the value's writer schema, or why the value cannot be read."""
        if value is None or len(value) < HEADER_LEN or value[:2] != MAGIC:
            return "not Avro single-object encoded (missing C3 01 marker)"
        fingerprint = value[2:HEADER_LEN]
        plan = self._by_fingerprint.get(fingerprint)
        if plan is None:
            plan = self._by_fingerprint[fingerprint] = self._prepare(fingerprint)
        return plan

    def _prepare(self, fingerprint: bytes) -> _WriterPlan | str:
        writer = self.registry.by_fingerprint(fingerprint)
        if writer is None:
            return f"unknown schema fingerprint {fingerprint.hex()}"
        if (writer.domain, writer.entity) != (self.target.schema_domain, self.target.schema_entity):
            return f"schema {writer.name} does not belong to topic {self.target.topic}"
        reader = self.registry.get(writer.name)
        columns = self.target.table.business
        names = tuple(c.name for c in columns)
        fields = set(reader.field_names)
        if set(names) <= fields and len(names) > 1:
            values: Callable[[dict], tuple] = itemgetter(*names)
        else:  # one column, or columns the contract lacks (NULL, as ever): the general, slower form
            values = lambda record: tuple(record.get(name) for name in names)  # noqa: E731
        writer_plain, _ = plain_top_level(writer.definition)
        reader_plain, converters = plain_top_level(reader.definition)
        for column in columns:
            if column.is_json:
                converters[column.name] = Jsonb
        return _WriterPlan(
            writer.name, parse_schema(writer_plain), None if reader is writer else parse_schema(reader_plain),
            writer.fingerprint_hex, names, values,
            tuple((i, converters[name]) for i, name in enumerate(names) if name in converters),
            tuple(i for i, c in enumerate(columns) if not c.nullable),
            names.index(self.target.event_time_field) if self.target.event_time_field in names else None,
            _reordering([*names, *_DECODED_METADATA], [c.name for c in self.target.table.copy_columns]))


@dataclass(frozen=True)
class _WriterPlan:
    writer_name: str
    writer_parsed: dict[str, Any]
    reader_parsed: dict[str, Any] | None
    fingerprint_hex: str
    names: tuple[str, ...]
    values: Callable[[dict], tuple]
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]  # by column index: logical types, JSON
    required: tuple[int, ...]
    event_time: int | None
    in_table_order: Callable[[tuple], tuple] | None  # None: the decoded order is the table's


#: The metadata :meth:`RowDecoder.row` appends to the contract's fields, in this order.
_DECODED_METADATA = (EVENT_ID.name, TOPIC.name, PARTITION.name, OFFSET.name, KEY.name, SCHEMA_FINGERPRINT.name,
                     EVENT_TIME.name, PRODUCED_AT.name, SOURCE_POSITION.name)


def _reordering(decoded: list[str], table: list[str]) -> Callable[[tuple], tuple] | None:
    """Puts a row decoded in ``decoded`` column order into the ``table``'s order, matching columns by name."""
    if decoded == table:
        return None
    if sorted(decoded) != sorted(table):
        raise ValueError(f"decoded columns {decoded} are not the table's columns {table}")
    return itemgetter(*(decoded.index(name) for name in table))


def event_id_and_position(headers: Any, value: bytes) -> tuple[str, str | None]:
    """The producer's ``event_id`` and ``source_position`` headers, in one pass over Kafka's header pairs.

    Events from elsewhere get a hash of the bytes as id (identical content, same id:
    what staging dedupes on) and no position. No map is built per event.
    """
    identity = position = None
    for name, header in headers.items() if isinstance(headers, dict) else headers or ():
        if name == EVENT_ID_HEADER and header:
            identity = header.decode("utf-8", "replace") if isinstance(header, bytes) else str(header)
        elif name == SOURCE_POSITION_HEADER and header:
            position = header.decode("utf-8", "replace") if isinstance(header, bytes) else str(header)
    return identity or hashlib.sha256(value).hexdigest()[:32], position



def decode_row(message: Any, target: LandingTarget, registry: SchemaRegistry) -> tuple | DeadLetter:
    """One COPY row (the table's copy column order) or the reason the message cannot land.

    For a message with attributes (``topic``, ``offset``, ``timestamp`` in seconds…);
    the worker decodes whole batches with one :class:`RowDecoder` per topic.
    """
    return RowDecoder(target, registry).row(message.topic, message.partition, message.offset, message.key,
                                            message.value, message.headers, message.timestamp)

