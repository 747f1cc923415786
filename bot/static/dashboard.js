// Live SLA clocks and live figures. The clocks count down to each ticket's due time; the
// server says what time it is (data-now), so they follow the desk's clock, not the browser's.
// Every data-refresh seconds the page asks data-source (same session cookie, same period)
// for fresh fragments and swaps them in; a signed-out or expired session stops the refresh.
(function () {
  "use strict";
  var body = document.body;
  var skew = Date.parse(body.dataset.now) - Date.now();
  var overdue = body.dataset.overdue || "overdue";
  var every = (parseInt(body.dataset.refresh, 10) || 30) * 1000;
  var status = document.getElementById("status");
  var poller = null;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function span(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return h + ":" + pad(m) + ":" + pad(s % 60);
  }

  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll("td.left[data-due]").forEach(function (cell) {
      var left = Date.parse(cell.dataset.due) - now;
      var row = cell.parentElement;
      cell.textContent = left > 0 ? span(left) : overdue + " +" + span(left);
      row.classList.toggle("overdue", left <= 0);
    });
  }

  function say(text, state) {
    status.textContent = text;
    body.dataset.live = state;
  }

  function apply(data) {
    skew = Date.parse(data.now) - Date.now();
    Object.keys(data.parts).forEach(function (name) {
      var holder = document.querySelector('[data-part="' + name + '"]');
      // The server made these fragments and escaped everything people wrote in them.
      if (holder) { holder.innerHTML = data.parts[name]; }
    });
    Object.keys(data.charts).forEach(function (name) {
      var url = data.charts[name];
      document.querySelectorAll('[data-chart="' + name + '"]').forEach(function (el) {
        // <source> holds the phone's narrow drawing, <img> the wide one
        var attr = el.tagName === "SOURCE" ? "srcset" : "src";
        var want = el.tagName === "SOURCE" ? url + "&size=narrow" : url;
        if (el.getAttribute(attr) !== want) { el.setAttribute(attr, want); }
      });
    });
    say("", "ok");
    tick();
  }

  function stop() {
    clearInterval(poller);
    poller = null;
    say(body.dataset.ended, "ended");
  }

  function refresh() {
    if (poller === null || document.hidden) { return; }
    fetch(body.dataset.source, { credentials: "same-origin", cache: "no-store",
                                 headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (answer.status === 401 || answer.status === 403) { stop(); return null; }
        if (!answer.ok) { throw new Error("HTTP " + answer.status); }
        return answer.json();
      })
      .then(function (data) { if (data && poller !== null) { apply(data); } })
      .catch(function () { if (poller !== null) { say(body.dataset.failed, "failed"); } });
  }

  tick();
  setInterval(tick, 1000);
  poller = setInterval(refresh, every);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { refresh(); }
  });
})();
