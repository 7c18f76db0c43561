"""The producer's own reading of numeric date formats accepts and refuses exactly what strptime does."""
from __future__ import annotations

import random
from datetime import datetime

import pytest

from producers.parsing import DAY_FIRST, ISO_8601, MONTH_FIRST, format_reader

FORMATS = sorted(set(DAY_FIRST + MONTH_FIRST) - {ISO_8601} | {
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%S", "%Y%m%d"})
EDGES = ["2024-13-01", "2023-02-29 10:00:00", "2024-02-29 10:00:00", "2024-6-3 1:2:3", "2024-06-30 24:00:00",
         "2024-06-30 23:59:60", "02/01/2019", "2/1/2019 3:04", "1/1/2019 3:04:05", " 2024-06-30", "2024-06-30 ",
         "2024-06-30  10:00:00", "2024-06-30\t10:00:00", "20240630", "2024-06-30T10:00:00+02:00", "",
         "2024-06-\u0660\u0669", "\u0662\u0660\u0662\u0664-06-30"]


def outcome(read, text):
    try:
        return read(text)
    except ValueError:
        return "refused"


def mutations(text: str, rng: random.Random, count: int):
    for _ in range(count):
        chars = list(text)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(chars) + 1)
            change, char = rng.random(), rng.choice("0123456789-/: T.\t")
            if change < 0.4 and at < len(chars):
                chars[at] = char
            elif change < 0.7 and at < len(chars):
                del chars[at]
            else:
                chars.insert(at, char)
        yield "".join(chars)


@pytest.mark.parametrize("fmt", FORMATS)
def test_reads_like_strptime(fmt):
    rng = random.Random(fmt)
    read = format_reader(fmt)
    written = datetime(2024, 2, 29, 7, 5, 9).strftime(fmt)
    for text in [written, written.replace("0", ""), *EDGES, *mutations(written, rng, 400)]:
        assert outcome(read, text) == outcome(lambda t: datetime.strptime(t, fmt), text), (fmt, text)
