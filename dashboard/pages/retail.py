"""Retail orders: revenue, orders and customers from the retail marts."""
from __future__ import annotations

from typing import Any

import psycopg

from dashboard.pages import Page
from dashboard.reading import rows

TOTALS = """
SELECT count(*) AS orders,
       count(*) FILTER (WHERE is_cancelled) AS cancelled,
       coalesce(sum(amount) FILTER (WHERE NOT is_cancelled), 0) AS revenue,
       count(DISTINCT customer_id) AS customers,
       count(*) FILTER (WHERE NOT is_known_customer) AS orders_unknown_customer,
       max(_max_landed_at) AS as_of
FROM marts.fct_orders
"""
REVENUE_BY_DAY = """
SELECT order_date AS day, sum(revenue) AS revenue, sum(orders_count) AS orders
FROM marts.fct_customer_daily_orders
GROUP BY order_date ORDER BY order_date
"""
STATUSES = """
SELECT status, count(*) AS orders FROM marts.fct_orders GROUP BY status ORDER BY orders DESC, status
"""
TOP_CUSTOMERS = """
SELECT d.customer_id, coalesce(c.customer_name, 'unknown customer') AS name, c.country,
       sum(d.revenue) AS revenue, sum(d.orders_count) AS orders
FROM marts.fct_customer_daily_orders AS d
LEFT JOIN marts.dim_customers AS c USING (customer_id)
GROUP BY d.customer_id, c.customer_name, c.country
ORDER BY revenue DESC, d.customer_id LIMIT 10
"""


def overview(conn: psycopg.Connection) -> dict[str, Any]:
    """KPIs, revenue by day, orders by status and the top customers."""
    totals = rows(conn, TOTALS)[0]
    return {
        "as_of": totals.pop("as_of"),
        "totals": totals,
        "revenue_by_day": rows(conn, REVENUE_BY_DAY),
        "statuses": rows(conn, STATUSES),
        "top_customers": rows(conn, TOP_CUSTOMERS),
    }


PAGE = Page(
    domain="retail",
    title="Retail",
    heading="Retail orders",
    marts=("marts.fct_orders", "marts.fct_customer_daily_orders", "marts.dim_customers"),
    overview=overview,
    position=10,
)
