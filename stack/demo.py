"""``streammart demo``: stack up, sample replayed and landed, marts built by Airflow.

Each step waits on a real signal (landing lag measured against Postgres, the DAG
run's state in Airflow's metadata database), never on a fixed sleep, and fails
with what it was waiting for. It lives in ``stack/`` because it drives every
layer (the stack, the producers, the worker, Airflow); ``streammart/`` stays the
shared core those layers import.
"""
from __future__ import annotations

import logging
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import click
import psycopg
from psycopg import sql
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from dashboard.pages import pages
from stack import services
from stack.airflow import ADMIN_USER, api_url, run_airflow
from stack.pipeline_processes import dashboard_url
from stack.postgres import AIRFLOW_DATABASE
from stack.processes import StackError, wait_until
from stream_processors.lag import landing_lag
from streammart.contract import RAW_SCHEMA
from streammart import quarantine
from streammart.export import EXPORTS, export_domain, missing_marts
from streammart.pipeline import DEFAULT_CONFIG, load_pipeline
from streammart.settings import PROJECT_ROOT, Settings, get_settings, kafka_client_config, secrets_file
from streammart.terminal import make_console

DAG_ID = "streammart_microbatch"
LANDING_TIMEOUT = 300.0
DAG_TIMEOUT = 600.0
SUMMARY_SCHEMAS = (RAW_SCHEMA, "staging", "intermediate", "marts")


@dataclass
class Step:
    console: Console
    number: int = 0

    def __call__(self, text: str) -> float:
        self.number += 1
        self.console.rule(f"[bold]{self.number}. {text}")
        return time.monotonic()

    def done(self, started: float, text: str) -> None:
        self.console.print(f"[green]✓[/] {text} ({time.monotonic() - started:.1f} s)")


def produce_sample(console: Console) -> None:
    """Replay every configured source with the producers CLI (its progress and summary show).

    A source polled incrementally (``incremental`` in its config) is published by ``producers
    poll``, which moves its cursor: the scheduled poll then publishes only what changes later,
    instead of the whole API a second time.
    """
    pipeline = load_pipeline(DEFAULT_CONFIG)
    polled = {s.name for s in pipeline.sources if s.incremental is not None}
    replayed = [s.name for s in pipeline.sources if s.name not in polled]
    producers = str(Path(sys.prefix) / "bin" / "producers")
    for command in (["run", *replayed], ["poll", *sorted(polled)] if polled else None):
        if command is None:
            continue
        result = subprocess.run([producers, *command], cwd=PROJECT_ROOT)
        if result.returncode != 0:
            raise StackError(f"producers {command[0]} exited with {result.returncode}; see the messages above")


def wait_until_landed(settings: Settings, topics: list[str]) -> dict[str, int]:
    with psycopg.connect(settings.conninfo("admin"), autocommit=True) as conn:
        config = kafka_client_config(settings)
        wait_until(lambda: not any(landing_lag(conn, config, topics).values()),
                   what="landing (events in Kafka not yet in raw)", timeout=LANDING_TIMEOUT,
                   log_paths=services.log_files("processors", settings))
        return landing_lag(conn, config, topics)


def dag_run_state(settings: Settings, run_id: str | None = None) -> str | None:
    """State of one run of the DAG (None: no such run yet); without run_id, whether the DAG is known."""
    with psycopg.connect(settings.conninfo("airflow", AIRFLOW_DATABASE), autocommit=True) as conn:
        if run_id is None:
            row = conn.execute("SELECT 'known' FROM dag WHERE dag_id = %s", (DAG_ID,)).fetchone()
        else:
            row = conn.execute("SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s",
                               (DAG_ID, run_id)).fetchone()
    return row[0] if row else None


def build_marts_with_airflow(settings: Settings) -> str:
    """Trigger one run of the micro-batch DAG and wait for it to succeed."""
    wait_until(lambda: dag_run_state(settings) is not None, what=f"Airflow to parse {DAG_ID}", timeout=120,
               log_paths=services.log_files("airflow-dag-processor", settings))
    run_id = f"demo__{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"
    run_airflow(["dags", "trigger", DAG_ID, "--run-id", run_id], settings, capture_output=True, timeout=120)
    wait_until(lambda: dag_run_state(settings, run_id) in ("success", "failed"), what=f"DAG run {run_id}",
               timeout=DAG_TIMEOUT, interval=1.0, log_paths=services.log_files("airflow-scheduler", settings))
    state = dag_run_state(settings, run_id)
    if state != "success":
        raise StackError(f"DAG run {run_id} ended {state}: see {api_url(settings)}/dags/{DAG_ID}")
    return run_id


def table_counts(settings: Settings) -> list[tuple[str, str, int]]:
    with psycopg.connect(settings.conninfo("admin"), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = ANY(%s) "
            "ORDER BY array_position(%s, table_schema::text), table_name",
            (list(SUMMARY_SCHEMAS), list(SUMMARY_SCHEMAS))).fetchall()
        return [(schema, name, conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(schema, name))).fetchone()[0]) for schema, name in tables]


def print_summary(console: Console, settings: Settings, run_id: str) -> None:
    table = Table(title="rows per table")
    for column in ("schema", "table", "rows"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for schema, name, rows in table_counts(settings):
        table.add_row(schema, name, f"{rows:,}")
    console.print(table)
    console.print(f"""
[bold]Where to look[/]
  dashboard      {dashboard_url(settings)}   (live: follows the marts every 5 s)
                 pages: {'  '.join(f'{dashboard_url(settings)}{page.domain}' for page in pages())}
  Airflow UI     {api_url(settings)}/dags/{DAG_ID}   (run {run_id}; the DAG now runs every few minutes)
                 log in as {ADMIN_USER} / {settings.airflow_admin_password}   (STREAMMART_AIRFLOW_ADMIN_PASSWORD in {secrets_file(settings.home)})
  marts in SQL   eval "$(.venv/bin/streammart-stack env)" && PGPASSWORD="$STREAMMART_PG_READER_PASSWORD" \\
                   psql -h {settings.pg_host} -p {settings.pg_port} -U reader -d {settings.pg_database} \\
                   -c 'select * from marts.fct_customer_daily_orders order by revenue desc limit 10'
  rejects        {PROJECT_ROOT / 'rejects'}
  quarantine     {quarantine.summary_line(settings)}   (by rule: .venv/bin/streammart quarantine [--rows])
  exports        {'  '.join(str(settings.home / 'exports' / domain / 'manifest.json') for domain in sorted(EXPORTS))}
                 (written by the DAG's export_marts task; by hand: .venv/bin/streammart export DOMAIN)
  services       .venv/bin/streammart-stack status | logs SERVICE | stop
""")


def run_demo(console: Console) -> None:
    step = Step(console)
    started = step("Local stack: Postgres, Kafka, landing worker, demo API, dashboard, Airflow")
    settings = services.ensure_running()
    step.done(started, "every service is up and answering")

    topics = list(load_pipeline().topics())
    started = step("Replay the sample sources into Kafka")
    produce_sample(console)
    step.done(started, "produced")

    started = step("Land every event in Postgres raw tables")
    wait_until_landed(settings, topics)
    step.done(started, f"nothing left to land on {', '.join(topics)}")

    started = step(f"Build the marts: Airflow DAG {DAG_ID}")
    run_id = build_marts_with_airflow(settings)
    step.done(started, f"DAG run {run_id} succeeded")

    print_summary(console, settings, run_id)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """streammart: streaming ingestion with dbt micro-batches.

    The parts have their own commands: `streammart-stack` (local services),
    `producers` (replay sources into Kafka), `stream-processors` (landing worker),
    `python -m streammart.dbt_cycle` (one dbt cycle).
    """
    logging.basicConfig(level=logging.INFO, format="%(message)s", datefmt="%H:%M:%S",
                        handlers=[RichHandler(console=make_console(stderr=True), show_path=False)])


@main.command()
@click.option("--serve/--no-serve", default=False, show_default=True, help="serve the pages on 127.0.0.1 afterwards")
@click.option("--port", type=click.IntRange(1, 65535), default=18087, show_default=True)
def docs(serve: bool, port: int) -> None:
    """Generate the dbt documentation (models, tests, lineage, column types) and optionally serve it."""
    from streammart.dbt_docs import generate_docs, serve_docs

    try:
        index = generate_docs()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"dbt docs written to {index}")
    if serve:
        click.echo(f"serving on http://127.0.0.1:{port}/ (Ctrl-C stops)")
        serve_docs(port)


@main.command()
def demo() -> None:
    """Start the stack, replay the sample data, land it and build the marts with Airflow."""
    console = make_console()
    try:
        run_demo(console)
    except StackError as exc:
        console.print(f"[red]demo failed:[/] {exc}")
        sys.exit(1)


main.add_command(quarantine.command)


@main.command("export")
@click.argument("domain", type=click.Choice(sorted(EXPORTS)))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="output folder (default: <STREAMMART_HOME>/exports/<domain>)")
def export(domain: str, out: Path | None) -> None:
    """Write DOMAIN's marts as files: JSON document(s), CSV and Parquet per mart, a manifest.

    Only files whose bytes changed are rewritten.
    """
    console = make_console()
    settings = services.with_secrets(get_settings())
    missing = missing_marts(settings, domain)
    if missing:
        raise click.ClickException(f"marts not built yet: {', '.join(missing)} (run a dbt cycle first)")
    result = export_domain(domain, settings, out)
    table = Table("file", "rows", "bytes", "sha256", "", title=f"{domain} export: {result.folder}")
    for entry in result.manifest["files"]:
        state = "written" if entry["file"] in result.written else "unchanged"
        table.add_row(entry["file"], f"{entry['rows']:,}", f"{entry['bytes']:,}", entry["sha256"][:16], state)
    console.print(table)
    console.print(f"{len(result.written)} files written, {len(result.unchanged)} unchanged")


if __name__ == "__main__":
    main()
