// A virtual list: only the rows in view (and a few around) are in the DOM,
// so tens of thousands of lines scroll smoothly. Rows have one height; one
// row at a time can be open, with its detail drawn under it.
const OVERSCAN = 10;

export class VList {
  // renderRow(item, index) -> {cls, html}; renderDetail(item, index) -> Element
  constructor(el, { rowHeight = 22, renderRow, renderDetail, onNearEnd }) {
    this.el = el;
    this.h = rowHeight;
    this.renderRow = renderRow;
    this.renderDetail = renderDetail;
    this.onNearEnd = onNearEnd;
    this.items = [];
    this.open = -1;
    this.extra = 0;
    this.spacer = document.createElement("div");
    this.spacer.className = "spacer";
    el.append(this.spacer);
    this.pool = new Map();
    this.detail = null;
    this.frame = 0;
    el.addEventListener("scroll", () => this.schedule());
    el.addEventListener("click", (e) => {
      const row = e.target.closest(".row");
      if (row) this.toggle(Number(row.dataset.i));
    });
    el.addEventListener("keydown", (e) => this.key(e));
    new ResizeObserver(() => this.schedule()).observe(el);
  }

  set(items) {
    this.items = items;
    this.closeDetail();
    this.el.scrollTop = 0;
    this.refresh();
  }
  append(more) { this.items.push(...more); this.refresh(); }
  prepend(more, keepView) {
    this.items.unshift(...more);
    if (this.open >= 0) this.open += more.length;
    if (keepView) this.el.scrollTop += more.length * this.h;
    this.refresh();
  }
  trim(max) {
    if (this.items.length <= max) return;
    this.items.length = max;
    if (this.open >= max) this.closeDetail();
  }
  refresh() { for (const r of this.pool.values()) r.remove(); this.pool.clear(); this.draw(); }
  schedule() { if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw(); }); }

  top(i) { return i * this.h + (this.open >= 0 && i > this.open ? this.extra : 0); }

  indexAt(y) {
    if (this.open >= 0 && y > this.top(this.open + 1)) return Math.floor((y - this.extra) / this.h);
    return Math.floor(y / this.h);
  }

  draw() {
    const n = this.items.length;
    this.spacer.style.height = this.top(n) + "px";
    const y = this.el.scrollTop, view = this.el.clientHeight;
    const first = Math.max(0, this.indexAt(y) - OVERSCAN);
    const last = Math.min(n - 1, this.indexAt(y + view) + OVERSCAN);
    for (const [i, r] of this.pool)
      if (i < first || i > last) { r.remove(); this.pool.delete(i); }
    for (let i = first; i <= last; i++) {
      if (this.pool.has(i)) continue;
      const { cls, html } = this.renderRow(this.items[i], i);
      const r = document.createElement("div");
      r.className = "row " + cls + (i === this.open ? " open" : "");
      r.dataset.i = i;
      r.setAttribute("role", "listitem");
      r.style.top = this.top(i) + "px";
      r.innerHTML = html;
      this.el.append(r);
      this.pool.set(i, r);
    }
    if (this.onNearEnd && n && last >= n - 1 - OVERSCAN) this.onNearEnd();
  }

  toggle(i) {
    const was = this.open;
    this.closeDetail();
    if (i === was) return this.refresh();
    this.open = i;
    this.detail = this.renderDetail(this.items[i], i);
    this.detail.classList.add("detail");
    this.detail.style.top = (i + 1) * this.h + "px";
    this.el.append(this.detail);
    this.extra = this.detail.offsetHeight;
    this.refresh();
  }

  closeDetail() {
    if (this.detail) this.detail.remove();
    this.detail = null;
    this.open = -1;
    this.extra = 0;
  }

  // keyboard: arrows move the open row, Enter/Space toggle, Escape closes
  key(e) {
    const n = this.items.length;
    if (!n) return;
    const cur = this.open >= 0 ? this.open : this.indexAt(this.el.scrollTop);
    let next = -1;
    if (e.key === "ArrowDown" || e.key === "j") next = Math.min(n - 1, cur + (this.open >= 0 ? 1 : 0));
    else if (e.key === "ArrowUp" || e.key === "k") next = Math.max(0, cur - 1);
    else if (e.key === "Escape" && this.open >= 0) { this.closeDetail(); this.refresh(); e.preventDefault(); return; }
    else return;
    e.preventDefault();
    this.toggle(next);
    const t = this.top(next);
    if (t < this.el.scrollTop || t + this.h + this.extra > this.el.scrollTop + this.el.clientHeight)
      this.el.scrollTop = Math.max(0, t - this.h);
  }
}
