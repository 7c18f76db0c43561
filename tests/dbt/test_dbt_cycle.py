"""streammart.dbt_cycle without a database: selection, state, lock, result bookkeeping."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from streammart import dbt_cycle
from streammart.dbt_cycle import (
    FULL_TESTS_VARS,
    INCREMENTAL_SELECTOR,
    CycleBusyError,
    CycleFailedError,
    CyclePaths,
    CycleResult,
    build_args,
    cycle_lock,
    dbt_environment,
    fresher_sources,
    run_cycle,
    save_state,
)
from streammart.settings import PROJECT_ROOT, Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", pg_port=25999, pg_transform_password="secret-pw")


@pytest.fixture
def paths(settings: Settings) -> CyclePaths:
    return CyclePaths.for_settings(settings)


def _write_sources(path: Path, loaded: dict[str, str | None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    results = []
    for table, at in loaded.items():
        entry: dict[str, Any] = {"unique_id": f"source.streammart.retail.{table}", "status": "pass"}
        if at is not None:
            entry["max_loaded_at"] = at
        results.append(entry)
    path.write_text(json.dumps({"results": results}))


def _flag_value(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_paths_live_under_the_stack_home(settings: Settings, paths: CyclePaths) -> None:
    base = settings.home / "dbt"
    assert (paths.target_dir, paths.log_dir, paths.state_dir) == (base / "target", base / "logs", base / "state")
    assert paths.project_dir == paths.profiles_dir == PROJECT_ROOT / "dbt"
    assert paths.lock_file.parent == base


def test_first_cycle_builds_everything(paths: CyclePaths) -> None:
    mode, selector, args = build_args(paths, full_refresh=False, select=None)
    assert (mode, selector) == ("full", None)
    assert args[:2] == ["--no-use-colors", "build"]
    assert "--select" not in args and "--state" not in args
    assert _flag_value(args, "--target-path") == str(paths.target_dir)
    assert _flag_value(args, "--profiles-dir") == str(paths.project_dir)


def test_later_cycles_build_only_what_is_fresher(paths: CyclePaths) -> None:
    for name in ("manifest.json", "sources.json"):
        (paths.state_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (paths.state_dir / name).write_text("{}")
    mode, selector, args = build_args(paths, full_refresh=False, select=None)
    assert mode == "fresher" and selector == INCREMENTAL_SELECTOR
    assert _flag_value(args, "--select") == "source_status:fresher+ state:modified+"
    assert _flag_value(args, "--state") == str(paths.state_dir)
    assert "--vars" not in args  # ordinary cycles test the recently landed keys only

    mode, _, args = build_args(paths, full_refresh=True, select=None)
    assert mode == "full_refresh" and "--full-refresh" in args and "--select" not in args
    assert _flag_value(args, "--vars") == FULL_TESTS_VARS

    mode, _, args = build_args(paths, full_refresh=False, select=None, full_tests=True)
    assert mode == "fresher" and _flag_value(args, "--vars") == FULL_TESTS_VARS

    mode, selector, args = build_args(paths, full_refresh=False, select="fct_orders+")
    assert (mode, selector) == ("select", "fct_orders+")
    assert _flag_value(args, "--select") == "fct_orders+"


def test_fresher_sources_compares_newest_loads(tmp_path: Path) -> None:
    _write_sources(tmp_path / "old.json", {
        "retail__orders": "2024-05-01T10:00:00+00:00",
        "retail__customers": "2024-05-01T10:00:00Z",
        "retail__products": None,  # runtime error last time
    })
    _write_sources(tmp_path / "new.json", {
        "retail__orders": "2024-05-01T10:00:00.000001+00:00",
        "retail__customers": "2024-05-01T10:00:00+00:00",
        "retail__products": "2024-05-01T09:00:00+00:00",
        "retail__returns": None,
    })
    assert fresher_sources(tmp_path / "old.json", tmp_path / "new.json") == [
        "retail.retail__orders", "retail.retail__products",
    ]
    assert fresher_sources(tmp_path / "missing.json", tmp_path / "new.json") == [
        "retail.retail__customers", "retail.retail__orders", "retail.retail__products",
    ]


def test_save_state_copies_the_artifacts(paths: CyclePaths) -> None:
    paths.target_dir.mkdir(parents=True)
    for name in ("manifest.json", "sources.json", "run_results.json", "partial_parse.msgpack"):
        (paths.target_dir / name).write_text(name)
    save_state(paths)
    assert sorted(p.name for p in paths.state_dir.iterdir()) == ["manifest.json", "run_results.json", "sources.json"]
    assert paths.has_state()


def test_lock_excludes_a_second_cycle(tmp_path: Path) -> None:
    lock = tmp_path / "cycle.lock"
    with cycle_lock(lock, timeout=1):
        started = time.monotonic()
        with pytest.raises(CycleBusyError):
            with cycle_lock(lock, timeout=0.3):
                pass
        assert time.monotonic() - started >= 0.3
    with cycle_lock(lock, timeout=0.3):  # released again
        pass


def test_lock_waits_for_the_running_cycle(tmp_path: Path) -> None:
    lock = tmp_path / "cycle.lock"
    order: list[str] = []

    def first() -> None:
        with cycle_lock(lock, timeout=1):
            order.append("first in")
            time.sleep(0.4)
            order.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    while not order:
        time.sleep(0.01)
    with cycle_lock(lock, timeout=5):
        order.append("second in")
    thread.join()
    assert order == ["first in", "first out", "second in"]


def test_environment_is_exported_then_restored(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMMART_PG_PORT", "1")
    monkeypatch.delenv("STREAMMART_PG_TRANSFORM_PASSWORD", raising=False)
    with dbt_environment(settings):
        assert os.environ["STREAMMART_PG_PORT"] == "25999"
        assert os.environ["STREAMMART_PG_TRANSFORM_PASSWORD"] == "secret-pw"
        assert os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "false"
    assert os.environ["STREAMMART_PG_PORT"] == "1"
    assert "STREAMMART_PG_TRANSFORM_PASSWORD" not in os.environ


def test_missing_password_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, pg_transform_password=None)
    with pytest.raises(RuntimeError, match="STREAMMART_PG_TRANSFORM_PASSWORD"):
        run_cycle(settings=settings)


def _node_result(kind: str, name: str, status: str, rows: int | None = None, message: str | None = None) -> Any:
    return SimpleNamespace(
        node=SimpleNamespace(resource_type=kind, name=name),
        status=status,
        message=message,
        adapter_response={"rows_affected": rows} if rows is not None else {},
    )


PARSED_MANIFEST = object()


def _fake_dbt(freshness: list[Any], build: list[Any], build_ok: bool = True,
              parsed: Any = PARSED_MANIFEST) -> Any:
    calls: list[list[str]] = []

    def invoke(args: list[str], manifest: Any = None) -> Any:
        if "parse" in args:
            return SimpleNamespace(success=True, exception=None, result=parsed)
        assert manifest is parsed  # parsed once, then reused by each command
        calls.append(args)
        if "freshness" in args:
            return SimpleNamespace(success=True, exception=None, result=SimpleNamespace(results=freshness))
        target = Path(args[args.index("--target-path") + 1])
        target.mkdir(parents=True, exist_ok=True)
        for name in ("manifest.json", "sources.json", "run_results.json"):
            (target / name).write_text("{}")
        return SimpleNamespace(success=build_ok, exception=None, result=SimpleNamespace(results=build))

    invoke.calls = calls  # type: ignore[attr-defined]
    return invoke


def _source_result(name: str, status: str) -> Any:
    return SimpleNamespace(
        node=SimpleNamespace(resource_type="source", source_name="retail", name=name),
        status=status, max_loaded_at=None, age=12.5, message=None,
    )


def test_cycle_result_counts_models_and_tests(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_dbt(
        freshness=[_source_result("retail__orders", "pass"), _source_result("retail__customers", "warn"),
                   _node_result("operation", "streammart-on-run-end-0", "success")],
        build=[
            _node_result("model", "stg_retail__orders", "success", rows=-1),
            _node_result("model", "fct_orders", "success", rows=3),
            _node_result("snapshot", "snap_retail__customers", "success", rows=1),
            _node_result("test", "unique_fct_orders_order_id", "pass"),
            _node_result("test", "relationships_fct_orders", "warn"),
            _node_result("operation", "streammart-on-run-end-0", "success"),
        ],
    )
    monkeypatch.setattr(dbt_cycle, "invoke_dbt", fake)
    result = run_cycle(settings=settings)
    assert result.status == "success" and result.ok
    assert result.models_built == ["stg_retail__orders", "fct_orders"]
    assert result.snapshots_built == ["snap_retail__customers"]
    assert result.rows_affected == {"fct_orders": 3, "snap_retail__customers": 1}
    assert (result.tests_passed, result.tests_warned, result.tests_failed) == (1, 1, 0)
    assert result.stale_sources == ["retail.retail__customers"]
    assert result.mode == "full"
    assert CyclePaths.for_settings(settings).has_state()  # saved for the next cycle
    json.dumps(result.as_dict())  # XCom-serialisable
    assert "success [full]" in result.summary()

    # The next cycle compares against that state.
    run_cycle(settings=settings)
    assert "--state" in fake.calls[-1] and "source_status:fresher+ state:modified+" in fake.calls[-1]


def test_failing_test_fails_the_cycle_and_keeps_the_old_state(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _fake_dbt(
        freshness=[_source_result("retail__orders", "pass")],
        build=[
            _node_result("model", "fct_orders", "success", rows=3),
            _node_result("test", "assert_daily_orders_match_fct_orders", "fail", message="Got 2 results"),
            _node_result("model", "fct_customer_daily_orders", "skipped"),
        ],
        build_ok=False,
    )
    monkeypatch.setattr(dbt_cycle, "invoke_dbt", fake)
    result = run_cycle(settings=settings)
    assert result.status == "failed" and not result.ok
    assert result.tests_failed == 1 and result.nodes_skipped == ["fct_customer_daily_orders"]
    assert any("assert_daily_orders_match_fct_orders" in e for e in result.errors)
    assert not CyclePaths.for_settings(settings).has_state()
    with pytest.raises(CycleFailedError, match="assert_daily_orders_match_fct_orders"):
        result.raise_for_status()


def test_nothing_selected_is_its_own_status(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dbt_cycle, "invoke_dbt", _fake_dbt(freshness=[], build=[]))
    result = run_cycle(settings=settings)
    assert result.status == "nothing_to_do" and result.ok
    assert CycleResult().status == "failed"  # a cycle is failed until proven otherwise


def test_cli_help() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "streammart.dbt_cycle", "--help"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert "--full-refresh" in completed.stdout and "--select" in completed.stdout


def test_a_partial_selection_does_not_become_the_baseline(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dbt_cycle, "invoke_dbt", _fake_dbt(
        freshness=[], build=[_node_result("model", "dim_customers", "success", rows=1)],
    ))
    result = run_cycle(select="dim_customers", settings=settings)
    assert result.ok and result.mode == "select"
    assert not CyclePaths.for_settings(settings).has_state()


def _manifest_with_sources(*tables: str) -> Any:
    return SimpleNamespace(sources={
        f"source.streammart.retail.{table}": SimpleNamespace(
            source_name="retail", name=table, schema="raw", identifier=table)
        for table in tables
    })


def test_landed_tables_build_downstream_of_their_sources_without_freshness(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = _manifest_with_sources("retail__orders", "retail__customers")
    fake = _fake_dbt(freshness=[], build=[_node_result("model", "fct_orders", "success", rows=1)], parsed=manifest)
    monkeypatch.setattr(dbt_cycle, "invoke_dbt", fake)
    result = run_cycle(landed_tables=["raw.retail__orders", "raw._dead_letters"], settings=settings)
    assert result.ok and result.mode == "landed"
    assert [args[1] for args in fake.calls] == ["build"]  # no freshness step
    assert _flag_value(fake.calls[0], "--select") == "source:retail.retail__orders+"
    assert result.fresher_sources == ["retail.retail__orders"]
    assert not CyclePaths.for_settings(settings).has_state()  # a partial selection is no baseline

    # Tables no source reads make an ordinary cycle.
    run_cycle(landed_tables=["raw._dead_letters"], settings=settings)
    assert [args[1] for args in fake.calls[1:]] == ["source", "build"]
    assert "--select" not in fake.calls[-1]  # the first complete cycle builds everything


def test_a_cycle_says_whether_dbt_was_imported_before_it(settings: Settings,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dbt_cycle, "invoke_dbt", _fake_dbt(freshness=[], build=[]))
    monkeypatch.delitem(sys.modules, "dbt.cli.main", raising=False)
    assert run_cycle(settings=settings).warm_start is False
    dbt_cycle.import_dbt()
    assert run_cycle(settings=settings).warm_start is True
