/* Peiban console: live queue updates and small conveniences.
   Loaded from /static (the CSP allows no inline script). Everything works without it. */
(function () {
  "use strict";

  var POLL_MS = 3000;

  function pollQueue(table) {
    var since = table.getAttribute("data-since") || "0";
    var fingerprint = table.getAttribute("data-fp") || "";
    var rows = document.getElementById("queue-rows");
    var live = document.getElementById("live");
    var label = table.getAttribute("data-new-label") || "{n}";
    var baseTitle = document.title;
    var unseen = 0;

    function url() {
      return "/events?kind=" + encodeURIComponent(table.getAttribute("data-kind")) +
        "&status=" + encodeURIComponent(table.getAttribute("data-status")) +
        "&page=" + encodeURIComponent(table.getAttribute("data-page")) +
        "&since=" + encodeURIComponent(since) + "&fp=" + encodeURIComponent(fingerprint);
    }

    function updateCounts(counts) {
      if (!counts) { return; }
      Object.keys(counts).forEach(function (kind) {
        var el = document.querySelector('[data-count="' + kind + '"]');
        if (el) { el.textContent = String(counts[kind]); }
      });
    }

    function markFresh(ids) {
      ids.forEach(function (id) {
        var row = rows.querySelector('tr[data-case-id="' + id + '"]');
        if (row) { row.classList.add("fresh"); }
      });
    }

    function apply(data) {
      if (typeof data.rows_html === "string") {
        rows.innerHTML = data.rows_html;  /* server-rendered and escaped by Jinja */
        fingerprint = data.fingerprint;
      }
      updateCounts(data.counts);
      if (data.new && data.new.length) {
        since = String(data.latest_id);
        unseen += data.new.length;
        live.textContent = label.replace("{n}", String(unseen));
        live.hidden = false;
        document.title = "(" + unseen + ") " + baseTitle;
        markFresh(data.new.map(function (c) { return c.id; }));
      }
    }

    function tick() {
      fetch(url(), { credentials: "same-origin", cache: "no-store",
                     headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (response.status === 401) {
            window.location.assign("/login?next=" +
              encodeURIComponent(window.location.pathname + window.location.search));
            throw new Error("logged out");
          }
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(apply)
        .then(function () { window.setTimeout(tick, POLL_MS); },
              function () { window.setTimeout(tick, POLL_MS * 2); });
    }

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) { unseen = 0; document.title = baseTitle; }
    });
    window.setTimeout(tick, POLL_MS);
  }

  function guardDoubleSubmit() {
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) {
          window.setTimeout(function () { b.disabled = true; }, 0);
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.getElementById("queue");
    if (table && table.hasAttribute("data-since")) { pollQueue(table); }
    guardDoubleSubmit();
  });
}());
