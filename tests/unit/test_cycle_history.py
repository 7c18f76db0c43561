"""The cycle history file and what it says about each mart's freshness."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from streammart import cycle_history
from streammart.cycle_history import append_cycle, mart_freshness, marts_of, recent_cycles

START = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def cycle(minute: int, status: str, built: list[str] = (), seconds: float = 30.0) -> dict:
    return {"started_at": (START + timedelta(minutes=minute)).isoformat(), "seconds": seconds, "status": status,
            "mode": "incremental", "models_built": list(built), "models_failed": [], "tests_passed": 3,
            "tests_failed": 0 if status != "failed" else 1, "errors": []}


def test_the_history_keeps_the_latest_cycles_newest_first(tmp_path, monkeypatch):
    monkeypatch.setattr(cycle_history, "KEPT", 3)
    history = tmp_path / "dbt" / "cycles.jsonl"
    for minute in range(5):
        append_cycle(history, cycle(minute, "success"))
    with history.open("a") as handle:
        handle.write("not json\n")
    cycles = recent_cycles(history)
    assert [c.started_at.minute for c in cycles] == [4, 3, 2]
    assert len(history.read_text().splitlines()) == 4  # three kept, plus the line that does not parse
    assert recent_cycles(tmp_path / "absent.jsonl") == []


def test_a_mart_is_as_fresh_as_the_last_cycle_that_left_it_current():
    cycles = [cycle_history.CycleRecord.from_dict(c) for c in [
        cycle(10, "failed", built=["fct_orders"]),  # built fct_orders, failed on dim_customers
        cycle(5, "nothing_to_do"),
        cycle(0, "success", built=["fct_orders", "dim_customers"]),
    ]]
    now = START + timedelta(minutes=20)
    freshness = mart_freshness(cycles, ["fct_orders", "dim_customers", "fct_new"], now)
    assert freshness["fct_orders"] == (now - (START + timedelta(minutes=10, seconds=30))).total_seconds()
    assert freshness["dim_customers"] == (now - (START + timedelta(minutes=5, seconds=30))).total_seconds()
    assert mart_freshness([cycles[0]], ["dim_customers"], now) == {"dim_customers": None}


def test_a_partial_cycle_vouches_only_for_the_marts_it_built():
    landed = {**cycle(10, "success", ["fct_orders"]), "mode": "landed"}
    cycles = [cycle_history.CycleRecord.from_dict(c) for c in [landed, cycle(5, "success")]]
    now = START + timedelta(minutes=20)
    freshness = mart_freshness(cycles, ["fct_orders", "fct_appointments"], now)
    assert freshness["fct_orders"] == (now - (START + timedelta(minutes=10, seconds=30))).total_seconds()
    assert freshness["fct_appointments"] == (now - (START + timedelta(minutes=5, seconds=30))).total_seconds()


def test_marts_are_the_models_under_marts(tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"nodes": {
        "model.p.fct_orders": {"resource_type": "model", "name": "fct_orders", "path": "marts/retail/fct_orders.sql"},
        "model.p.stg_orders": {"resource_type": "model", "name": "stg_orders", "path": "staging/stg_orders.sql"},
        "test.p.x": {"resource_type": "test", "name": "x", "path": "marts/x.sql"}}}))
    assert marts_of(manifest) == ["fct_orders"]
    assert marts_of(tmp_path / "absent.json") == []
