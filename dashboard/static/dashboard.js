/* Shared by every page: the polling loop, state messages, the freshness indicator, number
   formatting and chart/table helpers (plotly.js). A page's own script draws its figures:
     Dashboard.start((data) => { ... });   // data = the "data" of /api/<domain> */
"use strict";

window.Dashboard = (() => {
  const body = document.body;
  const REFRESH_MS = 1000 * Number(body.dataset.refreshSeconds || 5);
  const STALE_AFTER_S = 15 * 60;
  const LOCALE = "en-US";
  const $ = (id) => document.getElementById(id);
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

  /* ---- formatting ---- */
  const counts = new Intl.NumberFormat(LOCALE);
  const currencies = new Map();
  const currency = (code) => {
    if (!currencies.has(code)) {
      currencies.set(code, new Intl.NumberFormat(LOCALE, { style: "currency", currency: code, maximumFractionDigits: 0 }));
    }
    return currencies.get(code);
  };
  const missing = (n) => n === null || n === undefined || Number.isNaN(n);
  const fmt = {
    count: (n) => (missing(n) ? "–" : counts.format(n)),
    money: (n, code = "USD") => (missing(n) ? "–" : currency(code).format(n)),
    number: (n, digits = 1) => (missing(n) ? "–" : n.toLocaleString(LOCALE, { maximumFractionDigits: digits })),
    percent: (part, whole, digits = 1) => (whole ? `${((100 * part) / whole).toFixed(digits)} %` : "–"),
    duration(seconds) {
      if (missing(seconds)) return "–";
      const s = Math.max(0, Math.round(seconds));
      if (s < 120) return `${s} s`;
      if (s < 7200) return `${Math.round(s / 60)} min`;
      if (s < 172800) return `${Math.round(s / 3600)} h`;
      return `${Math.round(s / 86400)} days`;
    },
    time: (iso) => (iso ? new Date(iso).toLocaleTimeString(LOCALE, { hour12: false }) : "–"),
    esc: (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]),
  };

  /* ---- KPIs and tables ---- */
  function kpi(id, value, sub) {
    $(`kpi-${id}`).textContent = value;
    const subEl = $(`kpi-${id}-sub`);
    if (subEl) subEl.textContent = sub ?? "";
  }

  /* columns: [{ key, label, num: true|false, format: (value, row) => text }] */
  function table(id, columns, rows, emptyText = "no rows yet") {
    const cls = (c) => (c.num ? ' class="num"' : "");
    const head = `<thead><tr>${columns.map((c) => `<th${cls(c)}>${fmt.esc(c.label)}</th>`).join("")}</tr></thead>`;
    const text = (c, row) => (c.format ? c.format(row[c.key], row) : row[c.key]);
    const cell = (c, row) => `<td${cls(c)}>${fmt.esc(text(c, row) ?? "–")}</td>`;
    const lines = rows.length
      ? rows.map((row) => `<tr>${columns.map((c) => cell(c, row)).join("")}</tr>`).join("")
      : `<tr><td class="empty" colspan="${columns.length}">${fmt.esc(emptyText)}</td></tr>`;
    $(id).innerHTML = `${head}<tbody>${lines}</tbody>`;
  }

  /* ---- charts (plotly.js, served by the dashboard from the installed plotly package) ---- */
  const palette = () => [css("--accent"), css("--accent-2"), css("--accent-3"), "#7a5af8", "#ee46bc", "#0ba5ec", "#667085"];
  const isObject = (v) => v && typeof v === "object" && !Array.isArray(v);
  const merge = (base, extra) => {
    const out = { ...base };
    for (const [k, v] of Object.entries(extra || {})) out[k] = isObject(v) && isObject(base[k]) ? merge(base[k], v) : v;
    return out;
  };
  const theme = () => {
    // one object per axis: plotly writes the type it infers into the layout it is given
    const axis = () => ({ gridcolor: css("--line"), linecolor: css("--line"), zeroline: false, automargin: true,
                          tickfont: { color: css("--muted") } });
    return {
      font: { family: css("--font"), size: 12, color: css("--ink") },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      margin: { l: 8, r: 8, t: 8, b: 8 }, xaxis: axis(), yaxis: axis(),
      showlegend: false, legend: { orientation: "h", y: -0.2 }, bargap: 0.18,
      hoverlabel: { font: { family: css("--font") } }, colorway: palette(),
    };
  };
  const hasPoints = (traces) => traces.some((t) => (t.x || t.values || t.y || []).length > 0);

  /* Draws (or redraws in place) any plotly traces into the element `id`, in the dashboard's theme. */
  function chart(id, traces, layout = {}) {
    let full = merge(theme(), layout);
    if (!hasPoints(traces)) {
      full = merge(full, { xaxis: { visible: false }, yaxis: { visible: false }, annotations: [{
        text: "no rows yet", showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5,
        font: { color: css("--muted"), size: 13 } }] });
    }
    return Plotly.react($(id), traces, full, { displayModeBar: false, responsive: true });
  }

  /* Bars: { x, y, color | colors, hover (a plotly hovertemplate), customdata (for the hover), text, horizontal } */
  function bars(id, { x, y, color, colors, hover, customdata, text, horizontal = false }, layout = {}) {
    const trace = { type: "bar", x: horizontal ? y : x, y: horizontal ? x : y, orientation: horizontal ? "h" : "v",
                    marker: { color: colors || color || css("--accent") }, hovertemplate: hover, customdata, text,
                    textposition: text ? "auto" : undefined };
    const flipped = horizontal ? { yaxis: { autorange: "reversed", gridcolor: "rgba(0,0,0,0)" } } : {};
    return chart(id, [trace], merge(flipped, layout));
  }

  /* Lines: series = [{ name, x, y, color }]; a legend appears when there is more than one. */
  function lines(id, series, layout = {}) {
    const traces = series.map((s) => ({ type: "scatter", mode: "lines+markers", name: s.name, x: s.x, y: s.y,
                                        line: { color: s.color, width: 2 }, marker: { size: 5 }, hovertemplate: s.hover }));
    return chart(id, traces, merge({ showlegend: series.length > 1 }, layout));
  }

  /* ---- states and freshness ---- */
  const TITLES = {
    empty: "No data yet",
    missing: "Marts not built yet",
    unreachable: "Postgres is not reachable",
    error: "The figures could not be read",
    offline: "The dashboard server is not answering",
  };
  let lastShown = null; // read_at of the figures on screen

  function showState(answer) {
    body.dataset.state = answer.state;
    const box = $("state"), content = $("content");
    if (answer.state === "ok") {
      box.hidden = true;
      content.hidden = false;
      content.classList.remove("stale");
      return;
    }
    const keepFigures = lastShown !== null && ["unreachable", "error", "offline"].includes(answer.state);
    $("state-title").textContent = TITLES[answer.state] || TITLES.error;
    $("state-message").textContent = (answer.message || "") +
      (keepFigures ? ` Below: the figures as read at ${fmt.time(lastShown)}.` : "");
    box.className = `state ${answer.state === "empty" ? "state-info" : "state-error"}`;
    box.hidden = false;
    content.hidden = !keepFigures;
    content.classList.toggle("stale", keepFigures);
  }

  function showFreshness(answer) {
    const dot = $("freshness-dot"), text = $("freshness-text");
    const every = `refreshes every ${REFRESH_MS / 1000} s`;
    dot.className = "dot";
    if (answer.state === "ok" || answer.state === "empty") {
      const age = answer.as_of ? (Date.now() - new Date(answer.as_of)) / 1000 : null;
      dot.classList.add(age !== null && age > STALE_AFTER_S ? "stale" : "fresh");
      const newest = age !== null ? `newest row landed ${fmt.duration(age)} ago · ` : "";
      text.textContent = `${newest}read ${fmt.time(answer.read_at)} · ${every}`;
    } else {
      dot.classList.add("down");
      text.textContent = `not updated since ${lastShown ? fmt.time(lastShown) : "the page opened"} · ${every}`;
    }
  }

  async function fetchAnswer(domain) {
    let response;
    try {
      response = await fetch(`/api/${domain}`, { cache: "no-store" });
    } catch {
      return { state: "offline", message: "The page keeps trying by itself." };
    }
    try {
      return await response.json();
    } catch {
      return { state: "error", message: `The dashboard answered ${response.status} ${response.statusText} without figures.` };
    }
  }

  /* Polls /api/<domain> forever, one request at a time; render(data) draws each new read in place. */
  function start(render) {
    const domain = body.dataset.domain;
    let renders = 0;
    const tick = async () => {
      let answer = await fetchAnswer(domain);
      showState(answer);
      if (answer.state === "ok") {
        try {
          await render(answer.data);
          lastShown = answer.read_at;
          body.dataset.renders = String(++renders);
        } catch (err) {
          console.error(err);
          answer = { state: "error", message: `The page could not draw its figures: ${err.message}.` };
          showState(answer);
        }
      }
      showFreshness(answer);
      setTimeout(tick, REFRESH_MS);
    };
    tick();
  }

  return { fmt, kpi, table, chart, bars, lines, palette, start, css };
})();
