"""DateReader skips formats by the text's shape and still reads, refuses and calls ambiguous exactly as trying all."""
from __future__ import annotations

import random
from datetime import datetime

import pytest

from producers.parsing import DAY_FIRST, ISO_8601, MONTH_FIRST, DateReader

FORMAT_LISTS = [
    ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"),
    ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"),
    DAY_FIRST,
    MONTH_FIRST,
    ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y%m%d", "%d/%m/%Y", "%m/%d/%Y", ISO_8601),
    ("%Y.%m.%d", "%d %m %Y", "%Y-%m-%d %H:%S"),
]
HOSTILE = ["2024-06-09 03:31:45", "2024-06-09", "2024-06-09t03:31:45", "2024-06-09T03:31:45", "02/01/2019",
           "2/1/2019", "13/01/2019", "2024-6-9 3:1:4", "2024-06-09  03:31:45", "2024-06-09\x1c03:31:45",
           "2024-06-09\t03:31", " 2024-06-09", "2024-06-09 ", "2024-06-\u0660\u0669", "\u0662024-06-09",
           "2024-06-09\u00a003:31:45", "20240609", "2024.06.09", "09 06 2024", "9  6 2024", "", "yesterday",
           "2024-06-09 03:31:45+02:00", "2024-02-30", "2024-06-09 24:00:00", "01/02/2019 10:00", "3 March 2024",
           "March 3, 2024", "2024-06-09 03:31:45.5", "2024\u200b-06-09"]


def reference(formats, text):
    """Every format tried with strptime itself, as DateReader is documented to behave."""
    readings = {}
    for fmt in formats:
        try:
            value = datetime.fromisoformat(text) if fmt == ISO_8601 else datetime.strptime(text, fmt)
        except ValueError:
            continue
        readings.setdefault(value, fmt)
    if len(readings) != 1:
        return "unparseable" if not readings else "ambiguous"
    return next(iter(readings))


def outcome(reader, text):
    try:
        return reader(text)
    except ValueError as exc:
        return "unparseable" if str(exc).startswith("unparseable") else "ambiguous"


def mutations(texts, rng, count):
    for _ in range(count):
        chars = list(rng.choice(texts))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(chars) + 1)
            char = rng.choice("0123456789-/: Tt.\t\x1c\u00a0\u0663")
            if rng.random() < 0.5 and at < len(chars):
                chars[at] = char
            else:
                chars.insert(at, char)
        yield "".join(chars)


@pytest.mark.parametrize("formats", FORMAT_LISTS, ids=lambda formats: "|".join(formats))
def test_same_outcome_as_trying_every_format(formats):
    reader = DateReader(formats)
    rng = random.Random("|".join(formats))
    for text in [*HOSTILE, *mutations(HOSTILE, rng, 1500)]:
        assert outcome(reader, text) == reference(formats, text), text


def test_a_text_under_no_format_names_every_format_tried():
    reader = DateReader(("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"))
    with pytest.raises(ValueError, match=r"tried %Y-%m-%d %H:%M:%S, %Y-%m-%d"):
        reader("2024-06-09 03:31")
