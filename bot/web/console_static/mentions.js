/* Mentions: an agent's internal note named me (`@name`), which the event stream tells as
 * "mentioned". Each shows once as a toast and stays in the Mentions list until I open it; a
 * mention lets me read that conversation (not reply in it). Events are not durable: a mention
 * made while this page was closed is in the conversation's notes, not here. */

import { openConversation } from "./conversation.js";
import { el, els, toast } from "./dom.js";
import { state } from "./state.js";

const KEPT = 20;  // mentions listed at most

function sentence(mention) {
  return "You were mentioned in " + (mention.ticket || "a conversation") + " by " + mention.by;
}

/** A "mentioned" event for me: listed first, and told. */
export function addMention(data) {
  const mention = { conversation: String(data.conversation || ""), ticket: data.ticket || "",
    by: String(data.by || "?"), excerpt: String(data.excerpt || "") };
  if (!mention.conversation) return;
  state.mentions = [mention, ...state.mentions.filter((m) => m.conversation !== mention.conversation)].slice(0, KEPT);
  renderMentions();
  toast(sentence(mention) + ".");
}

export function renderMentions() {
  els.mentionsPanel.hidden = state.mentions.length === 0;
  els.mentionsCount.textContent = String(state.mentions.length);
  els.mentions.replaceChildren(...state.mentions.map((mention) => {
    const li = el("li", "mention-item");
    li.dataset.id = mention.conversation;
    li.tabIndex = 0;
    li.append(el("div", "mention-what", sentence(mention)));
    if (mention.excerpt) li.append(el("div", "mention-excerpt", mention.excerpt));
    return li;
  }));
}

function openMention(li) {
  state.mentions = state.mentions.filter((m) => m.conversation !== li.dataset.id);
  renderMentions();
  openConversation(li.dataset.id);
}

export function wireMentions() {
  els.mentions.addEventListener("click", (ev) => { const li = ev.target.closest("li.mention-item"); if (li) openMention(li); });
  els.mentions.addEventListener("keydown", (ev) => {
    const li = ev.target.closest("li.mention-item");
    if (li && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); openMention(li); }
  });
}
