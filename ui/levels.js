// Log levels as the explorer colours them: Loki's detected_level values and
// the usual spellings of a level label or field.
export const LEVELS = ["critical", "error", "warn", "info", "debug", "trace", "unknown"];
const ALIAS = { fatal: "critical", crit: "critical", panic: "critical", emerg: "critical",
  alert: "critical", err: "error", eror: "error", warning: "warn", wrn: "warn",
  information: "info", inf: "info", notice: "info", dbg: "debug", trc: "trace" };

export function normLevel(v) {
  if (!v) return "unknown";
  const l = String(v).toLowerCase();
  return LEVELS.includes(l) ? l : ALIAS[l] || "unknown";
}

export function levelColor(level) {
  return getComputedStyle(document.documentElement).getPropertyValue("--lv-" + level).trim() || "#999";
}

export function themeColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue("--" + name).trim();
}
