"""
### streammart_microbatch

Keeps the marts a few minutes behind the raw tables.

Every `STREAMMART_MICROBATCH_MINUTES` minutes (default 2) one task runs one dbt
cycle in-process (`streammart.dbt_cycle.run_cycle`):

1. `dbt source freshness` records the newest `_landed_at` of each raw table;
2. `dbt build --select "source_status:fresher+ state:modified+"` builds and tests
   only what is downstream of a raw table that received rows since the last
   successful cycle (the whole project on the first cycle);
3. the artifacts become the state the next cycle compares against.

Then `export_marts` writes the exported marts (`streammart.export.EXPORTS`: the drug
mentions graph as one JSON document, its marts as CSV and Parquet, a manifest)
under `<STREAMMART_HOME>/exports/<domain>/`. A file changes only when its bytes
do: a cycle with nothing new rewrites nothing.

A cycle with nothing new costs well under a second. A failing model or test
fails the task; the next run retries everything fresher than the last good
cycle, so there are no task retries. The task's return value (XCom) is the
cycle's statistics: status, models built, rows affected, tests passed/warned/failed,
fresher and stale sources, timings.

`max_active_runs=1` and a host-wide file lock keep two cycles from overlapping.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import dag, task

from streammart.dbt_cycle import run_cycle_for_task
from streammart.export import export_all_for_task
from streammart.settings import get_settings

MICROBATCH_MINUTES = int(os.environ.get("STREAMMART_MICROBATCH_MINUTES", "2"))


@dag(
    dag_id="streammart_microbatch",
    description="dbt micro-batch: freshness, then build what has new data",
    schedule=timedelta(minutes=MICROBATCH_MINUTES),
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=max(10, 5 * MICROBATCH_MINUTES)),
    default_args={"owner": "streammart", "retries": 0},
    tags=["streammart", "dbt", "microbatch"],
    doc_md=__doc__,
)
def streammart_microbatch() -> None:
    @task(task_id="dbt_cycle", execution_timeout=timedelta(minutes=max(10, 5 * MICROBATCH_MINUTES)))
    def dbt_cycle() -> dict[str, Any]:
        """Run one cycle; fail the task when a model or a test failed."""
        return run_cycle_for_task()

    @task(task_id="export_marts", execution_timeout=timedelta(minutes=5))
    def export_marts() -> dict[str, Any]:
        """Write the exported marts of every domain whose marts exist."""
        return export_all_for_task(get_settings())

    dbt_cycle() >> export_marts()


streammart_microbatch()
