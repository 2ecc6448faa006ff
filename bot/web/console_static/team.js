/* Leads: every agent's shift and load, and the SLA breaches. */

import { api } from "./api.js";
import { el, els, known, LANES } from "./dom.js";
import { fmtClock, fmtDuration } from "./format.js";
import { isLead, state } from "./state.js";

export async function refreshAgents() {
  if (!isLead()) return;
  const gen = state.generation;
  try {
    const { data } = await api("GET", "/api/agents");
    if (gen !== state.generation) return;
    state.agents = data.agents || [];
    els.agentsError.hidden = true;
    renderAgents();
  } catch (e) {
    if (gen !== state.generation) return;
    els.agentsError.textContent = "Could not load the agents: " + e.message;
    els.agentsError.hidden = false;
  }
}

function renderAgents() {
  const rows = state.agents.slice().sort((a, b) => (b.on_shift - a.on_shift) || a.name.localeCompare(b.name));
  els.agentsBody.replaceChildren(...rows.map((a) => {
    const tr = el("tr", "agent-row" + (a.on_shift ? " on-shift" : " off-shift"));
    tr.dataset.name = a.name;
    const name = el("td", "agent-name", a.name);
    if (a.role === "lead") name.append(el("span", "badge role", "lead"));
    const shift = !a.on_shift ? "Off" : a.presence === "online" ? "On" : a.presence === "away" ? "Away" : "Offline";
    tr.append(name, el("td", "agent-langs", (a.languages || []).join(", ")),
      el("td", "agent-teams", (a.teams || []).join(", ") || "all"),
      el("td", "agent-shift shift-" + shift.toLowerCase(), shift),
      el("td", "num agent-load", String(a.conversations) + (a.max_open ? " / " + a.max_open : "")));
    return tr;
  }));
  if (!rows.length) {
    const tr = el("tr");
    const td = el("td", "empty", "No agents");
    td.colSpan = 5;
    tr.append(td);
    els.agentsBody.append(tr);
  }
}

/** Breaches = queue items past their SLA now, plus sla_breached events seen this session. */
export function renderBreaches(force) {
  const elapsed = (performance.now() - state.queueAt) / 1000;
  const waiting = new Map(state.queue.filter((q) => q.sla_seconds > 0 && q.waited_seconds + elapsed >= q.sla_seconds)
    .map((q) => [q.id, q]));
  const ids = [...new Set([...waiting.keys(), ...[...state.breaches.keys()].reverse()])].slice(0, 50);
  const key = ids.join(",") + "|" + [...waiting.keys()].join(",");
  if (!force && key === state.breachKey) {
    // Same entries: just tick the waited times.
    for (const li of els.slaBreaches.children) {
      const q = waiting.get(li.dataset.id);
      if (q) li.querySelector(".breach-waited").textContent = fmtDuration(q.waited_seconds + elapsed);
    }
    return;
  }
  state.breachKey = key;
  els.slaBreaches.replaceChildren(...ids.map((id) => breachItem(id, waiting.get(id), elapsed)));
  els.breachesEmpty.hidden = ids.length > 0;
  els.breachesCount.textContent = String(ids.length);
}

/** One breach: `q` when it is still waiting in the queue, else what the sla_breached event said. */
function breachItem(id, q, elapsed) {
  const ev = state.breaches.get(id) || {};
  const li = el("li", "breach" + (q ? " still-waiting" : ""));
  li.dataset.id = id;
  li.append(el("span", "ticket", (q && q.ticket) || ev.ticket || id),
    el("span", "badge lane lane-" + known((q && q.lane) || ev.lane, LANES, "normal"), (q && q.lane) || ev.lane || "?"),
    el("span", "badge lang", (q && q.language) || ev.language || "?"),
    el("span", "breach-waited", q ? fmtDuration(q.waited_seconds + elapsed)
      : "picked up" + (ev.at ? " · breached " + fmtClock(ev.at) : "")));
  li.title = q ? "Still waiting" : "No longer in the queue";
  return li;
}
