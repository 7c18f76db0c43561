"""CSV files: a header row, any mix of CRLF / LF / CR endings, any encoding, quoted newlines.

Every record keeps the line it starts on and its text exactly as read (quotes
included) for the rejects file. A blank line is skipped and counted; a row
holding a byte that is not valid in the file's encoding is rejected alone.
"""
from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from producers.sources.base import Position, RawRecord, SourceReadError
from producers.sources.text import as_read, column_with_bad_bytes, open_text, undecodable

# A field longer than this is surely an unclosed quote swallowing the rest of the
# file; the record is rejected and reading goes on after it.
FIELD_LIMIT = 16 * 1024 * 1024
csv.field_size_limit(FIELD_LIMIT)

HeaderCheck = Callable[[Sequence[str], str], None]


class LineTracker:
    """The lines csv.reader pulls, counted, with the text of the record being read."""

    def __init__(self, lines: Iterable[str]):
        self._lines = iter(lines)
        self.number = 0
        self.first = 1
        self._taken: list[str] = []

    def __iter__(self) -> "LineTracker":
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.number += 1
        self._taken.append(line)
        return line

    def start_record(self) -> None:
        self.first = self.number + 1
        self._taken = []

    @property
    def text(self) -> str:
        """The record's lines as read, without the final line ending."""
        return "".join(self._taken).removesuffix("\n").removesuffix("\r")


class CsvSource:
    def __init__(self, path: Path, encoding: str = "utf-8", delimiter: str = ",", quotechar: str = '"',
                 check_header: HeaderCheck | None = None):
        self.path = Path(path)
        self.encoding = encoding
        self.dialect = {"delimiter": delimiter, "quotechar": quotechar}
        self.check_header = check_header

    def total_hint(self) -> int | None:
        try:
            with self.path.open("rb") as handle:
                return max(sum(1 for _ in handle) - 1, 0)
        except OSError:
            return None

    def records(self) -> Iterator[RawRecord]:
        handle, encoding = open_text(self.path, self.encoding)
        with handle:
            lines = LineTracker(handle)
            # strict: `"x"y` is an error, not silently `xy`; a quote left open at the end
            # of the file is an error, not a last field swallowing every row after it
            reader = csv.reader(lines, strict=True, **self.dialect)
            header = self._header(reader, lines, encoding)
            while True:
                lines.start_record()
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield RawRecord(self._at(lines), {}, error=self._unreadable(exc, lines), raw=as_read(lines.text))
                    continue
                yield self._record(header, row, lines, encoding)

    @staticmethod
    def _unreadable(exc: csv.Error, lines: LineTracker) -> str:
        span = f"lines {lines.first}-{lines.number}" if lines.number > lines.first else f"line {lines.first}"
        if str(exc) == "unexpected end of data":
            return f"a quoted field never closes: the file ends inside it ({span} are this one record)"
        return f"unreadable row ({span}): {exc}"

    def _at(self, lines: LineTracker) -> Position:
        return Position(self.path.name, line=lines.first)

    def _header(self, reader: Iterator[list[str]], lines: LineTracker, encoding: str) -> list[str]:
        try:
            header = next(reader)
        except StopIteration:
            raise SourceReadError(f"{self.path}: the file is empty; expected a header row") from None
        except csv.Error as exc:
            raise SourceReadError(f"{self.path}: cannot read the header: {exc}") from None
        bad = undecodable(lines.text, encoding)
        if bad:
            raise SourceReadError(f"{self.path}:1: cannot read the header: {bad} (is `encoding` right?)")
        header = [h.strip() for h in header]
        if not any(header):
            raise SourceReadError(f"{self.path}:1: the header row is blank")
        if self.check_header:
            try:
                self.check_header(header, f"{self.path}:1")
            except ValueError as exc:
                raise SourceReadError(str(exc)) from None
        return header

    def _record(self, header: list[str], row: list[str], lines: LineTracker, encoding: str) -> RawRecord:
        position, text = self._at(lines), lines.text
        if not text.strip():
            return RawRecord(position, {}, raw=text, skipped="blank line")
        bad = undecodable(text, encoding)
        if bad:
            return RawRecord(position, {}, error=bad, raw=as_read(text),
                             field=column_with_bad_bytes(dict(zip(header, row))))
        if len(row) != len(header):
            return RawRecord(position, {}, error=f"expected {len(header)} fields, found {len(row)}", raw=text)
        return RawRecord(position, dict(zip(header, row)), raw=text)
