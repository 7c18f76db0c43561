"""A tiny paginated JSON API over the sample customers, for the demo and tests.

``GET /api/customers?page=N&per_page=M`` → ``{"data": [...], "page", "per_page",
"total"}``; ``GET /health`` → ``ok``. Loopback only.
"""
from __future__ import annotations

import json
import logging
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

log = logging.getLogger(__name__)
MAX_PAGE_SIZE = 1000


def page_of(records: list, page: int, per_page: int) -> dict:
    start = (page - 1) * per_page
    return {"data": records[start:start + per_page], "page": page, "per_page": per_page, "total": len(records)}


def make_handler(collections: dict[str, list]) -> type[BaseHTTPRequestHandler]:
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
            name = url.path.removeprefix("/api/")
            if name not in collections:
                return self._send(HTTPStatus.NOT_FOUND, {"error": f"no collection {url.path}"})
            query = parse_qs(url.query)
            try:
                page = int(query.get("page", ["1"])[0])
                per_page = int(query.get("per_page", ["100"])[0])
            except ValueError:
                return self._send(HTTPStatus.BAD_REQUEST, {"error": "page and per_page are whole numbers"})
            if page < 1 or not 1 <= per_page <= MAX_PAGE_SIZE:
                return self._send(HTTPStatus.BAD_REQUEST, {"error": f"page >= 1, 1 <= per_page <= {MAX_PAGE_SIZE}"})
            return self._send(HTTPStatus.OK, page_of(collections[name], page, per_page))

        def log_message(self, fmt: str, *args) -> None:
            log.debug(fmt, *args)

    return Handler


def load_collections(data_dir: Path) -> dict[str, list]:
    """Every ``*.json`` array in ``data_dir`` becomes ``/api/<file stem>``."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(data_dir.glob("*.json"))}


def make_server(data_dir: Path, port: int) -> ThreadingHTTPServer:
    return ThreadingHTTPServer(("127.0.0.1", port), make_handler(load_collections(data_dir)))


def serve(data_dir: Path, port: int) -> None:
    server = make_server(data_dir, port)
    logging.getLogger().info("serving %s on http://127.0.0.1:%d/api/", data_dir, port)
    print(f"demo API on http://127.0.0.1:{port}/api/ ({', '.join(load_collections(data_dir))})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
