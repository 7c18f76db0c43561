"""The polling DAG imports cleanly and says what it promises: a poll every few minutes, one
at a time, retried with exponential backoff, a backfill window as params."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.airflow.test_dag_files import _inspect

INSPECT_POLL = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags["streammart_poll"]
[task] = dag.tasks
print("RESULT " + json.dumps({
    "import_errors": {k: str(v) for k, v in bag.import_errors.items()},
    "schedule_seconds": dag.timetable.delta.total_seconds(),
    "max_active_runs": dag.max_active_runs, "catchup": dag.catchup, "task_ids": [task.task_id],
    "retries": task.retries, "retry_delay": task.retry_delay.total_seconds(),
    "exponential": task.retry_exponential_backoff, "params": {k: dag.params[k] for k in dag.params},
    "doc_md": bool(dag.doc_md),
}, default=str))
"""


@pytest.fixture(scope="module")
def poll_dag(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _inspect(tmp_path_factory.mktemp("poll"), {"STREAMMART_POLL_MINUTES": None}, INSPECT_POLL)


def test_polls_every_five_minutes_one_at_a_time(poll_dag: dict) -> None:
    assert poll_dag["import_errors"] == {}
    assert poll_dag["schedule_seconds"] == 300
    assert (poll_dag["max_active_runs"], poll_dag["catchup"], poll_dag["task_ids"]) == (1, False, ["poll"])
    assert poll_dag["doc_md"]


def test_a_failed_poll_is_retried_with_backoff(poll_dag: dict) -> None:
    assert poll_dag["retries"] == 3 and poll_dag["retry_delay"] == 30 and poll_dag["exponential"] is True


def test_a_backfill_window_is_given_as_params(poll_dag: dict) -> None:
    assert poll_dag["params"] == {"since": None, "until": None, "sources": []}


def test_the_poll_interval_follows_the_environment(tmp_path: Path) -> None:
    assert _inspect(tmp_path, {"STREAMMART_POLL_MINUTES": "3"}, INSPECT_POLL)["schedule_seconds"] == 180
