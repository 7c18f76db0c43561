"""Fixtures for the local stack's tests.

Unit tests get an isolated ``STREAMMART_HOME`` in a temp dir. Tests marked
``services`` use the stack described by ``get_settings()``, which the test run
starts beforehand (``python -m stack start``); without it they are skipped, or fail
when ``STREAMMART_REQUIRE_SERVICES=1`` (CI sets it so a dead stack cannot pass).
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
if str(PROJECT_ROOT) not in sys.path:  # plain `pytest` (not `python -m pytest`) from anywhere
    sys.path.insert(0, str(PROJECT_ROOT))

from streammart.settings import Settings, get_settings  # noqa: E402

STACK_ENV_PREFIX = "STREAMMART_"


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh STREAMMART_HOME with no STREAMMART_* variables inherited from the shell."""
    for key in list(os.environ):
        if key.startswith(STACK_ENV_PREFIX):
            monkeypatch.delenv(key)
    home = tmp_path / "stack-home"
    monkeypatch.setenv("STREAMMART_HOME", str(home))
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def running_stack() -> Settings:
    """Settings of the running stack; skip (or fail under CI) when it is not all up."""
    from stack import services

    get_settings.cache_clear()
    settings = services.with_secrets(get_settings())
    down = [row.name for row in services.statuses(settings) if not row.up]
    if down:
        message = f"local stack not running ({', '.join(down)}): run `python -m stack start`"
        if os.environ.get("STREAMMART_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return settings
