/* The pipeline: landing rate and lag over the last hour, dead letters, dbt cycles, mart freshness. */
"use strict";

Dashboard.start((data) => {
  const { fmt } = Dashboard;
  const sum = (rows, key) => rows.reduce((total, r) => total + (r[key] || 0), 0);

  if (data.worker_error) {
    Dashboard.kpi("rate", "–", data.worker_error);
    Dashboard.kpi("lag", "–", "worker not reachable");
  } else {
    Dashboard.kpi("rate", `${fmt.number(sum(data.topics, "events_per_second"), 0)}/s`,
                  `${fmt.count(sum(data.topics, "landed"))} landed since the worker started`);
    const batch = data.mean_batch_seconds;
    Dashboard.kpi("lag", fmt.count(sum(data.topics, "lag")),
                  batch === null ? "no batch yet" : `batches take ${fmt.number(batch * 1000, 0)} ms on average`);
  }
  Dashboard.kpi("letters", fmt.count(sum(data.dead_letters, "letters")),
                data.dead_letters.length ? `latest: ${data.dead_letters[0].reason}` : "none recorded");
  const last = data.cycles[0];
  if (last) {
    Dashboard.kpi("cycle", last.status.replace(/_/g, " "),
                  `${fmt.time(last.ended_at)} · ${fmt.number(last.seconds)} s · ${last.models_built} models · ` +
                  `tests ${last.tests_passed} passed, ${last.tests_failed} failed`);
    document.getElementById("kpi-cycle").classList.toggle("bad", last.status === "failed");
  } else {
    Dashboard.kpi("cycle", "none yet", "no dbt cycle has run");
  }

  const topics = [...new Set(data.history.flatMap((s) => Object.keys(s.lag)))].sort();
  const series = (key) => topics.map((topic) => ({
    name: topic,
    x: data.history.map((s) => s.at),
    y: data.history.map((s) => s[key][topic] ?? null),
  }));
  const timeAxis = { xaxis: { type: "date", tickformat: "%H:%M" }, yaxis: { rangemode: "tozero" } };
  Dashboard.lines("chart-rate", series("events_per_second"), timeAxis);
  Dashboard.lines("chart-lag", series("lag"), timeAxis);

  Dashboard.table("table-freshness", [
    { key: "mart", label: "mart" },
    { key: "age_seconds", label: "left current", num: true,
      format: (v, row) => (v === null ? "never built" : `${fmt.duration(v)} ago${row.stale ? " · stale" : ""}`) },
  ], data.freshness, "no mart built yet");
  document.querySelectorAll("#table-freshness tbody tr").forEach((tr, i) => {
    if (data.freshness[i]) tr.classList.toggle("bad", data.freshness[i].stale);
  });
  Dashboard.table("table-dead-letters", [
    { key: "topic", label: "topic" },
    { key: "stage", label: "stage" },
    { key: "reason", label: "reason" },
    { key: "letters", label: "letters", num: true, format: fmt.count },
    { key: "latest", label: "latest", format: fmt.time },
  ], data.dead_letters, "no dead letters");
  document.getElementById("dead-letters-note").textContent = data.dead_letters_note || "";
  Dashboard.table("table-cycles", [
    { key: "ended_at", label: "ended", format: fmt.time },
    { key: "status", label: "status" },
    { key: "mode", label: "mode" },
    { key: "seconds", label: "seconds", num: true, format: (v) => fmt.number(v) },
    { key: "models_built", label: "models built", num: true, format: fmt.count },
    { key: "tests_passed", label: "tests passed", num: true, format: fmt.count },
    { key: "tests_failed", label: "tests failed", num: true, format: fmt.count },
  ], data.cycles, "no dbt cycle yet");
});
