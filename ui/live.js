// Live tail: /loki/api/v1/tail over a WebSocket, newest line first, pausable
// (lines that arrive meanwhile are kept and shown on resume), with the rate
// of the last 10 seconds. Browsers cannot set X-Scope-OrgID on a WebSocket,
// so with a tenant the same is done by asking query_range every second.
import * as api from "./api.js";
import { esc } from "./logql.js";
import { entriesOf } from "./logs.js";
import { fmtTime } from "./timerange.js";
import { VList } from "./vlist.js";

const KEEP = 20000;
const cmpNs = (a, b) => (a.length - b.length) || (a < b ? -1 : a > b ? 1 : 0);

export class LiveView {
  constructor(app) {
    this.app = app;
    this.btn = document.getElementById("live-toggle");
    this.pauseBtn = document.getElementById("live-pause");
    this.rate = document.getElementById("live-rate");
    this.status = document.getElementById("live-status");
    this.list = new VList(document.getElementById("livelist"), {
      renderRow: (e) => ({ cls: "lv-" + e.level,
        html: `<span class="ts">${fmtTime(e.ms)}</span><span class="lbl">${esc(e.lbl)}</span>${esc(e.line)}` }),
      renderDetail: (e) => {
        const d = document.createElement("div");
        d.innerHTML = `<pre>${esc(e.line)}</pre><code>${esc(JSON.stringify(Object.assign({}, e.labels, e.meta)))}</code>`;
        return d;
      },
    });
    this.ws = null; this.timer = 0; this.rateTimer = 0;
    this.paused = false; this.held = []; this.buckets = [];
    this.btn.addEventListener("click", () => (this.running() ? this.stop() : this.start()));
    this.pauseBtn.addEventListener("click", () => this.togglePause());
  }

  running() { return !!(this.ws || this.timer); }

  start() {
    const q = this.app.query().trim();
    if (!q) { this.status.textContent = "Enter a log query to tail"; return; }
    this.stop();
    this.list.set([]);
    this.buckets = [];
    this.btn.textContent = "Stop";
    this.pauseBtn.disabled = false;
    this.rateTimer = setInterval(() => this.showRate(), 1000);
    const startMs = Date.now() - 5000;
    if (api.getTenant()) return this.poll(q, startMs);
    const url = new URL("/loki/api/v1/tail", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("query", q);
    url.searchParams.set("start", api.ns(startMs));
    url.searchParams.set("limit", "100");
    const ws = new WebSocket(url);
    this.ws = ws;
    this.status.textContent = "connecting…";
    ws.onopen = () => { this.status.textContent = "live"; };
    ws.onmessage = (m) => this.receive(entriesOf(JSON.parse(m.data).streams || []));
    ws.onerror = () => { this.status.textContent = "the tail connection failed"; };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.status.textContent = "ended" + (ev.reason ? ": " + ev.reason : "");
      this.stop();
    };
  }

  poll(q, startMs) {
    let since = api.ns(startMs);
    const seen = new Set();
    const tick = async () => {
      try {
        const r = await api.get("/loki/api/v1/query_range", { query: q, start: since,
          end: api.ns(Date.now()), direction: "forward", limit: 1000 });
        const es = entriesOf(r.data.result).filter((e) => !seen.has(e.key));
        es.forEach((e) => seen.add(e.key));
        if (es.length) since = es.reduce((m, e) => (cmpNs(e.ns, m) > 0 ? e.ns : m), since);
        this.receive(es);
        this.status.textContent = "live (polling: a tenant is set)";
      } catch (e) {
        this.status.textContent = e.message;
      }
    };
    tick();
    this.timer = setInterval(tick, 1000);
  }

  receive(es) {
    if (!es.length) return;
    const now = Math.floor(Date.now() / 1000);
    const b = this.buckets[this.buckets.length - 1];
    if (b && b.t === now) b.n += es.length; else this.buckets.push({ t: now, n: es.length });
    es.sort((a, c) => cmpNs(c.ns, a.ns));
    if (this.paused) { this.held = es.concat(this.held); this.showRate(); return; }
    this.list.prepend(es, this.list.el.scrollTop > 0);
    this.list.trim(KEEP);
    this.list.refresh();
  }

  showRate() {
    const now = Math.floor(Date.now() / 1000);
    this.buckets = this.buckets.filter((b) => b.t > now - 10);
    const n = this.buckets.reduce((a, b) => a + b.n, 0);
    this.rate.textContent = `${(n / 10).toFixed(1)} lines/s` +
      (this.paused ? ` · paused, ${this.held.length} new` : "");
  }

  togglePause() {
    this.paused = !this.paused;
    this.pauseBtn.textContent = this.paused ? "Resume" : "Pause";
    this.pauseBtn.setAttribute("aria-pressed", String(this.paused));
    if (!this.paused && this.held.length) {
      const es = this.held;
      this.held = [];
      this.list.prepend(es, this.list.el.scrollTop > 0);
      this.list.trim(KEEP);
      this.list.refresh();
    }
    this.showRate();
  }

  stop() {
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
    clearInterval(this.timer);
    clearInterval(this.rateTimer);
    this.timer = this.rateTimer = 0;
    this.paused = false;
    this.held = [];
    this.btn.textContent = "Start";
    this.pauseBtn.textContent = "Pause";
    this.pauseBtn.disabled = true;
  }
}
