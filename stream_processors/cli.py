"""``stream-processors``: run the landing worker, or prepare its tables."""
from __future__ import annotations

import logging
from pathlib import Path

import click
import psycopg
from confluent_kafka import KafkaException

from stream_processors.app import APP_ID, ProcessorOptions, build_app, landing_targets
from schemas.registry import SchemaError, load_registry
from stream_processors.raw_tables import ensure_raw_tables
from stream_processors.reload import ConfigWatch, LandingWorker, landing_plan, run_restarting
from streammart.contract import CONTROL_TOPIC, dead_letter_topic, qualified
from streammart.pipeline import DEFAULT_CONFIG, PipelineConfig, PipelineConfigError, load_pipeline
from streammart.settings import get_settings, kafka_client_config
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
              help="land what arrived within this long, even if the batch is not full")
@click.option("--app-id", default=APP_ID, show_default=True,
              help="Faust app id, also the Kafka consumer group: workers with the same id share the work")
@click.option("-l", "--loglevel", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True)
@click.pass_obj
def worker(config_path: Path, batch_size: int, batch_seconds: float, app_id: str, loglevel: str) -> None:
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
    app = build_app(pipeline, settings, ProcessorOptions(batch_size=batch_size, batch_seconds=batch_seconds,
                                                         app_id=app_id))
    ConfigWatch(config_path, landing_plan(pipeline, load_registry()),
                on_change=lambda reason: landing_worker.request_restart(reason)).attach(app)
    log.info("landing %s", ", ".join(tables))
    landing_worker = LandingWorker(app, loglevel=loglevel)
    run_restarting(landing_worker)


if __name__ == "__main__":
    main()
