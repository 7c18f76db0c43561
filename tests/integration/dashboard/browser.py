"""Headless Chromium for the dashboard tests: how it is launched, how a test waits for a page's
state, and where screenshots go (``screenshots/dashboard/<name>.png``, gitignored)."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from streammart.settings import PROJECT_ROOT

#: Debian's Chromium (stack/install-system-packages.sh installs it); Playwright's own builds are not used.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1440, "height": 900}
SCREENSHOTS = PROJECT_ROOT / "screenshots" / "dashboard"
#: Long enough for two of the page's 5 s polls and a slow first load of plotly.js.
PAGE_TIMEOUT_MS = 20_000

written: list[Path] = []  # this run's screenshots, listed at the end of the run


def shoot(page: Page, name: str) -> Path:
    """A full-page screenshot, named for what it shows."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    if path not in written:
        written.append(path)
    return path


def wait_for_state(page: Page, state: str, timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
    """Until the page's poll has shown ``state`` (ok, empty, missing, unreachable, error, offline)."""
    page.wait_for_function("(state) => document.body.dataset.state === state", arg=state, timeout=timeout_ms)


def state_message(page: Page) -> str:
    """The state box's text: its title and message."""
    return page.locator("#state").inner_text()
