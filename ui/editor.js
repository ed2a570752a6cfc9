// The LogQL editor: a textarea over a coloured copy of its text, label name
// and value completion from the API, Ctrl+Enter to run, an error's position
// underlined.
import { highlight, completionContext, esc } from "./logql.js";

export class Editor {
  // source(kind, name) -> Promise<string[]> (label names, or a label's values)
  constructor(root, { source, onRun }) {
    this.ta = root.querySelector("textarea");
    this.hl = root.querySelector("pre");
    this.list = root.querySelector("#complete");
    this.source = source;
    this.onRun = onRun;
    this.errAt = -1;
    this.items = [];
    this.sel = 0;
    this.ctx = null;
    this.seq = 0;
    this.ta.addEventListener("input", () => { this.errAt = -1; this.paint(); this.complete(); });
    this.ta.addEventListener("scroll", () => { this.hl.scrollTop = this.ta.scrollTop; });
    this.ta.addEventListener("keydown", (e) => this.key(e));
    this.ta.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    this.list.addEventListener("mousedown", (e) => {
      const li = e.target.closest("li");
      if (li) { e.preventDefault(); this.accept(Number(li.dataset.i)); }
    });
    new ResizeObserver(() => this.fit()).observe(this.ta);
  }

  get value() { return this.ta.value; }
  set value(v) { this.ta.value = v; this.errAt = -1; this.paint(); this.fit(); }

  markError(offset) { this.errAt = offset; this.paint(); }

  paint() { this.hl.innerHTML = highlight(this.ta.value, this.errAt); }

  fit() {
    this.ta.style.height = "auto";
    this.ta.style.height = this.ta.scrollHeight + 2 + "px";
  }

  key(e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      this.close();
      this.onRun();
      return;
    }
    if (this.list.hidden) {
      if (e.key === " " && e.ctrlKey) { e.preventDefault(); this.complete(true); }
      return;
    }
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const n = this.items.length;
      this.sel = (this.sel + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      this.render();
    } else if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      this.accept(this.sel);
    } else if (e.key === "Escape") {
      e.preventDefault();
      this.close();
    }
  }

  async complete() {
    const pos = this.ta.selectionStart;
    const ctx = completionContext(this.ta.value, pos);
    if (!ctx) return this.close();
    const seq = ++this.seq;
    let all;
    try {
      all = await this.source(ctx.kind, ctx.name);
    } catch (e) {
      return this.close();
    }
    if (seq !== this.seq) return;
    const p = ctx.prefix.toLowerCase();
    this.items = all.filter((x) => x.toLowerCase().startsWith(p) && x !== ctx.prefix).slice(0, 200);
    this.ctx = ctx;
    this.sel = 0;
    if (!this.items.length) return this.close();
    this.render();
  }

  render() {
    this.list.innerHTML = this.items.map((x, i) =>
      `<li role="option" data-i="${i}" aria-selected="${i === this.sel}">${esc(x)}</li>`).join("");
    this.list.hidden = false;
    const cur = this.list.children[this.sel];
    if (cur) cur.scrollIntoView({ block: "nearest" });
  }

  accept(i) {
    const v = this.items[i];
    if (v === undefined || !this.ctx) return;
    const src = this.ta.value, pos = this.ta.selectionStart;
    let ins = this.ctx.kind === "value" ? v.replace(/[\\"]/g, "\\$&") : v;
    let tail = src.slice(pos);
    if (this.ctx.kind === "value" && !tail.startsWith('"')) ins += '"';
    if (this.ctx.kind === "name" && !/^\s*[=!]/.test(tail)) ins += '="';
    this.ta.value = src.slice(0, this.ctx.start) + ins + tail;
    const at = this.ctx.start + ins.length;
    this.ta.setSelectionRange(at, at);
    this.close();
    this.paint();
    if (this.ctx.kind === "name") this.complete();
  }

  close() { this.list.hidden = true; this.items = []; }
}
