"""The DAG files import cleanly through Airflow's DagBag and say what they promise.

Airflow reads its configuration once, at import time, so the check runs in a
subprocess with its own AIRFLOW_HOME and a throwaway SQLite metadata database:
nothing here touches the stack's Airflow.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from streammart.settings import PROJECT_ROOT

DAGS_FOLDER = PROJECT_ROOT / "airflow_dags"

INSPECT = r"""
import json, sys
from datetime import timedelta
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags.get("streammart_microbatch")
info = {"import_errors": {k: str(v) for k, v in bag.import_errors.items()}, "dag_ids": sorted(bag.dags)}
if dag is not None:
    timetable = dag.timetable
    delta = getattr(timetable, "delta", None)
    info.update(
        max_active_runs=dag.max_active_runs,
        catchup=dag.catchup,
        tags=sorted(dag.tags),
        task_ids=[t.task_id for t in dag.tasks],
        schedule_seconds=delta.total_seconds() if isinstance(delta, timedelta) else None,
        timetable=type(timetable).__name__,
        doc_md=bool(dag.doc_md),
    )
backfill = bag.dags.get("streammart_backfill")
if backfill is not None:
    info["backfill"] = {
        "timetable": type(backfill.timetable).__name__,
        "max_active_runs": backfill.max_active_runs,
        "task_ids": [t.task_id for t in backfill.tasks],
        "params": {k: backfill.params[k] for k in backfill.params},
    }
print("RESULT " + json.dumps(info, default=str))
"""


def _inspect(tmp_path: Path, extra_env: dict[str, str | None] | None = None, script: str = INSPECT) -> dict:
    """Load the DAG folder in a fresh interpreter and run ``script`` on its DagBag (it prints
    ``RESULT <json>``); ``None`` in extra_env unsets a variable."""
    home = tmp_path / "airflow"
    home.mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
    }
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC", None)
    for name, value in (extra_env or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    completed = subprocess.run(
        [sys.executable, "-c", script, str(DAGS_FOLDER)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=240,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    assert completed.returncode == 0 and lines, completed.stderr[-4000:]
    return json.loads(lines[-1][len("RESULT "):])


@pytest.fixture(scope="module")
def dag_info(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _inspect(tmp_path_factory.mktemp("default"), {"STREAMMART_MICROBATCH_MINUTES": None})


def test_dag_file_imports_without_errors(dag_info: dict) -> None:
    assert dag_info["import_errors"] == {}
    assert "streammart_microbatch" in dag_info["dag_ids"]


def test_dag_runs_one_cycle_at_a_time(dag_info: dict) -> None:
    assert dag_info["max_active_runs"] == 1
    assert dag_info["catchup"] is False
    assert dag_info["task_ids"] == ["dbt_cycle", "export_marts"]
    assert {"streammart", "dbt"} <= set(dag_info["tags"])
    assert dag_info["doc_md"]


def test_default_schedule_is_every_two_minutes(dag_info: dict) -> None:
    assert dag_info["schedule_seconds"] == 120


def test_schedule_follows_the_environment(tmp_path: Path) -> None:
    info = _inspect(tmp_path, {"STREAMMART_MICROBATCH_MINUTES": "5"})
    assert info["import_errors"] == {}
    assert info["schedule_seconds"] == 300


def test_backfill_dag_is_manual_with_full_refresh_by_default(dag_info: dict) -> None:
    backfill = dag_info["backfill"]
    assert backfill["timetable"] == "NullTimetable"  # manual only
    assert backfill["max_active_runs"] == 1
    assert backfill["task_ids"] == ["dbt_rebuild"]
    assert backfill["params"] == {"full_refresh": True, "select": None, "full_tests": False}
