"""Fixtures for the dashboard's browser tests: headless Chromium driven by Playwright, the
stack's dashboard and dashboards of a test's own, scratch databases, the retail marts built.

A domain's page test lives here as ``test_<domain>_page.py`` and uses these fixtures; its
screenshots (``browser.shoot``) are listed at the end of the run.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
from playwright.sync_api import BrowserContext, Page, sync_playwright
from psycopg import sql

from stack.pipeline_processes import dashboard_url
from streammart.dbt_cycle import run_cycle
from streammart.settings import Settings
from tests.integration.dashboard import browser
from tests.integration.dashboard.servers import DashboardServer, free_port


def pytest_terminal_summary(terminalreporter) -> None:
    if browser.written:
        terminalreporter.section("dashboard screenshots")
        terminalreporter.write_line(f"in {browser.SCREENSHOTS}/:")
        for path in browser.written:
            terminalreporter.write_line(f"  {path.name}")


@pytest.fixture(scope="module")
def chromium(tmp_path_factory) -> Iterator[BrowserContext]:
    """Debian's Chromium, headless, with a fresh profile; one per test module, because Playwright's
    sync API keeps an asyncio loop running in the main thread while it is open (later tests that
    call asyncio.run() would fail)."""
    if not browser.CHROMIUM.exists():
        pytest.fail(f"{browser.CHROMIUM} is missing: `make install` installs it (stack/install-system-packages.sh)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"), executable_path=str(browser.CHROMIUM), headless=True,
            args=browser.CHROMIUM_FLAGS, viewport=browser.VIEWPORT)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def open_page(chromium: BrowserContext) -> Iterator[Callable[[str], Page]]:
    """``open_page(url)``: a new tab on ``url``. The test fails if the page raised a script error or
    asked for anything beyond the loopback dashboard (its assets must come from the dashboard itself)."""
    opened: list[Page] = []
    errors: list[str] = []
    outside: list[str] = []

    def keep_local(route) -> None:
        url = route.request.url
        if url.startswith("data:") or urlsplit(url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    def open_(url: str) -> Page:
        page = chromium.new_page()
        opened.append(page)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.route("**/*", keep_local)
        page.goto(url)
        return page

    yield open_
    for page in opened:
        page.close()
    assert not errors, f"script errors in the page: {errors}"
    assert not outside, f"the page asked for non-local resources: {outside}"


@pytest.fixture(scope="session")
def retail_marts(retail_landed, running_stack: Settings) -> Settings:
    """The retail sample landed and a dbt cycle run, so the retail marts hold it."""
    result = run_cycle()
    assert result.ok, result.as_dict()
    return running_stack


@pytest.fixture(scope="session")
def stack_dashboard(running_stack: Settings) -> str:
    """The URL of the stack's own dashboard service (``streammart-stack start`` runs it)."""
    url = dashboard_url(running_stack)
    try:
        requests.get(f"{url}health", timeout=5).raise_for_status()
    except requests.RequestException as exc:
        pytest.fail(f"the stack's dashboard is not answering at {url} (`streammart-stack start dashboard`): {exc}")
    return url


@pytest.fixture
def dashboard_server(running_stack: Settings, tmp_path: Path) -> Iterator[Callable[..., DashboardServer]]:
    """``dashboard_server(**settings)``: a dashboard process of this test whose settings differ from the
    stack's (``pg_database=…``, ``pg_port=…``); stopped at the end of the test."""
    servers: list[DashboardServer] = []

    def start(**changes: object) -> DashboardServer:
        port = free_port()
        env = {**os.environ, **running_stack.model_copy(update=changes).as_env(),
               "STREAMMART_DASHBOARD_PORT": str(port)}
        servers.append(DashboardServer(env, port, tmp_path / f"dashboard-{port}.log"))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def scratch_database(admin: psycopg.Connection, running_stack: Settings) -> Iterator[str]:
    """An empty database of this test that ``reader`` may connect to; dropped afterwards."""
    name = f"zt_dashboard_{uuid.uuid4().hex[:10]}"
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        admin.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
            sql.Identifier(name), sql.Identifier(running_stack.role_name("reader"))))
        yield name
    finally:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
