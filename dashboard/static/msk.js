/* Musculoskeletal care: KPIs, quarantine by rule, outcomes by network and provider, encounters per patient. */
"use strict";

Dashboard.start((data) => {
  const { fmt } = Dashboard;
  const t = data.totals;
  Dashboard.kpi("conversion", fmt.percent(t.converted, t.referrals), `${fmt.count(t.converted)} of ${fmt.count(t.referrals)} referrals`);
  Dashboard.kpi("adverse", t.encounters ? fmt.number((100 * t.adverse_events) / t.encounters, 2) : "–",
                `${fmt.count(t.adverse_events)} events, ${fmt.count(t.encounters)} encounters`);
  Dashboard.kpi("per-patient", t.patients ? fmt.number(t.encounters / t.patients, 2) : "–", `${fmt.count(t.patients)} patients seen`);
  Dashboard.kpi("held", fmt.count(t.held), `${fmt.count(t.promoted)} promoted once they passed`);

  const rules = data.quarantine;
  Dashboard.bars("chart-quarantine", {
    x: rules.map((r) => r.rule),
    y: rules.map((r) => r.held),
    horizontal: true,
    colors: Dashboard.css("--warn"),
    text: rules.map((r) => fmt.count(r.held)),
    hover: "%{y}: %{x:,} held<extra></extra>",
  }, { xaxis: { showticklabels: false, showgrid: false } });
  Dashboard.table("table-quarantine", [
    { key: "rule", label: "rule" },
    { key: "held", label: "held", num: true, format: fmt.count },
    { key: "promoted", label: "promoted", num: true, format: fmt.count },
    { key: "latest_reason", label: "latest reason" },
  ], rules, "nothing in quarantine");

  const employers = [...new Set(data.networks.map((n) => n.employer_name || n.employer_id))];
  const side = (inNetwork, key) => employers.map((e) => {
    const row = data.networks.find((n) => (n.employer_name || n.employer_id) === e && n.is_in_network === inNetwork);
    return row ? row[key] : null;
  });
  const [inColor, outColor] = [Dashboard.css("--accent"), Dashboard.css("--accent-2")];
  const grouped = (id, key, hover, axis) => Dashboard.chart(id, [
    { type: "bar", name: "in network", x: employers, y: side(true, key), marker: { color: inColor }, hovertemplate: hover },
    { type: "bar", name: "out of network", x: employers, y: side(false, key), marker: { color: outColor }, hovertemplate: hover },
  ], { barmode: "group", showlegend: true, yaxis: axis, legend: { orientation: "h", x: 0, y: 1.15 } });
  grouped("chart-network-conversion", "conversion_rate", "%{x}: %{y:.1%}<extra>%{fullData.name}</extra>", { tickformat: ".0%" });
  grouped("chart-network-adverse", "adverse_events_per_100_encounters", "%{x}: %{y:.2f}<extra>%{fullData.name}</extra>", {});

  const rate = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)} %`);
  Dashboard.table("table-providers", [
    { key: "npi", label: "NPI" },
    { key: "provider_name", label: "provider" },
    { key: "specialty", label: "specialty" },
    { key: "referrals_received", label: "referrals", num: true, format: fmt.count },
    { key: "conversion_rate", label: "converted", num: true, format: rate },
    { key: "encounters_count", label: "encounters", num: true, format: fmt.count },
    { key: "adverse_events_count", label: "adverse events", num: true, format: fmt.count },
    { key: "adverse_events_per_100_encounters", label: "per 100 enc.", num: true, format: (v) => fmt.number(v, 2) },
  ], data.providers);

  const months = data.monthly;
  Dashboard.lines("chart-monthly", [{
    name: "encounters per patient",
    x: months.map((m) => m.month),
    y: months.map((m) => m.encounters_per_patient),
    hover: "%{x|%b %Y}: %{y:.2f}<extra></extra>",
  }], { xaxis: { type: "date", tickformat: "%b %Y" } });
});
