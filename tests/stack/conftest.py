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


def _down(settings: Settings, prefixes: tuple[str, ...]) -> list[str]:
    from stack import services

    return [row.name for row in services.statuses(settings) if row.name.startswith(prefixes) and not row.up]


@pytest.fixture(scope="session")
def running_stack() -> Settings:
    """Settings of the running stack (Postgres and Kafka up); skip, or fail under CI, otherwise."""
    from stack import services

    get_settings.cache_clear()
    settings = services.with_secrets(get_settings())
    down = _down(settings, ("postgres", "kafka"))
    if down:
        message = f"local stack not running ({', '.join(down)}): run `python -m stack start`"
        if os.environ.get("STREAMMART_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return settings


@pytest.fixture(scope="session")
def running_airflow(running_stack: Settings) -> Settings:
    """Like ``running_stack``, plus all four Airflow components; skipped when Airflow is not started.

    The test run may start only Postgres and Kafka (`start postgres kafka`), so a
    missing Airflow is a skip, not a failure.
    """
    down = _down(running_stack, ("airflow",))
    if down:
        pytest.skip(f"Airflow not running ({', '.join(down)}): run `python -m stack start airflow`")
    return running_stack
