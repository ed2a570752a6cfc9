// LogQL as the editor sees it: tokens for colouring, where an error points,
// what to complete at the cursor, and building or extending selectors.
const KEYWORDS = new Set(["json", "logfmt", "regexp", "pattern", "unpack", "line_format",
  "label_format", "keep", "drop", "decolorize", "unwrap", "by", "without", "on", "ignoring",
  "group_left", "group_right", "offset", "bool", "and", "or", "unless", "ip", "duration",
  "duration_seconds", "bytes"]);
const FUNCS = new Set(["rate", "count_over_time", "bytes_rate", "bytes_over_time",
  "sum_over_time", "avg_over_time", "max_over_time", "min_over_time", "first_over_time",
  "last_over_time", "stdvar_over_time", "stddev_over_time", "quantile_over_time",
  "absent_over_time", "rate_counter", "sum", "avg", "min", "max", "count", "stddev", "stdvar",
  "topk", "bottomk", "sort", "sort_desc", "approx_topk", "label_replace", "vector", "time",
  "timestamp"]);

const TOKEN = /("(?:[^"\\]|\\.)*"?|`[^`]*`?)|(\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w|y|b|kb|mb|gb|kib|mib|gib)?\b)|([A-Za-z_][A-Za-z0-9_.]*)|(\|=|!=|\|~|!~|=~|\|>|!>|==|>=|<=|[|=<>+\-*/%^!])|(\s+|.)/gy;

// [{type, text, start}]; types: str num ident op other
export function tokenize(src) {
  const out = [];
  TOKEN.lastIndex = 0;
  let m;
  while (TOKEN.lastIndex < src.length && (m = TOKEN.exec(src))) {
    const type = m[1] ? "str" : m[2] ? "num" : m[3] ? "ident" : m[4] ? "op" : "other";
    out.push({ type, text: m[0], start: m.index });
  }
  return out;
}

const esc = (s) => s.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]);
export { esc };

// The query as HTML with token classes; errAt (an offset) underlines the
// token holding it.
export function highlight(src, errAt = -1) {
  let html = "", depth = 0;
  for (const t of tokenize(src)) {
    let cls = "";
    if (t.type === "str") cls = "t-str";
    else if (t.type === "num") cls = "t-num";
    else if (t.type === "op") cls = "t-op";
    else if (t.type === "ident")
      cls = depth > 0 ? "t-label" : FUNCS.has(t.text) ? "t-fn" : KEYWORDS.has(t.text) ? "t-kw" : "t-label";
    if (t.text === "{") depth++;
    if (t.text === "}") depth = Math.max(0, depth - 1);
    const hit = errAt >= t.start && errAt < t.start + t.text.length;
    if (hit) cls += " t-err";
    html += cls ? `<span class="${cls.trim()}">${esc(t.text)}</span>` : esc(t.text);
  }
  if (errAt >= src.length && errAt >= 0) html += '<span class="t-err"> </span>';
  return html + "\n";
}

// Loki's "parse error at line L, col C: ..." as an offset into src, or -1.
export function errorOffset(src, msg) {
  const m = /at line (\d+), col (\d+)/.exec(msg);
  if (!m) return -1;
  const lines = src.split("\n");
  let off = 0;
  for (let i = 0; i < Number(m[1]) - 1 && i < lines.length; i++) off += lines[i].length + 1;
  return off + Number(m[2]) - 1;
}

// What to complete at offset pos: {kind:"name"|"value", name, prefix, start}
// inside a selector's braces, else null.
export function completionContext(src, pos) {
  let depth = 0, open = -1;
  for (const t of tokenize(src.slice(0, pos))) {
    if (t.text === "{") { depth++; open = t.start; }
    if (t.text === "}") depth--;
  }
  if (depth <= 0) return null;
  const inner = src.slice(open + 1, pos);
  let m = /([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)$/.exec(inner);
  if (m) return { kind: "value", name: m[1], prefix: m[3], start: pos - m[3].length };
  m = /(?:^|,)\s*([A-Za-z_][A-Za-z0-9_]*)?$/.exec(inner);
  if (m) { const p = m[1] || ""; return { kind: "name", prefix: p, start: pos - p.length }; }
  return null;
}

// The stream selector at the start of a log query ({...}), or "".
export function leadingSelector(src) {
  const s = src.trimStart();
  if (!s.startsWith("{")) return "";
  let inStr = null;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (inStr) {
      if (c === "\\" && inStr === '"') i++;
      else if (c === inStr) inStr = null;
    } else if (c === '"' || c === "`") inStr = c;
    else if (c === "}") return s.slice(0, i + 1);
  }
  return "";
}

export function quote(v) { return JSON.stringify(String(v)); }

// src with matcher name="value" added to its leading selector (or a new one).
export function addMatcher(src, name, value) {
  const sel = leadingSelector(src);
  const m = `${name}=${quote(value)}`;
  if (!sel) return `{${m}}` + (src.trim() ? " " + src.trim() : "");
  const inner = sel.slice(1, -1).trim();
  const rest = src.trimStart().slice(sel.length);
  return `{${inner ? inner + ", " : ""}${m}}${rest}`;
}

// A log query with a label filter stage appended (after `parser` if given).
export function addFilter(src, name, value, parser, op = "=") {
  let q = src.trim();
  if (parser && !new RegExp("\\|\\s*" + parser + "\\b").test(q)) q += ` | ${parser}`;
  return `${q} | ${name}${op}${quote(value)}`;
}
