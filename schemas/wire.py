"""Avro single-object encoding: ``C3 01`` + 8-byte fingerprint + binary body.

The fingerprint tells the reader which contract wrote the bytes, so consumers need
no schema registry service: they resolve it from ``schemas/``.
"""
from __future__ import annotations

import io
from typing import Any

from fastavro import schemaless_reader, schemaless_writer

from schemas.registry import Schema, SchemaRegistry

MAGIC = b"\xc3\x01"
HEADER_LEN = len(MAGIC) + 8


class WireFormatError(ValueError):
    """Bytes that are not a single-object Avro value this registry can read."""


def encode(schema: Schema, record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    buffer.write(MAGIC)
    buffer.write(schema.fingerprint)
    schemaless_writer(buffer, schema.parsed, record)
    return buffer.getvalue()


def decode(data: bytes, registry: SchemaRegistry) -> tuple[Schema, dict[str, Any]]:
    """The writer's schema and the record, resolved to the contract's current version.

    An event written with an earlier version reads as the current one (fields added
    since take their defaults), so consumers see one shape per contract.
    Raises WireFormatError on bad bytes.
    """
    if data is None or len(data) < HEADER_LEN or data[:2] != MAGIC:
        raise WireFormatError("not Avro single-object encoded (missing C3 01 marker)")
    writer = registry.by_fingerprint(data[2:HEADER_LEN])
    if writer is None:
        raise WireFormatError(f"unknown schema fingerprint {data[2:HEADER_LEN].hex()}")
    reader = registry.get(writer.name)
    try:
        record = schemaless_reader(io.BytesIO(data[HEADER_LEN:]), writer.parsed,
                                   None if reader is writer else reader.parsed)
    except Exception as exc:  # fastavro raises EOFError, UnicodeDecodeError, SchemaResolutionError...
        raise WireFormatError(f"body does not match schema {writer.name}: {exc!r}") from exc
    return writer, record
