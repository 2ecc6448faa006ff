/* The agent's presence: online, away or offline, chosen in the top bar, and away by itself
 * after the configured minutes without activity here (back online with the next activity, if
 * it was the console that set it away). Away and offline agents are offered no new work. */

import { api } from "./api.js";
import { els, toast } from "./dom.js";
import { state } from "./state.js";

const IDLE_CHECK_MS = 30000;
let lastActive = Date.now();
let autoAway = false;

async function setPresence(presence, automatic) {
  if (!state.me || state.me.presence === presence) return;
  try {
    await api("POST", "/api/me/presence", { presence });
    state.me.presence = presence;
    autoAway = automatic;
    els.presence.value = presence;
    els.presence.dataset.presence = presence;
    if (automatic) toast("You were idle: set to away (no new conversations are offered).");
  } catch (e) {
    els.presence.value = state.me.presence;
    toast("Could not change your presence: " + e.message, "error");
  }
}

function active() {
  lastActive = Date.now();
  if (autoAway && state.me && state.me.presence === "away") setPresence("online", false);
}

function checkIdle() {
  if (!state.me || state.me.presence !== "online") return;
  if (Date.now() - lastActive >= state.me.awayAfterMinutes * 60000) setPresence("away", true);
}

/** At sign-in: what the bot has for the agent, and the idle check. */
export function startPresence() {
  lastActive = Date.now();
  autoAway = false;
  els.presence.value = state.me.presence;
  els.presence.dataset.presence = state.me.presence;
  state.timers.idle = setInterval(checkIdle, IDLE_CHECK_MS);
}

export function wirePresence() {
  els.presence.addEventListener("change", () => setPresence(els.presence.value, false));
  for (const type of ["pointerdown", "keydown", "wheel"]) document.addEventListener(type, active, { passive: true });
  let moved = 0;
  document.addEventListener("mousemove", () => { if (Date.now() - moved > 5000) { moved = Date.now(); active(); } },
    { passive: true });
}
