"""Reading one page's figures from the marts, and saying plainly when that cannot be done.

Every answer is a ``PageState``: the figures, or a message a person can act on —
no data yet (the marts exist but are empty), a mart not built yet (named),
Postgres unreachable, or any other failure — so the page always has something
clear to show and never a stack trace.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

import psycopg
from fastapi.encoders import jsonable_encoder
from psycopg import sql

from dashboard.pages import Page
from streammart.settings import Settings

log = logging.getLogger(__name__)

State = Literal["ok", "empty", "missing", "unreachable", "error"]
CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 15_000


@dataclass
class PageState:
    """What ``/api/<domain>`` answers."""

    domain: str
    state: State
    message: str | None = None
    missing: list[str] = field(default_factory=list)
    as_of: datetime | str | None = None  # newest landed row behind the figures, when the page's data says ("as_of" key)
    read_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    data: dict[str, Any] | None = None

    @property
    def http_status(self) -> int:
        """200 when the page can show its figures (or that there are none yet), 503 when it cannot."""
        return 200 if self.state in ("ok", "empty") else 503

    def as_json(self) -> Any:
        """JSON-ready: decimals become numbers (display only), dates and times ISO text."""
        return jsonable_encoder(asdict(self))


def rows(conn: psycopg.Connection, query: str, params: Any = None) -> list[dict[str, Any]]:
    """The query's rows as dicts keyed by column name."""
    cur = conn.execute(query, params)
    names = [c.name for c in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _identifier(relation: str) -> sql.Identifier:
    schema, name = relation.split(".")
    return sql.Identifier(schema, name)


def _missing(conn: psycopg.Connection, marts: tuple[str, ...]) -> list[str]:
    return [m for m in marts if conn.execute("SELECT to_regclass(%s)", (m,)).fetchone()[0] is None]


def _all_empty(conn: psycopg.Connection, marts: tuple[str, ...]) -> bool:
    return not any(conn.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(_identifier(m))).fetchone()[0]
                   for m in marts)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _connection_problem(exc: psycopg.OperationalError) -> str:
    """libpq's own reason ("Connection refused", "password authentication failed …") without its preamble."""
    return _first_line(exc).rsplit(" failed: ", 1)[-1]


def read_in_snapshot(conn: psycopg.Connection, page: Page) -> PageState:
    """The page's state, every statement in one repeatable-read, read-only snapshot."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        missing = _missing(conn, page.marts)
        if missing:
            return PageState(page.domain, "missing", missing=missing, message=(
                f"{', '.join(missing)} {'does' if len(missing) == 1 else 'do'} not exist yet. "
                "The next dbt cycle builds the marts (the streammart_microbatch DAG, or "
                "python -m streammart.dbt_cycle)."))
        if page.marts and _all_empty(conn, page.marts):
            return PageState(page.domain, "empty", message=(
                f"{', '.join(page.marts)} exist but hold no rows. The figures appear once data "
                "has landed and a dbt cycle has built the marts."))
        data = page.overview(conn)
    return PageState(page.domain, "ok", as_of=data.get("as_of"), data=data)


def read_page(settings: Settings, page: Page) -> PageState:
    """Connect as ``reader`` and read the page; every failure becomes a message."""
    where = f"{settings.pg_host}:{settings.pg_port}/{settings.pg_database}"
    try:
        conn = psycopg.connect(settings.conninfo("reader"), connect_timeout=CONNECT_TIMEOUT_S,
                               options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}")
    except psycopg.OperationalError as exc:
        return PageState(page.domain, "unreachable", message=(
            f"No connection to Postgres at {where} ({_connection_problem(exc)}). "
            "The figures come back by themselves once it answers again."))
    try:
        with conn:
            return read_in_snapshot(conn, page)
    except psycopg.errors.UndefinedTable as exc:
        return PageState(page.domain, "missing", message=(
            f"{_first_line(exc)}. The next dbt cycle builds the marts."))
    except psycopg.errors.InsufficientPrivilege as exc:
        return PageState(page.domain, "error", message=(
            f"The reader role may not read the {page.title} marts: {_first_line(exc)}. "
            "dbt grants it SELECT when it builds them (+grants in dbt_project.yml)."))
    except psycopg.OperationalError as exc:
        return PageState(page.domain, "unreachable", message=(
            f"Lost the connection to Postgres at {where} ({_connection_problem(exc)}). "
            "The figures come back by themselves once it answers again."))
    except Exception as exc:  # noqa: BLE001 - the page shows a message; the log keeps the traceback
        log.exception("reading the %s page failed", page.domain)
        return PageState(page.domain, "error", message=(
            f"The {page.title} figures could not be read: {type(exc).__name__}: {_first_line(exc)}. "
            "The dashboard's log has the details."))
