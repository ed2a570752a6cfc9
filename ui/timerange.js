// Time ranges: a quick range ("1h": the last hour up to now) or absolute
// (from and to in milliseconds); as URL parameters from=now-1h&to=now or
// from=<ms>&to=<ms>.
const UNITS = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 };

export function durationMs(d) {
  const m = /^(\d+)([smhdw])$/.exec(d);
  return m ? Number(m[1]) * UNITS[m[2]] : NaN;
}

export class TimeRange {
  constructor(quick = "1h", from = 0, to = 0) { this.quick = quick; this.from = from; this.to = to; }
  static fromParams(p) {
    const from = p.get("from"), to = p.get("to");
    if (from && /^now-\d+[smhdw]$/.test(from) && (!to || to === "now"))
      return new TimeRange(from.slice(4));
    if (from && to && /^\d+$/.test(from) && /^\d+$/.test(to))
      return new TimeRange(null, Number(from), Number(to));
    return new TimeRange("1h");
  }
  // [fromMs, toMs] as of now
  resolve() {
    if (!this.quick) return [this.from, this.to];
    const now = Date.now();
    return [now - durationMs(this.quick), now];
  }
  toParams(p) {
    if (this.quick) { p.set("from", "now-" + this.quick); p.set("to", "now"); }
    else { p.set("from", String(this.from)); p.set("to", String(this.to)); }
  }
}

// A step giving about `points` buckets over the range, rounded to a
// readable duration; as a LogQL duration string and in ms.
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
  43200, 86400];
export function stepFor(fromMs, toMs, points) {
  const want = (toMs - fromMs) / 1000 / points;
  const s = STEPS.find((x) => x >= want) || 86400 * Math.ceil(want / 86400);
  return { ms: s * 1000, text: s + "s" };
}

// "2026-12-08 02:57:09.123" in local time
export function fmtTime(ms) {
  const d = new Date(ms);
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

// <input type=datetime-local> value <-> ms (local time)
export function toLocalInput(ms) { return fmtTime(ms).slice(0, 19).replace(" ", "T"); }
export function fromLocalInput(v) { const t = new Date(v).getTime(); return isNaN(t) ? null : t; }
