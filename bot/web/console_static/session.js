/* Signing in and out. The agent token lives in sessionStorage (this tab only); a sign-out
 * bumps the generation, so answers to the old session's requests are dropped. */

import { bearer } from "./api.js";
import { closeConversation } from "./conversation.js";
import { els } from "./dom.js";
import { connectEvents, setConnection } from "./events.js";
import { renderMine } from "./mine.js";
import { startPresence } from "./presence.js";
import { refreshQueue, tick } from "./queue.js";
import { poll, POLL_MS } from "./refresh.js";
import { clearReport, refreshReport, REPORT_MS } from "./report.js";
import { isLead, resetState, state } from "./state.js";
import { refreshAgents } from "./team.js";

const TOKEN_KEY = "supportbot-agent-token";

async function onSignIn(ev) {
  ev.preventDefault();
  const token = els.token.value.trim();
  if (!token) { els.signinError.textContent = "Paste your agent token."; return; }
  els.signinSubmit.disabled = true;
  els.signinError.textContent = "";
  try {
    await trySession(token);
  } finally {
    els.signinSubmit.disabled = false;
  }
}

/** Checks a token with /api/me and starts the session with it; false if refused. */
async function trySession(token) {
  let res;
  try {
    res = await fetch("/api/me", { cache: "no-store", headers: bearer(token) });
  } catch (e) {
    els.signinError.textContent = "Cannot reach the bot. Try again in a moment.";
    return false;
  }
  if (!res.ok) {
    const data = await res.json().catch(() => null);
    els.signinError.textContent = res.status === 401 ? "That token was not accepted."
      : (data && data.message) || "Sign-in failed (" + res.status + ").";
    if (res.status === 401) sessionStorage.removeItem(TOKEN_KEY);
    return false;
  }
  const me = await res.json();
  sessionStorage.setItem(TOKEN_KEY, token);
  els.token.value = "";
  startSession(token, me);
  return true;
}

function startSession(token, me) {
  state.generation += 1;
  state.token = token;
  state.me = { name: me.name, languages: me.languages || [], role: me.role, teams: me.teams || [],
    presence: me.presence || "online", awayAfterMinutes: me.away_after_minutes || 10 };
  state.mine = me.conversations || [];
  els.whoami.textContent = me.name + " · " + me.role;
  els.whoami.title = "Languages: " + state.me.languages.join(", ") + " · Teams: " + state.me.teams.join(", ");
  startPresence();
  document.body.classList.remove("signed-out");
  document.body.classList.toggle("is-lead", isLead());
  els.leadPanel.hidden = !isLead();
  els.workspace.hidden = false;
  renderMine();
  closeConversation();
  refreshQueue();
  if (isLead()) {
    refreshAgents();
    refreshReport();
    state.timers.report = setInterval(() => { if (!document.hidden) refreshReport(); }, REPORT_MS);
  }
  connectEvents();
  state.timers.poll = setInterval(poll, POLL_MS);
  state.timers.tick = setInterval(tick, 1000);
  els.claimNext.focus();
}

export function signOut(message) {
  state.generation += 1;
  if (state.stream) state.stream.abort();
  Object.values(state.timers).forEach((t) => { clearInterval(t); clearTimeout(t); });
  resetState();
  sessionStorage.removeItem(TOKEN_KEY);
  els.queue.replaceChildren();
  els.mine.replaceChildren();
  els.mentions.replaceChildren();
  els.mentionsPanel.hidden = true;
  els.transcript.replaceChildren();
  els.agentsBody.replaceChildren();
  els.slaBreaches.replaceChildren();
  clearReport();
  els.whoami.textContent = "";
  els.workspace.hidden = true;
  document.body.className = "signed-out";
  setConnection("off");
  els.signinError.textContent = message || "";
  document.title = "Agent console · supportbot";
  els.token.focus();
}

export function sessionExpired() {
  signOut("Your token is no longer accepted. Sign in again.");
}

/** A token saved in this tab (a reload) signs in again without asking. */
export async function resumeSession() {
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    const ok = await trySession(saved);
    if (!ok) els.token.focus();
  } else {
    els.token.focus();
  }
}

export function wireSession() {
  els.signin.addEventListener("submit", onSignIn);
  els.signout.addEventListener("click", () => signOut());
}
