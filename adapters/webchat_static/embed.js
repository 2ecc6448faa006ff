// Embeds the support chat in any page: <script src="https://<bot>/webchat/embed.js" async></script>
// A button in the corner opens the chat (this bot's "/" page) in a frame; nothing of the host
// page is read, and the chat runs on the bot's origin.
(function () {
  "use strict";
  var script = document.currentScript;
  var origin = new URL(script.src).origin;
  var frame = null;
  var button = document.createElement("button");
  button.type = "button";
  button.textContent = script.getAttribute("data-label") || "Support";
  button.setAttribute("aria-expanded", "false");
  var s = button.style;
  s.position = "fixed"; s.right = "20px"; s.bottom = "20px"; s.zIndex = "2147483647";
  s.padding = "10px 18px"; s.border = "0"; s.borderRadius = "22px"; s.background = "#2f6fed";
  s.color = "#fff"; s.font = "600 15px system-ui, sans-serif"; s.cursor = "pointer";
  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = origin + "/";
      frame.title = "Support chat";
      var f = frame.style;
      f.position = "fixed"; f.right = "20px"; f.bottom = "72px"; f.zIndex = "2147483647";
      f.width = "min(380px, calc(100vw - 40px))"; f.height = "min(560px, calc(100vh - 100px))";
      f.border = "1px solid #d0d4da"; f.borderRadius = "12px"; f.background = "#fff";
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    button.setAttribute("aria-expanded", String(!frame.hidden));
  });
  document.body.appendChild(button);
})();
