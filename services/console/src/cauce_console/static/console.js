// Keyboard shortcuts for the common actions, and keeping the open chat's messages
// scrolled to the newest. Everything else is htmx attributes in the templates.
(function () {
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }
  function move(step) {
    var items = Array.prototype.slice.call(document.querySelectorAll(".chat-item"));
    if (!items.length) return;
    var at = items.findIndex(function (a) { return a.classList.contains("selected"); });
    var next = items[Math.min(items.length - 1, Math.max(0, at + step))];
    next.click();
    next.focus();
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "j") move(1);
    else if (event.key === "k") move(-1);
    else if (event.key === "r") {
      var box = document.querySelector(".reply textarea");
      if (box) { event.preventDefault(); box.focus(); }
    } else {
      var button = document.querySelector('.conversation [data-key="' + event.key + '"]');
      if (button) button.click();
    }
  });
  function settle() {
    var article = document.querySelector(".conversation");
    window.cauceSelected = article ? article.dataset.chat : "";
    document.querySelectorAll(".chat-item").forEach(function (a) {
      a.classList.toggle("selected", a.dataset.chat === window.cauceSelected);
    });
    var messages = document.querySelector(".conversation .messages");
    if (messages) messages.scrollTop = messages.scrollHeight;
  }
  // The open chat follows the live stream: its header and messages are fetched again
  // when the stream names it, one request at a time, the last change always shown.
  var busy = false, again = false;
  function refreshChat() {
    if (!window.cauceSelected || typeof htmx === "undefined") return;
    if (busy) { again = true; return; }
    busy = true;
    htmx.ajax("GET", "/inbox/chats/" + window.cauceSelected + "/live",
              {target: "#chat-live", swap: "innerHTML"}).finally(function () {
      busy = false;
      if (again) { again = false; refreshChat(); }
    });
  }
  document.addEventListener("htmx:sseMessage", function (event) {
    if (!event.detail || event.detail.type !== "chat") return;
    try {
      if (JSON.parse(event.detail.data).chat_id === window.cauceSelected) refreshChat();
    } catch (ignored) { /* not a chat change */ }
  });
  document.addEventListener("htmx:afterSettle", settle);
  document.addEventListener("DOMContentLoaded", function () {
    // A refused action (422) comes back as the chat with the reason: show it, but
    // as a failure (forms keep what the agent typed).
    htmx.config.responseHandling = [
      {code: "204", swap: false},
      {code: "[23]..", swap: true},
      {code: "422", swap: true, error: true},
      {code: "[45]..", swap: false, error: true},
    ];
    settle();
  });
})();
