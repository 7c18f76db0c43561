"""CSV files: a header row, any mix of CRLF / LF / CR endings, any encoding, quoted newlines.

Every record keeps the line it starts on and its text exactly as read (quotes
included) for the rejects file. A blank line is skipped and counted; a row
holding a byte that is not valid in the file's encoding is rejected alone.
"""
from __future__ import annotations

import csv
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import TextIO

from producers.sources.base import Position, RawRecord, SourceReadError
from producers.sources.text import as_read, column_with_bad_bytes, has_bad_bytes, open_text, undecodable

# A field longer than this is surely an unclosed quote swallowing the rest of the
# file; the record is rejected and reading goes on after it.
FIELD_LIMIT = 16 * 1024 * 1024
csv.field_size_limit(FIELD_LIMIT)

HeaderCheck = Callable[[Sequence[str], str], None]
new_tuple = tuple.__new__


class LineWindow:
    """The file's lines in batches, handed to csv.reader without a Python call per line.

    csv.reader counts the lines it pulls (``line_num``), so a record is lines
    ``first`` to ``line_num``; the window keeps the batches from the current
    record's first line on to give its text exactly as read. Each batch is
    checked once for bytes not valid in the file's encoding, so the rows of a
    clean batch need no check of their own.
    """

    BATCH_CHARS = 256 * 1024  # characters read at a time (readlines' hint: whole lines, a bit more)

    def __init__(self, handle: TextIO):
        self._handle = handle
        self._batches: deque[tuple[int, list[str]]] = deque()  # (number of its first line, its lines)
        self._read = 0  # lines read so far
        self.clean_from = 1  # first line of the newest batch, when that batch holds no bad byte; else beyond it

    def lines(self) -> Iterator[str]:
        return chain.from_iterable(self._fill())

    def _fill(self) -> Iterator[list[str]]:
        while batch := self._handle.readlines(self.BATCH_CHARS):
            first = self._read + 1
            self._read += len(batch)
            self._batches.append((first, batch))
            joined = "".join(batch)
            self.clean_from = first if joined.isascii() or not has_bad_bytes(joined) else self._read + 1
            yield batch

    def text(self, first: int, last: int) -> str:
        """Lines ``first`` to ``last`` as read, without the final line ending; earlier batches are let go."""
        batches = self._batches
        while len(batches) > 1 and batches[1][0] <= first:
            batches.popleft()
        start, batch = batches[-1]
        if first == last and first >= start:  # the usual record: one line of the newest batch
            return batch[first - start].removesuffix("\n").removesuffix("\r")
        if first >= start:
            taken = batch[first - start:last - start + 1]
        else:
            taken = [line for number, lines in self._batches for line in lines][first - self._batches[0][0]:
                                                                                last - self._batches[0][0] + 1]
        return "".join(taken).removesuffix("\n").removesuffix("\r")


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
        name = self.path.name
        with handle:
            window = LineWindow(handle)
            # strict: `"x"y` is an error, not silently `xy`; a quote left open at the end
            # of the file is an error, not a last field swallowing every row after it
            reader = csv.reader(window.lines(), strict=True, **self.dialect)
            header = self._header(reader, window, encoding)
            fields = len(header)
            while True:
                first = reader.line_num + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    text = window.text(first, reader.line_num)
                    yield RawRecord(Position(name, first), {},
                                    error=self._unreadable(exc, first, reader.line_num), raw=as_read(text))
                    continue
                text = window.text(first, reader.line_num)
                # with two fields or more, a row of them holds a delimiter: its text is not blank
                if len(row) == fields and first >= window.clean_from and (fields > 1 or text.strip()):
                    # the named tuples made by tuple.__new__: no Python call for their __new__, per record
                    yield new_tuple(RawRecord, (new_tuple(Position, (name, first, None, None)),
                                                dict(zip(header, row)), None, text, None, None))
                else:
                    yield self._odd_record(header, row, Position(name, first), text, encoding)

    @staticmethod
    def _unreadable(exc: csv.Error, first: int, last: int) -> str:
        span = f"lines {first}-{last}" if last > first else f"line {first}"
        if str(exc) == "unexpected end of data":
            return f"a quoted field never closes: the file ends inside it ({span} are this one record)"
        return f"unreadable row ({span}): {exc}"

    def _header(self, reader: "csv._reader", window: LineWindow, encoding: str) -> list[str]:
        try:
            header = next(reader)
        except StopIteration:
            raise SourceReadError(f"{self.path}: the file is empty; expected a header row") from None
        except csv.Error as exc:
            raise SourceReadError(f"{self.path}: cannot read the header: {exc}") from None
        bad = undecodable(window.text(1, reader.line_num), encoding)
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

    @staticmethod
    def _odd_record(header: list[str], row: list[str], position: Position, text: str, encoding: str) -> RawRecord:
        """A row that may be blank, hold a bad byte or have the wrong number of fields."""
        if not text.strip():
            return RawRecord(position, {}, raw=text, skipped="blank line")
        bad = undecodable(text, encoding)
        if bad:
            return RawRecord(position, {}, error=bad, raw=as_read(text),
                             field=column_with_bad_bytes(dict(zip(header, row))))
        if len(row) != len(header):
            return RawRecord(position, {}, error=f"expected {len(header)} fields, found {len(row)}", raw=text)
        return RawRecord(position, dict(zip(header, row)), raw=text)
