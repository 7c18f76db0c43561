"""The dashboard's page registry and server, without Postgres: pages are found by module, each
has its template and script, and a database that does not answer is a message, not a traceback."""
from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from dashboard.pages import Page, pages
from dashboard.server import HERE, PLOTLY_JS, create_app
from streammart.settings import PROJECT_ROOT, Settings


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def client(closed_port: int, tmp_path: Path) -> TestClient:
    settings = Settings(home=tmp_path, pg_port=closed_port, pg_reader_password="unused")
    return TestClient(create_app(settings), follow_redirects=False)


def test_pages_are_found_by_module_retail_first() -> None:
    domains = [p.domain for p in pages()]
    assert domains[0] == "retail"
    assert len(domains) == len(set(domains))
    modules = sorted(p.stem for p in (HERE / "pages").glob("*.py") if not p.stem.startswith("_"))
    assert sorted(domains) == modules


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.domain)
def test_each_page_has_its_template_and_script(page: Page) -> None:
    template = (HERE / "templates" / f"{page.domain}.html").read_text()
    assert '{% extends "layout.html" %}' in template
    assert "Dashboard.start(" in (HERE / "static" / f"{page.domain}.js").read_text()


def _dashboard_exposures() -> dict[str, set[str]]:
    """Page path → the names its dbt exposure depends on."""
    found = {}
    for path in (PROJECT_ROOT / "dbt" / "models").rglob("*.yml"):
        for exposure in (yaml.safe_load(path.read_text()) or {}).get("exposures", []):
            if exposure.get("type") == "dashboard" and exposure.get("url"):
                refs = {re.fullmatch(r"ref\('([^']+)'\)", d).group(1) for d in exposure["depends_on"]}
                found[exposure["url"].rsplit("/", 1)[-1]] = refs
    return found


@pytest.mark.parametrize("page", [p for p in pages() if p.marts], ids=lambda p: p.domain)
def test_each_page_reads_what_its_dbt_exposure_declares(page: Page) -> None:
    exposures = _dashboard_exposures()
    assert page.domain in exposures, f"no dbt exposure of type dashboard with url …/{page.domain}"
    assert {m.split(".")[1] for m in page.marts} == exposures[page.domain]


@pytest.mark.parametrize("domain, marts", [("Retail", ("marts.x",)), ("re-tail", ("marts.x",)),
                                           ("retail", ("fct_orders",))])
def test_a_page_needs_a_plain_domain_and_qualified_marts(domain: str, marts: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        Page(domain=domain, title="t", heading="h", marts=marts, overview=lambda conn: {})


def test_root_lands_on_the_first_page(client: TestClient) -> None:
    answer = client.get("/")
    assert answer.status_code == 307 and answer.headers["location"] == f"/{pages()[0].domain}"


def test_page_html_has_navigation_and_only_local_assets(client: TestClient) -> None:
    html = client.get("/retail").text
    for page in pages():
        assert f'href="/{page.domain}"' in html
    assert 'aria-current="page">Retail<' in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/vendor/plotly.min.js" in assets and "/static/retail.js" in assets
    assert all(a.startswith(("/", "data:")) for a in assets), assets


def test_plotly_is_served_from_the_installed_package(client: TestClient) -> None:
    answer = client.get("/vendor/plotly.min.js")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/javascript")
    assert answer.content == PLOTLY_JS.read_bytes() and b"plotly.js" in answer.content[:200]


def test_unknown_pages_are_a_404_with_navigation(client: TestClient) -> None:
    html = client.get("/no-such-domain")
    assert html.status_code == 404 and "/no-such-domain" in html.text and 'href="/retail"' in html.text
    api = client.get("/api/no-such-domain")
    assert api.status_code == 404 and "no-such-domain" in api.json()["detail"]


def test_postgres_down_is_a_message_not_a_traceback(client: TestClient, closed_port: int) -> None:
    answer = client.get("/api/retail")
    assert answer.status_code == 503
    body = answer.json()
    assert body["state"] == "unreachable" and body["data"] is None
    assert f"127.0.0.1:{closed_port}" in body["message"] and "Connection refused" in body["message"]
    assert "Traceback" not in answer.text
