"""Dead letters also go to the topic's dead-letter topic with the original bytes and headers.

The landing transaction already recorded them in ``raw._dead_letters``; the topic
copy lets other consumers react, so it is sent after that commit.
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
