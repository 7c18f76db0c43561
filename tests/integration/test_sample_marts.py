"""The shipped sample, end to end: landed, built into marts by dbt and by the Airflow DAG."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from psycopg import sql

from stack.airflow import run_airflow
from streammart.dbt_cycle import run_cycle
from tests.integration.conftest import SAMPLE, Scratch, expected_daily, land, run_producers, serve_api

pytestmark = pytest.mark.services
DAG_ID = "streammart_microbatch"


def mart_daily(settings) -> dict[tuple[str, date], tuple[int, int, int, Decimal]]:
    with psycopg.connect(settings.conninfo("reader")) as conn:
        rows = conn.execute("SELECT customer_id, order_date, orders_count, cancelled_count, items_count, revenue "
                            "FROM marts.fct_customer_daily_orders").fetchall()
    return {(c, d): (o, x, i, r) for c, d, o, x, i, r in rows}


def test_marts_match_figures_computed_from_the_sample(retail_landed, running_stack):
    result = run_cycle(full_refresh=True)
    assert result.status == "success", result.as_dict()
    expected = expected_daily(SAMPLE / "orders.csv")
    actual = {k: v for k, v in mart_daily(running_stack).items() if not k[0].startswith("zt")}
    assert actual == expected
    revenue = sum(v[3] for v in expected.values())
    with psycopg.connect(running_stack.conninfo("reader")) as conn:
        mart_revenue = conn.execute("SELECT sum(amount) FROM marts.fct_orders WHERE NOT is_cancelled "
                                    "AND order_id NOT LIKE 'zt%'").fetchone()[0]
    assert mart_revenue == revenue


def test_airflow_dag_run_builds_new_orders_into_the_marts(retail_landed, running_airflow, tmp_path):
    settings = running_airflow
    tag = f"zt{uuid.uuid4().hex[:8]}"
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,customer_id,product_id,order_ts,quantity,unit_price,amount,currency,status\n"
        f"{tag}-1,{tag}-C,P001,2024-07-15 10:00:00,2,$10.00,$20.00,USD,Paid\n"
        f"{tag}-2,{tag}-C,P002,2024-07-15 11:00:00,1,5.50,5.50,USD,CANCELLED\n"
        f"{tag}-3,{tag}-C,P002,2024-07-15 12:00:00,3,1.00,3.00,USD,shipped\n")
    scratch = Scratch("retail", tmp_path)
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "customers.json").write_text("[]")
    with serve_api(tmp_path / "api") as api:
        pipeline = scratch.pipeline(orders, f"{api}/customers")
        assert run_producers(pipeline, tmp_path / "rejects").returncode == 0
    land(settings, pipeline, "test-retail-landing", [scratch.topic("orders")], tmp_path / "worker.log")

    try:
        run = run_airflow(["dags", "test", DAG_ID], settings, check=False, capture_output=True, timeout=600)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        with psycopg.connect(settings.conninfo("reader")) as conn:
            daily = conn.execute("SELECT orders_count, cancelled_count, items_count, revenue "
                                 "FROM marts.fct_customer_daily_orders WHERE customer_id = %s",
                                 (f"{tag}-C",)).fetchall()
            in_fct = conn.execute("SELECT count(*) FROM marts.fct_orders WHERE order_id LIKE %s",
                                  (f"{tag}-%",)).fetchone()[0]
        assert in_fct == 3
        assert daily == [(3, 1, 5, Decimal("23.00"))]
    finally:
        with psycopg.connect(settings.conninfo("admin"), autocommit=True) as conn:
            conn.execute(sql.SQL("DELETE FROM {} WHERE order_id LIKE %s").format(scratch.table("orders")),
                         (f"{tag}-%",))
            conn.execute("DELETE FROM marts.fct_orders WHERE order_id LIKE %s", (f"{tag}-%",))
            conn.execute("DELETE FROM marts.fct_customer_daily_orders WHERE customer_id = %s", (f"{tag}-C",))
