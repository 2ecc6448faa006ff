/* The report's charts, drawn with plain elements: bars' sizes are set through the CSSOM (the
 * CSP allows that, unlike style attributes). Text from the report (intents, what users wrote)
 * goes in with textContent only. */

import { el, els, known, PLATFORMS } from "./dom.js";
import { DASH, fmtPct, isNum, plural } from "./format.js";

/** A bar's fill: its width (or height) from a share, set through the CSSOM (the CSP allows it). */
function fill(className, share, prop) {
  const node = el("span", className);
  node.style[prop || "width"] = (isNum(share) ? Math.max(0, Math.min(1, share)) * 100 : 0).toFixed(1) + "%";
  return node;
}

/** One row per language: a deflected bar and a handed-off bar, each with its figure. */
export function renderLanguages(byLanguage) {
  const rows = Object.entries(byLanguage)
    .sort(([a, x], [b, y]) => ((y && y.conversations) || 0) - ((x && x.conversations) || 0) || a.localeCompare(b));
  els.reportLanguages.replaceChildren(...rows.map(([language, figures]) => {
    const f = figures || {};
    const li = el("li", "lang-row");
    li.dataset.language = language;
    const head = el("div", "lang-head");
    head.append(el("span", "badge lang", language),
      el("span", "lang-count", isNum(f.conversations) ? f.conversations + " conv." : ""));
    head.title = isNum(f.conversations) ? plural(f.conversations, "conversation", "conversations") : "";
    li.append(head, barLine("deflect", "deflected", language, f.deflection),
      barLine("handoff", "handed off", language, f.handoff_rate));
    return li;
  }));
  if (!rows.length) els.reportLanguages.append(el("li", "report-none", "No conversations in these 7 days"));
}

function barLine(kind, words, language, share) {
  const line = el("div", "bar-line bar-" + kind);
  const track = el("span", "track");
  track.setAttribute("role", "img");
  track.setAttribute("aria-label", language + ": " + (isNum(share) ? fmtPct(share) + " " + words : words + " not known"));
  track.append(fill("fill", share));
  const value = el("span", "bar-value", fmtPct(share));
  value.setAttribute("aria-hidden", "true");  // the bar's label says it already
  line.append(track, value);
  return line;
}

/** Top intents as horizontal bars, the longest being the most asked. */
export function renderIntents(pairs) {
  const rows = pairs.filter((p) => Array.isArray(p) && isNum(p[1]));
  const most = Math.max(1, ...rows.map((p) => p[1]));
  els.reportIntents.replaceChildren(...rows.map(([intent, count]) => {
    const li = el("li", "hbar");
    const track = el("span", "track");
    track.setAttribute("aria-hidden", "true");
    track.append(fill("fill", count / most));
    li.append(el("span", "hbar-name", intent || "(none)"), el("span", "hbar-count", String(count)), track);
    li.title = intent + ": " + plural(count, "message", "messages");
    return li;
  }));
  if (!rows.length) els.reportIntents.append(el("li", "report-none", DASH));
}

/** The UTC days ("YYYY-MM-DD", as the report keys them) from `since` to `until`. */
function reportDays(perDay, since, until) {
  const keys = new Set(Object.keys(perDay));
  if (isNum(since) && isNum(until) && until - since <= 31 * 86400) {
    const day = new Date(Math.floor(since / 86400) * 86400 * 1000);
    for (; day.getTime() <= until * 1000; day.setUTCDate(day.getUTCDate() + 1)) keys.add(day.toISOString().slice(0, 10));
  }
  return [...keys].sort();
}

/** Messages per day: small vertical bars, stacked by platform. */
export function renderDays(perDay, since, until) {
  const days = reportDays(perDay, since, until);
  const counts = days.map((d) => Object.entries(perDay[d] || {}).filter(([, n]) => isNum(n) && n > 0));
  const totals = counts.map((c) => c.reduce((sum, [, n]) => sum + n, 0));
  const most = Math.max(1, ...totals);
  const platforms = new Set();
  els.reportDays.replaceChildren(...days.map((day, i) => {
    counts[i].forEach(([platform]) => platforms.add(platform));
    return dayItem(day, counts[i], totals[i], most);
  }));
  els.reportDaysLegend.replaceChildren(...[...platforms].sort().map((p) =>
    el("span", "key key-platform platform-" + known(p, PLATFORMS, "other"), p)));
}

/** One day's column: its total, a stack of platform segments, and the date below. */
function dayItem(day, counts, total, most) {
  const date = new Date(day + "T00:00:00Z");
  const valid = !Number.isNaN(date.getTime());
  const weekday = valid ? date.toLocaleDateString(undefined, { weekday: "short", timeZone: "UTC" }) : "";
  const li = el("li", "day" + (total ? "" : " day-none"));
  const column = el("span", "day-bar");
  column.setAttribute("aria-hidden", "true");
  const stack = fill("day-stack", total / most, "height");
  for (const [platform, n] of counts.sort(([a], [b]) => a.localeCompare(b))) {
    const segment = fill("seg platform-" + known(platform, PLATFORMS, "other"), n / total, "height");
    segment.title = platform + ": " + n;
    stack.append(segment);
  }
  column.append(stack);
  const detail = counts.map(([p, n]) => p + " " + n).join(", ");
  const long = valid ? date.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" }) : day;
  const sentence = long + ": " +
    plural(total, "message", "messages") + (detail ? " (" + detail + ")" : "");
  const label = el("span", "day-label");
  label.append(el("span", "day-weekday", weekday), el("span", "day-date", valid ? String(date.getUTCDate()) : day));
  const count = el("span", "day-count", total ? String(total) : DASH);
  [count, label].forEach((node) => node.setAttribute("aria-hidden", "true"));
  li.append(count, column, label, el("span", "visually-hidden", sentence));  // read as one sentence
  li.title = sentence;
  return li;
}

/** What the bot asked users to rephrase most (redacted as stored, user text: textContent only). */
export function renderUnanswered(pairs) {
  const rows = pairs.filter((p) => Array.isArray(p)).slice(0, 5);
  els.reportUnanswered.replaceChildren(...rows.map(([text, count]) => {
    const li = el("li", "unanswered");
    li.append(el("span", "unanswered-text", text || "(empty)"), el("span", "hbar-count", "×" + count));
    return li;
  }));
  if (!rows.length) els.reportUnanswered.append(el("li", "report-none", "Nothing: every question got an answer"));
}
