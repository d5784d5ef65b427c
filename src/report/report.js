// Sortable tables: click a header to sort by that column (numbers by
// their data-value). Runs last; data-ok on <body> says it ran through.
(function () {
  "use strict";
  function cellKey(td, numeric) {
    var raw = td.getAttribute("data-value");
    var text = raw !== null ? raw : td.textContent;
    if (numeric) {
      var n = parseFloat(text);
      return isNaN(n) ? -Infinity : n;
    }
    return text.toLowerCase();
  }
  function sortBy(table, index, th) {
    var numeric = th.getAttribute("data-type") === "num";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellKey(a.cells[index], numeric);
      var y = cellKey(b.cells[index], numeric);
      var c = x < y ? -1 : x > y ? 1 : 0;
      return ascending ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) {
      h.setAttribute("aria-sort", "none");
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.tabIndex = 0;
      th.setAttribute("aria-sort", "none");
      th.addEventListener("click", function () { sortBy(table, i, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, i, th); }
      });
    });
  });
  // `report.html#sort-test`: sort the status table by count, as a click
  // would, and record the order (the browser test reads it back).
  if (location.hash === "#sort-test") {
    var status = document.getElementById("table-status");
    if (status) {
      sortBy(status, 1, status.tHead.rows[0].cells[1]);
      var order = Array.prototype.map.call(status.tBodies[0].rows, function (r) {
        return r.cells[1].getAttribute("data-value");
      });
      document.body.setAttribute("data-sort-test", order.join(","));
    }
  }
  document.body.setAttribute("data-sortable", String(tables.length));
  document.body.setAttribute("data-ok", "1");
})();
