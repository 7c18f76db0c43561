/* Teleconsultations: KPIs, the funnel, rates by week, duration by hour, lead time, specialties. */
"use strict";

Dashboard.start((data) => {
  const { fmt } = Dashboard;
  const t = data.totals;
  const due = t.completed + t.no_shows;
  Dashboard.kpi("booked", fmt.count(t.booked), `${fmt.count(t.doctors)} doctors`);
  Dashboard.kpi("completed", fmt.count(t.completed), `${fmt.percent(t.completed, t.booked)} of booked`);
  Dashboard.kpi("no-show", fmt.percent(t.no_shows, due), `${fmt.count(t.no_shows)} no-shows`);
  Dashboard.kpi("cancel", fmt.percent(t.cancelled, t.booked), `${fmt.count(t.cancelled)} cancelled`);

  const stages = [["booked", t.booked], ["confirmed", t.confirmed], ["completed", t.completed],
                  ["cancelled", t.cancelled], ["no-show", t.no_shows]];
  Dashboard.bars("chart-funnel", {
    x: stages.map(([name]) => name),
    y: stages.map(([, n]) => n),
    colors: stages.map(([name]) => (["cancelled", "no-show"].includes(name) ? Dashboard.css("--warn") : Dashboard.css("--accent"))),
    horizontal: true,
    text: stages.map(([, n]) => `${fmt.count(n)} · ${fmt.percent(n, t.booked, 0)}`),
    hover: "%{y}: %{x:,} appointments<extra></extra>",
  }, { xaxis: { showticklabels: false, showgrid: false } });

  const weeks = data.by_week;
  const share = (part, whole) => (whole ? (100 * part) / whole : null);
  Dashboard.lines("chart-rates", [
    { name: "no-show rate", x: weeks.map((w) => w.week), y: weeks.map((w) => share(w.no_shows, w.completed + w.no_shows)),
      color: Dashboard.css("--warn"), hover: "week of %{x|%d %b}: %{y:.1f} % no-shows<extra></extra>" },
    { name: "cancellation rate", x: weeks.map((w) => w.week), y: weeks.map((w) => share(w.cancelled, w.booked)),
      color: Dashboard.css("--accent"), hover: "week of %{x|%d %b}: %{y:.1f} % cancelled<extra></extra>" },
  ], { yaxis: { ticksuffix: " %", rangemode: "tozero" }, xaxis: { type: "date", tickformat: "%d %b" } });

  const hours = data.duration_by_hour;
  Dashboard.bars("chart-duration", {
    x: hours.map((h) => h.hour),
    y: hours.map((h) => h.avg_minutes),
    customdata: hours.map((h) => h.completed),
    hover: "%{x}:00 · %{y:.1f} min on average · %{customdata:,} consultations<extra></extra>",
  }, { yaxis: { ticksuffix: " min" }, xaxis: { dtick: 1, title: { text: "hour of day" } } });

  const leads = data.lead_times;
  Dashboard.bars("chart-lead-time", {
    x: leads.map((l) => l.bucket),
    y: leads.map((l) => l.booked),
    customdata: leads.map((l) => [l.no_show_rate === null ? 0 : 100 * l.no_show_rate, 100 * l.cancellation_rate]),
    hover: "%{x}: %{y:,} booked<br>%{customdata[0]:.1f} % no-shows · %{customdata[1]:.1f} % cancelled<extra></extra>",
  });

  Dashboard.table("table-specialties", [
    { key: "specialty", label: "specialty" },
    { key: "doctors", label: "doctors", num: true, format: fmt.count },
    { key: "booked", label: "booked", num: true, format: fmt.count },
    { key: "completed", label: "completed", num: true, format: fmt.count },
    { key: "no_show_rate", label: "no-show rate", num: true,
      format: (_, r) => fmt.percent(r.no_shows, r.completed + r.no_shows) },
    { key: "cancellation_rate", label: "cancellation rate", num: true, format: (_, r) => fmt.percent(r.cancelled, r.booked) },
  ], data.by_specialty);
});
