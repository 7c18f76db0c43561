"""``producers``: replay the configured sources as Avro events on Kafka."""
from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from producers.pacing import Pacer, RatePacer, make_pacer
from producers.publisher import DryRun, Publisher, Sink
from producers.replay import ReplaySummary, SourceReplay
from producers.report import report_source, summary_table
from producers.samples import domains as sample_domains
from producers.samples import generator
from streammart.contract import qualified
from streammart.pipeline import DEFAULT_CONFIG, PipelineConfigError, SourceConfig, load_pipeline
from streammart.settings import PROJECT_ROOT, get_settings, kafka_client_config
from streammart.terminal import make_console
from streammart.topics import ensure_topics

console = make_console(stderr=True)


def _load(config_path: Path):
    try:
        return load_pipeline(config_path)
    except PipelineConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _select(pipeline, names: tuple[str, ...]) -> list[SourceConfig]:
    if not names:
        return list(pipeline.sources)
    try:
        return [pipeline.source(n) for n in names]
    except PipelineConfigError as exc:
        raise click.ClickException(str(exc)) from None


@dataclass(frozen=True)
class ReplayOptions:
    rejects_dir: Path
    max_rejects: int | None
    strict: bool
    progress: bool | None


def replay_options(command: Callable) -> Callable:
    """The options ``run`` and ``validate`` share, so a validation means what the run will do."""
    decorators = [
        click.argument("sources", nargs=-1),
        click.option("--max-rejects", type=click.IntRange(min=0), default=None,
                     help="fail a source once it has more rejects than this"),
        click.option("--rejects-dir", type=click.Path(path_type=Path, file_okay=False),
                     default=PROJECT_ROOT / "rejects", show_default=True,
                     help="where <source>.rejects.jsonl files go (one reject or skip per line)"),
        click.option("--strict", is_flag=True,
                     help="a column that is neither a contract field nor in ignore_columns is an error "
                          "(as `strict: true` on every source)"),
        click.option("--progress/--no-progress", default=None, help="progress bar (default: when on a terminal)"),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def replay_all(selected: list[SourceConfig], sink: Sink, options: ReplayOptions,
               pacer: Callable[[], Pacer] = lambda: RatePacer(None), title: str = "replay summary",
               produced: str = "produced") -> int:
    """Replays (or validates) every selected source; returns the exit code.

    One source failing does not stop the others: the summary shows each, and
    the exit code is 1 when any failed (130 when interrupted).
    """
    summaries: list[ReplaySummary] = []
    show = console.is_terminal if options.progress is None else options.progress
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    exit_code = 0
    replay: SourceReplay | None = None
    try:
        with Progress(*columns, console=console, disable=not show) as bar:
            for config in selected:
                if options.strict:
                    config = config.model_copy(update={"strict": True})
                replay = SourceReplay(config, sink, options.rejects_dir, options.max_rejects, pacer())
                task = bar.add_task(config.name, total=replay.total_hint() if show else None)
                summaries.append(replay.run(lambda records: bar.advance(task, records)))
                replay = None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: flushed what was produced so far[/]")
        exit_code = 130
    if replay is not None:  # the source that was cut short still gets its line
        summaries.append(replay.summary)
    schemas = {c.name: c.schema_name for c in selected}
    for summary in summaries:
        report_source(console, summary, schemas[summary.source])
    if summaries:
        make_console().print(summary_table(summaries, title, produced))
    if exit_code == 0 and any(s.failure or not s.accounted for s in summaries):
        exit_code = 1
    return exit_code


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=DEFAULT_CONFIG,
              show_default=True, help="pipeline config naming the sources")
@click.option("-v", "--verbose", is_flag=True, help="debug logging")
@click.pass_context
def main(ctx: click.Context, config_path: Path, verbose: bool) -> None:
    """Replay CSV, JSON and NDJSON files and paginated HTTP APIs as Avro events on Kafka.

    Each source in the pipeline config goes to the topic <domain>.<entity>.v<N>,
    keyed by its natural key. Bad records are reported as `file:line: field: reason`
    and written to a rejects file; the good records are still produced. Every
    config key is described in docs/sources.md.
    """
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = config_path


@main.command("list")
@click.pass_obj
def list_sources(config_path: Path) -> None:
    """Show the configured sources, their topics and raw tables."""
    table = Table()
    for column in ("source", "format", "location", "topic", "raw table", "key"):
        table.add_column(column)
    for s in _load(config_path).sources:
        table.add_row(s.name, s.format, s.location, s.topic, qualified(s.raw_table), ", ".join(s.key))
    make_console().print(table)


@main.command()
@replay_options
@click.option("--rate", type=click.FloatRange(min=0), default=0,
              help="replay pace in events per second per source (0: as fast as possible)")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=None,
              help="replay at the source's own rhythm (its event-time field), this many times faster: "
                   "60 plays an hour in a minute")
@click.pass_obj
def run(config_path: Path, sources: tuple[str, ...], rate: float, speed: float | None, max_rejects: int | None,
        rejects_dir: Path, strict: bool, progress: bool | None) -> None:
    """Replay SOURCES (default: all configured sources) into Kafka.

    Exits 1 when a source failed: input broken as a whole, every record
    rejected, more than --max-rejects, or events Kafka did not take.
    """
    if rate and speed:
        raise click.UsageError("pace by --rate or by --speed, not both")
    selected = _select(_load(config_path), sources)
    client_config = kafka_client_config()
    try:
        ensure_topics(client_config, [s.topic for s in selected], get_settings().kafka_partitions)
    except Exception as exc:  # confluent raises KafkaException with a KafkaError inside
        raise click.ClickException(f"cannot reach Kafka at {client_config['bootstrap.servers']}: {exc}") from None
    options = ReplayOptions(rejects_dir, max_rejects, strict, progress)
    sys.exit(replay_all(selected, Publisher(client_config), options, lambda: make_pacer(rate, speed)))


@main.command()
@replay_options
@click.pass_obj
def validate(config_path: Path, sources: tuple[str, ...], max_rejects: int | None, rejects_dir: Path,
             strict: bool, progress: bool | None) -> None:
    """Read and check SOURCES (default: all) exactly as `run` would, producing nothing.

    Every record is parsed, encoded and size-checked; rejects and skips are
    written and the summary printed. No Kafka needed. Same exit codes as `run`.
    """
    selected = _select(_load(config_path), sources)
    options = ReplayOptions(rejects_dir, max_rejects, strict, progress)
    sys.exit(replay_all(selected, DryRun(kafka_client_config()), options, title="validation summary",
                        produced="valid"))


def _instant(value: str | None) -> datetime | None:
    from producers.polling import parse_instant

    try:
        return parse_instant(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 date or timestamp: {value!r}") from None


@main.command()
@click.argument("sources", nargs=-1)
@click.option("--since", default=None, help="backfill: start of the window (ISO 8601, UTC unless it says)")
@click.option("--until", default=None, help="backfill: end of the window, excluded")
@click.option("--rejects-dir", type=click.Path(path_type=Path, file_okay=False),
              default=PROJECT_ROOT / "rejects", show_default=True)
@click.pass_obj
def poll(config_path: Path, sources: tuple[str, ...], since: str | None, until: str | None,
         rejects_dir: Path) -> None:
    """Publish what changed since the last poll of SOURCES (default: every source with `incremental`).

    The cursor of each source is kept under STREAMMART_HOME/poll-state and moves only once
    Kafka has every event of the poll. With --since and --until, republish that window of
    the API's history instead, leaving the cursor alone.
    """
    from producers.polling import poll_configured

    try:
        results = poll_configured(list(sources) or None, _instant(since), _instant(until), config_path, rejects_dir)
    except (PipelineConfigError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    for result in results:
        report_source(console, result.summary, result.schema_name)
        before, after = (c.at.isoformat() if c.at else "none" for c in (result.cursor_before, result.cursor_after))
        console.print(f"{result.summary.source}: cursor {before} -> {after}"
                      + ("" if result.saved else " (not moved)"))
    make_console().print(summary_table([r.summary for r in results], "poll summary", "produced"))
    sys.exit(1 if any(r.summary.failure or not r.summary.accounted for r in results) else 0)


@main.command()
@click.argument("domain", type=click.Choice(sample_domains()))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="output folder (default: data/<domain>)")
@click.option("--scale", type=click.IntRange(min=1), default=1, show_default=True,
              help="multiply the number of records")
@click.option("--seed", type=int, default=7, show_default=True)
def sample(domain: str, out: Path | None, scale: int, seed: int) -> None:
    """Generate DOMAIN's sample data (deterministic for a seed), dirt included."""
    out = out or PROJECT_ROOT / "data" / domain
    for path, count in generator(domain)(out, scale=scale, seed=seed).items():
        console.print(f"wrote {count:>6} records to {path}")


@main.command("demo-api")
@click.option("--port", type=int, default=None, help="default: STREAMMART_DEMO_API_PORT (18081)")
@click.option("--data", "data_dirs", type=click.Path(path_type=Path, file_okay=False), multiple=True,
              default=[PROJECT_ROOT / "data" / "retail", PROJECT_ROOT / "data" / "telehealth"], show_default=True,
              help="a folder whose *.json arrays are served (repeatable)")
def demo_api(port: int | None, data_dirs: tuple[Path, ...]) -> None:
    """Serve the sample collections (retail customers, telehealth appointments) as a paginated JSON API
    on 127.0.0.1."""
    from producers.demo_api import serve

    serve(data_dirs, port or get_settings().demo_api_port)


if __name__ == "__main__":
    main()
