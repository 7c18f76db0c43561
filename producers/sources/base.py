"""What every source reader yields, and how a config entry picks its reader."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from streammart.pipeline import SourceConfig


class SourceReadError(RuntimeError):
    """The input as a whole cannot be read (missing file, API down): the run stops."""


@dataclass(frozen=True)
class RawRecord:
    """One record as read, before validation.

    ``position`` is where a person finds it again (``orders.csv:42`` or
    ``…/customers?page=3#7``); ``error`` is set when the reader itself could not
    make a record of it (a row with the wrong number of fields, broken JSON).
    """

    position: str
    data: dict[str, Any]
    error: str | None = None
    raw: str | None = None


class Source(Protocol):
    def records(self) -> Iterator[RawRecord]: ...

    def total_hint(self) -> int | None:
        """Expected record count for the progress bar, when cheap to know."""
        ...


class MultiFileSource:
    """One reader per file, in name order: ``path`` may be a glob such as ``data/movies/*.json``."""

    def __init__(self, sources: list[Source]):
        self.sources = sources

    def total_hint(self) -> int | None:
        hints = [s.total_hint() for s in self.sources]
        return None if None in hints else sum(hints)

    def records(self) -> Iterator[RawRecord]:
        for source in self.sources:
            yield from source.records()


def _file_source(format_: str, path: Path, encoding: str) -> Source:
    from producers.sources.csv import CsvSource
    from producers.sources.json import JsonArraySource, NdjsonSource

    readers = {"csv": CsvSource, "json": JsonArraySource, "ndjson": NdjsonSource}
    return readers[format_](path, encoding=encoding)


def open_source(config: "SourceConfig") -> Source:
    from producers.sources.http import HttpSource

    if config.format == "http":
        return HttpSource(config.url, config.pagination)
    if not any(ch in str(config.path) for ch in "*?["):
        return _file_source(config.format, config.path, config.encoding)
    files = sorted(config.path.parent.glob(config.path.name))
    if not files:
        raise SourceReadError(f"source {config.name!r}: no file matches {config.path}")
    return MultiFileSource([_file_source(config.format, f, config.encoding) for f in files])
