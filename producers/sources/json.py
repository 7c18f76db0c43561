"""JSON sources: an array of records (at the top or at a path inside an object),
one record per file, or newline-delimited JSON (one object a line).

Arrays are decoded element by element, so every record keeps the line it starts
on, a trailing comma before ``]`` is tolerated (a common hand-edit), and one
broken element becomes a reject instead of failing the whole file. A file that
ends before its array closes, or holds more after it, is broken as a whole:
the source fails, after the records before the break are counted.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from producers.sources.base import Position, RawRecord, SourceReadError
from producers.sources.text import (as_read, column_with_bad_bytes, decode, open_file, read_bytes, read_descriptor,
                                    undecodable)

_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"\s*")
_NEXT_OBJECT = re.compile(r"\n\s*\{")


def _line(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


class _LineCounter:
    """Line numbers of positions met in order: counts only the newlines since the last one.

    Counting from the start of the text for every record made reading a big array
    quadratic (a 5 MB array of 2,000 records spent 10 s counting newlines).
    """

    def __init__(self, text: str):
        self.text = text
        self.index = 0
        self.line = 1

    def at(self, index: int) -> int:
        if index < self.index:
            return _line(self.text, index)
        self.line += self.text.count("\n", self.index, index)
        self.index = index
        return self.line


class JsonFile:
    """A JSON file read whole (counting its records up front would mean parsing it twice)."""

    def __init__(self, path: Path, encoding: str = "utf-8"):
        self.path = Path(path)
        self.encoding = encoding
        self.encoding_used = encoding
        self._read_ahead: int | SourceReadError | None = None  # a descriptor opened by read_ahead, or its failure

    def total_hint(self) -> int | None:
        return None

    def text(self) -> str:
        ahead, self._read_ahead = self._read_ahead, None
        if isinstance(ahead, SourceReadError):
            raise ahead
        data = read_bytes(self.path) if ahead is None else read_descriptor(ahead, self.path)
        text, self.encoding_used = decode(data, self.encoding)
        return text

    def record(self, line: int, item: Any, raw: str) -> RawRecord:
        """One decoded item as a record, or as a reject when it is not an object or holds bad bytes."""
        position = Position(self.path.name, line=line)
        bad = undecodable(raw, self.encoding_used)
        if bad:
            field = column_with_bad_bytes(item) if isinstance(item, dict) else None
            return RawRecord(position, {}, error=bad, raw=as_read(raw), field=field)
        if isinstance(item, dict):
            return RawRecord(position, item, raw=raw)
        return RawRecord(position, {}, error=f"item is {type(item).__name__}, not an object", raw=raw)

    def broken(self, line: int, exc: json.JSONDecodeError, raw: str) -> RawRecord:
        reason = undecodable(raw, self.encoding_used) or f"broken JSON: {exc.msg} (line {exc.lineno} col {exc.colno})"
        return RawRecord(Position(self.path.name, line=line), {}, error=reason, raw=as_read(raw))

    def fail(self, text: str, index: int, what: str) -> SourceReadError:
        return SourceReadError(f"{self.path}:{_line(text, index)}: {what}")


class JsonArraySource(JsonFile):
    """An array of records: the whole document, or the value at ``records_path`` inside it."""

    def __init__(self, path: Path, encoding: str = "utf-8", records_path: str | None = None):
        super().__init__(path, encoding)
        self.records_path = records_path.split(".") if records_path else []

    def records(self) -> Iterator[RawRecord]:
        text = self.text()
        index = _WHITESPACE.match(text).end()
        if index == len(text):
            return
        for key in self.records_path:
            index = self._value_of(text, index, key)
        if text[index] != "[":
            expected = f"an array at {'.'.join(self.records_path)}" if self.records_path else "a JSON array"
            hint = "" if self.records_path or text[index] != "{" else " (set records_path, or record_per_file)"
            raise self.fail(text, index, f"expected {expected}, found {text[index]!r}{hint}")
        end = yield from self._elements(text, index + 1)
        rest = _WHITESPACE.match(text, end).end()
        if not self.records_path and rest < len(text):
            raise self.fail(text, rest, "more data after the array's closing ]")

    def _value_of(self, text: str, index: int, key: str) -> int:
        """Where the value of ``key`` starts, in the object starting at ``index``."""
        if index >= len(text) or text[index] != "{":
            raise self.fail(text, index, f"expected an object holding {key!r} (records_path)")
        index += 1
        while True:
            index = _WHITESPACE.match(text, index).end()
            try:
                if text[index] == "}":
                    raise self.fail(text, index, f"no key {key!r} in this object (records_path)")
                name, index = _DECODER.raw_decode(text, index)
                index = _WHITESPACE.match(text, index).end()
                if text[index] != ":":
                    raise self.fail(text, index, "broken JSON: expected ':' after a key")
                index = _WHITESPACE.match(text, index + 1).end()
                if name == key:
                    return index
                _, index = _DECODER.raw_decode(text, index)
            except json.JSONDecodeError as exc:
                raise self.fail(text, exc.pos, f"broken JSON before the records: {exc.msg}") from None
            except IndexError:
                raise self.fail(text, len(text), "the file ends inside an object") from None
            index = _WHITESPACE.match(text, index).end()
            if index < len(text) and text[index] == ",":
                index += 1

    def _elements(self, text: str, index: int) -> Iterator[RawRecord]:
        """Yields the array's records; returns the index after its closing ``]``."""
        lines = _LineCounter(text)
        while True:
            index = _WHITESPACE.match(text, index).end()
            if index >= len(text):
                raise self.fail(text, len(text), "the array is not closed (the file ends first)")
            if text[index] == "]":
                return index + 1
            line = lines.at(index)
            try:
                item, end = _DECODER.raw_decode(text, index)
            except json.JSONDecodeError as exc:
                resume = _NEXT_OBJECT.search(text, exc.pos)
                stop = resume.start() if resume else len(text)
                raw = text[index:stop].rstrip()
                closed = resume is None and raw.endswith("]")
                yield self.broken(line, exc, raw.removesuffix("]").rstrip().removesuffix(",") if closed else raw)
                if resume is None:
                    if closed:
                        return len(text)
                    raise self.fail(text, len(text), "the array is not closed (the file ends first)")
                index = resume.start() + 1
                continue
            yield self.record(line, item, text[index:end])
            index = _WHITESPACE.match(text, end).end()
            if index < len(text) and text[index] == ",":
                index += 1


class JsonObjectSource(JsonFile):
    """One record per file: the file holds a single JSON object."""

    def total_hint(self) -> int | None:
        return 1

    def read_ahead(self) -> None:
        """Open the file and have the kernel read it in the background; a failure is raised at its records."""
        try:
            self._read_ahead = open_file(self.path, ahead=True)
        except SourceReadError as exc:
            self._read_ahead = exc

    def forget_read_ahead(self) -> None:
        """Close what ``read_ahead`` opened, when its records will not be read (a run stopped early)."""
        ahead, self._read_ahead = self._read_ahead, None
        if isinstance(ahead, int):
            os.close(ahead)

    def records(self) -> Iterator[RawRecord]:
        text = self.text()
        start = _WHITESPACE.match(text).end()
        if start == len(text):
            yield RawRecord(Position(self.path.name, line=1), {}, error="empty file: no JSON object", raw=text)
            return
        line = _line(text, start)
        try:
            item, end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            yield self.broken(line, exc, text)
            return
        rest = _WHITESPACE.match(text, end).end()
        if rest < len(text):
            yield RawRecord(Position(self.path.name, line=line), {}, raw=as_read(text),
                            error=f"more data after the object (line {_line(text, rest)})")
            return
        yield self.record(line, item, text[start:end])


class NdjsonSource(JsonFile):
    """One JSON object a line. Lines end at ``\\n`` only: JSON text may hold U+2028 and friends."""

    def records(self) -> Iterator[RawRecord]:
        lines = self.text().split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the final line ending
        for number, line in enumerate(lines, start=1):
            line = line.removesuffix("\r")
            if not line.strip():
                yield RawRecord(Position(self.path.name, line=number), {}, raw=line, skipped="blank line")
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                yield self.broken(number, exc, line)
                continue
            yield self.record(number, item, line)
