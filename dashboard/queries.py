"""What the dashboard shows, as SQL on the marts (read with the ``reader`` role)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg

RETAIL_TOTALS = """
SELECT count(*) AS orders,
       count(*) FILTER (WHERE is_cancelled) AS cancelled,
       coalesce(sum(amount) FILTER (WHERE NOT is_cancelled), 0) AS revenue,
       count(DISTINCT customer_id) AS customers,
       count(*) FILTER (WHERE NOT is_known_customer) AS orders_unknown_customer,
       max(_max_landed_at) AS as_of
FROM marts.fct_orders
"""
RETAIL_REVENUE_BY_DAY = """
SELECT order_date AS day, sum(revenue) AS revenue, sum(orders_count) AS orders
FROM marts.fct_customer_daily_orders
GROUP BY order_date ORDER BY order_date
"""
RETAIL_STATUSES = """
SELECT status, count(*) AS orders FROM marts.fct_orders GROUP BY status ORDER BY orders DESC
"""
RETAIL_TOP_CUSTOMERS = """
SELECT d.customer_id, coalesce(c.customer_name, 'unknown customer') AS name, c.country,
       sum(d.revenue) AS revenue, sum(d.orders_count) AS orders
FROM marts.fct_customer_daily_orders AS d
LEFT JOIN marts.dim_customers AS c USING (customer_id)
GROUP BY d.customer_id, c.customer_name, c.country
ORDER BY revenue DESC, d.customer_id LIMIT 10
"""


def _plain(value: Any) -> Any:
    """JSON-friendly: decimals as floats (display only), dates as ISO text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _rows(conn: psycopg.Connection, query: str) -> list[dict[str, Any]]:
    cur = conn.execute(query)
    names = [c.name for c in cur.description]
    return [{n: _plain(v) for n, v in zip(names, row)} for row in cur.fetchall()]


def retail_overview(conn: psycopg.Connection) -> dict[str, Any]:
    """Everything the retail page shows, read in one repeatable-read snapshot."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return {
            "totals": _rows(conn, RETAIL_TOTALS)[0],
            "revenue_by_day": _rows(conn, RETAIL_REVENUE_BY_DAY),
            "statuses": _rows(conn, RETAIL_STATUSES),
            "top_customers": _rows(conn, RETAIL_TOP_CUSTOMERS),
        }
