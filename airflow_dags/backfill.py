"""
### streammart_backfill

Rebuilds the marts by hand, outside the micro-batch rhythm: after a model change
that needs history recomputed, a fix to raw data, or a wider lookback.

Trigger it from the UI ("Trigger DAG w/ config") or
`airflow dags trigger streammart_backfill -c '{"full_refresh": true, "select": "marts.retail"}'`.

- `full_refresh` (default true): incremental marts are rebuilt from scratch;
- `select` (optional): a dbt selector to limit the rebuild (default: the whole project);
- `full_tests` (default false): test every row, where ordinary cycles test only the
  recently landed keys (a full refresh always does). With `full_refresh` false and a
  `select` such as `+marts.retail`, this is the full test pass over incremental marts.

It runs the same `streammart.dbt_cycle.run_cycle` as the micro-batch DAG and shares
its lock, so it never overlaps a scheduled cycle.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import Param, dag, get_current_context, task

from streammart.dbt_cycle import run_cycle_for_task


@dag(
    dag_id="streammart_backfill",
    description="dbt rebuild on demand: full refresh, optionally of a selection",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "streammart", "retries": 0},
    tags=["streammart", "dbt", "backfill"],
    params={
        "full_refresh": Param(True, type="boolean", description="rebuild incremental marts from scratch"),
        "select": Param(None, type=["null", "string"], description="dbt selector; empty: the whole project"),
        "full_tests": Param(False, type="boolean", description="test every row, not only the recently landed keys"),
    },
    doc_md=__doc__,
)
def streammart_backfill() -> None:
    @task(task_id="dbt_rebuild", execution_timeout=timedelta(hours=2))
    def dbt_rebuild() -> dict[str, Any]:
        params = get_current_context()["params"]
        return run_cycle_for_task(full_refresh=bool(params["full_refresh"]), select=params["select"] or None,
                                  full_tests=bool(params["full_tests"]))

    dbt_rebuild()


streammart_backfill()
