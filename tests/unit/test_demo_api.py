"""The demo API: numbered pages and cursors over one listing, the ``updated_since`` filter,
collections from several folders, and a file changed on disk served anew."""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from producers.demo_api import Collections, make_server
from producers.sources.http import HttpSource
from streammart.pipeline import Pagination

CURSOR = Pagination(style="cursor", next_cursor_path="next_cursor", page_size=4)


def versions(n: int) -> list[dict]:
    return [{"id": i, "updated_at": f"2024-06-{i + 1:02d}T10:00:00Z"} for i in range(n)]


@pytest.fixture
def serve(tmp_path) -> Iterator[Callable[..., str]]:
    servers = []

    def start(*folders: Path) -> str:
        server = make_server(list(folders) or [tmp_path], 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/api"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def write(folder: Path, name: str, records: list) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(records))
    return path


def test_a_cursor_walk_reads_every_record_once(tmp_path, serve):
    write(tmp_path, "appointments", versions(10))
    records = list(HttpSource(f"{serve()}/appointments", CURSOR, records_path="data").records())
    assert [r.data["id"] for r in records] == list(range(10))
    assert len({r.position.page for r in records}) == 3


def test_the_last_page_says_there_is_no_next_cursor(tmp_path, serve):
    write(tmp_path, "appointments", versions(3))
    body = requests.get(f"{serve()}/appointments", params={"per_page": 5}, timeout=5).json()
    assert body["next_cursor"] is None and body["total"] == 3


def test_updated_since_keeps_records_updated_at_or_after_it(tmp_path, serve):
    write(tmp_path, "appointments", versions(10) + [{"id": "bad", "updated_at": "soon"}])
    pagination = CURSOR.model_copy(update={"params": {"updated_since": "2024-06-08T10:00:00+00:00"}})
    records = list(HttpSource(f"{serve()}/appointments", pagination, records_path="data").records())
    assert [r.data["id"] for r in records] == [7, 8, 9, "bad"]


@pytest.mark.parametrize("query", [{"updated_since": "yesterday"}, {"cursor": "bm9wZQ=="}, {"per_page": "0"}])
def test_a_query_it_cannot_answer_is_a_400(tmp_path, serve, query):
    write(tmp_path, "appointments", versions(3))
    response = requests.get(f"{serve()}/appointments", params=query, timeout=5)
    assert response.status_code == 400 and response.json()["error"]


def test_collections_of_several_folders_are_served_side_by_side(tmp_path, serve):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write(tmp_path / "a", "customers", versions(2))
    write(tmp_path / "b", "appointments", versions(5))
    api = serve(tmp_path / "a", tmp_path / "b")
    assert requests.get(f"{api}/customers", timeout=5).json()["total"] == 2
    assert requests.get(f"{api}/appointments", timeout=5).json()["total"] == 5


def test_two_folders_with_the_same_collection_are_refused(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        write(tmp_path / folder, "customers", [])
    with pytest.raises(ValueError, match="two collections named 'customers'"):
        Collections([tmp_path / "a", tmp_path / "b"])


def test_a_file_changed_on_disk_is_served_anew(tmp_path, serve):
    path = write(tmp_path, "appointments", versions(2))
    api = serve()
    assert requests.get(f"{api}/appointments", timeout=5).json()["total"] == 2
    write(tmp_path, "appointments", versions(3))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert requests.get(f"{api}/appointments", timeout=5).json()["total"] == 3
