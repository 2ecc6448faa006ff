// The web chat page. Everything anyone wrote is rendered with textContent, never as HTML.
// Messages come from one place: the session's history, read by id (a POST's answer and the
// long-polled GET may both bring a line: it is rendered once, the first time). Every line has
// a place in the server's order: a reply sits right after the question it answers
// (`reply_to`), everything else by its stream id, so an agent's reply shows up as it arrives
// and a reload shows the conversation in the same order.
// The user's own lines show at once, pending, below the rest, and are sent one at a time in
// the order typed; each carries a client id, so whichever of its POST and GET comes first
// confirms the pending line (it is never drawn twice). The client id is also the message's
// idempotency key: when the bot cannot take a message (a 503, a lost connection) the page
// says so, keeps the line and sends it again with the same id, so it is answered once even
// when the first try was taken after all; that answer shows under its question.
// Files (attach.js) take the same queue: a file's line shows at once, and the bot's reply to it
// comes by GET, after it.
// The session id is the server's (POST /api/webchat/sessions), kept for the tab; one the
// server refuses (404: not issued, or signed with a secret since changed) is replaced.
(function () {
  "use strict";
  var key = "supportbot-session";
  var session = sessionStorage.getItem(key);
  var api = null; // the session's API, once the server has issued or accepted the session
  var JSON_TYPE = { "Content-Type": "application/json" };
  var files = window.SupportChatFiles;
  var followup = window.SupportChatFollowUp;
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var state = document.getElementById("state");
  var cursor = "0-0";
  var loaded = false; // the first request fetches the history at once; later ones wait for news
  var shown = {}; // stream id -> its line on the page
  var pending = {}; // client id -> the user's line sent (or waiting to be) but not yet confirmed
  var mine = {}; // client id -> the user's line on the page, confirmed or not
  var queue = []; // the user's lines waiting to be sent, oldest first; one POST at a time
  var sending = false;
  var local = 0; // orders lines only this page has (pending, failed, errors) among themselves
  var LAST = [Infinity, Infinity, Infinity, Infinity];

  function randomId() { // a client id for a line; sessions come from the server
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  function streamId(id) {
    var parts = String(id).split("-");
    return [Number(parts[0]) || 0, Number(parts[1]) || 0];
  }

  // Where a line of the history goes: after the question it answers (or at its own place),
  // then by its own id.
  function placeOf(message) {
    var own = streamId(message.replaces || message.id); // a redacted line keeps its place
    return (message.reply_to ? streamId(message.reply_to) : own).concat(own, [0]);
  }

  function earlier(a, b) {
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
    return false;
  }

  // Puts `item` at `place`: before the first line that comes after it.
  function put(item, place) {
    if (item.parentNode) item.parentNode.removeChild(item);
    item.place = place;
    var next = null;
    for (var node = log.lastElementChild; node && earlier(place, node.place); node = node.previousElementSibling) {
      next = node;
    }
    log.insertBefore(item, next);
    log.scrollTop = log.scrollHeight;
  }

  // A place for a line only this page has, right after what the page shows of the history.
  function here() {
    var last = [0, 0, 0, 0];
    for (var node = log.lastElementChild; node; node = node.previousElementSibling) {
      if (node.place[0] !== Infinity) { last = node.place.slice(0, 4); break; }
    }
    return last.concat([++local]);
  }

  function line(kind, text) {
    var item = document.createElement("li");
    item.className = kind;
    var body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    item.appendChild(body);
    return item;
  }

  function buttons(item, list) {
    if (!list || !list.length) return;
    var row = document.createElement("div");
    row.className = "buttons";
    list.forEach(function (b) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = b.label;
      button.addEventListener("click", function () { press(b.action, row); });
      row.appendChild(button);
    });
    item.appendChild(row);
  }

  function note(text) {
    put(line("error", text), here());
  }

  // One message of the history: the user's own (confirming a pending line), the bot's, an agent's.
  function show(message) {
    if (shown[message.id]) return;
    if (message.replaces && shown[message.replaces]) { // the line, redacted after the fact
      shown[message.id] = shown[message.replaces];
      shown[message.id].querySelector(".text").textContent = message.text;
      return;
    }
    var item = message.from === "user" && message.client_id ? mine[message.client_id] : null;
    if (item) {
      delete pending[message.client_id];
      item.querySelector(".text").textContent = message.text; // as stored: redacted
      item.classList.remove("pending", "failed", "retrying");
    } else if (message.from === "user") {
      item = line("user", message.text);
    } else {
      item = line(message.from === "agent" ? "agent" : "bot", message.text);
      if (message.files && message.files.length) files.attached(item, "/api/webchat/" + session, message.files);
      buttons(item, message.buttons);
    }
    shown[message.id] = item;
    var question = message.answers ? mine[message.answers] : null;
    if (question && pending[message.answers]) {
      // A late answer (the bot recovered the message after a crash): its question goes right
      // before it, where the history would have had it.
      delete pending[message.answers];
      question.classList.remove("pending", "failed", "retrying");
      put(question, placeOf(message).slice(0, 4).concat([-1]));
    }
    put(item, question ? placeOf(message).slice(0, 4).concat([0]) : placeOf(message));
  }

  // A message the bot will not take as it is (too long, too many): it was not kept; its
  // text goes back into the box to edit or send again.
  function refused(job, text) {
    delete pending[job.id];
    delete mine[job.id];
    job.item.classList.remove("pending");
    job.item.classList.add("failed");
    put(job.item, here());
    if (!job.file && !input.value) input.value = job.text;
    note(text);
  }

  // A message the bot could not take this moment: the line stays, says so, and is sent
  // again (same client id) after a pause; the lines typed after it wait their turn.
  function retry(job, text, seconds) {
    job.tries = (job.tries || 0) + 1;
    job.item.classList.add("retrying");
    if (!job.notice) {
      job.notice = line("error", "");
      put(job.notice, here());
    }
    job.notice.querySelector(".text").textContent = text;
    var delay = seconds ? seconds * 1000 : Math.min(1000 * Math.pow(2, job.tries - 1), 15000);
    setTimeout(function () {
      queue.unshift(job);
      sending = false;
      next();
    }, delay);
  }

  function settled(job) {
    if (job.notice && job.notice.parentNode) job.notice.parentNode.removeChild(job.notice);
    job.notice = null;
    job.item.classList.remove("retrying");
  }

  // The user's lines go one at a time, in the order typed: the server answers them in turn.
  function next() {
    if (sending || !queue.length || !api) return;
    sending = true;
    var job = queue.shift();
    var sent = job.file ? files.post(api, job) : fetch(api + "/messages", {
      method: "POST",
      headers: JSON_TYPE,
      body: JSON.stringify({ text: job.text, client_id: job.id }),
    });
    sent
      .then(function (r) {
        return r.json().then(function (body) { return { status: r.status, body: body, wait: r.headers.get("Retry-After") }; });
      })
      .then(function (answer) {
        var body = answer.body;
        if (answer.status === 503 || answer.status === 429) {
          retry(job, body.reply || body.message, Number(answer.wait) || 0);
          return true;
        }
        settled(job);
        if (body.error) {
          refused(job, body.reply || body.message);
          return false;
        }
        if (body.duplicate) return false; // taken by an earlier try: its lines come by GET
        show({ id: body.message.id, from: "user", text: body.message.text, client_id: job.id });
        body.replies.forEach(function (reply) {
          show({ id: reply.id, from: "bot", text: reply.text, buttons: reply.buttons,
                 reply_to: reply.reply_to || body.message.id });
        });
        return false;
      })
      .catch(function () {
        // No answer (the connection, or the server fell over): it may or may not have been
        // taken; the same client id makes sending it again safe.
        retry(job, "Connection problem: your message is not confirmed yet. Sending it again…", 0);
        return true;
      })
      .then(function (waiting) {
        if (waiting) return; // `retry` sends it again, then the rest
        sending = false;
        next();
      });
  }

  // A line the user typed, or a file (`file`: its line is its name, with a preview of a picture).
  function send(text, file) {
    var job = { id: randomId(), text: text, file: file, item: line("user pending", text) };
    if (file) files.fill(job.item, file);
    pending[job.id] = mine[job.id] = job.item;
    put(job.item, LAST.concat([++local]));
    queue.push(job);
    next();
  }

  function press(action, row) {
    row.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    fetch(api + "/press", {
      method: "POST",
      headers: JSON_TYPE,
      body: JSON.stringify({ action: action }),
    })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); row.classList.add("done"); })
      .catch(function () { row.querySelectorAll("button").forEach(function (b) { b.disabled = false; }); });
  }

  // A session the server issued: the tab's own, else a new one; then the history.
  function begin(delay) {
    if (session) return poll(1000);
    fetch("/api/webchat/sessions", { method: "POST", headers: JSON_TYPE, body: "{}" })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (body) {
        session = body.session;
        sessionStorage.setItem(key, session);
        sessionStorage.setItem(key + "-accounts", body.accounts ? "1" : "");
        offerAccounts();
        followup.offer(!!body.followup_by_email);
        poll(1000);
      })
      .catch(function () {
        state.textContent = "Reconnecting…";
        setTimeout(function () { begin(Math.min(delay * 2, 10000)); }, delay);
      });
  }

  // The history, then everything later as it comes (long poll); on trouble, wait and go on.
  function poll(delay) {
    fetch("/api/webchat/" + session + "/messages?after=" + encodeURIComponent(cursor) + "&wait=" + (loaded ? 25 : 0))
      .then(function (r) {
        if (r.status === 404) return null; // a session the server does not know
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      })
      .then(function (body) {
        if (!body) {
          sessionStorage.removeItem(key);
          session = null;
          api = null;
          cursor = "0-0";
          loaded = false;
          begin(1000);
          return;
        }
        state.textContent = "";
        body.messages.forEach(show);
        cursor = body.cursor;
        loaded = true;
        api = "/api/webchat/" + session;
        next(); // lines typed before the session was known go now
        poll(1000);
      })
      .catch(function () {
        state.textContent = "Reconnecting…";
        setTimeout(function () { poll(Math.min(delay * 2, 10000)); }, delay);
      });
  }

  // Linking an exchange account, when the bot can: the same as typing /link or /unlink.
  function offerAccounts() {
    document.getElementById("account").hidden = !sessionStorage.getItem(key + "-accounts");
  }
  document.getElementById("link-account").addEventListener("click", function () { send("/link"); });
  document.getElementById("unlink-account").addEventListener("click", function () { send("/unlink"); });
  offerAccounts();
  followup.wire();
  files.wire(function (file) { send("[" + files.nameOf(file) + "]", file); });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
  begin(1000);
})();
