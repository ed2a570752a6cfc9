// lokic's log explorer: the page's state (query, time range, order, view,
// tenant) kept in the URL, the editor, and which view shows an answer.
import * as api from "./api.js";
import { Editor } from "./editor.js";
import { LabelBrowser } from "./labels.js";
import { LiveView } from "./live.js";
import { LogsView, entriesOf } from "./logs.js";
import { errorOffset } from "./logql.js";
import { MetricView } from "./metric.js";
import { TimeRange, toLocalInput, fromLocalInput } from "./timerange.js";

const $ = (id) => document.getElementById(id);
const state = { range: new TimeRange("1h"), view: "logs", runSeq: 0 };
const names = { at: 0, key: "", list: null };
const values = new Map();

const app = {
  query: () => editor.value,
  range: () => state.range.resolve(),
  direction: () => $("direction").value,
  setQueryAndRun(q) { editor.value = q; showView("logs"); run(); },
  zoom(fromMs, toMs) { state.range = new TimeRange(null, fromMs, toMs); showRange(); run(); },
};

// completion source: label names and values of the current range, cached a minute
async function source(kind, name) {
  const [from, to] = app.range();
  const p = { start: api.ns(from), end: api.ns(to) };
  const key = api.getTenant() + "|" + Math.floor(from / 60000);
  if (kind === "name") {
    if (names.key !== key || !names.list)
      names.list = (await api.get("/loki/api/v1/labels", p)).data || [];
    names.key = key;
    return names.list;
  }
  const vk = key + "|" + name;
  if (!values.has(vk))
    values.set(vk, (await api.get(`/loki/api/v1/label/${encodeURIComponent(name)}/values`, p)).data || []);
  return values.get(vk);
}

const editor = new Editor($("editor"), { source, onRun: () => run() });
const logs = new LogsView(app);
const metric = new MetricView();
const labels = new LabelBrowser(app);
const live = new LiveView(app);
// the views, for the browser tests (tests/browser) to read what is drawn
window.__lokic = { logs, metric, labels, live };

function showError(msg) {
  const box = $("error");
  box.hidden = !msg;
  box.textContent = msg || "";
  if (msg) editor.markError(errorOffset(editor.value, msg));
}

function showView(v) {
  state.view = v;
  const tab = v === "metric" ? "logs" : v;
  for (const b of document.querySelectorAll(".tabs button"))
    b.setAttribute("aria-selected", String(b.dataset.view === tab));
  for (const s of ["logs", "metric", "labels", "live"]) $("view-" + s).hidden = s !== v;
  if (v === "labels") labels.load();
  if (v !== "live") live.stop();
}

function showRange() {
  const r = state.range;
  $("range").value = r.quick && [...$("range").options].some((o) => o.value === r.quick) ? r.quick : "abs";
  $("abs").hidden = $("range").value !== "abs";
  const [from, to] = r.resolve();
  $("from").value = toLocalInput(from);
  $("to").value = toLocalInput(to);
}

function saveUrl() {
  const p = new URLSearchParams();
  if (editor.value) p.set("query", editor.value);
  state.range.toParams(p);
  if ($("direction").value !== "backward") p.set("direction", $("direction").value);
  if (state.view === "labels" || state.view === "live") p.set("view", state.view);
  if (api.getTenant()) p.set("tenant", api.getTenant());
  history.replaceState(null, "", "/?" + p);
}

async function run() {
  const q = editor.value.trim();
  saveUrl();
  if (!q) return;
  if (state.view !== "logs" && state.view !== "metric") showView("logs");
  const seq = ++state.runSeq;
  const [from, to] = app.range();
  const dir = app.direction();
  document.body.dataset.state = "running";
  $("run").disabled = true;
  try {
    const r = await api.get("/loki/api/v1/query_range", { query: q, start: api.ns(from),
      end: api.ns(to), limit: 1000, direction: dir },
      { headers: { "X-Loki-Response-Encoding-Flags": "categorize-labels" } });
    if (seq !== state.runSeq) return;
    showError("");
    if (r.data.resultType === "streams") {
      showView("logs");
      await logs.run(q, from, to, dir, logs.sortPage(entriesOf(r.data.result), dir));
    } else {
      showView("metric");
      await metric.show(r.data);
    }
  } catch (e) {
    if (seq === state.runSeq) showError(e.message);
  } finally {
    if (seq === state.runSeq) {
      $("run").disabled = false;
      document.body.dataset.state = "done";
    }
  }
}

function init() {
  const p = new URLSearchParams(location.search);
  state.range = TimeRange.fromParams(p);
  editor.value = p.get("query") || "";
  if (p.get("direction") === "forward") $("direction").value = "forward";
  showRange();
  $("range").addEventListener("change", () => {
    if ($("range").value === "abs") {
      const [from, to] = state.range.resolve();
      state.range = new TimeRange(null, from, to);
    } else {
      state.range = new TimeRange($("range").value);
    }
    showRange();
    run();
  });
  for (const id of ["from", "to"])
    $(id).addEventListener("change", () => {
      const from = fromLocalInput($("from").value), to = fromLocalInput($("to").value);
      if (from !== null && to !== null && from < to) { state.range = new TimeRange(null, from, to); run(); }
    });
  $("direction").addEventListener("change", () => run());
  $("run").addEventListener("click", () => run());
  for (const b of document.querySelectorAll(".tabs button"))
    b.addEventListener("click", () => {
      showView(b.dataset.view === "logs" && state.view === "metric" ? "metric" : b.dataset.view);
      saveUrl();
    });
  $("tenant").addEventListener("change", () => {
    api.setTenant($("tenant").value.trim());
    names.list = null;
    values.clear();
    run();
  });
  api.authEnabled().then((on) => {
    $("tenant-box").hidden = !on;
    if (on) {
      const t = p.get("tenant") || localStorage.getItem("lokic.tenant") || "";
      $("tenant").value = t;
      api.setTenant(t);
      $("tenant").addEventListener("change", () => localStorage.setItem("lokic.tenant", $("tenant").value.trim()));
    }
    const v = p.get("view");
    if (v === "labels" || v === "live") showView(v);
    if (editor.value && v !== "labels" && v !== "live") run();
    else document.body.dataset.state = "done";
  });
  editor.ta.focus();
}

init();
