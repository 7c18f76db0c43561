/* Movies catalogue: KPIs, titles by year, rating band and genre (movies and series stacked), top titles. */
"use strict";

Dashboard.start((data) => {
  const { fmt, css } = Dashboard;
  const t = data.totals;
  Dashboard.kpi("titles", fmt.count(t.titles), `${fmt.count(t.movies)} movies · ${fmt.count(t.series)} series`);
  Dashboard.kpi("rating", fmt.number(t.average_rating, 2), `over ${fmt.count(t.rated_titles)} rated titles`);
  Dashboard.kpi("revenue", fmt.money(t.revenue), `${fmt.count(t.earning_titles)} titles with a known revenue`);
  Dashboard.kpi("undated", fmt.count(t.undated), "not in the yearly and genre charts");

  /* movies and series as two stacked bar traces over the same categories */
  const stacked = (id, rowsIn, key, { horizontal = false, layout = {} } = {}) => {
    const trace = (name, field, color) => {
      const categories = rowsIn.map((r) => r[key]), counts = rowsIn.map((r) => r[field]);
      return { type: "bar", name, marker: { color }, orientation: horizontal ? "h" : "v",
               x: horizontal ? counts : categories, y: horizontal ? categories : counts,
               hovertemplate: `%{${horizontal ? "y" : "x"}}: %{${horizontal ? "x" : "y"}:,} ${name}<extra></extra>` };
    };
    const flipped = horizontal ? { yaxis: { autorange: "reversed", gridcolor: "rgba(0,0,0,0)" } } : {};
    return Dashboard.chart(id, [trace("movies", "movies", css("--accent")), trace("series", "series", css("--accent-2"))],
                           { barmode: "stack", showlegend: true, legend: { traceorder: "normal" }, ...flipped, ...layout });
  };

  stacked("chart-by-year", data.by_year, "year", { layout: { xaxis: { dtick: 5 } } });
  stacked("chart-by-rating", data.by_rating_band, "band", { layout: { xaxis: { type: "category" } } });
  document.getElementById("chart-by-genre").style.height = `${Math.max(280, 20 * data.by_genre.length)}px`;
  stacked("chart-by-genre", data.by_genre, "genre", { horizontal: true });

  Dashboard.table("table-top-titles", [
    { key: "title", label: "title" },
    { key: "kind", label: "kind" },
    { key: "year", label: "year", format: (v) => (v ?? "–") },
    { key: "rating", label: "rating", num: true, format: (v) => fmt.number(v, 1) },
    { key: "votes", label: "votes", num: true, format: fmt.count },
    { key: "revenue", label: "revenue", num: true, format: (v) => fmt.money(v) },
  ], data.top_titles);
});
