"""The worker's config watch: what makes it restart, what it logs and ignores (files only)."""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from schemas.postgres_types import Column
from schemas.registry import SCHEMA_DIR, load_registry
from stream_processors.raw_tables import RawTable
from stream_processors.reload import ConfigWatch, inputs_digest, landing_plan, plan_changes
from streammart.contract import qualified
from streammart.pipeline import load_pipeline

ORDERS = {"name": "orders", "domain": "shop", "entity": "orders", "schema": "retail.orders.v1", "format": "csv",
          "path": "orders.csv", "key": ["order_id"], "event_time": "order_ts"}
CUSTOMERS = {"name": "customers", "domain": "shop", "entity": "customers", "schema": "retail.customers.v1",
             "format": "csv", "path": "customers.csv", "key": ["customer_id"]}


def write(path: Path, *sources: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"sources": list(sources)}))
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write(tmp_path / "pipeline.yml", ORDERS)


@pytest.fixture
def watch(config: Path) -> tuple[ConfigWatch, list[str]]:
    restarts: list[str] = []
    return ConfigWatch(config, landing_plan(load_pipeline(config), load_registry()), restarts.append), restarts


def test_an_unchanged_config_never_asks_for_a_restart(watch):
    watcher, _ = watch
    assert watcher.check() is None
    assert watcher.check() is None


def test_a_new_source_asks_for_a_restart_naming_source_and_topic(config, watch):
    watcher, _ = watch
    assert watcher.check() is None
    write(config, ORDERS, CUSTOMERS)
    assert watcher.check() == ("pipeline.yml changed: new source(s) customers → topic shop.customers.v1; "
                               "restarting the worker to land them")


def test_an_invalid_config_is_logged_and_the_running_one_kept(config, watch, caplog):
    watcher, _ = watch
    write(config, ORDERS, {**CUSTOMERS, "schema": "retail.nope.v1"})
    with caplog.at_level(logging.ERROR, logger="stream_processors"):
        assert watcher.check() is None
    assert "not valid; still landing with the config the worker started with" in caplog.text
    assert "no schema named 'retail.nope.v1'" in caplog.text
    write(config, ORDERS, CUSTOMERS)  # fixed: now it counts
    assert "new source(s) customers" in watcher.check()


def test_a_change_that_lands_the_same_is_logged_and_ignored(config, watch, caplog):
    watcher, _ = watch
    assert watcher.check() is None
    write(config, {**ORDERS, "name": "orders_csv", "date_formats": ["%d/%m/%Y"]})
    with caplog.at_level(logging.INFO, logger="stream_processors"):
        assert watcher.check() is None
    assert "what the worker lands did not: nothing to restart" in caplog.text


def test_a_removed_or_moved_source_is_a_change(tmp_path):
    registry = load_registry()
    both = landing_plan(load_pipeline(write(tmp_path / "both.yml", ORDERS, CUSTOMERS)), registry)
    only_orders = landing_plan(load_pipeline(write(tmp_path / "orders.yml", ORDERS)), registry)
    assert plan_changes(both, only_orders) == ["source(s) removed: customers (topic shop.customers.v1)"]
    assert plan_changes(only_orders, only_orders) == []
    moved = landing_plan(load_pipeline(write(tmp_path / "moved.yml", {**ORDERS, "domain": "store"})), registry)
    assert plan_changes(only_orders, moved) == ["new source(s) orders → topic store.orders.v1",
                                                "source(s) removed: orders (topic shop.orders.v1)"]


def test_new_columns_event_time_or_contract_versions_of_a_topic_are_changes(config):
    plan = landing_plan(load_pipeline(config), load_registry())
    orders = plan["shop.orders.v1"]
    table = orders.target.table
    evolved = replace(orders, target=replace(orders.target, table=RawTable(
        table.name, [*table.business, Column("channel", "text", True)])))
    [change] = plan_changes(plan, {"shop.orders.v1": evolved})
    assert change.startswith(f"topic shop.orders.v1 now lands in {qualified('shop__orders')} with columns ")
    assert "status, channel, _event_id" in change
    other_time = replace(orders, target=replace(orders.target, event_time_field=None))
    assert plan_changes(plan, {"shop.orders.v1": other_time}) == ["topic shop.orders.v1: event_time_field changed"]
    older_version = replace(orders, versions=orders.versions | {"00" * 8})
    assert plan_changes(plan, {"shop.orders.v1": older_version}) == [
        "topic shop.orders.v1 can now decode 2 version(s) of its contract (was 1)"]
    assert plan_changes(plan, {"shop.orders.v1": replace(orders, sources=("renamed",))}) == []


def test_the_digest_sees_a_new_contract_file(tmp_path, config):
    schemas = tmp_path / "schemas"
    (schemas / "history").mkdir(parents=True)
    for shipped in SCHEMA_DIR.glob("*.avsc"):
        (schemas / shipped.name).write_text(shipped.read_text())
    config_before, contracts_before = inputs_digest(config, schemas)
    assert inputs_digest(config, schemas) == (config_before, contracts_before)
    (schemas / "history" / "retail.orders.v1.old.avsc").write_text((SCHEMA_DIR / "retail.orders.v1.avsc").read_text())
    config_after, contracts_after = inputs_digest(config, schemas)
    assert config_after == config_before and contracts_after != contracts_before


def test_poll_hands_the_restart_over(config, watch):
    watcher, restarts = watch
    write(config, ORDERS, CUSTOMERS)
    asyncio.run(watcher.poll())
    assert restarts and restarts[0].startswith("pipeline.yml changed: new source(s) customers")
