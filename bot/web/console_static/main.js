/* supportbot agents' console: plain JS modules, no framework, no build step.
 *
 * The page is served with a strict Content-Security-Policy (no inline code), so every
 * listener is attached by the modules' wire functions, called here. Text from users, agents
 * and the server only ever reaches the page through textContent (dom.js): a user may write
 * markup and it must show literally. The agent token lives in sessionStorage (this tab only)
 * and goes in an Authorization header, never in a URL (api.js).
 *
 * Modules: state.js, dom.js, format.js, api.js and refresh.js are the base (they import no
 * feature); session.js signs in and out; queue.js, mine.js, mentions.js, conversation.js (with
 * transcript.js and its files.js, composer.js, canned.js, conversation-actions.js), team.js and report.js
 * (with report-charts.js) are the page's parts; events.js is the live stream; keyboard.js
 * the shortcuts. Feature modules call each other's functions only when events happen, never
 * while loading, so their import cycles are harmless. */

import { wireAccountCard } from "./account-card.js";
import { whenTokenRevoked } from "./api.js";
import { wireCanned } from "./canned.js";
import { wireComposer } from "./composer.js";
import { refreshConversation, wireConversation } from "./conversation.js";
import { wireConversationActions } from "./conversation-actions.js";
import { els } from "./dom.js";
import { wireKeyboard } from "./keyboard.js";
import { wireMentions } from "./mentions.js";
import { refreshMe, wireMine } from "./mine.js";
import { wirePresence } from "./presence.js";
import { refreshQueue, wireQueue } from "./queue.js";
import { refreshWith } from "./refresh.js";
import { wireReport } from "./report.js";
import { resumeSession, sessionExpired, wireSession } from "./session.js";
import { refreshAgents } from "./team.js";

function wire() {
  whenTokenRevoked(sessionExpired);
  refreshWith({ queue: refreshQueue, me: refreshMe, conv: refreshConversation, agents: refreshAgents });
  wireSession();
  wireQueue();
  wireConversation();
  wireComposer();
  wireCanned();
  wireMentions();
  wireConversationActions();
  wireAccountCard();
  wireReport();
  wireKeyboard();
  wirePresence();
  wireMine();
}

async function boot() {
  wire();
  els.signinSubmit.disabled = false;  // only now: a submit before this could not be intercepted
  await resumeSession();
}

boot();
