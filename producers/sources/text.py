"""Opening text files the way exports really come: any encoding, a byte-order mark, bad bytes.

Files are decoded with ``surrogateescape``: a byte that is not valid in the
encoding becomes a marker character instead of an exception, so reading goes
on and exactly the record holding it is rejected, at its real line. (A strict
decoder fails a whole 8 KB chunk, and with it about a hundred good rows.)
"""
from __future__ import annotations

import codecs
import os
import re
from pathlib import Path
from typing import Any, TextIO

from producers.sources.base import SourceReadError

# Longest first: the UTF-32LE mark begins with the UTF-16LE one.
_BYTE_ORDER_MARKS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _encoding_of(start: bytes, configured: str) -> str:
    for mark, encoding in _BYTE_ORDER_MARKS:
        if start.startswith(mark):
            return encoding
    return configured


def detect_encoding(path: Path, configured: str) -> str:
    """The configured encoding, unless the file starts with a byte-order mark, which then decides."""
    try:
        with path.open("rb") as handle:
            start = handle.read(4)
    except OSError as exc:
        raise SourceReadError(f"cannot read {path}: {exc.strerror}") from None
    return _encoding_of(start, configured)


def open_text(path: Path, configured: str) -> tuple[TextIO, str]:
    """The file as text (line endings kept as they are, bad bytes escaped) and the encoding used."""
    encoding = detect_encoding(path, configured)
    try:
        return path.open(encoding=encoding, errors="surrogateescape", newline=""), encoding
    except OSError as exc:
        raise SourceReadError(f"cannot read {path}: {exc.strerror}") from None


def read_bytes(path: Path) -> bytes:
    """The whole file's bytes, in one open."""
    return read_descriptor(open_file(path), path)


def open_file(path: Path, ahead: bool = False) -> int:
    """A descriptor open on ``path``; ``ahead``: the kernel is asked to read its bytes in the background now.

    Asking the kernel (``posix_fadvise``) reads files ahead without a thread:
    reader threads contend with parsing for the interpreter lock and made
    thousands of small files slower, not faster.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise SourceReadError(f"cannot read {path}: {exc.strerror}") from None
    if ahead and hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass  # only a hint
    return descriptor


def read_descriptor(descriptor: int, path: Path) -> bytes:
    """Everything left to read from ``descriptor`` (opened on ``path``), which is then closed."""
    chunks = []
    try:
        while chunk := os.read(descriptor, 1 << 20):
            chunks.append(chunk)
    except OSError as exc:
        raise SourceReadError(f"cannot read {path}: {exc.strerror}") from None
    finally:
        os.close(descriptor)
    return b"".join(chunks)


def decode(data: bytes, configured: str) -> tuple[str, str]:
    """A file's bytes as text (bad bytes escaped, line endings as they are) and the encoding used.

    A byte-order mark at the start decides the encoding and is not part of the text.
    """
    encoding = _encoding_of(data[:4], configured)
    return data.decode(encoding, errors="surrogateescape"), encoding


def undecodable(text: str, encoding: str) -> str | None:
    """Why ``text`` cannot be trusted (a byte not valid in ``encoding``), or None when it is clean."""
    match = _ESCAPED_BYTE.search(text)
    if match is None:
        return None
    line_start = text.rfind("\n", 0, match.start()) + 1
    byte = ord(match.group()) - 0xDC00
    count = len(_ESCAPED_BYTE.findall(text))
    more = f" (and {count - 1} more)" if count > 1 else ""
    return (f"byte 0x{byte:02x} at column {match.start() - line_start + 1} is not valid {encoding}{more}")


def has_bad_bytes(text: str) -> bool:
    """Whether ``text`` holds a byte that was not valid in its encoding."""
    return _ESCAPED_BYTE.search(text) is not None


def column_with_bad_bytes(values: dict[str, Any]) -> str | None:
    """The first column (or JSON key) whose text holds a byte not valid in the encoding."""
    return next((k for k, v in values.items() if isinstance(v, str) and _ESCAPED_BYTE.search(v)), None)


def as_read(text: str) -> str:
    """Text for a report: escaped bad bytes shown as ``\\xff`` instead of unprintable markers."""
    return _ESCAPED_BYTE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)
