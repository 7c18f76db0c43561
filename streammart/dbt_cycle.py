"""One micro-batch cycle of the dbt project: check freshness, build what has new data.

This is the only place that runs dbt for the pipeline: the Airflow DAGs and the
command line (``python -m streammart.dbt_cycle``) both call :func:`run_cycle`, so
a cycle behaves the same wherever it is started.

A cycle is

0. ``dbt parse``: partial parsing (``target/partial_parse.msgpack`` under the
   stack's home) makes this a check that nothing changed; the manifest it returns
   is handed to the two commands below, which would otherwise load it again each;
1. ``dbt source freshness``: records each raw table's newest ``_landed_at`` in
   ``target/sources.json``;
2. ``dbt build --select "source_status:fresher+ state:modified+" --state <state>``:
   builds and tests only the models downstream of a raw table that received rows
   since the last successful cycle (plus models whose code changed). Without a
   previous state the whole project is built;
3. on success, the artifacts (``manifest.json``, ``sources.json``,
   ``run_results.json``) are copied to the state directory: they are what the
   next cycle compares against. A failed cycle (or one limited by ``select``)
   leaves the state alone, so the next cycle retries everything that was fresher
   than the last complete, successful one.

A cycle started by the worker's "batch landed" signal (the event-driven DAG) knows
which raw tables received rows: it skips step 1 and builds what is downstream of
those sources (``landed_tables``), a partial selection that leaves the state alone.

Tests of the retail models over raw check only the keys landed recently (see
``dbt/macros/tests_on_recent_rows.sql``); a full refresh, or ``full_tests``, runs
them over every row.

dbt runs in-process through ``dbtRunner``: a warm invocation costs well under a
second, where a ``dbt`` subprocess pays several seconds of start-up every cycle.
Importing dbt alone takes 3–4 s; the local stack's Airflow scheduler does it once
(:func:`import_dbt`) so that the task processes it forks start with dbt loaded.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from streammart.cycle_history import append_cycle
from streammart.settings import PROJECT_ROOT, Settings, get_settings

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"

#: What an ordinary cycle builds: everything downstream of a source with new rows,
#: and everything downstream of a model whose definition changed since the state.
INCREMENTAL_SELECTOR = "source_status:fresher+ state:modified+"

#: dbt variables of a build whose tests must see every row, not only the recent ones.
#: Read only when tests run, never while parsing: the cycle's manifest stays valid.
FULL_TESTS_VARS = "{full_tests: true}"

#: Artifacts the next cycle needs from this one (``--state`` reads them).
STATE_ARTIFACTS = ("manifest.json", "sources.json", "run_results.json")

STATUS_SUCCESS = "success"
STATUS_NOTHING_TO_DO = "nothing_to_do"
STATUS_FAILED = "failed"


class CycleBusyError(RuntimeError):
    """Another cycle holds the lock on this host for longer than we were willing to wait."""


class CycleFailedError(RuntimeError):
    """A cycle finished with errors (a model failed, a test failed, dbt could not run)."""

    def __init__(self, result: CycleResult) -> None:
        self.result = result
        detail = "; ".join(result.errors[:5]) or "see the dbt log"
        super().__init__(f"dbt cycle failed ({result.mode}): {detail}")


@dataclass(frozen=True)
class CyclePaths:
    """Where a cycle reads the project from and writes its artifacts, logs and state.

    Target, logs and state live under the stack's home (not in the repository) so
    that several checkouts or read-only installs do not share or dirty them.
    """

    project_dir: Path
    profiles_dir: Path
    target_dir: Path
    log_dir: Path
    state_dir: Path
    lock_file: Path
    history_file: Path

    @classmethod
    def for_settings(cls, settings: Settings, project_dir: Path = DBT_PROJECT_DIR) -> CyclePaths:
        base = Path(settings.home) / "dbt"
        return cls(
            project_dir=project_dir,
            profiles_dir=project_dir,
            target_dir=base / "target",
            log_dir=base / "logs",
            state_dir=base / "state",
            lock_file=base / "cycle.lock",
            history_file=base / "cycles.jsonl",
        )

    def has_state(self) -> bool:
        """True when a previous successful cycle left artifacts to compare against."""
        return all((self.state_dir / name).is_file() for name in ("manifest.json", "sources.json"))


@dataclass
class SourceFreshness:
    """Freshness of one raw table as seen by this cycle."""

    status: str
    max_loaded_at: str | None = None
    age_seconds: float | None = None
    error: str | None = None


@dataclass
class CycleResult:
    """What one cycle did; ``as_dict()`` is what the Airflow task publishes as XCom."""

    status: str = STATUS_FAILED
    mode: str = "full"
    selector: str | None = None
    warm_start: bool = False
    landed_tables: list[str] = field(default_factory=list)
    started_at: str = ""
    seconds: float = 0.0
    freshness_seconds: float = 0.0
    build_seconds: float = 0.0
    sources: dict[str, SourceFreshness] = field(default_factory=dict)
    fresher_sources: list[str] = field(default_factory=list)
    models_built: list[str] = field(default_factory=list)
    snapshots_built: list[str] = field(default_factory=list)
    models_failed: list[str] = field(default_factory=list)
    nodes_skipped: list[str] = field(default_factory=list)
    rows_affected: dict[str, int] = field(default_factory=dict)
    tests_passed: int = 0
    tests_warned: int = 0
    tests_failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != STATUS_FAILED

    @property
    def stale_sources(self) -> list[str]:
        """Sources past their warn/error freshness threshold (reported, not fatal)."""
        return sorted(name for name, f in self.sources.items() if f.status != "pass")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stale_sources"] = self.stale_sources
        return data

    def raise_for_status(self) -> CycleResult:
        """Raise :class:`CycleFailedError` when the cycle failed, else return self."""
        if not self.ok:
            raise CycleFailedError(self)
        return self

    def summary(self) -> str:
        """One line for logs and the command line."""
        what = f"{len(self.models_built)} models" if self.models_built else "nothing built"
        return (
            f"{self.status} [{self.mode}] {what}, tests {self.tests_passed} passed / "
            f"{self.tests_warned} warned / {self.tests_failed} failed, "
            f"fresher: {', '.join(self.fresher_sources) or '-'}, "
            f"{self.seconds:.2f}s (freshness {self.freshness_seconds:.2f}s, build {self.build_seconds:.2f}s)"
        )


def import_dbt() -> None:
    """Import dbt and its Postgres adapter now, in a process that forks cycles later.

    A forked child inherits the parent's imported modules, so a task process forked
    from a process that called this skips the 3–4 s of imports at the start of a cycle.
    """
    import dbt.adapters.postgres  # noqa: F401
    import dbt.cli.main  # noqa: F401


def run_cycle_for_task(full_refresh: bool = False, select: str | None = None,
                       full_tests: bool = False, landed_tables: Sequence[str] = ()) -> dict[str, Any]:
    """The body of every DAG's dbt task: one cycle, its summary in the task log,
    the task failed when the cycle failed, the statistics returned for XCom."""
    result = run_cycle(full_refresh=full_refresh, select=select, full_tests=full_tests,
                       landed_tables=landed_tables)
    print(result.summary())
    result.raise_for_status()
    return result.as_dict()


def run_cycle(
    full_refresh: bool = False,
    select: str | None = None,
    *,
    full_tests: bool = False,
    landed_tables: Sequence[str] = (),
    settings: Settings | None = None,
    lock_timeout: float = 300.0,
    paths: CyclePaths | None = None,
) -> CycleResult:
    """Run one micro-batch cycle and return what it did (it does not raise on dbt errors).

    ``full_refresh`` rebuilds the incremental marts from scratch; ``select`` replaces
    the "fresher sources" selection with an explicit dbt selector (state-based
    selectors such as ``state:modified`` still work when a state exists).
    ``full_tests`` runs the tests limited to recently landed rows over every row
    (a full refresh always does). ``landed_tables`` (``raw.<table>``, as the landed
    signal names them) replaces the freshness step and the "fresher" selection with
    the models downstream of those tables' sources; tables no source reads are ignored,
    and when none is left the cycle is an ordinary one.
    Raises :class:`CycleBusyError` when another cycle keeps the lock past
    ``lock_timeout`` seconds.
    """
    settings = settings or get_settings()
    paths = paths or CyclePaths.for_settings(settings)
    result = CycleResult(started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                         warm_start="dbt.cli.main" in sys.modules, landed_tables=sorted(landed_tables))
    started = time.monotonic()
    with cycle_lock(paths.lock_file, lock_timeout), dbt_environment(settings):
        _prepare_dirs(paths)
        manifest = parse_project(paths)
        landed = landed_sources(manifest, landed_tables) if select is None and not full_refresh else []
        if landed:
            select = " ".join(f"source:{name}+" for name in landed)
            result.fresher_sources = landed
        else:
            _run_freshness(paths, result, manifest)
        if not result.errors:
            _run_build(paths, result, manifest, full_refresh=full_refresh, select=select, full_tests=full_tests)
        if landed:
            result.mode = "landed"
        if result.ok and select is None:
            # A partial selection must not become the baseline: models it left out
            # would never see the rows that were fresher before it ran.
            save_state(paths)
        result.seconds = round(time.monotonic() - started, 3)
        append_cycle(paths.history_file, result.as_dict())
    return result


@contextlib.contextmanager
def cycle_lock(lock_file: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_file`` while a cycle runs.

    Two cycles on one host (the scheduled DAG and a manual backfill or CLI run)
    would otherwise write the same target directory and race on the marts'
    watermarks. ``flock`` is released by the kernel if the process dies, so a
    crashed cycle never leaves a stale lock behind.
    """
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with open(lock_file, "a+") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise CycleBusyError(
                        f"another dbt cycle holds {lock_file} (waited {timeout:.0f}s)"
                    ) from None
                time.sleep(0.2)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def profile_environment(settings: Settings) -> dict[str, str]:
    """Environment variables that ``dbt/profiles.yml`` reads, from the pipeline settings.

    The profile only knows ``STREAMMART_PG_*`` variables; taking them from
    :func:`get_settings` means the stack's ``secrets.env`` works without the caller
    exporting anything.
    """
    return {
        "STREAMMART_PG_HOST": settings.pg_host,
        "STREAMMART_PG_PORT": str(settings.pg_port),
        "STREAMMART_PG_DATABASE": settings.pg_database,
        "STREAMMART_PG_TRANSFORM_PASSWORD": settings.password("transform"),
        "STREAMMART_DBT_TARGET": settings.dbt_target,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


@contextlib.contextmanager
def dbt_environment(settings: Settings) -> Iterator[None]:
    """Export the profile's variables for the duration of a cycle, then restore them.

    dbt reads ``env_var()`` from ``os.environ``; restoring afterwards keeps a long-lived
    caller (a test session, a worker) from carrying a password around in its environment.
    """
    updates = profile_environment(settings)
    saved = {name: os.environ.get(name) for name in updates}
    os.environ.update(updates)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dbt_args(paths: CyclePaths, command: Sequence[str], *extra: str) -> list[str]:
    """Full argument list for one dbt command with this cycle's directories."""
    return [
        "--no-use-colors",
        *command,
        "--project-dir", str(paths.project_dir),
        "--profiles-dir", str(paths.profiles_dir),
        "--target-path", str(paths.target_dir),
        "--log-path", str(paths.log_dir),
        *extra,
    ]


def build_args(paths: CyclePaths, *, full_refresh: bool, select: str | None,
               full_tests: bool = False) -> tuple[str, str | None, list[str]]:
    """Choose the build mode and selection; returns (mode, selector, dbt args).

    Without a previous state there is nothing to compare freshness against, so the
    first cycle (and every full refresh) builds the whole project; a full refresh
    also tests every row.
    """
    extra: list[str] = []
    state = paths.has_state()
    if state:
        extra += ["--state", str(paths.state_dir)]
    if full_refresh:
        mode, selector = "full_refresh", select
        extra.append("--full-refresh")
    elif select:
        mode, selector = "select", select
    elif state:
        mode, selector = "fresher", INCREMENTAL_SELECTOR
    else:
        mode, selector = "full", None
    if selector:
        extra += ["--select", selector]
    if full_tests or full_refresh:
        extra += ["--vars", FULL_TESTS_VARS]
    return mode, selector, dbt_args(paths, ["build"], *extra)


def invoke_dbt(args: list[str], manifest: Any = None) -> Any:
    """Run one dbt command in this process and return dbt's ``dbtRunnerResult``.

    With ``manifest`` (from :func:`parse_project`) dbt neither loads nor writes the
    project's manifest again. Imported lazily: importing dbt takes seconds, which
    the DAG parser and the CLI's ``--help`` should not pay.
    """
    from dbt.cli.main import dbtRunner

    return dbtRunner(manifest=manifest).invoke(args)


def parse_project(paths: CyclePaths) -> Any:
    """The project's manifest, parsed once for the whole cycle (``None`` if parsing failed).

    Each dbt command loads the manifest for itself otherwise (reading the partial
    parse file, checking every project file, writing ``manifest.json``): about a
    second and a half per command. Parsing failures are left for the freshness
    command to report, the way a cycle always reported them.
    """
    outcome = invoke_dbt(dbt_args(paths, ["parse"]))
    return outcome.result if outcome.success else None


def landed_sources(manifest: Any, tables: Sequence[str]) -> list[str]:
    """The dbt sources (``retail.retail__orders``) that read the raw tables named
    ``raw.retail__orders`` in landed signals, in the manifest's own spelling."""
    wanted = set(tables)
    if manifest is None or not wanted:
        return []
    return sorted(
        f"{source.source_name}.{source.name}"
        for source in manifest.sources.values()
        if f"{source.schema}.{source.identifier}" in wanted
    )


def save_state(paths: CyclePaths) -> None:
    """Copy this cycle's artifacts to the state directory for the next cycle.

    Each file is written next to its final name and renamed, so a crash never
    leaves a half-written artifact that would break the next ``--state`` read.
    """
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    for name in STATE_ARTIFACTS:
        source = paths.target_dir / name
        if not source.is_file():
            continue
        partial = paths.state_dir / f".{name}.partial"
        shutil.copyfile(source, partial)
        os.replace(partial, paths.state_dir / name)


def reset_state(settings: Settings | None = None) -> None:
    """Forget the previous cycle, so the next one builds the whole project."""
    paths = CyclePaths.for_settings(settings or get_settings())
    shutil.rmtree(paths.state_dir, ignore_errors=True)


def fresher_sources(previous: Path, current: Path) -> list[str]:
    """Sources whose newest load is later in ``current`` than in ``previous`` sources.json.

    This mirrors dbt's ``source_status:fresher`` rule, to report *which* raw tables
    caused the cycle to build.
    """
    before = _max_loaded_at(previous)
    after = _max_loaded_at(current)
    return sorted(
        _source_name(unique_id)
        for unique_id, loaded in after.items()
        if unique_id not in before or loaded > before[unique_id]
    )


def _prepare_dirs(paths: CyclePaths) -> None:
    for directory in (paths.target_dir, paths.log_dir, paths.state_dir):
        directory.mkdir(parents=True, exist_ok=True)


def _run_freshness(paths: CyclePaths, result: CycleResult, manifest: Any) -> None:
    """Record each source's freshness; a stale source is reported, not fatal.

    Stale data is a monitoring concern: the cycle still builds whatever is fresher.
    Only a dbt that cannot run at all (bad profile, database down) stops the cycle.
    """
    started = time.monotonic()
    outcome = invoke_dbt(dbt_args(paths, ["source", "freshness"]), manifest)
    result.freshness_seconds = round(time.monotonic() - started, 3)
    if outcome.exception is not None or outcome.result is None:
        result.errors.append(f"source freshness: {outcome.exception or 'no result'}")
        result.status = STATUS_FAILED
        return
    for node_result in outcome.result.results:
        node = node_result.node
        if str(node.resource_type) != "source":
            continue  # the project's hooks run with freshness too
        result.sources[f"{node.source_name}.{node.name}"] = _source_freshness(node_result)
    if paths.has_state():
        result.fresher_sources = fresher_sources(paths.state_dir / "sources.json", paths.target_dir / "sources.json")


def _source_freshness(node_result: Any) -> SourceFreshness:
    loaded = getattr(node_result, "max_loaded_at", None)
    age = getattr(node_result, "age", None)
    if loaded is not None and loaded.year <= 1:  # dbt's stand-in for an empty table
        loaded = age = None
    return SourceFreshness(
        status=str(node_result.status),
        max_loaded_at=loaded.isoformat() if loaded else None,
        age_seconds=round(age, 1) if age is not None else None,
        error=node_result.message if str(node_result.status) == "runtime error" else None,
    )


def _run_build(paths: CyclePaths, result: CycleResult, manifest: Any, *, full_refresh: bool, select: str | None,
               full_tests: bool) -> None:
    result.mode, result.selector, args = build_args(paths, full_refresh=full_refresh, select=select,
                                                    full_tests=full_tests)
    started = time.monotonic()
    outcome = invoke_dbt(args, manifest)
    result.build_seconds = round(time.monotonic() - started, 3)
    if outcome.exception is not None:
        result.errors.append(f"build: {outcome.exception}")
    if outcome.result is not None:
        _collect_build_results(outcome.result.results, result)
    if result.errors or result.models_failed or result.tests_failed or not outcome.success:
        result.status = STATUS_FAILED
        if not result.errors:
            result.errors.append("dbt build reported a failure")
    elif result.models_built or result.snapshots_built or result.tests_passed or result.tests_warned:
        result.status = STATUS_SUCCESS
    else:
        result.status = STATUS_NOTHING_TO_DO


def _collect_build_results(node_results: Sequence[Any], result: CycleResult) -> None:
    """Sort dbt's per-node results into the counters of :class:`CycleResult`."""
    for node_result in node_results:
        node = node_result.node
        kind, name, status = str(node.resource_type), node.name, str(node_result.status)
        if status == "skipped":
            result.nodes_skipped.append(name)
        elif kind in ("test", "unit_test"):
            _count_test(result, name, status, node_result.message)
        elif kind in ("model", "snapshot", "seed"):
            _count_model(result, kind, name, status, node_result)
        elif status == "error":  # a project hook (operation) that failed
            result.errors.append(f"{kind} {name}: {node_result.message or 'error'}")


def _count_test(result: CycleResult, name: str, status: str, message: str | None) -> None:
    if status == "pass":
        result.tests_passed += 1
    elif status == "warn":
        result.tests_warned += 1
    else:
        result.tests_failed += 1
        result.errors.append(f"test {name}: {status} {message or ''}".strip())


def _count_model(result: CycleResult, kind: str, name: str, status: str, node_result: Any) -> None:
    if status in ("success", "no-op"):
        (result.snapshots_built if kind == "snapshot" else result.models_built).append(name)
        rows = (node_result.adapter_response or {}).get("rows_affected")
        if isinstance(rows, int) and rows >= 0:
            result.rows_affected[name] = rows
    else:
        result.models_failed.append(name)
        result.errors.append(f"{kind} {name}: {status} {node_result.message or ''}".strip())


def _max_loaded_at(sources_json: Path) -> dict[str, datetime]:
    try:
        artifact = json.loads(sources_json.read_text())
    except (OSError, ValueError):
        return {}
    loaded: dict[str, datetime] = {}
    for entry in artifact.get("results", []):
        value = entry.get("max_loaded_at")
        if value:
            loaded[entry["unique_id"]] = _parse_timestamp(value)
    return loaded


def _parse_timestamp(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _source_name(unique_id: str) -> str:
    """``source.streammart.retail.retail__orders`` -> ``retail.retail__orders``."""
    return ".".join(unique_id.split(".")[-2:])


def _print_result(result: CycleResult, as_json: bool, echo: Any) -> None:
    if as_json:
        echo(json.dumps(result.as_dict(), indent=2, default=str))
        return
    echo(result.summary())
    for name, freshness in sorted(result.sources.items()):
        echo(f"  source {name}: {freshness.status} (newest row {freshness.max_loaded_at}, age {freshness.age_seconds}s)")
    for name in result.models_built + result.snapshots_built:
        rows = result.rows_affected.get(name)
        echo(f"  built {name}" + (f" ({rows} rows)" if rows is not None else ""))
    for error in result.errors:
        echo(f"  error: {error}")


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m streammart.dbt_cycle``: run one cycle by hand and print what it did."""
    import click

    @click.command(context_settings={"help_option_names": ["-h", "--help"]})
    @click.option("--full-refresh", is_flag=True, help="Rebuild the incremental marts from scratch.")
    @click.option("--select", "select", default=None, help="dbt selector to build instead of the fresher sources.")
    @click.option("--full-tests", is_flag=True, help="Test every row, not only the recently landed keys.")
    @click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
    @click.option("--lock-timeout", default=300.0, show_default=True, help="Seconds to wait for a running cycle.")
    def cli(full_refresh: bool, select: str | None, full_tests: bool, as_json: bool, lock_timeout: float) -> None:
        """Run one dbt micro-batch cycle: source freshness, then build what has new data."""
        try:
            result = run_cycle(full_refresh=full_refresh, select=select, full_tests=full_tests,
                               lock_timeout=lock_timeout)
        except (CycleBusyError, RuntimeError) as exc:
            raise click.ClickException(str(exc)) from exc
        _print_result(result, as_json, click.echo)
        if not result.ok:
            raise SystemExit(1)

    cli.main(args=list(argv) if argv is not None else None, prog_name="python -m streammart.dbt_cycle")


if __name__ == "__main__":
    main()
