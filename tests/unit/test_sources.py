import json
import threading

import pytest

from producers.demo_api import make_server
from producers.sources.http import HttpSource
from producers.sources.base import SourceReadError
from streammart.pipeline import Pagination


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


