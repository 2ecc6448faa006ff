/* Leads: the week's report (GET /api/reports?since=7d), fetched when the panel opens, every
 * 5 minutes, on Refresh, and on coming back to a tab whose copy is stale. The figures go in
 * the tiles here; the charts are drawn by report-charts.js, the per-agent and per-team tables
 * by lead-figures.js. */

import { api } from "./api.js";
import { els } from "./dom.js";
import { DASH, fmtClock, fmtDate, fmtPct, fmtSeconds, isNum, plural } from "./format.js";
import { clearLeadFigures, renderLeadFigures } from "./lead-figures.js";
import { renderDays, renderIntents, renderLanguages, renderUnanswered } from "./report-charts.js";
import { isLead, state } from "./state.js";

export const REPORT_MS = 5 * 60 * 1000;  // heavy for the bot (it reads every conversation)

export async function refreshReport() {
  if (!isLead() || state.reportLoading) return;
  const gen = state.generation;
  state.reportLoading = true;
  els.report.setAttribute("aria-busy", "true");
  els.reportRefresh.disabled = true;
  try {
    const { data } = await api("GET", "/api/reports?since=7d");
    if (gen !== state.generation) return;
    state.report = data || {};
    state.reportAt = Date.now();
    els.reportError.hidden = true;
    renderReport();
  } catch (e) {
    if (gen !== state.generation) return;
    els.reportError.textContent = "Could not load the report: " + e.message +
      (state.report ? " The figures below are from " + fmtClock(state.reportAt / 1000) + "." : "");
    els.reportError.hidden = false;
  } finally {
    if (gen === state.generation) {
      state.reportLoading = false;
      els.report.setAttribute("aria-busy", "false");
      els.reportRefresh.disabled = false;
    }
  }
}

function renderReport() {
  const r = state.report || {};
  const all = r.overall || {};
  els.reportPeriod.textContent = isNum(r.since) && isNum(r.until)
    ? fmtDate(r.since) + " – " + fmtDate(r.until) + " · updated " + fmtClock(r.until) : "";
  els.reportConversations.textContent = isNum(all.conversations) ? String(all.conversations) : DASH;
  els.reportMessages.textContent = isNum(all.messages) ? plural(all.messages, "message", "messages") : "";
  els.reportDeflection.textContent = fmtPct(all.deflection);
  els.reportHandoff.textContent = fmtPct(all.handoff_rate);
  els.reportTickets.textContent = isNum(all.tickets) ? plural(all.tickets, "ticket", "tickets") : "";
  els.reportFirstResponse.textContent = fmtSeconds(all.first_response_median_s);
  els.reportSla.textContent = fmtPct(all.sla_kept);
  els.reportCsat.textContent = isNum(all.csat) ? Number(all.csat.toFixed(1)) + "/5" : DASH;
  const ratings = isNum(all.ratings) ? all.ratings : 0;
  els.reportRatings.textContent = plural(ratings, "rating", "ratings") +
    (ratings && isNum(all.csat_satisfied) ? " · " + fmtPct(all.csat_satisfied) + " satisfied" : "");
  renderLanguages(r.by_language || {});
  renderIntents(Array.isArray(r.top_intents) ? r.top_intents : []);
  renderDays(r.messages_per_day || {}, r.since, r.until);
  renderUnanswered(Array.isArray(r.unanswered) ? r.unanswered : []);
  renderLeadFigures(r);
}

export function clearReport() {
  [els.reportConversations, els.reportDeflection, els.reportHandoff, els.reportFirstResponse, els.reportSla,
    els.reportCsat].forEach((node) => { node.textContent = DASH; });
  [els.reportPeriod, els.reportMessages, els.reportTickets, els.reportRatings].forEach((node) => { node.textContent = ""; });
  [els.reportLanguages, els.reportIntents, els.reportDays, els.reportDaysLegend, els.reportUnanswered]
    .forEach((node) => node.replaceChildren());
  clearLeadFigures();
  els.reportError.hidden = true;
  els.report.setAttribute("aria-busy", "false");
  els.reportRefresh.disabled = false;
}

export function wireReport() {
  els.reportRefresh.addEventListener("click", refreshReport);
  // Back to a tab left in the background (its timers are throttled): a stale report is fetched again.
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && isLead() && Date.now() - state.reportAt >= REPORT_MS) refreshReport();
  });
}
