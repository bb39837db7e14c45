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
  // The browser's UTC offset, for times typed in its local time (snooze until).
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.parameters && "offset_min" in event.detail.parameters) {
      event.detail.parameters.offset_min = String(-new Date().getTimezoneOffset());
    }
  });
  // "Use in the reply": the assist's draft goes into the reply box, for the agent to edit.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-use-draft]");
    var box = document.querySelector(".reply textarea");
    if (!button || !box) return;
    box.value = button.dataset.useDraft;
    box.focus();
  });
  // The chats ticked in the list for a change to many: sent when the live stream
  // refreshes the list, so they stay ticked.
  window.caucePicked = function () {
    return Array.prototype.map.call(
      document.querySelectorAll("#chat-list input[name=chat_ids]:checked"),
      function (box) { return box.value; }
    ).join(",");
  };
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
  // A campaign's figures over time: each refresh of its figures adds a point per count.
  var points = [];
  function chart() {
    var figures = document.querySelector(".figures");
    var svg = document.getElementById("campaign-chart");
    if (!figures || !svg) return;
    var names = ["sent", "delivered", "read", "failed"];
    var sample = {};
    names.forEach(function (n) { sample[n] = Number(figures.dataset[n] || 0); });
    points.push(sample);
    if (points.length > 300) points.shift();
    var top = Math.max(1, Number(figures.dataset.recipients || 0),
                       Math.max.apply(null, points.map(function (p) { return p.sent; })));
    var step = points.length > 1 ? 600 / (points.length - 1) : 600;
    svg.innerHTML = names.map(function (n) {
      var coords = points.map(function (p, i) {
        return (i * step).toFixed(1) + "," + (160 - 155 * p[n] / top).toFixed(1);
      }).join(" ");
      return '<polyline class="line-' + n + '" points="' + coords + '"></polyline>';
    }).join("");
  }
  // When the live figures show another state than the controls (started, completed),
  // the controls are fetched again; otherwise they stay (a chosen file stays chosen).
  function controls() {
    var figures = document.querySelector(".figures");
    var box = document.getElementById("campaign-controls");
    var shown = box && box.querySelector(".controls");
    if (!figures || !shown || figures.dataset.status === shown.dataset.status) return;
    htmx.ajax("GET", box.dataset.refresh, {target: "#campaign-controls", swap: "innerHTML"});
  }
  document.addEventListener("htmx:afterSettle", controls);
  document.addEventListener("htmx:afterSettle", chart);
  document.addEventListener("htmx:afterSettle", settle);
  document.addEventListener("DOMContentLoaded", chart);
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
