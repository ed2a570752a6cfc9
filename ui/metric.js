// The metric view: a matrix (or a vector) as a time series chart whose
// legend toggles series, or as a table.
import { Chart } from "./charts.js";
import { esc } from "./logql.js";

const seriesName = (m) => {
  const kv = Object.entries(m || {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return kv.length ? `{${kv.join(", ")}}` : "{}";
};

export class MetricView {
  constructor() {
    this.chart = new Chart(document.getElementById("metric-chart"));
    this.table = document.getElementById("metric-table");
    this.wrap = document.getElementById("metric-table-wrap");
    this.count = document.getElementById("metric-count");
    this.bChart = document.getElementById("show-chart");
    this.bTable = document.getElementById("show-table");
    this.bChart.addEventListener("click", () => this.mode(false));
    this.bTable.addEventListener("click", () => this.mode(true));
  }

  mode(table) {
    this.bChart.setAttribute("aria-pressed", String(!table));
    this.bTable.setAttribute("aria-pressed", String(table));
    this.wrap.hidden = !table;
    this.chart.el.hidden = table;
  }

  async show(data) {
    const rows = data.resultType === "matrix" ? data.result
      : data.resultType === "vector" ? data.result.map((s) => ({ metric: s.metric, values: [s.value] }))
      : data.resultType === "scalar" ? [{ metric: {}, values: [data.result] }] : [];
    this.count.textContent = `${rows.length} series`;
    const ts = [...new Set(rows.flatMap((s) => s.values.map((v) => Number(v[0]))))].sort((a, b) => a - b);
    const at = new Map(ts.map((t, i) => [t, i]));
    const series = rows.map((s) => {
      const vals = ts.map(() => null);
      for (const [t, v] of s.values) vals[at.get(Number(t))] = Number(v);
      return { name: seriesName(s.metric), values: vals };
    });
    await this.chart.lines(ts, series);
    const stat = (vals) => {
      const v = vals.filter((x) => x !== null);
      if (!v.length) return ["", "", "", ""];
      const f = (x) => String(Math.round(x * 1000) / 1000);
      return [f(v[v.length - 1]), f(Math.min(...v)), f(Math.max(...v)), f(v.reduce((a, b) => a + b, 0) / v.length)];
    };
    this.table.className = "data";
    this.table.innerHTML = "<thead><tr><th>Series</th><th>Last</th><th>Min</th><th>Max</th><th>Mean</th><th>Points</th></tr></thead><tbody>" +
      series.map((s) => `<tr><td><code>${esc(s.name)}</code></td>` +
        stat(s.values).map((x) => `<td class="num">${x}</td>`).join("") +
        `<td class="num">${s.values.filter((x) => x !== null).length}</td></tr>`).join("") + "</tbody>";
  }
}
