import json
import threading

import pytest

from producers.demo_api import make_server
from producers.sources.csv import CsvSource
from producers.sources.http import HttpSource
from producers.sources.base import SourceReadError
from streammart.pipeline import Pagination


def test_csv_positions_are_physical_lines_and_bad_rows_are_flagged(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(b'\xef\xbb\xbfid,name,note\r\n1,a,"multi\nline"\r\n\r\n2,b\r\n3,c,x ')
    records = list(CsvSource(path).records())
    assert [r.position for r in records] == ["orders.csv:2", "orders.csv:5", "orders.csv:6"]
    assert records[0].data == {"id": "1", "name": "a", "note": "multi\nline"}
    assert records[1].error == "expected 3 fields, found 2"
    assert records[2].data["note"] == "x "  # trailing space before EOF, no final newline


def test_missing_file_is_a_read_error(tmp_path):
    with pytest.raises(SourceReadError, match="cannot read"):
        list(CsvSource(tmp_path / "nope.csv").records())


@pytest.fixture
def api(tmp_path):
    items = [{"customer_id": f"C{n}"} for n in range(7)] + ["not an object"]
    (tmp_path / "customers.json").write_text(json.dumps(items))
    server = make_server(tmp_path, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/customers"
    server.shutdown()
    server.server_close()


def test_http_source_walks_every_page(api):
    records = list(HttpSource(api, Pagination(page_size=3)).records())
    assert [r.data.get("customer_id") for r in records[:7]] == [f"C{n}" for n in range(7)]
    assert records[3].position.endswith("?page=2#0")
    assert records[7].error == "item is str, not an object"
    assert HttpSource(api, Pagination(page_size=3)).total_hint() == 8


def test_http_source_unknown_collection_is_a_read_error(api):
    with pytest.raises(SourceReadError, match="404"):
        list(HttpSource(api.replace("customers", "nothing"), Pagination(), attempts=1).records())


def test_json_array_keeps_lines_tolerates_trailing_comma_and_survives_a_broken_element(tmp_path):
    from producers.sources.json import JsonArraySource

    path = tmp_path / "pubmed.json"
    path.write_text('[\n  {"id": 1, "title": "a"},\n  {"id": "2",\n   "title": "b"},\n'
                    '  {"id": 3, "title": oops},\n  {"id": 4, "title": "d"},\n  7,\n]\n')
    records = list(JsonArraySource(path).records())
    assert [r.position for r in records] == ["pubmed.json:2", "pubmed.json:3", "pubmed.json:5",
                                             "pubmed.json:6", "pubmed.json:7"]
    assert records[1].data == {"id": "2", "title": "b"}
    assert records[2].error.startswith("broken JSON: Expecting value")
    assert records[3].data["id"] == 4
    assert records[4].error == "item is int, not an object"


def test_json_that_is_not_an_array_or_not_closed_is_a_read_error(tmp_path):
    from producers.sources.json import JsonArraySource

    (tmp_path / "a.json").write_text('{"id": 1}')
    (tmp_path / "b.json").write_text('[{"id": 1},')
    with pytest.raises(SourceReadError, match="expected a JSON array"):
        list(JsonArraySource(tmp_path / "a.json").records())
    with pytest.raises(SourceReadError, match="not closed"):
        list(JsonArraySource(tmp_path / "b.json").records())


def test_ndjson_lines_and_globbed_files(tmp_path):
    from producers.sources import open_source
    from streammart.pipeline import SourceConfig

    (tmp_path / "m1.ndjson").write_text('{"id": 1}\n\n{"id": 2\n')
    (tmp_path / "m2.ndjson").write_text('{"id": 3}')
    config = SourceConfig.model_validate({
        "name": "movies", "domain": "movies", "entity": "titles", "schema": "retail.orders.v1",
        "format": "ndjson", "path": str(tmp_path / "m*.ndjson"), "key": ["order_id"]})
    records = list(open_source(config).records())
    assert [(r.position, r.data, bool(r.error)) for r in records] == [
        ("m1.ndjson:1", {"id": 1}, False), ("m1.ndjson:3", {}, True), ("m2.ndjson:1", {"id": 3}, False)]
