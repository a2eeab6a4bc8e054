// Calculator forms: the "Add a row" button copies the last row of its list, empty. Without
// JavaScript the button stays hidden and the page always has a few empty rows.
(function () {
  "use strict";
  function renumber(row, n, list) {
    row.id = list + "-row-" + n;
    row.querySelector(".row-number").textContent = String(n);
    row.querySelectorAll("[id]").forEach(function (el) {
      el.id = el.id.replace(/^([a-z_]+)-\d+-/, "$1-" + n + "-");
    });
    row.querySelectorAll("label[for]").forEach(function (el) {
      el.htmlFor = el.htmlFor.replace(/^([a-z_]+)-\d+-/, "$1-" + n + "-");
    });
  }
  document.querySelectorAll("button[data-add-row]").forEach(function (button) {
    var list = document.getElementById(button.getAttribute("data-add-row"));
    if (!list) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var rows = list.querySelectorAll("fieldset.row");
      var last = rows[rows.length - 1];
      var copy = last.cloneNode(true);
      copy.querySelectorAll("input").forEach(function (el) { el.value = ""; el.removeAttribute("aria-invalid"); el.removeAttribute("aria-describedby"); });
      copy.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; el.removeAttribute("aria-invalid"); el.removeAttribute("aria-describedby"); });
      copy.querySelectorAll(".error").forEach(function (el) { el.remove(); });
      renumber(copy, rows.length + 1, list.id);
      list.insertBefore(copy, button);
      var first = copy.querySelector("input, select");
      if (first) first.focus();
    });
  });
})();
