// Phones (app.css, below 640 px): data tables become stacked cards, one card per row, each
// cell a line labelled from its data-label attribute. A cell without one takes its column's
// header text here (on load and on every HTMX swap), so no template repeats its headers.
(function () {
  function headers(table) {
    var row = table.tHead && table.tHead.rows[0];
    if (!row) return [];
    var names = [];
    Array.prototype.forEach.call(row.cells, function (th) {
      var text = Array.prototype.map.call(th.childNodes, function (node) {
        return node.nodeName === "BR" ? " " : node.textContent;
      }).join("").replace(/\s+/g, " ").trim();
      for (var i = 0; i < (th.colSpan || 1); i++) names.push(text);
    });
    return names;
  }

  function label(table) {
    var names = headers(table);
    if (!names.length) return;
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var span = cell.colSpan || 1;
          if (!cell.hasAttribute("data-label") && span < names.length) {
            cell.setAttribute("data-label", names[column] || "");
          }
          column += span;
        });
      });
    });
  }

  function labelWithin(root) {
    if (!root || !root.querySelectorAll) return;
    var table = root.closest && root.closest("table.data");
    if (table) label(table);
    root.querySelectorAll("table.data").forEach(label);
  }

  document.addEventListener("DOMContentLoaded", function () { labelWithin(document.body); });
  document.addEventListener("htmx:load", function (event) { labelWithin(event.target); });
  document.addEventListener("htmx:oobAfterSwap", function (event) { labelWithin(event.target); });
})();
