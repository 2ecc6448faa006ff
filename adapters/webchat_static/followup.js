// "E-mail me the replies" in the web chat page: shown when the bot offers it; the user's
// address goes to the server, whose confirmation comes into the chat like any line. An agent's
// reply given while this page is closed is then also sent there.
(function () {
  "use strict";
  var key = "supportbot-session";

  function wire() {
    var open = document.getElementById("followup");
    var form = document.getElementById("followup-form");
    var input = document.getElementById("followup-email");
    var note = document.getElementById("followup-note");
    open.hidden = !sessionStorage.getItem(key + "-followup");
    open.addEventListener("click", function () {
      form.hidden = !form.hidden;
      if (!form.hidden) input.focus();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var session = sessionStorage.getItem(key);
      if (!session || !input.value.trim()) return;
      note.textContent = "";
      fetch("/api/webchat/" + session + "/followup", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email: input.value.trim() }),
      }).then(function (r) {
        if (r.status === 400) { note.textContent = "That does not look like an e-mail address."; return; }
        if (!r.ok) throw new Error(String(r.status));
        form.hidden = true;
      }).catch(function () { note.textContent = "Not saved; try again in a moment."; });
    });
  }

  // chat.js calls `offer(true|false)` when the server says whether it sends replies by e-mail.
  window.SupportChatFollowUp = {
    offer: function (on) {
      sessionStorage.setItem(key + "-followup", on ? "1" : "");
      document.getElementById("followup").hidden = !on;
    },
    wire: wire,
  };
})();
