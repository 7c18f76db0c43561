"""``streammart quarantine``: what the data-quality rules hold back, by domain and rule.

Reads ``marts.fct_quarantined_rows`` (built by the dbt cycle, readable by the
``reader`` role): per domain and rule, how many records are held now, how many
were promoted since, and the latest reason; with ``--rows``, the held records
themselves with their source position.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import click
import psycopg
from psycopg import sql
from rich.table import Table

from streammart.settings import Settings, get_settings
from streammart.terminal import make_console

QUARANTINE_TABLE = sql.Identifier("marts", "fct_quarantined_rows")


@dataclass(frozen=True)
class RuleCount:
    domain: str
    rule: str
    held: int
    promoted: int
    latest_reason: str
    last_failed_at: datetime | None


@dataclass(frozen=True)
class HeldRow:
    domain: str
    entity: str
    record_key: str
    rule: str
    reason: str
    position: str
    quarantined_at: datetime
    checks_failed: int


def _filters(domain: str | None, rule: str | None) -> tuple[sql.Composable, list[str]]:
    clauses, params = [sql.SQL("true")], []
    for column, value in (("domain", domain), ("rule", rule)):
        if value is not None:
            clauses.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    return sql.SQL(" AND ").join(clauses), params


def rule_counts(conn: psycopg.Connection, domain: str | None = None, rule: str | None = None) -> list[RuleCount]:
    """Per domain and rule: records held now, episodes promoted, and the newest reason (of a held one if any),
    with the file:line it was read from."""
    where, params = _filters(domain, rule)
    query = sql.SQL("""
        SELECT domain, rule,
               count(*) FILTER (WHERE promoted_at IS NULL) AS held,
               count(*) FILTER (WHERE promoted_at IS NOT NULL) AS promoted,
               (array_agg(concat(reason, ' (' || _source_position || ')') ORDER BY promoted_at IS NULL DESC, last_failed_at DESC, record_key))[1],
               max(last_failed_at)
        FROM {table} WHERE {where}
        GROUP BY domain, rule
        ORDER BY domain, held DESC, rule""").format(table=QUARANTINE_TABLE, where=where)
    return [RuleCount(*row) for row in conn.execute(query, params).fetchall()]


def held_rows(conn: psycopg.Connection, domain: str | None = None, rule: str | None = None,
              limit: int = 100) -> list[HeldRow]:
    """Records held now, oldest first, with where the version that failed was read (file:line) and its Kafka position."""
    where, params = _filters(domain, rule)
    query = sql.SQL("""
        SELECT domain, entity, record_key, rule, reason,
               concat_ws(' ', _source_position, concat(_topic, ':', _partition, ':', _offset)), quarantined_at, checks_failed
        FROM {table} WHERE promoted_at IS NULL AND {where}
        ORDER BY domain, rule, quarantined_at, record_key
        LIMIT %s""").format(table=QUARANTINE_TABLE, where=where)
    return [HeldRow(*row) for row in conn.execute(query, [*params, limit]).fetchall()]


def table_exists(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT to_regclass('marts.fct_quarantined_rows')").fetchone()[0] is not None


def summary_line(settings: Settings) -> str:
    """One line for the demo's summary: held and promoted records per domain."""
    with psycopg.connect(settings.conninfo("reader")) as conn:
        if not table_exists(conn):
            return "not built yet"
        counts = rule_counts(conn)
    domains = sorted({c.domain for c in counts})
    parts = [f"{d}: {sum(c.held for c in counts if c.domain == d):,} held, "
             f"{sum(c.promoted for c in counts if c.domain == d):,} promoted" for d in domains]
    return "; ".join(parts) or "nothing held"


@click.command("quarantine")
@click.option("--domain", help="only this domain (e.g. msk)")
@click.option("--rule", help="only this rule (e.g. referral_patient_exists)")
@click.option("--rows", "show_rows", is_flag=True, help="list the held records too, with their source position")
@click.option("--limit", default=100, show_default=True, help="at most this many held records with --rows")
def command(domain: str | None, rule: str | None, show_rows: bool, limit: int) -> None:
    """List what the data-quality rules hold in quarantine, by domain and rule."""
    console = make_console()
    with psycopg.connect(get_settings().conninfo("reader")) as conn:
        if not table_exists(conn):
            raise click.ClickException("marts.fct_quarantined_rows does not exist yet: run a dbt cycle first")
        counts = rule_counts(conn, domain, rule)
        rows = held_rows(conn, domain, rule, limit) if show_rows else []
    table = Table(title="quarantine by rule")
    for column in ("domain", "rule", "held", "promoted", "latest reason"):
        table.add_column(column, justify="right" if column in ("held", "promoted") else "left")
    for c in counts:
        table.add_row(c.domain, c.rule, str(c.held), str(c.promoted), c.latest_reason)
    console.print(table)
    console.print(f"{sum(c.held for c in counts)} held, {sum(c.promoted for c in counts)} promoted")
    if show_rows:
        held = Table(title="held records")
        for column in ("domain", "entity", "key", "rule", "reason", "source position", "since", "cycles"):
            held.add_column(column)
        for r in rows:
            held.add_row(r.domain, r.entity, r.record_key, r.rule, r.reason, r.position,
                         r.quarantined_at.isoformat(timespec="seconds"), str(r.checks_failed))
        console.print(held)
