"""CSV files: header row, any of CRLF / LF / CR endings, BOM tolerated."""
from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from producers.sources.base import RawRecord, SourceReadError


class CsvSource:
    def __init__(self, path: Path, encoding: str = "utf-8-sig"):
        self.path = Path(path)
        self.encoding = encoding

    def total_hint(self) -> int | None:
        try:
            with self.path.open("rb") as handle:
                return max(sum(1 for _ in handle) - 1, 0)
        except OSError:
            return None

    def records(self) -> Iterator[RawRecord]:
        try:
            handle = self.path.open(encoding=self.encoding, newline="")
        except OSError as exc:
            raise SourceReadError(f"cannot read {self.path}: {exc.strerror}") from None
        with handle:
            reader = csv.reader(handle, strict=False)
            try:
                header = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                raise SourceReadError(f"{self.path}: cannot read the header: {exc}") from None
            header = [h.strip() for h in header]
            line = reader.line_num
            while True:
                start = line + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except (csv.Error, UnicodeDecodeError) as exc:
                    line = reader.line_num
                    yield RawRecord(f"{self.path.name}:{start}", {}, error=f"unreadable row: {exc}")
                    continue
                line = reader.line_num
                position = f"{self.path.name}:{start}"
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    yield RawRecord(position, {}, error=f"expected {len(header)} fields, found {len(row)}",
                                    raw=",".join(row))
                    continue
                yield RawRecord(position, dict(zip(header, row)), raw=",".join(row))
