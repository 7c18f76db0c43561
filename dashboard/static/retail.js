/* Retail orders: KPIs, revenue by day, orders by status, top customers. */
"use strict";

Dashboard.start((data) => {
  const { fmt } = Dashboard;
  const t = data.totals;
  Dashboard.kpi("revenue", fmt.money(t.revenue), `${fmt.count(data.revenue_by_day.length)} days`);
  Dashboard.kpi("orders", fmt.count(t.orders), `${fmt.count(t.orders_unknown_customer)} for customers the API does not know`);
  Dashboard.kpi("customers", fmt.count(t.customers));
  Dashboard.kpi("cancel", fmt.percent(t.cancelled, t.orders), `${fmt.count(t.cancelled)} cancelled`);

  const days = data.revenue_by_day;
  Dashboard.bars("chart-revenue-by-day", {
    x: days.map((d) => d.day),
    y: days.map((d) => d.revenue),
    customdata: days.map((d) => d.orders),
    hover: "%{x|%a %d %b %Y}<br>%{y:$,.0f} · %{customdata:,} orders<extra></extra>",
  }, { yaxis: { tickprefix: "$", tickformat: ",.0f" }, xaxis: { type: "date", tickformat: "%d %b" } });

  const statuses = data.statuses;
  Dashboard.bars("chart-statuses", {
    x: statuses.map((s) => s.status),
    y: statuses.map((s) => s.orders),
    colors: statuses.map((s) => (s.status === "cancelled" ? Dashboard.css("--warn") : Dashboard.css("--accent"))),
    horizontal: true,
    text: statuses.map((s) => fmt.count(s.orders)),
    hover: "%{y}: %{x:,} orders<extra></extra>",
  }, { xaxis: { showticklabels: false, showgrid: false } });

  Dashboard.table("table-top-customers", [
    { key: "customer_id", label: "customer" },
    { key: "name", label: "name" },
    { key: "country", label: "country" },
    { key: "orders", label: "orders", num: true, format: fmt.count },
    { key: "revenue", label: "revenue", num: true, format: (v) => fmt.money(v) },
  ], data.top_customers);
});
