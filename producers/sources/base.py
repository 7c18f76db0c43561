"""What every source reader yields, and how a config entry picks its reader."""
from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from producers.sources.csv import HeaderCheck
    from streammart.pipeline import SourceConfig


class SourceReadError(RuntimeError):
    """The input as a whole cannot be read (missing file, API down, broken structure): the source fails."""


class Position(NamedTuple):
    """Where a person finds a record again: a file and line, or a URL, page and item index.

    ``page`` is the page number, or for cursor pagination the cursor that fetched it.
    A named tuple, like RawRecord: one is made per record read, and a tuple is
    made several times faster than a frozen dataclass.
    """

    where: str
    line: int | None = None
    page: int | str | None = None
    index: int | None = None

    def __str__(self) -> str:
        if self.page is None:
            return f"{self.where}:{self.line}" if self.line is not None else self.where
        text = f"{self.where} page {self.page}"
        return f"{text} #{self.index}" if self.index is not None else text

    def as_dict(self) -> dict[str, Any]:
        """For the rejects file: ``file`` + ``line``, or ``url`` + ``page`` + ``index``."""
        if self.page is None:
            return {"file": self.where, "line": self.line}
        return {"url": self.where, "page": self.page, "index": self.index}


class RawRecord(NamedTuple):
    """One record as read, before validation.

    ``error`` is set when the reader itself could not make a record of it (a row
    with the wrong number of fields, broken JSON, bytes not in the file's
    encoding): it becomes a reject. ``skipped`` is set for input that holds no
    record (a blank line): it is counted and reported, never produced.
    ``raw`` is the record's text exactly as read, for the rejects file.
    """

    position: Position
    data: dict[str, Any]
    error: str | None = None
    raw: str | None = None
    skipped: str | None = None
    field: str | None = None  # the source column an ``error`` is in, when the reader knows it


class Source(Protocol):
    def records(self) -> Iterator[RawRecord]: ...

    def total_hint(self) -> int | None:
        """Expected record count for the progress bar, when cheap to know."""
        ...


def records_at(document: Any, path: str | None) -> Any:
    """The value at a dotted ``path`` (``results`` or ``payload.items``) of a parsed JSON document.

    Raises KeyError naming the first key that is missing or not an object.
    """
    if not path:
        return document
    value = document
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise KeyError(key)
        value = value[key]
    return value


class ReadAhead(Protocol):
    """A small file's reader that can have its bytes fetched before its records are asked for."""

    def read_ahead(self) -> None: ...

    def forget_read_ahead(self) -> None: ...

    def records(self) -> Iterator[RawRecord]: ...


class MultiFileSource:
    """One reader per file, in name order: ``path`` may be a glob such as ``data/movies/*.json``.

    Thousands of one-record files spend as long opening files as parsing them:
    when every reader can read ahead, the next files are opened and the kernel
    reads their bytes in the background while the records of the current one
    are parsed and published. Records still come in name order, each file's
    failure at its turn.
    """

    READ_AHEAD_FILES = 64

    def __init__(self, sources: list[Source]):
        self.sources = sources

    def total_hint(self) -> int | None:
        hints = [s.total_hint() for s in self.sources]
        return None if None in hints else sum(hints)

    def records(self) -> Iterator[RawRecord]:
        if not all(hasattr(s, "read_ahead") for s in self.sources):  # a file of many records: no need
            for source in self.sources:
                yield from source.records()
            return
        upcoming: Iterator[ReadAhead] = iter(self.sources)  # type: ignore[arg-type]
        ahead: deque[ReadAhead] = deque()
        source = None
        try:
            for source in islice(upcoming, self.READ_AHEAD_FILES):
                source.read_ahead()
                ahead.append(source)
            while ahead:
                source = ahead.popleft()
                following = next(upcoming, None)
                if following is not None:
                    following.read_ahead()
                    ahead.append(following)
                yield from source.records()
        finally:
            for unread in (source, *ahead) if source is not None else ahead:
                unread.forget_read_ahead()


def _file_source(config: "SourceConfig", path: Path, check_header: "HeaderCheck | None") -> Source:
    from producers.sources.csv import CsvSource
    from producers.sources.json import JsonArraySource, JsonObjectSource, NdjsonSource

    if config.format == "csv":
        return CsvSource(path, config.encoding, config.delimiter, config.quotechar, check_header)
    if config.format == "ndjson":
        return NdjsonSource(path, config.encoding)
    if config.record_per_file:
        return JsonObjectSource(path, config.encoding)
    return JsonArraySource(path, config.encoding, config.records_path)


def open_source(config: "SourceConfig", check_header: "HeaderCheck | None" = None) -> Source:
    """The reader for a configured source; ``check_header`` vets each CSV file's header before its rows."""
    from producers.sources.http import HttpSource

    if config.format == "http":
        return HttpSource(config.url, config.pagination, config.records_path)
    if not any(ch in str(config.path) for ch in "*?["):
        return _file_source(config, config.path, check_header)
    files = sorted(config.path.parent.glob(config.path.name), key=lambda p: p.name)
    if not files:
        raise SourceReadError(f"source {config.name!r}: no file matches {config.path}")
    return MultiFileSource([_file_source(config, f, check_header) for f in files])
