// The web chat page: user text is always rendered with textContent, never as HTML.
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
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");

  function add(kind, text, buttons) {
    var item = document.createElement("li");
    item.className = kind;
    item.textContent = text;
    if (buttons && buttons.length) {
      var row = document.createElement("div");
      row.className = "buttons";
      buttons.forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = b.label;
        button.dataset.action = b.action;
        button.addEventListener("click", function () { row.remove(); if (b.action === "handoff") send(b.label); });
        row.appendChild(button);
      });
      item.appendChild(row);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function send(text) {
    add("user", text);
    fetch("/api/webchat/" + session + "/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: text }),
    })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.error) { add("error", body.reply || body.message); return; }
        body.replies.forEach(function (r) { add("bot", r.text, r.buttons); });
      })
      .catch(function () { add("error", "Connection problem: please try again."); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
})();
