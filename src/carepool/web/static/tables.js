/*
 * Long tables, sortable and filterable, as a progressive enhancement.
 *
 * Without this script every table is still whole and readable, in the order the page chose;
 * with it, a table marked data-sortable gets a button in each column header that sorts its
 * rows (aria-sort says how), and a table marked data-filterable gets a labelled text box
 * above it that hides the rows not containing what is typed. Columns whose header has the
 * GOV.UK numeric class sort as numbers, read from text such as "£1,234.56", "-3.2%" or
 * "1,234"; cells with no number ("–", "not comparable") go last whichever way. The footer
 * (totals) never moves. No library and no inline script, so the page's CSP holds.
 */
(function () {
  "use strict";

  var NUMBER = /^[-\u2212]?\d+(?:\.\d+)?/;

  function numberIn(text) {
    var found = text.replace(/[£,\s]/g, "").match(NUMBER);
    return found ? parseFloat(found[0].replace("\u2212", "-")) : null;
  }

  function cellText(row, index) {
    var cell = row.cells[index];
    return cell ? cell.textContent.trim() : "";
  }

  function compareRows(index, numeric, descending) {
    var sign = descending ? -1 : 1;
    return function (a, b) {
      var left = cellText(a, index);
      var right = cellText(b, index);
      if (numeric) {
        var x = numberIn(left);
        var y = numberIn(right);
        if (x === null || y === null) {
          return (x === null) - (y === null);
        }
        return sign * (x - y);
      }
      return sign * left.localeCompare(right, "en", { numeric: true, sensitivity: "base" });
    };
  }

  function headerButton(header) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "app-sort-button";
    while (header.firstChild) {
      var node = header.firstChild;
      if (node.nodeName === "A") {
        // A link to the same sort done by the server: the button does it here instead.
        while (node.firstChild) {
          button.appendChild(node.firstChild);
        }
        header.removeChild(node);
      } else {
        button.appendChild(node);
      }
    }
    header.appendChild(button);
    return button;
  }

  function makeSortable(table) {
    var head = table.tHead;
    var body = table.tBodies[0];
    if (!head || !body || !head.rows.length) {
      return;
    }
    var headers = Array.prototype.slice.call(head.rows[head.rows.length - 1].cells);
    headers.forEach(function (header) {
      var numeric = header.classList.contains("govuk-table__header--numeric");
      if (!header.hasAttribute("aria-sort")) {
        header.setAttribute("aria-sort", "none");
      }
      headerButton(header).addEventListener("click", function () {
        var descending = header.getAttribute("aria-sort") === "ascending";
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(compareRows(header.cellIndex, numeric, descending));
        rows.forEach(function (row) {
          body.appendChild(row);
        });
        headers.forEach(function (other) {
          other.setAttribute("aria-sort", "none");
        });
        header.setAttribute("aria-sort", descending ? "descending" : "ascending");
      });
    });
  }

  var filters = 0;

  function makeFilterable(table) {
    var body = table.tBodies[0];
    if (!body) {
      return;
    }
    filters += 1;
    var id = (table.id || "table-" + filters) + "-filter";
    var group = document.createElement("div");
    group.className = "govuk-form-group app-table-filter";
    var label = document.createElement("label");
    label.className = "govuk-label";
    label.htmlFor = id;
    label.textContent = "Show only rows containing";
    var input = document.createElement("input");
    input.className = "govuk-input govuk-!-width-one-half";
    input.id = id;
    input.type = "search";
    input.autocomplete = "off";
    input.spellcheck = false;
    var status = document.createElement("p");
    status.className = "govuk-body-s app-table-filter__status";
    status.id = id + "-status";
    status.setAttribute("aria-live", "polite");
    input.setAttribute("aria-describedby", status.id);
    group.appendChild(label);
    group.appendChild(input);
    group.appendChild(status);

    input.addEventListener("input", function () {
      var term = input.value.trim().toLowerCase();
      var rows = Array.prototype.slice.call(body.rows);
      var shown = 0;
      rows.forEach(function (row) {
        var match = !term || row.textContent.toLowerCase().indexOf(term) !== -1;
        row.hidden = !match;
        shown += match ? 1 : 0;
      });
      status.textContent = term ? "Showing " + shown + " of " + rows.length + " rows" : "";
    });

    var scroller = table.parentNode;
    var before = scroller.classList && scroller.classList.contains("app-table-scroll")
      ? scroller
      : table;
    before.parentNode.insertBefore(group, before);
  }

  function enhance() {
    Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable]"), makeSortable);
    Array.prototype.forEach.call(
      document.querySelectorAll("table[data-filterable]"),
      makeFilterable
    );
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
})();
