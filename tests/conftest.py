"""Fixtures shared by every test folder.

Tests marked ``services`` talk to the real local stack described by
``get_settings()``; `make test` starts it first. A stack that is down makes them
fail, never skip: a green run must mean the services really did what the tests
say. To run only what needs no services: ``pytest -m "not services"``.
"""
from __future__ import annotations

import pytest

from streammart.settings import Settings, get_settings


def _down(settings: Settings, prefixes: tuple[str, ...]) -> list[str]:
    from stack import services

    return [row.name for row in services.statuses(settings) if row.name.startswith(prefixes) and not row.up]


@pytest.fixture(scope="session")
def running_stack() -> Settings:
    """Settings of the running stack, secrets included (Postgres and Kafka up)."""
    from stack import services

    get_settings.cache_clear()
    settings = services.with_secrets(get_settings())
    down = _down(settings, ("postgres", "kafka"))
    if down:
        pytest.fail(f"local stack not running ({', '.join(down)}): run `make test`, "
                    "or `.venv/bin/streammart-stack start postgres kafka` for this STREAMMART_HOME")
    return settings


@pytest.fixture(scope="session")
def running_airflow(running_stack: Settings) -> Settings:
    """Like ``running_stack``, plus all four Airflow components."""
    down = _down(running_stack, ("airflow",))
    if down:
        pytest.fail(f"Airflow not running ({', '.join(down)}): run `.venv/bin/streammart-stack start airflow`")
    return running_stack
