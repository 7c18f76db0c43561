"""Fixtures for the dbt project tests: the running stack's Postgres and raw tables."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from streammart.contract import RAW_SCHEMA, raw_table_name
from streammart.settings import Settings


@pytest.fixture(scope="session")
def stack_settings(running_stack: Settings) -> Settings:
    return running_stack


def _create_raw_tables(settings: Settings) -> None:
    import psycopg

    from stream_processors.raw_tables import RawTable, ensure_raw_tables
    from streammart.pipeline import load_pipeline

    tables = [RawTable.for_schema(source.raw_table, source.schema, source.key)
              for source in load_pipeline().topics().values()]
    with psycopg.connect(settings.conninfo("ingest"), autocommit=True) as conn:
        ensure_raw_tables(conn, tables)


@pytest.fixture(scope="session")
def raw_tables(stack_settings: Settings) -> Settings:
    """The retail raw tables exist (created as ``ingest``, as the processors would)."""
    _create_raw_tables(stack_settings)
    return stack_settings


@pytest.fixture
def test_prefix(raw_tables: Settings) -> Iterator[str]:
    """A unique id prefix; every row carrying it is removed from raw and the marts afterwards."""
    import psycopg
    from psycopg import sql

    prefix = f"zt{uuid.uuid4().hex[:10]}-"
    yield prefix
    pattern = prefix + "%"
    with psycopg.connect(raw_tables.conninfo("ingest"), autocommit=True) as conn:
        for entity, key in (("orders", "order_id"), ("customers", "customer_id")):
            conn.execute(sql.SQL("delete from {} where {} like %s").format(
                sql.Identifier(RAW_SCHEMA, raw_table_name("retail", entity)), sql.Identifier(key)), (pattern,))
    cleanup = [
        ("marts", "fct_orders", "order_id"),
        ("marts", "fct_customer_daily_orders", "customer_id"),
        ("marts", "dim_customers", "customer_id"),
        ("snapshots", "snap_retail__customers", "customer_id"),
    ]
    with psycopg.connect(raw_tables.conninfo("transform"), autocommit=True) as conn:
        for schema, table, column in cleanup:
            exists = conn.execute("select to_regclass(%s)", (f"{schema}.{table}",)).fetchone()[0]
            if exists:
                conn.execute(
                    sql.SQL("delete from {} where {} like %s").format(
                        sql.Identifier(schema, table), sql.Identifier(column)
                    ),
                    (pattern,),
                )
