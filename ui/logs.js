// The log view: the volume histogram stacked by level (dragging zooms), the
// lines through a virtual list, a line's labels, structured metadata and
// parsed fields when opened (each a filter to add), more lines as the list
// is scrolled to its end.
import * as api from "./api.js";
import { Chart } from "./charts.js";
import { esc, addMatcher, addFilter } from "./logql.js";
import { normLevel, LEVELS } from "./levels.js";
import { fmtTime, stepFor } from "./timerange.js";
import { VList } from "./vlist.js";

const PAGE = 1000;
const MAX_LINES = 100000;
const CATEGORIZE = { "X-Loki-Response-Encoding-Flags": "categorize-labels" };

const cmpNs = (a, b) => (a.length - b.length) || (a < b ? -1 : a > b ? 1 : 0);

// One line of a streams answer: {ns, ms, line, labels, meta, parsed, level, key}
export function entriesOf(result) {
  const out = [];
  for (const s of result) {
    const labels = s.stream || {};
    const lbl = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(" ");
    for (const v of s.values) {
      const cat = v[2] || {};
      const meta = cat.structuredMetadata || {}, parsed = cat.parsed || {};
      const level = normLevel(meta.detected_level || labels.detected_level || parsed.level ||
        labels.level || meta.level || parsed.detected_level);
      out.push({ ns: v[0], ms: Number(v[0].slice(0, -6)), line: v[1], labels, lbl, meta, parsed,
        level, key: v[0] + "\0" + lbl + "\0" + v[1] });
    }
  }
  return out;
}

// JSON or logfmt fields of a line, for a line whose query parsed nothing.
function parseLine(line) {
  const t = line.trim();
  if (t.startsWith("{")) {
    try {
      const o = JSON.parse(t), f = {};
      const walk = (x, pre) => {
        for (const [k, v] of Object.entries(x)) {
          const n = (pre + k).replace(/[^A-Za-z0-9_]/g, "_");
          if (v && typeof v === "object" && !Array.isArray(v)) walk(v, n + "_");
          else f[n] = typeof v === "string" ? v : JSON.stringify(v);
        }
      };
      walk(o, "");
      return { parser: "json", fields: f };
    } catch (e) { /* not JSON: try logfmt */ }
  }
  const f = {};
  const re = /([A-Za-z_][A-Za-z0-9_.\-]*)=("(?:[^"\\]|\\.)*"|\S*)/g;
  let m;
  while ((m = re.exec(line))) {
    let v = m[2];
    if (v.startsWith('"')) try { v = JSON.parse(v); } catch (e) { v = v.slice(1, -1); }
    f[m[1].replace(/[^A-Za-z0-9_]/g, "_")] = v;
  }
  return Object.keys(f).length ? { parser: "logfmt", fields: f } : { parser: null, fields: {} };
}

export class LogsView {
  // app: {query(), range(), direction(), setQueryAndRun(q), zoom(fromMs, toMs)}
  constructor(app) {
    this.app = app;
    this.hist = new Chart(document.getElementById("histogram"));
    this.count = document.getElementById("logs-count");
    this.status = document.getElementById("logs-status");
    this.list = new VList(document.getElementById("loglist"), {
      renderRow: (e) => ({
        cls: "lv-" + e.level,
        html: `<span class="ts">${fmtTime(e.ms)}</span><span class="lbl">${esc(e.lbl)}</span>${esc(e.line)}`,
      }),
      renderDetail: (e) => this.detail(e),
      onNearEnd: () => this.more(),
    });
    this.abort = null;
  }

  async run(q, from, to, dir, first) {
    this.q = q; this.from = from; this.to = to; this.dir = dir;
    this.done = first.length < PAGE;
    this.loading = false;
    this.seen = new Set(first.map((e) => e.key));
    this.list.set(first);
    this.showCount();
    await this.histogram(q, from, to);
  }

  sortPage(es, dir = this.dir) {
    es.sort((a, b) => (dir === "forward" ? cmpNs(a.ns, b.ns) : cmpNs(b.ns, a.ns)));
    return es;
  }

  showCount() {
    const n = this.list.items.length;
    this.count.textContent = `${n.toLocaleString()} line${n === 1 ? "" : "s"}` +
      (this.done ? "" : " (scroll for more)");
  }

  async more() {
    if (this.done || this.loading || this.list.items.length >= MAX_LINES) return;
    this.loading = true;
    this.status.textContent = "loading…";
    const items = this.list.items, last = items[items.length - 1].ns;
    const p = { query: this.q, limit: PAGE, direction: this.dir,
      start: api.ns(this.from), end: api.ns(this.to) };
    if (this.dir === "forward") p.start = last; else p.end = (BigInt(last) + 1n).toString();
    try {
      const r = await api.get("/loki/api/v1/query_range", p, { headers: CATEGORIZE });
      const page = this.sortPage(entriesOf(r.data.result)).filter((e) => !this.seen.has(e.key));
      page.forEach((e) => this.seen.add(e.key));
      this.done = page.length === 0;
      this.list.append(page);
      this.status.textContent = "";
    } catch (e) {
      this.status.textContent = e.message;
      this.done = true;
    }
    this.loading = false;
    this.showCount();
  }

  async histogram(q, from, to) {
    const step = stepFor(from, to, 120);
    const mq = `sum by (detected_level, level) (count_over_time(${q} [${step.text}]))`;
    let r;
    try { // a sample at t counts (t-step, t]: one step past `to` counts the last bucket
      r = await api.get("/loki/api/v1/query_range", { query: mq, start: api.ns(from),
        end: api.ns(to + step.ms), step: step.text });
    } catch (e) {
      this.hist.destroy();
      return;
    }
    const xs = [];
    for (let t = Math.floor(from / step.ms) * step.ms; t <= to; t += step.ms) xs.push(t / 1000);
    const idx = new Map(xs.map((x, i) => [x, i]));
    const by = new Map();
    for (const s of r.data.result) {
      const level = normLevel(s.metric.detected_level || s.metric.level);
      const vals = by.get(level) || xs.map(() => 0);
      for (const [t, v] of s.values) {
        const i = idx.get(Math.floor((t * 1000 - 1) / step.ms) * step.ms / 1000);
        if (i !== undefined) vals[i] += Number(v);
      }
      by.set(level, vals);
    }
    const groups = LEVELS.filter((l) => by.has(l)).map((l) => ({ name: l, level: l, values: by.get(l) }));
    if (!groups.length) { this.hist.destroy(); return; }
    await this.hist.histogram(xs, groups, (a, b) => this.app.zoom(a, b));
  }

  detail(e) {
    const d = document.createElement("div");
    let parsed = e.parsed, parser = null;
    if (!Object.keys(parsed).length) ({ parser, fields: parsed } = parseLine(e.line));
    const section = (title, obj, kind) => {
      const rows = Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : 1));
      if (!rows.length) return "";
      return `<tr><th colspan="2">${title}</th></tr>` + rows.map(([k, v]) =>
        `<tr><td><button data-k="${esc(k)}" data-kind="${kind}" data-op="=" title="Filter for this value">=</button>` +
        `<button data-k="${esc(k)}" data-kind="${kind}" data-op="!=" title="Filter out this value">≠</button>` +
        ` ${esc(k)}</td><td>${esc(String(v))}</td></tr>`).join("");
    };
    d.innerHTML = `<pre>${esc(e.line)}</pre><table>` +
      `<tr><th colspan="2">${esc(fmtTime(e.ms))} · ${e.ns}</th></tr>` +
      section("Stream labels", e.labels, "label") + section("Structured metadata", e.meta, "meta") +
      section("Parsed fields", parsed, "parsed") + "</table>";
    d.addEventListener("click", (ev) => {
      const b = ev.target.closest("button");
      if (!b) return;
      ev.stopPropagation();
      const k = b.dataset.k, kind = b.dataset.kind;
      const v = kind === "label" ? e.labels[k] : kind === "meta" ? e.meta[k] : parsed[k];
      let q = this.app.query();
      if (kind === "label" && b.dataset.op === "=") q = addMatcher(q, k, v);
      else q = addFilter(q, k, v, kind === "parsed" ? parser : null, b.dataset.op);
      this.app.setQueryAndRun(q);
    });
    return d;
  }
}
