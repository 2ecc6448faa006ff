/* How times, dates, shares and counts are written on the page (in the browser's locale). */

export const DASH = "–";  // a figure there is nothing to compute from (null, no data)

export function isNum(v) { return typeof v === "number" && Number.isFinite(v); }

export function fmtDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m " + String(s % 60).padStart(2, "0") + "s";
  return Math.floor(s / 3600) + "h " + String(Math.floor(s / 60) % 60).padStart(2, "0") + "m";
}

export function fmtClock(epoch) {
  const d = new Date(epoch * 1000);
  const sameDay = d.toDateString() === new Date().toDateString();
  const opts = sameDay ? { hour: "2-digit", minute: "2-digit" } : { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
  return d.toLocaleString(undefined, opts);
}

export function fmtDate(epoch) {
  const d = new Date(epoch * 1000);
  const opts = { day: "numeric", month: "short" };
  if (d.getFullYear() !== new Date().getFullYear()) opts.year = "numeric";
  return d.toLocaleDateString(undefined, opts);
}

/** 0.8 -> "80%", 0.6667 -> "66.7%"; null -> "–". */
export function fmtPct(share) {
  if (!isNum(share)) return DASH;
  const n = Math.round(share * 1000) / 10;
  return (Number.isInteger(n) ? String(n) : n.toFixed(1)) + "%";
}

export function fmtSeconds(seconds) { return isNum(seconds) ? fmtDuration(seconds) : DASH; }

export function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

export function userLabel(conv) {
  return conv.user_name || (conv.platform === "webchat" ? "Web chat visitor" : "Unnamed user");
}
