"""``stream-processors``: run the landing worker, or prepare its tables."""
from __future__ import annotations

import logging
from pathlib import Path

import click
import psycopg
from confluent_kafka import KafkaException

from rich.table import Table

from stream_processors.app import APP_ID, ProcessorOptions, build_app, landing_targets
from schemas.registry import SchemaError, load_registry
from stream_processors.dead_letter_replay import LetterFilter, group_letters, list_letters, replay
from stream_processors.metrics import WorkerMetrics
from stream_processors.raw_tables import ensure_raw_tables
from stream_processors.reload import ConfigWatch, LandingWorker, landing_plan, run_restarting
from streammart.contract import CONTROL_TOPIC, dead_letter_topic, qualified
from streammart.pipeline import DEFAULT_CONFIG, PipelineConfig, PipelineConfigError, load_pipeline
from streammart.settings import get_settings, kafka_client_config
from streammart.terminal import make_console
from streammart.topics import ensure_topics

log = logging.getLogger("stream_processors")


def prepare_tables(pipeline: PipelineConfig) -> list[str]:
    """Create or evolve every raw table of the pipeline; returns their names."""
    tables = [t.table for t in landing_targets(pipeline).values()]
    with psycopg.connect(get_settings().conninfo("ingest")) as conn:
        ensure_raw_tables(conn, tables)
    return [qualified(t.name) for t in tables]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=DEFAULT_CONFIG,
              show_default=True, help="pipeline config naming the sources and topics")
@click.pass_context
def main(ctx: click.Context, config_path: Path) -> None:
    """Land Kafka events in Postgres raw tables, exactly once."""
    ctx.obj = config_path


@main.command("prepare")
@click.pass_obj
def prepare(config_path: Path) -> None:
    """Create the raw tables (or add new contract fields) and exit."""
    try:
        for name in prepare_tables(load_pipeline(config_path)):
            click.echo(f"ready: {name}")
    except (PipelineConfigError, SchemaError) as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option("--batch-size", type=click.IntRange(min=1), default=2000, show_default=True,
              help="most events landed in one transaction")
@click.option("--batch-seconds", type=click.FloatRange(min=0.01), default=0.5, show_default=True,
              help="wait this long for a batch to fill (at most 0.05 s when events are already queued)")
@click.option("--app-id", default=APP_ID, show_default=True,
              help="Faust app id, also the Kafka consumer group: workers with the same id share the work")
@click.option("--metrics-port", type=click.IntRange(min=1, max=65535),
              help="serve Prometheus metrics on PORT/metrics at STREAMMART_WORKER_METRICS_HOST (default "
                   "127.0.0.1; the stack's worker: STREAMMART_WORKER_METRICS_PORT, default 18086)")
@click.option("-l", "--loglevel", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True)
@click.pass_obj
def worker(config_path: Path, batch_size: int, batch_seconds: float, app_id: str, metrics_port: int | None,
           loglevel: str) -> None:
    """Run a landing worker; start more for scale-out (same consumer group).

    The worker restarts itself (same pid) when the config comes to land other
    topics or tables, so new sources land without anyone restarting it.
    """
    settings = get_settings()
    try:
        pipeline = load_pipeline(config_path)
        tables = prepare_tables(pipeline)
        topics = list(pipeline.topics())
        ensure_topics(kafka_client_config(settings), topics + [dead_letter_topic(t) for t in topics],
                      settings.kafka_partitions)
        ensure_topics(kafka_client_config(settings), [CONTROL_TOPIC], 1)
    except (PipelineConfigError, SchemaError) as exc:
        raise click.ClickException(str(exc)) from None
    except psycopg.OperationalError as exc:
        raise click.ClickException(f"cannot reach Postgres: {exc}") from None
    except KafkaException as exc:
        raise click.ClickException(f"cannot reach Kafka at {settings.bootstrap_servers}: {exc}") from None
    metrics = None
    if metrics_port is not None:
        metrics = WorkerMetrics({t.table.name: topic for topic, t in landing_targets(pipeline).items()})
        try:
            metrics.serve(metrics_port, settings.worker_metrics_host)
        except OSError as exc:
            raise click.ClickException(f"cannot serve metrics on {settings.worker_metrics_host}:{metrics_port}: "
                                       f"{exc.strerror}") from None
    app = build_app(pipeline, settings, ProcessorOptions(batch_size=batch_size, batch_seconds=batch_seconds,
                                                         app_id=app_id, metrics=metrics))
    ConfigWatch(config_path, landing_plan(pipeline, load_registry()),
                on_change=lambda reason: landing_worker.request_restart(reason)).attach(app)
    log.info("landing %s", ", ".join(tables))
    landing_worker = LandingWorker(app, loglevel=loglevel)
    run_restarting(landing_worker)


@main.group("dead-letters")
def dead_letters() -> None:
    """Events that could not land: list them, and replay chosen ones to their topic once the cause is fixed.

    Every letter is kept in raw._dead_letters with its original bytes; a replayed
    letter is marked with where it went, so replaying it again does nothing.
    """


def letter_filter_options(command):
    """The options choosing letters, shared by ``list`` and ``replay``."""
    options = [
        click.option("--id", "ids", type=int, multiple=True, help="a letter's id (repeatable)"),
        click.option("--topic", help="only letters from this topic"),
        click.option("--stage", type=click.Choice(["decode", "land"]), help="where the event failed"),
        click.option("--reason", help="only letters whose error contains this text (any case)"),
        click.option("--since", type=click.DateTime(), help="only letters recorded at or after this time"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _ingest_connection() -> psycopg.Connection:
    try:
        conn = psycopg.connect(get_settings().conninfo("ingest"), autocommit=True)
        ensure_raw_tables(conn, [])
        return conn
    except psycopg.OperationalError as exc:
        raise click.ClickException(f"cannot reach Postgres: {exc}") from None


@dead_letters.command("list")
@letter_filter_options
@click.option("--state", type=click.Choice(["pending", "replayed", "unknown"]),
              help="pending: never replayed; unknown: a replay was interrupted before Kafka acknowledged it")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True, help="letters shown one by one")
def list_command(ids, topic, stage, reason, since, state, limit) -> None:
    """Counts by topic, stage and reason, then the newest letters one by one."""
    chosen = LetterFilter(tuple(ids), topic, stage, reason, since, state)
    console = make_console()
    with _ingest_connection() as conn:
        groups, letters = group_letters(conn, chosen), list_letters(conn, chosen, limit)
    if not groups:
        console.print("no dead letters match")
        return
    summary = Table("topic", "stage", "reason", "letters", "pending", "latest", title="Dead letters by reason")
    for g in groups:
        summary.add_row(g.topic, g.stage, g.reason, str(g.letters), str(g.pending), f"{g.latest:%Y-%m-%d %H:%M:%S}")
    console.print(summary)
    rows = Table("id", "at", "position", "stage", "bytes", "state", "error", title=f"Newest {len(letters)}")
    for r in letters:
        rows.add_row(str(r.id), f"{r.at:%Y-%m-%d %H:%M:%S}", f"{r.topic}/{r.partition}/{r.offset}", r.stage,
                     str(r.size), r.state if r.state != "replayed" else f"replayed to {r.replayed_to}", r.error)
    console.print(rows)


@dead_letters.command("replay")
@letter_filter_options
@click.option("--all", "everything", is_flag=True, help="replay every pending letter (no other choice needed)")
@click.option("--include-unknown", is_flag=True,
              help="also letters whose earlier replay was interrupted (check the topic for their replay_of header)")
def replay_command(ids, topic, stage, reason, since, everything, include_unknown) -> None:
    """Send the chosen pending letters back to their topic, with a replay_of header naming each."""
    chosen = LetterFilter(tuple(ids), topic, stage, reason, since)
    if chosen == LetterFilter() and not everything:
        raise click.UsageError("choose letters (--id, --topic, --stage, --reason, --since) or pass --all")
    with _ingest_connection() as conn:
        result = replay(conn, kafka_client_config(get_settings()), chosen, include_unknown)
    for letter_id, position in result.replayed:
        click.echo(f"replayed letter {letter_id} to {position}")
    for letter_id, error in result.failed:
        click.echo(f"letter {letter_id} not replayed (still pending): {error}", err=True)
    for letter_id in result.unknown:
        click.echo(f"letter {letter_id}: Kafka did not acknowledge in time; listed as unknown", err=True)
    click.echo(f"{len(result.replayed)} replayed, {len(result.failed)} failed, {len(result.unknown)} unknown, "
               f"{result.skipped} already replayed")
    if result.failed or result.unknown:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
