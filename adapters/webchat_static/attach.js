// Files in the web chat page: the paperclip button, a picture dropped on the chat or pasted
// into it, the user's own line for a file (a preview of a picture, made from the local file,
// or the file's name), and its upload. chat.js sends it in turn with the user's messages
// (`SupportChatFiles.post`), so the bot's reply follows the file's line as it follows a
// question. The server decides what is taken (images and PDFs up to its limit) and says so in
// the chat in the user's language; the page does not check types or sizes itself.
// An agent's files come on their reply's line (`files`) and show under its text (`attached`):
// a picture, small (a click opens it), a PDF as a link; both from the session's file route.
(function () {
  "use strict";
  // Content types a cross-site form could send without asking: the server refuses them, so a
  // file the browser types so (a .txt) goes as what it is to the server, bytes.
  var FORM_TYPES = ["", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"];

  function nameOf(file) {
    return file.name || (file.type === "application/pdf" ? "document.pdf" : "image");
  }

  // The user's line for `file`: a small preview of a picture, the name either way.
  function fill(item, file) {
    item.classList.add("file");
    if (/^image\//.test(file.type)) {
      var preview = document.createElement("img");
      preview.className = "preview";
      preview.alt = nameOf(file);
      var url = URL.createObjectURL(file);
      preview.addEventListener("load", function () { URL.revokeObjectURL(url); });
      preview.src = url;
      item.insertBefore(preview, item.firstChild);
    }
  }

  // The upload: the file is the body, its name and the page's id for it in the query.
  function post(api, job) {
    var type = FORM_TYPES.indexOf(job.file.type) >= 0 ? "application/octet-stream" : job.file.type;
    var query = "?name=" + encodeURIComponent(nameOf(job.file)) + "&client_id=" + encodeURIComponent(job.id);
    return fetch(api + "/files" + query, { method: "POST", headers: { "Content-Type": type }, body: job.file });
  }

  // Calls `take(file)` for each file the user picks, drops on the chat or pastes (pictures).
  function wire(take) {
    var input = document.getElementById("file");
    document.getElementById("attach").addEventListener("click", function () { input.click(); });
    input.addEventListener("change", function () {
      Array.prototype.forEach.call(input.files, take);
      input.value = ""; // the same file may be picked again
    });
    var chat = document.querySelector(".chat");
    chat.addEventListener("dragover", function (event) {
      if (!event.dataTransfer || Array.prototype.indexOf.call(event.dataTransfer.types, "Files") < 0) return;
      event.preventDefault();
      chat.classList.add("dropping");
    });
    chat.addEventListener("dragleave", function () { chat.classList.remove("dropping"); });
    chat.addEventListener("drop", function (event) {
      chat.classList.remove("dropping");
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      event.preventDefault();
      Array.prototype.forEach.call(event.dataTransfer.files, take);
    });
    document.addEventListener("paste", function (event) {
      var files = event.clipboardData ? Array.prototype.filter.call(event.clipboardData.files, function (f) {
        return /^image\//.test(f.type);
      }) : [];
      if (!files.length) return; // pasted text goes into the box as usual
      event.preventDefault();
      files.forEach(take);
    });
  }

  // Under an agent's line `item`: each of `files` ({id, name, media_type}) of the session whose
  // API is at `base`.
  function attached(item, base, files) {
    var box = document.createElement("div");
    box.className = "files";
    files.forEach(function (file) {
      var link = document.createElement("a");
      link.href = base + "/files/" + encodeURIComponent(file.id);
      link.target = "_blank";
      link.rel = "noopener";
      if (/^image\//.test(file.media_type)) {
        var picture = document.createElement("img");
        picture.className = "picture";
        picture.alt = file.name;
        picture.src = link.href;
        link.appendChild(picture);
      } else {
        link.className = "document";
        link.textContent = file.name; // downloaded (the server says so)
      }
      box.appendChild(link);
    });
    item.appendChild(box);
  }

  window.SupportChatFiles = { nameOf: nameOf, fill: fill, post: post, wire: wire, attached: attached };
})();
