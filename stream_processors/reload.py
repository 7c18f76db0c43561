"""A running worker picks up a changed pipeline config by restarting itself.

The worker builds its consumer and decoders when it starts, so a source added to
``pipeline.yml`` (or a new contract version in ``schemas/``) would wait for
someone to restart the worker. Instead the worker hashes the config and the
contract files every few seconds; when they changed, the new config is valid
and what it lands differs (topics, raw tables, their columns, the contract
versions it can read), the worker says what changed, stops like on SIGTERM and
executes its own command again: same pid, so the stack's pidfile and readiness
check still name it. An invalid config is logged and the worker goes on with
the one it has.

Exactly-once holds across the restart as across any other: positions come from
``raw._ingest_offsets`` (written with the rows), not from Kafka's commits.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import signal
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import NoReturn

import faust

from schemas.registry import SchemaRegistry, contract_files, load_registry
from stream_processors.app import landing_targets
from stream_processors.decoding import LandingTarget
from streammart.contract import qualified
from streammart.pipeline import PipelineConfig, PipelineConfigError, load_pipeline

log = logging.getLogger("stream_processors")

#: Seconds between two looks at the config and the contracts (a hash of a few small files).
CHECK_INTERVAL = 2.0


@dataclass(frozen=True)
class TopicPlan:
    """How one topic lands; two plans that compare equal need no restart (source names do not count).

    The target is the worker's own :class:`LandingTarget`, so whatever decides how a
    topic lands (raw table and columns, event-time field, …) decides a restart too.
    """

    target: LandingTarget
    versions: frozenset[str]  # fingerprints of every contract version the worker decodes for it
    sources: tuple[str, ...] = field(compare=False)


LandingPlan = dict[str, TopicPlan]


def landing_plan(pipeline: PipelineConfig, registry: SchemaRegistry) -> LandingPlan:
    """What a worker started on ``pipeline`` lands, topic by topic."""
    sources: dict[str, list[str]] = defaultdict(list)
    for source in pipeline.sources:
        sources[source.topic].append(source.name)
    return {
        topic: TopicPlan(target, frozenset(v.fingerprint_hex for v in registry.versions_of(target.schema_domain,
                                                                                            target.schema_entity)),
                         tuple(sources[topic]))
        for topic, target in landing_targets(pipeline).items()
    }


def plan_changes(old: LandingPlan, new: LandingPlan) -> list[str]:
    """What differs between two plans, one phrase per kind of change (empty: nothing to restart for)."""
    added = [t for t in new if t not in old]
    removed = [t for t in old if t not in new]
    kept = [t for t in new if t in old and new[t] != old[t]]
    changes = []
    if added:
        changes.append("new source(s) " + ", ".join(f"{', '.join(new[t].sources)} → topic {t}" for t in added))
    if removed:
        changes.append("source(s) removed: " + ", ".join(f"{', '.join(old[t].sources)} (topic {t})" for t in removed))
    for topic in kept:
        before, after = old[topic], new[topic]
        if before.target.table != after.target.table:
            changes.append(f"topic {topic} now lands in {qualified(after.target.table.name)} with columns "
                           f"{', '.join(c.name for c in after.target.table.copy_columns)}")
        other = [f.name for f in fields(LandingTarget)
                 if f.name != "table" and getattr(before.target, f.name) != getattr(after.target, f.name)]
        if other:
            changes.append(f"topic {topic}: {', '.join(other)} changed")
        if before.versions != after.versions:
            changes.append(f"topic {topic} can now decode {len(after.versions)} version(s) of its contract "
                           f"(was {len(before.versions)})")
    return changes


def restart_message(changed: str, changes: list[str], added: bool) -> str:
    why = "to land them" if added else "to apply it"
    return f"{changed} changed: {'; '.join(changes)}; restarting the worker {why}"


def files_digest(paths: list[Path]) -> str:
    """A hash of the files' names and content (an unreadable file counts as such)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError as exc:  # a missing config is reported by load_pipeline
            digest.update(f"unreadable: {exc.strerror}".encode())
    return digest.hexdigest()


def inputs_digest(config: Path, schema_dir: Path | None = None) -> tuple[str, str]:
    """(hash of the config file, hash of every contract file): what the worker's landing depends on."""
    current, earlier = contract_files(schema_dir)
    return files_digest([config]), files_digest([*current, *earlier])


class ConfigWatch:
    """Compares the config the worker runs with what is on disk; says why to restart, when it must."""

    def __init__(self, config: Path, plan: LandingPlan, on_change: Callable[[str], None]):
        self.config = Path(config)
        self.plan = plan
        self.on_change = on_change
        # Unknown at first: the first check compares the files with the running plan, so a
        # change made while the worker was starting is not mistaken for the running config.
        self.digest: tuple[str, str] | None = None

    def check(self) -> str | None:
        """The restart message when the files changed into a valid config that lands differently."""
        digest = inputs_digest(self.config)
        if digest == self.digest:
            return None
        previous, self.digest = self.digest, digest
        plan = self._load_plan()
        if plan is None:
            return None
        changes = plan_changes(self.plan, plan)
        if changes:
            changed = self.config.name if previous is None or previous[0] != digest[0] else "schemas/"
            return restart_message(changed, changes, any(t not in self.plan for t in plan))
        if previous is not None:
            log.info("%s or its contracts changed; what the worker lands did not: nothing to restart", self.config)
        return None

    def _load_plan(self) -> LandingPlan | None:
        """The plan of the config on disk, or None (logged) when it is not valid."""
        try:
            load_registry.cache_clear()  # the config may name a contract file that is new
            return landing_plan(load_pipeline(self.config), load_registry())
        except (PipelineConfigError, ValueError) as exc:  # SchemaError is a ValueError
            log.error("%s or its contracts changed, but the result is not valid; still landing with the config "
                      "the worker started with:\n%s", self.config, exc)
        except Exception:  # noqa: BLE001 - a config the worker cannot read must never stop it landing
            log.exception("%s or its contracts changed and could not be loaded; still landing with the config "
                          "the worker started with", self.config)
        return None

    def attach(self, app: faust.App) -> None:
        """Check every :data:`CHECK_INTERVAL` seconds while ``app`` runs."""
        app.timer(interval=CHECK_INTERVAL, name="watch_pipeline_config")(self.poll)

    async def poll(self) -> None:
        """The Faust timer body: check off the event loop, then hand a restart over."""
        message = await asyncio.to_thread(self.check)
        if message:
            log.warning("%s", message)
            self.on_change(message)


class LandingWorker(faust.Worker):
    """Faust's worker, able to stop itself to be started again on a new config.

    A restart goes through mode's signal shutdown path (the one that waits for
    every service, consumer included, to stop). A real SIGTERM or SIGINT wins over
    a pending restart, so a stop asked for by the stack is never answered with a
    new process.
    """

    restart_reason: str | None = None
    interrupted: bool = False

    def request_restart(self, reason: str) -> None:
        if self.restart_reason is None:
            self.restart_reason = reason
            self._schedule_shutdown(signal.SIGTERM)

    def _on_sigterm(self) -> None:
        self.interrupted = True
        super()._on_sigterm()

    def _on_sigint(self) -> None:
        self.interrupted = True
        super()._on_sigint()

    @property
    def restarting(self) -> bool:
        return self.restart_reason is not None and not self.interrupted


def run_restarting(worker: LandingWorker) -> NoReturn:
    """Run ``worker``; when it stopped for a restart, execute this process's command again (same pid)."""
    try:
        worker.execute_from_commandline()
    except SystemExit:
        if worker.restarting:
            exec_again()
        raise
    raise AssertionError("execute_from_commandline always exits")


def exec_again() -> NoReturn:
    """Replace this process by a fresh run of the command that started it."""
    log.warning("restarting: %s", " ".join(sys.orig_argv))
    for handler in logging.getLogger().handlers:
        handler.flush()
    for stream in (sys.__stdout__, sys.__stderr__):
        stream.flush()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
