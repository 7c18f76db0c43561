"""The HTTP source against real servers on loopback: every page once, no duplicate, no hang.

Each server answers from a small ``respond(query) -> Reply`` function and records the
query of every request it receives, so a test can count what the source really asked for.
"""
from __future__ import annotations

import gzip
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse

import pytest
from pydantic import ValidationError

from producers.demo_api import make_server, page_of
from producers.sources.base import Position, RawRecord, SourceReadError, open_source
from producers.sources.http import HttpSource
from streammart.pipeline import Pagination, SourceConfig


@dataclass
class Reply:
    body: object  # bytes are sent as they are, anything else as JSON
    status: int = 200
    drip: float | None = None  # seconds between two bytes of the body: a trickling server
    gzip_chunked: bool = False  # the body gzip-compressed and sent in chunks


Respond = Callable[[dict[str, str]], Reply]
POLL = 0.02  # how often a server checks for shutdown: keeps each teardown short


@dataclass
class Api:
    url: str
    queries: list[dict[str, str]]  # every request's query parameters, in arrival order


def _handler(respond: Respond, queries: list[dict[str, str]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real APIs do

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            query = dict(parse_qsl(urlparse(self.path).query))
            queries.append(query)
            reply = respond(query)
            payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            try:
                if reply.gzip_chunked:
                    self._send_gzip_chunked(payload)
                else:
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self._send(payload, reply.drip)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should with a trickling server

        def _send(self, payload: bytes, drip: float | None) -> None:
            if drip is None:
                self.wfile.write(payload)
                return
            for byte in payload:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(drip)

        def _send_gzip_chunked(self, payload: bytes) -> None:
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            packed = gzip.compress(payload)
            for start in range(0, len(packed), 7):
                chunk = packed[start:start + 7]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, fmt: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def serve() -> Iterator[Callable[[Respond], Api]]:
    servers: list[ThreadingHTTPServer] = []

    def start(respond: Respond) -> Api:
        queries: list[dict[str, str]] = []
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(respond, queries))
        server.block_on_close = False  # a kept-alive connection must not hold up the teardown
        threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True).start()
        servers.append(server)
        return Api(f"http://127.0.0.1:{server.server_address[1]}/items", queries)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def numbered(count: int) -> list[dict]:
    return [{"id": n} for n in range(count)]


def pages_of(records: list, first_page: int = 1) -> Respond:
    """A well-behaved page-numbered API, shaped like the demo API."""
    return lambda q: Reply(page_of(records, int(q["page"]) - first_page + 1, int(q["per_page"])))


def offsets_api(records: list, last: dict) -> Respond:
    """A cursor API whose cursor is the next offset (a number); ``last`` is the final page's ``meta``."""
    def respond(q: dict[str, str]) -> Reply:
        start, size = int(q.get("after", 0)), int(q["limit"])
        end = start + size
        meta = {"next": end} if end < len(records) else last
        return Reply({"results": records[start:end], "meta": meta})
    return respond


def read_until_error(source: HttpSource, limit: int = 100) -> tuple[list[RawRecord], SourceReadError | None]:
    """What the source yields before failing (at most ``limit`` records, so a runaway walk ends)."""
    records: list[RawRecord] = []
    try:
        records.extend(itertools.islice(source.records(), limit))
    except SourceReadError as exc:
        return records, exc
    return records, None


def ids(records: list[RawRecord]) -> list:
    return [r.data["id"] for r in records]


@pytest.fixture
def demo_api(tmp_path) -> Iterator[str]:
    items = [{"customer_id": f"C{n}"} for n in range(7)] + ["not an object"]
    (tmp_path / "customers.json").write_text(json.dumps(items))
    server = make_server(tmp_path, 0)
    threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/customers"
    server.shutdown()
    server.server_close()


def test_the_demo_api_is_walked_page_by_page_with_positions(demo_api):
    source = HttpSource(demo_api, Pagination(page_size=3), records_path="data")
    assert source.total_hint() == 8
    records = list(source.records())
    assert [r.data.get("customer_id") for r in records[:7]] == [f"C{n}" for n in range(7)]
    assert [r.position for r in records] == [Position(demo_api, page=p, index=i)
                                             for p, size in ((1, 3), (2, 3), (3, 2)) for i in range(size)]
    assert str(records[3].position) == f"{demo_api} page 2 #0"
    assert records[7].error == "item is str, not an object"


def test_a_configured_cursor_source_is_opened_and_walked(serve):
    api = serve(offsets_api(numbered(3), {"next": None}))
    config = SourceConfig.model_validate({
        "name": "orders_api", "domain": "retail", "entity": "orders", "schema": "retail.orders.v1", "format": "http",
        "url": api.url, "records_path": "results", "key": ["order_id"],
        "pagination": {"style": "cursor", "cursor_param": "after", "next_cursor_path": "meta.next",
                       "size_param": "limit", "page_size": 2, "params": {"region": "eu"}}})
    assert ids(list(open_source(config).records())) == [0, 1, 2]
    assert api.queries == [{"region": "eu", "limit": "2"}, {"region": "eu", "limit": "2", "after": "2"}]


def test_an_item_that_is_not_an_object_becomes_an_error_record(serve):
    api = serve(lambda q: Reply([{"id": 1}, "text", 7, None, [1, 2]]))
    records = list(HttpSource(api.url, Pagination(page_size=10), records_path=None).records())
    assert records[0].error is None and records[0].raw == '{"id": 1}'
    assert [(r.error, r.raw, r.data) for r in records[1:]] == [
        ("item is str, not an object", '"text"', {}),
        ("item is int, not an object", "7", {}),
        ("item is NoneType, not an object", "null", {}),
        ("item is list, not an object", "[1, 2]", {}),
    ]


def test_the_first_page_is_requested_once_although_total_hint_reads_it(serve):
    api = serve(pages_of(numbered(5)))
    source = HttpSource(api.url, Pagination(page_size=2), records_path="data")
    assert source.total_hint() == 5
    assert ids(list(source.records())) == [0, 1, 2, 3, 4]
    assert [q["page"] for q in api.queries] == ["1", "2", "3"]


def test_a_full_last_page_ends_at_the_empty_page_after_it_and_static_params_are_sent(serve):
    api = serve(pages_of(numbered(4), first_page=0))
    pagination = Pagination(page_size=2, first_page=0, params={"status": "active"})
    records = list(HttpSource(api.url, pagination, records_path="data").records())
    assert ids(records) == [0, 1, 2, 3]
    assert [r.position.page for r in records] == [0, 0, 1, 1]
    assert api.queries == [{"status": "active", "per_page": "2", "page": str(p)} for p in (0, 1, 2)]


@pytest.mark.parametrize("last", [{"next": None}, {"next": ""}, {}], ids=["null", "empty", "missing"])
def test_a_cursor_walk_follows_the_cursors_until_there_is_none(serve, last):
    api = serve(offsets_api(numbered(5), last))
    pagination = Pagination(style="cursor", cursor_param="after", next_cursor_path="meta.next",
                            size_param="limit", page_size=2)
    records = list(HttpSource(api.url, pagination, records_path="results").records())
    assert ids(records) == [0, 1, 2, 3, 4]
    assert [r.position for r in records] == [Position(api.url, page=p, index=i)
                                             for p, size in ((1, 2), ("2", 2), ("4", 1)) for i in range(size)]
    assert api.queries == [{"limit": "2"}, {"limit": "2", "after": "2"}, {"limit": "2", "after": "4"}]


def test_a_cursor_walk_ends_at_an_empty_page_even_if_it_names_a_cursor(serve):
    api = serve(lambda q: Reply({"items": numbered(2) if "cursor" not in q else [], "next": "more"}))
    pagination = Pagination(style="cursor", next_cursor_path="next", page_size=2)
    assert ids(list(HttpSource(api.url, pagination, records_path="items").records())) == [0, 1]
    assert len(api.queries) == 2


def test_a_full_page_without_the_cursor_key_fails_instead_of_ending_the_walk(serve):
    """A typo in next_cursor_path must not read page 1 and quietly drop every later page."""
    api = serve(offsets_api(numbered(5), {"next": None}))
    pagination = Pagination(style="cursor", cursor_param="after", next_cursor_path="meta.nxt",
                            size_param="limit", page_size=2)
    records, error = read_until_error(HttpSource(api.url, pagination, records_path="results"))
    assert ids(records) == [0, 1]
    assert "a full page without next_cursor_path 'meta.nxt' in the response (keys: results, meta)" in str(error)


def test_an_api_returning_the_same_page_for_ever_fails_before_any_duplicate(serve):
    api = serve(lambda q: Reply({"data": numbered(3)}))  # ignores ?page=
    records, error = read_until_error(HttpSource(api.url, Pagination(page_size=3), records_path="data"))
    assert ids(records) == [0, 1, 2]
    assert error is not None
    assert str(error) == f"{api.url} page 2 repeats page 1 (same 3 items): does the API ignore `page`?"
    assert len(api.queries) == 2


def test_a_page_repeating_an_older_page_fails_too(serve):
    api = serve(lambda q: Reply({"data": [{"id": int(q["page"]) % 2, "n": n} for n in range(2)]}))
    records, error = read_until_error(HttpSource(api.url, Pagination(page_size=2), records_path="data"))
    assert len(records) == 4
    assert "page 3 repeats page 1 (same 2 items)" in str(error)


def test_a_cursor_that_comes_back_fails_before_its_page_is_fetched_again(serve):
    chain = {None: ("a", 0), "a": ("b", 2), "b": ("a", 4)}  # cursor → (next cursor, first id)

    def respond(q: dict[str, str]) -> Reply:
        following, first = chain[q.get("cursor")]
        return Reply({"data": [{"id": first}, {"id": first + 1}], "next": following})

    api = serve(respond)
    pagination = Pagination(style="cursor", next_cursor_path="next", page_size=2)
    records, error = read_until_error(HttpSource(api.url, pagination, records_path="data"))
    assert ids(records) == [0, 1, 2, 3, 4, 5]
    assert str(error) == (f"{api.url} page 3 (cursor 'b'): the next cursor 'a' was already used for "
                          f"page 2 (cursor 'a'): the API's cursors go round in a loop")
    assert len(api.queries) == 3


def test_more_pages_than_max_pages_fails_naming_the_setting(serve):
    api = serve(lambda q: Reply([{"id": (int(q["page"]), n)} for n in range(2)]))  # never ends
    source = HttpSource(api.url, Pagination(page_size=2, max_pages=3), records_path=None)
    records, error = read_until_error(source)
    assert len(records) == 6
    assert str(error) == (f"{api.url}: more than 3 pages (pagination.max_pages); raise it if the API really "
                          "has that many")
    assert len(api.queries) == 3


@pytest.mark.timeout(20)  # the read timeout alone would wait the whole 200 s the body takes, per attempt
def test_a_server_trickling_its_body_is_cut_off_at_the_deadline(serve):
    api = serve(lambda q: Reply({"data": numbered(100)}, drip=0.2))
    source = HttpSource(api.url, Pagination(request_timeout=1, attempts=2), records_path="data")
    started = time.monotonic()
    expected = r"page 1: the response took longer than pagination.request_timeout \(1 s\); tried 2 times$"
    with pytest.raises(SourceReadError, match=expected):
        list(source.records())
    assert time.monotonic() - started < 4  # two attempts of 1 s and one backoff
    assert len(api.queries) == 2


def test_503_and_429_are_retried_until_the_page_comes(serve):
    failures = iter([503, 429])

    def respond(q: dict[str, str]) -> Reply:
        status = next(failures, 200)
        return Reply(page_of(numbered(3), int(q["page"]), 10) if status == 200 else {"error": "busy"}, status)

    api = serve(respond)
    records = list(HttpSource(api.url, Pagination(page_size=10, attempts=3), records_path="data").records())
    assert ids(records) == [0, 1, 2]
    assert [q["page"] for q in api.queries] == ["1", "1", "1"]


@pytest.mark.parametrize(("status", "expected"), [(503, r"503 Server Error.*; tried 2 times$"),
                                                  (404, r"404 Client Error[^;]*$")], ids=["503", "404"])
def test_a_page_that_keeps_failing_fails_the_source_and_a_4xx_is_not_retried(serve, status, expected):
    api = serve(lambda q: Reply({"error": "no"}, status))
    with pytest.raises(SourceReadError, match=expected):
        list(HttpSource(api.url, Pagination(attempts=2), records_path="data").records())
    assert len(api.queries) == (2 if status == 503 else 1)


@pytest.mark.parametrize(("records_path", "message"), [
    (None, "page 1: the response is an object; set records_path to the key holding the records "
           "(keys: data, page, per_page, total)"),
    ("items", "page 1: records_path 'items' is not in the response (keys: data, page, per_page, total)"),
    ("total", "page 1: records_path 'total' holds int, not a list of records"),
], ids=["unset", "missing", "not-a-list"])
def test_records_not_where_records_path_says_is_a_clear_error(serve, records_path, message):
    api = serve(pages_of(numbered(3)))
    with pytest.raises(SourceReadError) as caught:
        list(HttpSource(api.url, Pagination(), records_path=records_path).records())
    assert str(caught.value) == f"{api.url} {message}"


@pytest.mark.parametrize(("body", "message"), [
    (b"<html>busy</html>", r"page 1: the response is not JSON \(.*\): b'<html>busy</html>'$"),
    ("busy", "page 1: the response is str, not a list of records$"),
], ids=["html", "json-text"])
def test_a_response_that_is_not_a_json_list_fails_the_source(serve, body, message):
    api = serve(lambda q: Reply(body))
    with pytest.raises(SourceReadError, match=message):
        list(HttpSource(api.url, Pagination(), records_path=None).records())


def test_a_gzip_body_sent_in_chunks_is_read_whole(serve):
    api = serve(lambda q: Reply({"data": numbered(50)}, gzip_chunked=True))
    records = list(HttpSource(api.url, Pagination(page_size=100), records_path="data").records())
    assert ids(records) == list(range(50))


@pytest.mark.parametrize(("settings", "message"), [
    ({"style": "cursor"}, "cursor pagination needs `next_cursor_path`"),
    ({"style": "cursor", "next_cursor_path": "next", "first_page": 0}, "first_page: only for style 'page'"),
    ({"cursor_param": "after"}, "cursor_param: only for style 'cursor'"),
    ({"params": {"per_page": "5"}}, "params per_page clash"),
    ({"items_field": "data"}, "Extra inputs are not permitted"),
    ({"request_timeout": 0}, "greater than 0"),
], ids=["cursor-without-path", "page-key-in-cursor-style", "cursor-key-in-page-style", "params-clash",
        "items_field-is-gone", "no-deadline"])
def test_pagination_settings_that_cannot_work_are_refused(settings, message):
    with pytest.raises(ValidationError, match=message):
        Pagination(**settings)
