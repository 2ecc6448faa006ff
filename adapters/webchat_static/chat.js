// The web chat page. Everything anyone wrote is rendered with textContent, never as HTML.
// Messages come from one place: the session's history (GET, long-polled), so an agent's
// reply shows up as it arrives and a reload shows the conversation so far.
(function () {
  "use strict";
  var key = "supportbot-session";
  var session = sessionStorage.getItem(key);
  if (!session) {
    session = Array.from(crypto.getRandomValues(new Uint8Array(16)), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
    sessionStorage.setItem(key, session);
  }
  var api = "/api/webchat/" + session;
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var state = document.getElementById("state");
  var cursor = "0-0";
  var loaded = false; // the first request fetches the history at once; later ones wait for news
  var shown = {}; // stream ids already on the page
  var pending = []; // the user's lines sent but not yet confirmed, oldest first

  function line(kind, text) {
    var item = document.createElement("li");
    item.className = kind;
    var body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    item.appendChild(body);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
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

  // One message of the history: the user's own (confirming a pending line), the bot's, an agent's.
  function show(message) {
    if (shown[message.id]) return;
    shown[message.id] = true;
    if (message.from === "user") {
      var mine = pending.shift();
      if (mine) { mine.querySelector(".text").textContent = message.text; mine.classList.remove("pending"); return; }
      line("user", message.text);
      return;
    }
    buttons(line(message.from === "agent" ? "agent" : "bot", message.text), message.buttons);
  }

  function send(text) {
    var mine = line("user pending", text);
    pending.push(mine);
    fetch(api + "/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: text }),
    })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.error) {
          pending.splice(pending.indexOf(mine), 1);
          mine.classList.add("failed");
          line("error", body.reply || body.message);
          return;
        }
        if (pending.indexOf(mine) >= 0) show(body.message);
        body.replies.forEach(show);
      })
      .catch(function () {
        pending.splice(pending.indexOf(mine), 1);
        mine.classList.add("failed");
        input.value = input.value || text; // nothing was accepted: the text is kept to send again
        line("error", "Connection problem: your message was not sent. Please try again.");
      });
  }

  function press(action, row) {
    row.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    fetch(api + "/press", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ action: action }),
    })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); row.classList.add("done"); })
      .catch(function () { row.querySelectorAll("button").forEach(function (b) { b.disabled = false; }); });
  }

  // The history, then everything later as it comes (long poll); on trouble, wait and go on.
  function poll(delay) {
    fetch(api + "/messages?after=" + encodeURIComponent(cursor) + "&wait=" + (loaded ? 25 : 0))
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (body) {
        state.textContent = "";
        body.messages.forEach(show);
        cursor = body.cursor;
        loaded = true;
        poll(1000);
      })
      .catch(function () {
        state.textContent = "Reconnecting…";
        setTimeout(function () { poll(Math.min(delay * 2, 10000)); }, delay);
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
  poll(1000);
})();
