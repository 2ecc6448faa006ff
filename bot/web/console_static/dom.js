/* The page's elements by id, and the one way text reaches the page: textContent. A user may
 * write markup and it must show literally, so nothing here (or anywhere) sets innerHTML. */

const $ = (id) => document.getElementById(id);

/** Every element the script touches, by id in camelCase ("conv-ticket" -> els.convTicket). */
export const els = {};
["signin", "token", "signin-error", "signin-submit", "whoami", "signout", "connection", "workspace",
  "offline-banner", "queue", "queue-empty", "queue-error", "queue-count", "claim-next", "mine", "mine-empty",
  "mine-count", "conv-empty", "conv-view", "back", "conv-ticket", "conv-user", "conv-platform", "conv-language",
  "conv-lane", "conv-intent", "conv-state", "resolve", "transfer", "release", "transfer-form", "transfer-to",
  "transfer-options", "transfer-error", "transfer-cancel", "earlier-tickets", "conv-readonly", "transcript",
  "composer", "canned", "reply", "reply-count", "send", "lead-panel", "agents-body", "agents-error",
  "sla-breaches", "breaches-empty", "breaches-count", "status", "help", "help-open", "help-close",
  "report", "report-refresh", "report-period", "report-error", "report-conversations", "report-messages",
  "report-deflection", "report-handoff", "report-tickets", "report-first-response", "report-sla", "report-csat",
  "report-ratings", "report-languages", "report-intents", "report-days", "report-days-legend", "report-unanswered",
  "report-agents-body", "report-teams-body",
  "account-card", "account-refresh", "account-body", "account-freeze", "account-freeze-confirm", "presence",
  "mentions-panel", "mentions", "mentions-count", "mode-reply", "mode-note", "note", "note-hint", "reply-hint",
  "canned-manage", "canned-dialog", "canned-mine", "canned-add", "canned-title", "canned-text", "canned-error",
  "canned-close", "attach", "attach-file", "attachments"]
  .forEach((id) => { els[id.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = $(id); });

export const LANES = ["urgent", "vip", "high", "normal"];
export const PLATFORMS = ["webchat", "telegram", "discord", "x"];

/** An element with a class and text; text always goes through textContent. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function known(value, allowed, fallback) {
  return allowed.includes(value) ? value : fallback;  // only known words become class names
}

export function isTyping(target) {
  if (!target || !target.tagName) return false;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable) return true;
  return tag === "INPUT" && !["button", "submit", "checkbox", "radio"].includes(target.type);
}

/** Focuses the item of a list (queue, mine) with that conversation id, if it is there. */
export function focusItem(list, id) {
  const li = list.querySelector('[data-id="' + CSS.escape(id) + '"]');
  if (li) li.focus();
}

let toastTimer = null;
/** A short message in the #status live region; errors stay a little longer. */
export function toast(text, kind) {
  clearTimeout(toastTimer);
  els.status.textContent = text;
  els.status.className = "toast" + (kind === "error" ? " toast-error" : "");
  toastTimer = setTimeout(() => { els.status.textContent = ""; }, kind === "error" ? 8000 : 4000);
}
