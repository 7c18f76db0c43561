"""Kafka key, headers and the deterministic event id of one record."""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from hashlib import blake2b
from typing import Any

from streammart.contract import EVENT_ID_HEADER, SOURCE_HEADER, SOURCE_POSITION_HEADER


def natural_key(record: dict[str, Any], fields: Sequence[str]) -> str:
    if len(fields) == 1:
        return str(record[fields[0]])
    return "|".join(str(record[f]) for f in fields)


def natural_keys(columns: dict[str, list[Any]], fields: Sequence[str]) -> list[bytes]:
    """``natural_key(record, fields).encode()`` of every record of a run given field by field."""
    if len(fields) == 1:
        texts = map(str, columns[fields[0]])
    else:
        texts = map("|".join, zip(*(map(str, columns[f]) for f in fields)))
    return list(map(str.encode, texts))


def event_id(source: str, key: bytes, value: bytes) -> str:
    """Same source, key and content give the same id: a replayed file is recognisable.

    ``key`` is the Kafka key's bytes (the natural key, UTF-8). The content is the
    event's Avro bytes: the same record always encodes to the same bytes under one
    contract version, and hashing them costs far less than serialising the record
    again just to hash it.
    """
    digest = _source_digest(source).copy()
    digest.update(key + b"\x1f")
    digest.update(value)
    return digest.hexdigest()


@lru_cache(maxsize=64)
def _source_digest(source: str) -> "blake2b":
    """The hash state after ``source`` and its separator, copied per event instead of begun again."""
    return blake2b(f"{source}\x1f".encode(), digest_size=16, person=b"streammart-event")


class EventHeaders:
    """The headers of one source's events: its name (encoded once), the record's position, the event id."""

    def __init__(self, source: str):
        self._source = (SOURCE_HEADER, source.encode())

    def __call__(self, position: str, event: str) -> list[tuple[str, bytes]]:
        return [self._source, (SOURCE_POSITION_HEADER, position.encode()), (EVENT_ID_HEADER, event.encode())]
