"""Kafka key, headers and the deterministic event id of one record."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from streammart.contract import EVENT_ID_HEADER, SOURCE_HEADER, SOURCE_POSITION_HEADER


def natural_key(record: dict[str, Any], fields: Sequence[str]) -> str:
    return "|".join(str(record[f]) for f in fields)


def content_hash(record: dict[str, Any]) -> str:
    canonical = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def event_id(source: str, key: str, record: dict[str, Any]) -> str:
    """Same source, key and content give the same id: a replayed file is recognisable."""
    digest = hashlib.sha256(f"{source}\x1f{key}\x1f{content_hash(record)}".encode())
    return digest.hexdigest()[:32]


def headers(source: str, position: str, event: str) -> list[tuple[str, bytes]]:
    return [(SOURCE_HEADER, source.encode()), (SOURCE_POSITION_HEADER, position.encode()),
            (EVENT_ID_HEADER, event.encode())]
