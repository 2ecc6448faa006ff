/* Refreshes on demand: a burst of events becomes one fetch of each part, plus a slow poll as a
 * safety net next to the event stream. The parts register their fetchers (main.js), so this
 * module needs none of them. */

import { els } from "./dom.js";
import { isLead, state } from "./state.js";

export const POLL_MS = 10000;  // safety net next to the event stream (and keeps us "on shift")
const DEBOUNCE_MS = 150;       // a burst of events becomes one refresh

let fetchers = {};

/** The fetch of each part, by flag: {queue, me, conv, agents}, fetched in that order. */
export function refreshWith(partFetchers) { fetchers = partFetchers; }

/** Collects what needs refreshing and fetches it once, ~150 ms after the first request. */
export function scheduleRefresh(flags) {
  for (const [k, v] of Object.entries(flags)) if (v) state.pending[k] = true;
  if (state.timers.debounce) return;
  state.timers.debounce = setTimeout(() => {
    state.timers.debounce = null;
    const todo = state.pending;
    state.pending = {};
    if (!state.me) return;
    for (const [part, fetchPart] of Object.entries(fetchers)) if (todo[part]) fetchPart();
  }, DEBOUNCE_MS);
}

export function poll() {
  const live = els.connection.classList.contains("conn-live");
  scheduleRefresh({ queue: true, me: true, agents: isLead(), conv: !live });
}
