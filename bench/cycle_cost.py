"""Cycle cost: one incremental dbt cycle with raw at ~100k and at ~1M rows per fact source.

The marts are incremental so that a cycle costs what the new rows cost, not what
raw holds. This fills ``raw.retail__orders`` to ~100k rows, rebuilds the marts
from scratch (timed), then lands the same increment before each of a few timed
incremental cycles (``streammart.dbt_cycle.run_cycle``: freshness, then build of
what is fresher); it grows raw to ~1M rows and does the same. Goal: the 1M cycle
costs at most 1.5x the 100k one.

Raw is generated with SQL (seconds, not a replay through Kafka): realistic keys
(``B00000001``…, 10,000 customers, so each customer's order history grows with
raw), one in twenty orders with a second version (a later status), every row
landed long before the marts' lookback window. Each increment is 900 new orders
plus 100 new versions of older orders, 20 of them moved to another customer.

Each size starts from empty raw. It uses the Postgres of the stack the environment points at and replaces that
stack's retail raw rows and marts, so it refuses to start when raw holds retail
orders it did not make (``--replace`` to go ahead anyway):
  env $(cat <envfile>) .venv/bin/streammart-stack start postgres kafka
  env $(cat <envfile>) .venv/bin/python -m bench.cycle_cost [--sizes 100000,1000000] [--cycles 3]
"""
from __future__ import annotations

import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import click
import psycopg
from psycopg import sql

from stack.services import with_secrets
from stream_processors.raw_tables import RawTable, ensure_raw_tables
from streammart.contract import RAW_SCHEMA, raw_table_name
from streammart.dbt_cycle import CyclePaths, CycleResult, reset_state, run_cycle
from streammart.pipeline import load_pipeline
from streammart.settings import Settings, get_settings

GOAL = 1.5  # incremental cycle at the largest size / at the smallest, at most
CUSTOMERS = 10_000
ORDER_PREFIX = "B"
VERSIONED_EVERY = 20  # one order in this many has a second version
NEW_ORDERS = 900  # per increment
NEW_VERSIONS = 100  # per increment: later versions of older orders
MOVED = 20  # of NEW_VERSIONS: moved to another customer
ORDERS = sql.Identifier(RAW_SCHEMA, raw_table_name("retail", "orders"))
CUSTOMERS_TABLE = sql.Identifier(RAW_SCHEMA, raw_table_name("retail", "customers"))

# One raw order version; %(first)s..%(last)s are order numbers, version 2 rows are a later status.
# _landed_at: 10 s per order from 300 days ago, so everything is far older than the lookback.
FILL_SQL = sql.SQL("""
insert into {orders} (order_id, customer_id, product_id, order_ts, quantity, unit_price, amount,
    currency, status, _event_id, _topic, _partition, _offset, _key, _schema_fingerprint,
    _event_time, _produced_at, _source_position, _landed_at)
select
    'B' || lpad(n::text, 8, '0'),
    'C' || lpad((1 + (n * 7919) %% {customers})::text, 6, '0'),
    'P' || lpad((1 + n %% 50)::text, 3, '0'),
    landed - make_interval(mins => (n %% 90)::int) + make_interval(days => version - 1),
    quantity, price, quantity * price, 'USD',
    case when version = 2 then 'Shipped' else (array['PENDING', 'paid', 'Shipped', 'delivered',
        'canceled', 'returned'])[1 + n %% 6] end,
    md5('B' || n || '/' || version), 'retail.orders.v1', (n %% 6)::int,
    n + (version - 1) * 2000000000, 'B' || lpad(n::text, 8, '0'), 'bench',
    landed - make_interval(mins => (n %% 90)::int) + make_interval(days => version - 1),
    landed + make_interval(days => version - 1), 'bench:' || n,
    landed + make_interval(days => version - 1)
from generate_series(%(first)s::bigint, %(last)s::bigint) as n,
    lateral (select now() - interval '300 days' + make_interval(secs => n * 10.0) as landed,
                    1 + (n %% 5)::int as quantity, (5 + (n %% 200))::numeric(12, 2) as price) as shape,
    lateral (select 1 as version union all select 2 where n %% {every} = 0) as versions
""")

CUSTOMERS_SQL = sql.SQL("""
insert into {customers} (customer_id, name, email, country, signup_date, updated_at, _event_id, _topic,
    _partition, _offset, _key, _schema_fingerprint, _event_time, _produced_at, _source_position, _landed_at)
select 'C' || lpad(n::text, 6, '0'), 'Customer ' || n, 'customer' || n || '@example.com',
    (array['FR', 'DE', 'US', 'GB', 'ES'])[1 + n % 5], date '2024-01-01' + (n % 300),
    now() - interval '301 days', md5('C' || n), 'retail.customers.v1', (n % 6)::int, n,
    'C' || lpad(n::text, 6, '0'), 'bench', now() - interval '301 days', now() - interval '301 days',
    'bench:' || n, now() - interval '301 days'
from generate_series(1, {count}) as n
""")

# The increment: NEW_ORDERS new orders after %(first)s, and NEW_VERSIONS later versions of
# orders spread over the whole history (MOVED of them to another customer); landed now.
INCREMENT_SQL = sql.SQL("""
insert into {orders} (order_id, customer_id, product_id, order_ts, quantity, unit_price, amount,
    currency, status, _event_id, _topic, _partition, _offset, _key, _schema_fingerprint,
    _event_time, _produced_at, _source_position)
select
    'B' || lpad(n::text, 8, '0'),
    'C' || lpad((1 + (n * 7919 + moved) %% {customers})::text, 6, '0'),
    'P001', now(), 2, 10.00, 20.00, 'USD', status,
    md5('B' || n || '/' || %(cycle)s), 'retail.orders.v1', (n %% 6)::int,
    3000000000 + %(cycle)s::bigint * 10000 + i, 'B' || lpad(n::text, 8, '0'), 'bench', now(), now(),
    'bench:' || n
from (
    select i, %(first)s + i as n, 0 as moved, 'pending' as status
    from generate_series(1, {new_orders}) as i
    union all
    select {new_orders} + i, 1 + (i * 104729 + %(cycle)s::bigint * 7) %% %(first)s,
        case when i <= {moved} then 1 else 0 end, 'delivered'
    from generate_series(1, {new_versions}) as i
) as rows
""")


@dataclass
class SizeResult:
    """Figures of one raw size: the full rebuild and each incremental cycle."""

    raw_rows: int
    full_refresh: CycleResult | None = None
    cycles: list[CycleResult] = field(default_factory=list)

    def cycle_seconds(self) -> list[float]:
        return [c.seconds for c in self.cycles]

    def build_seconds(self) -> list[float]:
        return [c.build_seconds for c in self.cycles]


def bench_orders(conn: psycopg.Connection) -> tuple[int, int]:
    """(orders made by the bench, raw order rows not made by it)."""
    row = conn.execute(sql.SQL("select count(*) filter (where _schema_fingerprint = 'bench'), "
                               "count(*) filter (where _schema_fingerprint is distinct from 'bench') "
                               "from {}").format(ORDERS)).fetchone()
    return int(row[0]), int(row[1])


def ensure_raw(conn: psycopg.Connection) -> None:
    """Create (or complete: columns, indexes) the raw tables, as a landing worker does at start."""
    ensure_raw_tables(conn, [RawTable.for_schema(source.raw_table, source.schema, source.key)
                             for source in load_pipeline().topics().values()])


def reset_retail(conn: psycopg.Connection, settings: Settings) -> None:
    """Empty the retail raw tables and load the customers; the next cycle rebuilds everything."""
    conn.execute(sql.SQL("truncate {}, {}").format(ORDERS, CUSTOMERS_TABLE))
    conn.execute(CUSTOMERS_SQL.format(customers=CUSTOMERS_TABLE, count=sql.Literal(CUSTOMERS)))
    reset_state(settings)


def orders_for_rows(rows: int) -> int:
    """Order numbers giving ``rows`` raw rows, one in VERSIONED_EVERY orders having two versions."""
    return rows * VERSIONED_EVERY // (VERSIONED_EVERY + 1)


def grow_raw(conn: psycopg.Connection, orders_now: int, orders_wanted: int) -> None:
    """Add orders ``orders_now + 1 .. orders_wanted`` to raw, then refresh the planner's statistics."""
    if orders_wanted > orders_now:
        conn.execute(FILL_SQL.format(orders=ORDERS, customers=sql.Literal(CUSTOMERS),
                                     every=sql.Literal(VERSIONED_EVERY)),
                     {"first": orders_now + 1, "last": orders_wanted})
    conn.execute(sql.SQL("vacuum analyze {}").format(ORDERS))
    conn.execute(sql.SQL("vacuum analyze {}").format(CUSTOMERS_TABLE))


def land_increment(conn: psycopg.Connection, orders_now: int, cycle: int) -> int:
    """Land one increment; returns the new highest order number."""
    conn.execute(INCREMENT_SQL.format(orders=ORDERS, customers=sql.Literal(CUSTOMERS),
                                      new_orders=sql.Literal(NEW_ORDERS), new_versions=sql.Literal(NEW_VERSIONS),
                                      moved=sql.Literal(MOVED)),
                 {"first": orders_now, "cycle": cycle})
    return orders_now + NEW_ORDERS


def checked(result: CycleResult) -> CycleResult:
    """A failed cycle makes every figure meaningless: stop there."""
    if not result.ok:
        raise click.ClickException(f"cycle failed: {'; '.join(result.errors[:5])}")
    return result


def slowest_nodes(settings: Settings, count: int = 6) -> str:
    """The slowest nodes of the last build, from its run_results.json."""
    results = json.loads((CyclePaths.for_settings(settings).target_dir / "run_results.json").read_text())
    timed = sorted(((r["execution_time"], node_name(r["unique_id"])) for r in results["results"]), reverse=True)
    return ", ".join(f"{name} {seconds:.2f}s" for seconds, name in timed[:count])


def node_name(unique_id: str) -> str:
    """``model.streammart.fct_orders`` -> ``fct_orders``; a test's id ends with a hash, dropped."""
    parts = unique_id.split(".")
    return parts[2] if parts[0] == "test" else parts[-1]


def spread(values: Sequence[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def measure_size(conn: psycopg.Connection, settings: Settings, rows: int, cycles: int) -> SizeResult:
    """Fill raw to ``rows`` from empty, rebuild from scratch, then time ``cycles`` incremental cycles.

    Every size starts empty: increments landed for a smaller size would otherwise
    still sit inside the marts' lookback window and swell the larger size's cycles.
    """
    reset_retail(conn, settings)
    orders_now = orders_for_rows(rows)
    started = time.monotonic()
    grow_raw(conn, 0, orders_now)
    raw_rows = bench_orders(conn)[0]
    click.echo(f"raw.retail__orders: {raw_rows:,} rows ({time.monotonic() - started:.1f}s to fill)")
    result = SizeResult(raw_rows)
    result.full_refresh = checked(run_cycle(full_refresh=True, settings=settings))
    click.echo(f"  full rebuild: {result.full_refresh.summary()}")
    for cycle in range(cycles):
        orders_now = land_increment(conn, orders_now, cycle=rows // 1000 + cycle)
        result.cycles.append(checked(run_cycle(settings=settings)))
        click.echo(f"  cycle {cycle + 1}: {result.cycles[-1].summary()}")
    click.echo(f"  slowest nodes of the last cycle: {slowest_nodes(settings)}")
    return result


def print_table(results: list[SizeResult]) -> None:
    click.echo("\n| raw order rows | incremental cycle (min / median / max) | build step (min / median / max) "
               "| freshness step median | full rebuild |")
    click.echo("|---|---|---|---|---|")
    for size in results:
        freshness = statistics.median(c.freshness_seconds for c in size.cycles)
        click.echo(f"| {size.raw_rows:,} | {spread(size.cycle_seconds())} s | {spread(size.build_seconds())} s "
                   f"| {freshness:.2f} s | {size.full_refresh.seconds:.2f} s |")
    small, large = results[0], results[-1]
    ratio = statistics.median(large.cycle_seconds()) / statistics.median(small.cycle_seconds())
    build = statistics.median(large.build_seconds()) / statistics.median(small.build_seconds())
    verdict = "met" if ratio <= GOAL else "NOT met"
    click.echo(f"\n{large.raw_rows / small.raw_rows:.1f}x the raw rows: incremental cycle {ratio:.2f}x "
               f"(build step {build:.2f}x), full rebuild "
               f"{large.full_refresh.seconds / small.full_refresh.seconds:.2f}x; goal <= {GOAL}x: {verdict}")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--sizes", default="100000,1000000", show_default=True, help="Raw order rows to measure at, ascending.")
@click.option("--cycles", default=3, show_default=True, help="Timed incremental cycles per size.")
@click.option("--replace", is_flag=True, help="Replace retail raw rows the bench did not make.")
def main(sizes: str, cycles: int, replace: bool) -> None:
    """Time incremental dbt cycles with raw at each size; print one table and the ratio."""
    settings = with_secrets(get_settings())
    wanted = sorted(int(size) for size in sizes.split(","))
    with psycopg.connect(settings.conninfo("ingest"), autocommit=True) as conn:
        ensure_raw(conn)
        foreign = bench_orders(conn)[1]
        if foreign and not replace:
            raise click.ClickException(f"raw.retail__orders holds {foreign:,} rows the bench did not make: "
                                       "use a stack of its own, or --replace")
        results = [measure_size(conn, settings, rows, cycles) for rows in wanted]
    print_table(results)
    click.echo("(2-core machine shared with other work: figures are indicative)")


if __name__ == "__main__":
    main()
