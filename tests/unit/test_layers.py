"""``streammart/`` is the shared core: it must not import the layers built on it.

Producers, the worker, the stack, the DAGs and the dashboard all import
``streammart``; were it to import one of them, every part would drag in every
other (and a cycle would be one edit away). Parsed with ``ast``, so an import
inside a function counts as much as one at the top.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from streammart.settings import PROJECT_ROOT

CORE = PROJECT_ROOT / "streammart"
UPPER_LAYERS = ("producers", "stream_processors", "stack", "dashboard", "airflow_dags")


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import statement, wherever it sits in the module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def upper_layer_imports(source: str) -> list[str]:
    """``line N: imports X`` for each import of an upper layer in ``source``."""
    return [f"line {line}: imports {module}" for line, module in imported_modules(source)
            if module.split(".")[0] in UPPER_LAYERS]


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: p.name)
def test_core_module_imports_no_upper_layer(path: Path) -> None:
    assert upper_layer_imports(path.read_text(encoding="utf-8")) == [], path


def test_the_check_sees_upper_layer_imports_at_any_depth() -> None:
    source = ("import os\nfrom stack import services\nfrom streammart.settings import get_settings\n\n"
              "def f():\n    import stream_processors.app\n    from schemas.registry import load_registry\n")
    assert upper_layer_imports(source) == ["line 2: imports stack", "line 6: imports stream_processors.app"]
