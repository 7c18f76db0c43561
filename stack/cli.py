"""``python -m stack`` (or ``streammart-stack``): start, stop, inspect the local stack.

Progress and errors go to stderr, so ``eval "$(python -m stack env)"`` only sees
the ``export`` lines; the status table and log lines go to stdout.
"""
from __future__ import annotations

import functools
import logging
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table
from rich.text import Text

from stack import kafka, services
from stack.airflow import airflow_env
from stack.processes import StackError
from streammart.settings import get_settings

log = logging.getLogger("stack")
# Piped output (CI logs, tests) gets a fixed width instead of rich's 80-column fallback.
stdout = Console(width=None if sys.stdout.isatty() else 120)
stderr = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

STATUS_EXIT_NOT_ALL_UP = 3
STATE_STYLE = {"running": "green", "starting": "yellow", "unhealthy": "red", "stopped": "dim"}


def _setup_logging(verbose: bool) -> None:
    """Rich output on a terminal; plain timestamped lines in CI logs and pipes (no wrapping)."""
    handler: logging.Handler
    if stderr.is_terminal:
        handler = RichHandler(console=stderr, show_path=False, markup=False, rich_tracebacks=verbose)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler], force=True)
    for noisy in ("urllib3", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def reports_errors(func: F) -> F:
    """Turn :class:`StackError` into one clear message and exit code 1, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except StackError as exc:
            log.error("%s", exc)
            sys.exit(1)
        except ValidationError as exc:  # settings from the environment that cannot work together
            log.error("settings: %s", "; ".join(error["msg"] for error in exc.errors()))
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


SERVICE = click.Choice(services.SERVICE_NAMES)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Debug logging and full tracebacks.")
def cli(verbose: bool) -> None:
    """Run streammart's local services: PostgreSQL, Kafka (KRaft) and Airflow.

    Everything listens on 127.0.0.1 and lives under $STREAMMART_HOME (default
    <project>/.stack): data, logs/<service>.log, pids/, secrets.env.

    \b
    Ports (override with the variable):
      postgres  15432   STREAMMART_PG_PORT
      kafka     19092   STREAMMART_KAFKA_PORT (controller 19093, STREAMMART_KAFKA_CONTROLLER_PORT)
                        STREAMMART_KAFKA_BROKERS=3: three nodes, node N on both ports + 2(N-1)
      airflow   18080   STREAMMART_AIRFLOW_PORT

    \b
    Typical use:
      python -m stack start            # all services, waits until ready
      eval "$(python -m stack env)"    # connection settings in your shell
      python -m stack status
      python -m stack logs kafka -f
      python -m stack stop --purge     # stop and delete all data and secrets
    """
    _setup_logging(verbose)


@cli.command()
@click.argument("service_names", metavar="[SERVICE]...", nargs=-1, type=SERVICE)
@reports_errors
def start(service_names: tuple[str, ...]) -> None:
    """Start services (default: all) and wait until each is ready.

    Order: postgres, kafka, airflow (airflow also starts postgres). A running
    service is left alone, so starting twice is harmless. First start generates
    passwords into $STREAMMART_HOME/secrets.env, fetches the Kafka jars with Maven,
    initialises Postgres and migrates Airflow's metadata database.
    """
    began = time.monotonic()
    services.ensure_running(service_names or None)
    log.info("ready in %.1f s", time.monotonic() - began)


@cli.command()
@click.argument("service_names", metavar="[SERVICE]...", nargs=-1, type=SERVICE)
@click.option("--purge", is_flag=True,
              help="Also delete data and logs; with no SERVICE, the whole $STREAMMART_HOME (secrets too).")
@reports_errors
def stop(service_names: tuple[str, ...], purge: bool) -> None:
    """Stop services (default: all), in reverse start order."""
    services.stop(service_names or None, purge=purge)


NODE = click.IntRange(min=1)


@cli.command("stop-broker")
@click.argument("node_id", metavar="N", type=NODE)
@reports_errors
def stop_broker(node_id: int) -> None:
    """Stop Kafka node N alone (SIGTERM), e.g. to see a 3-node cluster ride out a lost broker."""
    log.info("%s", kafka.stop_node(get_settings(), node_id))


@cli.command("start-broker")
@click.argument("node_id", metavar="N", type=NODE)
@reports_errors
def start_broker(node_id: int) -> None:
    """Start Kafka node N again and wait until it is back in the cluster."""
    log.info("%s", kafka.start_node(services.prepared_settings(), node_id))


@cli.command()
@reports_errors
def status() -> None:
    """Show each service and Airflow component; exit 3 unless all are running."""
    rows = services.statuses()
    table = Table(title=f"streammart stack ({get_settings().home})", title_justify="left")
    for column in ("service", "state", "pid", "address", "detail"):
        table.add_column(column)
    for row in rows:
        style = STATE_STYLE.get(row.state, "")
        table.add_row(Text(row.name), Text(row.state, style=style), Text(str(row.pid or "")),
                      Text(row.address or ""), Text(row.detail))
    stdout.print(table)
    _print_pipeline(get_settings())
    if not all(row.up for row in rows):
        sys.exit(STATUS_EXIT_NOT_ALL_UP)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never built"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _print_pipeline(settings: Any) -> None:
    """Events/s, lag and dead letters per topic; the last dbt cycle; each mart's freshness."""
    from streammart.pipeline_status import FRESHNESS_THRESHOLD_SECONDS, dbt_figures, worker_figures

    worker = worker_figures(settings)
    if worker.error:
        stdout.print(f"pipeline: {worker.error}", style="yellow")
    elif worker.topics:
        table = Table("topic", "events/s", "landed", "lag", "dead letters", title="landing (this worker's run)",
                      title_justify="left")
        for topic, t in worker.topics.items():
            letters = ", ".join(f"{n:.0f} {stage}" for stage, n in sorted(t.dead_letters.items())) or "0"
            table.add_row(topic, f"{t.events_per_second:,.0f}", f"{t.landed:,.0f}", f"{t.lag:,.0f}", letters)
        stdout.print(table)
    dbt = dbt_figures(settings)
    if dbt.cycles:
        last = dbt.cycles[0]
        style = "red" if last.status == "failed" else "green"
        stdout.print(Text(f"last dbt cycle: {last.status} at {last.ended_at:%H:%M:%S} UTC in {last.seconds:.1f} s, "
                          f"{len(last.models_built)} models built, tests {last.tests_passed} passed / "
                          f"{last.tests_failed} failed", style=style))
    else:
        stdout.print("no dbt cycle has run yet", style="yellow")
    if dbt.freshness:
        stale = set(dbt.stale())
        stdout.print("mart freshness: " + ", ".join(
            f"[{'red' if m in stale else 'green'}]{m} {_age(age)}[/]" for m, age in dbt.freshness.items()) +
            f" (stale past {FRESHNESS_THRESHOLD_SECONDS / 60:.0f} min)")


def _print_tail(paths: list[Path], lines: int, prefixed: bool) -> None:
    from stack.processes import tail

    for path in paths:
        prefix = f"[{path.stem}] " if prefixed else ""
        for line in tail(path, lines):
            click.echo(f"{prefix}{line}")


def _follow(paths: list[Path], prefixed: bool) -> None:
    """Print lines appended to ``paths`` until Ctrl-C (copes with files created later or truncated)."""
    positions = {path: (path.stat().st_size if path.exists() else 0) for path in paths}
    partial = {path: "" for path in paths}
    try:
        while True:
            for path in paths:
                if not path.exists():
                    continue
                size = path.stat().st_size
                if size < positions[path]:  # truncated or replaced
                    positions[path] = 0
                if size == positions[path]:
                    continue
                with open(path, "rb") as fh:
                    fh.seek(positions[path])
                    chunk = fh.read()
                positions[path] += len(chunk)
                text = partial[path] + chunk.decode(errors="replace")
                *complete, partial[path] = text.split("\n")
                prefix = f"[{path.stem}] " if prefixed else ""
                for line in complete:
                    click.echo(f"{prefix}{line}")
            time.sleep(0.3)
    except KeyboardInterrupt:
        pass


@cli.command()
@click.argument("service", type=click.Choice(services.LOG_TARGETS))
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until Ctrl-C.")
@click.option("-n", "--lines", default=50, show_default=True, type=click.IntRange(min=0),
              help="How many of the last lines to show (per file).")
@reports_errors
def logs(service: str, follow: bool, lines: int) -> None:
    """Show a service's log ($STREAMMART_HOME/logs/<service>.log).

    'airflow' shows all four components, each line prefixed with its file name;
    'airflow-scheduler' (and -api-server, -dag-processor, -triggerer, -db-migrate)
    shows one.
    """
    paths = services.log_files(service)
    existing = [p for p in paths if p.exists()]
    if not existing and not follow:
        raise StackError(f"{service}: no log yet (expected {', '.join(str(p) for p in paths)})")
    prefixed = len(paths) > 1
    _print_tail(existing, lines, prefixed)
    if follow:
        _follow(paths, prefixed)


@cli.command()
@click.option("--airflow/--no-airflow", "with_airflow", default=True, show_default=True,
              help="Include AIRFLOW_HOME, AIRFLOW__* and PATH/PYTHONPATH for the airflow CLI.")
@reports_errors
def env(with_airflow: bool) -> None:
    """Print `export` lines for the stack's settings: eval "$(python -m stack env)".

    Generates the secrets file if the stack never ran, so the values printed are
    the ones the stack will use.
    """
    settings = services.prepared_settings()
    variables = settings.as_env()
    if with_airflow:
        variables |= airflow_env(settings)
    for key in sorted(variables):
        click.echo(f"export {key}={shlex.quote(variables[key])}")


def main() -> None:
    """Console-script entry point (``streammart-stack``)."""
    cli(prog_name="python -m stack" if Path(sys.argv[0]).name == "__main__.py" else None)


if __name__ == "__main__":
    main()
