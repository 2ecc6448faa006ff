/* Leads: the report's figures per agent and per team (report.agents, report.teams), as two
 * tables in the report panel. Names come from the server: they go in with textContent only
 * (dom.js), and only fixed words become class names. */

import { el, els } from "./dom.js";
import { DASH, fmtPct, fmtSeconds, isNum, plural } from "./format.js";

/** Both tables from one /api/reports answer. */
export function renderLeadFigures(report) {
  fillTable(els.reportAgentsBody, named(report.agents), agentCells, "No tickets handled in these 7 days");
  fillTable(els.reportTeamsBody, named(report.teams), teamCells, "No tickets in these 7 days");
}

export function clearLeadFigures() {
  els.reportAgentsBody.replaceChildren();
  els.reportTeamsBody.replaceChildren();
}

/** [name, figures] pairs in name order; anything that is not a row of figures is left out. */
function named(byName) {
  if (!byName || typeof byName !== "object") return [];
  return Object.entries(byName).filter(([, f]) => f && typeof f === "object").sort(([a], [b]) => a.localeCompare(b));
}

/** One row per name: the name as the row's header, then its cells ([class, text, title?, note?]). */
function fillTable(body, rows, cells, none) {
  body.replaceChildren(...rows.map(([name, figures]) => {
    const tr = el("tr", "figures-row");
    tr.dataset.name = name;
    const th = el("th", "figures-name", name);
    th.scope = "row";
    tr.append(th, ...cells(figures).map(([className, text, title, note]) => {
      const td = el("td", "num " + className, text);
      if (title) td.title = title;
      if (note) td.append(el("span", "fig-target", note));
      return td;
    }));
    return tr;
  }));
  if (!rows.length) {
    const td = el("td", "report-none", none);
    td.colSpan = 6;
    const tr = el("tr");
    tr.append(td);
    body.append(tr);
  }
}

/** Agent: handled, resolution rate, first response (median), handle time (median), CSAT. */
function agentCells(f) {
  return [
    ["fig-handled", count(f.handled)],
    ["fig-resolution", fmtPct(f.resolution_rate), count(f.resolved) + " resolved"],
    ["fig-first-response", fmtSeconds(f.first_response_median_s), "90th percentile " + fmtSeconds(f.first_response_p90_s)],
    ["fig-handle", fmtSeconds(f.handle_median_s), "claimed to resolved, median"],
    ["fig-csat", csat(f.csat), ratings(f)],
  ];
}

/** Team: handled, waiting, first response (median) against its target, share within it, CSAT. */
function teamCells(f) {
  const target = isNum(f.first_response_target_s) ? f.first_response_target_s : null;
  const over = target !== null && isNum(f.first_response_median_s) && f.first_response_median_s > target;
  return [
    ["fig-handled", count(f.handled)],
    ["fig-waiting", count(f.waiting)],
    ["fig-first-response" + (over ? " over-target" : ""), fmtSeconds(f.first_response_median_s),
      target !== null ? "median; target " + fmtSeconds(target) : "median; no target set",
      target !== null ? "/ " + fmtSeconds(target) : ""],
    ["fig-within", fmtPct(f.within_target), "first replies within the target"],
    ["fig-csat", csat(f.csat), ratings(f)],
  ];
}

function count(n) { return isNum(n) ? String(n) : DASH; }

function csat(value) { return isNum(value) ? String(Number(value.toFixed(2))) : DASH; }

function ratings(f) {
  return plural(isNum(f.ratings) ? f.ratings : 0, "rating", "ratings") +
    (isNum(f.csat_satisfied) ? " · " + fmtPct(f.csat_satisfied) + " satisfied" : "");
}
