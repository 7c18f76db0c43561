"""What every source reader yields, and how a config entry picks its reader."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
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


def open_source(config: "SourceConfig") -> Source:
    from producers.sources.csv import CsvSource
    from producers.sources.http import HttpSource

    if config.format == "csv":
        return CsvSource(config.path, encoding=config.encoding)
    if config.format == "http":
        return HttpSource(config.url, config.pagination)
    raise SourceReadError(f"source {config.name!r}: format {config.format!r} is not supported yet")
