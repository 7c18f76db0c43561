"""A tiny paginated JSON API over the sample collections, for the demo and tests.

Every ``*.json`` array in the served folders is a collection, ``GET /api/<file stem>``:

- numbered pages: ``?page=N&per_page=M``;
- a cursor: the first request without ``cursor``, then ``?cursor=<next_cursor>&per_page=M``;
- ``?updated_since=<ISO 8601>``: only records whose ``updated_at`` is at or after it, in the
  file's order (the samples list records by ``updated_at``), as an incremental poll asks.

The answer is ``{"data": [...], "page", "per_page", "total", "next_cursor"}``, with
``next_cursor`` null on the last page. A file changed on disk is served anew from the next
request on, so tests and demos can make the API "move on". ``GET /health`` → ``ok``.
Loopback only.
"""
from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterable
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

log = logging.getLogger(__name__)
MAX_PAGE_SIZE = 1000


class BadRequest(ValueError):
    """A query the API refuses with 400."""


def page_of(records: list, page: int, per_page: int) -> dict:
    start = (page - 1) * per_page
    return {"data": records[start:start + per_page], "page": page, "per_page": per_page, "total": len(records)}


def slice_of(records: list, start: int, per_page: int) -> dict:
    """Records from ``start`` on, as a page with the cursor of the next one (null after the last)."""
    end = start + per_page
    return page_of(records[start:], 1, per_page) | {"page": start // per_page + 1, "total": len(records),
                                                    "next_cursor": encode_cursor(end) if end < len(records) else None}


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        kind, _, offset = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "offset" and int(offset) >= 0:
            return int(offset)
    except ValueError:
        pass
    raise BadRequest(f"unknown cursor {cursor!r}")


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def updated_since(records: list, since: str) -> list:
    """Records updated at or after ``since`` (records without a readable ``updated_at`` are kept:
    an incremental client must see them to reject them)."""
    try:
        bound = _instant(since)
    except ValueError:
        raise BadRequest(f"updated_since is not an ISO 8601 timestamp: {since!r}") from None

    def recent(record: object) -> bool:
        try:
            return _instant(record["updated_at"]) >= bound
        except (TypeError, KeyError, ValueError):
            return True
    return [r for r in records if recent(r)]


def answer(records: list, query: dict[str, list[str]]) -> dict:
    """The response to one collection request (see the module's docstring)."""
    try:
        per_page = int(query.get("per_page", ["100"])[0])
        page = int(query.get("page", ["1"])[0])
    except ValueError:
        raise BadRequest("page and per_page are whole numbers") from None
    if page < 1 or not 1 <= per_page <= MAX_PAGE_SIZE:
        raise BadRequest(f"page >= 1, 1 <= per_page <= {MAX_PAGE_SIZE}")
    if "updated_since" in query:
        records = updated_since(records, query["updated_since"][0])
    start = decode_cursor(query["cursor"][0]) if "cursor" in query else (page - 1) * per_page
    return slice_of(records, start, per_page)


class Collections:
    """The ``*.json`` arrays of some folders by file stem, re-read when a file changes."""

    def __init__(self, folders: Iterable[Path]):
        self.paths: dict[str, Path] = {}
        for folder in folders:
            for path in sorted(Path(folder).glob("*.json")):
                if path.stem in self.paths:
                    raise ValueError(f"two collections named {path.stem!r}: {self.paths[path.stem]} and {path}")
                self.paths[path.stem] = path
        self._loaded: dict[str, tuple[int, list]] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return list(self.paths)

    def get(self, name: str) -> list | None:
        path = self.paths.get(name)
        if path is None:
            return None
        stamp = path.stat().st_mtime_ns
        with self._lock:
            loaded = self._loaded.get(name)
            if loaded is None or loaded[0] != stamp:
                loaded = (stamp, json.loads(path.read_text(encoding="utf-8")))
                self._loaded[name] = loaded
            return loaded[1]


def make_handler(collections: Collections) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: HTTPStatus, body: object) -> None:
            payload = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            url = urlparse(self.path)
            if url.path == "/health":
                return self._send(HTTPStatus.OK, "ok")
            records = collections.get(url.path.removeprefix("/api/"))
            if records is None:
                return self._send(HTTPStatus.NOT_FOUND, {"error": f"no collection {url.path}"})
            try:
                return self._send(HTTPStatus.OK, answer(records, parse_qs(url.query)))
            except BadRequest as exc:
                return self._send(HTTPStatus.BAD_REQUEST, {"error": str(exc)})

        def log_message(self, fmt: str, *args) -> None:
            log.debug(fmt, *args)

    return Handler


def make_server(data_dirs: Path | Iterable[Path], port: int) -> ThreadingHTTPServer:
    folders = [data_dirs] if isinstance(data_dirs, Path) else list(data_dirs)
    return ThreadingHTTPServer(("127.0.0.1", port), make_handler(Collections(folders)))


def serve(data_dirs: Iterable[Path], port: int) -> None:
    folders = list(data_dirs)
    server = make_server(folders, port)
    logging.getLogger().info("serving %s on http://127.0.0.1:%d/api/", folders, port)
    print(f"demo API on http://127.0.0.1:{port}/api/ ({', '.join(Collections(folders).names())})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
