"""The dbt project's documentation: generated from the live warehouse and served on loopback.

Generated into ``<home>/dbt/docs`` rather than the cycles' target directory, so
documenting never touches the artifacts the next cycle compares against.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from streammart.dbt_cycle import CyclePaths, dbt_args, dbt_environment, invoke_dbt
from streammart.settings import Settings, get_settings

DOCS_PORT = 18087


def docs_paths(settings: Settings) -> CyclePaths:
    paths = CyclePaths.for_settings(settings)
    return replace(paths, target_dir=paths.target_dir.parent / "docs")


def generate_docs(settings: Settings | None = None) -> Path:
    """``dbt docs generate`` (catalog included, so column types come from Postgres); returns index.html."""
    settings = settings or get_settings()
    paths = docs_paths(settings)
    with dbt_environment(settings):
        outcome = invoke_dbt(dbt_args(paths, ["docs", "generate"]))
    if not outcome.success:
        raise RuntimeError(f"dbt docs generate failed: {outcome.exception or 'see the dbt log in ' + str(paths.log_dir)}")
    return paths.target_dir / "index.html"


def serve_docs(port: int = DOCS_PORT, settings: Settings | None = None) -> None:
    """``dbt docs serve`` on 127.0.0.1 until interrupted (blocks)."""
    settings = settings or get_settings()
    paths = docs_paths(settings)
    with dbt_environment(settings):
        invoke_dbt(dbt_args(paths, ["docs", "serve"], "--host", "127.0.0.1", "--port", str(port), "--no-browser"))
