/* Drug mentions: KPIs, the drug ↔ journal graph, journals by distinct drugs, mentions by drug. */
"use strict";

/* Edges grouped by where the journal mentions the drug: one line trace per group, one colour each. */
const EDGE_KINDS = [
  { name: "PubMed only", test: (e) => e.clinical_trial_mentions_count === 0, color: "--accent" },
  { name: "trials only", test: (e) => e.pubmed_mentions_count === 0, color: "--accent-2" },
  { name: "both", test: (e) => e.pubmed_mentions_count > 0 && e.clinical_trial_mentions_count > 0, color: "--accent-3" },
];

/* Journal names run long: the chart shows their start, the hover the whole name. */
const short = (name) => (name.length > 34 ? `${name.slice(0, 33)}…` : name);

/* A node's place on its side of the graph: evenly spread from top (0) to bottom (1). */
const spread = (names) => new Map(names.map((n, i) => [n, names.length > 1 ? 1 - i / (names.length - 1) : 0.5]));

function graphTraces(edges, journals) {
  const drugs = [...new Set(edges.map((e) => e.drug_name))].sort();
  const journalNames = journals.map((j) => j.journal);
  const drugY = spread(drugs), journalY = spread(journalNames);
  const lines = EDGE_KINDS.map((kind) => {
    const picked = edges.filter(kind.test);
    return {
      type: "scatter", mode: "lines", name: kind.name, hoverinfo: "skip",
      line: { color: Dashboard.css(kind.color), width: 1.5 },
      x: picked.flatMap(() => [0, 1, null]),
      y: picked.flatMap((e) => [drugY.get(e.drug_name), journalY.get(e.journal), null]),
    };
  });
  const journalsOf = (drug) => edges.filter((e) => e.drug_name === drug).length;
  const drugNodes = {
    type: "scatter", mode: "markers+text", name: "drugs", showlegend: false, cliponaxis: false,
    x: drugs.map(() => 0), y: drugs.map((d) => drugY.get(d)), text: drugs, textposition: "middle left",
    customdata: drugs.map(journalsOf),
    marker: { size: drugs.map((d) => 8 + 2 * journalsOf(d)), color: Dashboard.css("--ink") },
    hovertemplate: "%{text}: mentioned by %{customdata} journals<extra></extra>",
  };
  const journalNodes = {
    type: "scatter", mode: "markers+text", name: "journals", showlegend: false, cliponaxis: false,
    x: journals.map(() => 1), y: journals.map((j) => journalY.get(j.journal)), text: journalNames.map(short),
    textposition: "middle right", customdata: journals.map((j) => [j.journal, j.distinct_drugs_count]),
    marker: { size: journals.map((j) => 8 + 2 * j.distinct_drugs_count), color: Dashboard.css("--muted") },
    hovertemplate: "%{customdata[0]}: %{customdata[1]} distinct drugs<extra></extra>",
  };
  return [...lines, drugNodes, journalNodes];
}

Dashboard.start((data) => {
  const { fmt } = Dashboard;
  const t = data.totals;
  const top = data.journals.filter((j) => j.distinct_drugs_rank === 1);
  Dashboard.kpi("drugs", fmt.count(t.drugs), `${fmt.count(t.mentions)} mentions`);
  Dashboard.kpi("publications", fmt.count(t.publications), `${fmt.count(t.clinical_trials)} clinical trials`);
  Dashboard.kpi("journals", fmt.count(data.journals.length),
                `${fmt.count(t.mentions_without_journal)} mentions without a journal`);
  Dashboard.kpi("top-journal", top.length ? fmt.count(top[0].distinct_drugs_count) : "–",
                top.map((j) => j.journal).join(" · "));

  Dashboard.chart("chart-graph", graphTraces(data.edges, data.journals), {
    showlegend: true, legend: { orientation: "h", y: -0.04 }, margin: { l: 120, r: 250, t: 8, b: 8 },
    xaxis: { visible: false, range: [-0.05, 1.05] }, yaxis: { visible: false, range: [-0.05, 1.05] },
  });

  const journals = data.journals;
  Dashboard.bars("chart-journals", {
    x: journals.map((j) => short(j.journal)),
    y: journals.map((j) => j.distinct_drugs_count),
    colors: journals.map((j) => (j.distinct_drugs_rank === 1 ? Dashboard.css("--accent-3") : Dashboard.css("--accent"))),
    horizontal: true,
    text: journals.map((j) => fmt.count(j.distinct_drugs_count)),
    customdata: journals.map((j) => [j.journal, j.mentions_count]),
    hover: "%{customdata[0]}: %{x} distinct drugs, %{customdata[1]} mentions<extra></extra>",
  }, { xaxis: { showticklabels: false, showgrid: false } });

  Dashboard.table("table-drugs", [
    { key: "drug_name", label: "drug" },
    { key: "atccode", label: "ATC code" },
    { key: "pubmed", label: "PubMed articles", num: true, format: fmt.count },
    { key: "clinical_trials", label: "clinical trials", num: true, format: fmt.count },
    { key: "journals", label: "journals", num: true, format: fmt.count },
    { key: "first_mentioned_on", label: "first" },
    { key: "last_mentioned_on", label: "last" },
  ], data.drugs);
});
