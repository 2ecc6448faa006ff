/* The agent API: one call, its errors, and who is told when the token stops being accepted.
 * The token goes in an Authorization header, never in a URL. */

import { state } from "./state.js";

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

let onTokenRevoked = () => {};

/** Who handles a 401 mid-session (the session: back to the sign-in form). */
export function whenTokenRevoked(handler) { onTokenRevoked = handler; }

export function tokenRevoked() { onTokenRevoked(); }

export function bearer(token) { return { Authorization: "Bearer " + token }; }

/** One call to the agent API; resolves {status, data}, throws ApiError. A 401 mid-session
 *  means the token was revoked: back to the sign-in form. */
export async function api(method, path, body) {
  const init = { method, cache: "no-store", headers: bearer(state.token) };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, "network", "Cannot reach the bot. Check your connection.");
  }
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch (e) { data = null; }
  }
  if (res.ok) return { status: res.status, data };
  if (res.status === 401 && state.token) tokenRevoked();
  throw new ApiError(res.status, (data && data.error) || "http_" + res.status,
    (data && data.message) || "The bot answered with an error (" + res.status + ").");
}

export const convPath = (id, action) => "/api/conversations/" + encodeURIComponent(id) + (action ? "/" + action : "");
