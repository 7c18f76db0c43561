"""Fixtures for the local stack's tests.

Unit tests get an isolated ``STREAMMART_HOME`` in a temp dir. Tests marked
``services`` use ``running_stack``/``running_airflow`` from ``tests/conftest.py``.
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

from streammart.settings import get_settings  # noqa: E402

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
