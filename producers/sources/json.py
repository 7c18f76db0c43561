"""JSON sources: a top-level array, or newline-delimited JSON (one object a line).

Arrays are decoded element by element, so every record keeps the line it starts
on, a trailing comma before ``]`` is tolerated (a common hand-edit), and one
broken element becomes a reject instead of failing the whole file.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from producers.sources.base import RawRecord, SourceReadError

_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"\s*")
_NEXT_OBJECT = re.compile(r"\n\s*\{")


def _record(position: str, item: Any, raw: str) -> RawRecord:
    if isinstance(item, dict):
        return RawRecord(position, item, raw=raw)
    return RawRecord(position, {}, error=f"item is {type(item).__name__}, not an object", raw=raw)


def _read(path: Path, encoding: str) -> str:
    try:
        return path.read_text(encoding=encoding)
    except OSError as exc:
        raise SourceReadError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise SourceReadError(f"{path} is not {encoding} text: {exc.reason} at byte {exc.start}") from None


class JsonFile:
    """A JSON file read whole (counting its records up front would mean parsing it twice)."""

    def __init__(self, path: Path, encoding: str = "utf-8-sig"):
        self.path = Path(path)
        self.encoding = encoding

    def total_hint(self) -> int | None:
        return None

    def text(self) -> str:
        return _read(self.path, self.encoding)


class JsonArraySource(JsonFile):
    def records(self) -> Iterator[RawRecord]:
        text = self.text()
        index = _WHITESPACE.match(text).end()
        if index == len(text):
            return
        if text[index] != "[":
            raise SourceReadError(f"{self.path}: expected a JSON array, found {text[index]!r} at line "
                                  f"{text.count(chr(10), 0, index) + 1}")
        index += 1
        while True:
            index = _WHITESPACE.match(text, index).end()
            if index >= len(text):
                raise SourceReadError(f"{self.path}: the array is not closed (file ends at line "
                                      f"{text.count(chr(10)) + 1})")
            if text[index] == "]":
                return
            line = text.count("\n", 0, index) + 1
            position = f"{self.path.name}:{line}"
            try:
                item, end = _DECODER.raw_decode(text, index)
            except json.JSONDecodeError as exc:
                resume = _NEXT_OBJECT.search(text, exc.pos)
                yield RawRecord(position, {}, error=f"broken JSON: {exc.msg} (line {exc.lineno} col {exc.colno})",
                                raw=text[index:exc.pos + 1])
                if resume is None:
                    return
                index = resume.start() + 1
                continue
            yield _record(position, item, text[index:end])
            index = _WHITESPACE.match(text, end).end()
            if index < len(text) and text[index] == ",":
                index += 1


class NdjsonSource(JsonFile):
    def records(self) -> Iterator[RawRecord]:
        for number, line in enumerate(self.text().splitlines(), start=1):
            if not line.strip():
                continue
            position = f"{self.path.name}:{number}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                yield RawRecord(position, {}, error=f"broken JSON: {exc.msg} (col {exc.colno})", raw=line)
                continue
            yield _record(position, item, line)
