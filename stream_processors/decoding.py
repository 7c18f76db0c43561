"""Kafka message → raw-table row, or a dead letter saying why not."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from typing import Any

from psycopg.types.json import Jsonb

from schemas.registry import SchemaRegistry
from schemas.wire import WireFormatError, decode
from stream_processors.raw_tables import RawTable
from streammart.contract import (EVENT_ID, EVENT_TIME, KEY, OFFSET, PARTITION, PRODUCED_AT, SCHEMA_FINGERPRINT, TOPIC,
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


def event_id(headers: dict[str, str], value: bytes) -> str:
    """The producer's ``event_id`` header; for events from elsewhere, a hash of the bytes.

    Either way identical content gets the same id, which is what staging dedupes on.
    """
    return headers.get("event_id") or hashlib.sha256(value).hexdigest()[:32]


def _cell(value: Any, is_json: bool) -> Any:
    return Jsonb(value) if is_json and value is not None else value


def decode_row(message: Any, target: LandingTarget, registry: SchemaRegistry) -> tuple | DeadLetter:
    """One COPY row (the table's copy column order) or the reason the message cannot land.

    Values are gathered by column name and put in order by the table, so adding or
    moving a column can never shift a value into its neighbour's column.
    """
    headers = header_map(message.headers)
    try:
        schema, record = decode(message.value, registry)
    except WireFormatError as exc:
        return DeadLetter(message.topic, message.partition, message.offset, message.key, message.value,
                          headers, str(exc))
    if (schema.domain, schema.entity) != (target.schema_domain, target.schema_entity):
        return DeadLetter(message.topic, message.partition, message.offset, message.key, message.value,
                          headers, f"schema {schema.name} does not belong to topic {message.topic}")
    values = {c.name: _cell(record.get(c.name), c.is_json) for c in target.table.business}
    missing = [c.name for c in target.table.business if values[c.name] is None and not c.nullable]
    if missing:
        return DeadLetter(message.topic, message.partition, message.offset, message.key, message.value,
                          headers, f"required fields missing for {target.table.name}: {', '.join(missing)}")
    event_time = (event_time_value(record.get(target.event_time_field), target.event_time_zone)
                  if target.event_time_field else None)
    values.update(landing_metadata(message, headers, schema.fingerprint_hex, event_time))
    return target.table.row(values)


def landing_metadata(message: Any, headers: dict[str, str], fingerprint_hex: str,
                     event_time: datetime | None) -> dict[str, Any]:
    """The metadata columns of one landed message, by column name."""
    return {
        EVENT_ID.name: event_id(headers, message.value),
        TOPIC.name: message.topic,
        PARTITION.name: message.partition,
        OFFSET.name: message.offset,
        KEY.name: message.key.decode("utf-8", "replace") if message.key is not None else None,
        SCHEMA_FINGERPRINT.name: fingerprint_hex,
        EVENT_TIME.name: event_time,
        PRODUCED_AT.name: datetime.fromtimestamp(message.timestamp, timezone.utc) if message.timestamp else None,
    }
