// The HTTP API behind the explorer: GET requests with the tenant header
// (auth_enabled), Loki's error text on failure.
let tenant = "";

export function setTenant(t) { tenant = t; }
export function getTenant() { return tenant; }

export class ApiError extends Error {
  constructor(status, text) { super(text.trim() || "HTTP " + status); this.status = status; }
}

function headers(extra) {
  const h = Object.assign({}, extra);
  if (tenant) h["X-Scope-OrgID"] = tenant;
  return h;
}

export async function get(path, params, opts = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {}))
    if (v !== undefined && v !== null && v !== "") q.append(k, v);
  const url = path + (q.toString() ? "?" + q : "");
  const r = await fetch(url, { headers: headers(opts.headers), signal: opts.signal });
  const text = await r.text();
  if (!r.ok) throw new ApiError(r.status, text);
  return opts.text ? text : JSON.parse(text);
}

// auth_enabled from /config (the YAML dump of the running configuration).
export async function authEnabled() {
  try {
    const cfg = await get("/config", {}, { text: true });
    return /^auth_enabled:\s*true\s*$/m.test(cfg);
  } catch (e) {
    return false;
  }
}

// Nanoseconds since the epoch as a decimal string, from milliseconds.
export function ns(ms) { return BigInt(Math.round(ms)) * 1000000n + ""; }
