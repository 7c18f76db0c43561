"""``streammart-dashboard``: serve the dashboard on 127.0.0.1.

The page polls ``/api/retail`` every few seconds, so it follows the marts as the
event-driven and micro-batch cycles refresh them. It connects as ``reader``:
select on the marts and nothing else.
"""
from __future__ import annotations

from pathlib import Path

import click
import psycopg
import uvicorn
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse

from dashboard.queries import retail_overview
from streammart.settings import Settings, get_settings

STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="streammart dashboard", docs_url=None, redoc_url=None)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/retail")
    def retail() -> dict:
        try:
            with psycopg.connect(settings.conninfo("reader"), connect_timeout=5) as conn:
                return retail_overview(conn)
        except psycopg.errors.UndefinedTable:
            raise HTTPException(503, "the retail marts are not built yet") from None
        except psycopg.OperationalError as exc:
            raise HTTPException(503, f"cannot reach Postgres: {exc}") from None

    return app


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--port", type=int, default=None, help="default: STREAMMART_DASHBOARD_PORT (18085)")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="interface to listen on (0.0.0.0 only inside a container)")
def main(port: int | None, host: str) -> None:
    """Serve the live dashboard on http://HOST:PORT/."""
    settings = get_settings()
    uvicorn.run(create_app(settings), host=host, port=port or settings.dashboard_port, log_level="info")


if __name__ == "__main__":
    main()
