// The label browser: the labels of the time range, a label's values with
// their volume (index/volume), and the selector the chosen values make.
import * as api from "./api.js";
import { esc, quote } from "./logql.js";

const fmtBytes = (b) => {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return (i ? b.toFixed(1) : String(b)) + " " + u[i];
};
const reEscape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export class LabelBrowser {
  // app: {range(), setQueryAndRun(q)}
  constructor(app) {
    this.app = app;
    this.names = document.getElementById("label-names");
    this.values = document.getElementById("label-values");
    this.title = document.getElementById("values-title");
    this.preview = document.getElementById("selector-preview");
    this.picked = new Map(); // name -> Set(values)
    this.current = null;
    this.names.addEventListener("click", (e) => {
      const li = e.target.closest("li");
      if (li) this.open(li.dataset.name);
    });
    this.values.addEventListener("click", (e) => {
      const li = e.target.closest("li");
      if (li) this.pick(li);
    });
    for (const ul of [this.names, this.values])
      ul.addEventListener("keydown", (e) => {
        if ((e.key === "Enter" || e.key === " ") && e.target.tagName === "LI") { e.preventDefault(); e.target.click(); }
      });
    document.getElementById("selector-use").addEventListener("click", () => {
      const s = this.selector();
      if (s) app.setQueryAndRun(s);
    });
    document.getElementById("selector-clear").addEventListener("click", () => {
      this.picked.clear();
      if (this.current) this.open(this.current);
      this.showSelector();
    });
  }

  async load() {
    const [from, to] = this.app.range();
    try {
      const r = await api.get("/loki/api/v1/labels", { start: api.ns(from), end: api.ns(to) });
      const names = (r.data || []).filter((n) => n !== "__name__");
      this.names.innerHTML = names.map((n) =>
        `<li role="option" tabindex="0" data-name="${esc(n)}" aria-selected="${n === this.current}">${esc(n)}</li>`).join("") ||
        "<li>No labels in this time range</li>";
    } catch (e) {
      this.names.innerHTML = `<li>${esc(e.message)}</li>`;
    }
    this.showSelector();
  }

  async open(name) {
    this.current = name;
    for (const li of this.names.children) li.setAttribute("aria-selected", String(li.dataset.name === name));
    this.title.textContent = `Values of ${name}`;
    const [from, to] = this.app.range();
    const range = { start: api.ns(from), end: api.ns(to) };
    const [vals, vol] = await Promise.all([
      api.get(`/loki/api/v1/label/${encodeURIComponent(name)}/values`, range).catch(() => ({ data: [] })),
      api.get("/loki/api/v1/index/volume", Object.assign({ query: `{${name}=~".+"}`,
        targetLabels: name, limit: 1000 }, range)).catch(() => null),
    ]);
    const bytes = new Map();
    for (const s of (vol && vol.data && vol.data.result) || []) bytes.set(s.metric[name], Number(s.value[1]));
    const max = Math.max(1, ...bytes.values());
    const set = this.picked.get(name) || new Set();
    this.values.innerHTML = (vals.data || []).map((v) => {
      const b = bytes.get(v);
      return `<li role="option" tabindex="0" data-value="${esc(v)}" aria-selected="${set.has(v)}">` +
        `<span>${esc(v)}</span>` + (b === undefined ? "" :
          `<span class="barv" data-w="${Math.max(2, Math.round(60 * b / max))}"></span><span class="vol">${fmtBytes(b)}</span>`) +
        "</li>";
    }).join("");
    this.fixBars();
  }

  // the CSP forbids style attributes in markup: widths are set from data-w
  fixBars() {
    for (const el of this.values.querySelectorAll(".barv")) el.style.width = el.dataset.w + "px";
  }

  pick(li) {
    const v = li.dataset.value;
    if (v === undefined) return;
    const set = this.picked.get(this.current) || new Set();
    if (set.has(v)) set.delete(v); else set.add(v);
    if (set.size) this.picked.set(this.current, set); else this.picked.delete(this.current);
    li.setAttribute("aria-selected", String(set.has(v)));
    this.showSelector();
  }

  selector() {
    const parts = [];
    for (const [n, set] of this.picked) {
      const vs = [...set];
      parts.push(vs.length === 1 ? `${n}=${quote(vs[0])}` : `${n}=~${quote(vs.map(reEscape).join("|"))}`);
    }
    return parts.length ? `{${parts.join(", ")}}` : "";
  }

  showSelector() {
    const s = this.selector();
    this.preview.textContent = s || "Pick values to build a selector";
    document.getElementById("selector-use").disabled = !s;
  }
}
