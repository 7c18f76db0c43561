"""``streammart-dashboard``: serve the dashboard on 127.0.0.1.

One page per domain (``dashboard/pages/<domain>.py``) at ``/<domain>``, its figures
as JSON at ``/api/<domain>``; ``/`` lands on the first page. Each page polls its API
every few seconds, so it follows the marts as the event-driven and micro-batch
cycles refresh them. ``/metrics`` is the stack's Prometheus endpoint for dbt (last
cycle, its duration and tests) and mart freshness; the worker serves its own. The server connects as ``reader``: select on the marts and
nothing else. Charts are drawn with plotly.js, served from the installed ``plotly``
package, so pages work without internet access.
"""
from __future__ import annotations

from pathlib import Path

import click
import plotly
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from dashboard.pages import Page, pages
from dashboard.reading import read_page
from streammart.pipeline_status import stack_metrics_registry
from streammart.settings import Settings, get_settings

HERE = Path(__file__).resolve().parent
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
REFRESH_SECONDS = 5


def _page(domain: str) -> Page | None:
    return next((p for p in pages() if p.domain == domain), None)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="streammart dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")

    def render(request: Request, template: str, page: Page | None, status_code: int = 200, **context) -> Response:
        return templates.TemplateResponse(request, template, {
            "page": page, "pages": pages(), "refresh_seconds": REFRESH_SECONDS, **context}, status_code=status_code)

    @app.get("/", include_in_schema=False)
    def index(request: Request) -> Response:
        if not pages():
            return render(request, "not_found.html", None, 404, wanted="any page")
        return RedirectResponse(f"/{pages()[0].domain}", status_code=307)

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    metrics = stack_metrics_registry(settings)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics), media_type=CONTENT_TYPE_LATEST)

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="text/javascript")

    @app.get("/api/{domain}")
    def api(domain: str) -> JSONResponse:
        page = _page(domain)
        if page is None:
            return JSONResponse({"detail": f"no dashboard page for {domain!r}"}, status_code=404)
        state = read_page(settings, page)
        return JSONResponse(state.as_json(), status_code=state.http_status)

    @app.get("/{domain}", response_class=HTMLResponse, include_in_schema=False)
    def page_html(request: Request, domain: str) -> Response:
        page = _page(domain)
        if page is None:
            return render(request, "not_found.html", None, 404, wanted=f"/{domain}")
        return render(request, f"{page.domain}.html", page)

    return app


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--port", type=int, default=None, help="default: STREAMMART_DASHBOARD_PORT (18085)")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="interface to listen on (0.0.0.0 only inside a container)")
def main(port: int | None, host: str) -> None:
    """Serve the live dashboard on http://HOST:PORT/."""
    settings = get_settings()
    for page in pages():
        if page.background is not None:
            page.background()
    uvicorn.run(create_app(settings), host=host, port=port or settings.dashboard_port, log_level="info")


if __name__ == "__main__":
    main()
