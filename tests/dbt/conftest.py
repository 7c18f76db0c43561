"""Fixtures for the dbt project tests: the running stack's Postgres and raw tables."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from streammart.settings import Settings, load_settings

# Contract of the raw tables (kept in step with stream_processors.raw_tables), used
# only when that module cannot build them.
RAW_TABLES_DDL = [
    "create schema if not exists raw",
    """create table if not exists raw.retail__orders (
        order_id text not null,
        customer_id text not null,
        product_id text,
        order_ts timestamptz not null,
        quantity integer not null,
        unit_price numeric(12,2) not null,
        amount numeric(14,2) not null,
        currency text not null,
        status text not null,
        _event_id text not null,
        _topic text,
        _partition integer,
        _offset bigint,
        _key text,
        _schema_fingerprint text,
        _event_time timestamptz,
        _produced_at timestamptz,
        _landed_at timestamptz not null default clock_timestamp(),
        unique (_topic, _partition, _offset)
    )""",
    """create table if not exists raw.retail__customers (
        customer_id text not null,
        name text not null,
        email text,
        country text,
        signup_date date,
        updated_at timestamptz not null,
        _event_id text not null,
        _topic text,
        _partition integer,
        _offset bigint,
        _key text,
        _schema_fingerprint text,
        _event_time timestamptz,
        _produced_at timestamptz,
        _landed_at timestamptz not null default clock_timestamp(),
        unique (_topic, _partition, _offset)
    )""",
]


@pytest.fixture(scope="session")
def stack_settings() -> Settings:
    """Settings of the running local stack; skips when its Postgres cannot be reached."""
    psycopg = pytest.importorskip("psycopg")
    settings = load_settings()
    try:
        for role in ("ingest", "transform", "reader"):
            with psycopg.connect(settings.conninfo(role), connect_timeout=3):
                pass
    except Exception as exc:  # no stack, no secrets, wrong port
        pytest.skip(f"the local stack's Postgres is not reachable: {exc}")
    return settings


def _create_raw_tables(settings: Settings) -> None:
    import psycopg

    with psycopg.connect(settings.conninfo("ingest"), autocommit=True) as conn:
        try:
            from schemas.registry import load_registry
            from stream_processors.raw_tables import RawTable, ensure_raw_tables

            registry = load_registry()
            tables = [
                RawTable.for_schema("retail__orders", registry.get("retail.orders.v1")),
                RawTable.for_schema("retail__customers", registry.get("retail.customers.v1")),
            ]
        except (ImportError, AttributeError, KeyError, LookupError):
            for statement in RAW_TABLES_DDL:
                conn.execute(statement)
        else:
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
        conn.execute("delete from raw.retail__orders where order_id like %s", (pattern,))
        conn.execute("delete from raw.retail__customers where customer_id like %s", (pattern,))
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
