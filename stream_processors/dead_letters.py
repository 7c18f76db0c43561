"""Dead letters also go to the topic's dead-letter topic with the original bytes and headers.

The landing transaction already recorded them in ``raw._dead_letters``; the topic
copy lets other consumers react, so it is sent after that commit. A poison
message close to Kafka's size limit no longer fits once the dead-letter headers
are added: its copy carries the first bytes only, and says so in a header (the
whole value is in ``raw._dead_letters``).
"""
from __future__ import annotations

from datetime import datetime, timezone

from stream_processors.decoding import DeadLetter


def dlq_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    extra = {
        "error": letter.error,
        "stage": letter.stage,
        "at": datetime.now(timezone.utc).isoformat(),
        "original_partition": str(letter.partition),
        "original_offset": str(letter.offset),
    }
    return [(k, v.encode()) for k, v in {**letter.headers, **extra}.items()]


# Room kept for the record's own framing in a produce request (attributes, lengths, timestamps).
RECORD_OVERHEAD = 512
TRUNCATED_HEADER = "value_truncated_from"


def dlq_message(letter: DeadLetter, limit: int) -> tuple[bytes | None, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) of the letter's DLQ copy, cut to fit a ``limit``-byte request."""
    headers = dlq_headers(letter)
    value = letter.value or b""
    used = RECORD_OVERHEAD + len(letter.key or b"") + sum(len(k) + len(v) for k, v in headers)
    room = limit - used - len(TRUNCATED_HEADER) - 20
    if len(value) > room:
        headers.append((TRUNCATED_HEADER, str(len(value)).encode()))
        value = value[:max(room, 0)]
    return letter.key, value, headers
