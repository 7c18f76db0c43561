"""The stack as a whole: which services exist, in which order they start and stop.

Postgres comes first (Airflow keeps its metadata there), then Kafka, then the
pipeline's own processes (landing worker, demo API, dashboard), then Airflow; stopping goes
the other way. Starting a service also starts what it cannot run without.
"""
from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from stack import airflow, kafka, postgres
from stack.pipeline_processes import dashboard, demo_api, processors
from stack.processes import ServiceStatus, StackError
from stack.secrets import ensure_secrets, read_env_file
from streammart.settings import PROJECT_ROOT, Settings, get_settings, load_settings, secrets_file

log = logging.getLogger(__name__)

SERVICE_NAMES: tuple[str, ...] = ("postgres", "kafka", "processors", "demo-api", "dashboard", "airflow")  # start order
MODULES: dict[str, ModuleType | object] = {"postgres": postgres, "kafka": kafka, "processors": processors,
                                           "demo-api": demo_api, "dashboard": dashboard, "airflow": airflow}
REQUIRES: dict[str, tuple[str, ...]] = {"airflow": ("postgres",), "processors": ("postgres", "kafka"),
                                        "dashboard": ("postgres",)}


def in_start_order(names: Iterable[str] | None, with_requirements: bool = False) -> list[str]:
    """``names`` (default: all) validated and sorted in start order."""
    wanted = set(names or SERVICE_NAMES)
    unknown = wanted - set(SERVICE_NAMES)
    if unknown:
        raise StackError(f"unknown service(s) {', '.join(sorted(unknown))}; choose from {', '.join(SERVICE_NAMES)}")
    if with_requirements:
        for name in list(wanted):
            wanted.update(REQUIRES.get(name, ()))
    return [name for name in SERVICE_NAMES if name in wanted]


def with_secrets(settings: Settings) -> Settings:
    """``settings`` with unset secrets filled from ``<settings.home>/secrets.env``.

    :func:`load_settings` reads the secrets file of ``$STREAMMART_HOME``; this also
    covers settings built for another home (tests, scripts).
    """
    stored = read_env_file(secrets_file(settings.home))
    updates = {}
    for field in Settings.model_fields:
        value = stored.get(f"STREAMMART_{field.upper()}")
        if value and getattr(settings, field) is None:
            updates[field] = value
    return settings.model_copy(update=updates) if updates else settings


def prepared_settings(settings: Settings | None = None) -> Settings:
    """Settings with every secret present, generating missing ones on first use."""
    if settings is None:
        home = load_settings().home
        ensure_secrets(home)
        get_settings.cache_clear()
        return get_settings()
    ensure_secrets(settings.home)
    return with_secrets(settings)


def ensure_running(names: Iterable[str] | None = None, settings: Settings | None = None) -> Settings:
    """Start the named services (default all) unless running; wait until each is ready.

    Returns the settings the services were started with (secrets included), which
    is what clients should connect with.
    """
    settings = prepared_settings(settings)
    for name in in_start_order(names, with_requirements=True):
        message = MODULES[name].start(settings)
        log.info("%s: %s", name, message)
    return settings


def stop(names: Iterable[str] | None = None, settings: Settings | None = None, purge: bool = False) -> None:
    """Stop the named services (default all) in reverse start order; optionally delete their data."""
    settings = settings or get_settings()
    selected = in_start_order(names)
    for name in reversed(selected):
        message = MODULES[name].stop(settings)
        log.info("%s: %s", name, message)
    if purge:
        purge_data(settings, selected)


def _checked_home(home: Path) -> Path:
    resolved = home.resolve()
    forbidden = {Path("/"), PROJECT_ROOT.resolve(), Path.home().resolve()}
    if resolved in forbidden or len(resolved.parts) < 3:
        raise StackError(f"refusing to purge {resolved}: STREAMMART_HOME must be a directory of its own")
    return resolved


def purge_data(settings: Settings, names: Iterable[str]) -> None:
    """Delete service data; all services purged means the whole home, secrets included."""
    home = _checked_home(settings.home)
    selected = set(names)
    if selected == set(SERVICE_NAMES):
        if home.exists():
            shutil.rmtree(home)
        get_settings.cache_clear()
        log.info("purged %s", home)
        return
    for name in selected:
        targets = [home / name, *MODULES[name].log_paths(settings)]
        if name == "airflow":
            targets.append(airflow.migrate_log(settings))
        for target in targets:
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
        log.info("%s: purged its data and logs", name)


def statuses(settings: Settings | None = None) -> list[ServiceStatus]:
    settings = with_secrets(settings or get_settings())
    rows: list[ServiceStatus] = []
    for name in SERVICE_NAMES:
        rows.extend(MODULES[name].status(settings))
    return rows


def log_files(target: str, settings: Settings | None = None) -> list[Path]:
    """Log files of a service (``airflow`` means all its components) or of one Airflow component."""
    settings = settings or get_settings()
    if target in MODULES:
        return MODULES[target].log_paths(settings)
    component = target.removeprefix("airflow-")
    if component in airflow.COMPONENTS:
        return [airflow.component_log(settings, component)]
    if component == "db-migrate":
        return [airflow.migrate_log(settings)]
    raise StackError(f"no logs for {target!r}")


LOG_TARGETS: tuple[str, ...] = (
    *SERVICE_NAMES,
    *(f"airflow-{c}" for c in airflow.COMPONENTS),
    "airflow-db-migrate",
)
