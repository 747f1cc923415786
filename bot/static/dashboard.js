// Live SLA clocks: count down to each ticket's due time. The server says what time it is
// (data-now), so the clocks follow the desk's clock, not the browser's.
(function () {
  "use strict";
  var body = document.body;
  var skew = Date.parse(body.dataset.now) - Date.now();
  var overdue = body.dataset.overdue || "overdue";

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

  tick();
  setInterval(tick, 1000);
})();
